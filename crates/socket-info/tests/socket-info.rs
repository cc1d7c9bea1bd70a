//! Runs the real `socket-info` against loopback listeners: one the test owns, and `tcp-listener`.
// A panic in a test is a failed test with its message: unwrap is the right tool here.
#![allow(clippy::unwrap_used)]

use lesson_common::py_addr;
use std::net::{SocketAddr, TcpListener};
use std::thread;
use std::time::Duration;
use test_support::{Finished, run, start_partner};

const BIN: &str = env!("CARGO_BIN_EXE_socket-info");
const LIMIT: Duration = Duration::from_secs(15);

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
    let done = run(BIN, &["127.0.0.1", &addr.port().to_string()], b"", LIMIT);
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
        eprintln!("skipped: this machine has no IPv6 loopback");
        return;
    }
    let (addr, peer) = listener("::1");
    let done = run(BIN, &["::1", &addr.port().to_string()], b"", LIMIT);
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
    let Some(mut server) = start_partner(BIN, "tcp-listener", &["0"]) else {
        return;
    };
    let addr = server.listening_addr();
    assert_eq!(server.line(), "Waiting for connections...");
    let done = run(BIN, &["127.0.0.1", &addr.port().to_string()], b"", LIMIT);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let out = lines(&done);
    let from = out[3].strip_prefix("Connected from ").unwrap();
    assert_eq!(server.line(), format!("Got connection from {from}"));
    assert_eq!(out[4], format!("Connected to {}", py_addr(addr)));
}

/// Failures print the finished progress line on stdout, then exactly one error line and exit 1.
#[test]
fn failures_are_one_line_and_exit_1() {
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    for (args, stdout_lines, words) in [
        (["127.0.0.1", closed.as_str()], 3, "Connection refused"),
        (
            ["127.0.0.1", "no-such-service"],
            2,
            "unknown tcp service 'no-such-service'",
        ),
        (["127.0.0.1", "65536"], 2, "'65536'"),
        // A name the resolver rejects by itself (an unknown IPv6 scope): no DNS query leaves the box.
        (
            ["::1%no-such-interface", "80"],
            3,
            "cannot resolve '::1%no-such-interface'",
        ),
    ] {
        let done = run(BIN, &args, b"", LIMIT);
        assert_eq!(done.code, Some(1), "{args:?}");
        assert_eq!(
            done.stderr.lines().count(),
            1,
            "{args:?}: {:?}",
            done.stderr
        );
        assert!(
            done.stderr.starts_with("error: ") && done.stderr.contains(words),
            "{:?}",
            done.stderr
        );
        assert_eq!(lines(&done).len(), stdout_lines, "{args:?}");
        assert!(
            done.stdout_text().ends_with("...\n"),
            "the open progress line is ended"
        );
    }
}

/// Too many arguments is a usage error (exit 2); `--help` prints the usage and exits 0.
#[test]
fn usage() {
    let done = run(BIN, &["a", "b", "c"], b"", LIMIT);
    assert_eq!(done.code, Some(2));
    assert!(
        done.stderr
            .contains("usage: socket-info [HOST [PORT|SERVICE]]")
    );
    assert_eq!(done.stdout, b"");
    let help = run(BIN, &["--help"], b"", LIMIT);
    assert_eq!(help.code, Some(0));
    assert!(help.stdout_text().starts_with("usage: socket-info"));
}
