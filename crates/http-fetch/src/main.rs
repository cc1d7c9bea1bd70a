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
use std::time::{Duration, Instant};

use lesson_common::{Args, Exit, Transport, fail, fail_with, parse_port, resolve, usage};
use socket2::{Domain, Socket, Type};

mod response;

const USAGE: &str =
    "[--pause SECONDS] [--timeout SECONDS] [--deadline SECONDS] HOST PORT|SERVICE PATH";
const HELP: &str = "\
Fetch one page over HTTP/1.0, copy the response to stdout, and say at which step a failure shows up.
Ports the Error Handling Example With Shutdown and File-Like Objects of chapter 2 (Foundations of
Python Network Programming, 1st edition).

Arguments:
  HOST                 the server's name or IP address
  PORT|SERVICE         a port number 0-65535, or a tcp service name such as http
  PATH                 the path to ask for; starts with /, no spaces or control characters

Options:
  --pause SECONDS      how long to sleep between connecting and sending, as the listing's
                       sleep(10) (default: 10)
  --timeout SECONDS    the longest wait for the connect and for each read and write (default: 10)
  --deadline SECONDS   the longest the request and the whole response may take, counted from
                       `Continuing.` (default: 60)
  -h, --help           print this help

Example:
  cargo run -p http-fetch -- --pause 0 127.0.0.1 8000 /
  (with `python3 -m http.server --bind 127.0.0.1 8000` running)";

fn main() -> ExitCode {
    lesson_common::report(USAGE, HELP, run())
}

