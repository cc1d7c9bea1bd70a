//! The checker is the peer: a [`Conversation`] runs the learner's program on loopback, plays the
//! other side over real sockets, and writes down each step it takes as a numbered line, with the
//! commands a learner could type to do the same. A check function (one per exercise, in
//! `checks/`) drives it and returns at the first step that goes wrong; [`Conversation::report`]
//! then reads as a conversation: the steps up to the failing one, expected against got (a caret
//! under the first wrong byte), the program's own output set apart, the true answer to the
//! exercise's question, and the verdict.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use test_support::process::{self, NoLine, Outcome, Spawned};

use crate::link::Rng;

/// How long a server program may take to print its `Listening on (…)` line.
pub const STARTUP: Duration = Duration::from_secs(5);

/// How an answer begins when the checker's own run, which finds the true answer, failed: never
/// a learner's fault, and a problem for `--dev-check` (it reads the reports for it).
pub const PROBE_FAILED: &str = "(the checker's own probe could not run:";

/// Why a check stopped at its current step.
#[derive(Debug)]
pub enum Failure {
    /// Bytes on the wire or on stdout that differ from the expected ones.
    Bytes { expected: Vec<u8>, got: Vec<u8> },
    /// Anything else that can be said as expected against got.
    Expected { expected: String, got: String },
    /// The program (a client) was still running at the step's limit.
    DidNotFinish(Duration),
    /// The exercise needs what this machine cannot give (a namespace, the lab link).
    CannotRun(String),
}

/// What a check comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    /// Failed at this step (numbered from 1).
    FailedAt(usize),
    /// `cargo build` refused the exercise.
    DidNotBuild,
    /// The program was still running at this step's limit.
    DidNotFinish(usize, Duration),
    /// Needs what this machine lacks: said in one line; never counted as passed.
    CannotRun(String),
}

impl Verdict {
    /// The verdict in words: `passed`, `failed at step 3`, `did not build`, `did not finish within
    /// 3.5 s (step 2)`, `cannot run here: …`.
    pub fn words(&self) -> String {
        match self {
            Verdict::Passed => "passed".into(),
            Verdict::FailedAt(step) => format!("failed at step {step}"),
            Verdict::DidNotBuild => "did not build".into(),
            Verdict::DidNotFinish(step, limit) => {
                format!("did not finish within {} (step {step})", seconds(*limit))
            }
            Verdict::CannotRun(why) => format!("cannot run here: {why}"),
        }
    }
}

/// `3.5 s`, `3 s`.
pub fn seconds(time: Duration) -> String {
    let text = format!("{:.1}", time.as_secs_f64());
    format!("{} s", text.trim_end_matches(".0"))
}

struct Step {
    what: String,
    lines: Vec<String>,
}

/// One check of one program; see the [module](self).
pub struct Conversation {
    seed: u64,
    rng: Rng,
    program: PathBuf,
    /// The name the learner knows the program by (the exercise's).
    name: String,
    steps: Vec<Step>,
    server: Option<Spawned>,
    /// The server program's stdout and stderr lines a check has read already (the report shows
    /// them with the rest of each).
    server_out: Vec<String>,
    server_err: Vec<String>,
    /// The program's output, each line marked stdout (`false`) or stderr (`true`), run by run.
    output: Vec<(bool, String)>,
    answer: Option<String>,
    /// Every port the check used, for masking in golden texts.
    ports: Vec<u16>,
    /// What the next client run reads on its stdin (nothing unless [`Conversation::input`]).
    stdin: Vec<u8>,
    /// The lab link's view of the run (a ladder of the packets), shown when the check fails.
    wire: Option<String>,
}

impl Conversation {
    pub fn new(name: &str, program: PathBuf, seed: u64) -> Conversation {
        Conversation {
            seed,
            rng: Rng::stream(seed, name),
            program,
            name: name.to_string(),
            steps: Vec::new(),
            server: None,
            server_out: Vec::new(),
            server_err: Vec::new(),
            output: Vec::new(),
            answer: None,
            ports: Vec::new(),
            stdin: Vec::new(),
            wire: None,
        }
    }

    /// The check's seed (a lab-link check seeds its link with it).
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// What the next client run reads on its stdin.
    pub fn input(&mut self, bytes: &[u8]) {
        self.stdin = bytes.to_vec();
    }

