//! Exercise 6, fetch-short-body: a body shorter than its Content-Length is an error. The checker
//! is the HTTP server: first a whole response (exit 0, every byte on stdout), then one that
//! closes after part of the body it promised (exit 1, an `error:` line).

use std::io::Write;
use std::net::Shutdown;
use std::time::Duration;

use crate::exercise::conversation::{Conversation, Failure, ended, listen, read_request, text};
use crate::exercise::table::{Exercise, Needs};

pub const EXERCISE: Exercise = Exercise {
    name: "fetch-short-body",
    lesson: "http-fetch",
    title: "a short body is an error (Content-Length against the bytes read)",
    needs: Needs::Loopback,
    question: "the server promises `Content-Length: 57`, sends 20 body bytes and closes. What does \
               the client's next read return: an error, or 0 bytes as after a whole response?",
    hint: "Once read_to_end is done, find the head's end: `response.windows(4).position(|w| w == \
           b\"\\r\\n\\r\\n\")`. The body is everything after those 4 bytes. Find the \
           `Content-Length:` line in the head (its name in any case), parse the number, and \
           return `Err(fail(format!(\"Error receiving data: connection closed after {body} of \
           {want} body bytes\")))` when the body is shorter.",
    seeded: true,
    check,
};

/// How long the program may take for one fetch from a server on loopback.
const LIMIT: Duration = Duration::from_secs(3);

fn check(c: &mut Conversation) -> Result<(), Failure> {
    let length = c.random(20, 60) as usize;
    let body = c.letters(length);
    let head =
        format!("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {length}\r\n\r\n");
    let whole = [head.as_bytes(), &body].concat();

    // A whole response: the program must pass it on, byte for byte, and exit 0.
    let (listener, port) = listen()?;
    c.used_port(port);
    c.step(format!(
        "serve a whole response on 127.0.0.1:{port} ({length} body bytes, as its Content-Length \
         says), and run your program against it"
    ));
    c.command(serve_command(&head, &body, port));
    let args = vec!["127.0.0.1".to_string(), port.to_string(), "/".to_string()];
    let served = whole.clone();
    let outcome = c.run_client(&args, LIMIT, Some(listener), move |mut stream| {
        read_request(&mut stream);
        let _ = stream.write_all(&served);
        let _ = stream.shutdown(Shutdown::Write);
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
            got: format!(
                "{}: {}",
                outcome.status.map_or(String::new(), |s| s.to_string()),
                text(&outcome.stderr).trim()
            ),
        });
    }

    // A short one: the same head, part of the body, then the server closes.
    let cut = c.random(1, length as u64 - 1) as usize;
    c.answer(format!(
        "0 bytes: the checker closed the connection normally (FIN) after {cut} of the {length} \
         body bytes it promised, and a read then returns 0, exactly as after a whole response. \
         Nothing in the socket API says the body was short; only the head's Content-Length does."
    ));
    let (listener, port) = listen()?;
    c.used_port(port);
    c.step(format!(
        "serve the same head on 127.0.0.1:{port}, but only {cut} of the {length} body bytes, then \
         close; run your program against it"
    ));
    c.command(serve_command(&head, &body[..cut], port));
    let args = vec!["127.0.0.1".to_string(), port.to_string(), "/".to_string()];
    let short = [head.as_bytes(), &body[..cut]].concat();
    let outcome = c.run_client(&args, LIMIT, Some(listener), move |mut stream| {
        read_request(&mut stream);
        let _ = stream.write_all(&short);
        let _ = stream.shutdown(Shutdown::Write);
    })?;
    let stderr = text(&outcome.stderr);
    let failed = outcome.status.is_some_and(|s| s.code() == Some(1));
    if !failed || !stderr.starts_with("error: ") {
        return Err(Failure::Expected {
            expected: "exit status 1, and one `error: …` line on stderr saying the body was short"
                .into(),
            got: ended(&outcome),
        });
    }
    Ok(())
}

/// The checker's side as a shell line: the response through `nc -l`.
fn serve_command(head: &str, body: &[u8], port: u16) -> String {
    format!(
        "printf '{}%s' '{}' | nc -N -l 127.0.0.1 {port}",
        head.replace("\r\n", "\\r\\n"),
        text(body)
    )
}
