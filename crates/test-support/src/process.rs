//! Child processes that never block their caller for long and never outlive it, without panics:
//! the plumbing under both the test harness ([`crate::Cmd`]) and the course tool.

use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::thread;
use std::time::{Duration, Instant};

/// The process ids of the children started here that have not been reaped yet, so that a signal
/// handler (the course tool's Ctrl-C) can stop them all.
static LIVE: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Held shared by every spawn here, exclusively by [`settle_forks`]. A fork copies every open fd of
/// this process into the child, where CLOEXEC closes them only at its exec; so while another test
/// thread is between fork and exec, a pipe end we close is still open in that child, and a program
/// writing to a `| head -1` pipe is not refused. `Command::spawn` returns once the child has
/// exec'd, so holding this across it is enough.
static SPAWNING: RwLock<()> = RwLock::new(());

/// `command.spawn()`, counted as in flight for [`settle_forks`].
pub fn spawn(command: &mut Command) -> io::Result<Child> {
    let _in_flight = SPAWNING.read().unwrap_or_else(PoisonError::into_inner);
    command.spawn()
}

/// Wait until no spawn started here is between fork and exec, then run `close`: what it closes
/// is closed for every process (only children that spawned through [`spawn`] are counted).
pub fn settle_forks<T>(close: impl FnOnce() -> T) -> T {
    let _alone = SPAWNING.write().unwrap_or_else(PoisonError::into_inner);
    close()
}

/// Add `why` as one line to the file the environment variable `COURSE_SKIPPED` names, if it names
/// one (scripts/check.sh does): a check that could not run here, for the summary's skipped list.
/// The course tool notes its own skips (a tour step, a page's wire block) the same way.
pub fn note_skipped(why: &str) {
    use std::io::Write as _;
    let Some(path) = std::env::var_os("COURSE_SKIPPED") else {
        return;
    };
    // One write of a whole line in append mode: lines from tests running at once do not mix.
    let line = format!("{}\n", why.replace('\n', " "));
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
    {
        let _ = file.write_all(line.as_bytes());
    }
}

/// The children started through this module that are still running (or not yet reaped).
pub fn live_children() -> Vec<u32> {
    LIVE.lock().map(|live| live.clone()).unwrap_or_default()
}

fn born(child: &Child) {
    if let Ok(mut live) = LIVE.lock() {
        live.push(child.id());
    }
}

fn reaped(child: &Child) {
    if let Ok(mut live) = LIVE.lock() {
        live.retain(|&pid| pid != child.id());
    }
}

/// A program running in the background. Its stdout and stderr are read line by line on threads
/// (so its `println!` never meets a full or closed pipe); dropping it kills it.
pub struct Spawned {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    /// Set while stdout is paused ([`Spawned::start_paused`]): a message here reads on.
    resume: Option<Sender<()>>,
    /// The bytes of stdout and of stderr read and not kept ([`Keep`]).
    dropped: [Arc<AtomicU64>; 2],
    /// Its stdin, held open ([`Spawned::start_holding`]) until [`Spawned::close_stdin`].
    held: Option<std::process::ChildStdin>,
}

/// How much of one stream (a program's stdout, or its stderr) a capture keeps: the first `bytes`
/// bytes, in at most `lines` lines. What comes after is still read, so the program never blocks
/// on a full pipe, and counted, but not kept: a program that prints without end costs its reader
/// no more memory than this. A line cut short by `bytes` is kept as far as it fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keep {
    pub bytes: usize,
    pub lines: usize,
}

impl Keep {
    /// Everything (the test harness's captures: a test reads what it asked for).
    pub const ALL: Keep = Keep {
        bytes: usize::MAX,
        lines: usize::MAX,
    };
}

/// What a program gets on stdin.
pub enum Stdin {
    /// These bytes, then end of input.
    Bytes(Vec<u8>),
    /// A line that never ends: zero bytes with no newline, as from `/dev/zero`, for as long as the
    /// program reads (up to [`ENDLESS_CAP`] bytes, then the pipe stays open with nothing more in
    /// it, so a program that reads all it is given waits, bounded by its test's limit, instead of
    /// filling memory), and never an end of input.
    Endless,
}

