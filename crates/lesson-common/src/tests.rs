use super::*;
use std::error::Error;
use std::io;
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::process::ExitCode;
use std::time::Duration;

fn args(list: &[&str]) -> Result<Args, Exit> {
    Args::parse(list.iter().map(|s| s.to_string()))
}

/// Decimal ports across the whole range parse; a malformed port is a usage error naming the value.
#[test]
fn parse_port_table() {
    for (text, port) in [("0", 0), ("80", 80), ("51423", 51423), ("65535", 65535)] {
        assert_eq!(parse_port(text, Transport::Tcp).unwrap(), port, "{text}");
    }
    for bad in ["-1", "65536", "", "8 0", "99999999999", "+", "80x", "\u{7}"] {
        let error = parse_port(bad, Transport::Tcp).unwrap_err();
        assert_eq!(error, PortError::NotAPort(bad.to_string()));
        assert!(
            error.to_string().contains(&format!("'{bad}'")),
            "{bad:?} gave {error}"
        );
        assert!(
            matches!(Exit::from(error), Exit::Usage(_)),
            "{bad:?} is a usage error"
        );
    }
}

/// Service names resolve as Python's getservbyname does, per transport; an unknown name is a
/// run-time failure (needs /etc/services).
#[test]
fn parse_port_service_names() {
    if !std::path::Path::new("/etc/services").exists() {
        // Skipped, and said so to scripts/check.sh's summary as test_support::skip would (this
        // crate's unit tests cannot depend on test-support): one line appended to $COURSE_SKIPPED.
        let why = "lesson-common parse_port_service_names: no /etc/services on this machine (package netbase)";
        eprintln!("skipped: {why}");
        if let Some(path) = std::env::var_os("COURSE_SKIPPED") {
            use io::Write as _;
            if let Ok(mut file) = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(path)
            {
                let _ = file.write_all(format!("{why}\n").as_bytes());
            }
        }
        return;
    }
    assert_eq!(parse_port("http", Transport::Tcp).unwrap(), 80);
    assert_eq!(parse_port("ssh", Transport::Tcp).unwrap(), 22);
    assert_eq!(parse_port("domain", Transport::Udp).unwrap(), 53);
    let error = parse_port("no-such-service", Transport::Udp).unwrap_err();
    assert_eq!(error.to_string(), "unknown udp service 'no-such-service'");
    assert!(matches!(Exit::from(error), Exit::Failed(_)));
    let error = parse_port("no-such-service", Transport::Tcp).unwrap_err();
    let Exit::Failed(with_context) = error.context("Couldn't find your port") else {
        panic!("an unknown service is a run-time failure");
    };
    assert_eq!(
        with_context.to_string() + ": " + &with_context.source().unwrap().to_string(),
        "Couldn't find your port: unknown tcp service 'no-such-service'"
    );
}

/// Numeric hosts resolve without a lookup; a failure reads as Python's `[Errno N] text`, and
/// an unknown IPv6 scope fails inside the resolver (no DNS query leaves the machine).
#[test]
fn resolve_numeric_hosts_and_python_words() {
    let found = resolve("127.0.0.1", 7, Transport::Udp).unwrap();
    assert_eq!(found, ["127.0.0.1:7".parse::<SocketAddr>().unwrap()]);
    let found = resolve("::1", 80, Transport::Tcp).unwrap();
    assert_eq!(found, ["[::1]:80".parse::<SocketAddr>().unwrap()]);
    let error = resolve("::1%no-such-interface", 80, Transport::Tcp).unwrap_err();
    let words = error.to_string();
    assert!(words.starts_with("[Errno -"), "{words}");
    assert!(!words.contains("failed to lookup"), "{words}");
}

/// Addresses print exactly as Python 2 prints getsockname()/getpeername() tuples.
#[test]
fn python_address_notation() {
    let v4: SocketAddr = "127.0.0.1:51423".parse().unwrap();
    assert_eq!(py_addr(v4).to_string(), "('127.0.0.1', 51423)");
    assert_eq!(
        py_addr("[::1]:80".parse().unwrap()).to_string(),
        "('::1', 80, 0, 0)"
    );
    let scoped = SocketAddrV6::new(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1), 8080, 7, 2);
    assert_eq!(
        py_addr(scoped.into()).to_string(),
        "('fe80::1', 8080, 7, 2)"
    );
    let mapped: SocketAddr = "[::ffff:127.0.0.1]:5".parse().unwrap();
    assert_eq!(py_addr(mapped).to_string(), "('::ffff:127.0.0.1', 5, 0, 0)");
}

