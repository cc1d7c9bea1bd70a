//! Runs the real `tcp-listener` on an ephemeral loopback port and talks to it as clients do.
// A panic in a test is a failed test with its message: unwrap is the right tool here.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use lesson_common::py_addr;
use socket2::{Domain, Socket, Type};
use test_support::{Cmd, Running, cmd};

const BIN: &str = env!("CARGO_BIN_EXE_tcp-listener");

fn start(args: &[&str]) -> (Running, SocketAddr) {
    let (mut server, addr) = cmd(BIN).args(args).serve();
    assert_eq!(server.line(), "Waiting for connections...");
    (server, addr)
}

/// Connect, expect the server to close on us (EOF), and return our own address.
fn connect_and_expect_eof(addr: SocketAddr) -> SocketAddr {
    let mut client = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(
        client.read(&mut buf).unwrap(),
        0,
        "the server should close the connection"
    );
    client.local_addr().unwrap()
}

/// Each client sees EOF, and the server logs each peer exactly as the client sees its own address.
#[test]
fn logs_every_client_and_closes_it() {
    let (mut server, addr) = start(&["0"]);
    assert_eq!(
        addr.ip().to_string(),
        "127.0.0.1",
        "loopback is the default bind address"
    );
    assert_ne!(addr.port(), 0);
    for _ in 0..5 {
        let ours = connect_and_expect_eof(addr);
        assert_eq!(
            server.line(),
            format!("Got connection from {}", py_addr(ours))
        );
    }
    assert!(server.is_running());
}

/// A client that resets its connection before being served does not stop the accept loop.
#[test]
fn survives_a_client_that_resets() {
    let (mut server, addr) = start(&["0"]);
    for _ in 0..3 {
        let rude = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        rude.connect(&addr.into()).unwrap();
        rude.set_linger(Some(Duration::ZERO)).unwrap(); // close() now sends RST, not FIN
        drop(rude);
    }
    // Whatever the server logged about the rude clients, a polite one is still served.
    let ours = connect_and_expect_eof(addr);
    let wanted = format!("Got connection from {}", py_addr(ours));
    let mut seen = Vec::new();
    while seen.len() < 4 {
        let line = server.line();
        if line == wanted {
            assert!(server.is_running());
            return;
        }
        seen.push(line);
    }
    panic!("never logged {wanted:?}; saw {seen:?}");
}

/// A log that cannot be written (`tcp-listener | head -1`) is said once on stderr; the server
/// serves on.
#[test]
fn keeps_serving_when_stdout_is_closed() {
    let mut server = cmd(BIN).arg("0").start_head_1();
    let addr = server.listening_addr();
    for _ in 0..3 {
        connect_and_expect_eof(addr); // served (closed on us) all the same
    }
    assert!(server.is_running(), "the server must still be running");
    let said = server.err_line();
    assert!(
        said.starts_with("error: cannot write the log: Broken pipe"),
        "{said:?}"
    );
    assert!(said.ends_with("; serving on without it"), "{said:?}");
    for _ in 0..3 {
        connect_and_expect_eof(addr);
    }
    let stderr = server.stop_and_collect_stderr();
    assert!(
        stderr.is_empty(),
        "one line, not one per client: {stderr:?}"
    );
}

/// A log nobody reads (stdout a pipe that is never read, as behind a paused `| less` or Ctrl-S)
/// never stops the server: every client is still served, and once the log is read again it
/// accounts for every client, logged or counted in a `(N log lines dropped …)` line.
#[test]
fn a_log_nobody_reads_never_stops_serving() {
    // Far more log than a pipe (64 KiB on Linux) and the server's own queue can hold.
    const CLIENTS: usize = 8000;
    let mut server = cmd(BIN).arg("0").start_paused(1);
    let addr = server.listening_addr();
    for _ in 0..CLIENTS {
        connect_and_expect_eof(addr); // served (closed on us), log or no log
    }
    assert!(server.is_running(), "the server must still be running");
    server.resume_reading();
    assert_eq!(server.line(), "Waiting for connections...");
    let (mut logged, mut dropped) = (0, 0);
    while logged + dropped < CLIENTS {
        let line = server.line();
        if line.starts_with("Got connection from ('127.0.0.1', ") {
            logged += 1;
        } else {
            dropped += dropped_count(&line);
        }
    }
    assert_eq!(logged + dropped, CLIENTS, "every client logged or counted");
    assert!(
        dropped > 0,
        "{CLIENTS} lines all fitted in the pipe: nothing was tested"
    );
}

/// The N of a `(N log lines dropped: stdout was not being read)` line; the test fails on any
/// other line.
#[track_caller]
fn dropped_count(line: &str) -> usize {
    line.strip_prefix('(')
        .and_then(|l| l.strip_suffix(" log lines dropped: stdout was not being read)"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("neither a client nor a count of dropped lines: {line:?}"))
}

/// Out of file descriptors (`ulimit -n 4`: stdin, stdout, stderr and the listening socket),
/// `accept` fails for as long as a client waits in the backlog: the error is said once, and then
/// at most once per 10 s with a count, not ten times a second.
#[cfg(unix)]
#[test]
fn a_lasting_accept_failure_is_said_once_then_counted() {
    let (mut server, addr) = cmd(BIN).arg("0").fd_limit(4).serve();
    let _waiting = TcpStream::connect(addr).unwrap(); // handshake done by the kernel, never accepted
    let error = "error: accept failed: Too many open files (os error 24)";
    assert_eq!(server.err_line(), error);
    let next = server.err_line();
    let count = next
        .strip_prefix(error)
        .and_then(|rest| rest.strip_prefix(" (×"))
        .and_then(|rest| rest.strip_suffix(" in the last 10 s)"))
        .and_then(|n| n.parse::<u32>().ok());
    assert!(
        count.is_some_and(|n| n >= 1),
        "wanted the error again with its count, got {next:?}"
    );
    assert!(server.is_running());
}

/// `--bind ::1` serves IPv6 and prints Python's four-part IPv6 address tuples.
#[test]
fn serves_ipv6_when_asked() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        test_support::skip("this machine has no IPv6 loopback");
        return;
    }
    let (mut server, addr) = start(&["--bind", "::1", "0"]);
    assert!(addr.is_ipv6());
    let ours = connect_and_expect_eof(addr);
    assert!(py_addr(ours).to_string().ends_with(", 0, 0)"));
    assert_eq!(
        server.line(),
        format!("Got connection from {}", py_addr(ours))
    );
}

