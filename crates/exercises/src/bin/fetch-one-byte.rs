//! fetch-one-byte — exercise 7 (lesson http-fetch): any recv size, and a slow server.
//!
//! http-fetch's steps without its pause: look up the port, connect with a timeout, send an
//! HTTP/1.0 request, shut down the sending side, copy the response to stdout. As shipped it reads
//! once, as if one read were one response; and nothing bounds the time a slow server may take
//! (Beej: "must work with any recv() size"). Find the TODO.
//!
//! Run: `cargo run -p exercises --bin fetch-one-byte -- 127.0.0.1 8000 /`
//! Try: `python3 -m http.server --bind 127.0.0.1 8000` beside it; check it with
//!      `cargo course exercise fetch-one-byte` (page: docs/exercises/fetch-one-byte.md).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use lesson_common::{Args, Exit, Transport, fail, fail_with, parse_port, resolve, usage};

const USAGE: &str = "HOST PORT|SERVICE PATH";
const HELP: &str = "\
Fetch one page over HTTP/1.0 and copy the response to stdout. Exercise 7 of the course: the
whole response however it is cut into segments, within a deadline however slowly it comes.

Arguments:
  HOST            the server's name or IP address
  PORT|SERVICE    its port, or a service name such as http
  PATH            the path to ask for, such as /

Options:
  -h, --help      print this help";

/// How long connecting, and any one read or write, may take.
const TIMEOUT: Duration = Duration::from_secs(5);
/// How long the whole response may take, however it trickles in.
#[allow(dead_code)] // TODO: used once the exercise is done
const DEADLINE: Duration = Duration::from_secs(2);

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

    // 3. Read the response and copy it to stdout.
    // TODO: one read returns what has arrived so far, from 1 byte up to the buffer's size, not
    //       "the response": a server that writes one byte per segment gets its first byte shown
    //       and nothing more. Read until a read returns 0 (EOF). And bound the whole: a server
    //       that trickles a byte now and then never trips the per-read TIMEOUT, so give up at
    //       DEADLINE with `Error receiving data: …` (exit 1).
    let mut buf = [0u8; 4096];
    let n = stream
        .read(&mut buf)
        .map_err(|e| fail_with("Error receiving data", e))?;
    io::stdout()
        .lock()
        .write_all(&buf[..n])
        .map_err(|e| fail_with("Error writing output", e))?;
    Ok(())
}
