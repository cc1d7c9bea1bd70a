//! `cargo course compare` against stand-in listings the tests write themselves (the course does not
//! ship the book's code): the verdicts (0 same, 1 different, 2 usage), the refusals, and that no
//! run leaves a program behind. The stand-ins are small Python 3 programs printing what the
//! listings print, run with PYTHON=python3; one test also runs a Python 2 listing where pyenv has
//! 2.7.18.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::net::{TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use test_support::{Finished, cmd};

const COURSE: &str = env!("CARGO_BIN_EXE_course");

/// A temp folder for stand-ins, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("course-compare-{name}-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// python3 and the lesson binaries are needed; without them the test says it is skipped.
fn ready(lessons: &[&str]) -> bool {
    if !Command::new("python3")
        .arg("-c")
        .arg("pass")
        .status()
        .is_ok_and(|s| s.success())
    {
        test_support::skip("python3 is not installed (the stand-in listings need it)");
        return false;
    }
    test_support::built(lessons)
}

/// Whether compare can run a server lesson in a private network namespace here.
fn namespaces() -> bool {
    Command::new("unshare")
        .args(["-rn", "sh", "-c", "ip link set lo up"])
        .status()
        .is_ok_and(|s| s.success())
}

fn compare(args: &[&str]) -> Finished {
    let mut all = vec!["compare"];
    all.extend_from_slice(args);
    cmd(COURSE)
        .args(all)
        .env("PYTHON", "python3")
        .env("COURSE_NO_BUILD", "1")
        .env("COLUMNS", "160")
        .limit(Duration::from_secs(60))
        .run()
}

