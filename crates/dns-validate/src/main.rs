//! dns-validate — check that an address's reverse DNS name leads back to the same address.
//!
//! Ports the error-checking gethostbyaddr() listing of chapter 4 (Foundations of Python Network
//! Programming, 1st edition): a reverse lookup, a forward lookup of the name it gave, and a check
//! that the original address is among the results — "forward-confirmed reverse DNS". Deviations:
//! the argument must be an IP address, addresses are compared as values, and a resolver that cannot
//! answer is an error rather than "no host names".
//!
//! Run: `cargo run -p dns-validate -- 127.0.0.1`
//! Try: `cargo run -p addr-info -- localhost` to see the forward lookup's raw results.

use std::io::{self, Write};
use std::net::IpAddr;
use std::process::ExitCode;

use dns_lookup::{AddrInfoHints, LookupError, LookupErrorKind, SockType};
use lesson_common::{Args, Exit, GaiError, fail, usage};

const USAGE: &str = "IP_ADDRESS";
const HELP: &str = "\
Look up the name of an IP address (reverse DNS), look that name up again (forward), and accept it
only if the original address comes back: forward-confirmed reverse DNS.
Ports the error-checking gethostbyaddr() listing of chapter 4 (Foundations of Python Network
Programming, 1st edition).

Arguments:
  IP_ADDRESS      an IPv4 or IPv6 address, such as 127.0.0.1 or ::1 (not a name, not the
                  unspecified address 0.0.0.0 or ::)

Options:
  -h, --help      print this help

Example:
  cargo run -p dns-validate -- 127.0.0.1";

fn main() -> ExitCode {
    lesson_common::report(USAGE, HELP, run())
}

/// A failed lookup as the listing sees it: the kind picks the ending, the reason is what Python
/// prints for the exception, e.g. `[Errno -2] Name or service not known`.
#[derive(Debug)]
struct Failure {
    kind: LookupErrorKind,
    reason: String,
}

impl From<LookupError> for Failure {
    fn from(error: LookupError) -> Failure {
        let kind = error.kind();
        Failure {
            kind,
            reason: GaiError(error).to_string(),
        }
    }
}

/// How the check ends: the listing's four endings, plus the resolver failure it mistook for "no
/// name".
#[derive(Debug, PartialEq)]
enum Verdict {
    NoNames,
    ResolverFailed(String),
    Unresolvable(String, String),
    Mismatch(String),
    Validated(String),
}

/// The listing's `getipaddrs()`: a forward lookup with family 0 and SOCK_STREAM, so each address
/// comes back once rather than once per socket type.
fn getipaddrs(hostname: &str) -> Result<Vec<IpAddr>, Failure> {
    let hints = AddrInfoHints {
        socktype: SockType::Stream.into(),
        ..AddrInfoHints::default()
    };
    let mut ips = Vec::new();
    for result in dns_lookup::getaddrinfo(Some(hostname), None, Some(hints))? {
        let info = result.map_err(LookupError::from)?;
        ips.push(info.sockaddr.ip());
    }
    Ok(ips)
}

/// The listing's `gethostname()`: a reverse lookup. `lookup_addr` asks getnameinfo for a real name
/// (NI_NAMEREQD); without that flag getnameinfo hands back the address itself and anything
/// "validates".
fn gethostname(ip: IpAddr) -> Result<String, Failure> {
    Ok(dns_lookup::lookup_addr(&ip)?)
}

/// The listing's decision as a pure function (given the reverse result and a way to look a name
/// up forward), so that unit tests reach every ending without a DNS server to fake.
fn verdict(
    original: IpAddr,
    reverse: Result<String, Failure>,
    forward: impl FnOnce(&str) -> Result<Vec<IpAddr>, Failure>,
) -> Verdict {
    // ANCHOR: verdict
    // 2. The reverse lookup. Python's herror: "no such name" (NONAME; NODATA on some systems) is
    //    normal, exit 0. The listing also swallowed "try again" and other failures here; those are
    //    errors, exit 1.
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
    // 4. The comparison. The listing compares strings, so `::1` and `0::1` would differ. Compare
    //    addresses, with an IPv4-mapped result counting as the IPv4 address it carries.
    let original = original.to_canonical();
    if addresses.iter().any(|a| a.to_canonical() == original) {
        Verdict::Validated(hostname)
    } else {
        Verdict::Mismatch(hostname)
    }
    // ANCHOR_END: verdict
}

fn run() -> Result<(), Exit> {
    // 1. The listing takes sys.argv[1] as it is: a host name gets compared as text, and one that
    //    does not resolve crashes it (NameError). Here it must be an IPv4 or IPv6 address (exit 2),
    //    and not the unspecified address: 0.0.0.0 and :: name no host, and their reverse lookup
    //    could only go out to a DNS server.
    let Some(arg) = Args::from_env()?.positional(1)?.pop() else {
        return Err(usage("give the IP address to validate"));
    };
    let Ok(ip) = arg.parse::<IpAddr>() else {
        return Err(usage(format!("'{arg}' is not an IP address")));
    };
    // An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is an IPv4 address: look that up.
    let ip = ip.to_canonical();
    if ip.is_unspecified() {
        return Err(usage(format!(
            "'{arg}' is the unspecified address, not a host's address"
        )));
    }

    // 2-4. Reverse lookup, forward lookup, comparison: verdict() holds the listing's try/except and
    //      `in` test. The listing's endings print on stdout, as the listing does; a failed check
    //      exits 1 without another word (`Exit::Quiet`): the stdout lines already say why.
    //      `writeln!` rather than `println!`: a closed stdout is an error line, not a panic.
    let mut out = io::stdout().lock();
    match verdict(ip, gethostname(ip), getipaddrs) {
        Verdict::NoNames => {
            writeln!(
                out,
                "No host names available for {arg}; this may be normal."
            )?;
            Ok(())
        }
        Verdict::ResolverFailed(why) => Err(fail(format!("reverse lookup of {arg} failed: {why}"))),
        Verdict::Unresolvable(hostname, why) => {
            writeln!(
                out,
                "Got hostname {hostname}, but it could not be forward-resolved: {why}"
            )?;
            Err(Exit::Quiet)
        }
        Verdict::Mismatch(hostname) => {
            writeln!(out, "Got hostname {hostname}, but on forward lookup,")?;
            writeln!(out, "original IP {arg} did not appear in IP address list.")?;
            Err(Exit::Quiet)
        }
        Verdict::Validated(hostname) => {
            writeln!(out, "Validated hostname: {hostname}")?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests;
