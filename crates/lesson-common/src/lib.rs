//! What every lesson shares, and nothing more: the command line (`--help`, `--flag VALUE`, a usage
//! line), port numbers or service names, Python's address notation, and the one-line error reporter.
//! Anything a listing teaches stays in the lesson itself.

use std::error::Error;
use std::fmt::Display;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

pub use dns_lookup::Protocol;

/// Why a lesson's `run()` stopped early; [`report`] turns it into output and an exit code.
#[derive(Debug)]
pub enum Exit {
    /// `--help` or `-h`: usage on stdout, exit 0.
    Help,
    /// A bad command line: `error: …` and the usage line on stderr, exit 2.
    Usage(String),
    /// A failure at run time: one line on stderr, exit 1.
    Failed(Box<dyn Error>),
    /// Exit 1 with nothing more to say: the lesson already printed the listing's own words for it.
    Quiet,
}

/// `?` on any error (an `io::Error`, a lookup error) makes it a run-time failure.
impl<E: Error + 'static> From<E> for Exit {
    fn from(error: E) -> Self {
        Exit::Failed(Box::new(error))
    }
}

/// A run-time failure with the lesson's own words, e.g. `fail(format!("Connection error: {e}"))`.
pub fn fail(message: impl Display) -> Exit {
    Exit::Failed(message.to_string().into())
}

/// A usage error: the words say what was wrong with the command line.
pub fn usage(message: impl Display) -> Exit {
    Exit::Usage(message.to_string())
}

/// Print the outcome of `run()` the way every lesson does and pick the exit code.
/// `usage` is the argument synopsis after the program name, e.g. `"[HOST [PORT|SERVICE]]"`.
pub fn report(usage: &str, outcome: Result<(), Exit>) -> ExitCode {
    let program = std::env::args_os()
        .next()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let program = program.rsplit(['/', '\\']).next().unwrap_or_default();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Exit::Help) => {
            // `--help | head -0` closes stdout: nothing left to tell, so no panic either.
            let _ = writeln!(io::stdout(), "usage: {program} {usage}");
            ExitCode::SUCCESS
        }
        Err(Exit::Usage(why)) => {
            eprintln!("error: {why}\nusage: {program} {usage}");
            ExitCode::from(2)
        }
        Err(Exit::Failed(error)) => {
            // The error's Display and each of its causes, never Debug, and always on one line.
            let causes = std::iter::successors(error.source(), |&e| e.source());
            let line: String =
                causes.fold(error.to_string(), |line, cause| format!("{line}: {cause}"));
            eprintln!("error: {}", line.replace(['\r', '\n'], " "));
            ExitCode::FAILURE
        }
        Err(Exit::Quiet) => ExitCode::FAILURE,
    }
}

/// The command line after the program name. `--help`/`-h` anywhere means [`Exit::Help`].
pub struct Args(Vec<String>);

impl Args {
    /// The process's arguments; one that is not UTF-8 is a usage error (std's `args()` would panic).
    pub fn from_env() -> Result<Args, Exit> {
        let args: Result<Vec<String>, _> = std::env::args_os()
            .skip(1)
            .map(|a| a.into_string())
            .collect();
        Args::parse(args.map_err(|bad| usage(format!("{bad:?} is not valid UTF-8")))?)
    }

    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Args, Exit> {
        let args: Vec<String> = args.into_iter().collect();
        if args.iter().any(|a| a == "--help" || a == "-h") {
            Err(Exit::Help)
        } else {
            Ok(Args(args))
        }
    }

    /// Take `--name VALUE` or `--name=VALUE` out of the arguments, if present.
    pub fn option(&mut self, name: &str) -> Result<Option<String>, Exit> {
        let Some(at) = self
            .0
            .iter()
            .position(|a| a == name || a.starts_with(&format!("{name}=")))
        else {
            return Ok(None);
        };
        let flag = self.0.remove(at);
        match flag.split_once('=') {
            Some((_, value)) => Ok(Some(value.to_string())),
            None if at < self.0.len() => Ok(Some(self.0.remove(at))),
            None => Err(usage(format!("{name} needs a value"))),
        }
    }

