//! http-fetch — fetch one page over HTTP/1.0 and show *where* each kind of network error surfaces.
//! Ports the Error Handling Example With Shutdown and File-Like Objects of chapter 2 (Foundations
//! of Python Network Programming, 1st edition): look up the port, connect, pause, write the
//! request, flush, shut down the sending side, read to EOF. Deviations: timeouts and a deadline, a
//! Host header, IPv6, and a response that is not whole is an error.
//!
//! Run: `cargo run -p http-fetch -- --pause 0 127.0.0.1 8000 /`
//! Try: `python3 -m http.server --bind 127.0.0.1 8000` beside it; stop it during the pause.

use std::io::{self, BufRead, BufReader, BufWriter, ErrorKind, Write};
use std::net::{Shutdown, TcpStream};
use std::process::ExitCode;

use lesson_common::{Exit, Transport, fail, fail_with, parse_port, resolve};
use socket2::{Domain, Socket, Type};

mod args;
mod request;
mod response;
mod timeouts;

use args::Command;
use timeouts::{Deadline, explain, timed_out};

fn main() -> ExitCode {
    lesson_common::report(args::USAGE, args::HELP, run())
}

fn run() -> Result<(), Exit> {
    // The listing's sys.argv[1:4], with options and checks it lacks (see args.rs).
    let Command {
        host,
        textport,
        path,
        pause,
        timeout,
        deadline,
    } = args::from_env()?;

    // 1. Look up the port: a number, else a service name such as "http" (from /etc/services); a
    //    name the system does not know is the listing's "Couldn't find your port".
    let port =
        parse_port(&textport, Transport::Tcp).map_err(|e| e.context("Couldn't find your port"))?;

    // 2. Create the socket and connect. Unlike the listing we resolve first (a failure is its
    //    `gaierror`), then try every address with a socket of its family (IPv6 too) and a timeout.
    // ANCHOR: connect
    let addresses = resolve(&host, port, Transport::Tcp)
        .map_err(|e| fail_with("Address-related error connecting to server", e))?;
    let mut failure = fail("Address-related error connecting to server: no address found");
    let mut connected = None;
    for address in addresses {
        match Socket::new(Domain::for_address(address), Type::STREAM, None) {
            Err(e) => failure = fail_with("Strange error creating socket", e),
            Ok(socket) => match socket.connect_timeout(&address.into(), timeout) {
                Ok(()) => {
                    connected = Some(TcpStream::from(socket));
                    break;
                }
                Err(e) => failure = fail(format!("Connection error: {}", explain(&e, timeout))),
            },
        }
    }
    let Some(stream) = connected else {
        return Err(failure);
    };
    // ANCHOR_END: connect
    // The listing waits forever on a silent server; we give every read and write a timeout.
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;

    // 3. `makefile('rw', 0)`. Python's file is unbuffered; a BufWriter keeps the bytes until flush
    //    (step 6). BufReader lends out big chunks (`fill_buf`), copied once, to stdout.
    let mut writer = BufWriter::new(&stream);
    let mut reader = BufReader::with_capacity(64 * 1024, &stream);
    let mut out = io::stdout().lock(); // one lock for the whole run, not one per write
    let to_stdout = |e: io::Error| fail_with("Error writing output", e);

    // 4. Pause, as the listing's `time.sleep(10)`: the time to stop the server and watch errors.
    writeln!(out, "sleeping").map_err(to_stdout)?; // Rust's stdout sends each line at its newline
    std::thread::sleep(pause);
    writeln!(out, "Continuing.").map_err(to_stdout)?;
    let deadline = Deadline::start(deadline); // not in the listing: see timeouts.rs

    // ANCHOR: send
    // 5. Write the request, with a Host header the listing lacks. Into the buffer (step 3).
    let authority = request::authority(&host, port);
    let request = format!("GET {path} HTTP/1.0\r\nHost: {authority}\r\n\r\n");
    if let Err(e) = writer.write_all(request.as_bytes()) {
        return Err(fail_with("Error sending data", e));
    }
    // 6. Flush: the bytes reach the kernel, and a reset peer shows up. On failure drop the unsent
    //    bytes: a BufWriter dropped full would flush again, a second send.
    if let Err(e) = writer.flush() {
        let _unsent = writer.into_parts();
        return Err(fail_with("Error sending data (detected by flush)", e));
    }
    // 7. Shut down our sending side (`shutdown(1)`): the server reads EOF after the request. A
    //    peer already gone shows up here, on Linux as "not connected".
    if let Err(e) = stream.shutdown(Shutdown::Write) {
        return Err(fail_with("Error sending data (detected by shutdown)", e));
    }
    // ANCHOR_END: send

    // 8. Read until EOF and pass every byte through unchanged, watching the response go by.
    let mut watch = response::Watch::default();
    let ended = loop {
        let shortened = match deadline.shorter_wait(timeout) {
            Ok(None) => false,
            Ok(Some(left)) => {
                stream.set_read_timeout(Some(left))?; // ends at the deadline
                true
            }
            Err(why) => break Err(why),
        };
        let chunk = match reader.fill_buf() {
            Ok([]) => break Ok(()), // a read of 0 bytes: the server closed its side, all is here
            Ok(chunk) => chunk,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue, // a signal, not an error
            // The deadline's wait, even one the kernel ended a tick early: the top says so.
            Err(e) if timed_out(&e) && deadline.is_its(shortened) => continue,
            Err(e) => break Err(explain(&e, timeout)),
        };
        watch.saw(chunk);
        out.write_all(chunk).map_err(to_stdout)?;
        let n = chunk.len();
        reader.consume(n);
    };
    out.flush().map_err(to_stdout)?;

    // 9. Not in the listing: a response that is not whole or breaks its own Content-Length is a
    //    failure, not a short success (every byte received has been passed on all the same).
    ended
        .and_then(|()| watch.verdict())
        .map_err(|why| fail(format!("Error receiving data: {why}")))
}
