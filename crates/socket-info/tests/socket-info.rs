//! Runs the real `socket-info` against loopback listeners: one the test owns, and `tcp-listener`.
// A panic in a test is a failed test with its message: unwrap is the right tool here.
#![allow(clippy::unwrap_used)]

use lesson_common::py_addr;
use std::net::{SocketAddr, TcpListener};
use std::thread;
use test_support::{Cmd, Finished, cmd, partner};

const BIN: &str = env!("CARGO_BIN_EXE_socket-info");

fn lines(done: &Finished) -> Vec<String> {
    done.stdout_text().lines().map(String::from).collect()
}

/// Accept one connection in the background and hand back the peer address the listener saw.
fn listener(host: &str) -> (SocketAddr, thread::JoinHandle<SocketAddr>) {
    let listener = TcpListener::bind((host, 0)).unwrap();
    let addr = listener.local_addr().unwrap();
    (addr, thread::spawn(move || listener.accept().unwrap().1))
}

/// The listing's five lines, with the addresses the other end saw.
#[test]
fn prints_both_ends_of_the_connection() {
    let (addr, peer) = listener("127.0.0.1");
    let done = cmd(BIN).args(["127.0.0.1", &addr.port().to_string()]).run();
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let seen_by_listener = peer.join().unwrap();
    assert_eq!(
        lines(&done),
        [
            "Creating socket... done.".to_string(),
            "Looking up port number... done.".to_string(),
            format!("Connecting to remote host on port {}... done.", addr.port()),
            format!("Connected from {}", py_addr(seen_by_listener)),
            format!("Connected to {}", py_addr(addr)),
        ]
    );
    assert_eq!(done.stderr, "");
}

/// An IPv6 literal gets an IPv6 socket and Python's four-part address tuples.
#[test]
fn works_over_ipv6() {
    if TcpListener::bind("[::1]:0").is_err() {
        test_support::skip("this machine has no IPv6 loopback");
        return;
    }
    let (addr, peer) = listener("::1");
    let done = cmd(BIN).args(["::1", &addr.port().to_string()]).run();
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let out = lines(&done);
    assert_eq!(
        out[3],
        format!("Connected from {}", py_addr(peer.join().unwrap()))
    );
    assert_eq!(
        out[4],
        format!("Connected to ('::1', {}, 0, 0)", addr.port())
    );
}

/// The lesson pair: the address socket-info connects from is the one tcp-listener logs.
#[test]
fn pairs_with_tcp_listener() {
    let Some(mut server) = partner("tcp-listener").map(|p| p.args(["0"]).start()) else {
        return;
    };
    let addr = server.listening_addr();
    assert_eq!(server.line(), "Waiting for connections...");
    let done = cmd(BIN).args(["127.0.0.1", &addr.port().to_string()]).run();
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let out = lines(&done);
    let from = out[3].strip_prefix("Connected from ").unwrap();
    assert_eq!(server.line(), format!("Got connection from {from}"));
    assert_eq!(out[4], format!("Connected to {}", py_addr(addr)));
}

/// Failures print the finished progress line on stdout, then exactly one error line: exit 1 for
/// a run-time failure, 2 for a port that is not a number from 0 to 65535.
#[test]
fn failures_are_one_line() {
    let closed = closed_port();
    for (args, stdout_lines, code, words) in [
        (["127.0.0.1", closed.as_str()], 3, 1, "Connection refused"),
        (
            ["127.0.0.1", "no-such-service"],
            2,
            1,
            "unknown tcp service 'no-such-service'",
        ),
        (["127.0.0.1", "65536"], 2, 2, "'65536'"),
        // A name the resolver rejects by itself (an unknown IPv6 scope): no DNS query leaves the box.
        (
            ["::1%no-such-interface", "80"],
            3,
            1,
            "cannot resolve '::1%no-such-interface': [Errno -2] ",
        ),
    ] {
        let done = cmd(BIN).args(args).assert_exit(code);
        assert!(done.stderr.contains(words), "{:?}", done.stderr);
        assert_eq!(lines(&done).len(), stdout_lines, "{args:?}");
        assert!(
            done.stdout_text().ends_with("...\n"),
            "the open progress line is ended"
        );
    }
}