    /// Take `--name SECONDS` (a decimal such as `0.5`), or `default` when absent. Negative, NaN or
    /// absurdly large values are usage errors; whether zero makes sense is the lesson's call.
    pub fn seconds(&mut self, name: &str, default: Duration) -> Result<Duration, Exit> {
        let Some(text) = self.option(name)? else {
            return Ok(default);
        };
        let seconds = text
            .parse()
            .ok()
            .and_then(|s| Duration::try_from_secs_f64(s).ok());
        seconds.ok_or_else(|| usage(format!("{name} wants a number of seconds, not '{text}'")))
    }

    /// What is left once the options are taken: at most `max` positional arguments, no unknown `--flag`.
    pub fn positional(self, max: usize) -> Result<Vec<String>, Exit> {
        if let Some(flag) = self.0.iter().find(|a| a.starts_with("--")) {
            return Err(usage(format!("unknown option '{flag}'")));
        }
        if self.0.len() > max {
            Err(usage(format!("too many arguments (at most {max})")))
        } else {
            Ok(self.0)
        }
    }
}

/// A port as Python's listings take one: a decimal number, else a service name looked up like
/// `socket.getservbyname(name, proto)`. Neither crate has getservbyname, so ask `getaddrinfo` for the
/// service alone and read the port it fills in (names come from `/etc/services`).
/// The error names the bad value; `?` makes it a run-time failure (exit 1), as in the listings.
pub fn parse_port(text: &str, protocol: Protocol) -> Result<u16, io::Error> {
    let proto = if matches!(protocol, Protocol::UDP) {
        "udp"
    } else {
        "tcp"
    };
    let fail = |why: String| Err(io::Error::new(io::ErrorKind::InvalidInput, why));
    if text.is_empty() || text.chars().any(char::is_whitespace) {
        return fail(format!(
            "'{text}' is not a port number or {proto} service name"
        ));
    }
    if text
        .trim_start_matches(['-', '+'])
        .starts_with(|c: char| c.is_ascii_digit())
    {
        return text
            .parse()
            .or_else(|_| fail(format!("port '{text}' is not a number from 0 to 65535")));
    }
    let hints = dns_lookup::AddrInfoHints {
        protocol: protocol.into(),
        ..Default::default()
    };
    let found = dns_lookup::getaddrinfo(None, Some(text), Some(hints))
        .ok()
        .and_then(|mut it| it.next());
    match found {
        Some(Ok(info)) => Ok(info.sockaddr.port()),
        _ if cfg!(unix) && !std::path::Path::new("/etc/services").exists() => fail(format!(
            "unknown {proto} service '{text}' (no /etc/services here: install netbase, or give a number)"
        )),
        _ => fail(format!("unknown {proto} service '{text}'")),
    }
}

/// A resolver error in Python's words for a `socket.gaierror`: `[Errno -2] Name or service not known`
/// (dns-lookup's own Display adds "failed to lookup address information: " and no number).
pub fn gai_reason(error: &dns_lookup::LookupError) -> String {
    let text = error.to_string();
    let text = text
        .strip_prefix("failed to lookup address information: ")
        .unwrap_or(&text);
    format!("[Errno {}] {text}", error.error_num())
}

/// An address as Python 2 prints a socket address: `('127.0.0.1', 51423)` for IPv4 and
/// `('::1', 51423, 0, 0)` for IPv6 (the last two are flowinfo and scope id). The result is a
/// `Display` value, so `write!(line, "{}", py_addr(a))` formats it without allocating a String.
pub fn py_addr(addr: SocketAddr) -> PyAddr {
    PyAddr(addr)
}

/// See [`py_addr`].
pub struct PyAddr(pub SocketAddr);

impl Display for PyAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            SocketAddr::V4(a) => write!(f, "('{}', {})", a.ip(), a.port()),
            SocketAddr::V6(a) => {
                write!(
                    f,
                    "('{}', {}, {}, {})",
                    a.ip(),
                    a.port(),
                    a.flowinfo(),
                    a.scope_id()
                )
            }
        }
    }
}

#[cfg(test)]
mod tests;