    /// The wire's view of the run (the packets across the lab link, each with its fate): shown
    /// under the program's output when the check fails, where the packets explain it.
    pub fn wire_view(&mut self, ladder: String) {
        self.wire = Some(ladder);
    }

    /// A number from `low` to `high`, from the seed: the same seed, the same number.
    pub fn random(&mut self, low: u64, high: u64) -> u64 {
        low + self.rng.below(high - low + 1)
    }

    /// `len` random lowercase letters, from the seed.
    pub fn letters(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| b'a' + self.rng.below(26) as u8).collect()
    }

    /// Begin the next numbered step.
    pub fn step(&mut self, what: impl Into<String>) {
        self.steps.push(Step {
            what: what.into(),
            lines: Vec::new(),
        });
    }

    /// A command a learner could type to take the current step themselves.
    pub fn command(&mut self, line: impl AsRef<str>) {
        self.note(format!("$ {}", line.as_ref()));
    }

    /// The learner's program run with `args`, as they would type it.
    fn typed(&self, args: &[impl AsRef<str>]) -> String {
        let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
        format!(
            "cargo run -q -p exercises --bin {} -- {}",
            self.name,
            args.join(" ")
        )
    }

    /// A line under the current step (what came back, say).
    pub fn note(&mut self, line: impl Into<String>) {
        if let Some(step) = self.steps.last_mut() {
            step.lines.push(line.into());
        }
    }

    /// The true answer to the exercise's question, printed at the end of the report.
    pub fn answer(&mut self, text: impl Into<String>) {
        self.answer = Some(text.into());
    }

    /// A port the check serves on or talks to, for the golden texts' masks.
    pub fn used_port(&mut self, port: u16) {
        self.ports.push(port);
    }

    /// Step: start the program as a server with `args` and read its port from its own `Listening
    /// on ('127.0.0.1', PORT)` line. Never a sleep: the line is the readiness.
    pub fn start_server(&mut self, args: &[&str]) -> Result<u16, Failure> {
        self.step(format!(
            "start your program: {} {}",
            self.name,
            args.join(" ")
        ));
        self.command(self.typed(args));
        let mut command = Command::new(&self.program);
        command.args(args);
        let spawned = Spawned::start(&mut command, b"").map_err(|e| Failure::Expected {
            expected: "the program starts".into(),
            got: format!("it cannot start: {e}"),
        })?;
        let line = spawned.line(STARTUP);
        self.server = Some(spawned);
        let line = match line {
            Ok(line) => line,
            Err(why) => {
                return Err(Failure::Expected {
                    expected: "its first line: Listening on ('127.0.0.1', PORT)".into(),
                    got: match why {
                        NoLine::Timeout => format!("no line within {}", seconds(STARTUP)),
                        NoLine::Closed => "no line: its stdout ended (it exited?)".into(),
                    },
                });
            }
        };
        self.output.push((false, line.clone()));
        let port = line
            .strip_prefix("Listening on ")
            .and_then(crate::pair::port_of_tuple);
        let Some(port) = port else {
            return Err(Failure::Expected {
                expected: "its first line: Listening on ('127.0.0.1', PORT)".into(),
                got: format!("{line:?}"),
            });
        };
        self.used_port(port);
        self.note(format!("it printed: {line}"));
        Ok(port)
    }

    /// The server program's next line on stdout, waiting at most `wait`.
    pub fn server_output_line(&mut self, wait: Duration) -> Option<String> {
        let line = self.server.as_ref()?.line(wait).ok()?;
        self.server_out.push(line.clone());
        Some(line)
    }

    /// The server program's next line on stderr, waiting at most `wait`.
    pub fn server_error_line(&mut self, wait: Duration) -> Option<String> {
        let line = self.server.as_ref()?.err_line(wait).ok()?;
        self.server_err.push(line.clone());
        Some(line)
    }

    /// Whether the server program started by [`Conversation::start_server`] still runs.
    pub fn server_running(&mut self) -> bool {
        self.server.as_mut().is_some_and(Spawned::is_running)
    }

    /// Steps: connect to `port`, send `message`, shut down the sending side (the server reads
    /// EOF); then read until the server closes, for at most `wait`, and expect `reply`. How long
    /// the reply took, when it came.
    pub fn exchange(
        &mut self,
        port: u16,
        message: &[u8],
        reply: &[u8],
        wait: Duration,
    ) -> Result<Duration, Failure> {
        self.step(format!(
            "connect to 127.0.0.1:{port}, send {} bytes, then shut down the sending side",
            message.len()
        ));
        self.command(format!(
            "head -c {} /dev/zero | tr '\\0' x | nc -N 127.0.0.1 {port}",
            message.len()
        ));
        let mut stream = connect(port)?;
        stream
            .write_all(message)
            .and_then(|()| stream.shutdown(Shutdown::Write))
            .map_err(|e| Failure::Expected {
                expected: "the server takes the message".into(),
                got: format!("sending failed: {e}"),
            })?;
        self.step(format!(
            "read the reply until the server closes (at most {})",
            seconds(wait)
        ));
        let began = Instant::now();
        let (got, ended) = read_until_closed(&mut stream, wait);
        let took = began.elapsed();
        let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
        match ended {
            Ok(()) if got == reply => {
                self.note(format!("got {:?} after {}", text(&got), seconds(took)));
                Ok(took)
            }
            Ok(()) => Err(Failure::Bytes {
                expected: reply.to_vec(),
                got,
            }),
            Err(why) => Err(Failure::Expected {
                expected: format!("{:?}, then the server closes", text(reply)),
                got: format!("{:?}, then {why}", text(&got)),
            }),
        }
    }

    /// Run the program as a client with `args`, while `serve` plays the server on `listener`
    /// (on a thread of its own; it must end by itself, every socket call bounded). The program
    /// gets `limit` to finish.
    pub fn run_client(
        &mut self,
        args: &[String],
        limit: Duration,
        listener: Option<TcpListener>,
        serve: impl FnOnce(TcpStream) + Send,
    ) -> Result<Outcome, Failure> {
        self.command(self.typed(args));
        let mut command = Command::new(&self.program);
        command.args(args);
        let stdin = std::mem::take(&mut self.stdin);
        let outcome = std::thread::scope(|scope| {
            if let Some(listener) = listener {
                scope.spawn(move || {
                    if let Ok(Some(stream)) = accept_within(&listener, limit) {
                        serve(stream);
                    }
                });
            }
            process::run_bounded(&mut command, &stdin, limit)
        });
        let outcome = outcome.map_err(|e| Failure::Expected {
            expected: "the program runs".into(),
            got: format!("it cannot start: {e}"),
        })?;
        for (err, bytes) in [(false, &outcome.stdout), (true, &outcome.stderr)] {
            for line in String::from_utf8_lossy(bytes).lines() {
                self.output.push((err, line.to_string()));
            }
        }
        match outcome.status {
            None => Err(Failure::DidNotFinish(limit)),
            Some(status) => {
                self.note(format!("it ended: {status}"));
                Ok(outcome)
            }
        }
    }

    /// The report of the check, ended by `failure` (or passed), and its verdict.
    pub fn report(
        mut self,
        question: &str,
        failure: Option<Failure>,
        replay: &str,
    ) -> (String, Verdict) {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "check of {}, seed {} (the same run again: {replay} --seed {})",
            self.name, self.seed, self.seed
        );
        let _ = writeln!(out, "predict first: {question}\n");
        let at = self.steps.len().max(1);
        let verdict = match &failure {
            None => Verdict::Passed,
            Some(Failure::DidNotFinish(limit)) => Verdict::DidNotFinish(at, *limit),
            Some(Failure::CannotRun(why)) => Verdict::CannotRun(why.clone()),
            Some(_) => Verdict::FailedAt(at),
        };
        if let Some(Failure::CannotRun(why)) = &failure {
            return (format!("{}: cannot run here: {why}\n", self.name), verdict);
        }
        let _ = writeln!(out, "the checker's steps (the checker is the peer):");
        for (n, step) in self.steps.iter().enumerate() {
            let _ = writeln!(out, "  {}. {}", n + 1, step.what);
            for line in &step.lines {
                let _ = writeln!(out, "     {line}");
            }
        }
        match &failure {
            Some(Failure::Bytes { expected, got }) => out.push_str(&caret(expected, got)),
            Some(Failure::Expected { expected, got }) => {
                let _ = writeln!(out, "     expected: {expected}");
                let _ = writeln!(out, "     got:      {got}");
            }
            Some(Failure::DidNotFinish(limit)) => {
                let _ = writeln!(
                    out,
                    "     expected: your program ends by itself within {}",
                    seconds(*limit)
                );
                let _ = writeln!(
                    out,
                    "     got:      still running then (stopped by the checker)"
                );
            }
            Some(Failure::CannotRun(_)) | None => {}
        }
        // The server program's last words: its lines, and whether it still ran.
        if let Some(mut server) = self.server.take() {
            let exited = server.wait(Duration::from_millis(50)).ok().flatten();
            server.stop();
            for line in std::mem::take(&mut self.server_out) {
                self.output.push((false, line));
            }
            while let Ok(line) = server.line(Duration::from_millis(200)) {
                self.output.push((false, line));
            }
            for line in std::mem::take(&mut self.server_err) {
                self.output.push((true, line));
            }
            while let Ok(line) = server.err_line(Duration::from_millis(200)) {
                self.output.push((true, line));
            }
            let how = match exited {
                Some(status) => format!("(it had exited during the check: {status})"),
                None => "(still running at the end; stopped by the checker)".into(),
            };
            self.output.push((false, how));
        }
        // Each run's lines come from two pipes read apart: its stdout first, then its stderr.
        let _ = writeln!(
            out,
            "\nyour program's output (│ stdout, then ! stderr, each run's: not interleaved):"
        );
        if self.output.is_empty() {
            let _ = writeln!(out, "  program │ (nothing)");
        }
        for (err, line) in &self.output {
            let _ = writeln!(out, "  program {} {line}", if *err { '!' } else { '│' });
        }
        if let (Some(ladder), Some(_)) = (&self.wire, &failure) {
            let _ = writeln!(out, "\nthe run as the lab link's wire saw it:\n{ladder}");
        }
        if let Some(answer) = &self.answer {
            let _ = writeln!(out, "\nthe answer: {answer}");
        }
        let _ = writeln!(out, "\nverdict: {}", verdict.words());
        (out, verdict)
    }

    /// The ports the check used, for masking.
    pub fn ports(&self) -> Vec<u16> {
        self.ports.clone()
    }
}