/// `--help` wins anywhere; options come out in both spellings; leftovers are checked.
#[test]
fn command_line() {
    assert!(matches!(args(&["x", "--help"]), Err(Exit::Help)));
    assert!(matches!(args(&["-h"]), Err(Exit::Help)));

    let mut a = args(&["--bind", "::", "0", "--pause=2"]).unwrap();
    assert_eq!(a.option("--bind").unwrap().as_deref(), Some("::"));
    assert_eq!(a.option("--pause").unwrap().as_deref(), Some("2"));
    assert_eq!(a.option("--timeout").unwrap(), None);
    assert_eq!(a.positional(1).unwrap(), ["0"]);

    let mut a = args(&["--pause", "0.5", "--timeout=-1", "--wait", "x"]).unwrap();
    assert_eq!(
        a.seconds("--pause", Duration::ZERO).unwrap(),
        Duration::from_millis(500)
    );
    let three = Duration::from_secs(3);
    assert_eq!(a.seconds("--other", three).unwrap(), three);
    let timeout = a.seconds("--timeout", Duration::ZERO);
    assert!(matches!(timeout, Err(Exit::Usage(m)) if m.contains("'-1'")));
    let wait = a.seconds("--wait", Duration::ZERO);
    assert!(matches!(wait, Err(Exit::Usage(m)) if m.contains("--wait")));

    let mut a = args(&["80", "--bind"]).unwrap();
    assert!(matches!(a.option("--bind"), Err(Exit::Usage(m)) if m.contains("--bind")));
    let bogus = args(&["--bogus"]).unwrap().positional(3);
    assert!(matches!(bogus, Err(Exit::Usage(m)) if m.contains("--bogus")));
    assert!(matches!(
        args(&["a", "b", "c"]).unwrap().positional(2),
        Err(Exit::Usage(_))
    ));
    // A negative number is a value, not an option: it reaches parse_port, which names it.
    assert_eq!(args(&["-1"]).unwrap().positional(1).unwrap(), ["-1"]);
}

/// A zero timeout, however it is written, is a usage error in the one wording; anything above zero
/// passes through unchanged.
#[test]
fn a_timeout_of_zero_is_refused() {
    let half = Duration::from_millis(500);
    assert_eq!(above_zero("--timeout", half).unwrap(), half);
    let tiny = Duration::from_nanos(1);
    assert_eq!(above_zero("--deadline", tiny).unwrap(), tiny);
    for zero in ["0", "0.0", "0.0000000001"] {
        let seconds = args(&["--deadline", zero])
            .unwrap()
            .seconds("--deadline", half)
            .unwrap();
        let Err(Exit::Usage(words)) = above_zero("--deadline", seconds) else {
            panic!("{zero} seconds is a usage error");
        };
        assert_eq!(
            words,
            "--deadline wants a number of seconds above 0, not '0'"
        );
    }
}

/// `fail_with` keeps its cause as the error's source, and the report walks the chain onto one line.
#[test]
fn failures_keep_their_cause() {
    let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
    let Exit::Failed(error) = fail_with("Connection error", refused) else {
        panic!("fail_with is a run-time failure");
    };
    assert_eq!(error.to_string(), "Connection error");
    let cause = error.source().unwrap().downcast_ref::<io::Error>().unwrap();
    assert_eq!(cause.kind(), io::ErrorKind::ConnectionRefused);
    assert_eq!(
        cli_one_line(error.as_ref()),
        "Connection error: connection refused"
    );
    let Exit::Failed(plain) = fail("two\nlines") else {
        panic!()
    };
    assert!(plain.source().is_none());
    assert_eq!(cli_one_line(plain.as_ref()), "two lines");
}

fn cli_one_line(error: &dyn Error) -> String {
    cli::one_line(error)
}

