//! fetch-short-body, solved — exercise 6 (lesson http-fetch): a short body is an error.
//!
//! http-fetch's steps without its pause and deadline: look up the port, connect with a timeout,
//! send an HTTP/1.0 request, shut down the sending side, copy the response to stdout up to EOF.
//! EOF is not trusted: a body shorter than the head's `Content-Length` is an error (exit 1).
//!
//! Run: `cargo run -p exercises --bin fetch-short-body-solution -- 127.0.0.1 8000 /`
//! Try: `python3 -m http.server --bind 127.0.0.1 8000` beside it; check it with
//!      `cargo course exercise fetch-short-body` (page: docs/exercises/fetch-short-body.md).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use lesson_common::{Args, Exit, Transport, fail, fail_with, parse_port, resolve, usage};

const USAGE: &str = "HOST PORT|SERVICE PATH";
const HELP: &str = "\
Fetch one page over HTTP/1.0 and copy the response to stdout. Exercise 6 of the course: a
response whose body is shorter than its Content-Length is an error, not a success.

Arguments:
  HOST            the server's name or IP address
  PORT|SERVICE    its port, or a service name such as http
  PATH            the path to ask for, such as /

Options:
  -h, --help      print this help";

/// How long connecting, and any one read or write, may take.
const TIMEOUT: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    lesson_common::report(USAGE, HELP, run())
}

fn run() -> Result<(), Exit> {
    let [host, textport, path]: [String; 3] = Args::from_env()?
        .positional(3)?
        .try_into()
        .map_err(|_| usage("give a HOST, a PORT and a PATH"))?;

    // 1. Look up the port, then the host, and connect to the first address that answers.
    let port =
        parse_port(&textport, Transport::Tcp).map_err(|e| e.context("Couldn't find your port"))?;
    let addresses = resolve(&host, port, Transport::Tcp)
        .map_err(|e| fail_with("Address-related error connecting to server", e))?;
    let mut failure = fail("Address-related error connecting to server: no address found");
    let mut connected = None;
    for address in addresses {
        match TcpStream::connect_timeout(&address, TIMEOUT) {
            Ok(stream) => {
                connected = Some(stream);
                break;
            }
            Err(e) => failure = fail_with("Connection error", e),
        }
    }
    let Some(mut stream) = connected else {
        return Err(failure);
    };
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;

    // 2. Send the request, then shut down our sending side: the server reads EOF after it.
    let request = format!("GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| fail_with("Error sending data", e))?;
    stream
        .shutdown(Shutdown::Write)
        .map_err(|e| fail_with("Error sending data (detected by shutdown)", e))?;

    // 3. Read up to EOF: a read of 0 bytes means the server closed its side. Every byte goes to
    //    stdout as it came.
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|e| fail_with("Error receiving data", e))?;
    io::stdout()
        .lock()
        .write_all(&response)
        .map_err(|e| fail_with("Error writing output", e))?;

    // 4. EOF only says the server closed, not that everything came: hold the body against the
    //    head's own Content-Length. (The bytes that did come are on stdout all the same.)
    let Some(head_end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Err(fail(
            "Error receiving data: connection closed before the end of the response head",
        ));
    };
    let body = response.len() - (head_end + 4);
    match content_length(&response[..head_end])? {
        Some(want) if body < want => Err(fail(format!(
            "Error receiving data: connection closed after {body} of {want} body bytes"
        ))),
        _ => Ok(()),
    }
}

/// The `Content-Length` the head declares (its name in any case), if it declares one.
fn content_length(head: &[u8]) -> Result<Option<usize>, Exit> {
    for line in String::from_utf8_lossy(head).split("\r\n").skip(1) {
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            return value.trim().parse().map(Some).map_err(|_| {
                fail(format!(
                    "Error receiving data: bad Content-Length {value:?}"
                ))
            });
        }
    }
    Ok(None)
}
