//! Runs the real `udp-client` against UDP peers on loopback: scripted ones played by the test, and
//! the partner lesson `udp-echo-server` when it has been built.
// A panic in a test is a failed test with its message: unwrap is the right tool here.
#![allow(clippy::unwrap_used)]

use lesson_common::py_addr;
use std::net::{SocketAddr, UdpSocket};
use std::thread::{self, JoinHandle};
use std::time::Duration;
use test_support::{Cmd, Finished, cmd, partner, recv_from};

const BIN: &str = env!("CARGO_BIN_EXE_udp-client");
const PROMPT: &str = "Enter data to transmit: \n";
const LOOKING: &str = "Looking for replies; press Ctrl-C or Ctrl-Break to stop.\n";

/// A scripted server on an ephemeral loopback port: it waits for the client's datagram, hands it
/// and the client's address to `script`, and returns the datagram it got.
fn peer(
    script: impl FnOnce(&UdpSocket, SocketAddr) + Send + 'static,
) -> (String, JoinHandle<Vec<u8>>) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let port = socket.local_addr().unwrap().port().to_string();
    let handle = thread::spawn(move || {
        let mut buf = vec![0u8; 70_000];
        let (n, client) = recv_from(&socket, &mut buf).unwrap();
        script(&socket, client);
        buf.truncate(n);
        buf
    });
    (port, handle)
}

fn client(port: &str, stdin: &[u8]) -> Finished {
    cmd(BIN)
        .args(["--timeout", "0.5", "127.0.0.1", port])
        .stdin(stdin)
        .run()
}

/// The listing's lines, one `Received:` per reply; an empty datagram ends the run quietly (exit 0).
#[test]
fn prints_each_reply_until_an_empty_datagram() {
    let (port, peer) = peer(|s, to| {
        for reply in [&b"first"[..], b"second", b""] {
            s.send_to(reply, to).unwrap();
        }
    });
    let done = client(&port, b"hello\n");
    assert_eq!(
        peer.join().unwrap(),
        b"hello",
        "the line is sent without its newline"
    );
    let wanted = format!("{PROMPT}{LOOKING}Received: first\nReceived: second\n");
    assert_eq!(done.stdout_text(), wanted);
    assert_eq!((done.code, done.stderr.as_str()), (Some(0), ""));
}

/// Input is stripped like Python's `strip()`, and a reply that is not UTF-8 prints lossily.
#[test]
fn strips_input_and_prints_bytes_that_are_not_utf8() {
    let (port, peer) = peer(|s, to| {
        s.send_to(b"caf\xe9", to).unwrap();
        s.send_to(b"", to).unwrap();
    });
    let done = client(&port, b" \t two words \r\nnot this line\n");
    assert_eq!(peer.join().unwrap(), b"two words");
    assert_eq!(
        done.stdout_text(),
        format!("{PROMPT}{LOOKING}Received: caf\u{fffd}\n")
    );
    assert_eq!(done.code, Some(0), "{}", done.stderr);
}

/// Stdin at EOF sends an empty datagram, as `readline().strip()` gives ''.
#[test]
fn empty_stdin_sends_an_empty_datagram() {
    let (port, peer) = peer(|s, to| {
        s.send_to(b"", to).unwrap();
    });
    let done = client(&port, b"");
    assert_eq!(peer.join().unwrap(), b"");
    assert_eq!(done.stdout_text(), format!("{PROMPT}{LOOKING}"));
    assert_eq!(done.code, Some(0), "{}", done.stderr);
}

/// The connected socket hears only its server: a stranger's datagram is never printed.
#[test]
fn ignores_datagrams_from_anyone_but_the_server() {
    let (port, peer) = peer(|s, to| {
        let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
        stranger.send_to(b"intruder", to).unwrap();
        s.send_to(b"real", to).unwrap();
        s.send_to(b"", to).unwrap();
    });
    let done = client(&port, b"hi\n");
    peer.join().unwrap();
    assert_eq!(
        done.stdout_text(),
        format!("{PROMPT}{LOOKING}Received: real\n")
    );
}

