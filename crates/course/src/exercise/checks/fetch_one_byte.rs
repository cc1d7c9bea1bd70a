//! Exercise 7, fetch-one-byte: the whole response however it is cut into segments, and a bounded
//! time however slowly it comes (Beej's "any recv() size"). The checker is the HTTP server: first
//! it writes the response one byte per segment (TCP_NODELAY, a write per byte), then it sends a
//! head and trickles the body a byte at a time, never finishing.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use crate::exercise::conversation::{
    Conversation, Failure, PROBE_FAILED, accept_within, ended, listen, read_request, text,
};
use crate::exercise::table::{Exercise, Needs};

pub const EXERCISE: Exercise = Exercise {
    name: "fetch-one-byte",
    lesson: "http-fetch",
    title: "a response one byte per segment, and a slow server: bounded time, right body",
    needs: Needs::Loopback,
    question: "the server writes its response one byte per segment. How many read() calls does \
               the client need to get it all: one, or about one per byte?",
    hint: "Loop: `match stream.read(&mut buf) { Ok(0) => break, Ok(n) => write out &buf[..n], … }`. \
           For the deadline, note `let deadline = Instant::now() + DEADLINE` before the loop, and \
           before each read set the read timeout to what is left \
           (`deadline.saturating_duration_since(Instant::now())`, at most TIMEOUT); once nothing \
           is left, return `Err(fail(\"Error receiving data: …\"))`.",
    seeded: true,
    check,
};

/// The pause between two one-byte segments.
const GAP: Duration = Duration::from_millis(2);
/// How long the program may take for the one-byte response.
const LIMIT: Duration = Duration::from_secs(3);
/// How long it may take to give up on the slow server (its own deadline is 2 s).
const SLOW_LIMIT: Duration = Duration::from_millis(3500);
/// The slow server's pause between two bytes: shorter than any sensible per-read timeout.
const TRICKLE: Duration = Duration::from_millis(400);

fn check(c: &mut Conversation) -> Result<(), Failure> {
    let length = c.random(20, 50) as usize;
    let body = c.letters(length);
    let head = format!("HTTP/1.0 200 OK\r\nContent-Length: {length}\r\n\r\n");
    let whole = [head.as_bytes(), &body].concat();
    c.answer(probe(&whole));

    let (listener, port) = listen()?;
    c.used_port(port);
    c.step(format!(
        "serve a {}-byte response on 127.0.0.1:{port}, one byte per segment (TCP_NODELAY, a \
         write per byte, {} ms apart); run your program against it",
        whole.len(),
        GAP.as_millis()
    ));
    c.command(format!(
        "python3 -c \"import socket, time; s = socket.create_server(('127.0.0.1', {port})); \
         c, _ = s.accept(); c.setsockopt(6, 1, 1); [c.send(bytes([b])) or time.sleep(0.002) \
         for b in b'{}']\"",
        text(&whole).replace("\r\n", "\\r\\n")
    ));
    let args = vec!["127.0.0.1".to_string(), port.to_string(), "/".to_string()];
    let served = whole.clone();
    let outcome = c.run_client(&args, LIMIT, Some(listener), move |stream| {
        one_byte_at_a_time(stream, &served, GAP);
    })?;
    if outcome.stdout != whole {
        return Err(Failure::Bytes {
            expected: whole,
            got: outcome.stdout,
        });
    }
    if outcome.status.is_some_and(|s| !s.success()) {
        return Err(Failure::Expected {
            expected: "exit status 0 (the response was whole)".into(),
            got: text(&outcome.stderr).trim().to_string(),
        });
    }

    let (listener, port) = listen()?;
    c.used_port(port);
    c.step(format!(
        "serve on 127.0.0.1:{port} a head promising 1000 body bytes, then one byte every {} ms, \
         never finishing; run your program against it",
        TRICKLE.as_millis()
    ));
    c.command(format!(
        "python3 -c \"import socket, time; s = socket.create_server(('127.0.0.1', {port})); \
         c, _ = s.accept(); c.send(b'HTTP/1.0 200 OK\\r\\nContent-Length: 1000\\r\\n\\r\\n'); \
         [c.send(b'x') or time.sleep(0.4) for i in range(1000)]\""
    ));
    let outcome = c.run_client(&args_for(port), SLOW_LIMIT, Some(listener), |stream| {
        trickle(stream);
    })?;
    let stderr = text(&outcome.stderr);
    if outcome.status.is_some_and(|s| s.success()) || !stderr.starts_with("error: ") {
        return Err(Failure::Expected {
            expected: "your program gives up by itself: exit status 1, and an `error: …` line"
                .into(),
            got: ended(&outcome),
        });
    }
    Ok(())
}

fn args_for(port: u16) -> Vec<String> {
    vec!["127.0.0.1".to_string(), port.to_string(), "/".to_string()]
}

/// Write `bytes` one per segment: TCP_NODELAY, so that each small write leaves at once (Nagle
/// would gather them), and a pause between writes.
fn one_byte_at_a_time(mut stream: TcpStream, bytes: &[u8], gap: Duration) {
    read_request(&mut stream);
    let _ = stream.set_nodelay(true);
    for byte in bytes {
        if stream.write_all(std::slice::from_ref(byte)).is_err() {
            return;
        }
        std::thread::sleep(gap);
    }
    let _ = stream.shutdown(Shutdown::Write);
}

/// A head, then a byte every [`TRICKLE`] until the client goes (a write fails) or the check's
/// limit has passed.
fn trickle(mut stream: TcpStream) {
    read_request(&mut stream);
    let _ = stream.set_nodelay(true);
    let head = b"HTTP/1.0 200 OK\r\nContent-Length: 1000\r\n\r\n";
    if stream.write_all(head).is_err() {
        return;
    }
    let rounds = (SLOW_LIMIT.as_millis() / TRICKLE.as_millis()) as usize + 2;
    for _ in 0..rounds {
        std::thread::sleep(TRICKLE);
        if stream.write_all(b"x").is_err() {
            return;
        }
    }
}

/// The true answer, from a run of the checker's own: the same one-byte server, and a plain read
/// loop that counts its reads.
fn probe(response: &[u8]) -> String {
    let counted = (|| -> std::io::Result<(usize, usize)> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let mut client = TcpStream::connect(listener.local_addr()?)?;
        client.set_read_timeout(Some(Duration::from_secs(2)))?;
        // The server reads the request before it answers (read_request), as the check's does.
        client.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
        let served = response.to_vec();
        let server = std::thread::spawn(move || {
            if let Ok(Some(stream)) = accept_within(&listener, Duration::from_secs(2)) {
                one_byte_at_a_time(stream, &served, GAP);
            }
        });
        let (mut reads, mut bytes) = (0, 0);
        let mut buf = [0u8; 4096];
        loop {
            let n = client.read(&mut buf)?;
            reads += 1;
            if n == 0 {
                break;
            }
            bytes += n;
        }
        let _ = server.join();
        Ok((reads, bytes))
    })();
    match counted {
        Ok((reads, bytes)) => format!(
            "about one per byte: here a plain read loop with a 4096-byte buffer took {reads} \
             reads for those {bytes} bytes (the last read returning 0, the end). A read returns \
             what has arrived, not what was sent as one message."
        ),
        Err(e) => format!("{PROBE_FAILED} {e})"),
    }
}
