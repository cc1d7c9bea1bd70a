//! addr-family — exercise 10 (lesson addr-info): a `--family` filter, and the canonical name.
//!
//! addr-info's getaddrinfo call and its one-tuple-a-line output, with a `--family inet|inet6`
//! option. As shipped the option is read and then ignored, and the canonname field stays empty:
//! the hints ask for neither. Find the TODO.
//!
//! Run: `cargo run -p exercises --bin addr-family -- --family inet localhost 80`
//! Try: `cargo run -p addr-info -- localhost 80` beside it; check it with
//!      `cargo course exercise addr-family` (page: docs/exercises/addr-family.md).

use std::io::{self, Write};
use std::process::ExitCode;

use dns_lookup::AddrInfoHints;
use lesson_common::{Args, Exit, GaiError, PortError, fail_with, py_addr, usage};
use socket2::{Domain, Protocol, Type};

const USAGE: &str = "[--family inet|inet6] HOST [PORT|SERVICE]";
const HELP: &str = "\
Print every result getaddrinfo() gives for a host and an optional port or service, one
(family, socktype, proto, canonname, sockaddr) tuple a line, as Python 2 prints them; only
those of one address family with --family, and the host's canonical name in the first.
Exercise 10 of the course.

Arguments:
  HOST            a host name or IP address
  PORT|SERVICE    a port number 0-65535, or a service name such as http (default: none)

Options:
  --family FAMILY inet (IPv4) or inet6 (IPv6) only (default: both)
  -h, --help      print this help";

/// getaddrinfo's flag asking for the canonical name in the first result (`<netdb.h>`: 2 on Linux,
/// macOS and Windows alike). dns-lookup leaves the flags to us.
#[allow(dead_code)] // TODO: used once the exercise is done
const AI_CANONNAME: i32 = 2;

fn main() -> ExitCode {
    lesson_common::report(USAGE, HELP, run())
}

fn run() -> Result<(), Exit> {
    // 1. The arguments: --family, a host, and an optional port or service.
    let mut args = Args::from_env()?;
    // AF_UNSPEC (0): any family. socket2's Domain gives the OS's own numbers for the others.
    #[allow(unused_variables)] // TODO: used once the exercise is done
    let family = match args.option("--family")?.as_deref() {
        None => 0,
        Some("inet") => i32::from(Domain::IPV4),
        Some("inet6") => i32::from(Domain::IPV6),
        Some(other) => return Err(usage(format!("--family is inet or inet6, not '{other}'"))),
    };
    let mut args = args.positional(2)?.into_iter();
    let Some(host) = args.next() else {
        return Err(usage("give a host name or address"));
    };
    let service = args.next();

    // 2. As addr-info: the service goes to getaddrinfo as typed; a number past 65535 is refused.
    if let Some(number) = service.as_deref().filter(|s| !s.is_empty()) {
        if number.bytes().all(|b| b.is_ascii_digit()) && number.parse::<u16>().is_err() {
            return Err(PortError::NotAPort(number.to_string()).into());
        }
    }

    // 3. getaddrinfo(host, port) with the hints.
    // TODO: the hints are all zeros, as addr-info's: any family, no flags. Ask for `family` only
    //       (the hints' `address` field), and for the canonical name (`flags`: AI_CANONNAME).
    let hints = AddrInfoHints::default();
    let results = match dns_lookup::getaddrinfo(Some(&host), service.as_deref(), Some(hints)) {
        Ok(results) => results,
        Err(e) => {
            let service = service.as_ref().map_or("None".into(), |s| format!("'{s}'"));
            return Err(fail_with(
                format!("getaddrinfo('{host}', {service})"),
                GaiError(e),
            ));
        }
    };

    // 4. One line per result, as addr-info prints them; canonname is filled in the first result
    //    only, and only when the hints asked for it.
    let mut out = io::stdout().lock();
    for info in results {
        let info = info?;
        let proto = match info.protocol {
            0 => "IPPROTO_IP".to_string(),
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
    Ok(())
}