/// A long reply (10,000 bytes) is printed whole, not cut at some buffer size.
#[test]
fn prints_a_large_reply_whole() {
    let big: String = (0..10_000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let reply = big.clone();
    let (port, peer) = peer(move |s, to| {
        s.send_to(reply.as_bytes(), to).unwrap();
        s.send_to(b"", to).unwrap();
    });
    let done = client(&port, b"x\n");
    peer.join().unwrap();
    assert_eq!(
        done.stdout_text(),
        format!("{PROMPT}{LOOKING}Received: {big}\n")
    );
}

/// After a reply, silence for the timeout ends the run with exit 0 and a note on stderr only.
#[test]
fn timeout_after_a_reply_exits_0() {
    let (port, peer) = peer(|s, to| {
        s.send_to(b"only one", to).unwrap();
    });
    let done = client(&port, b"x\n");
    peer.join().unwrap();
    assert_eq!(
        done.stdout_text(),
        format!("{PROMPT}{LOOKING}Received: only one\n")
    );
    assert_eq!(done.code, Some(0));
    assert_eq!(done.stderr, "(no further reply within 0.5 s; stopping)\n");
}

/// A silent server: after the timeout, one line naming the server and the wait, exit 1.
#[test]
fn silent_server_times_out_with_exit_1() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let addr = silent.local_addr().unwrap();
    let done = client(&addr.port().to_string(), b"anyone?\n");
    let mut buf = [0u8; 16];
    assert_eq!(
        recv_from(&silent, &mut buf).unwrap().0,
        7,
        "the datagram did arrive"
    );
    assert_eq!(done.stdout_text(), format!("{PROMPT}{LOOKING}"));
    assert_eq!(done.code, Some(1));
    assert_eq!(
        done.stderr,
        format!("error: no reply from {} within 0.5 s\n", py_addr(addr))
    );
}

/// Nothing listening: ICMP port unreachable surfaces as "Connection refused", exit 1, no waiting.
#[test]
fn no_server_is_connection_refused() {
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The socket is dropped: nothing listens on `port` now. A 10 s timeout would be seen in the
    // message below; "refused" proves the ICMP answer ended the wait.
    let done = cmd(BIN)
        .args(["--timeout", "10", "127.0.0.1", &port.to_string()])
        .stdin(b"hi\n")
        .run();
    assert_eq!(done.code, Some(1));
    assert!(
        done.stderr.contains("Connection refused"),
        "{}",
        done.stderr
    );
    assert_eq!(done.stderr.lines().count(), 1, "{}", done.stderr);
}

/// Hostile command lines, input and outputs: each ends with the course's error contract (a usage
/// error, exit 2; a run-time failure, exit 1) and the words that name the problem.
#[test]
fn hostile_input_table() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap(); // receives, never answers
    let port = silent.local_addr().unwrap().port().to_string();
    let p = port.as_str();
    let refused = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let line_65520 = vec![b'x'; 65_520];
    let line_70k = vec![b'x'; 70_000];
    let name300 = "c".repeat(300);
    let fast = |args: &[&str]| cmd(BIN).args(["--timeout", "0.2"]).args(args);
    let (not_utf8, quoted) = test_support::not_unicode_arg();
    let mut rows: Vec<(Cmd, i32, String)> = vec![
        (
            cmd(BIN).arg("127.0.0.1"),
            2,
            "give the server's HOST and PORT".into(),
        ),
        (
            cmd(BIN).args(["127.0.0.1", "7", "extra"]),
            2,
            "too many arguments".into(),
        ),
        (
            cmd(BIN).args(["--timeout", "0", "127.0.0.1", p]),
            2,
            "--timeout wants a number of seconds above 0".into(),
        ),
        (
            cmd(BIN).args(["--timeout", "soon", "127.0.0.1", p]),
            2,
            "--timeout wants a number of seconds, not 'soon'".into(),
        ),
        (
            cmd(BIN).args(["--timeout", "-1", "127.0.0.1", p]),
            2,
            "--timeout wants".into(),
        ),
        (
            cmd(BIN).args(["--timeout", "nan", "127.0.0.1", p]),
            2,
            "--timeout wants".into(),
        ),
        (
            cmd(BIN).args(["--timeout", "1e400", "127.0.0.1", p]),
            2,
            "--timeout wants".into(),
        ),
        (
            cmd(BIN).args(["127.0.0.1", "99999"]),
            2,
            "port '99999' is not a number from 0 to 65535".into(),
        ),
        (cmd(BIN).args(["127.0.0.1", "-1"]), 2, "port '-1'".into()),
        (
            cmd(BIN).args(["127.0.0.1", "12345678901234567890"]),
            2,
            "port '1234".into(),
        ),
        (
            cmd(BIN).args(["127.0.0.1", "no-such-service"]),
            1,
            "unknown udp service 'no-such-service'".into(),
        ),
        (
            cmd(BIN).arg(&not_utf8).arg(p),
            2,
            format!("{quoted} is not valid UTF-8"),
        ),
        (
            cmd(BIN).args(["::1%nosuchif", p]),
            1,
            "cannot resolve '::1%nosuchif': [Errno -2] ".into(),
        ),
        (
            cmd(BIN).args([name300.as_str(), p]),
            1,
            "cannot resolve 'cccc".into(),
        ),
        // More than an IPv4 datagram can carry: the send fails whole, nothing is cut.
        (
            fast(&["127.0.0.1", p]).stdin(&line_65520),
            1,
            "cannot send 65520 bytes: Message too long".into(),
        ),
        // More than any datagram can carry: refused before anything is sent.
        (
            fast(&["127.0.0.1", p]).stdin(&line_70k),
            1,
            "the line is longer than 65527 bytes, more than any UDP datagram can carry".into(),
        ),
        // A closed stdin sends an empty datagram; the silent peer never answers.
        (
            fast(&["127.0.0.1", p]),
            1,
            format!("no reply from ('127.0.0.1', {p}) within 0.2 s"),
        ),
        (
            fast(&["127.0.0.1", &refused]).stdin(b"hi\n"),
            1,
            format!("no reply from ('127.0.0.1', {refused}): Connection refused"),
        ),
        (
            fast(&["127.0.0.1", p]).stdin(b"hi\n").stdout_closed(),
            1,
            "Broken pipe".into(),
        ),
    ];
    if test_support::HAS_DEV_FULL {
        rows.push((
            fast(&["127.0.0.1", p]).stdin(b"hi\n").stdout_full(),
            1,
            "No space left on device".into(),
        ));
        rows.push((
            cmd(BIN).arg("--help").stdout_full(),
            1,
            "cannot write the help: No space left".into(),
        ));
    }
    assert!(rows.len() >= 15, "{} rows", rows.len());
    for (run, code, words) in rows {
        run.assert_error(code, &words);
    }
    let help = cmd(BIN).arg("--help").run();
    assert_eq!(help.code, Some(0));
    assert!(
        help.stdout_text()
            .starts_with("usage: udp-client [--timeout SECONDS] HOST PORT|SERVICE\n\n")
    );
}

