//! The traced programs: each side run under strace, its calls logged to a scratch file, and
//! stopped by the pid strace logged; a Python side as the interpreter itself.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use lesson_common::{Exit, fail_with};
use test_support::process::{self, Spawned};

use super::strace::{self, Call};
use crate::pair;

/// strace's options: follow threads and children, microsecond timestamps and the time spent in
/// each call (to line calls up with packets: a send where it began, a receive where it returned),
/// what each fd is (`-yy`: to keep only sockets), only the calls that can touch the network; then
/// `-o LOG`. One `-q`, not two: strace then leaves out its attach messages but still logs how each
/// process ended (`+++ exited with 0 +++`, `+++ killed by SIGTERM +++`), the line that shows a
/// log is whole; and signals stay in the log (`--- SIGTERM … ---`), since `-e signal=none` would
/// drop the `+++ killed by` line too. The parser skips both kinds of line.
const STRACE: [&str; 8] = [
    "-f",
    "-ttt",
    "-T",
    "-yy",
    "-q",
    "-e",
    "trace=%network,read,write,close",
    "-o",
];

/// A program to run under strace (when strace is here), its calls written to `log`. Killing strace
/// alone would leave the program running, detached (strace 6.1, Debian 12's, has no
/// `--kill-on-exit`), so whoever runs or starts one stops the program itself, by the pid strace
/// logged.
pub(super) struct Traced {
    pub(super) command: Command,
    log: PathBuf,
    /// Whether strace runs it (else the program runs alone, and is stopped by its own pid).
    strace: bool,
}

impl Traced {
    pub(super) fn new(
        program: impl AsRef<OsStr>,
        args: &[String],
        log: &Path,
        strace: bool,
    ) -> Traced {
        let mut command = if strace {
            let mut command = Command::new("strace");
            command
                .args(STRACE)
                .arg(log)
                .arg("--")
                .arg(program.as_ref());
            command
        } else {
            Command::new(program.as_ref())
        };
        command.args(args);
        if matches!(super::resolver::taken_over(), Some(Ok(_))) {
            // What would send a lookup elsewhere than the scripted resolver, or ask it more:
            // another search list (LOCALDOMAIN), resolver options, host aliases.
            for variable in ["LOCALDOMAIN", "RES_OPTIONS", "HOSTALIASES"] {
                command.env_remove(variable);
            }
        }
        Traced {
            command,
            log: log.to_path_buf(),
            strace,
        }
    }

    /// Run to the end, bounded: what it printed, how it ended (`None`: killed at the limit), and
    /// whether its calls were logged whole.
    pub(super) fn run(mut self, stdin: &str) -> Result<Ended, Exit> {
        lock(&RUNNING).push((self.log.clone(), None));
        let outcome = process::run_bounded(&mut self.command, stdin.as_bytes(), pair::LIMIT);
        if !matches!(&outcome, Ok(o) if o.status.is_some()) {
            // Killed at the time limit (or lost): strace is gone, the program may not be.
            stop_traced(&self.log, None);
        }
        lock(&RUNNING).retain(|(log, _)| *log != self.log);
        let outcome = outcome.map_err(|e| fail_with("cannot run a side", e))?;
        let (stderr, said) = self.apart(&pair::text(&outcome.stderr));
        let mut ended = Ended::new(
            &self.log,
            self.strace,
            pair::text(&outcome.stdout) + &stderr,
            said,
            outcome
                .status
                .is_none()
                .then_some("strace was stopped at the time limit"),
        );
        ended.status = outcome.status;
        Ok(ended)
    }

    /// `stderr` without strace's own messages (when strace ran), and those messages.
    fn apart(&self, stderr: &str) -> (String, Vec<String>) {
        if self.strace {
            strace::messages_apart(stderr)
        } else {
            (stderr.to_string(), Vec::new())
        }
    }

    /// Start it in the background, `stdin` written to it and then closed.
    pub(super) fn start(mut self, stdin: &str) -> io::Result<Background> {
        let spawned = Spawned::start(&mut self.command, stdin.as_bytes())?;
        let strace = self.strace.then(|| spawned.id());
        lock(&RUNNING).push((self.log.clone(), strace));
        Ok(Background {
            spawned,
            log: self.log,
            strace: self.strace,
            ended: false,
            taken: Vec::new(),
        })
    }
}

/// A traced side once it has ended.
pub(super) struct Ended {
    /// What it printed, stdout then stderr, without strace's own messages.
    pub(super) printed: String,
    /// How it ended, where it was run to its end ([`Traced::run`]); `None` for one stopped.
    pub(super) status: Option<ExitStatus>,
    /// What strace itself said on stderr (`/tmp/…/client: No space left on device`), without its
    /// `strace: ` prefix, each message once with how often.
    pub(super) strace_said: Vec<String>,
    /// Why its calls are lost, in words, when strace's log of it is missing or cut short; `None`
    /// when it is whole, or when strace did not run.
    pub(super) lost: Option<String>,
}

