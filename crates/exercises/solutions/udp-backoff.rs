//! udp-backoff, solved — exercise 3 (lesson udp-client): retransmit with exponential backoff.
//!
//! udp-client's steps, as the 3rd edition's UDP client takes them: connect a UDP socket to the
//! server, send one line of input as one datagram, print the one reply. A datagram lost on the
//! way (the request or the reply) is sent again, each wait twice the last: 0.1 s, 0.2 s, 0.4 s,
//! 0.8 s, 1.6 s, then it gives up. A fixed short wait would flood a link that is only slow.
//!
//! Run: `echo hello | cargo run -p exercises --bin udp-backoff-solution -- 127.0.0.1 51423`
//! Try: `cargo run -p udp-echo-server` beside it; check it across a lossy link with
//!      `cargo course exercise udp-backoff` (page: docs/exercises/udp-backoff.md).

use std::io::{self, BufRead, ErrorKind};
use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::Duration;

use lesson_common::{Args, Exit, Transport, fail, fail_with, parse_port, py_addr, resolve, usage};

const USAGE: &str = "HOST PORT|SERVICE";
const HELP: &str = "\
Send one line of standard input to a UDP server as one datagram and print its reply. Exercise 3
of the course: across a link that loses datagrams, send again with exponential backoff.

Arguments:
  HOST            the server's name or IP address
  PORT|SERVICE    its port, or a udp service name such as echo

Options:
  -h, --help      print this help";

/// The first wait; each next one is twice as long.
const FIRST_WAIT: Duration = Duration::from_millis(100);
/// At most this many sends (waits of 0.1 + 0.2 + 0.4 + 0.8 + 1.6 s: about 3 s in all).
const SENDS: u32 = 5;

fn main() -> ExitCode {
    lesson_common::report(USAGE, HELP, run())
}

fn run() -> Result<(), Exit> {
    let [host, port]: [String; 2] = Args::from_env()?
        .positional(2)?
        .try_into()
        .map_err(|_| usage("give the server's HOST and PORT"))?;

    // 1. The server's address: its IPv4 one, as the listing's AF_INET socket wants.
    let port = parse_port(&port, Transport::Udp)?;
    let found = resolve(&host, port, Transport::Udp)
        .map_err(|e| fail_with(format!("cannot resolve '{host}'"), e))?;
    let Some(&server) = found.iter().find(|a| a.is_ipv4()).or(found.first()) else {
        return Err(fail(format!("'{host}' has no address")));
    };

    // 2. A socket of the server's family, connected: only the server's datagrams reach it.
    let any: SocketAddr = if server.is_ipv4() {
        "0.0.0.0:0".parse().map_err(|e| fail_with("address", e))?
    } else {
        "[::]:0".parse().map_err(|e| fail_with("address", e))?
    };
    let socket = UdpSocket::bind(any)?;
    socket.connect(server)?;

    // 3. One line of input, without its line end.
    let mut line = String::new();
    io::stdin().lock().read_line(&mut line)?;
    let data = line.trim_end_matches(['\r', '\n']).as_bytes();

    // 4. Send, wait; no reply in time: send again and wait twice as long (exponential backoff,
    //    so a link that is slow rather than lossy is not flooded), at most SENDS times.
    let mut buf = [0u8; 65536];
    let mut wait = FIRST_WAIT;
    for sent in 1..=SENDS {
        socket.send(data)?;
        socket.set_read_timeout(Some(wait))?;
        match socket.recv(&mut buf) {
            Ok(n) => {
                println!("Received: {}", String::from_utf8_lossy(&buf[..n]));
                return Ok(());
            }
            // Linux reports an expired read timeout as WouldBlock, Windows as TimedOut (an
            // EINTR after Ctrl-Z and `fg` counts as a wait too: one send more, no harm).
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                eprintln!(
                    "(send {sent}: no reply within {} ms{})",
                    wait.as_millis(),
                    if sent < SENDS { "; sending again" } else { "" }
                );
                wait *= 2;
            }
            // Refused: our datagram drew ICMP "port unreachable", so nothing listens there.
            Err(e) => return Err(fail_with(format!("no reply from {}", py_addr(server)), e)),
        }
    }
    Err(fail(format!(
        "no reply from {} after {SENDS} sends; the server seems to be down",
        py_addr(server)
    )))
}
