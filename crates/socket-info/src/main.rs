//! socket-info — connect to a TCP server and print the addresses of both ends of the connection.
//!
//! Ports the "Information Example" listing of chapter 2.
//!
//! Run: `cargo run -p socket-info -- 127.0.0.1 51423`
//! Try: `cargo run -p tcp-listener` in another terminal first: it prints the address we connect from.

use lesson_common::{Args, Exit, Transport, fail, parse_port, py_addr};
use socket2::{Domain, Socket, Type};
use std::io::{self, Write};
use std::net::{IpAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "[HOST [PORT|SERVICE]]   (default: www.google.com http)";
/// What `--help` prints below the usage line.
const HELP: &str = "TODO";

/// The listing has no timeout: a connect to a silent host waits as long as the kernel retries SYNs
/// (about two minutes on Linux). Ten seconds is plenty for a lesson and says so when it runs out.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    lesson_common::report(USAGE, HELP, run())
}

fn run() -> Result<(), Exit> {
    let args = Args::from_env()?.positional(2)?;
    let host = args.first().map_or("www.google.com", String::as_str);
    let service = args.get(1).map_or("http", String::as_str);
    // Python 2's `print "…",` leaves the line open and `print "done."` finishes it with one space.
    // Our stdout is line-buffered, so flush by hand or the text would not show before a slow step.
    let mut out = io::stdout().lock();

    // 1. Create the socket. The listing always asks for IPv4 (AF_INET); we do too, unless HOST is an
    //    IPv6 literal such as `::1`, because a socket's family must match the address it connects to.
    write!(out, "Creating socket...")?;
    out.flush()?;
    let ipv6 = host.parse::<IpAddr>().is_ok_and(|ip| ip.is_ipv6());
    let socket = Socket::new(
        if ipv6 { Domain::IPV6 } else { Domain::IPV4 },
        Type::STREAM,
        None,
    )?;
    writeln!(out, " done.")?;

    // 2. Look up the port: a number, or a service name from /etc/services like getservbyname().
    write!(out, "Looking up port number...")?;
    out.flush()?;
    let port = parse_port(service, Transport::Tcp).map_err(|e| unfinished(&mut out, e))?;
    writeln!(out, " done.")?;

    // 3. Connect. Python's connect() resolves the name itself; Rust's socket2 wants an address, so we
    //    resolve here and, like an AF_INET socket would, keep the first address of the socket's family.
    write!(out, "Connecting to remote host on port {port}...")?;
    out.flush()?;
    let target = (host, port)
        .to_socket_addrs()
        .map_err(|e| unfinished(&mut out, format!("cannot resolve '{host}': {e}")))?
        .find(|addr| addr.is_ipv6() == ipv6)
        .ok_or_else(|| unfinished(&mut out, format!("'{host}' has no IPv4 address")))?;
    socket
        .connect_timeout(&target.into(), CONNECT_TIMEOUT)
        .map_err(|e| {
            unfinished(
                &mut out,
                format!("cannot connect to {}: {e}", py_addr(target)),
            )
        })?;
    writeln!(out, " done.")?;

    // 4. Ask the connected socket for both ends: getsockname() is our side — the kernel picked an
    //    ephemeral port for us — and getpeername() is the server's side.
    let ours = socket.local_addr()?.as_socket();
    let theirs = socket.peer_addr()?.as_socket();
    let (Some(ours), Some(theirs)) = (ours, theirs) else {
        return Err(fail("the socket has no IP address"));
    };
    writeln!(out, "Connected from {}", py_addr(ours))?;
    writeln!(out, "Connected to {}", py_addr(theirs))?;
    // Dropping `socket` here closes the connection, as the end of the Python script does.
    Ok(())
}

/// End the open progress line before the error goes to stderr, as Python 2 does when it exits
/// mid-`print …,`.
fn unfinished(out: &mut impl Write, error: impl std::fmt::Display) -> Exit {
    // If stdout is gone too there is nothing better to do than report the first error.
    let _ = writeln!(out);
    fail(error)
}
