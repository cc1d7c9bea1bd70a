//! try-each-address, solved — exercise 5 (lesson socket-info): try every address getaddrinfo
//! returns until one connects.
//!
//! socket-info's connect, for any name: it resolves HOST and tries each address in the resolver's
//! order, a socket of the address's family each, until one connects; then it prints both ends.
//! Each address that fails is said on stderr; only when all fail is it an error.
//!
//! Run: `cargo run -p exercises --bin try-each-address-solution -- localhost 51423`
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

    // 3. Connect: each address in the resolver's order, a socket of its family each (a socket's
    //    family must match its address's), until one connects. A refused or unreachable address
    //    is said on stderr and the next one tried, as Python's socket.create_connection() does;
    //    only the last error ends the program, once every address has failed.
    let mut last = None;
    let mut connected = None;
    for &target in &addresses {
        // A socket of a family this host lacks (EAFNOSUPPORT: IPv6 switched off) is that
        // address's failure too, not the program's.
        let tried = Socket::new(Domain::for_address(target), Type::STREAM, None).and_then(|s| {
            s.connect_timeout(&target.into(), CONNECT_TIMEOUT)?;
            Ok(s)
        });
        match tried {
            Ok(socket) => {
                connected = Some(socket);
                break;
            }
            Err(e) => {
                eprintln!(
                    "cannot connect to {}: {e}; trying the next address",
                    py_addr(target)
                );
                last = Some((target, e));
            }
        }
    }
    let socket = match (connected, last) {
        (Some(socket), _) => socket,
        (None, Some((target, e))) => {
            return Err(fail_with(
                format!("cannot connect to {}", py_addr(target)),
                e,
            ));
        }
        (None, None) => return Err(fail(format!("'{host}' has no address"))),
    };

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
