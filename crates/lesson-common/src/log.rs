//! [`ServerLog`]: a server's log on stdout and its error lines on stderr, written so that nothing
//! a reader does (or fails to do) can stop the server from serving.
//!
//! Each stream has a writer thread and a bounded queue. The serving thread only copies its line
//! into the queue, never waits for a write: a stdout that nobody reads (a paused `| less`, a
//! terminal stopped with Ctrl-S) fills the pipe, then the queue, and from then on lines are
//! dropped and counted until the writer gets through again, when a `(N log lines dropped: …)`
//! line marks the gap. A stream that cannot be written at all (`| head -1`, a full disk) is said
//! once on stderr and given up. The same error line said again and again is shown at most once
//! per [`REPEAT_INTERVAL`], then with a count.
//!
//! A line on stdout that comes after a quiet spell (none in the last [`QUIET`]) waits, at most
//! [`WAIT`], for the writer to write it, when the writer is not already busy writing: so a server
//! that answers its client after logging has the line on stdout before the client has its answer,
//! and a server killed right then has still printed it. Under load (lines closer together than
//! that), or while stdout is stuck, no line waits: it is written a moment later, and a server
//! killed within that moment may not have printed it. A line longer than [`LINE_LIMIT`] is cut,
//! with a mark saying how much was left out.

use std::fmt::{self, Write as _};
use std::io::{self, Write};
use std::mem;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How much a stream's queue holds while its writer is stuck: as much again as a Linux pipe.
const QUEUE_LIMIT: usize = 64 * 1024;
/// After a write, how long the writer lets lines gather before it takes them: under load the
/// serving thread then never has to wake it (no system call per line), and a line waits at most
/// this long. A queue half full wakes it early.
/// Lingering is only for load: after a batch of one line the writer sleeps until the next one.
const LINGER: Duration = Duration::from_millis(1);
/// A stdout line that comes at least this long after the one before is a quiet server's: it may
/// wait for its write (see the [module](self)). Well above a flood's gap between lines (a few µs).
pub(crate) const QUIET: Duration = Duration::from_micros(100);
/// The longest a line waits for the writer to write it; a stdout that takes longer is not waited
/// for.
pub(crate) const WAIT: Duration = Duration::from_millis(5);
/// The longest line kept whole: a longer one is cut, with a mark, so that it never fills the
/// queue on its own.
pub const LINE_LIMIT: usize = QUEUE_LIMIT / 4;
/// The shortest time between two showings of one error line.
pub const REPEAT_INTERVAL: Duration = Duration::from_secs(10);
/// How many different error lines are remembered for [`REPEAT_INTERVAL`].
const REMEMBERED: usize = 16;

/// A server's log on stdout and its error lines on stderr; see the [module](self) for the
/// policy. `log.line(format_args!("Got connection from {}", py_addr(peer)))`.
pub struct ServerLog {
    out: Arc<Stream>,
    err: Arc<Stream>,
    writers: Vec<JoinHandle<()>>,
}

impl ServerLog {
    /// Start the two writer threads, for the process's stdout and stderr.
    pub fn new() -> io::Result<ServerLog> {
        ServerLog::with(io::stdout(), io::stderr())
    }

    /// The same on any two writers (the tests' own).
    pub(crate) fn with(
        out: impl Write + Send + 'static,
        err: impl Write + Send + 'static,
    ) -> io::Result<ServerLog> {
        let (out_stream, err_stream) =
            (Stream::new("log", "stdout"), Stream::new("error", "stderr"));
        let mut writers = Vec::new();
        let (stream, report) = (Arc::clone(&err_stream), None);
        writers.push(spawn_writer("log-stderr", stream, report, err)?);
        let (stream, report) = (Arc::clone(&out_stream), Some(Arc::clone(&err_stream)));
        writers.push(spawn_writer("log-stdout", stream, report, out)?);
        Ok(ServerLog {
            out: out_stream,
            err: err_stream,
            writers,
        })
    }

