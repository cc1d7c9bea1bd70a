//! http-fetch — fetch one page over HTTP/1.0 and show *where* each kind of network error surfaces.
//!
//! Ports "Error Handling Example With Shutdown and File-Like Objects" (chapter 2): look up the
//! port, connect, pause, write the request, flush, shut down the sending side, read to EOF.
//!
//! Run: `cargo run -p http-fetch -- --pause 0 127.0.0.1 8000 /`
//! Try: `python3 -m http.server --bind 127.0.0.1 8000` beside it; stop it during the pause.

use dns_lookup::AddrInfoHints;
use lesson_common::{Args, Exit, Transport, fail, parse_port, usage};
use socket2::{Domain, Socket, Type};
use std::io::{self, BufRead, BufReader, BufWriter, ErrorKind, Write};
use std::net::{Shutdown, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "[--pause SECONDS] [--timeout SECONDS] HOST PORT|SERVICE PATH";
/// What `--help` prints below the usage line.
const HELP: &str = "TODO";
/// How much of the response head we keep to look for `Content-Length`; the body is never kept.
const HEAD_LIMIT: usize = 16 * 1024;

fn main() -> ExitCode {
    lesson_common::report(USAGE, HELP, run())
}

fn run() -> Result<(), Exit> {
    let mut args = Args::from_env()?;
    let pause = args.seconds("--pause", Duration::from_secs(10))?; // the listing's sleep(10)
    let timeout = args.seconds("--timeout", Duration::from_secs(10))?;
    if timeout.is_zero() {
        // To the OS a zero socket timeout means "wait forever", the opposite of what was asked.
        return Err(usage(
            "--timeout wants a number of seconds above 0, not '0'",
        ));
    }
    let [host, textport, path] = <[String; 3]>::try_from(args.positional(3)?)
        .map_err(|_| usage("need HOST, PORT|SERVICE and PATH"))?;
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

    // 1. Create the socket. Python makes an IPv4 socket before anything else; we wait until the name
    //    is resolved, so an IPv6 address gets an IPv6 socket (step 3, "Strange error creating socket").
    // 2. Look up the port: a number, else a service name such as "http" (from /etc/services).
    let port = parse_port(&textport, Transport::Tcp)
        .map_err(|e| fail(format!("Couldn't find your port: {e}")))?;

    // 3. Connect. dns_lookup's LookupError is Python's `socket.gaierror` (std would blur it into an
    //    io::Error). Unlike the listing: every address the name has, each with a timeout.
    let hints = AddrInfoHints {
        socktype: Type::STREAM.into(),
        ..AddrInfoHints::default()
    };
    let addresses = dns_lookup::getaddrinfo(Some(&host), None, Some(hints))
        .and_then(|found| found.collect::<io::Result<Vec<_>>>().map_err(Into::into))
        .map_err(|e| {
            fail(format!(
                "Address-related error connecting to server: {}",
                lesson_common::GaiError::from(e)
            ))
        })?;
    let mut outcome = Err(fail(
        "Address-related error connecting to server: no address found",
    ));
    for mut address in addresses.into_iter().map(|info| info.sockaddr) {
        address.set_port(port);
        outcome = Socket::new(Domain::for_address(address), Type::STREAM, None)
            .map_err(|e| fail(format!("Strange error creating socket: {e}")))
            .and_then(
                |socket| match socket.connect_timeout(&address.into(), timeout) {
                    Ok(()) => Ok(TcpStream::from(socket)),
                    Err(e) => Err(fail(format!("Connection error: {}", explain(&e, timeout)))),
                },
            );
        if outcome.is_ok() {
            break;
        }
    }
    let stream = outcome?;
    // The listing waits forever on a silent server; we give every read and write a deadline.
    stream
        .set_read_timeout(Some(timeout))
        .and(stream.set_write_timeout(Some(timeout)))?;

    // 4. `makefile('rw', 0)`. Python's unbuffered file sends at each write(); a BufWriter keeps the
    //    bytes until flush (step 6) unless they outgrow its 8 KiB. BufReader reads big chunks and
    //    lends them out (`fill_buf`), so the body goes from socket to stdout with no second copy.
    let mut writer = BufWriter::new(&stream);
    let mut reader = BufReader::with_capacity(64 * 1024, &stream);
    let mut out = io::stdout().lock(); // one lock for the whole run, not one per write
    let to_stdout = |e: io::Error| fail(format!("Error writing output: {e}"));

    writeln!(out, "sleeping").map_err(to_stdout)?; // Rust's stdout sends each line at its newline
    std::thread::sleep(pause);
    writeln!(out, "Continuing.").map_err(to_stdout)?;

    // 5. Write the request. Deviation: a Host header (the listing sends none; HTTP/1.1-era servers
    //    pick the site by it). This fails only for a PATH longer than the buffer; see step 4.
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
    write!(writer, "GET {path} HTTP/1.0\r\nHost: {authority}\r\n\r\n")
        .map_err(|e| fail(format!("Error sending data: {e}")))?;
    // 6. Flush: here the bytes are handed to the kernel; a reset peer shows up here.
    writer
        .flush()
        .map_err(|e| fail(format!("Error sending data (detected by flush): {e}")))?;
    // 7. Shut down our sending side (the listing's `shutdown(1)`): the server reads EOF after the
    //    request. If the peer is already gone, Linux says "not connected" here.
    stream
        .shutdown(Shutdown::Write)
        .map_err(|e| fail(format!("Error sending data (detected by shutdown): {e}")))?;

    // 8. Read until EOF and pass every byte through unchanged, watching the head for Content-Length.
    let (mut received, mut head, mut declared) = (0u64, Vec::new(), None);
    loop {
        let chunk = match reader.fill_buf() {
            Ok([]) => break, // a read of 0 bytes: the server closed its side, the response is done
            Ok(chunk) => chunk,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue, // a signal, not an error
            Err(e) => {
                return Err(fail(format!(
                    "Error receiving data: {}",
                    explain(&e, timeout)
                )));
            }
        };
        if declared.is_none() && head.len() < HEAD_LIMIT {
            head.extend_from_slice(&chunk[..chunk.len().min(HEAD_LIMIT - head.len())]);
            if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                declared = Some((end as u64 + 4, content_length(&head[..end])));
                head = Vec::new();
            }
        }
        out.write_all(chunk).map_err(to_stdout)?;
        let n = chunk.len();
        received += n as u64;
        reader.consume(n);
    }
    out.flush().map_err(to_stdout)?;

    // 9. Not in the listing: a close before Content-Length bytes is a failure, not a short success.
    match declared.and_then(|(head_len, want)| Some((received - head_len, want?))) {
        Some((body, want)) if body < want => Err(fail(format!(
            "Error receiving data: connection closed after {body} of {want} body bytes"
        ))),
        _ => Ok(()),
    }
}

/// Say "timed out" for a deadline, whichever kind the platform uses (Linux reads say WouldBlock).
fn explain(e: &io::Error, timeout: Duration) -> String {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => format!("timed out after {timeout:?}"),
        _ => e.to_string(),
    }
}

/// The `Content-Length` value in a response head (status line and headers, no blank line).
fn content_length(head: &[u8]) -> Option<u64> {
    let head = String::from_utf8_lossy(head);
    let mut headers = head.lines().skip(1).filter_map(|line| line.split_once(':'));
    let (_, value) =
        headers.find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))?;
    value.trim().parse().ok()
}