/// Connect to 127.0.0.1:`port`, bounded.
pub fn connect(port: u16) -> Result<TcpStream, Failure> {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&address, Duration::from_secs(2)).map_err(|e| Failure::Expected {
        expected: format!("a connection to 127.0.0.1:{port}"),
        got: format!("{e}"),
    })
}

/// A listener for the checker's side on 127.0.0.1, on a port the kernel picks.
pub fn listen() -> Result<(TcpListener, u16), Failure> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| Failure::Expected {
        expected: "a port for the checker on 127.0.0.1".into(),
        got: format!("{e}"),
    })?;
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    Ok((listener, port))
}

/// How a client run ended, for a `got:` line: its exit status, then what it said on stderr, or
/// that it said nothing there.
pub fn ended(outcome: &Outcome) -> String {
    let status = outcome.status.map_or(String::new(), |s| s.to_string());
    let stderr = text(&outcome.stderr);
    match stderr.trim() {
        "" => format!("{status}, and nothing on stderr"),
        said => format!("{status}: {said}"),
    }
}

/// Read an HTTP request from `stream`, as a server does before it answers: up to the blank line
/// that ends its head, or until the client closes or the stream's read timeout passes. A server
/// that closed with the request unread would make its kernel answer with a reset (RFC 1122
/// 4.2.2.13), and the client's next call (its shutdown) would fail: a check that did so would
/// fail a correct program whenever the reset came first.
pub fn read_request(stream: &mut TcpStream) {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    }
}