/// How much of an endless stdin is written before the writer stops (without closing the pipe).
pub const ENDLESS_CAP: usize = 256 << 20;

/// How a stdout or stderr pipe is read.
enum Reading {
    /// To its end.
    All,
    /// The first N lines, then the reading end is closed (`| head -N`).
    Head(usize),
    /// The first N lines, then nothing until a message comes on the receiver.
    Pause(usize, Receiver<()>),
}

/// Why no line came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoLine {
    /// Nothing within the time given.
    Timeout,
    /// The stream ended (the program closed it or exited).
    Closed,
}

impl Spawned {
    /// Start `command` with `stdin` written to it and then closed (an empty `stdin` is closed at
    /// once); stdout and stderr are captured.
    pub fn start(command: &mut Command, stdin: &[u8]) -> io::Result<Spawned> {
        Spawned::start_with(command, stdin, Reading::All)
    }

    /// As [`Spawned::start`], but only the first `lines` lines of stdout are read; then the reading
    /// end of the pipe is closed, as `program | head -1` leaves it, and later writes fail.
    pub fn start_head(command: &mut Command, stdin: &[u8], lines: usize) -> io::Result<Spawned> {
        Spawned::start_with(command, stdin, Reading::Head(lines))
    }

    /// As [`Spawned::start`], but after the first `lines` lines of stdout nothing more is read
    /// until [`Spawned::resume`]: the pipe stays open and fills up, as behind a paused `| less`.
    pub fn start_paused(command: &mut Command, stdin: &[u8], lines: usize) -> io::Result<Spawned> {
        let (resume, resumed) = mpsc::channel();
        let mut spawned = Spawned::start_with(command, stdin, Reading::Pause(lines, resumed))?;
        spawned.resume = Some(resume);
        Ok(spawned)
    }

    /// As [`Spawned::start`], keeping at most `keep` of stdout and of stderr each: lines past it
    /// are read and dropped, counted in [`Spawned::dropped`].
    pub fn start_kept(command: &mut Command, stdin: &[u8], keep: Keep) -> io::Result<Spawned> {
        Spawned::start_with_keep(command, Some(stdin), Reading::All, keep)
    }

    /// As [`Spawned::start`], but its stdin stays open, with nothing written, until
    /// [`Spawned::close_stdin`] (or the drop): a program told to end by the end of its input.
    pub fn start_holding(command: &mut Command) -> io::Result<Spawned> {
        Spawned::start_with_keep(command, None, Reading::All, Keep::ALL)
    }

    /// Close the stdin that [`Spawned::start_holding`] held open.
    pub fn close_stdin(&mut self) {
        self.held.take();
    }

    fn start_with(command: &mut Command, stdin: &[u8], stdout: Reading) -> io::Result<Spawned> {
        Spawned::start_with_keep(command, Some(stdin), stdout, Keep::ALL)
    }

    fn start_with_keep(
        command: &mut Command,
        stdin: Option<&[u8]>,
        stdout: Reading,
        keep: Keep,
    ) -> io::Result<Spawned> {
        let mut child = spawn(
            command
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        )?;
        born(&child);
        let held = match stdin {
            Some(stdin) => {
                feed(&mut child, Stdin::Bytes(stdin.to_vec()));
                None
            }
            None => child.stdin.take(),
        };
        let dropped = [Arc::default(), Arc::default()];
        let stdout = read_lines(child.stdout.take(), stdout, keep, Arc::clone(&dropped[0]));
        let stderr = read_lines(
            child.stderr.take(),
            Reading::All,
            keep,
            Arc::clone(&dropped[1]),
        );
        Ok(Spawned {
            child,
            stdout,
            stderr,
            resume: None,
            dropped,
            held,
        })
    }

    /// How many bytes of stdout and of stderr were read so far and not kept (see [`Keep`]).
    pub fn dropped(&self) -> (u64, u64) {
        (
            self.dropped[0].load(Ordering::SeqCst),
            self.dropped[1].load(Ordering::SeqCst),
        )
    }

    /// Start reading stdout again after [`Spawned::start_paused`] (nothing, otherwise).
    pub fn resume(&mut self) {
        if let Some(resume) = self.resume.take() {
            let _ = resume.send(());
        }
    }