/// A port on 127.0.0.1 where nothing listens (bound, then closed again).
fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port().to_string()
}

/// Hostile command lines and outputs: each ends with the course's error contract and the words
/// that name the problem — never a panic, never a hang. (Names longer than DNS allows fail inside
/// the resolver: no query leaves the machine.)
#[test]
fn hostile_input_table() {
    // stdout fails at the first progress line, before any connect: no peer is needed.
    let closed = closed_port();
    let port = closed.clone();
    let long = "a".repeat(100_000);
    let name300 = "b".repeat(300);
    let (not_utf8, quoted) = test_support::not_unicode_arg();
    let mut rows: Vec<(Cmd, i32, String)> = vec![
        (
            cmd(BIN).args(["127.0.0.1", "abc"]),
            1,
            "unknown tcp service 'abc'".into(),
        ),
        (
            cmd(BIN).args(["127.0.0.1", "-1"]),
            2,
            "port '-1' is not a number".into(),
        ),
        (
            cmd(BIN).args(["127.0.0.1", "65536"]),
            2,
            "port '65536'".into(),
        ),
        (
            cmd(BIN).args(["127.0.0.1", "12345678901234567890"]),
            2,
            "port '1234".into(),
        ),
        (cmd(BIN).args(["127.0.0.1", "+"]), 2, "port '+'".into()),
        (cmd(BIN).args(["127.0.0.1", ""]), 2, "port ''".into()),
        (cmd(BIN).args(["127.0.0.1", "8 0"]), 2, "port '8 0'".into()),
        (
            cmd(BIN).arg(&not_utf8),
            2,
            format!("{quoted} is not valid UTF-8"),
        ),
        (
            cmd(BIN).args([long.as_str(), "80"]),
            1,
            "cannot resolve 'aaaa".into(),
        ),
        (
            cmd(BIN).args([name300.as_str(), "80"]),
            1,
            "cannot resolve 'bbbb".into(),
        ),
        (
            cmd(BIN).args(["::1%nosuchif", "80"]),
            1,
            "cannot resolve '::1%nosuchif'".into(),
        ),
        (
            cmd(BIN).args(["127.0.0.1", &closed]),
            1,
            format!("cannot connect to ('127.0.0.1', {closed})"),
        ),
        (
            cmd(BIN).args(["a", "b", "c"]),
            2,
            "too many arguments".into(),
        ),
        (
            cmd(BIN).args(["--port", "80"]),
            2,
            "unknown option '--port'".into(),
        ),
        (
            cmd(BIN).args(["127.0.0.1", &port]).stdout_closed(),
            1,
            "Broken pipe".into(),
        ),
    ];
    if test_support::HAS_DEV_FULL {
        rows.push((
            cmd(BIN).arg("--help").stdout_full(),
            1,
            "cannot write the help: No space left".into(),
        ));
        rows.push((
            cmd(BIN).args(["127.0.0.1", &port]).stdout_full(),
            1,
            "No space left on device".into(),
        ));
    }
    assert!(rows.len() >= 15, "{} rows", rows.len());
    for (run, code, words) in rows {
        run.assert_error(code, &words);
    }
    // A reader that left on purpose (`--help | head -0`) is not an error.
    let help = cmd(BIN).arg("--help").stdout_closed().run();
    assert_eq!((help.code, help.stderr.as_str()), (Some(0), ""));
}

/// Too many arguments is a usage error (exit 2); `--help` prints the usage and exits 0.
#[test]
fn usage() {
    let done = cmd(BIN).args(["a", "b", "c"]).run();
    assert_eq!(done.code, Some(2));
    assert!(
        done.stderr
            .contains("usage: socket-info [HOST [PORT|SERVICE]]")
    );
    assert_eq!(done.stdout, b"");
    let help = cmd(BIN).args(["--help"]).run();
    assert_eq!(help.code, Some(0));
    assert!(help.stdout_text().starts_with("usage: socket-info"));
}