/// The next connection to `listener`, waiting at most `limit` (std's accept has no timeout).
pub fn accept_within(listener: &TcpListener, limit: Duration) -> io::Result<Option<TcpStream>> {
    listener.set_nonblocking(true)?;
    let deadline = Instant::now() + limit;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false)?;
                stream.set_read_timeout(Some(limit))?;
                stream.set_write_timeout(Some(limit))?;
                return Ok(Some(stream));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) => return Err(e),
        }
    }
}

/// Read until the peer closes (`Ok`), or until `wait` has passed or the read fails (`Err`, in
/// words): what came, either way.
pub fn read_until_closed(stream: &mut TcpStream, wait: Duration) -> (Vec<u8>, Result<(), String>) {
    let deadline = Instant::now() + wait;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (got, Err(format!("nothing more within {}", seconds(wait))));
        }
        let _ = stream.set_read_timeout(Some(left));
        match stream.read(&mut buf) {
            Ok(0) => return (got, Ok(())),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return (got, Err(format!("nothing more within {}", seconds(wait))));
            }
            Err(e) => return (got, Err(format!("the read failed: {e}"))),
        }
    }
}

/// Bytes as text, for a message.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One byte as it is shown between quotes: itself when printable, else an escape.
fn shown_byte(byte: u8) -> String {
    match byte {
        b'\n' => "\\n".into(),
        b'\r' => "\\r".into(),
        b'\t' => "\\t".into(),
        b'"' => "\\\"".into(),
        b'\\' => "\\\\".into(),
        0x20..=0x7e => char::from(byte).to_string(),
        _ => format!("\\x{byte:02x}"),
    }
}

