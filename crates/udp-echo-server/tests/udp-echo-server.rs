//! Runs the real `udp-echo-server` on an ephemeral loopback port and sends it raw datagrams.
// A panic in a test is a failed test with its message: unwrap is the right tool here.
#![allow(clippy::unwrap_used)]

use lesson_common::py_addr;
use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;
use test_support::{Cmd, Running, cmd, recv_from};

const BIN: &str = env!("CARGO_BIN_EXE_udp-echo-server");

fn start(args: &[&str]) -> (Running, SocketAddr) {
    cmd(BIN).args(args).serve()
}

/// A client socket on an ephemeral loopback port whose reads give up after a while.
fn client(ip: &str) -> UdpSocket {
    let socket = UdpSocket::bind((ip, 0)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    socket
}

/// Send `payload` and return the echo, checking that it came from the server.
fn echo(socket: &UdpSocket, server: SocketAddr, payload: &[u8]) -> Vec<u8> {
    socket.send_to(payload, server).unwrap();
    let mut buf = vec![0u8; 70_000];
    let (n, from) = recv_from(socket, &mut buf).unwrap();
    assert_eq!(from, server, "the echo must come from the server's address");
    buf.truncate(n);
    buf
}

/// Bytes that differ from position to position, so a wrong slice cannot pass for the right one.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Datagrams of 0, 1, 100 and 8192 bytes come back byte for byte; each log line names the client.
#[test]
fn echoes_payloads_and_logs_the_sender() {
    let (mut server, addr) = start(&["0"]);
    assert_eq!(
        addr.ip().to_string(),
        "127.0.0.1",
        "loopback is the default bind address"
    );
    assert_ne!(addr.port(), 0);
    let socket = client("127.0.0.1");
    let from = py_addr(socket.local_addr().unwrap());
    for len in [0, 1, 100, 8192] {
        let payload = pattern(len);
        assert_eq!(echo(&socket, addr, &payload), payload, "{len}-byte echo");
        assert_eq!(server.line(), format!("Got data from {from}"));
    }
}

/// Past 8192 bytes (8193, and the IPv4 maximum 65507) the echo is the first 8192 bytes and the log
/// line gives the size that really arrived.
#[test]
fn truncates_large_datagrams_to_8192_bytes_and_says_so() {
    let (mut server, addr) = start(&["0"]);
    let socket = client("127.0.0.1");
    let from = py_addr(socket.local_addr().unwrap());
    for len in [8193, 65507] {
        let payload = pattern(len);
        assert_eq!(
            echo(&socket, addr, &payload),
            payload[..8192],
            "{len}-byte datagram"
        );
        let wanted =
            format!("Got data from {from} (truncated: {len} bytes, echoing the first 8192)");
        assert_eq!(server.line(), wanted);
    }
}

/// 10,000 datagrams sent with 32 in flight are all answered, in order, and all logged.
#[test]
fn answers_a_burst_of_10000_datagrams() {
    const TOTAL: u32 = 10_000;
    const WINDOW: u32 = 32;
    let (mut server, addr) = start(&["0"]);
    let socket = client("127.0.0.1");
    socket.connect(addr).unwrap();
    let (mut sent, mut received) = (0u32, 0u32);
    let mut buf = [0u8; 64];
    while received < TOTAL {
        while sent < TOTAL && sent - received < WINDOW {
            socket.send(&sent.to_be_bytes()).unwrap();
            sent += 1;
        }
        // A lost echo fails here after 5 s rather than hanging.
        let (n, _) = recv_from(&socket, &mut buf)
            .unwrap_or_else(|e| panic!("echo {received} (sent {sent}): {e}"));
        assert_eq!(buf[..n], received.to_be_bytes(), "echo number {received}");
        received += 1;
    }
    let from = format!("Got data from {}", py_addr(socket.local_addr().unwrap()));
    for i in 0..TOTAL {
        assert_eq!(server.line(), from, "log line {i}");
    }
    assert!(server.is_running());
}

/// A client that closes its socket before the echo arrives does not disturb the next client.
#[test]
fn keeps_serving_after_a_client_vanishes() {
    let (mut server, addr) = start(&["0"]);
    for _ in 0..3 {
        let gone = client("127.0.0.1");
        gone.send_to(b"nobody will read this", addr).unwrap();
        drop(gone); // the echo meets a closed port: ICMP port unreachable comes back to the server
    }
    let socket = client("127.0.0.1");
    assert_eq!(echo(&socket, addr, b"still there?"), b"still there?");
    let wanted = format!("Got data from {}", py_addr(socket.local_addr().unwrap()));
    let seen: Vec<String> = (0..4).map(|_| server.line()).collect();
    assert!(
        seen.iter().all(|l| l.starts_with("Got data from ")),
        "{seen:?}"
    );
    assert_eq!(seen[3], wanted);
    assert!(server.is_running());
}

/// A datagram from a source port below 1024 is logged as not echoed and gets no reply.
#[test]
fn does_not_answer_a_privileged_source_port() {
    // Binding below 1024 needs root (or CAP_NET_BIND_SERVICE); try a few unlikely ports.
    let Some(privileged) = [1013, 1019, 1021, 1009, 1017]
        .into_iter()
        .find_map(|port| UdpSocket::bind(("127.0.0.1", port)).ok())
    else {
        test_support::skip("cannot bind a UDP port below 1024 on 127.0.0.1 here (not root?)");
        return;
    };
    let (mut server, addr) = start(&["0"]);
    privileged
        .send_to(b"are you an echo service too?", addr)
        .unwrap();
    // The server handles datagrams in order: once a later client has its echo, the first datagram
    // has been dealt with, so an empty queue now means no reply was sent, not "not yet".
    let later = client("127.0.0.1");
    assert_eq!(echo(&later, addr, b"after"), b"after");
    privileged.set_nonblocking(true).unwrap();
    let got = privileged.recv_from(&mut [0u8; 64]).map_err(|e| e.kind());
    assert_eq!(
        got,
        Err(ErrorKind::WouldBlock),
        "a privileged port must not be answered"
    );
    let from = py_addr(privileged.local_addr().unwrap());
    assert_eq!(
        server.line(),
        format!("Got data from {from} (not echoed: source port below 1024)")
    );
    assert_eq!(
        server.line(),
        format!("Got data from {}", py_addr(later.local_addr().unwrap()))
    );
}

/// `--bind ::1` serves IPv6 and prints addresses as Python does for AF_INET6 (four fields).
#[test]
fn serves_ipv6_with_python_notation() {
    if UdpSocket::bind("[::1]:0").is_err() {
        test_support::skip("no IPv6 loopback (::1) on this machine");
        return;
    }
    let (mut server, addr) = start(&["--bind", "::1", "0"]);
    assert_eq!(
        py_addr(addr).to_string(),
        format!("('::1', {}, 0, 0)", addr.port())
    );
    let socket = client("::1");
    assert_eq!(echo(&socket, addr, b"six"), b"six");
    let port = socket.local_addr().unwrap().port();
    assert_eq!(
        server.line(),
        format!("Got data from ('::1', {port}, 0, 0)")
    );
}

/// Without a port the server takes the listing's 51423.
#[test]
fn defaults_to_the_listings_port() {
    // Only if 51423 is free: a learner's server may be running there.
    if UdpSocket::bind("127.0.0.1:51423").is_err() {
        test_support::skip("127.0.0.1:51423 is in use");
        return;
    }
    let mut server = cmd(BIN).start();
    assert_eq!(server.line(), "Listening on ('127.0.0.1', 51423)");
}

/// A port that another socket holds (without SO_REUSEADDR) is a one-line error and exit 1.
#[test]
fn bind_failure_is_one_line_and_exit_1() {
    let holder = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port().to_string();
    let done = cmd(BIN).args([&port]).run();
    assert_eq!(done.code, Some(1));
    assert!(done.stdout.is_empty());
    let wanted = format!("error: cannot bind ('127.0.0.1', {port}): ");
    assert!(done.stderr.starts_with(&wanted), "{:?}", done.stderr);
    assert_eq!(done.stderr.lines().count(), 1, "{:?}", done.stderr);
}

/// Hostile command lines: each ends with the course's error contract and the words that name the
/// problem; a server already running is not disturbed by any of them.
#[test]
fn hostile_command_lines() {
    let (mut first, addr) = start(&["0"]);
    // (No "port in use" row: both servers set SO_REUSEADDR, and on Linux that lets a second UDP
    // socket bind the same port. bind_failure_is_one_line_and_exit_1 holds a port without it.)
    let socket = client("127.0.0.1");
    let from = format!("Got data from {}", py_addr(socket.local_addr().unwrap()));
    let (not_utf8, quoted) = test_support::not_unicode_arg();
    let not_utf8_words = format!("{quoted} is not valid UTF-8");
    let mut rows: Vec<(Cmd, i32, &str)> = vec![
        (
            cmd(BIN).args(["--bind", "localhost", "0"]),
            2,
            "--bind 'localhost' is not an IP address",
        ),
        (
            cmd(BIN).args(["--bind", "1.2.3", "0"]),
            2,
            "--bind '1.2.3' is not an IP address",
        ),
        (
            cmd(BIN).args(["--bind", "", "0"]),
            2,
            "--bind '' is not an IP address",
        ),
        (cmd(BIN).arg("--bind"), 2, "--bind needs a value"),
        (cmd(BIN).args(["1", "2"]), 2, "too many arguments"),
        (cmd(BIN).args(["--port", "5"]), 2, "unknown option '--port'"),
        (
            cmd(BIN).arg("99999"),
            2,
            "port '99999' is not a number from 0 to 65535",
        ),
        (cmd(BIN).arg("-1"), 2, "port '-1'"),
        (cmd(BIN).arg("12345678901234567890"), 2, "port '1234"),
        (cmd(BIN).arg(&not_utf8), 2, &not_utf8_words),
        (
            cmd(BIN).arg("no-such-service"),
            1,
            "unknown udp service 'no-such-service'",
        ),
        (
            cmd(BIN).args(["--bind", "192.0.2.1", "0"]),
            1,
            "cannot bind ('192.0.2.1', 0): ",
        ),
        (cmd(BIN).arg("+"), 2, "port '+'"),
        (cmd(BIN).arg(""), 2, "port ''"),
        (
            cmd(BIN).args(["--bind", "::1%nosuchif", "0"]),
            2,
            "--bind '::1%nosuchif'",
        ),
    ];
    if test_support::HAS_DEV_FULL {
        rows.push((
            cmd(BIN).arg("--help").stdout_full(),
            1,
            "cannot write the help: No space left",
        ));
    }
    let count = rows.len();
    for (run, code, words) in rows {
        run.assert_error(code, words);
        assert_eq!(echo(&socket, addr, b"still there?"), b"still there?");
        assert_eq!(first.line(), from);
    }
    assert!(count >= 15, "{count} rows");
    let help = cmd(BIN).arg("-h").run();
    let usage = "usage: udp-echo-server [--bind ADDR] [PORT|SERVICE]\n\n";
    assert!(
        help.stdout_text().starts_with(usage),
        "{}",
        help.stdout_text()
    );
}

/// Hostile datagrams — empty, the IPv4 maximum, binary, from a client that is gone before the
/// echo — are each handled, and a well-behaved client still gets its echo after each one.
#[test]
fn hostile_datagrams() {
    let (mut server, addr) = start(&["0"]);
    let good = client("127.0.0.1");
    let good_line = format!("Got data from {}", py_addr(good.local_addr().unwrap()));
    let rude = client("127.0.0.1");
    let rude_from = format!("Got data from {}", py_addr(rude.local_addr().unwrap()));
    let rows: Vec<(Vec<u8>, String)> = vec![
        (Vec::new(), rude_from.clone()),
        (
            pattern(65_507),
            format!("{rude_from} (truncated: 65507 bytes, echoing the first 8192)"),
        ),
        (vec![0u8; 8192], rude_from.clone()),
        (b"\xff\xfe\x00\r\n".to_vec(), rude_from.clone()),
    ];
    for (payload, logged) in &rows {
        rude.send_to(payload, addr).unwrap();
        assert_eq!(&server.line(), logged);
        assert_eq!(echo(&good, addr, b"after"), b"after");
        assert_eq!(server.line(), good_line);
    }
    // The rude client's echoes came back too, each cut at 8192 bytes at most.
    let mut buf = vec![0u8; 70_000];
    for (payload, _) in &rows {
        let (n, _) = recv_from(&rude, &mut buf).unwrap();
        assert_eq!(buf[..n], payload[..payload.len().min(8192)]);
    }
    // A client that vanishes before its echo: the ICMP that comes back does not stop the server.
    let gone = client("127.0.0.1");
    gone.send_to(b"bye", addr).unwrap();
    drop(gone);
    server.line();
    assert_eq!(echo(&good, addr, b"still"), b"still");
    assert_eq!(server.line(), good_line);
    assert!(server.is_running());
}

/// A log that cannot be written (`udp-echo-server | head -1`) is said once on stderr; the server
/// echoes on.
#[test]
fn keeps_echoing_when_stdout_is_closed() {
    let mut server = cmd(BIN).arg("0").start_head_1();
    let addr = server.listening_addr();
    let socket = client("127.0.0.1");
    for i in 0..5u8 {
        assert_eq!(echo(&socket, addr, &[i]), [i]);
    }
    assert!(server.is_running(), "the server must still be running");
    let said = server.err_line();
    assert!(
        said.starts_with("error: cannot write the log: Broken pipe"),
        "{said:?}"
    );
    for i in 0..5u8 {
        assert_eq!(echo(&socket, addr, &[i]), [i]);
    }
    let stderr = server.stop_and_collect_stderr();
    assert!(
        stderr.is_empty(),
        "one line, not one per datagram: {stderr:?}"
    );
}

/// A log nobody reads (stdout a pipe that is never read, as behind a paused `| less` or Ctrl-S)
/// never stops the echoes: once the log is read again it accounts for every datagram, logged or
/// counted in a `(N log lines dropped …)` line.
#[test]
fn a_log_nobody_reads_never_stops_echoing() {
    // Far more log than a pipe (64 KiB on Linux) and the server's own queue can hold.
    const DATAGRAMS: usize = 8000;
    let mut server = cmd(BIN).arg("0").start_paused(1);
    let addr = server.listening_addr();
    let socket = client("127.0.0.1");
    for i in 0..DATAGRAMS {
        let payload = i.to_be_bytes();
        assert_eq!(echo(&socket, addr, &payload), payload, "datagram {i}");
    }
    assert!(server.is_running(), "the server must still be running");
    server.resume_reading();
    let (mut logged, mut dropped) = (0, 0);
    while logged + dropped < DATAGRAMS {
        let line = server.line();
        if line.starts_with("Got data from ('127.0.0.1', ") {
            logged += 1;
            continue;
        }
        let count = line
            .strip_prefix('(')
            .and_then(|l| l.strip_suffix(" log lines dropped: stdout was not being read)"))
            .and_then(|n| n.parse::<usize>().ok());
        match count {
            Some(n) => dropped += n,
            None => panic!("neither a datagram nor a count of dropped lines: {line:?}"),
        }
    }
    assert_eq!(
        logged + dropped,
        DATAGRAMS,
        "every datagram logged or counted"
    );
    assert!(
        dropped > 0,
        "{DATAGRAMS} lines all fitted in the pipe: nothing was tested"
    );
}