/// Run-time failures exit 1 with one line; usage 2 with the usage line; help and success 0.
#[test]
fn endings_and_exit_codes() {
    use cli::{Ending, ending};
    let end = |outcome| ending("lesson", "[PORT]", "Does a thing.", outcome);
    let quiet = Ending {
        code: 0,
        stdout: String::new(),
        stderr: String::new(),
    };
    assert_eq!(end(Ok(())), quiet);
    let help = end(Err(Exit::Help));
    assert_eq!(
        (help.code, help.stdout.as_str()),
        (0, "usage: lesson [PORT]\n\nDoes a thing.\n")
    );
    let bad = end(Err(usage("bad")));
    assert_eq!(
        (bad.code, bad.stderr.as_str()),
        (2, "error: bad\nusage: lesson [PORT]\n")
    );
    let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
    let failed = end(Err(fail_with("Connection error", refused)));
    assert_eq!(
        (failed.code, failed.stderr.as_str()),
        (1, "error: Connection error: connection refused\n")
    );
    assert_eq!(end(Err(fail("two\nlines"))).stderr, "error: two lines\n");
    assert_eq!(end(Err(Exit::Quiet)).code, 1);
    assert_eq!(report("X", "H", Ok(())), ExitCode::SUCCESS);
}

/// A server's command line: loopback and the listing's port by default; --bind and a port change
/// them; a bad address or port is a usage error.
#[test]
fn server_addresses() {
    let parsed = |list: &[&str]| server_address(args(list).unwrap(), Transport::Tcp);
    assert_eq!(
        parsed(&[]).unwrap(),
        "127.0.0.1:51423".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(
        parsed(&["--bind", "::1", "0"]).unwrap(),
        "[::1]:0".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(parsed(&["8080"]).unwrap().port(), 8080);
    assert!(
        matches!(parsed(&["--bind", "localhost"]), Err(Exit::Usage(m)) if m.contains("'localhost'"))
    );
    assert!(matches!(parsed(&["70000"]), Err(Exit::Usage(_))));
    assert!(matches!(parsed(&["1", "2"]), Err(Exit::Usage(_))));
}

/// An error line is shown at once, then counted while it repeats, and shown again with its count
/// once per interval; a line quiet for an interval is forgotten, and shown plain next time.
#[test]
fn repeated_errors_are_counted_per_interval() {
    use log::Repeats;
    let line = "error: accept failed: Too many open files (os error 24)";
    let t0 = std::time::Instant::now();
    let at = |secs: f64| t0 + Duration::from_secs_f64(secs);
    let mut repeats = Repeats::default();
    assert_eq!(repeats.note(line, at(0.0)).as_deref(), Some(line));
    for i in 1..=56 {
        assert_eq!(
            repeats.note(line, at(f64::from(i) * 0.1)),
            None,
            "repeat {i}"
        );
    }
    assert_eq!(repeats.due(at(9.9)), Vec::<String>::new());
    // Another error meanwhile is its own line, shown at once.
    let other = "error: a client left before we could name it: Transport endpoint is not connected";
    assert_eq!(repeats.note(other, at(5.0)).as_deref(), Some(other));
    assert_eq!(
        repeats.due(at(10.0)),
        [format!("{line} (×56 in the last 10 s)")]
    );
    // Still repeating: counted again, and the line that comes after the interval shows the count.
    assert_eq!(repeats.note(line, at(12.0)), None);
    assert_eq!(
        repeats.note(line, at(20.0)),
        Some(format!("{line} (×2 in the last 10 s)"))
    );
    // Quiet for an interval: forgotten (the other line, never repeated, too), then plain again.
    assert_eq!(repeats.due(at(31.0)), Vec::<String>::new());
    assert_eq!(repeats.note(line, at(31.0)).as_deref(), Some(line));
    assert_eq!(repeats.note(other, at(31.0)).as_deref(), Some(other));
}

/// A writer that takes nothing until told to, then collects what it is given.
struct Held {
    open: std::sync::mpsc::Receiver<()>,
    got: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    waited: bool,
}

impl io::Write for Held {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if !self.waited {
            let _ = self.open.recv();
            self.waited = true;
        }
        self.got.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// While stdout takes nothing, logging never waits: the queue fills, then lines are dropped and
/// counted, and once stdout takes bytes again every line is there or counted at the gap.
#[test]
fn a_stuck_log_drops_and_counts_lines_without_waiting() {
    let (open, opened) = std::sync::mpsc::channel();
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let out = Held {
        open: opened,
        got: std::sync::Arc::clone(&got),
        waited: false,
    };
    let mut log = ServerLog::with(out, io::sink()).unwrap();
    let lines = 20_000;
    for i in 0..lines {
        log.line(format_args!("Got connection from ('127.0.0.1', {i})"));
    }
    open.send(()).unwrap();
    drop(log); // waits for the writers to finish
    let text = String::from_utf8(got.lock().unwrap().clone()).unwrap();
    let (mut logged, mut dropped, mut next) = (0, 0, 0);
    for line in text.lines() {
        if let Some(n) = line
            .strip_prefix('(')
            .and_then(|l| l.strip_suffix(" log lines dropped: stdout was not being read)"))
        {
            let n: usize = n.parse().unwrap();
            dropped += n;
            next += n;
        } else {
            assert_eq!(line, format!("Got connection from ('127.0.0.1', {next})"));
            logged += 1;
            next += 1;
        }
    }
    assert_eq!(logged + dropped, lines, "{text}");
    assert!(
        dropped > 0 && logged > 0,
        "logged {logged}, dropped {dropped}"
    );
}

/// A log that cannot be written is said once on stderr; later lines are thrown away quietly.
#[test]
fn a_broken_log_is_said_once() {
    struct Full;
    impl io::Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from_raw_os_error(28))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let err = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (_open, opened) = std::sync::mpsc::channel();
    drop(_open);
    let collect = Held {
        open: opened,
        got: std::sync::Arc::clone(&err),
        waited: false,
    };
    let mut log = ServerLog::with(Full, collect).unwrap();
    log.line(format_args!("one"));
    // The writer gives up on its own thread: wait (bounded) for it to say so.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while err.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    for i in 0..100 {
        log.line(format_args!("line {i}"));
    }
    drop(log);
    let said = String::from_utf8(err.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(lines.len(), 1, "{said}");
    assert!(
        lines[0].starts_with("error: cannot write the log: No space left on device"),
        "{said}"
    );
    assert!(lines[0].ends_with("; serving on without it"), "{said}");
}

/// A line longer than the queue is cut with a mark, not counted as dropped for an unread stdout,
/// and the lines after it are still written.
#[test]
fn a_line_longer_than_the_queue_is_cut_and_later_lines_still_come() {
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (open, opened) = std::sync::mpsc::channel();
    open.send(()).unwrap();
    let out = Held {
        open: opened,
        got: std::sync::Arc::clone(&got),
        waited: false,
    };
    let mut log = ServerLog::with(out, io::sink()).unwrap();
    log.line(format_args!("before"));
    // The writer asleep, waiting for lines, when the long line comes.
    std::thread::sleep(Duration::from_millis(50));
    let long = "é".repeat(50_000); // 100,000 bytes: more than the whole queue
    log.line(format_args!("{long}"));
    // Let the writer go to sleep again before the next lines.
    std::thread::sleep(Duration::from_millis(50));
    for i in 0..3 {
        log.line(format_args!("after {i}"));
    }
    // The lines are written while the log lives, not only when it is dropped.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !String::from_utf8_lossy(&got.lock().unwrap()).contains("after 2")
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    let text = String::from_utf8(got.lock().unwrap().clone()).unwrap();
    drop(log);
    let lines: Vec<&str> = text.lines().collect();
    let short: Vec<String> = lines.iter().map(|l| l.chars().take(40).collect()).collect();
    assert_eq!(lines.len(), 5, "{short:?}");
    assert_eq!(lines[0], "before");
    assert!(lines[1].starts_with("éé"), "{short:?}");
    assert!(lines[1].len() <= log::LINE_LIMIT, "{}", lines[1].len());
    let kept = lines[1].find('…').unwrap();
    assert_eq!(
        &lines[1][kept..],
        format!("… (line cut: {} bytes more)", 100_000 - kept)
    );
    assert_eq!(lines[2..], ["after 0", "after 1", "after 2"]);
    assert!(!text.contains("not being read"), "{text}");
}