/// Expected and got, each in quotes, cut to a window around the first byte where they differ,
/// with a caret under that byte in the line of what came.
pub fn caret(expected: &[u8], got: &[u8]) -> String {
    let at = expected
        .iter()
        .zip(got)
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(got.len()));
    let from = at.saturating_sub(40);
    let window = |bytes: &[u8]| -> (String, usize) {
        let end = bytes.len().min(at + 30);
        let mut line = String::from(if from > 0 { "…\"" } else { "\"" });
        let mut column = line.chars().count();
        for (i, &byte) in bytes.iter().enumerate().take(end).skip(from) {
            if i < at {
                column += shown_byte(byte).chars().count();
            }
            line.push_str(&shown_byte(byte));
        }
        line.push('"');
        if end < bytes.len() {
            line.push('…');
        }
        (line, column)
    };
    let (want, _) = window(expected);
    let (came, column) = window(got);
    let what = |bytes: &[u8]| {
        bytes
            .get(at)
            .map_or("the end".to_string(), |&b| format!("'{}'", shown_byte(b)))
    };
    let mut out = String::new();
    let bytes = |n: usize| format!("{n} byte{}", if n == 1 { "" } else { "s" });
    let _ = writeln!(out, "     expected: {want}  ({})", bytes(expected.len()));
    let _ = writeln!(out, "     got:      {came}  ({})", bytes(got.len()));
    let _ = writeln!(
        out,
        "               {}^ byte {at}: expected {}, got {}",
        " ".repeat(column),
        what(expected),
        what(got)
    );
    out
}

/// `text` with the variable parts of a check's report masked, for golden texts: each of `ports`
/// as PORT, and every time in seconds (`1.2 s`) as `T s`.
pub fn mask(text: &str, ports: &[u16]) -> String {
    let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
    let masked = crate::text::replace_numbers(text, |n| {
        ports.iter().any(|p| p == n).then(|| "PORT".to_string())
    });
    let mut out = String::new();
    for line in masked.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        let mut kept = Vec::new();
        for (i, word) in words.iter().enumerate() {
            let before_s = words.get(i + 1).is_some_and(|w| {
                w.strip_prefix('s')
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with([')', ',', '.', ':']))
            });
            let number = word.trim_start_matches(['(', '"']);
            let numeric = !number.is_empty()
                && number.chars().all(|c| c.is_ascii_digit() || c == '.')
                && number.chars().any(|c| c.is_ascii_digit());
            if before_s && numeric {
                // Whatever opened before the number stays: `(3 s)` is `(T s)`.
                kept.push(format!("{}T", &word[..word.len() - number.len()]));
            } else {
                kept.push((*word).to_string());
            }
        }
        out.push_str(&kept.join(" "));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The caret stands under the first byte that differs, escapes counted.
    #[test]
    fn the_caret_points_at_the_first_wrong_byte() {
        let shown = caret(b"ab\ncd", b"ab\nxd");
        let lines: Vec<&str> = shown.lines().collect();
        let got = lines[1];
        let mark = lines[2];
        let column = mark.find('^').unwrap();
        assert_eq!(&got[column..column + 1], "x", "{shown}");
        assert!(mark.ends_with("byte 3: expected 'c', got 'x'"), "{shown}");
    }

    /// A reply cut short points past its last byte, at "the end".
    #[test]
    fn a_short_reply_points_at_its_end() {
        let shown = caret(b"Received 12 bytes\n", b"Rec");
        assert!(
            shown.contains("byte 3: expected 'e', got the end"),
            "{shown}"
        );
    }

    /// Ports and times are masked; other numbers stay.
    #[test]
    fn masks_ports_and_times() {
        assert_eq!(
            mask("port 40123, 57 bytes after 1.02 s (3 s)", &[40123]),
            "port PORT, 57 bytes after T s (T s)\n"
        );
    }
}
