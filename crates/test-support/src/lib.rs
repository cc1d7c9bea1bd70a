//! Plumbing for the lessons' integration tests (std only): start a lesson binary, read the lines it
//! prints with a deadline, find the address a server announces, and always kill what was started.
//! A test that fails here panics with the child's stderr in the message, so the cause is visible.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long a test waits for any one line or exit before it gives up (generous for a loaded CI box).
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A lesson binary running in the background (usually a server). Dropping it kills it.
/// Its stdout and stderr are drained on threads, so its `println!` never meets a closed pipe.
pub struct Running {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
}

impl Running {
    /// Start `bin` with `args`; stdin is closed.
    pub fn start(bin: &str, args: &[&str]) -> Running {
        let mut child = Command::new(bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let stdout = lines(child.stdout.take().expect("piped stdout"));
        let stderr = lines(child.stderr.take().expect("piped stderr"));
        Running {
            child,
            stdout,
            stderr,
        }
    }

    /// The next line on stdout (without its newline); panics after [`PATIENCE`] or at EOF.
    pub fn line(&mut self) -> String {
        self.next(false)
    }

    /// The next line on stderr; panics after [`PATIENCE`] or at EOF.
    pub fn err_line(&mut self) -> String {
        self.next(true)
    }

    /// Read stdout up to the `Listening on ('127.0.0.1', 5555)` line and return that address.
    pub fn listening_addr(&mut self) -> SocketAddr {
        let line = self.line();
        let tuple = line
            .strip_prefix("Listening on ")
            .unwrap_or_else(|| panic!("no banner: {line:?}"));
        parse_py_addr(tuple)
    }

    /// Wait (bounded) for the program to exit by itself; returns its exit code.
    pub fn wait(&mut self) -> Option<i32> {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.code();
            }
            thread::sleep(Duration::from_millis(10));
        }
        panic!("the program did not exit within {PATIENCE:?}");
    }

    /// Whether the program is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Lines already printed on stdout, without waiting for more.
    pub fn lines_so_far(&mut self) -> Vec<String> {
        self.stdout.try_iter().collect()
    }

    fn next(&mut self, from_stderr: bool) -> String {
        let (wanted, other) = match from_stderr {
            true => (&self.stderr, &self.stdout),
            false => (&self.stdout, &self.stderr),
        };
        match wanted.recv_timeout(PATIENCE) {
            Ok(line) => line,
            Err(why) => {
                let _ = self.child.kill();
                let rest: Vec<String> = other.try_iter().collect();
                let what = if matches!(why, RecvTimeoutError::Timeout) {
                    "no line within"
                } else {
                    "EOF before"
                };
                panic!("{what} {PATIENCE:?}; the other stream had: {rest:?}");
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lines(stream: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        while reader
            .read_until(b'\n', &mut line)
            .map(|n| n > 0)
            .unwrap_or(false)
        {
            let text = String::from_utf8_lossy(&line)
                .trim_end_matches(['\r', '\n'])
                .to_string();
            if tx.send(text).is_err() {
                // The test is done with us; keep draining so the child never sees EPIPE.
            }
            line.clear();
        }
    });
    rx
}

/// What a finished run left behind.
#[derive(Debug)]
pub struct Finished {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Finished {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// Run `bin` to completion with `stdin` fed in; killed (and the test failed) after `limit`.
pub fn run(bin: &str, args: &[&str], stdin: &[u8], limit: Duration) -> Finished {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
    let mut input = child.stdin.take().expect("piped stdin");
    let stdin = stdin.to_vec();
    // A program may exit before reading its input: a failed write is not the test's concern.
    thread::spawn(move || input.write_all(&stdin));
    let out = collect(child.stdout.take().expect("piped stdout"));
    let err = collect(child.stderr.take().expect("piped stderr"));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned();
            panic!("{bin} {args:?} still running after {limit:?}; stderr: {stderr:?}");
        }
        thread::sleep(Duration::from_millis(5));
    };
    Finished {
        code: status.code(),
        stdout: out.join().expect("stdout reader"),
        stderr: String::from_utf8_lossy(&err.join().expect("stderr reader")).into_owned(),
    }
}

fn collect(mut stream: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut all = Vec::new();
        let _ = stream.read_to_end(&mut all);
        all
    })
}

/// Parse Python's address notation back: `('127.0.0.1', 5)` or `('::1', 5, 0, 0)`.
pub fn parse_py_addr(text: &str) -> SocketAddr {
    let inner = text
        .trim()
        .strip_prefix("('")
        .and_then(|t| t.strip_suffix(')'));
    let (ip, rest) = inner
        .and_then(|t| t.split_once("', "))
        .unwrap_or_else(|| panic!("not an address: {text:?}"));
    let port = rest.split(", ").next().and_then(|p| p.parse().ok());
    let ip: IpAddr = ip.parse().unwrap_or_else(|_| panic!("bad IP in {text:?}"));
    SocketAddr::new(ip, port.unwrap_or_else(|| panic!("bad port in {text:?}")))
}

/// Another lesson's binary, for a test that runs a lesson against its partner (`socket-info`
/// against `tcp-listener`). Cargo only hands a test its own package's binaries, but every
/// workspace binary lands in the same folder, so look there. `cargo test --workspace` (what
/// `scripts/check.sh` runs) always builds it first; under `cargo test -p ONE` it may be missing or
/// stale, and the caller skips with a message.
pub fn partner_binary(own: &str, partner: &str) -> Option<std::path::PathBuf> {
    let path = std::path::Path::new(own)
        .with_file_name(format!("{partner}{}", std::env::consts::EXE_SUFFIX));
    path.is_file().then_some(path)
}

/// Start the partner lesson (see [`partner_binary`]) with `args`; `None`, after saying the test is
/// skipped, when it is not built.
pub fn start_partner(own: &str, partner: &str, args: &[&str]) -> Option<Running> {
    let Some(path) = partner_binary(own, partner) else {
        eprintln!("skipped: {partner} is not built; run `cargo test --workspace`");
        return None;
    };
    Some(Running::start(
        path.to_str().expect("a UTF-8 target path"),
        args,
    ))
}

/// `recv_from` that retries a receive interrupted by a signal: on Linux a receive with a timeout
/// fails with EINTR when the process is stopped and resumed (Ctrl-Z, then `fg`, or a busy CI box).
pub fn recv_from(
    socket: &std::net::UdpSocket,
    buf: &mut [u8],
) -> std::io::Result<(usize, SocketAddr)> {
    loop {
        match socket.recv_from(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            done => return done,
        }
    }
}

/// Run a lesson that must end at once with `code` (bad arguments, `--help`), and check the course's
/// error contract: never a panic; a runtime error (1) is exactly one `error: …` line on stderr; a
/// usage error (2) names the problem and prints the usage line.
pub fn assert_exit(bin: &str, args: &[&str], code: i32) -> Finished {
    let done = run(bin, args, b"", PATIENCE);
    let context = format!("{args:?} gave {:?}: {}", done.code, done.stderr);
    assert_eq!(done.code, Some(code), "{context}");
    assert!(!done.stderr.contains("panicked"), "{context}");
    match code {
        1 => assert!(
            done.stderr.starts_with("error: ") && done.stderr.lines().count() == 1,
            "{context}"
        ),
        2 => assert!(
            done.stderr.starts_with("error: ") && done.stderr.contains("\nusage: "),
            "{context}"
        ),
        _ => {}
    }
    done
}