/// Stdin that never ends and holds no newline (`< /dev/zero`): the client reads no more than a
/// datagram can carry, then refuses with one line, exit 1; nothing is sent.
#[test]
fn endless_input_is_refused_after_what_a_datagram_can_carry() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    silent.set_nonblocking(true).unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    let done = cmd(BIN)
        .args(["127.0.0.1", &port])
        .stdin_without_end()
        .assert_error(1, "the line is longer than 65527 bytes");
    assert_eq!(done.stdout_text(), PROMPT);
    let sent = silent.recv_from(&mut [0; 16]).map_err(|e| e.kind());
    assert_eq!(
        sent.err(),
        Some(std::io::ErrorKind::WouldBlock),
        "nothing is sent"
    );
}

/// Input is stripped exactly as Python 2's `strip()` strips: the vertical tab and form feed too.
#[test]
fn strips_what_python_strips() {
    let (port, peer) = peer(|s, to| {
        s.send_to(b"", to).unwrap();
    });
    let done = client(&port, b"\x0b\x0c hello \x0b\r\n");
    assert_eq!(peer.join().unwrap(), b"hello");
    assert_eq!(done.code, Some(0), "{}", done.stderr);
}

/// Against the partner lesson: the echo comes back; an empty line gets an empty echo and ends it.
#[test]
fn talks_to_udp_echo_server() {
    let Some(mut server) = partner("udp-echo-server").map(|p| p.args(["0"]).start()) else {
        return;
    };
    let port = server.listening_addr().port().to_string();
    let done = client(&port, b"hello\n");
    assert_eq!(
        done.stdout_text(),
        format!("{PROMPT}{LOOKING}Received: hello\n")
    );
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(server.line().starts_with("Got data from ('127.0.0.1', "));
    let done = client(&port, b"\n");
    assert_eq!(done.stdout_text(), format!("{PROMPT}{LOOKING}"));
    assert_eq!((done.code, done.stderr.as_str()), (Some(0), ""));
}

/// Stopped and resumed while waiting (Ctrl-Z, then `fg`), the client keeps waiting for replies.
#[cfg(unix)]
#[test]
fn keeps_waiting_after_being_stopped_and_resumed() {
    use std::process::{Command, Stdio};
    let (go, stopped) = std::sync::mpsc::channel::<()>();
    let (port, peer) = peer(move |s, to| {
        stopped.recv_timeout(test_support::PATIENCE).unwrap(); // reply only after the stop and the resume
        s.send_to(b"late", to).unwrap();
        s.send_to(b"", to).unwrap();
    });
    let mut child = Command::new(BIN)
        .args(["--timeout", "5", "127.0.0.1", &port])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Dropping the handle closes stdin: the client sends an empty line and starts waiting.
    drop(child.stdin.take());
    let pid = child.id().to_string();
    let signal = |name: &str| Command::new("kill").args([name, &pid]).status();
    thread::sleep(Duration::from_millis(300)); // let it reach the receive
    if signal("-STOP").is_err() {
        let _ = child.kill();
        let _ = child.wait();
        test_support::skip("no `kill` program to send SIGSTOP/SIGCONT");
        return;
    }
    thread::sleep(Duration::from_millis(100));
    signal("-CONT").unwrap();
    go.send(()).unwrap();
    let out = child.wait_with_output().unwrap(); // bounded: the peer answers, or 5 s pass
    peer.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let wanted = format!("{PROMPT}{LOOKING}Received: late\n");
    assert_eq!(String::from_utf8_lossy(&out.stdout), wanted);
}