    /// Log one line on stdout.
    pub fn line(&mut self, line: fmt::Arguments) {
        self.out.push(|queue| {
            let _ = writeln!(Utf8(queue), "{line}");
        });
    }

    /// Log a line already made, newline included: one copy, no formatting on the hot path.
    pub fn bytes(&mut self, line: &[u8]) {
        self.out.push(|queue| queue.extend_from_slice(line));
    }

    /// Say `error: {line}` on stderr, unless the same line was shown less than
    /// [`REPEAT_INTERVAL`] ago: then it is counted, and shown again with its count
    /// (`… (×57 in the last 10 s)`) once the interval has passed.
    pub fn error(&mut self, line: fmt::Arguments) {
        let text = format!("error: {line}");
        let mut state = self.err.lock();
        if let Some(shown) = state.repeats.note(&text, Instant::now()) {
            state.enqueue(shown.as_bytes(), true);
        }
        self.err.wake(&mut state);
    }
}

impl Drop for ServerLog {
    /// Let the writers finish what is queued, for a second at most (a stuck stdout must not keep
    /// a finished program from exiting).
    fn drop(&mut self) {
        for stream in [&self.out, &self.err] {
            stream.lock().closing = true;
            stream.wake.notify_all();
        }
        let deadline = Instant::now() + Duration::from_secs(1);
        while Instant::now() < deadline && !self.writers.iter().all(JoinHandle::is_finished) {
            thread::sleep(Duration::from_millis(5));
        }
    }
}

/// `fmt::Write` into the queue's bytes.
struct Utf8<'a>(&'a mut Vec<u8>);

impl fmt::Write for Utf8<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// One output stream: its queue, shared by the serving thread and the writer.
struct Stream {
    state: Mutex<State>,
    wake: Condvar,
    /// Signalled when a write ends, for a line waiting to be written.
    done: Condvar,
}

struct State {
    /// Whole lines waiting for the writer.
    queue: Vec<u8>,
    /// Lines dropped since the writer last took the queue: the queue was full.
    dropped: u64,
    /// The writer is asleep, waiting for lines (so the serving side must wake it).
    idle: bool,
    /// The writer was woken early because the queue is half full (once per batch).
    nudged: bool,
    /// A write failed: the stream is given up, lines are thrown away.
    broken: bool,
    /// The program is ending: write what is queued and stop.
    closing: bool,
    /// Lines queued so far, and how many of them the writer has written (or given up on).
    pushed: u64,
    written: u64,
    /// The writer is in a write.
    writing: bool,
    /// A line waits for its write: the writer is not to linger.
    hurry: bool,
    /// Serving threads waiting on `done`.
    waiters: u32,
    /// When the last line was queued.
    last_push: Option<Instant>,
    /// Recent error lines (stderr only).
    repeats: Repeats,
    /// What a line is called, and the stream, for the dropped-lines marker.
    what: &'static str,
    name: &'static str,
}

