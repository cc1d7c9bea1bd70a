//! dns-validate: check that an address's reverse DNS name leads back to the same address.
//!
//! Ports the error-checking `gethostbyaddr()` listing of chapter 4 (Domain Name System): a reverse
//! lookup, a forward lookup of the name it gave, and a check that the original address is among the
//! results — "forward-confirmed reverse DNS".
//!
//! Run: `cargo run -p dns-validate -- 127.0.0.1`
//! Try: `cargo run -p dns-validate -- 127.0.0.2` (an address with no name), and
//!      `cargo run -p addr-info -- localhost` to see the forward lookup's raw results.

use std::io::{self, Write};
use std::net::IpAddr;
use std::process::ExitCode;

use dns_lookup::{AddrInfoHints, LookupError, LookupErrorKind, SockType};
use lesson_common::{Args, Exit, fail, usage};

const USAGE: &str = "IP_ADDRESS";
/// What `--help` prints below the usage line.
const HELP: &str = "TODO";

fn main() -> ExitCode {
    lesson_common::report(USAGE, HELP, run())
}

/// The listing's `getipaddrs()`: a forward lookup with family 0 and SOCK_STREAM, so each address
/// comes back once rather than once per socket type.
fn getipaddrs(hostname: &str) -> Result<Vec<IpAddr>, Failure> {
    let hints = AddrInfoHints {
        socktype: SockType::Stream.into(),
        ..AddrInfoHints::default()
    };
    let results = dns_lookup::getaddrinfo(Some(hostname), None, Some(hints))?;
    let ips = results.map(|result| result.map(|info| info.sockaddr.ip()));
    Ok(ips.collect::<Result<_, _>>().map_err(LookupError::from)?)
}

/// The listing's `gethostname()`: a reverse lookup. `lookup_addr` asks getnameinfo for a real name
/// (NI_NAMEREQD); without that flag getnameinfo hands back the address itself and anything "validates".
fn gethostname(ip: IpAddr) -> Result<String, Failure> {
    Ok(dns_lookup::lookup_addr(&ip)?)
}

fn run() -> Result<(), Exit> {
    // 0. The listing takes sys.argv[1] as it is: a host name gets compared as text, and one that
    //    does not resolve crashes it (NameError). Here it must be an IPv4 or IPv6 address (exit 2).
    let Some(arg) = Args::from_env()?.positional(1)?.pop() else {
        return Err(usage("give the IP address to validate"));
    };
    let ip: IpAddr = arg
        .parse()
        .map_err(|_| usage(format!("'{arg}' is not an IP address")))?;
    // An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is an IPv4 address: look that up.
    let ip = ip.to_canonical();

    // 1-3. Reverse lookup, forward lookup, comparison: verdict() holds the listing's try/except and
    //      `in` test. The listing's endings print on stdout, as the listing does; a failed check
    //      exits 1 without another word (`Exit::Quiet`): the stdout lines already say why.
    //      `writeln!` rather than `println!`: a closed stdout is an error line, not a panic.
    let mut out = io::stdout().lock();
    match verdict(ip, gethostname(ip), getipaddrs) {
        Verdict::NoNames => writeln!(
            out,
            "No host names available for {arg}; this may be normal."
        )?,
        Verdict::ResolverFailed(why) => {
            return Err(fail(format!("reverse lookup of {arg} failed: {why}")));
        }
        Verdict::Unresolvable(hostname, why) => {
            writeln!(
                out,
                "Got hostname {hostname}, but it could not be forward-resolved: {why}"
            )?;
            return Err(Exit::Quiet);
        }
        Verdict::Mismatch(hostname) => {
            writeln!(out, "Got hostname {hostname}, but on forward lookup,")?;
            writeln!(out, "original IP {arg} did not appear in IP address list.")?;
            return Err(Exit::Quiet);
        }
        Verdict::Validated(hostname) => writeln!(out, "Validated hostname: {hostname}")?,
    }
    Ok(())
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
        Failure {
            kind: error.kind(),
            reason: lesson_common::GaiError(error).to_string(),
        }
    }
}

/// How the check ends: the listing's four endings, plus the resolver failure it mistook for "no name".
#[derive(Debug, PartialEq)]
enum Verdict {
    NoNames,
    ResolverFailed(String),
    Unresolvable(String, String),
    Mismatch(String),
    Validated(String),
}

/// The listing's decision as a pure function (given the reverse result and a way to look a name up
/// forward), so that unit tests reach every ending without a DNS server to fake.
fn verdict(
    original: IpAddr,
    reverse: Result<String, Failure>,
    forward: impl FnOnce(&str) -> Result<Vec<IpAddr>, Failure>,
) -> Verdict {
    // 1. Python's herror: "no such name" (NONAME; NODATA on some systems) is normal, exit 0. The
    //    listing also swallowed "try again" and other failures here; those are errors, exit 1.
    let hostname = match reverse {
        Ok(hostname) => hostname,
        Err(f) if matches!(f.kind, LookupErrorKind::NoName | LookupErrorKind::NoData) => {
            return Verdict::NoNames;
        }
        Err(f) => return Verdict::ResolverFailed(f.reason),
    };
    // 2. Python's gaierror: any failure of the forward lookup ends the check, exit 1.
    let addresses = match forward(&hostname) {
        Ok(addresses) => addresses,
        Err(f) => return Verdict::Unresolvable(hostname, f.reason),
    };
    // 3. The listing compares strings, so `::1` and `0::1` would differ. Compare addresses, with
    //    an IPv4-mapped result counting as the IPv4 address it carries.
    match addresses
        .iter()
        .any(|a| a.to_canonical() == original.to_canonical())
    {
        true => Verdict::Validated(hostname),
        false => Verdict::Mismatch(hostname),
    }
}

#[cfg(test)]
mod tests;