    /// The next line on stdout (without its line end), waiting at most `wait`.
    pub fn line(&self, wait: Duration) -> Result<String, NoLine> {
        next(&self.stdout, wait)
    }

    /// The next line on stderr, waiting at most `wait`.
    pub fn err_line(&self, wait: Duration) -> Result<String, NoLine> {
        next(&self.stderr, wait)
    }

    /// Lines already printed on stdout and stderr, without waiting for more.
    pub fn lines_so_far(&self) -> (Vec<String>, Vec<String>) {
        (
            self.stdout.try_iter().collect(),
            self.stderr.try_iter().collect(),
        )
    }

    /// Wait up to `wait` for the program to exit by itself: its status, or `None` if it still runs.
    pub fn wait(&mut self, wait: Duration) -> io::Result<Option<ExitStatus>> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(Some(status));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Whether the program is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The program's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Kill the program (if it still runs) and reap it.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        reaped(&self.child);
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What a bounded run left behind.
#[derive(Debug)]
pub struct Outcome {
    /// The exit status, or `None` when the run was killed at its time limit.
    pub status: Option<ExitStatus>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// The bytes of stdout and of stderr read and not kept ([`run_bounded_kept`]); 0 otherwise.
    pub stdout_dropped: u64,
    pub stderr_dropped: u64,
}

/// Run `command` to completion with `stdin` fed in, killing it after `limit`.
pub fn run_bounded(command: &mut Command, stdin: &[u8], limit: Duration) -> io::Result<Outcome> {
    run_bounded_to(command, stdin, limit, Stdio::piped())
}

/// [`run_bounded`], keeping at most `keep` of stdout and of stderr each: the rest is read and
/// dropped, and counted in the outcome.
pub fn run_bounded_kept(
    command: &mut Command,
    stdin: &[u8],
    limit: Duration,
    keep: Keep,
) -> io::Result<Outcome> {
    run(command, Stdin::from(stdin), limit, Stdio::piped(), keep)
}

/// Run `command` with this process's stdin, stdout and stderr, counted among the live children
/// (so an interrupt stops it) until it exits: its status.
pub fn run_inherited(command: &mut Command) -> io::Result<ExitStatus> {
    let mut child = spawn(command)?;
    born(&child);
    let status = child.wait();
    reaped(&child);
    status
}

/// [`run_bounded`] with stdout sent to `stdout` (captured only when that is `Stdio::piped()`).
pub fn run_bounded_to(
    command: &mut Command,
    stdin: &[u8],
    limit: Duration,
    stdout: Stdio,
) -> io::Result<Outcome> {
    run_bounded_with(command, Stdin::from(stdin), limit, stdout)
}

/// [`run_bounded_to`] with any [`Stdin`], an endless one too.
pub fn run_bounded_with(
    command: &mut Command,
    stdin: Stdin,
    limit: Duration,
    stdout: Stdio,
) -> io::Result<Outcome> {
    run(command, stdin, limit, stdout, Keep::ALL)
}

fn run(
    command: &mut Command,
    stdin: Stdin,
    limit: Duration,
    stdout: Stdio,
    keep: Keep,
) -> io::Result<Outcome> {
    let mut child = spawn(
        command
            .stdin(Stdio::piped())
            .stdout(stdout)
            .stderr(Stdio::piped()),
    )?;
    born(&child);
    feed(&mut child, stdin);
    let stdout = collect(child.stdout.take(), keep);
    let stderr = collect(child.stderr.take(), keep);
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            reaped(&child);
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            reaped(&child);
            break None;
        }
        thread::sleep(Duration::from_millis(5));
    };
    // A grandchild that kept the pipes open would keep these readers waiting: the run is over,
    // so wait only a moment for what is already there.
    let ((stdout, stdout_dropped), (stderr, stderr_dropped)) = (join(stdout), join(stderr));
    Ok(Outcome {
        status,
        stdout,
        stderr,
        stdout_dropped,
        stderr_dropped,
    })
}

/// Where cargo put the workspace's binaries: the folder of the running program, or its parent when
/// that is `deps` (an integration test runs from `target/debug/deps`).
pub fn binary_dir() -> io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    Ok(if dir.ends_with("deps") {
        dir.parent().unwrap_or(dir)
    } else {
        dir
    }
    .to_path_buf())
}