/// A second server on a port in use fails with one line and exit 1, and the first keeps serving.
#[test]
fn port_in_use_is_one_line_and_exit_1() {
    let (mut first, addr) = start(&["0"]);
    let second = cmd(BIN)
        .args([&addr.port().to_string()])
        .limit(Duration::from_secs(10))
        .run();
    assert_eq!(second.code, Some(1));
    assert_eq!(second.stderr.lines().count(), 1, "{:?}", second.stderr);
    assert!(
        second.stderr.contains("Address already in use"),
        "{:?}",
        second.stderr
    );
    let ours = connect_and_expect_eof(addr);
    assert_eq!(
        first.line(),
        format!("Got connection from {}", py_addr(ours))
    );
}

/// Hostile command lines: each ends with the course's error contract and the words that name the
/// problem, and a server already running on the same machine is not disturbed by any of them.
#[test]
fn hostile_input_table() {
    let (mut first, addr) = start(&["0"]);
    let in_use = addr.port().to_string();
    let (not_utf8, quoted) = test_support::not_unicode_arg();
    let not_utf8_words = format!("{quoted} is not valid UTF-8");
    let mut rows: Vec<(Cmd, i32, &str)> = vec![
        (
            cmd(BIN).args(["--bind", "localhost"]),
            2,
            "--bind 'localhost' is not an IP address",
        ),
        (
            cmd(BIN).args(["--bind", ""]),
            2,
            "--bind '' is not an IP address",
        ),
        (
            cmd(BIN).args(["--bind", "999.1.1.1"]),
            2,
            "--bind '999.1.1.1'",
        ),
        (cmd(BIN).args(["--bind", "::1%lo"]), 2, "--bind '::1%lo'"),
        (cmd(BIN).arg("--bind"), 2, "--bind needs a value"),
        (cmd(BIN).args(["--port", "1"]), 2, "unknown option '--port'"),
        (cmd(BIN).args(["1", "2"]), 2, "too many arguments"),
        (
            cmd(BIN).arg("65536"),
            2,
            "port '65536' is not a number from 0 to 65535",
        ),
        (cmd(BIN).arg("-1"), 2, "port '-1'"),
        (cmd(BIN).arg("12345678901234567890"), 2, "port '1234"),
        (cmd(BIN).arg(""), 2, "port ''"),
        (cmd(BIN).arg(&not_utf8), 2, &not_utf8_words),
        (
            cmd(BIN).arg("no-such-service"),
            1,
            "unknown tcp service 'no-such-service'",
        ),
        // TEST-NET-1 is no address of this machine: bind fails, the error says which.
        (
            cmd(BIN).args(["--bind", "192.0.2.1", "0"]),
            1,
            "cannot bind ('192.0.2.1', 0): ",
        ),
        (cmd(BIN).arg(&in_use), 1, "cannot bind ('127.0.0.1', "),
    ];
    if test_support::HAS_DEV_FULL {
        rows.push((
            cmd(BIN).arg("--help").stdout_full(),
            1,
            "cannot write the help: No space left",
        ));
    }
    assert!(rows.len() >= 15, "{} rows", rows.len());
    for (run, code, words) in rows {
        run.assert_error(code, words);
        let ours = connect_and_expect_eof(addr);
        assert_eq!(
            first.line(),
            format!("Got connection from {}", py_addr(ours))
        );
    }
    let help = cmd(BIN).arg("--help").run();
    assert_eq!(help.code, Some(0));
    assert!(
        help.stdout_text()
            .starts_with("usage: tcp-listener [--bind ADDR] [PORT|SERVICE]\n\n")
    );
    // A reader that left on purpose (`--help | head -0`) is not an error.
    let help = cmd(BIN).arg("--help").stdout_closed().run();
    assert_eq!((help.code, help.stderr.as_str()), (Some(0), ""));
}

/// Clients that misbehave — hold the connection open, send garbage, half-close, reset — are each
/// served and closed, and the next well-behaved client is served too.
#[test]
fn survives_hostile_clients() {
    let (mut server, addr) = start(&["0"]);
    let hold = TcpStream::connect(addr).unwrap(); // connects and says nothing
    let mut garbage = TcpStream::connect(addr).unwrap();
    garbage.write_all(&[0xff; 4096]).unwrap();
    let half = TcpStream::connect(addr).unwrap();
    half.shutdown(std::net::Shutdown::Write).unwrap();
    for _ in 0..3 {
        let logged = server.line();
        assert!(
            logged.starts_with("Got connection from ('127.0.0.1', "),
            "{logged}"
        );
    }
    drop((hold, garbage, half));
    let ours = connect_and_expect_eof(addr);
    assert_eq!(
        server.line(),
        format!("Got connection from {}", py_addr(ours))
    );
    assert!(server.is_running());
}
