//! The one harness every lesson test uses (std only). Start a lesson binary with [`cmd`] (args,
//! stdin, a time limit), then either run it to the end ([`Cmd::run`], [`Cmd::assert_exit`]) or keep
//! it running in the background ([`Cmd::start`] → [`Running`]: read its lines, find the address it
//! announces; dropping it kills it). Every wait is bounded by [`PATIENCE`]; every helper that
//! panics is `#[track_caller]`, so a failure points at the test, not at this file.
//!
//! The plumbing underneath, without panics, is [`process`]; the course tool uses it too.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod process;

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use process::{NoLine, Spawned, Stdin};

/// How long a test waits for any one line, exit or peer before it gives up (generous for a
/// loaded CI box). A passing test never waits this long.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A command to run a lesson binary (or any program), built up like ripgrep's `TestCommand`:
/// `cmd(BIN).args(["127.0.0.1", "80"]).stdin(b"hello\n").run()`.
#[must_use]
pub struct Cmd {
    program: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, Option<OsString>)>,
    stdin: Vec<u8>,
    endless_stdin: bool,
    limit: Duration,
    stdout: Sink,
}

/// Where the program's stdout goes.
#[derive(Clone, Copy)]
enum Sink {
    /// Captured into [`Finished::stdout`].
    Captured,
    /// `/dev/full`: every write fails with "No space left on device".
    Full,
    /// A pipe whose reader is already gone (`| head -0`): every write fails with "Broken pipe".
    Closed,
}

/// Start building a run of `program` (usually `env!("CARGO_BIN_EXE_<lesson>")`).
pub fn cmd(program: impl AsRef<Path>) -> Cmd {
    Cmd {
        program: program.as_ref().to_path_buf(),
        args: Vec::new(),
        env: Vec::new(),
        stdin: Vec::new(),
        endless_stdin: false,
        limit: PATIENCE,
        stdout: Sink::Captured,
    }
}

/// The partner lesson `name`, for a test that runs a lesson against its partner. Cargo hands a test
/// only its own package's binaries, but every workspace binary lands in the same folder: under
/// `cargo test --workspace` (what `scripts/check.sh` runs) it is always built. Under
/// `cargo test -p ONE` it may be missing; then this says the test is skipped and gives `None`.
pub fn partner(name: &str) -> Option<Cmd> {
    match process::binary(name) {
        Some(path) => Some(cmd(path)),
        None => {
            skip(&format!(
                "{name} is not built; run `cargo test --workspace`"
            ));
            None
        }
    }
}

