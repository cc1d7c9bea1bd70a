//! http-fetch against loopback servers owned by each test: the exact request, the bytes passed
//! through, and each of the listing's error classes with its exit code. Every run uses `--pause 0`
//! or a pause of one second at most, so no test waits out the listing's ten seconds.
// A panic in a test (or its helpers) is a failed test with its message: unwrap is the right tool.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use socket2::Socket;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};
use test_support::{Finished, PATIENCE, cmd};

const BIN: &str = env!("CARGO_BIN_EXE_http-fetch");
/// What the lesson prints around its pause, before any byte of the response.
const PAUSE_LINES: &[u8] = b"sleeping\nContinuing.\n";

/// A one-connection server on `listener`: accepts (bounded wait) and hands the stream to `handle`.
fn serve_on<T: Send + 'static>(
    listener: TcpListener,
    handle: impl FnOnce(TcpStream) -> T + Send + 'static,
) -> JoinHandle<T> {
    listener.set_nonblocking(true).unwrap();
    thread::spawn(move || {
        let deadline = Instant::now() + PATIENCE;
        let stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(5))
                }
                Err(e) => panic!("no client came: {e}"),
            }
        };
        stream.set_nonblocking(false).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        handle(stream)
    })
}

/// `serve_on` a fresh 127.0.0.1 port; returns the port as text for the command line.
fn serve<T: Send + 'static>(
    handle: impl FnOnce(TcpStream) -> T + Send + 'static,
) -> (String, JoinHandle<T>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    (port, serve_on(listener, handle))
}

/// Everything the client sends. `read_to_end` returns only when a read returns 0, i.e. only after
/// the client's `shutdown(Write)`; without it this read would time out and fail the test.
fn read_request(stream: &mut TcpStream) -> Vec<u8> {
    let mut request = Vec::new();
    stream
        .read_to_end(&mut request)
        .expect("the client never half-closed");
    request
}

