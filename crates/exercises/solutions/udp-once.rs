//! udp-once, solved — exercise 4 (lesson udp-client): print each reply once, and only the
//! server's.
//!
//! udp-client's steps with an unconnected socket: send one line of input to the server as one
//! datagram with `send_to`, then print its reply. A datagram from any other sender is left out
//! (its address is held against the server's: the same host from another port is another
//! sender). One request wants one reply: the first datagram from the server is printed, and the
//! program ends there, so a copy (the network may duplicate a datagram) or a second answer (a
//! server that got our request twice answers twice) is never printed. Comparing contents would
//! not do: two real replies may be equal, and two answers to one request need not be.
//!
//! Run: `echo hello | cargo run -p exercises --bin udp-once-solution -- 127.0.0.1 51423`
//! Try: `cargo run -p udp-echo-server` beside it; check it across a duplicating link with
//!      `cargo course exercise udp-once` (page: docs/exercises/udp-once.md).

use std::io::{self, BufRead, ErrorKind};
use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::Duration;

use lesson_common::{Args, Exit, Transport, fail, fail_with, parse_port, py_addr, resolve, usage};

const USAGE: &str = "HOST PORT|SERVICE";
const HELP: &str = "\
Send one line of standard input to a UDP server as one datagram, then print its first reply (it
waits at most half a second for it). Exercise 4 of the course: print each reply once, and only the
server's.

Arguments:
  HOST            the server's name or IP address
  PORT|SERVICE    its port, or a udp service name such as echo

Options:
  -h, --help      print this help";

/// How long the program waits for the reply.
const QUIET: Duration = Duration::from_millis(500);

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

    // 2. A socket of the server's family, not connected: any sender's datagrams reach it.
    //    (connect() would have the kernel drop the others' for us; here we look ourselves.)
    let any: SocketAddr = if server.is_ipv4() {
        "0.0.0.0:0".parse().map_err(|e| fail_with("address", e))?
    } else {
        "[::]:0".parse().map_err(|e| fail_with("address", e))?
    };
    let socket = UdpSocket::bind(any)?;

    // 3. One line of input, without its line end, sent as one datagram.
    let mut line = String::new();
    io::stdin().lock().read_line(&mut line)?;
    let data = line.trim_end_matches(['\r', '\n']).as_bytes();
    socket.send_to(data, server)?;

    // 4. Print the server's first reply, and stop: one request, one reply. UDP has no
    //    connection: a datagram's source address is all that says who sent it.
    socket.set_read_timeout(Some(QUIET))?;
    let mut buf = [0u8; 65536];
    loop {
        match socket.recv_from(&mut buf) {
            Ok((n, from)) if from != server => {
                eprintln!(
                    "(left out {n} bytes from {}: not the server)",
                    py_addr(from)
                );
            }
            Ok((n, _)) => {
                println!("Received: {}", String::from_utf8_lossy(&buf[..n]));
                return Ok(());
            }
            // Linux reports an expired read timeout as WouldBlock, Windows as TimedOut.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                let waited = QUIET.as_secs_f64();
                return Err(fail(format!(
                    "no reply from {} within {waited} s",
                    py_addr(server)
                )));
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(fail_with(format!("no reply from {}", py_addr(server)), e)),
        }
    }
}