/// The workspace binary `name` (a lesson, or the course tool), if it has been built.
pub fn binary(name: &str) -> Option<PathBuf> {
    let path = binary_dir()
        .ok()?
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    path.is_file().then_some(path)
}

/// `program args…` as a person would type it, for messages.
pub fn shown(program: &Path, args: &[OsString]) -> String {
    let name = program
        .file_name()
        .unwrap_or(program.as_os_str())
        .to_string_lossy();
    let mut line = name.into_owned();
    for arg in args {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

fn feed(child: &mut Child, stdin: Stdin) {
    let Some(mut input) = child.stdin.take() else {
        return;
    };
    // A program may exit before reading its input: a failed write is not our concern.
    match stdin {
        Stdin::Bytes(bytes) => {
            thread::spawn(move || input.write_all(&bytes));
        }
        Stdin::Endless => {
            thread::spawn(move || {
                let zeros = vec![0u8; 64 * 1024];
                let mut written = 0;
                while written < ENDLESS_CAP && input.write_all(&zeros).is_ok() {
                    written += zeros.len();
                }
                // Keep the pipe open, empty, until the program has gone: no end of input. A write
                // of nothing would not notice the reader leaving, so ask once a second with one
                // zero byte more (taken only by a program that reads all, and then harmless).
                while written >= ENDLESS_CAP && input.write_all(&[0]).is_ok() {
                    thread::sleep(Duration::from_secs(1));
                }
            });
        }
    }
}

impl From<&[u8]> for Stdin {
    fn from(bytes: &[u8]) -> Stdin {
        Stdin::Bytes(bytes.to_vec())
    }
}

/// Read `stream` line by line onto a channel, on a thread: all of it, or only the first `head`
/// lines, after which the stream is dropped (closed). At most `keep` of it is handed on; the bytes
/// past that are read and added to `dropped`.
fn read_lines(
    stream: Option<impl Read + Send + 'static>,
    how: Reading,
    keep: Keep,
    dropped: Arc<AtomicU64>,
) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    if let Some(stream) = stream {
        thread::spawn(move || {
            let mut reader = BufReader::new(stream);
            let mut line = Vec::new();
            let (mut left, head, mut pause) = match how {
                Reading::All => (usize::MAX, false, None),
                Reading::Head(lines) => (lines, true, None),
                Reading::Pause(lines, resumed) => (lines, false, Some(resumed)),
            };
            let (mut kept_bytes, mut kept_lines) = (0usize, 0usize);
            loop {
                if left == 0 {
                    // Paused: wait for the word to read on (a dropped sender means never).
                    match pause.take() {
                        Some(resumed) if resumed.recv().is_ok() => left = usize::MAX,
                        _ => return,
                    }
                }
                let room = if kept_lines < keep.lines {
                    keep.bytes - kept_bytes
                } else {
                    0
                };
                let read = match line_within(&mut reader, &mut line, room) {
                    Ok(read) if read > 0 => read,
                    _ => return,
                };
                let n = line.len();
                add(&dropped, read - n);
                if n == 0 {
                    // Past what is kept: read on, so the program never blocks, but hand nothing on.
                    continue;
                }
                kept_bytes += n;
                kept_lines += 1;
                left -= 1;
                let text = String::from_utf8_lossy(&line)
                    .trim_end_matches(['\r', '\n'])
                    .to_string();
                line.clear();
                if head && left == 0 {
                    // `| head -N`: the reading end is closed for good before the last line is
                    // handed on, so what the program writes after a test has seen that line is
                    // refused (EPIPE), not taken into the pipe's buffer.
                    settle_forks(|| drop(reader));
                    let _ = tx.send(text);
                    return;
                }
                // The receiver may be gone; keep draining so the child never sees EPIPE.
                let _ = tx.send(text);
            }
        });
    }
    rx
}

fn next(lines: &Receiver<String>, wait: Duration) -> Result<String, NoLine> {
    lines.recv_timeout(wait).map_err(|e| match e {
        RecvTimeoutError::Timeout => NoLine::Timeout,
        RecvTimeoutError::Disconnected => NoLine::Closed,
    })
}

/// Read one line of `reader` (to its `\n`, or to the end of the stream) into `line`, keeping at
/// most `room` bytes of it: how many bytes were read (0 at the end of the stream). What does not
/// fit is read and left out, so that a line without end takes no memory.
fn line_within(reader: &mut impl BufRead, line: &mut Vec<u8>, room: usize) -> io::Result<usize> {
    let mut read = 0;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(read);
        }
        let (len, ended) = match available.iter().position(|&b| b == b'\n') {
            Some(at) => (at + 1, true),
            None => (available.len(), false),
        };
        let fits = len.min(room.saturating_sub(line.len()));
        line.extend_from_slice(&available[..fits]);
        reader.consume(len);
        read += len;
        if ended {
            return Ok(read);
        }
    }
}