impl Cmd {
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Cmd {
        self.args.push(arg.as_ref().to_os_string());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Cmd {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    /// Set an environment variable for the program.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Cmd {
        self.env
            .push((key.as_ref().into(), Some(value.as_ref().into())));
        self
    }

    /// Remove an environment variable for the program.
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Cmd {
        self.env.push((key.as_ref().into(), None));
        self
    }

    /// Bytes written to the program's stdin, which is then closed (default: closed at once).
    pub fn stdin(mut self, bytes: impl AsRef<[u8]>) -> Cmd {
        self.stdin = bytes.as_ref().to_vec();
        self
    }

    /// Stdin that never ends: one line of zero bytes with no newline, as `< /dev/zero` gives,
    /// for as long as the program reads (see [`process::Stdin::Endless`]).
    pub fn stdin_without_end(mut self) -> Cmd {
        self.endless_stdin = true;
        self
    }

    /// Run with at most `n` open file descriptors (`ulimit -n`), so that a server's `accept` fails
    /// with "Too many open files" once its listening socket is open. Runs through `sh`: Unix only.
    pub fn fd_limit(self, n: u32) -> Cmd {
        let mut args = vec![
            OsString::from("-c"),
            OsString::from(format!("ulimit -n {n} && exec \"$0\" \"$@\"")),
            self.program.into_os_string(),
        ];
        args.extend(self.args);
        Cmd {
            program: PathBuf::from("sh"),
            args,
            ..self
        }
    }

    /// How long [`Cmd::run`] lets the program run before it fails the test (default [`PATIENCE`]).
    pub fn limit(mut self, limit: Duration) -> Cmd {
        self.limit = limit;
        self
    }

    /// The same run inside a private network namespace (`unshare -rn`, no root needed): only a
    /// loopback interface that is down, so no packet can leave — a DNS query fails at once with
    /// "Temporary failure in name resolution" — while `/etc/hosts` still answers. For tests of
    /// name lookups that must never ask a real DNS server. `None`, after saying the test is
    /// skipped, where unprivileged namespaces are not allowed.
    pub fn offline(self) -> Option<Cmd> {
        let works = Command::new("unshare").args(["-rn", "true"]).output();
        if !works.is_ok_and(|out| out.status.success()) {
            skip("`unshare -rn` (an unprivileged network namespace) is not available");
            return None;
        }
        let mut args = vec![OsString::from("-rn"), self.program.into_os_string()];
        args.extend(self.args);
        Some(Cmd {
            program: PathBuf::from("unshare"),
            args,
            ..self
        })
    }

    /// Send stdout to `/dev/full`, where every write fails ("No space left on device"); only
    /// where [`HAS_DEV_FULL`] says there is one.
    pub fn stdout_full(mut self) -> Cmd {
        self.stdout = Sink::Full;
        self
    }

    /// Send stdout into a pipe whose reader has already gone, as `| head -0` leaves it: every
    /// write fails with "Broken pipe".
    pub fn stdout_closed(mut self) -> Cmd {
        self.stdout = Sink::Closed;
        self
    }

    /// Run, then check the error contract as [`Cmd::assert_exit`] does, and that the error line
    /// starts with `error: {prefix}`.
    #[track_caller]
    pub fn assert_error(self, code: i32, prefix: &str) -> Finished {
        let shown = self.shown();
        let done = self.assert_exit(code);
        let wanted = format!("error: {prefix}");
        assert!(
            done.stderr.starts_with(&wanted),
            "`{shown}`: wanted {wanted:?}…, got {:?}",
            done.stderr
        );
        done
    }

    #[track_caller]
    fn stdout_stdio(&self) -> Stdio {
        match self.stdout {
            Sink::Captured => Stdio::piped(),
            Sink::Full => Stdio::from(File::create("/dev/full").expect("/dev/full")),
            Sink::Closed => {
                // The stdin of a program that exits at once is a pipe with no reader.
                let mut quits = if cfg!(windows) {
                    let mut exit = Command::new("cmd");
                    exit.args(["/C", "exit"]);
                    exit
                } else {
                    Command::new("true")
                };
                let mut reader =
                    process::spawn(quits.stdin(Stdio::piped())).expect("a program that quits");
                let pipe = reader.stdin.take().expect("piped stdin");
                reader.wait().expect("true exits");
                // No child of another test thread, forked but not yet exec'd, keeps the read end.
                process::settle_forks(|| ());
                Stdio::from(pipe)
            }
        }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        for (key, value) in &self.env {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        command
    }

    fn shown(&self) -> String {
        process::shown(&self.program, &self.args)
    }

    /// Run to completion; the test fails if the program cannot start or outlives its limit.
    #[track_caller]
    pub fn run(self) -> Finished {
        let stdout = self.stdout_stdio();
        let stdin = if self.endless_stdin {
            Stdin::Endless
        } else {
            Stdin::Bytes(self.stdin.clone())
        };
        let outcome = process::run_bounded_with(&mut self.command(), stdin, self.limit, stdout)
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.shown()));
        let stderr = String::from_utf8_lossy(&outcome.stderr).into_owned();
        let Some(status) = outcome.status else {
            panic!(
                "{} still running after {:?}; stderr: {stderr:?}",
                self.shown(),
                self.limit
            );
        };
        Finished {
            code: status.code(),
            stdout: outcome.stdout,
            stderr,
        }
    }

    /// Run to completion and check the course's error contract for exit `code`: never a panic; a
    /// run-time error (1) is exactly one `error: …` line on stderr; a usage error (2) names the
    /// problem on an `error: …` line, then prints the usage line.
    #[track_caller]
    pub fn assert_exit(self, code: i32) -> Finished {
        let shown = self.shown();
        let done = self.run();
        let context = format!("`{shown}` gave {:?}: {:?}", done.code, done.stderr);
        assert_eq!(done.code, Some(code), "{context}");
        assert!(!done.stderr.contains("panicked"), "{context}");
        match code {
            1 => assert!(
                done.stderr.starts_with("error: ") && done.stderr.lines().count() == 1,
                "{context}"
            ),
            2 => {
                let lines: Vec<&str> = done.stderr.lines().collect();
                assert!(lines.len() == 2, "{context}");
                assert!(lines[0].starts_with("error: "), "{context}");
                assert!(lines[1].starts_with("usage: "), "{context}");
            }
            _ => {}
        }
        done
    }

    /// Start a server lesson in the background and read the address from its `Listening on (…)`
    /// line.
    #[track_caller]
    pub fn serve(self) -> (Running, SocketAddr) {
        let mut server = self.start();
        let addr = server.listening_addr();
        (server, addr)
    }