fn run() -> Result<(), Exit> {
    let mut args = Args::from_env()?;
    let pause = args.seconds("--pause", Duration::from_secs(10))?; // the listing's sleep(10)
    let timeout = args.seconds("--timeout", Duration::from_secs(10))?;
    let deadline = args.seconds("--deadline", Duration::from_secs(60))?;
    for (name, value) in [("--timeout", timeout), ("--deadline", deadline)] {
        // To the OS a zero socket timeout means "wait forever", the opposite of what was asked.
        if value.is_zero() {
            return Err(usage(format!(
                "{name} wants a number of seconds above 0, not '0'"
            )));
        }
    }
    let Ok([host, textport, path]) = <[String; 3]>::try_from(args.positional(3)?) else {
        return Err(usage("need HOST, PORT|SERVICE and PATH"));
    };
    // Not in the listing: a CR, LF or space in PATH would smuggle in a second header or request.
    let unsafe_char = |c: char| c.is_control() || c.is_whitespace();
    if !path.starts_with('/') || path.contains(unsafe_char) {
        return Err(usage(
            "PATH must start with '/'; no spaces or control characters in it",
        ));
    }
    if host.contains(unsafe_char) {
        return Err(usage("HOST must not contain spaces or control characters"));
    }

    // 1. Look up the port: a number, else a service name such as "http" (from /etc/services). A
    //    malformed number is a usage error; a name the system does not know is the listing's
    //    "Couldn't find your port".
    let port =
        parse_port(&textport, Transport::Tcp).map_err(|e| e.context("Couldn't find your port"))?;

    // 2. Create the socket and connect. Python makes one IPv4 socket before anything else; we
    //    resolve first (a failure is Python's `socket.gaierror`: "Address-related error") and make
    //    a socket of each address's family, so IPv6 works. Unlike the listing we try every address
    //    the name has, each with a timeout, and report the last failure.
    // ANCHOR: connect
    let addresses = match resolve(&host, port, Transport::Tcp) {
        Ok(addresses) => addresses,
        Err(e) => return Err(fail_with("Address-related error connecting to server", e)),
    };
    let mut failure = fail("Address-related error connecting to server: no address found");
    let mut connected = None;
    for address in addresses {
        let socket = match Socket::new(Domain::for_address(address), Type::STREAM, None) {
            Ok(socket) => socket,
            Err(e) => {
                failure = fail_with("Strange error creating socket", e);
                continue;
            }
        };
        match socket.connect_timeout(&address.into(), timeout) {
            Ok(()) => {
                connected = Some(TcpStream::from(socket));
                break;
            }
            Err(e) => failure = fail(format!("Connection error: {}", explain(&e, timeout))),
        }
    }
    let Some(stream) = connected else {
        return Err(failure);
    };
    // ANCHOR_END: connect
    // The listing waits forever on a silent server; we give every read and write a deadline.
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;

    // 3. `makefile('rw', 0)`. Python's unbuffered file sends at each write(); a BufWriter keeps the
    //    bytes until flush (step 6) unless they outgrow its 8 KiB. BufReader reads big chunks and
    //    lends them out (`fill_buf`), so the body goes from socket to stdout with no second copy.
    let mut writer = BufWriter::new(&stream);
    let mut reader = BufReader::with_capacity(64 * 1024, &stream);
    let mut out = io::stdout().lock(); // one lock for the whole run, not one per write
    let to_stdout = |e: io::Error| fail_with("Error writing output", e);

    // 4. Pause, as the listing's `time.sleep(10)`: the time to stop the server and watch the
    //    errors.
    writeln!(out, "sleeping").map_err(to_stdout)?; // Rust's stdout sends each line at its newline
    std::thread::sleep(pause);
    writeln!(out, "Continuing.").map_err(to_stdout)?;
    // Deviation: the whole exchange has a deadline, where a per-read timeout alone lets a server
    // that trickles a byte a second run for ever. (None: too far away to matter.)
    let ends = Instant::now().checked_add(deadline);

    // ANCHOR: send
    // 5. Write the request. Deviation: a Host header (the listing sends none; HTTP/1.1-era servers
    //    pick the site by it). This fails only for a PATH longer than the buffer; see step 3.
    let name = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    let authority = if port == 80 {
        name
    } else {
        format!("{name}:{port}")
    };
    let request = format!("GET {path} HTTP/1.0\r\nHost: {authority}\r\n\r\n");
    if let Err(e) = writer.write_all(request.as_bytes()) {
        return Err(fail_with("Error sending data", e));
    }
    // 6. Flush: here the bytes are handed to the kernel; a reset peer shows up here. On failure
    //    let the unsent bytes go: a BufWriter dropped full would flush again, a second send.
    if let Err(e) = writer.flush() {
        let _unsent = writer.into_parts();
        return Err(fail_with("Error sending data (detected by flush)", e));
    }
    // 7. Shut down our sending side (the listing's `shutdown(1)`): the server reads EOF after the
    //    request. If the peer is already gone, Linux says "not connected" here.
    if let Err(e) = stream.shutdown(Shutdown::Write) {
        return Err(fail_with("Error sending data (detected by shutdown)", e));
    }
    // ANCHOR_END: send

    // 8. Read until EOF and pass every byte through unchanged, watching the response go by.
    let mut watch = response::Watch::default();
    let ended = loop {
        let left = ends.map(|end| end.saturating_duration_since(Instant::now()));
        if left.is_some_and(|left| left.is_zero()) {
            break Err(format!(
                "response not complete within the {deadline:?} deadline"
            ));
        }
        if let Some(left) = left.filter(|&left| left < timeout) {
            stream.set_read_timeout(Some(left))?; // the last wait ends at the deadline
        }
        let chunk = match reader.fill_buf() {
            Ok([]) => break Ok(()), // a read of 0 bytes: the server closed its side, all is here
            Ok(chunk) => chunk,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue, // a signal, not an error
            Err(e) if timed_out(&e) && ends.is_some_and(|end| Instant::now() >= end) => continue,
            Err(e) => break Err(explain(&e, timeout)),
        };
        watch.saw(chunk);
        out.write_all(chunk).map_err(to_stdout)?;
        let n = chunk.len();
        reader.consume(n);
    };
    out.flush().map_err(to_stdout)?;

    // 9. Not in the listing: the response must be whole and keep its own word — no empty reply, a
    //    head that ends (16 KiB at most), a usable Content-Length and that many body bytes. Else a
    //    failure, not a short success (every byte received has been passed on all the same).
    ended
        .and_then(|()| watch.verdict())
        .map_err(|why| fail(format!("Error receiving data: {why}")))
}

/// Whether a socket error is an expired timeout (Linux reads say WouldBlock, others TimedOut).
fn timed_out(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Say "timed out" for a deadline, whichever kind the platform uses.
fn explain(e: &io::Error, timeout: Duration) -> String {
    if timed_out(e) {
        format!("timed out after {timeout:?}")
    } else {
        e.to_string()
    }
}
