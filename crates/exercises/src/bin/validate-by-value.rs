//! validate-by-value — exercise 9 (lesson dns-validate): compare addresses, not their text.
//!
//! dns-validate's forward-confirmed reverse DNS: a reverse lookup, a forward lookup of the name it
//! gave, and a check that the original address is among the results. As shipped that check
//! compares text, as the chapter 4 listing does, and so raises a false alarm on `fd00:0::5`,
//! which getaddrinfo writes `fd00::5`: find the TODO.
//!
//! Run: `cargo run -p exercises --bin validate-by-value -- ::1`
//! Try: `cargo run -p dns-validate -- ::1` beside it; check it with
//!      `cargo course exercise validate-by-value` (page: docs/exercises/validate-by-value.md).

use std::io::{self, Write};
use std::net::IpAddr;
use std::process::ExitCode;

use dns_lookup::{LookupError, LookupErrorKind};
use lesson_common::{Args, Exit, GaiError, Transport, fail, resolve, usage};

const USAGE: &str = "IP_ADDRESS";
const HELP: &str = "\
Look up the name of an IP address (reverse DNS), look that name up again (forward), and accept it
only if the original address comes back: forward-confirmed reverse DNS.
dns-validate's check. Exercise 9 of the course: compare addresses, not their text.

Arguments:
  IP_ADDRESS      an IPv4 or IPv6 address, such as 127.0.0.1 or ::1 (not a name, not the
                  unspecified address 0.0.0.0 or ::)

Options:
  -h, --help      print this help

Example:
  cargo run -p exercises --bin validate-by-value -- 127.0.0.1";

fn main() -> ExitCode {
    lesson_common::report(USAGE, HELP, run())
}

/// A failed lookup: its kind picks the ending, its reason is Python's words (`[Errno -2] …`).
#[derive(Debug)]
struct Failure {
    kind: LookupErrorKind,
    reason: String,
}

impl From<LookupError> for Failure {
    fn from(error: LookupError) -> Failure {
        let (kind, reason) = (error.kind(), GaiError(error).to_string());
        Failure { kind, reason }
    }
}

/// How the check ends: the listing's four endings, and the resolver failure it took for "no name".
#[derive(Debug, PartialEq)]
enum Verdict {
    NoNames,
    ResolverFailed(String),
    Unresolvable(String, String),
    Mismatch(String),
    Validated(String),
}

/// The listing's `getipaddrs()`: family 0 and SOCK_STREAM, so each address comes back once.
fn getipaddrs(hostname: &str) -> Result<Vec<IpAddr>, Failure> {
    let found = resolve(hostname, 0, Transport::Tcp).map_err(|e| Failure::from(e.0))?;
    Ok(found.iter().map(|address| address.ip()).collect())
}

/// The listing's `gethostname()`: getnameinfo with NI_NAMEREQD, so no name is an error.
fn gethostname(ip: IpAddr) -> Result<String, Failure> {
    Ok(dns_lookup::lookup_addr(&ip)?)
}

/// The listing's decision, given the lookups: `arg` is the address as the user typed it.
fn verdict(
    arg: &str,
    reverse: Result<String, Failure>,
    forward: impl FnOnce(&str) -> Result<Vec<IpAddr>, Failure>,
) -> Verdict {
    // 2. The reverse lookup. Python's herror: "no such name" (NONAME, or NODATA) is normal, exit 0;
    //    "try again" and other failures, which the listing swallowed too, are errors, exit 1.
    let hostname = match reverse {
        Ok(hostname) => hostname,
        Err(f) if matches!(f.kind, LookupErrorKind::NoName | LookupErrorKind::NoData) => {
            return Verdict::NoNames;
        }
        Err(f) => return Verdict::ResolverFailed(f.reason),
    };
    // 3. The forward lookup. Python's gaierror: any failure ends the check, exit 1.
    let addresses = match forward(&hostname) {
        Ok(addresses) => addresses,
        Err(f) => return Verdict::Unresolvable(hostname, f.reason),
    };
    // 4. Is the original address among the forward lookup's? The listing's way: as text.
    // TODO: text is not an address. `fd00:0::5` and `fd00::5` are the same address, but
    //       getaddrinfo writes it only one way (`fd00::5`), so this says "did not appear" for
    //       an address that did. Parse `arg` into an IpAddr and compare addresses.
    if addresses.iter().any(|a| a.to_string() == arg) {
        Verdict::Validated(hostname)
    } else {
        Verdict::Mismatch(hostname)
    }
}

fn run() -> Result<(), Exit> {
    // 1. The listing takes sys.argv[1] as it is. Here it must be an IP address (exit 2), not
    //    0.0.0.0 or ::, which name no host; ::ffff:127.0.0.1 is looked up as the IPv4 it carries.
    let Some(arg) = Args::from_env()?.positional(1)?.pop() else {
        return Err(usage("give the IP address to validate"));
    };
    let Ok(ip) = arg.parse::<IpAddr>() else {
        return Err(usage(format!("'{arg}' is not an IP address")));
    };
    let ip = ip.to_canonical();
    if ip.is_unspecified() {
        return Err(usage(format!(
            "'{arg}' is the unspecified address, not a host's address"
        )));
    }

    // 2-4. verdict() decides; the ending's words go to stdout, and a failed check exits 1 quietly.
    let (said, ending) = match verdict(&arg, gethostname(ip), getipaddrs) {
        Verdict::NoNames => (
            format!("No host names available for {arg}; this may be normal."),
            Ok(()),
        ),
        Verdict::ResolverFailed(why) => {
            return Err(fail(format!("reverse lookup of {arg} failed: {why}")));
        }
        Verdict::Unresolvable(hostname, why) => (
            format!("Got hostname {hostname}, but it could not be forward-resolved: {why}"),
            Err(Exit::Quiet),
        ),
        Verdict::Mismatch(hostname) => (
            format!(
                "Got hostname {hostname}, but on forward lookup,\n\
                 original IP {arg} did not appear in IP address list."
            ),
            Err(Exit::Quiet),
        ),
        Verdict::Validated(hostname) => (format!("Validated hostname: {hostname}"), Ok(())),
    };
    writeln!(io::stdout().lock(), "{said}")?; // not println!, which panics on a closed stdout
    ending
}