    /// Start in the background, read the first line of stdout (a server's `Listening on` line),
    /// then close the reading end of its stdout, as `server | head -1` leaves it.
    #[track_caller]
    pub fn start_head_1(self) -> Running {
        let spawned = Spawned::start_head(&mut self.command(), &self.stdin, 1)
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.shown()));
        Running {
            spawned,
            shown: self.shown(),
        }
    }

    /// Start in the background, read the first `lines` lines of stdout (a server's banner), then
    /// read nothing more, as a paused `| less` or a terminal stopped with Ctrl-S: the pipe stays
    /// open and fills up. [`Running::resume_reading`] reads on.
    #[track_caller]
    pub fn start_paused(self, lines: usize) -> Running {
        let spawned = Spawned::start_paused(&mut self.command(), &self.stdin, lines)
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.shown()));
        Running {
            spawned,
            shown: self.shown(),
        }
    }

    /// Start in the background (a server, usually); stdout and stderr are drained as they come.
    #[track_caller]
    pub fn start(self) -> Running {
        let spawned = Spawned::start(&mut self.command(), &self.stdin)
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.shown()));
        Running {
            spawned,
            shown: self.shown(),
        }
    }
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

    /// The stdout lines, without their line ends.
    pub fn lines(&self) -> Vec<String> {
        self.stdout_text().lines().map(String::from).collect()
    }
}

/// A program running in the background; dropping it kills it.
pub struct Running {
    spawned: Spawned,
    shown: String,
}

impl Running {
    /// The next line on stdout; the test fails after [`PATIENCE`] or at EOF.
    #[track_caller]
    pub fn line(&mut self) -> String {
        let got = self.spawned.line(PATIENCE);
        self.expect_line(got, "stdout")
    }

    /// The next line on stderr; the test fails after [`PATIENCE`] or at EOF.
    #[track_caller]
    pub fn err_line(&mut self) -> String {
        let got = self.spawned.err_line(PATIENCE);
        self.expect_line(got, "stderr")
    }

    #[track_caller]
    fn expect_line(&mut self, got: Result<String, NoLine>, stream: &str) -> String {
        match got {
            Ok(line) => line,
            Err(why) => {
                self.spawned.stop();
                let (out, err) = self.spawned.lines_so_far();
                let what = match why {
                    NoLine::Timeout => format!("no line on {stream} within {PATIENCE:?}"),
                    NoLine::Closed => format!("{stream} ended"),
                };
                panic!("{}: {what}; stdout had {out:?}, stderr {err:?}", self.shown);
            }
        }
    }

    /// Read stdout up to the `Listening on ('127.0.0.1', 5555)` line and return that address.
    #[track_caller]
    pub fn listening_addr(&mut self) -> SocketAddr {
        let line = self.line();
        match line.strip_prefix("Listening on ") {
            Some(tuple) => parse_py_addr(tuple),
            None => panic!("{}: no `Listening on` banner, got {line:?}", self.shown),
        }
    }

    /// Read stdout again after [`Cmd::start_paused`].
    pub fn resume_reading(&mut self) {
        self.spawned.resume();
    }

    /// Wait (bounded) for the program to exit by itself; returns its exit code.
    #[track_caller]
    pub fn wait(&mut self) -> Option<i32> {
        match self.spawned.wait(PATIENCE) {
            Ok(Some(status)) => status.code(),
            Ok(None) => panic!("{} did not exit within {PATIENCE:?}", self.shown),
            Err(e) => panic!("{}: cannot wait: {e}", self.shown),
        }
    }

    /// Whether the program is still running.
    pub fn is_running(&mut self) -> bool {
        self.spawned.is_running()
    }

    /// The program's process id (to send it a signal).
    pub fn pid(&self) -> u32 {
        self.spawned.id()
    }

    /// Lines already printed on stdout, without waiting for more.
    pub fn lines_so_far(&mut self) -> Vec<String> {
        self.spawned.lines_so_far().0
    }

    /// Kill the program and return every stderr line it printed that was not read yet.
    pub fn stop_and_collect_stderr(mut self) -> Vec<String> {
        self.spawned.stop();
        let mut lines = Vec::new();
        // After the kill the pipe ends; what was written before is still on its way. Read to that
        // end (the drain thread says so), not to a pause: on a busy machine the thread may not run
        // for a while, and a short wait would drop lines the program did write.
        while let Ok(line) = self.spawned.err_line(PATIENCE) {
            lines.push(line);
        }
        lines
    }
}

