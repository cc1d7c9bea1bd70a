//! Ports and names: [`parse_port`], [`resolve`], [`GaiError`], and Python's address notation
//! [`py_addr`].

use std::error::Error;
use std::fmt::{self, Display};
use std::net::{IpAddr, SocketAddr};

use dns_lookup::{AddrInfoHints, LookupError, LookupErrorKind, SockType};

use crate::cli::{Args, Exit, usage};

/// Which table a service name is looked up in, as `getservbyname(name, 'tcp')` or `'udp'`.
/// (Not a socket "protocol": socket2's `Protocol` is the only one in this course.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Udp,
}

impl Transport {
    /// The name `/etc/services` uses: `tcp` or `udp`.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }

    /// The socket type that goes with it, for the resolver's hints.
    fn socktype(self) -> SockType {
        match self {
            Transport::Tcp => SockType::Stream,
            Transport::Udp => SockType::DGram,
        }
    }
}

/// Why [`parse_port`] refused a port.
#[derive(Debug, PartialEq, Eq)]
pub enum PortError {
    /// Not a number from 0 to 65535, nor anything a service could be called: a usage error.
    NotAPort(String),
    /// A well-formed service name that this system does not know: a run-time failure, as the
    /// listings' `Couldn't find your port`.
    UnknownService {
        name: String,
        transport: Transport,
        no_services_file: bool,
    },
}

impl Display for PortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortError::NotAPort(text) => write!(f, "port '{text}' is not a number from 0 to 65535"),
            PortError::UnknownService {
                name,
                transport,
                no_services_file,
            } => {
                write!(f, "unknown {} service '{name}'", transport.name())?;
                if *no_services_file {
                    f.write_str(" (no /etc/services here: install netbase, or give a number)")?;
                }
                Ok(())
            }
        }
    }
}

impl Error for PortError {}

/// `?` sorts a port error by the exit-code contract: a malformed port is a usage error (exit 2),
/// an unknown service name a run-time failure (exit 1).
impl From<PortError> for Exit {
    fn from(error: PortError) -> Exit {
        match error {
            PortError::NotAPort(_) => usage(error),
            PortError::UnknownService { .. } => Exit::Failed(Box::new(error)),
        }
    }
}

impl PortError {
    /// As `?` does, but an unknown service is reported after `context` (the listing's own words,
    /// e.g. `Couldn't find your port`).
    pub fn context(self, context: &str) -> Exit {
        match self {
            PortError::NotAPort(_) => self.into(),
            PortError::UnknownService { .. } => crate::fail_with(context, self),
        }
    }
}

/// A port as Python's listings take one: a decimal number, else a service name looked up like
/// `socket.getservbyname(name, proto)`. Neither socket2 nor dns-lookup has getservbyname, so ask
/// `getaddrinfo` for the service alone and read the port it fills in (names come from
/// `/etc/services`).
pub fn parse_port(text: &str, transport: Transport) -> Result<u16, PortError> {
    let not_a_port = || PortError::NotAPort(text.to_string());
    if text.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(not_a_port());
    }
    // Anything that starts like a number must be one (`-1`, `+5`, `65536`, `8o`), and a service
    // name has a letter in it (`+` or `--` is neither).
    let numeric = text
        .trim_start_matches(['-', '+'])
        .starts_with(|c: char| c.is_ascii_digit());
    if numeric || !text.contains(|c: char| c.is_ascii_alphabetic()) {
        return text.parse().map_err(|_| not_a_port());
    }
    let hints = AddrInfoHints {
        socktype: transport.socktype().into(),
        ..Default::default()
    };
    let found = dns_lookup::getaddrinfo(None, Some(text), Some(hints));
    match found.ok().and_then(|mut results| results.next()) {
        Some(Ok(info)) => Ok(info.sockaddr.port()),
        _ => Err(PortError::UnknownService {
            name: text.to_string(),
            transport,
            no_services_file: cfg!(unix) && !std::path::Path::new("/etc/services").exists(),
        }),
    }
}

/// A resolver failure in Python's words for `socket.gaierror`: `[Errno -2] Name or service not
/// known`. (dns-lookup's own Display says "failed to lookup address information: …" and no number.)
#[derive(Debug)]
pub struct GaiError(pub LookupError);

impl GaiError {
    /// The kind of failure: `NoName` is "no such name", `Again` "try again later", …
    pub fn kind(&self) -> LookupErrorKind {
        self.0.kind()
    }
}

impl Display for GaiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.to_string();
        let text = text
            .strip_prefix("failed to lookup address information: ")
            .unwrap_or(&text);
        write!(f, "[Errno {}] {text}", self.0.error_num())
    }
}

impl Error for GaiError {}

impl From<LookupError> for GaiError {
    fn from(error: LookupError) -> GaiError {
        GaiError(error)
    }
}

impl From<std::io::Error> for GaiError {
    fn from(error: std::io::Error) -> GaiError {
        GaiError(LookupError::from(error))
    }
}

/// `?` on a resolver failure makes it a run-time failure.
impl From<GaiError> for Exit {
    fn from(error: GaiError) -> Exit {
        Exit::Failed(Box::new(error))
    }
}

/// Every address of `host` for `transport`, in the resolver's order, each with `port`: what
/// Python's `connect((host, port))` resolves before it connects. A numeric host needs no lookup.
pub fn resolve(host: &str, port: u16, transport: Transport) -> Result<Vec<SocketAddr>, GaiError> {
    let hints = AddrInfoHints {
        socktype: transport.socktype().into(),
        ..Default::default()
    };
    let mut addresses = Vec::new();
    for info in dns_lookup::getaddrinfo(Some(host), None, Some(hints))? {
        let mut address = info?.sockaddr;
        address.set_port(port);
        addresses.push(address);
    }
    Ok(addresses)
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
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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

/// The port the book's server listings bind, and so the server lessons' default.
pub const LISTING_PORT: u16 = 51423;

/// A server lesson's command line, `[--bind ADDR] [PORT|SERVICE]`: the address to bind. Unless told
/// otherwise that is 127.0.0.1 — where the listings' `host = ''` binds every interface, a lesson
/// should not open a port to your network — and the listing's port 51423 (`0` asks for any free
/// port).
pub fn server_address(mut args: Args, transport: Transport) -> Result<SocketAddr, Exit> {
    let bind = args.option("--bind")?.unwrap_or_else(|| "127.0.0.1".into());
    let rest = args.positional(1)?;
    let Ok(ip) = bind.parse::<IpAddr>() else {
        return Err(usage(format!("--bind '{bind}' is not an IP address")));
    };
    let port = match rest.first() {
        Some(text) => parse_port(text, transport)?,
        None => LISTING_PORT,
    };
    Ok(SocketAddr::new(ip, port))
}
