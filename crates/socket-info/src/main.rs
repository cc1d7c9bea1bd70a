//! socket-info — connect to a TCP server and print the addresses of both ends of the connection.
//!
//! Ports the Information Example of chapter 2 (Foundations of Python Network Programming, 1st
//! edition). Deviations: HOST and PORT are arguments, IPv6 literals work, the connect times out.
//!
//! Run: `cargo run -p socket-info -- 127.0.0.1 51423`
//! Try: `cargo run -p tcp-listener` in another terminal first: it logs the address we connect from.

use std::io::{self, Write};
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

use lesson_common::{Args, Exit, Transport, fail, fail_with, parse_port, py_addr, resolve};
use socket2::{Domain, Socket, Type};

const USAGE: &str = "[HOST [PORT|SERVICE]]";
const HELP: &str = "\
Connect to a TCP server and print the addresses of both ends of the connection.
Ports the Information Example of chapter 2 (Foundations of Python Network Programming, 1st edition).

Arguments:
  HOST            the server's name or IP address (default: www.google.com)
  PORT|SERVICE    a port number 0-65535, or a tcp service name such as http (default: http)

Options:
  -h, --help      print this help

Example:
  cargo run -p socket-info -- 127.0.0.1 51423    (start tcp-listener first)";

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

    // 1. Create the socket. The listing always asks for IPv4 (AF_INET); we do too, unless HOST is
    //    an IPv6 literal such as `::1`, because a socket's family must match the address it
    //    connects to.
    write!(out, "Creating socket...")?;
    out.flush()?;
    let ipv6 = host.parse::<IpAddr>().is_ok_and(|ip| ip.is_ipv6());
    let domain = if ipv6 { Domain::IPV6 } else { Domain::IPV4 };
    let socket = Socket::new(domain, Type::STREAM, None)?;
    writeln!(out, " done.")?;

    // 2. Look up the port: a number, or a service name from /etc/services like getservbyname().
    write!(out, "Looking up port number...")?;
    out.flush()?;
    let port = match parse_port(service, Transport::Tcp) {
        Ok(port) => port,
        Err(e) => return Err(unfinished(&mut out, e.into())),
    };
    writeln!(out, " done.")?;

    // 3. Connect. Python's connect() resolves the name itself; socket2 wants an address, so we
    //    resolve here and, as an AF_INET socket would, keep the first address of the socket's
    //    family.
    write!(out, "Connecting to remote host on port {port}...")?;
    out.flush()?;
    // ANCHOR: connect
    let addresses = match resolve(host, port, Transport::Tcp) {
        Ok(addresses) => addresses,
        Err(e) => {
            return Err(unfinished(
                &mut out,
                fail_with(format!("cannot resolve '{host}'"), e),
            ));
        }
    };
    let Some(target) = addresses.into_iter().find(|a| a.is_ipv6() == ipv6) else {
        return Err(unfinished(
            &mut out,
            fail(format!("'{host}' has no IPv4 address")),
        ));
    };
    if let Err(e) = socket.connect_timeout(&target.into(), CONNECT_TIMEOUT) {
        let context = format!("cannot connect to {}", py_addr(target));
        return Err(unfinished(&mut out, fail_with(context, e)));
    }
    // ANCHOR_END: connect
    writeln!(out, " done.")?;

    // 4. Ask the connected socket for both ends: getsockname() is our side — the kernel picked an
    //    ephemeral port for us — and getpeername() is the server's side.
    // ANCHOR: names
    let ours = socket.local_addr()?.as_socket();
    let theirs = socket.peer_addr()?.as_socket();
    let (Some(ours), Some(theirs)) = (ours, theirs) else {
        return Err(fail("the socket has no IP address"));
    };
    writeln!(out, "Connected from {}", py_addr(ours))?;
    writeln!(out, "Connected to {}", py_addr(theirs))?;
    // ANCHOR_END: names
    // Dropping `socket` here closes the connection, as the end of the Python script does.
    Ok(())
}

/// End the open progress line before the error goes to stderr, as Python 2 does when it exits
/// mid-`print …,`.
fn unfinished(out: &mut impl Write, error: Exit) -> Exit {
    // If stdout is gone too there is nothing better to do than report the first error.
    let _ = writeln!(out);
    error
}
