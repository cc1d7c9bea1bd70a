//! try-each-address — exercise 5 (lesson socket-info): try every address getaddrinfo returns
//! until one connects.
//!
//! socket-info's connect, for any name: it resolves HOST, makes a socket of the address's family
//! and connects, then prints both ends. As shipped it tries only the first address the resolver
//! returns, so a name with an IPv6 and an IPv4 address fails whenever the first one has no server,
//! even though the second has: find the TODO.
//!
//! Run: `cargo run -p exercises --bin try-each-address -- localhost 51423`
//! Try: `cargo run -p tcp-listener` beside it; check it with
//!      `cargo course exercise try-each-address` (page: docs/exercises/try-each-address.md).

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use lesson_common::{Args, Exit, Transport, fail, fail_with, parse_port, py_addr, resolve};
use socket2::{Domain, Socket, Type};

const USAGE: &str = "HOST [PORT|SERVICE]";
const HELP: &str = "\
Connect to a TCP server by name, trying the addresses the resolver gives, and print the
addresses of both ends of the connection. Exercise 5 of the course.

Arguments:
  HOST            the server's name or IP address
  PORT|SERVICE    a port number 0-65535, or a tcp service name such as http (default: http)

Options:
  -h, --help      print this help";

/// The listing has no timeout; ten seconds per address is plenty on a lesson's loopback.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    lesson_common::report(USAGE, HELP, run())
}

fn run() -> Result<(), Exit> {
    let args = Args::from_env()?.positional(2)?;
    let Some(host) = args.first() else {
        return Err(lesson_common::usage("give the host to connect to"));
    };
    let service = args.get(1).map_or("http", String::as_str);
    let mut out = io::stdout().lock();

    // 1. Look up the port: a number, or a service name from /etc/services.
    let port = parse_port(service, Transport::Tcp)?;

    // 2. Resolve the name: getaddrinfo gives every address of the host, in the order it prefers
    //    (RFC 6724: IPv6 before IPv4, usually), one per line of the hosts file or DNS record.
    let addresses = resolve(host, port, Transport::Tcp)
        .map_err(|e| fail_with(format!("cannot resolve '{host}'"), e))?;
    writeln!(out, "Connecting to remote host on port {port}...")?;

    // 3. Connect. A socket's family must match its address's, so each address gets a socket of
    //    its own.
    // TODO: only the first address is tried. When nothing listens there (connection refused) or
    //       it cannot be reached, try the next one, and the next, until one connects; fail with
    //       the last error only when every address failed.
    let Some(&target) = addresses.first() else {
        return Err(fail(format!("'{host}' has no address")));
    };
    let socket = Socket::new(Domain::for_address(target), Type::STREAM, None)?;
    if let Err(e) = socket.connect_timeout(&target.into(), CONNECT_TIMEOUT) {
        return Err(fail_with(
            format!("cannot connect to {}", py_addr(target)),
            e,
        ));
    }

    // 4. Both ends: getsockname() is our side, getpeername() the server's.
    let ours = socket.local_addr()?.as_socket();
    let theirs = socket.peer_addr()?.as_socket();
    let (Some(ours), Some(theirs)) = (ours, theirs) else {
        return Err(fail("the socket has no IP address"));
    };
    writeln!(out, "Connected from {}", py_addr(ours))?;
    writeln!(out, "Connected to {}", py_addr(theirs))?;
    // Dropping `socket` here closes the connection.
    Ok(())
}