/// Several comparisons at once, each mostly waiting on its sides; their results in order. One at
/// a time where `together` is false (server lessons without a namespace share port 51423).
fn compare_all(runs: &[&[&str]], together: bool) -> Vec<Finished> {
    if !together {
        return runs.iter().map(|args| compare(args)).collect();
    }
    std::thread::scope(|scope| {
        let running: Vec<_> = runs
            .iter()
            .map(|args| scope.spawn(move || compare(args)))
            .collect();
        running
            .into_iter()
            .map(|run| run.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

#[track_caller]
fn verdict(done: &Finished, code: i32) {
    assert_eq!(
        done.code,
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        done.stdout_text(),
        done.stderr
    );
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
}

/// http-fetch's listing, whose `time.sleep(10)` is ten minutes here: only a shortened sleep
/// lets it finish.
const FETCH: &str = r#"import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
print('sleeping')
time.sleep(600)
print('Continuing.')
s.sendall(('GET %s HTTP/1.0\r\n\r\n' % sys.argv[3]).encode())
s.shutdown(socket.SHUT_WR)
sys.stdout.flush()
while True:
    buf = s.recv(2048)
    if not buf:
        break
    sys.stdout.buffer.write(buf)
"#;

const INFO: &str = r#"import socket, sys
print("Creating socket...", end=" ")
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
print("done.")
print("Looking up port number...", end=" ")
port = int(sys.argv[2])
print("done.")
print("Connecting to remote host on port %d..." % port, end=" ")
s.connect((sys.argv[1], port))
print("done.")
print("Connected from", s.getsockname())
print("Connected to", s.getpeername())
"#;

/// Bad command lines are usage errors (exit 2) that run nothing: no lesson, no such lesson, no
/// listing, an interpreter that does not run, a host that is not loopback, a fixed remote host.
#[test]
fn refusals_are_usage_errors() {
    if !ready(&["socket-info", "tcp-listener"]) {
        return;
    }
    let scratch = Scratch::new("refusals");
    let info = scratch.write("info.py", INFO);
    let marker = scratch.0.join("ran");
    let fixed = scratch.write(
        "fixed.py",
        &format!("import socket\nopen({:?}, 'w').close()\nif False:\n    socket.socket().connect((\"www.example.com\", 80))\n", marker.to_string_lossy()),
    );
    for (args, words) in [
        (vec![], "give a LESSON"),
        (
            vec!["no-such-lesson", info.as_str()],
            "unknown lesson 'no-such-lesson'",
        ),
        (
            vec!["socket-info", "/nonexistent/listing.py"],
            "cannot read the listing",
        ),
        (
            vec!["socket-info", info.as_str(), "127.0.0.2", "PORT"],
            "HOST '127.0.0.2' is not 127.0.0.1 or localhost",
        ),
        (
            vec!["socket-info", fixed.as_str()],
            "connects to the fixed host 'www.example.com'",
        ),
    ] {
        let done = compare(&args);
        verdict(&done, 2);
        assert!(
            done.stderr.starts_with(&format!("error: {words}")) || done.stderr.contains(words),
            "{args:?}: {}",
            done.stderr
        );
    }
    assert!(
        !marker.exists(),
        "a listing with a fixed remote host must not be run"
    );
    let no_python = cmd(COURSE)
        .args(["compare", "socket-info", info.as_str()])
        .env("PYTHON", "/nonexistent/python9")
        .run();
    verdict(&no_python, 2);
    assert!(
        no_python.stderr.contains("PYENV_VERSION=2.7.18"),
        "{}",
        no_python.stderr
    );
    assert!(
        !no_python.stderr.contains("python3"),
        "python3 cannot run the book's listings: {}",
        no_python.stderr
    );
}

/// socket-info: the same lines once the client's port is masked; a changed word, or only a
/// different exit code, is DIFFERENT. A listing slow to start (a busy machine) is not cut short
/// because the lesson was quicker: it is stopped only once it printed as many lines.
#[test]
fn socket_info_verdicts() {
    if !ready(&["socket-info", "tcp-listener"]) {
        return;
    }
    let scratch = Scratch::new("info");
    let info = scratch.write("info.py", INFO);
    let other_word = scratch.write(
        "other.py",
        &INFO.replace("print(\"done.\")", "print(\"finished.\")"),
    );
    let exit3 = scratch.write("exit3.py", &format!("{INFO}import sys\nsys.exit(3)\n"));
    let slow = scratch.write("slow.py", &format!("import time\ntime.sleep(1.5)\n{INFO}"));
    let [same, localhost, different, code, late] = <[Finished; 5]>::try_from(compare_all(
        &[
            &["socket-info", &info],
            &["socket-info", &info, "localhost", "PORT"],
            &["socket-info", &other_word],
            &["socket-info", &exit3],
            &["socket-info", &slow],
        ],
        true,
    ))
    .unwrap();
    verdict(&same, 0);
    let text = same.stdout_text();
    assert!(text.contains("compare: SAME"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("Connected from ('127.0.0.1', <port>)")
                && l.ends_with("Connected from ('127.0.0.1', <port>)")),
        "{text}"
    );
    verdict(&localhost, 0);
    verdict(&different, 1);
    assert!(
        different
            .stdout_text()
            .lines()
            .any(|l| l.contains("finished.") && l.contains(" | ")),
        "{}",
        different.stdout_text()
    );
    verdict(&code, 1);
    verdict(&late, 0);
    assert!(
        code.stdout_text()
            .contains("the exit codes differ: listing exit 3, lesson exit 0"),
        "{}",
        code.stdout_text()
    );
}

/// The output fits the terminal: compare asks the terminal its size when stdout is one (shells
/// set COLUMNS but do not export it), and below 120 columns it stacks the two sides, each row of
/// a difference as two lines. Without a terminal or COLUMNS it fits 100 columns. (It printed 159
/// columns in a 100-column terminal.)
#[cfg(unix)]
#[test]
fn output_fits_the_terminal() {
    if !ready(&["socket-info", "tcp-listener"]) {
        return;
    }
    let pty = Command::new("script")
        .args(["-qec", "true", "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if !pty {
        test_support::skip("no util-linux `script` here to run compare in a terminal");
        return;
    }
    let scratch = Scratch::new("width");
    let info = scratch.write("info.py", INFO);
    let other = scratch.write(
        "other.py",
        &INFO.replace("print(\"Connected to\"", "print(\"Connected with\""),
    );
    let fits = |text: &str, width: usize| {
        for line in text.lines() {
            let line = line.trim_end_matches('\r');
            assert!(
                line.chars().count() <= width,
                "wider than {width}: {line:?}\n{text}"
            );
        }
        assert!(text.contains("compare: "), "{text}");
    };
    // In a 100-column terminal (script(1) makes one; stty sets its size), COLUMNS unset.
    let in_terminal = cmd("script")
        .args([
            "-qec",
            &format!("stty cols 100 rows 40; exec {COURSE} compare socket-info {info}"),
            "/dev/null",
        ])
        .env_remove("COLUMNS")
        .env("PYTHON", "python3")
        .env("COURSE_NO_BUILD", "1")
        .limit(Duration::from_secs(60))
        .run();
    verdict(&in_terminal, 0);
    let text = in_terminal.stdout_text().replace('\r', "");
    fits(&text, 100);
    assert!(
        text.lines().any(|l| l == "LISTING (python3): exit 0")
            && text.lines().any(|l| l == "LESSON (socket-info): exit 0"),
        "the sides stacked: {text}"
    );
    // On a pipe without COLUMNS: 100 columns; a changed row is one line per side.
    let piped = cmd(COURSE)
        .args(["compare", "socket-info", other.as_str()])
        .env_remove("COLUMNS")
        .env("PYTHON", "python3")
        .env("COURSE_NO_BUILD", "1")
        .limit(Duration::from_secs(60))
        .run();
    verdict(&piped, 1);
    let text = piped.stdout_text();
    fits(&text, 100);
    assert!(
        text.lines()
            .any(|l| l.starts_with("| listing ") && l.contains("Connected with ('127.0.0.1', "))
            && text
                .lines()
                .any(|l| l.starts_with("| lesson ") && l.contains("Connected to ('127.0.0.1', ")),
        "{text}"
    );
}

/// The server lessons, each side in turn on the listing's port 51423 with a scripted client: the
/// listing binds '' (every interface), and compare makes that 127.0.0.1.
#[test]
fn server_verdicts() {
    if !ready(&["tcp-listener", "udp-echo-server"]) {
        return;
    }
    // Where compare can run in a private network namespace it does, and then the listing's port
    // on this machine's loopback does not matter: the test holds it to prove that.
    let netns = namespaces();
    let _held = netns.then(|| {
        (
            TcpListener::bind("127.0.0.1:51423").ok(),
            UdpSocket::bind("127.0.0.1:51423").ok(),
        )
    });
    if !netns
        && (TcpListener::bind("127.0.0.1:51423").is_err()
            || UdpSocket::bind("127.0.0.1:51423").is_err())
    {
        test_support::skip("127.0.0.1:51423 is in use (a lesson or listing is running?)");
        return;
    }
    let scratch = Scratch::new("servers");
    let server = scratch.write(
        "server.py",
        r#"import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('', 51423))
s.listen(5)
print('Waiting for connections...')
while True:
    c, a = s.accept()
    print('Got connection from', c.getpeername())
    c.close()
"#,
    );
    let other = scratch.write(
        "other.py",
        &fs::read_to_string(&server)
            .unwrap()
            .replace("Got connection", "Got a connection"),
    );
    // A listing that does not set SO_REUSEADDR still compares: the lesson binds the port right
    // after it, which Linux refuses while the listing's side of a connection is in TIME_WAIT.
    let no_reuse = scratch.write(
        "no_reuse.py",
        &fs::read_to_string(&server).unwrap().replace(
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n",
            "",
        ),
    );
    let echo = scratch.write(
        "echo.py",
        r#"import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('', 51423))
while True:
    m, a = s.recvfrom(8192)
    print('Got data from', a)
    s.sendto(m, a)
"#,
    );
    // Each comparison in its own namespace has its own port 51423: they can run at once.
    let [tcp, changed, without_reuse, udp] = <[Finished; 4]>::try_from(compare_all(
        &[
            &["tcp-listener", &server],
            &["tcp-listener", &other],
            &["tcp-listener", &no_reuse],
            &["udp-echo-server", &echo],
        ],
        netns,
    ))
    .unwrap();
    verdict(&tcp, 0);
    assert!(
        tcp.stdout_text()
            .contains("connection 3: closed by the server"),
        "{}",
        tcp.stdout_text()
    );
    verdict(&changed, 1);
    verdict(&without_reuse, 0);
    verdict(&udp, 0);
    assert!(
        udp.stdout_text()
            .lines()
            .any(|l| l.starts_with("datagram 3: echoed") && l.ends_with("datagram 3: echoed")),
        "{}",
        udp.stdout_text()
    );
}

/// The scripted client says what became of each connection: a server listing that exits at once
/// is refused, and said so (it said "refused, or still open after 5 s"). The same for datagrams.
#[test]
fn the_scripted_client_says_which() {
    if !ready(&["tcp-listener", "udp-echo-server"]) {
        return;
    }
    if !namespaces() {
        test_support::skip("no private network namespace here");
        return;
    }
    let scratch = Scratch::new("which");
    let gone = scratch.write("gone.py", "import sys\nsys.exit(0)\n");
    let runs = compare_all(
        &[&["tcp-listener", &gone], &["udp-echo-server", &gone]],
        true,
    );
    let expected = [
        "connection 1: refused: the server has exited",
        "datagram 1: refused: the server has exited",
    ];
    for (done, words) in runs.iter().zip(expected) {
        verdict(done, 1);
        let text = done.stdout_text();
        assert!(text.lines().any(|l| l.starts_with(words)), "{text}");
        let said: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("connection ") || l.contains("datagram "))
            .collect();
        assert!(
            said.len() >= 3 && said.iter().all(|l| !l.contains(" or ")),
            "{text}"
        );
    }
}

/// A listing's traceback names the learner's own file and line, not the wrapper compare runs it
/// through (`File "<string>", line 16`).
#[test]
fn a_traceback_names_the_listing() {
    if !ready(&["socket-info", "tcp-listener"]) {
        return;
    }
    let scratch = Scratch::new("traceback");
    let boom = scratch.write(
        "boom.py",
        "import socket\n\ndef connect():\n    raise ValueError('typed wrong')\n\nconnect()\n",
    );
    let done = compare(&["socket-info", &boom]);
    verdict(&done, 1);
    let text = done.stdout_text();
    assert!(
        text.contains(&format!("File \"{boom}\", line 6, in <module>")),
        "{text}"
    );
    assert!(
        text.contains(&format!("File \"{boom}\", line 4, in connect")),
        "{text}"
    );
    assert!(text.contains("ValueError: typed wrong"), "{text}");
    assert!(!text.contains("<string>"), "{text}");
    assert!(
        text.contains("compare: the exit codes differ: listing exit 1, lesson exit 0"),
        "{text}"
    );
}

/// udp-client: the lesson ends by itself (its --timeout), and udp.py, which waits for replies for
/// ever, is stopped soon after, and the header says so: SAME in about 2 s. (Both sides were
/// stopped at 4 s, one after the other: 8 s, and the lesson never ended by itself.)
#[test]
fn a_listing_that_waits_for_ever_is_stopped_after_the_lesson() {
    if !ready(&["udp-client", "udp-echo-server"]) {
        return;
    }
    let scratch = Scratch::new("udp");
    let udp = scratch.write(
        "udp.py",
        r#"import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], int(sys.argv[2])))
print('Enter data to transmit: ')
s.send(sys.stdin.readline().strip().encode())
print('Looking for replies; press Ctrl-C or Ctrl-Break to stop.')
while True:
    print('Received:', s.recv(2048).decode())
"#,
    );
    let started = std::time::Instant::now();
    let done = compare(&["udp-client", &udp]);
    let took = started.elapsed();
    verdict(&done, 0);
    let text = done.stdout_text();
    assert!(
        text.contains("the lesson: ended by itself, exit 0"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("the listing: stopped by compare ") && l.contains(" s after ")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("Received: hello") && l.ends_with("Received: hello")),
        "{text}"
    );
    assert!(took < Duration::from_secs(7), "took {took:?}:\n{text}");
}

/// http-fetch (whose --pause shortens the listing's sleep), dns-validate and addr-info (tuples
/// compared, the well-known port kept) all compare SAME with faithful stand-ins.
#[test]
fn client_and_lookup_verdicts() {
    if !ready(&["http-fetch", "dns-validate", "addr-info"]) {
        return;
    }
    let scratch = Scratch::new("clients");
    let fetch = scratch.write("fetch.py", FETCH);
    let validate = scratch.write(
        "validate.py",
        r#"import socket, sys
name = socket.gethostbyaddr(sys.argv[1])[0]
ips = [x[4][0] for x in socket.getaddrinfo(name, None, 0, socket.SOCK_STREAM)]
print('Validated hostname:', name) if sys.argv[1] in ips else sys.exit(1)
"#,
    );
    let addrinfo = scratch.write(
        "addrinfo.py",
        "import socket, sys\nprint(socket.getaddrinfo(sys.argv[1], sys.argv[2]))\n",
    );
    let [done, validated, tuples] = <[Finished; 3]>::try_from(compare_all(
        &[
            &["http-fetch", &fetch],
            &["dns-validate", &validate],
            &["addr-info", &addrinfo, "localhost", "http"],
        ],
        true,
    ))
    .unwrap();
    // The stand-in sleeps ten minutes: SAME means compare shortened its sleep to the --pause.
    verdict(&done, 0);
    assert!(
        done.stdout_text()
            .contains("the listing's time.sleep() is shortened to 0 s"),
        "{}",
        done.stdout_text()
    );
    assert!(
        done.stdout_text()
            .lines()
            .any(|l| l.starts_with("Date: <date>") && l.ends_with("Date: <date>")),
        "{}",
        done.stdout_text()
    );
    verdict(&validated, 0);
    verdict(&tuples, 0);
    assert!(
        tuples.stdout_text().contains("('127.0.0.1', 80))"),
        "the well-known port stays: {}",
        tuples.stdout_text()
    );
}

/// http-fetch's page: `compare http-fetch fetch.py --pause 0.5` watches both sides pause. An
/// option joins the usual arguments (replacing the usual option of that name) instead of replacing
/// all of them, which ran both sides with no host, port or path.
#[test]
fn options_join_the_usual_arguments() {
    if !ready(&["http-fetch"]) {
        return;
    }
    let scratch = Scratch::new("options");
    let fetch = scratch.write("fetch.py", FETCH);
    let done = compare(&["http-fetch", &fetch, "--pause", "0.5"]);
    verdict(&done, 0);
    let text = done.stdout_text();
    assert!(
        text.contains("the listing's time.sleep() is shortened to 0.5 s"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("$ http-fetch --pause 0.5 127.0.0.1 ")
                && l.ends_with(" /hello.txt")),
        "{text}"
    );
}

/// A run that is killed (SIGTERM to the course tool alone) or that fails leaves no program behind:
/// the partner's port refuses afterwards and the listing's process is gone.
#[cfg(unix)]
#[test]
fn killed_or_failed_runs_leave_nothing_running() {
    if !ready(&["socket-info", "tcp-listener", "http-fetch"]) {
        return;
    }
    let scratch = Scratch::new("killed");
    let pid_file = scratch.0.join("pid");
    let slow = scratch.write(
        "slow.py",
        &format!("{}import time\ntime.sleep(60)\n", record_pid(&pid_file)),
    );
    // http-fetch pausing 30 s: compare runs until it is killed (a listing that sleeps while the
    // lesson has already ended would be stopped a second later).
    let mut run = cmd(COURSE)
        .args(["compare", "http-fetch", slow.as_str(), "--pause", "30"])
        .env("PYTHON", "python3")
        .env("COURSE_NO_BUILD", "1")
        .start();
    let mut port = None;
    for _ in 0..5 {
        let line = run.line();
        if let Some(rest) = line.strip_prefix("peer: ") {
            port = rest.rsplit(' ').next().and_then(|p| p.parse::<u16>().ok());
            break;
        }
    }
    let port = port.expect("compare names its peer's port");
    let listing_pid = recorded_pid(&pid_file);
    let status = Command::new("kill")
        .arg(run.pid().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let code = run.wait();
    // Its last lines are on their way: the stopped sides are no comparison to report.
    std::thread::sleep(Duration::from_millis(100));
    let printed = run.lines_so_far();
    assert!(
        !printed.iter().any(|l| l.starts_with("compare: ")),
        "an interrupted run reports no verdict: {printed:?}"
    );
    let said = run.stop_and_collect_stderr();
    assert_eq!(
        code,
        Some(130),
        "stopped like an interrupted program: {said:?}"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the partner still listens on {port}"
    );
    assert!(
        !test_support::still_running(listing_pid.trim()),
        "the listing (pid {listing_pid}) is still running"
    );

    let failing = scratch.write("fails.py", "import sys\nsys.exit(1)\n");
    let done = compare(&["socket-info", &failing]);
    verdict(&done, 1);
    let peer_port = done.stdout_text().lines().find_map(|l| {
        l.strip_prefix("peer: ")?
            .rsplit(' ')
            .next()?
            .parse::<u16>()
            .ok()
    });
    let peer_port = peer_port.expect("compare names its peer's port");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", peer_port)).is_err(),
        "the partner outlived a failed run"
    );
}

/// A Python 2 listing typed as the book prints it (`print "…",`), where pyenv has Python 2.7.18.
#[test]
fn a_python2_listing_compares_same() {
    let python2 = Command::new("python2")
        .args(["-c", "pass"])
        .env("PYENV_VERSION", "2.7.18")
        .status();
    if !python2.is_ok_and(|s| s.success()) || !ready(&["socket-info", "tcp-listener"]) {
        test_support::skip("no Python 2.7.18 (pyenv) here");
        return;
    }
    let scratch = Scratch::new("py2");
    let info = scratch.write(
        "info.py",
        r#"import socket, sys
print "Creating socket...",
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
print "done."
print "Looking up port number...",
port = int(sys.argv[2])
print "done."
print "Connecting to remote host on port %d..." % port,
s.connect((sys.argv[1], port))
print "done."
print "Connected from", s.getsockname()
print "Connected to", s.getpeername()
"#,
    );
    let done = cmd(COURSE)
        .args(["compare", "socket-info", info.as_str()])
        .env("PYENV_VERSION", "2.7.18")
        .env("COURSE_NO_BUILD", "1")
        .env_remove("PYTHON")
        .limit(Duration::from_secs(60))
        .run();
    verdict(&done, 0);
}

/// The Information Example as the book prints it connects to a fixed remote host on the `http`
/// port: compare refuses it, runs nothing, and its one error line says which two lines to change;
/// the copy with exactly those changes then compares SAME.
#[test]
fn the_book_listing_is_refused_with_the_change_that_makes_it_comparable() {
    if !ready(&["socket-info", "tcp-listener"]) {
        return;
    }
    let scratch = Scratch::new("as-typed");
    let as_typed = INFO
        .replace("import socket, sys", "import socket")
        .replace(
            "port = int(sys.argv[2])",
            "port = socket.getservbyname('http', 'tcp')",
        )
        .replace(
            "s.connect((sys.argv[1], port))",
            "s.connect((\"www.google.com\", port))",
        );
    assert_ne!(as_typed, INFO, "the stand-in changed shape");
    let listing = scratch.write("connect.py", &as_typed);
    let refused = compare(&["socket-info", &listing]);
    verdict(&refused, 2);
    // Each change is written "`OLD` becomes `NEW`": apply them as a learner would.
    let said = refused.stderr.lines().next().unwrap().to_string();
    let pieces: Vec<&str> = said.split('`').collect();
    let mut edited = as_typed.clone();
    let mut changes = 0;
    for at in (1..pieces.len().saturating_sub(2)).step_by(2) {
        if pieces[at + 1] == " becomes " {
            assert!(
                edited.contains(pieces[at]),
                "{:?} is not in the listing: {said}",
                pieces[at]
            );
            edited = edited.replace(pieces[at], pieces[at + 2]);
            changes += 1;
        }
    }
    assert_eq!(changes, 2, "two lines to change: {said}");
    // The command it suggests runs as pasted into the same shell, where PYTHON was given for the
    // one command only: it keeps the interpreter setting (it failed with `cannot run the
    // interpreter 'python2'`).
    let suggested = said
        .split("then run `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("no command to run: {said}"));
    assert!(
        suggested.starts_with("PYTHON=python3 cargo course compare socket-info"),
        "{said}"
    );
    fs::write(&listing, &edited).unwrap();
    let pasted = cmd("sh")
        .args(["-c", &suggested.replace("cargo course", COURSE)])
        .env_remove("PYTHON")
        .env_remove("PYENV_VERSION")
        .env("COURSE_NO_BUILD", "1")
        .limit(Duration::from_secs(60))
        .run();
    verdict(&pasted, 0);
}

/// A listing that prints without end costs compare no more memory than what it keeps of a side
/// (100 MB printed took compare to 558 MB): 40 MB printed here, compare and everything it ran stay
/// small, and the report says what was cut.
#[test]
fn a_flood_of_output_is_cut_and_said() {
    if !ready(&["addr-info"]) {
        return;
    }
    let scratch = Scratch::new("flood");
    let flood = scratch.write(
        "flood.py",
        "import sys\nline = 'x' * 999 + '\\n'\nfor i in range(40000):\n    sys.stdout.write(line)\n",
    );
    // python3 runs compare, then says the largest resident size of compare and of every program
    // under it that has ended (getrusage: std cannot ask it).
    let measure = "import resource, subprocess, sys\n\
                   code = subprocess.call(sys.argv[1:])\n\
                   peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n\
                   sys.stderr.write('peak %d KiB\\n' % peak)\n\
                   sys.exit(code)\n";
    let done = cmd("python3")
        .args(["-c", measure, COURSE, "compare", "addr-info", &flood])
        .args(["localhost", "http"])
        .env("PYTHON", "python3")
        .env("COURSE_NO_BUILD", "1")
        .env("COLUMNS", "160")
        .limit(Duration::from_secs(60))
        .run();
    verdict(&done, 1);
    let peak: u64 = done
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak ")?.strip_suffix(" KiB")?.parse().ok())
        .unwrap_or_else(|| panic!("no peak: {}", done.stderr));
    assert!(peak < 64 * 1024, "{peak} KiB resident at the peak");
    let text = done.stdout_text();
    assert!(
        text.lines()
            .any(|l| l.starts_with("cut: the listing printed ")
                && l.contains(" more on stdout than compare keeps")),
        "{text}"
    );
}

/// Python that records, in the file `path`, the pid of the process running it as this machine sees
/// it (`/proc/self` names it even inside a PID namespace of the course tool's; elsewhere getpid).
#[cfg(unix)]
fn record_pid(path: &std::path::Path) -> String {
    format!(
        "import os\ntry:\n    _pid = os.readlink('/proc/self')\nexcept OSError:\n    _pid = str(os.getpid())\n\
         open({:?}, 'w').write(_pid)\n",
        path.to_string_lossy()
    )
}

/// Python that forks first: the child records its pid in `path`, then sleeps 30 s holding the
/// listing's stdout and stderr (and whatever else it inherited) open; the parent goes on.
#[cfg(unix)]
fn forks_a_sleeper(path: &std::path::Path) -> String {
    let record = record_pid(path).replace('\n', "\n    ");
    format!("import os, time\nif os.fork() == 0:\n    {record}time.sleep(30)\n    os._exit(0)\n")
}

/// The pid a stand-in recorded in `path`, once it has.
#[cfg(unix)]
#[track_caller]
fn recorded_pid(path: &std::path::Path) -> String {
    for _ in 0..100 {
        if let Ok(pid) = fs::read_to_string(path)
            && !pid.is_empty()
        {
            return pid;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing recorded in {}", path.display());
}

/// A listing's child does not outlive compare: a client listing and a server listing that fork a
/// child that sleeps (it was left running with ppid 1, and kept a server comparison's private
/// network namespace alive) compare as before, and their children are gone when compare ends.
#[cfg(unix)]
#[test]
fn a_listings_child_does_not_outlive_compare() {
    if !ready(&["socket-info", "tcp-listener"]) {
        return;
    }
    let scratch = Scratch::new("children");
    let (client_pid, server_pid) = (scratch.0.join("client.pid"), scratch.0.join("server.pid"));
    let client = scratch.write(
        "client.py",
        &format!("{}{INFO}", forks_a_sleeper(&client_pid)),
    );
    let server = scratch.write(
        "server.py",
        &format!(
            "{}import socket\ns = socket.socket()\ns.bind(('', 51423))\ns.listen(5)\nprint('Waiting for connections...')\n\
             while True:\n    c, a = s.accept()\n    print('Got connection from', c.getpeername())\n    \
             c.close()\n",
            forks_a_sleeper(&server_pid)
        ),
    );
    let (client_run, server_run) = (["socket-info", &client], ["tcp-listener", &server]);
    let mut runs: Vec<&[&str]> = vec![&client_run];
    let netns = namespaces();
    if netns {
        runs.push(&server_run);
    } else {
        test_support::skip("no private network namespace: a server listing's child not checked");
    }
    for done in compare_all(&runs, true) {
        verdict(&done, 0);
    }
    for path in [&client_pid]
        .into_iter()
        .chain(netns.then_some(&server_pid))
    {
        let pid = recorded_pid(path);
        assert!(
            !test_support::still_running(&pid),
            "the listing's child (pid {pid}) outlived compare"
        );
    }
}

/// A listing that daemonizes (forks, setsid, forks again, its output on /dev/null) leaves a
/// program its process group cannot reach: it is gone once compare ends all the same (it ran on
/// with ppid 1), since compare runs as process 1 of a private PID namespace, whose programs the
/// kernel ends with it. Linux, where such a namespace can be made.
#[cfg(target_os = "linux")]
#[test]
fn a_daemon_does_not_outlive_compare() {
    if !ready(&["socket-info", "tcp-listener"]) {
        return;
    }
    if !test_support::pid_namespaces() {
        test_support::skip("no private PID namespace here (`unshare -cpf --kill-child` fails)");
        return;
    }
    let scratch = Scratch::new("daemon");
    let pid = scratch.0.join("daemon.pid");
    let record = record_pid(&pid).replace('\n', "\n        ");
    let daemon = format!(
        "import os, sys, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        \
         null = os.open(os.devnull, os.O_RDWR)\n        for fd in (0, 1, 2):\n            \
         os.dup2(null, fd)\n        {record}time.sleep(30)\n    os._exit(0)\n"
    );
    let listing = scratch.write("daemon.py", &format!("{daemon}{INFO}"));
    let done = compare(&["socket-info", &listing]);
    verdict(&done, 0);
    let pid = recorded_pid(&pid);
    assert!(
        !test_support::still_running(&pid),
        "the daemon (pid {pid}) outlived compare"
    );
}

/// SIGKILL of compare while a server listing runs in compare's network namespace: the listing is
/// gone, and nothing more is said on the terminal (the copy in the network namespace, stopped,
/// said "interrupted", relayed after the learner had the prompt back). Linux, where a private PID
/// namespace and a network namespace can be made.
#[cfg(target_os = "linux")]
#[test]
fn a_compare_killed_with_sigkill_leaves_nothing_and_says_nothing() {
    if !ready(&["tcp-listener"]) {
        return;
    }
    if !test_support::pid_namespaces() || !namespaces() {
        test_support::skip("no private PID or network namespace here");
        return;
    }
    let scratch = Scratch::new("sigkill");
    let pid = scratch.0.join("listing.pid");
    let listing = scratch.write(
        "slow.py",
        &format!("{}import time\ntime.sleep(30)\n", record_pid(&pid)),
    );
    let run = cmd(COURSE)
        .args(["compare", "tcp-listener", listing.as_str()])
        .env("PYTHON", "python3")
        .env("COURSE_NO_BUILD", "1")
        .start();
    let listing_pid = recorded_pid(&pid);
    let kill = Command::new("kill")
        .args(["-KILL", &run.pid().to_string()])
        .status();
    assert!(kill.unwrap().success());
    // Its stderr ends once every program that held it has gone.
    let said = run.stop_and_collect_stderr();
    assert!(
        !said.iter().any(|l| l.contains("interrupted")),
        "said after the SIGKILL: {said:?}"
    );
    assert!(
        !test_support::still_running(&listing_pid),
        "the listing (pid {listing_pid}) outlived compare"
    );
}

/// A child of the listing that holds its stdout open after the listing exited: compare compares
/// what the listing printed, its last line too (printed without a newline, it came only when the
/// pipe closed: it was dropped, and the verdict was DIFFERENT for the wrong reason), says that a
/// program the listing started kept its output open and was stopped, and does not wait 2 s for it.
#[cfg(unix)]
#[test]
fn a_child_holding_the_listings_output_is_stopped_and_said() {
    if !ready(&["socket-info", "tcp-listener"]) {
        return;
    }
    let scratch = Scratch::new("held");
    let pid = scratch.0.join("child.pid");
    let last = "print(\"Connected to\", s.getpeername())\n";
    let no_newline = "import sys\nsys.stdout.write(\"Connected to %s\" % (s.getpeername(),))\n";
    let listing = scratch.write(
        "held.py",
        &format!(
            "{}{}",
            forks_a_sleeper(&pid),
            INFO.replace(last, no_newline)
        ),
    );
    let started = std::time::Instant::now();
    let done = compare(&["socket-info", &listing]);
    let took = started.elapsed();
    verdict(&done, 0);
    let text = done.stdout_text();
    assert!(
        text.contains("a program it started kept its output open"),
        "{text}"
    );
    let pid = recorded_pid(&pid);
    assert!(
        !test_support::still_running(&pid),
        "the child (pid {pid}) still runs"
    );
    assert!(took < Duration::from_secs(3), "took {took:?}:\n{text}");
}
