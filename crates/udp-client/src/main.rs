//! udp-client — send one line of input to a UDP server, then print every datagram it sends back.
//!
//! Ports `udp.py`, the UDP Example of chapter 2 (Foundations of Python Network Programming, 1st
//! edition). Deviation: it stops after a few seconds without a reply instead of waiting forever.
//!
//! Run: `echo hello | cargo run -p udp-client -- 127.0.0.1 51423`
//! Try: `cargo run -p udp-echo-server` in another terminal first.

use std::io::{self, ErrorKind, Write};
use std::net::{Shutdown, UdpSocket};
use std::process::ExitCode;
use std::time::Duration;

use lesson_common::{
    Args, Exit, Transport, above_zero, fail, fail_with, parse_port, py_addr, resolve, usage,
};
use socket2::{Domain, Socket, Type};

mod line;

const USAGE: &str = "[--timeout SECONDS] HOST PORT|SERVICE";
const HELP: &str = "\
Send one line of standard input to a UDP server as one datagram, then print every datagram it sends
back, until an empty one arrives or none comes for a while.
Ports udp.py, the UDP Example of chapter 2 (Foundations of Python Network Programming, 1st edition).

Arguments:
  HOST                 the server's name or IP address
  PORT|SERVICE         a port number 0-65535, or a udp service name such as echo

Options:
  --timeout SECONDS    how long to wait for a reply before stopping (default: 5)
  -h, --help           print this help

Example:
  echo hello | cargo run -p udp-client -- 127.0.0.1 51423    (start udp-echo-server first)";

fn main() -> ExitCode {
    lesson_common::report(USAGE, HELP, run())
}

fn run() -> Result<(), Exit> {
    let mut args = Args::from_env()?;
    // Deviation: the listing waits for replies forever; we stop after this long without one.
    let timeout = args.seconds("--timeout", Duration::from_secs(5))?;
    let timeout = above_zero("--timeout", timeout)?; // to the OS, 0 would mean "wait forever"
    let Ok([host, port]) = <[String; 2]>::try_from(args.positional(2)?) else {
        return Err(usage(
            "give the server's HOST and PORT (a number or a udp service name)",
        ));
    };

    // 1. The port: a number, else a service name looked up for udp (`getservbyname(…, 'udp')`).
    let port = parse_port(&port, Transport::Udp)?;
    // Like the listing's AF_INET socket, take the host's IPv4 address (IPv6 only if it has none).
    let found = resolve(&host, port, Transport::Udp)
        .map_err(|e| fail_with(format!("cannot resolve '{host}'"), e))?;
    let Some(&server) = found.iter().find(|a| a.is_ipv4()).or(found.first()) else {
        return Err(fail(format!("'{host}' has no address")));
    };

    // ANCHOR: connect
    // 2. Create a UDP socket (once the address is known, so its family matches) and connect() it,
    //    as the listing does. No packet is sent: connecting only fixes the peer, so the kernel drops
    //    others' datagrams and reports an ICMP "port unreachable" as a refused next receive.
    let socket = Socket::new(Domain::for_address(server), Type::DGRAM, None)?;
    socket.connect(&server.into())?;
    // ANCHOR_END: connect

    // 3. Ask for one line, in bytes (any input is sent as typed) and at most what one datagram can
    //    carry, stripped as Python's `strip()` strips (see line.rs). At EOF it is empty, and an
    //    empty datagram is sent, as in Python.
    let mut out = io::stdout().lock();
    writeln!(out, "Enter data to transmit: ")?;
    out.flush()?;
    let input = line::read(io::stdin().lock())?;
    let data = line::strip(&input);

    // ANCHOR: send
    // 4. One send is one datagram; it goes whole or not at all (too big: "Message too long").
    if let Err(e) = socket.send(data) {
        return Err(fail_with(format!("cannot send {} bytes", data.len()), e));
    }
    // 5. Shut down the sending side, as the listing does (`shutdown(1)`). On UDP nothing goes on
    //    the wire (no connection, no FIN): this socket just may not send again.
    socket.shutdown(Shutdown::Write)?;
    // ANCHOR_END: send
    // std's UdpSocket from here: its recv fills a plain `&mut [u8]` (socket2's wants MaybeUninit).
    let socket = UdpSocket::from(socket);
    socket.set_read_timeout(Some(timeout))?;
    writeln!(
        out,
        "Looking for replies; press Ctrl-C or Ctrl-Break to stop."
    )?;
    out.flush()?;

    // 6. Print each reply. The buffer holds any datagram, so no reply is cut short; bytes that are
    //    not UTF-8 print as U+FFFD instead of stopping the program.
    let mut buf = vec![0u8; 65536];
    let mut replies = 0u32;
    loop {
        match socket.recv(&mut buf) {
            // An empty datagram ends the conversation, as in the listing.
            Ok(0) => return Ok(()),
            Ok(n) => {
                writeln!(out, "Received: {}", String::from_utf8_lossy(&buf[..n]))?;
                out.flush()?;
                replies += 1;
            }
            // Stopped and resumed (Ctrl-Z, then `fg`), Linux fails a receive that has a timeout
            // with EINTR even though no handler ran: nothing went wrong, so wait again.
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            // Linux reports an expired read timeout as WouldBlock, Windows as TimedOut.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                let waited = timeout.as_secs_f64();
                if replies == 0 {
                    let server = py_addr(server);
                    return Err(fail(format!("no reply from {server} within {waited} s")));
                }
                eprintln!("(no further reply within {waited} s; stopping)");
                return Ok(());
            }
            // Refused: our datagram drew ICMP "port unreachable", so nothing listens there.
            Err(e) => return Err(fail_with(format!("no reply from {}", py_addr(server)), e)),
        }
    }
}