impl Stream {
    fn new(what: &'static str, name: &'static str) -> Arc<Stream> {
        Arc::new(Stream {
            state: Mutex::new(State {
                queue: Vec::with_capacity(QUEUE_LIMIT),
                dropped: 0,
                idle: false,
                nudged: false,
                broken: false,
                closing: false,
                pushed: 0,
                written: 0,
                writing: false,
                hurry: false,
                waiters: 0,
                last_push: None,
                repeats: Repeats::default(),
                what,
                name,
            }),
            wake: Condvar::new(),
            done: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Add a line made by `make` to the queue: a copy, no system call unless the writer sleeps.
    /// After a quiet spell, wait (at most [`WAIT`]) for the writer to write it, unless it is
    /// busy writing.
    fn push(&self, make: impl FnOnce(&mut Vec<u8>)) {
        let mut state = self.lock();
        if state.broken {
            return;
        }
        // Once a line is dropped, every line is until the writer has taken the queue, so the
        // marker it writes sits exactly where the lines are missing.
        if state.dropped > 0 {
            state.dropped += 1;
            return;
        }
        let before = state.queue.len();
        make(&mut state.queue);
        cut_long_line(&mut state.queue, before);
        if state.queue.len() > QUEUE_LIMIT {
            state.queue.truncate(before);
            state.dropped += 1;
            // The writer must come and write the marker, even if it sleeps.
            self.wake(&mut state);
            return;
        }
        state.pushed += 1;
        let now = Instant::now();
        let quiet = state
            .last_push
            .is_none_or(|last| now.saturating_duration_since(last) >= QUIET);
        state.last_push = Some(now);
        if !quiet || state.writing {
            self.wake(&mut state);
            return;
        }
        // A quiet server's line, and the writer sleeps or lingers: have it write now, and wait.
        let line = state.pushed;
        state.hurry = true;
        state.idle = false;
        self.wake.notify_one();
        let until = now + WAIT;
        state.waiters += 1;
        while state.written < line && !state.broken {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let woken = self.done.wait_timeout(state, left);
            state = woken.unwrap_or_else(PoisonError::into_inner).0;
        }
        state.waiters -= 1;
    }

    /// Wake the writer if it sleeps, or if the queue is half full while it lingers: a system
    /// call only then, not for every line.
    fn wake(&self, state: &mut State) {
        if state.idle {
            state.idle = false;
            self.wake.notify_one();
        } else if !state.nudged && state.queue.len() > QUEUE_LIMIT / 2 {
            state.nudged = true;
            self.wake.notify_one();
        }
    }
}

/// Cut the line that starts at `start` to [`LINE_LIMIT`] bytes (at a character boundary),
/// with a mark saying how many bytes were left out, and its newline.
fn cut_long_line(queue: &mut Vec<u8>, start: usize) {
    let line = queue.len() - start;
    if line <= LINE_LIMIT {
        return;
    }
    let mut keep = start + LINE_LIMIT - 64;
    while keep > start && queue.get(keep).is_some_and(|b| b & 0xC0 == 0x80) {
        keep -= 1;
    }
    let newline = usize::from(queue.last() == Some(&b'\n'));
    let cut = queue.len() - newline - keep;
    queue.truncate(keep);
    let _ = writeln!(Utf8(queue), "… (line cut: {cut} bytes more)");
}

impl State {
    /// Queue a line already made (one with its own newline when `newline` is false).
    fn enqueue(&mut self, line: &[u8], newline: bool) {
        if self.broken {
            return;
        }
        if self.dropped > 0 || self.queue.len() + line.len() + 1 > QUEUE_LIMIT {
            self.dropped += 1;
            return;
        }
        self.queue.extend_from_slice(line);
        if newline {
            self.queue.push(b'\n');
        }
    }
}

/// The writer of one stream: takes the whole queue, writes it, and so on. A write that fails
/// gives the stream up; for stdout, that is said once on the error stream (`report`).
fn spawn_writer(
    name: &str,
    stream: Arc<Stream>,
    report: Option<Arc<Stream>>,
    mut to: impl Write + Send + 'static,
) -> io::Result<JoinHandle<()>> {
    thread::Builder::new().name(name.into()).spawn(move || {
        let mut batch = Vec::with_capacity(QUEUE_LIMIT);
        let mut linger = false;
        loop {
            let mut state = stream.lock();
            loop {
                let now = Instant::now();
                for summary in state.repeats.due(now) {
                    state.enqueue(summary.as_bytes(), true);
                }
                let waiting = !state.queue.is_empty();
                let now_please = !linger || state.nudged || state.hurry;
                if state.closing || state.dropped > 0 || (waiting && now_please) {
                    break;
                }
                // Lingering, let lines gather; with nothing queued, sleep until a line (or a
                // repeated error's count) is due.
                let wait = if linger {
                    Some(LINGER)
                } else {
                    state.repeats.next_due().map(|due| due - now.min(due))
                };
                state.idle = !linger;
                state = match wait {
                    Some(wait) => {
                        let woken = stream.wake.wait_timeout(state, wait);
                        woken.unwrap_or_else(PoisonError::into_inner).0
                    }
                    None => stream
                        .wake
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner),
                };
                state.idle = false;
                linger = false;
            }
            (state.nudged, state.hurry, state.writing) = (false, false, true);
            let taken = state.pushed;
            mem::swap(&mut state.queue, &mut batch);
            let dropped = mem::take(&mut state.dropped);
            let (what, name, closing) = (state.what, state.name, state.closing);
            drop(state);
            if dropped > 0 {
                let _ = writeln!(
                    Utf8(&mut batch),
                    "({dropped} {what} lines dropped: {name} was not being read)"
                );
            }
            let wrote = to.write_all(&batch).and_then(|()| to.flush());
            let mut state = stream.lock();
            (state.writing, state.written) = (false, taken);
            if state.waiters > 0 {
                stream.done.notify_all();
            }
            if let Err(e) = wrote {
                state.broken = true;
                drop(state);
                if let Some(err) = &report {
                    let mut state = err.lock();
                    let line = format!("error: cannot write the log: {e}; serving on without it");
                    state.enqueue(line.as_bytes(), true);
                    err.wake(&mut state);
                }
                return;
            }
            if closing && state.queue.is_empty() {
                return;
            }
            drop(state);
            // Linger only under load: when this batch held more than one line.
            linger = batch
                .split_last()
                .is_some_and(|(_, before)| before.contains(&b'\n'));
            batch.clear();
        }
    })
}

/// The error lines shown in the last [`REPEAT_INTERVAL`], each with how often it came again
/// since it was shown.
#[derive(Default)]
pub(crate) struct Repeats {
    recent: Vec<Repeat>,
}

struct Repeat {
    text: String,
    shown: Instant,
    since: u64,
}

impl Repeats {
    /// `text` happened at `now`: what to show, if anything (the text, or the text with its count
    /// once the interval since it was last shown has passed).
    pub(crate) fn note(&mut self, text: &str, now: Instant) -> Option<String> {
        if let Some(seen) = self.recent.iter_mut().find(|r| r.text == text) {
            seen.since += 1;
            if now.saturating_duration_since(seen.shown) < REPEAT_INTERVAL {
                return None;
            }
            return Some(seen.show(now));
        }
        if self.recent.len() >= REMEMBERED {
            // Forget the line shown longest ago; its uncounted repeats are lost, which only a
            // storm of more than REMEMBERED different errors can cause.
            self.recent.remove(0);
        }
        self.recent.push(Repeat {
            text: text.to_string(),
            shown: now,
            since: 0,
        });
        Some(text.to_string())
    }

    /// The counts whose interval has passed by `now`, as lines to show; lines not repeated for
    /// an interval are forgotten.
    pub(crate) fn due(&mut self, now: Instant) -> Vec<String> {
        let mut lines = Vec::new();
        self.recent.retain_mut(|r| {
            if now.saturating_duration_since(r.shown) < REPEAT_INTERVAL {
                return true;
            }
            if r.since > 0 {
                lines.push(r.show(now));
                return true;
            }
            false
        });
        lines
    }

    /// When the next count is due, if any.
    fn next_due(&self) -> Option<Instant> {
        self.recent.iter().map(|r| r.shown + REPEAT_INTERVAL).min()
    }
}

impl Repeat {
    /// The text with the count of repeats since it was last shown; the count starts again.
    fn show(&mut self, now: Instant) -> String {
        let seconds = now
            .saturating_duration_since(self.shown)
            .as_secs_f64()
            .round();
        let line = format!("{} (×{} in the last {seconds} s)", self.text, self.since);
        (self.shown, self.since) = (now, 0);
        line
    }
}
