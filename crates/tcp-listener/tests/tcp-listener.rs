//! Runs the real `tcp-listener` on an ephemeral loopback port and talks to it as clients do.
// A panic in a test is a failed test with its message: unwrap is the right tool here.
#![allow(clippy::unwrap_used)]

use lesson_common::py_addr;
use socket2::{Domain, Socket, Type};
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use test_support::{Running, run};

const BIN: &str = env!("CARGO_BIN_EXE_tcp-listener");

fn start(args: &[&str]) -> (Running, SocketAddr) {
    let mut server = Running::start(BIN, args);
    let addr = server.listening_addr();
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

/// A closed stdout is one line per connection on stderr, not the end of the server.
#[test]
fn keeps_serving_when_stdout_is_closed() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(BIN)
        .arg("0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    stdout.read_line(&mut banner).unwrap();
    let addr = test_support::parse_py_addr(banner.trim().strip_prefix("Listening on ").unwrap());
    drop(stdout); // the reader goes away, like `tcp-listener | head -1`
    for _ in 0..3 {
        connect_and_expect_eof(addr); // served (closed on us) all the same
    }
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(
        line.starts_with("error: cannot write the log: "),
        "{line:?}"
    );
    assert!(
        child.try_wait().unwrap().is_none(),
        "the server must still be running"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

/// `--bind ::1` serves IPv6 and prints Python's four-part IPv6 address tuples.
#[test]
fn serves_ipv6_when_asked() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipped: this machine has no IPv6 loopback");
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
    let second = run(
        BIN,
        &[&addr.port().to_string()],
        b"",
        Duration::from_secs(10),
    );
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

/// Bad command lines: usage errors exit 2, bad ports exit 1, `--help` exits 0; never a panic.
#[test]
fn bad_arguments() {
    for (args, code, words) in [
        (&["--bind", "localhost"][..], 2, "not an IP address"),
        (&["--bind"][..], 2, "--bind needs a value"),
        (&["--port", "1"][..], 2, "unknown option"),
        (&["1", "2"][..], 2, "too many arguments"),
        (&["65536"][..], 1, "'65536'"),
        (
            &["no-such-service"][..],
            1,
            "unknown tcp service 'no-such-service'",
        ),
    ] {
        let done = run(BIN, args, b"", Duration::from_secs(10));
        assert_eq!(done.code, Some(code), "{args:?}: {}", done.stderr);
        assert!(
            done.stderr.starts_with("error: ") && done.stderr.contains(words),
            "{args:?}: {}",
            done.stderr
        );
        assert!(!done.stderr.contains("panicked"));
    }
    let help = run(BIN, &["--help"], b"", Duration::from_secs(10));
    assert_eq!(help.code, Some(0));
    assert!(help.stdout_text().starts_with("usage: tcp-listener"));
}