fn add(count: &AtomicU64, bytes: usize) {
    count.fetch_add(u64::try_from(bytes).unwrap_or(u64::MAX), Ordering::SeqCst);
}

/// Read `stream` to its end on a thread, keeping at most `keep` of it: what was kept, and how many
/// bytes were read past that.
fn collect(stream: Option<impl Read + Send + 'static>, keep: Keep) -> Receiver<(Vec<u8>, u64)> {
    let (tx, rx) = mpsc::channel();
    if let Some(mut stream) = stream {
        thread::spawn(move || {
            let mut kept = Vec::new();
            let (mut lines, mut dropped) = (0usize, 0u64);
            let mut chunk = vec![0u8; 64 * 1024];
            loop {
                let n = match stream.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                };
                // Keep up to the byte limit and through the last line the line limit allows.
                let mut fits = n.min(keep.bytes.saturating_sub(kept.len()));
                if lines >= keep.lines {
                    fits = 0;
                }
                for (at, _) in chunk[..fits]
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b == b'\n')
                {
                    lines += 1;
                    if lines == keep.lines {
                        fits = at + 1;
                        break;
                    }
                }
                kept.extend_from_slice(&chunk[..fits]);
                dropped += u64::try_from(n - fits).unwrap_or(u64::MAX);
            }
            let _ = tx.send((kept, dropped));
        });
    }
    rx
}

fn join(bytes: Receiver<(Vec<u8>, u64)>) -> (Vec<u8>, u64) {
    bytes
        .recv_timeout(Duration::from_secs(2))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line longer than the room left is kept as far as it fits and read to its end; a line
    /// without a newline ends with the stream.
    #[test]
    fn a_line_is_kept_as_far_as_it_fits() {
        let mut reader = BufReader::with_capacity(4, &b"abcdefgh\nij"[..]);
        let mut line = Vec::new();
        assert_eq!(line_within(&mut reader, &mut line, 3).unwrap(), 9);
        assert_eq!(line, b"abc");
        line.clear();
        assert_eq!(line_within(&mut reader, &mut line, 10).unwrap(), 2);
        assert_eq!(line, b"ij");
        line.clear();
        assert_eq!(line_within(&mut reader, &mut line, 10).unwrap(), 0);
    }

    /// A capture keeps the first lines and bytes it is allowed, and counts the rest.
    #[test]
    fn captures_keep_what_they_may() {
        let text = b"one\ntwo\nthree\n".to_vec();
        let lines = Keep {
            bytes: 100,
            lines: 2,
        };
        let (kept, dropped) = join(collect(Some(io::Cursor::new(text.clone())), lines));
        assert_eq!((kept.as_slice(), dropped), (&b"one\ntwo\n"[..], 6));
        let bytes = Keep {
            bytes: 5,
            lines: 100,
        };
        let (kept, dropped) = join(collect(Some(io::Cursor::new(text.clone())), bytes));
        assert_eq!((kept.as_slice(), dropped), (&b"one\nt"[..], 9));
        let all = join(collect(Some(io::Cursor::new(text.clone())), Keep::ALL));
        assert_eq!(all, (text.clone(), 0));
        let dropped = Arc::new(AtomicU64::new(0));
        let got = read_lines(
            Some(io::Cursor::new(text)),
            Reading::All,
            bytes,
            Arc::clone(&dropped),
        );
        let got: Vec<String> = got.iter().collect();
        assert_eq!(got, ["one", "t"]);
        assert_eq!(dropped.load(Ordering::SeqCst), 9);
    }
}
