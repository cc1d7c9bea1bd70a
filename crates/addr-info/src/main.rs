//! addr-info — print what `getaddrinfo()` answers for a host and service, one tuple a line.
//!
//! Ports the `socket.getaddrinfo()` explanation of chapter 4 (Foundations of Python Network
//! Programming, 1st edition): the call, and the five fields of each result, `(family, socktype,
//! proto, canonname, sockaddr)`. Deviation: one tuple a line, with the constants' names.
//!
//! Run: `cargo run -p addr-info -- localhost http`
//! Try: the same call in Python 2 beside it (the page shows the one-liner), and
//!      `cargo run -p dns-validate -- 127.0.0.1`, whose forward step makes this call.

use std::io::{self, Write};
use std::process::ExitCode;

use dns_lookup::AddrInfoHints;
use lesson_common::{Args, Exit, GaiError, PortError, fail_with, py_addr, usage};
use socket2::{Domain, Protocol, Type};

const USAGE: &str = "HOST [PORT|SERVICE]";
const HELP: &str = "\
Print every result getaddrinfo() gives for a host and an optional port or service, one
(family, socktype, proto, canonname, sockaddr) tuple a line, as Python 2 prints them.
Ports the getaddrinfo() explanation of chapter 4 (Foundations of Python Network Programming,
1st edition).

Arguments:
  HOST            a host name or IP address
  PORT|SERVICE    a port number 0-65535, or a service name such as http, passed on as typed
                  (default: none, as Python's None: port 0 in every result)

Options:
  -h, --help      print this help

Example:
  cargo run -p addr-info -- localhost http";

fn main() -> ExitCode {
    lesson_common::report(USAGE, HELP, run())
}

fn run() -> Result<(), Exit> {
    // 1. The arguments: a host, and an optional port or service (Python's None when absent).
    let mut args = Args::from_env()?.positional(2)?.into_iter();
    let Some(host) = args.next() else {
        return Err(usage("give a host name or address"));
    };
    let service = args.next();

    // 2. The service goes to getaddrinfo as typed, as Python passes it, rather than through
    //    lesson_common::parse_port: the C library looks a name up once per socket type, so `biff`
    //    (udp only in /etc/services) yields just a datagram tuple — part of what this lesson shows.
    //    One check first: glibc wraps a number past 65535 silently (65536 becomes port 0).
    if let Some(number) = service.as_deref().filter(|s| !s.is_empty()) {
        if number.bytes().all(|b| b.is_ascii_digit()) && number.parse::<u16>().is_err() {
            return Err(PortError::NotAPort(number.to_string()).into());
        }
    }

    // ANCHOR: call
    // 3. getaddrinfo(host, port) with all-zero hints, as Python passes them: any family, any socket
    //    type, flags 0. (A null hints pointer would let glibc add AI_V4MAPPED | AI_ADDRCONFIG.)
    let hints = AddrInfoHints::default();
    let results = match dns_lookup::getaddrinfo(Some(&host), service.as_deref(), Some(hints)) {
        Ok(results) => results,
        Err(e) => {
            // Python's words for a gaierror: `[Errno -2] Name or service not known`.
            let service = service.as_ref().map_or("None".into(), |s| format!("'{s}'"));
            return Err(fail_with(
                format!("getaddrinfo('{host}', {service})"),
                GaiError(e),
            ));
        }
    };
    // ANCHOR_END: call

    // ANCHOR: print
    // 4. One line per result, in the resolver's order, as Python 2 prints each tuple. The numbers
    //    are the OS's own (AF_INET6 is 10 on Linux, 30 on macOS), so the comment names the
    //    constants; socket2's Debug form gives those names. canonname is empty: we did not ask for
    //    AI_CANONNAME. `writeln!` to a locked stdout: `… | head -1` ends with an error line, not a
    //    panic.
    let mut out = io::stdout().lock();
    for info in results {
        let info = info?;
        let proto = match info.protocol {
            0 => "IPPROTO_IP".to_string(), // 0: "the usual protocol for this socket type"
            number => format!("{:?}", Protocol::from(number)),
        };
        writeln!(
            out,
            "({}, {}, {}, '{}', {})  # {:?} {:?} {proto}",
            info.address,
            info.socktype,
            info.protocol,
            info.canonname.as_deref().unwrap_or(""),
            py_addr(info.sockaddr),
            Domain::from(info.address),
            Type::from(info.socktype),
        )?;
    }
    // ANCHOR_END: print
    Ok(())
}