impl Ended {
    /// Read `log` once strace has ended; `unfinished` says why it may not have.
    fn new(
        log: &Path,
        strace: bool,
        printed: String,
        said: Vec<String>,
        unfinished: Option<&str>,
    ) -> Ended {
        let said = counted(said);
        let lost = if strace {
            let text = fs::read_to_string(log).unwrap_or_default();
            match strace::log_state(&text) {
                strace::LogState::Whole => None,
                state => {
                    let mut why = state.to_string();
                    if let Some(unfinished) = unfinished {
                        why = format!("{why} ({unfinished})");
                    }
                    if !said.is_empty() {
                        why = format!("{why}; strace said: {}", said.join("; "));
                    }
                    Some(why)
                }
            }
        } else {
            None
        };
        Ended {
            printed,
            status: None,
            strace_said: said,
            lost,
        }
    }
}

/// Each message once, in the order first said, with `(×N)` where it came N times.
fn counted(said: Vec<String>) -> Vec<String> {
    let mut distinct: Vec<(String, usize)> = Vec::new();
    for message in said {
        match distinct.iter_mut().find(|(m, _)| *m == message) {
            Some((_, count)) => *count += 1,
            None => distinct.push((message, 1)),
        }
    }
    distinct
        .into_iter()
        .map(|(m, n)| if n == 1 { m } else { format!("{m} (×{n})") })
        .collect()
}

/// The strace logs of the traced programs running now: what an interrupt must stop, since the
/// process then ends without running any drop (strace started with `-o` ignores SIGTERM and
/// SIGINT, and killing it would leave its program running, detached; the program itself is
/// stopped, and strace ends with it). Scratch folders are crate::scratch's to remove.
static RUNNING: Mutex<Vec<(PathBuf, Option<u32>)>> = Mutex::new(Vec::new());

fn lock<T>(list: &Mutex<Vec<T>>) -> MutexGuard<'_, Vec<T>> {
    list.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Stop every traced program still running and remove the scratch folders: for the interrupt
/// handler, which ends the process right after.
pub(crate) fn on_interrupt() {
    for (log, strace) in lock(&RUNNING).iter() {
        stop_traced(log, *strace);
    }
}

/// How a side run by [`Background::run_until_idle`] ended.
#[derive(Debug)]
pub(crate) enum Ending {
    /// By itself, with this status.
    Exited(ExitStatus),
    /// Stopped once it sat idle after the time it was given.
    Stopped,
    /// Stopped at the time limit, still busy.
    Limit,
}

/// A side started in the background under strace, with what it takes to stop it.
pub(super) struct Background {
    pub(super) spawned: Spawned,
    log: PathBuf,
    strace: bool,
    /// Stopped already: its pid may be another program's by now.
    ended: bool,
    /// Lines of its stdout already read (the `Listening on …` its port came from), so that what it
    /// printed is shown whole.
    pub(super) taken: Vec<String>,
}

impl Background {
    /// Let the traced program finish what it was doing (bounded), stop it, and strace with it:
    /// everything it printed, stdout then stderr, and whether its calls were logged whole.
    pub(super) fn stop(mut self) -> Ended {
        if self.strace {
            self.settle();
        }
        let gone = self.end();
        self.ended(gone)
    }

    /// Wait for it to end by itself, bounded: at `limit`, or once `after` has passed and its log has
    /// been quiet for `idle` (it sits in a call that waits, or loops doing nothing this trace
    /// shows), it is stopped. How it ended, and what it printed.
    pub(super) fn run_until_idle(
        mut self,
        after: Duration,
        idle: Duration,
        limit: Duration,
    ) -> (Ending, Ended) {
        let began = Instant::now();
        let mut seen = String::new();
        let mut quiet_since = Instant::now();
        let ending = loop {
            match self.spawned.wait(Duration::from_millis(25)) {
                Ok(Some(status)) => break Ending::Exited(status),
                Ok(None) => {}
                Err(_) => break Ending::Stopped,
            }
            let now = fs::read_to_string(&self.log).unwrap_or_default();
            if now != seen {
                seen = now;
                quiet_since = Instant::now();
            }
            if began.elapsed() >= limit {
                break Ending::Limit;
            }
            if began.elapsed() >= after && quiet_since.elapsed() >= idle {
                break Ending::Stopped;
            }
        };
        let gone = self.end();
        (ending, self.ended(gone))
    }

    /// Stop the program (strace, which ignores the signal, ends with it), and wait a moment for
    /// both to be gone: whether they are (strace has then written all it will).
    fn end(&mut self) -> bool {
        if std::mem::replace(&mut self.ended, true) {
            return true;
        }
        if self.strace {
            stop_traced(&self.log, Some(self.spawned.id()));
        } else {
            crate::terminate(self.spawned.id());
        }
        matches!(self.spawned.wait(Duration::from_secs(2)), Ok(Some(_)))
    }

