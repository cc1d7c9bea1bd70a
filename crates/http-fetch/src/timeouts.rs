//! Not in the listing, which waits for ever on a silent server: timeouts and a deadline. Each wait
//! (the connect, every read and write) ends after `--timeout`; the whole response must have been
//! read `--deadline` after `Continuing.`, since a per-read timeout alone lets a server that trickles
//! a byte a second run for ever. The deadline is checked before each read: the time spent sending
//! the request (steps 5–7, each write bounded by `--timeout`) and waiting for stdout to take the
//! bytes counts against it. The clock does not stop while stdout blocks: a reader slower than the
//! deadline ends the fetch.

use std::io::{self, ErrorKind};
use std::time::{Duration, Instant};

/// When the exchange must be done by.
pub struct Deadline {
    length: Duration,
    /// `None`: too far away to matter (beyond what an `Instant` can hold).
    ends: Option<Instant>,
}

impl Deadline {
    /// `length` from now.
    pub fn start(length: Duration) -> Deadline {
        Deadline {
            length,
            ends: Instant::now().checked_add(length),
        }
    }

    /// Before a read: the time left if it is shorter than `timeout` (so the last wait ends at the
    /// deadline), else `None`; once the deadline has passed, why the response failed.
    pub fn shorter_wait(&self, timeout: Duration) -> Result<Option<Duration>, String> {
        let left = self
            .ends
            .map(|end| end.saturating_duration_since(Instant::now()));
        if left.is_some_and(|left| left.is_zero()) {
            return Err(format!(
                "response not complete within the {:?} deadline",
                self.length
            ));
        }
        Ok(left.filter(|&left| left < timeout))
    }

    /// Whether the deadline has passed (then a timed-out read is the deadline's, not the timeout's).
    pub fn passed(&self) -> bool {
        self.ends.is_some_and(|end| Instant::now() >= end)
    }

    /// Whether a read that timed out is the deadline's (ask [`shorter_wait`](Self::shorter_wait)
    /// again, which says so once it has passed) rather than `--timeout`'s: it is when the deadline
    /// has passed, or when the wait was shortened to end at it (`shortened`), since the kernel can
    /// end a wait a tick before the deadline's instant.
    pub fn is_its(&self, shortened: bool) -> bool {
        shortened || self.passed()
    }
}

/// Whether a socket error is an expired timeout (Linux reads say WouldBlock, others TimedOut).
pub fn timed_out(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Say "timed out" for a deadline, whichever kind the platform uses.
pub fn explain(e: &io::Error, timeout: Duration) -> String {
    if timed_out(e) {
        format!("timed out after {timeout:?}")
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wait is shortened only when the deadline is nearer than the timeout; a passed deadline is
    /// the failure, in the lesson's words.
    #[test]
    fn the_last_wait_ends_at_the_deadline() {
        let far = Deadline::start(Duration::from_secs(3600));
        assert_eq!(far.shorter_wait(Duration::from_secs(10)), Ok(None));
        assert!(!far.passed());
        let near = Deadline::start(Duration::from_secs(60));
        let wait = near.shorter_wait(Duration::from_secs(3600));
        assert!(matches!(wait, Ok(Some(left)) if left <= Duration::from_secs(60)));
        let endless = Deadline::start(Duration::MAX);
        assert_eq!(endless.shorter_wait(Duration::from_secs(10)), Ok(None));
        assert!(!endless.passed());
        let passed = Deadline::start(Duration::ZERO);
        assert!(passed.passed());
        let why = passed.shorter_wait(Duration::from_secs(10));
        assert_eq!(
            why,
            Err("response not complete within the 0ns deadline".into())
        );
    }

    /// A timed-out read whose wait was shortened to the deadline is the deadline's even when the
    /// kernel ended it a tick early (the deadline not yet passed); an unshortened one is the
    /// timeout's until the deadline passes.
    #[test]
    fn a_shortened_wait_that_ends_early_is_the_deadlines() {
        let near = Deadline::start(Duration::from_secs(60));
        assert!(!near.passed());
        assert!(near.is_its(true));
        assert!(!near.is_its(false));
        let passed = Deadline::start(Duration::ZERO);
        assert!(passed.is_its(false));
    }

    /// Both kinds of expired timeout read as "timed out"; any other error keeps its own words.
    #[test]
    fn a_timeout_says_so_on_every_platform() {
        let ten = Duration::from_secs(10);
        for kind in [ErrorKind::WouldBlock, ErrorKind::TimedOut] {
            assert_eq!(explain(&kind.into(), ten), "timed out after 10s");
        }
        let refused = io::Error::from(ErrorKind::ConnectionRefused);
        assert_eq!(explain(&refused, ten), refused.to_string());
    }
}
