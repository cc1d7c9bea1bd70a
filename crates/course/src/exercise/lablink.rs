//! The lab link for a check that needs it ([`super::table::Needs::LabLink`]): the command runs
//! inside the lab's namespaces ([`crate::tether::enter_lab`]: the tool and the learner's program
//! on the client's side, 192.0.2.1), and a check brings up the wire with its own spec and seed,
//! serves from the server's side (192.0.2.2), and reads afterwards what the wire did to each
//! datagram: the fates, the times, and the ladder it shows when the check fails.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::labnet::{Finished, Lab, SERVER_V4, Settings, Side};
use crate::link::Direction;
use crate::link::log::{Event, Fate};

use super::conversation::{Conversation, Failure};

/// One wire at a time: the lab's devices and addresses are the same in every run, and
/// `--dev-check` checks its exercises on threads side by side.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The lab link, up for one check.
pub struct Link {
    lab: Lab,
    _alone: MutexGuard<'static, ()>,
}

/// Step: bring up the lab link of `spec` with `seed`, its wire writing each packet's fate.
pub fn up(c: &mut Conversation, spec: &str, seed: u64) -> Result<Link, Failure> {
    let alone = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    if !crate::tether::in_lab() {
        return Err(Failure::CannotRun(
            "this check runs inside the lab's namespaces, which `cargo course exercise` enters \
             on Linux with unprivileged user namespaces and /dev/net/tun"
                .into(),
        ));
    }
    let settings = Settings::parse(Some(spec.to_string()), Some(seed.to_string()))
        .map_err(|e| Failure::CannotRun(e.words()))?;
    c.step(format!(
        "bring up the lab link: {} (client side 192.0.2.1, server side 192.0.2.2)",
        settings.said()
    ));
    c.command(format!("cargo course lab up --link {spec} --seed {seed}"));
    let lab = Lab::start(&settings, true).map_err(|e| {
        let words = e.words();
        if crate::labnet::cannot(&words) {
            Failure::CannotRun(words)
        } else {
            Failure::Expected {
                expected: "the lab's wire comes up".into(),
                got: words,
            }
        }
    })?;
    Ok(Link { lab, _alone: alone })
}

impl Link {
    /// A UDP socket on the server's side, 192.0.2.2, on a port the kernel picks (a socket stays
    /// in the namespace it was made in, whichever thread uses it).
    pub fn server_socket(&self) -> Result<(UdpSocket, u16), Failure> {
        let socket = self
            .lab
            .on(Side::Server, || UdpSocket::bind((SERVER_V4, 0)))
            .map_err(|e| Failure::Expected {
                expected: format!("a UDP port for the checker on {SERVER_V4}"),
                got: e.to_string(),
            })?;
        let port = socket.local_addr().map(|a| a.port()).unwrap_or(0);
        Ok((socket, port))
    }

    /// Take the link down: what the wire did.
    pub fn finish(self) -> Result<Finished, Failure> {
        self.lab.finish().map_err(|e| Failure::Expected {
            expected: "the lab's wire ends and gives its account".into(),
            got: e.words(),
        })
    }
}

/// A UDP datagram over IPv4 as the wire saw it.
pub struct Datagram {
    pub direction: Direction,
    pub from: SocketAddr,
    pub to: SocketAddr,
    pub payload: Vec<u8>,
    /// When it came to the wire (µs on the machine's clock): about when its sender sent it.
    pub arrived_us: u64,
    /// When the wire let it go on to its receiver (µs), unless it was dropped.
    pub left_us: Option<u64>,
    pub fate: Fate,
}

/// The UDP datagrams over IPv4 among the wire's events, in the order it decided them.
pub fn datagrams(events: &[Event]) -> Vec<Datagram> {
    events
        .iter()
        .filter_map(|event| {
            let b = &event.bytes;
            let header = usize::from(*b.first()? & 0x0f) * 4;
            if b.first()? >> 4 != 4 || *b.get(9)? != 17 {
                return None;
            }
            let address = |at: usize| -> Option<IpAddr> {
                let octets: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
                Some(IpAddr::V4(Ipv4Addr::from(octets)))
            };
            let port = |at: usize| Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]));
            Some(Datagram {
                direction: event.direction,
                from: SocketAddr::new(address(12)?, port(header)?),
                to: SocketAddr::new(address(16)?, port(header + 2)?),
                payload: b.get(header + 8..)?.to_vec(),
                arrived_us: event.arrived_us,
                left_us: event.left_us,
                fate: event.fate,
            })
        })
        .collect()
}

/// The checker's server's reply to `request`: not an echo, so that a client cannot print it
/// without receiving it (a program that printed its own stdin back would pass an echo): the
/// request in capitals, a colon, and `nonce`, drawn from the check's seed.
pub fn reply_to(request: &[u8], nonce: u64) -> Vec<u8> {
    format!(
        "{}:{nonce}",
        String::from_utf8_lossy(request).to_uppercase()
    )
    .into_bytes()
}

/// How a check shows its server, which no program of the course plays: what it answers.
pub fn server_note(c: &mut Conversation, port: u16, nonce: &str) {
    c.note(format!(
        "the checker's server answers as `cargo course lab on server -- udp-echo-server --bind \
         192.0.2.2 {port}` would, except that its reply is the request in capitals, a colon and \
         {nonce}: a reply your client cannot make up, only receive"
    ));
}

/// The wire's view of the run for the report: the ladder of its packets.
pub fn show(c: &mut Conversation, client: &str, events: &[Event], server_port: u16) {
    c.wire_view(crate::record::link_ladder(
        client,
        "the checker",
        events,
        server_port,
    ));
}