    /// What it printed and whether its log is whole, once it has ended: its stdout (the lines
    /// taken before included), then its stderr without strace's own messages. The pipes close when
    /// it ends; a short wait bounds a pipe some child still holds.
    fn ended(&mut self, gone: bool) -> Ended {
        let mut printed: [Vec<String>; 2] = [std::mem::take(&mut self.taken), Vec::new()];
        for (stderr, lines) in printed.iter_mut().enumerate() {
            let deadline = Instant::now() + Duration::from_millis(500);
            while Instant::now() < deadline {
                let next = if stderr == 1 {
                    self.spawned.err_line(Duration::from_millis(50))
                } else {
                    self.spawned.line(Duration::from_millis(50))
                };
                match next {
                    Ok(line) => lines.push(line),
                    Err(process::NoLine::Closed) => break,
                    Err(process::NoLine::Timeout) => {}
                }
            }
        }
        let text =
            |lines: &[String]| -> String { lines.iter().map(|l| format!("{l}\n")).collect() };
        let (stderr, said) = if self.strace {
            strace::messages_apart(&text(&printed[1]))
        } else {
            (text(&printed[1]), Vec::new())
        };
        Ended::new(
            &self.log,
            self.strace,
            text(&printed[0]) + &stderr,
            said,
            (!gone).then_some("strace had not ended 2 s after its program was stopped"),
        )
    }

    /// Wait, bounded, until the server is done with its clients: every connection it accepted
    /// closed in its log, and the log quiet for a moment. A client can finish before its server,
    /// slowed by strace, has even returned from `accept`; stopped then, the server died holding
    /// the connection (the kernel sent its FIN), and the ladder lost its getpeername and close.
    fn settle(&self) {
        const QUIET: Duration = Duration::from_millis(200);
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut seen = String::new();
        let mut quiet_since = Instant::now();
        while Instant::now() < deadline {
            let now = fs::read_to_string(&self.log).unwrap_or_default();
            if now != seen {
                seen = now;
                quiet_since = Instant::now();
            } else if quiet_since.elapsed() >= QUIET && all_closed(&strace::parse(&seen)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Background {
    /// Stop the traced program itself, then strace (which ends with it), on every path out.
    fn drop(&mut self) {
        self.end();
        self.spawned.stop();
        lock(&RUNNING).retain(|(log, _)| *log != self.log);
    }
}

/// Whether every connection `calls` accepted was closed after.
fn all_closed(calls: &[Call]) -> bool {
    let mut open: Vec<String> = Vec::new();
    for call in calls {
        let result = call.text.rsplit_once(" = ").map(|(_, fd)| fd.to_string());
        if call.name.starts_with("accept") {
            open.extend(result.filter(|fd| !fd.starts_with('-')));
        } else if call.name == "close" {
            open.retain(|fd| call.text != format!("close({fd})"));
        }
    }
    open.is_empty()
}

/// Stop the program strace started, named by the pid that opens each line of strace's log; where
/// the log names none (strace could not write it: a full disk), the children of `strace`, strace's
/// own pid where known. Stopping strace alone would leave the program running, detached.
fn stop_traced(log: &Path, strace: Option<u32>) {
    let logged = fs::read_to_string(log)
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse::<u32>().ok());
    match (logged, strace) {
        (Some(pid), _) => crate::terminate(pid),
        (None, Some(strace)) => {
            for pid in children_of(strace) {
                crate::terminate(pid);
            }
        }
        (None, None) => {}
    }
}

/// The processes whose parent is `parent`, from /proc (Linux; none elsewhere, where nothing is
/// traced).
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = fs::read_to_string(entry.path().join("stat")).ok()?;
            // `PID (COMMAND) STATE PPID …`: the command may hold spaces and parentheses.
            let (_, after) = stat.rsplit_once(") ")?;
            let ppid: u32 = after.split_whitespace().nth(1)?.parse().ok()?;
            (ppid == parent).then_some(pid)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, text: &str) -> Call {
        Call {
            time: 0.0,
            done: 0.0,
            pid: 1,
            name: name.into(),
            text: text.into(),
            waiting: false,
        }
    }

    /// A connection accepted and not yet closed keeps the server from being stopped; a failed
    /// accept opens nothing.
    #[test]
    fn waits_for_every_accepted_connection_to_close() {
        let accepted = [
            call("listen", "listen(3, 5)"),
            call("accept4", "accept4(3) = 4"),
        ];
        assert!(!all_closed(&accepted));
        let mut closed = accepted.to_vec();
        closed.push(call("getpeername", "getpeername(4) = 127.0.0.1:41234"));
        closed.push(call("close", "close(4)"));
        assert!(all_closed(&closed));
        assert!(all_closed(&[call("accept4", "accept4(3) = -1 EAGAIN")]));
        assert!(all_closed(&[]));
    }
}