/// Close with SO_LINGER 0: the kernel sends a RST instead of a FIN.
fn reset(stream: TcpStream) {
    Socket::from(stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
}

fn fetch(args: &[&str]) -> Finished {
    cmd(BIN).args(args).run()
}

/// A response with a head that declares `body.len()` and the body itself.
fn response(body: &[u8]) -> Vec<u8> {
    let mut all = format!("HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    all.extend_from_slice(body);
    all
}

/// Asserts exit 1 and that stderr is the single line `error: {class}: …`; returns that line.
fn failed_with(done: &Finished, class: &str) -> String {
    assert_eq!(done.code, Some(1), "stderr: {}", done.stderr);
    let lines: Vec<&str> = done.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got {:?}", done.stderr);
    let prefix = format!("error: {class}: ");
    assert!(
        lines[0].starts_with(&prefix),
        "wanted {prefix:?}…, got {:?}",
        lines[0]
    );
    lines[0].to_string()
}

/// The request is exactly request line, Host, blank line, sent before a half-close; the response
/// (every byte value, a blank line inside the body) comes out after the two pause lines unchanged.
#[test]
fn request_is_exact_and_response_passes_through_unchanged() {
    let body: Vec<u8> = (0..=255u8).chain(*b"\r\n\r\nafter a blank line").collect();
    let canned = response(&body);
    let reply = canned.clone();
    let (port, server) = serve(move |mut stream| {
        let request = read_request(&mut stream);
        stream.write_all(&reply).unwrap();
        request
    });
    let done = fetch(&["--pause", "0", "127.0.0.1", &port, "/dir/page.html?q=1"]);
    let request = server.join().unwrap();
    let want = format!("GET /dir/page.html?q=1 HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    assert_eq!(String::from_utf8_lossy(&request), want);
    assert_eq!(done.code, Some(0), "stderr: {}", done.stderr);
    assert_eq!(done.stdout, [PAUSE_LINES, &canned].concat());
}

/// An IPv6 literal gets an IPv6 socket and a bracketed Host header.
#[test]
fn ipv6_literal_connects_and_brackets_the_host() {
    let Ok(listener) = TcpListener::bind("[::1]:0") else {
        test_support::skip("no IPv6 loopback here");
        return;
    };
    let port = listener.local_addr().unwrap().port().to_string();
    let server = serve_on(listener, |mut stream| {
        let request = read_request(&mut stream);
        stream.write_all(&response(b"six")).unwrap();
        request
    });
    let done = fetch(&["--pause", "0", "::1", &port, "/"]);
    let request = String::from_utf8(server.join().unwrap()).unwrap();
    assert_eq!(
        request,
        format!("GET / HTTP/1.0\r\nHost: [::1]:{port}\r\n\r\n")
    );
    assert_eq!(done.code, Some(0), "stderr: {}", done.stderr);
}

/// The pause sits between connect and request: connected, yet nothing arrives for a while.
#[test]
fn pause_comes_after_connect_and_before_the_request() {
    let (port, server) = serve(|mut stream| {
        stream
            .set_read_timeout(Some(Duration::from_millis(150)))
            .unwrap();
        let early = stream.read(&mut [0; 64]);
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let request = read_request(&mut stream);
        stream.write_all(&response(b"ok")).unwrap();
        (early.map_err(|e| e.kind()), request.len())
    });
    let done = fetch(&["--pause", "1", "127.0.0.1", &port, "/"]);
    let (early, request_len) = server.join().unwrap();
    assert!(
        matches!(early, Err(ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "{early:?}"
    );
    assert!(request_len > 0);
    assert_eq!(done.code, Some(0), "stderr: {}", done.stderr);
    assert!(
        done.stdout_text()
            .starts_with("sleeping\nContinuing.\nHTTP/1.0 200 OK\r\n")
    );
}

/// A body far larger than the 64 KiB read buffer arrives byte for byte.
#[test]
fn large_body_arrives_intact() {
    let body: Vec<u8> = (0..8 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let canned = response(&body);
    let reply = canned.clone();
    let (port, server) = serve(move |mut stream| {
        read_request(&mut stream);
        stream.write_all(&reply).unwrap();
    });
    let done = fetch(&["--pause", "0", "127.0.0.1", &port, "/big"]);
    server.join().unwrap();
    assert_eq!(done.code, Some(0), "stderr: {}", done.stderr);
    let out = done
        .stdout
        .strip_prefix(PAUSE_LINES)
        .expect("the pause lines first");
    assert!(
        out == canned,
        "{} bytes out, {} sent",
        out.len(),
        canned.len()
    );
}

/// Without Content-Length the end of the connection is the end of the body: success.
#[test]
fn no_content_length_means_eof_ends_the_body() {
    let (port, server) = serve(|mut stream| {
        read_request(&mut stream);
        stream
            .write_all(b"HTTP/1.0 200 OK\r\n\r\nshort but complete")
            .unwrap();
    });
    let done = fetch(&["--pause", "0", "127.0.0.1", &port, "/"]);
    server.join().unwrap();
    assert_eq!(done.code, Some(0), "stderr: {}", done.stderr);
    assert!(done.stdout_text().ends_with("\r\n\r\nshort but complete"));
}

/// An unknown service name is "Couldn't find your port", before any connection.
#[test]
fn unknown_service_is_couldnt_find_your_port() {
    let done = fetch(&["--pause", "0", "127.0.0.1", "no-such-service-xyz", "/"]);
    let line = failed_with(&done, "Couldn't find your port");
    assert!(line.contains("no-such-service-xyz"), "{line}");
    assert!(done.stdout.is_empty());
}

/// A name getaddrinfo rejects is the "Address-related" class (Python's gaierror). The bad IPv6
/// scope fails inside the resolver with no DNS query; a `.invalid` name would ask this machine's
/// name server, and this lesson's tests stay hermetic (only dns-validate and addr-info, whose
/// subject is the resolver, ask it).
#[test]
fn unresolvable_name_is_address_related() {
    let done = fetch(&["--pause", "0", "::1%no-such-interface", "80", "/"]);
    failed_with(&done, "Address-related error connecting to server");
}

/// A port with no listener is "Connection error" (refused), not an address error.
#[test]
fn refused_port_is_connection_error() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let done = fetch(&["--pause", "0", "127.0.0.1", &port, "/"]);
    let line = failed_with(&done, "Connection error");
    assert!(line.contains("refused"), "{line}");
}

/// A reset in the middle of the body is "Error receiving data", exit 1.
#[test]
fn reset_mid_body_is_receive_error() {
    let (port, server) = serve(|mut stream| {
        read_request(&mut stream);
        let mut partial = response(&[b'x'; 100_000]);
        partial.truncate(5_000);
        stream.write_all(&partial).unwrap();
        thread::sleep(Duration::from_millis(50));
        reset(stream);
    });
    let done = fetch(&["--pause", "0", "127.0.0.1", &port, "/"]);
    server.join().unwrap();
    let line = failed_with(&done, "Error receiving data");
    assert!(line.contains("reset"), "{line}");
}

/// A clean close short of Content-Length fails with both counts, after passing on what came.
#[test]
fn close_short_of_content_length_is_receive_error() {
    let full = response(&[b'y'; 5000]);
    let sent = full.len() - 3766; // 1234 body bytes
    let partial = full[..sent].to_vec();
    let (port, server) = serve(move |mut stream| {
        read_request(&mut stream);
        stream.write_all(&partial).unwrap();
    });
    let done = fetch(&["--pause", "0", "127.0.0.1", &port, "/"]);
    server.join().unwrap();
    let line = failed_with(&done, "Error receiving data");
    assert!(line.contains("after 1234 of 5000 body bytes"), "{line}");
    assert_eq!(done.stdout, [PAUSE_LINES, &full[..sent]].concat());
}

/// A server that accepts but never answers: the read times out, and the message says so.
#[test]
fn silent_server_times_out() {
    let (port, server) = serve(|mut stream| {
        read_request(&mut stream);
        stream // held open, silent, until the client has given up
    });
    let done = fetch(&["--pause", "0", "--timeout", "0.3", "127.0.0.1", &port, "/"]);
    drop(server.join().unwrap());
    let line = failed_with(&done, "Error receiving data");
    assert!(line.contains("timed out"), "{line}");
}

/// The server resets during the pause: the buffered request meets the RST at flush.
#[test]
fn reset_during_pause_is_detected_by_flush() {
    let (port, server) = serve(reset);
    let done = fetch(&["--pause", "1", "127.0.0.1", &port, "/"]);
    server.join().unwrap();
    failed_with(&done, "Error sending data (detected by flush)");
}

/// With a request bigger than BufWriter's 8 KiB, write() itself sends, so the RST shows at write.
#[test]
fn reset_during_pause_with_a_long_request_is_detected_by_write() {
    let (port, server) = serve(reset);
    let path = format!("/{}", "a".repeat(9000));
    let done = fetch(&["--pause", "1", "127.0.0.1", &port, &path]);
    server.join().unwrap();
    failed_with(&done, "Error sending data");
    assert!(!done.stderr.contains("detected by"), "{}", done.stderr);
}

/// The server closes (FIN) during the pause: the send draws a RST, and shutdown finds no connection.
#[test]
fn close_during_pause_is_detected_by_shutdown() {
    let (port, server) = serve(drop);
    let done = fetch(&["--pause", "1", "127.0.0.1", &port, "/"]);
    server.join().unwrap();
    failed_with(&done, "Error sending data (detected by shutdown)");
}

/// Hostile command lines: a usage error (exit 2) or a run-time error (exit 1) with the words that
/// name the problem, and none of them reaches the server.
#[test]
fn hostile_command_lines_never_connect() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let p = port.as_str();
    let path_words = "PATH must start with '/'; no spaces or control characters in it";
    let rows: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec!["127.0.0.1", p, "no-slash"], 2, path_words),
        (vec!["127.0.0.1", p, "/a b"], 2, path_words),
        (vec!["127.0.0.1", p, "/a\r\nX-Injected: 1"], 2, path_words),
        (vec!["127.0.0.1", p, "/a\nGET /b"], 2, path_words),
        (vec!["127.0.0.1", p, "/tab\there"], 2, path_words),
        (vec!["127.0.0.1", p, "/del\x7f"], 2, path_words),
        (vec!["127.0.0.1", p, ""], 2, path_words),
        (
            vec!["127.0.0.1\r\nX: 1", p, "/"],
            2,
            "HOST must not contain",
        ),
        (vec!["127.0.0.1 ", p, "/"], 2, "HOST must not contain"),
        (vec!["127.0.0.1", p], 2, "need HOST, PORT|SERVICE and PATH"),
        (vec![], 2, "need HOST, PORT|SERVICE and PATH"),
        (
            vec!["--pause", "-1", "127.0.0.1", p, "/"],
            2,
            "--pause wants a number of seconds, not '-1'",
        ),
        (
            vec!["--pause", "abc", "127.0.0.1", p, "/"],
            2,
            "--pause wants",
        ),
        (
            vec!["--pause", "inf", "127.0.0.1", p, "/"],
            2,
            "--pause wants",
        ),
        (
            vec!["--pause", "nan", "127.0.0.1", p, "/"],
            2,
            "--pause wants",
        ),
        (
            vec!["--timeout", "1e400", "127.0.0.1", p, "/"],
            2,
            "--timeout wants",
        ),
        (
            vec!["--timeout", "0", "127.0.0.1", p, "/"],
            2,
            "--timeout wants a number of seconds above 0",
        ),
        (
            vec!["--deadline", "0", "127.0.0.1", p, "/"],
            2,
            "--deadline wants a number of seconds above 0",
        ),
        (
            vec!["--deadline", "soon", "127.0.0.1", p, "/"],
            2,
            "--deadline wants a number of seconds, not 'soon'",
        ),
        (vec!["--pause"], 2, "--pause needs a value"),
        (
            vec!["--bogus", "127.0.0.1", p, "/"],
            2,
            "unknown option '--bogus'",
        ),
        (
            vec!["127.0.0.1", "65536", "/"],
            2,
            "port '65536' is not a number from 0 to 65535",
        ),
        (vec!["127.0.0.1", "-1", "/"], 2, "port '-1'"),
        (
            vec!["127.0.0.1", "99999999999999999999", "/"],
            2,
            "port '9999",
        ),
        (
            vec!["127.0.0.1", "no-such-service-xyz", "/"],
            1,
            "Couldn't find your port: unknown tcp service 'no-such-service-xyz'",
        ),
        (
            vec!["::1%nosuchif", p, "/"],
            1,
            "Address-related error connecting to server: [Errno -2] ",
        ),
    ];
    assert!(rows.len() >= 15, "{} rows", rows.len());
    for (args, code, words) in rows {
        let done = cmd(BIN).args(&args).assert_error(code, words);
        assert!(done.stdout.is_empty(), "{args:?}");
    }
    let (not_utf8, quoted) = test_support::not_unicode_arg();
    let not_utf8 = cmd(BIN).arg(&not_utf8).args([p, "/"]);
    not_utf8.assert_error(2, &format!("{quoted} is not valid UTF-8"));
    if test_support::HAS_DEV_FULL {
        cmd(BIN)
            .arg("--help")
            .stdout_full()
            .assert_error(1, "cannot write the help: No space left");
    }
    // A reader that left on purpose (`--help | head -0`) is not an error.
    let help = cmd(BIN).arg("--help").stdout_closed().run();
    assert_eq!((help.code, help.stderr.as_str()), (Some(0), ""));
    listener.set_nonblocking(true).unwrap();
    let accepted = listener.accept().map(|_| ()).map_err(|e| e.kind());
    assert_eq!(
        accepted,
        Err(ErrorKind::WouldBlock),
        "a bad command line connected"
    );
}

/// Hostile servers: a response that is not whole, or whose Content-Length cannot be used. Every
/// byte still reaches stdout, then one `Error receiving data: …` line names what was wrong, exit 1.
/// Identical repeated values are one length (RFC 9110 §8.6 lets a recipient take them as one); a
/// head ended by bare LFs is read as one (RFC 9112 §2.2 lets a recipient accept them).
#[test]
fn hostile_servers_table() {
    let with = |header: &str| format!("HTTP/1.0 200 OK\r\n{header}\r\n\r\nabc");
    let long_head = format!(
        "HTTP/1.0 200 OK\r\nX-Pad: {}\r\nContent-Length: 1000\r\n\r\nabcde",
        "a".repeat(17 * 1024)
    );
    let rows: Vec<(String, Option<&str>)> = vec![
        (
            with("Content-Length: 3\r\nContent-Length: 10"),
            Some("conflicting Content-Length values 3 and 10"),
        ),
        (
            with("Content-Length: 3, 10"),
            Some("conflicting Content-Length values 3 and 10"),
        ),
        (
            with("Content-Length: 99999999999999999999"),
            Some("Content-Length 99999999999999999999 is not a number we can hold"),
        ),
        (
            with("Content-Length: -1"),
            Some("invalid Content-Length '-1'"),
        ),
        (
            with("Content-Length: abc"),
            Some("invalid Content-Length 'abc'"),
        ),
        (
            with("Content-Length: +3"),
            Some("invalid Content-Length '+3'"),
        ),
        (with("Content-Length:"), Some("invalid Content-Length ''")),
        (with("Content-Length: 3\r\ncontent-length: 3"), None),
        (with("Content-Length: 3, 3"), None),
        (with("Content-Length: 3"), None),
        // The server reads the request and closes without a byte (curl: "Empty reply from server").
        (String::new(), Some("empty reply from server")),
        // The blank line that ends the head never comes.
        (
            "HTTP/1.0 200 OK\r\nContent-Length: 10\r\n".into(),
            Some("connection closed before the end of the response head"),
        ),
        // A head too long to keep: its Content-Length lies past what is looked at.
        (long_head, Some("response head longer than 16 KiB")),
        // Bare LF line ends: the head ends at the first empty line all the same.
        (
            "HTTP/1.0 200 OK\nContent-Length: 1000\n\nabcde".into(),
            Some("connection closed after 5 of 1000 body bytes"),
        ),
        (
            "HTTP/1.0 200 OK\r\nContent-Length: 1000\n\r\nabcde".into(),
            Some("connection closed after 5 of 1000 body bytes"),
        ),
        ("HTTP/1.0 200 OK\nContent-Length: 3\n\nabc".into(), None),
    ];
    for (canned, error) in rows {
        let reply = canned.clone().into_bytes();
        let (port, server) = serve(move |mut stream| {
            read_request(&mut stream);
            stream.write_all(&reply).unwrap();
        });
        let done = fetch(&["--pause", "0", "127.0.0.1", &port, "/"]);
        server.join().unwrap();
        let row: String = canned.chars().take(60).collect();
        assert_eq!(
            done.stdout,
            [PAUSE_LINES, canned.as_bytes()].concat(),
            "{row:?}"
        );
        match error {
            Some(words) => {
                let line = failed_with(&done, "Error receiving data");
                assert_eq!(
                    line,
                    format!("error: Error receiving data: {words}"),
                    "{row:?}"
                );
            }
            None => assert_eq!((done.code, done.stderr.as_str()), (Some(0), ""), "{row:?}"),
        }
    }
}

/// A server that trickles its response, a byte every 100 ms, never trips the per-read timeout:
/// the overall deadline ends the run, with every byte received passed on.
#[test]
fn a_trickling_server_meets_the_deadline() {
    let (port, server) = serve(|mut stream| {
        read_request(&mut stream);
        stream.write_all(b"HTTP/1.0 200 OK\r\n\r\n").unwrap();
        // Until the client has gone (bounded: 60 s of trickle at most).
        for _ in 0..600 {
            if stream.write_all(b".").is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(100));
        }
    });
    let args = ["--pause", "0", "--timeout", "5", "--deadline", "1"];
    let done = fetch(&[&args[..], &["127.0.0.1", &port, "/"]].concat());
    server.join().unwrap();
    let line = failed_with(&done, "Error receiving data");
    assert_eq!(
        line,
        "error: Error receiving data: response not complete within the 1s deadline"
    );
    let out = done.stdout.strip_prefix(PAUSE_LINES).unwrap();
    assert!(out.starts_with(b"HTTP/1.0 200 OK\r\n\r\n."), "{out:?}");
}

/// A reader that goes away (`| head`) ends the run with one line, not a panic.
#[test]
fn closed_stdout_ends_with_one_line() {
    let (port, server) = serve(|mut stream| {
        read_request(&mut stream);
        let _ = stream.write_all(&response(&vec![b'z'; 4 * 1024 * 1024]));
    });
    let mut child = Command::new(BIN)
        .args(["--pause", "0", "--timeout", "5", "127.0.0.1", &port, "/"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    stdout.read_exact(&mut [0; 1000]).unwrap(); // the pause lines and the start of the response
    drop(stdout); // ... then the reader goes away, mid-body
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    server.join().unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: Error writing output: "),
        "{stderr}"
    );
}