/// Whether the workspace binaries `names` are built; if not, says the test is skipped (under
/// `cargo test -p ONE` a partner lesson may not be).
pub fn built(names: &[&str]) -> bool {
    match names.iter().find(|name| process::binary(name).is_none()) {
        Some(missing) => {
            skip(&format!(
                "{missing} is not built; run `cargo test --workspace`"
            ));
            false
        }
        None => true,
    }
}

/// Say that a test (or a part of one) cannot run here, and why: on stderr, which `cargo test` shows
/// only when a test fails, and as a line in the file `COURSE_SKIPPED` names, from which
/// scripts/check.sh writes its closing "skipped: …" list. The test then returns, and `cargo test`
/// counts it "ok": this is what keeps a check that did not run from reading as passed.
pub fn skip(why: &str) {
    eprintln!("skipped: {why}");
    process::note_skipped(why);
}

/// Whether process `pid` still runs after a short grace (a killed process may take a moment to go;
/// a zombie waiting for its reaper does not count), asked of `ps`.
pub fn still_running(pid: &str) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let Ok(ps) = Command::new("ps").args(["-o", "stat=", "-p", pid]).output() else {
            return false;
        };
        let state = String::from_utf8_lossy(&ps.stdout);
        if state.trim().is_empty() || state.starts_with('Z') {
            return false;
        }
        if std::time::Instant::now() >= deadline {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The processes under `pid` (its children, theirs, and so on) that run now, each with its name
/// (`/proc/PID/comm`, at most 15 characters): to find what a program started without knowing
/// its pids, by its place in the tree rather than by a name another run could share. Linux (it
/// reads `/proc`); elsewhere none.
pub fn descendants(pid: u32) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    let mut parents = vec![pid];
    while let Some(parent) = parents.pop() {
        // Each thread lists the children it started itself.
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{parent}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            for child in children
                .split_whitespace()
                .filter_map(|c| c.parse::<u32>().ok())
            {
                let name =
                    std::fs::read_to_string(format!("/proc/{child}/comm")).unwrap_or_default();
                found.push((child, name.trim_end().to_string()));
                parents.push(child);
            }
        }
    }
    found
}

/// Whether this machine lets a program make a private PID namespace without root (or we are
/// root): `unshare -cpf`, `-rpf` or `-pf` with `--kill-child`, as the course tool tries them.
pub fn pid_namespaces() -> bool {
    ["-cpf", "-rpf", "-pf"].iter().any(|way| {
        Command::new("unshare")
            .args([way, "--kill-child", "true"])
            .output()
            .is_ok_and(|out| out.status.success())
    })
}

/// A command-line argument that is not valid Unicode, and how a lesson quotes it in its usage
/// error (`"\xFF" is not valid UTF-8`): the byte 0xFF on Unix, a lone UTF-16 surrogate on
/// Windows, where arguments are UTF-16.
pub fn not_unicode_arg() -> (OsString, &'static str) {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        (OsString::from_vec(vec![0xff]), "\"\\xFF\"")
    }
    #[cfg(windows)]
    {
        use std::os::windows::ffi::OsStringExt;
        (OsString::from_wide(&[0xd800]), "\"\\u{d800}\"")
    }
}

/// Whether this system has `/dev/full` (where every write fails with "No space left on device")
/// for [`Cmd::stdout_full`]: Linux has it; macOS and Windows do not.
pub const HAS_DEV_FULL: bool = cfg!(any(target_os = "linux", target_os = "android"));

/// Parse Python's address notation back: `('127.0.0.1', 5)` or `('::1', 5, 0, 0)`.
#[track_caller]
pub fn parse_py_addr(text: &str) -> SocketAddr {
    let inner = text
        .trim()
        .strip_prefix("('")
        .and_then(|t| t.strip_suffix(')'));
    let Some((ip, rest)) = inner.and_then(|t| t.split_once("', ")) else {
        panic!("not an address: {text:?}");
    };
    let port = rest.split(", ").next().and_then(|p| p.parse().ok());
    let ip: IpAddr = ip.parse().unwrap_or_else(|_| panic!("bad IP in {text:?}"));
    SocketAddr::new(ip, port.unwrap_or_else(|| panic!("bad port in {text:?}")))
}

/// `recv_from` that retries a receive interrupted by a signal: on Linux a receive with a timeout
/// fails with EINTR when the process is stopped and resumed (Ctrl-Z, then `fg`, or a busy CI box).
pub fn recv_from(socket: &UdpSocket, buf: &mut [u8]) -> std::io::Result<(usize, SocketAddr)> {
    loop {
        match socket.recv_from(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            done => return done,
        }
    }
}
