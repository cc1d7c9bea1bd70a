//! fetch-short-body — exercise 6 (lesson http-fetch): a short body is an error.
//!
//! http-fetch's steps without its pause and deadline: look up the port, connect with a timeout,
//! send an HTTP/1.0 request, shut down the sending side, copy the response to stdout up to EOF.
//! As shipped it trusts EOF: a server that promises `Content-Length: 57` and closes after 20 body
//! bytes gets exit 0, a short file passed off as whole. Find the TODO.
//!
//! Run: `cargo run -p exercises --bin fetch-short-body -- 127.0.0.1 8000 /`
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

    // 4. TODO: EOF only says the server closed, not that everything came. Find the head's end
    //    (the empty line) and its Content-Length; a body shorter than that is an error:
    //    `Error receiving data: connection closed after 20 of 57 body bytes` (exit 1).
    Ok(())
}
