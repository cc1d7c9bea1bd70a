//! The lab link's decisions (issue 18): what a lossy, slow, reordering link does to each packet
//! between the lab's `client` and `server` namespaces, decided in plain code that a test can drive
//! packet by packet.
//!
//! This module is the wire's judgement, not the wire: it never touches a device, a socket or a
//! clock. The wire (`crates/lab-wire`: two TUN devices, one per namespace, and threads that move
//! packets between them) hands each packet to [`Link::pass`] with the time it arrived and gets back its
//! [`Verdict`]s: send these bytes at that time, or this packet died here and why. It sends the
//! packets of a direction in the order given, each at its due time, blocking until then, and
//! calls [`Link::tick`] when [`Link::wake`] says a held packet is due. The same verdicts are what
//! `trace --link` will draw (`dropped by loss`, `duplicated`, `held back`, `delayed 83 ms`), and
//! their counts make the lab's summary line ([`Link::summary`]).
//!
//! - [`spec`]: the one-line link spec and its grammar, the profiles, and how a spec prints.
//! - [`rng`]: the seeded random source; a seed replays the same decisions for the same packets.
//! - [`layers`]: one small type per impairment on one trait, stacked per direction.
//! - [`log`]: the lines the wire writes for the course tool (ready, each packet's fate, counts).
//!
//! Each direction's stack runs, top to bottom: dead-after (the cable is cut whatever else
//! happens, and counts every packet offered, so "after 3" does not depend on the loss draws), mtu
//! (a router's size check, before any randomness), loss, duplicate (a lost packet is not copied),
//! reorder, delay with jitter (last, so that a swapped pair is delayed like any other). A setting
//! the spec leaves out, or sets to zero, puts no layer in the stack.

pub mod layers;
pub mod log;
pub mod rng;
pub mod spec;

#[cfg(test)]
mod tests;

use std::fmt::{self, Display};
use std::time::Duration;

pub use layers::{DeadAfter, Delay, Duplicate, HOLD_LIMIT, Layer, Loss, Mtu, Reorder, Stack};
pub use rng::{Rng, fresh_seed};
pub use spec::{GRAMMAR, PROFILES, Percent, Profile, Spec};

/// Which way a packet crosses the link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the client's namespace to the server's (`@server` in a spec).
    ToServer,
    /// From the server's namespace to the client's (`@client`).
    ToClient,
}

impl Direction {
    pub const BOTH: [Direction; 2] = [Direction::ToServer, Direction::ToClient];

    fn index(self) -> usize {
        match self {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        }
    }
}

/// `towards the server`.
impl Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::ToServer => "towards the server",
            Direction::ToClient => "towards the client",
        })
    }
}

/// A packet on the link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// Its number among the packets offered to the link in its direction, from 1: the name the
    /// ladder gives it. A duplicate has its original's.
    pub number: u64,
    /// The IP packet as a TUN device gives it: no link-layer header and no packet-information
    /// prefix, so its length is what an MTU is measured against.
    pub bytes: Vec<u8>,
}

/// A packet on its way through the layers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flight {
    pub packet: Packet,
    /// When it came to the link: time since the link came up (the wire takes it from one
    /// `Instant`; a test makes it up).
    pub arrived: Duration,
    /// When it is to leave: `arrived` until a layer holds it.
    pub due: Duration,
    pub marks: Marks,
}

impl Flight {
    /// A packet that has just arrived.
    pub fn new(packet: Packet, now: Duration) -> Flight {
        Flight {
            packet,
            arrived: now,
            due: now,
            marks: Marks::default(),
        }
    }
}

/// What happened to a packet that is sent on, besides its delay (`due - arrived`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Marks {
    /// It is the copy `duplicate` made; its original is sent just before it.
    pub copy: bool,
    /// `reorder` held it back: a later packet went first (or none came in time).
    pub held_back: bool,
}

/// A packet's fate.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Send it at `flight.due`.
    Send(Flight),
    /// It dies here.
    Dropped(Flight, Why),
}

/// Why a packet was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// `loss`'s draw.
    Loss,
    /// Longer than the `mtu` (for its family); `reply` is what a router would answer.
    TooBig {
        size: usize,
        mtu: u16,
        reply: RouterWould,
    },
    /// `dead-after`: the link carried its `after` packets and is dead.
    Dead { after: u64 },
}

/// What a real router does with a packet too big for its next link. This link only records it:
/// the hosts already send packets that fit (the wire gives each side the link's MTU), so a
/// packet over it is rare; building the ICMP answer (which quotes the packet's own header) would
/// be the wire's to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouterWould {
    /// IPv4 with Don't Fragment set: ICMP type 3 code 4, "fragmentation needed", carrying the
    /// MTU, so the sender can send smaller (RFC 1191).
    SendFragmentationNeeded,
    /// IPv6: ICMPv6 type 2, "packet too big", carrying the MTU (RFC 8201); IPv6 routers never
    /// fragment.
    SendPacketTooBig,
    /// IPv4 without Don't Fragment: a router splits it into fragments and sends them on. This
    /// link drops it instead and says so.
    Fragment,
    /// Not an IP packet it can read: dropped without a word.
    Nothing,
}

impl RouterWould {
    /// What a router would do with `bytes` if they were too big: the IP version is the first
    /// byte's high nibble, and IPv4's Don't Fragment bit is 0x40 of byte 6.
    pub fn answer(bytes: &[u8]) -> RouterWould {
        match bytes.first().map(|b| b >> 4) {
            Some(4) if bytes.len() >= 20 => {
                if bytes[6] & 0x40 != 0 {
                    RouterWould::SendFragmentationNeeded
                } else {
                    RouterWould::Fragment
                }
            }
            Some(6) => RouterWould::SendPacketTooBig,
            _ => RouterWould::Nothing,
        }
    }
}

impl Verdict {
    /// The packet it is about.
    pub fn packet(&self) -> &Packet {
        match self {
            Verdict::Send(flight) | Verdict::Dropped(flight, _) => &flight.packet,
        }
    }

    /// Whether the packet goes on.
    pub fn is_sent(&self) -> bool {
        matches!(self, Verdict::Send(_))
    }
}

/// The words the ladder writes beside a packet: `sent`, `duplicated, delayed 83 ms`,
/// `held back`, `dropped by loss`, `dropped: 1500 bytes, over the MTU of 576; …`.
impl Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Send(flight) => {
                let mut words = Vec::new();
                if flight.marks.copy {
                    words.push("duplicated".to_string());
                }
                if flight.marks.held_back {
                    words.push("held back".to_string());
                }
                let delay = flight.due.saturating_sub(flight.arrived);
                if !delay.is_zero() {
                    words.push(format!("delayed {}", spec::time(rounded(delay))));
                }
                if words.is_empty() {
                    words.push("sent".to_string());
                }
                f.write_str(&words.join(", "))
            }
            Verdict::Dropped(_, Why::Loss) => f.write_str("dropped by loss"),
            Verdict::Dropped(_, Why::Dead { after }) => {
                let packets = if *after == 1 { "packet" } else { "packets" };
                write!(f, "dropped: the link died after {after} {packets}")
            }
            Verdict::Dropped(_, Why::TooBig { size, mtu, reply }) => {
                write!(f, "dropped: {size} bytes, over the MTU of {mtu}; ")?;
                f.write_str(match reply {
                    RouterWould::SendFragmentationNeeded => {
                        "a router would answer ICMP \"fragmentation needed\" with the MTU"
                    }
                    RouterWould::SendPacketTooBig => {
                        "a router would answer ICMPv6 \"packet too big\" with the MTU"
                    }
                    RouterWould::Fragment => {
                        "a router would split it into fragments (Don't Fragment is not set)"
                    }
                    RouterWould::Nothing => "not an IP packet, so no answer",
                })
            }
        }
    }
}

/// A delay as the ladder shows it: to the millisecond from 10 ms, to a tenth below.
fn rounded(delay: Duration) -> Duration {
    let step: u128 = if delay >= Duration::from_millis(10) {
        1000
    } else {
        100
    };
    let micros = (delay.as_micros() + step / 2) / step * step;
    Duration::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
}

/// What the link did, counted over packets: per direction, or both added.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Packets offered to the link.
    pub offered: u64,
    /// Packets sent on, copies included.
    pub sent: u64,
    /// Dropped by `loss`.
    pub lost: u64,
    /// Dropped by `mtu`.
    pub too_big: u64,
    /// Dropped by `dead-after`.
    pub dead: u64,
    /// Copies made by `duplicate`.
    pub duplicated: u64,
    /// Held back by `reorder`.
    pub held_back: u64,
}

impl Counters {
    /// Every packet dropped, whatever the reason.
    pub fn dropped(&self) -> u64 {
        self.lost + self.too_big + self.dead
    }

    /// The packets the counts account for: each sent, dropped, or the copy of one sent. Equal
    /// to `offered` once nothing is held ([`Link::flush`]).
    pub fn accounted(&self) -> u64 {
        self.sent - self.duplicated + self.dropped()
    }

    fn count(&mut self, verdict: &Verdict) {
        match verdict {
            Verdict::Send(flight) => {
                self.sent += 1;
                self.duplicated += u64::from(flight.marks.copy);
                self.held_back += u64::from(flight.marks.held_back);
            }
            Verdict::Dropped(_, Why::Loss) => self.lost += 1,
            Verdict::Dropped(_, Why::TooBig { .. }) => self.too_big += 1,
            Verdict::Dropped(_, Why::Dead { .. }) => self.dead += 1,
        }
    }

    /// Both counts added.
    pub fn plus(self, other: Counters) -> Counters {
        Counters {
            offered: self.offered + other.offered,
            sent: self.sent + other.sent,
            lost: self.lost + other.lost,
            too_big: self.too_big + other.too_big,
            dead: self.dead + other.dead,
            duplicated: self.duplicated + other.duplicated,
            held_back: self.held_back + other.held_back,
        }
    }
}

/// `2 of 11 packets dropped, 0 duplicated`; the causes in brackets when any drop was not a loss
/// draw, and the held-back count when there is one.
impl Display for Counters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let packets = if self.offered == 1 {
            "packet"
        } else {
            "packets"
        };
        write!(
            f,
            "{} of {} {packets} dropped",
            self.dropped(),
            self.offered
        )?;
        if self.too_big + self.dead > 0 {
            let causes = [
                (self.lost, "by loss"),
                (self.too_big, "over the MTU"),
                (self.dead, "after the link died"),
            ];
            let words: Vec<String> = causes
                .iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, why)| format!("{n} {why}"))
                .collect();
            write!(f, " ({})", words.join(", "))?;
        }
        write!(f, ", {} duplicated", self.duplicated)?;
        if self.held_back > 0 {
            write!(f, ", {} held back", self.held_back)?;
        }
        Ok(())
    }
}

/// The link: a spec, a seed, and a stack of layers for each direction.
pub struct Link {
    spec: Spec,
    seed: u64,
    ways: [Way; 2],
}

/// One direction of the link.
struct Way {
    stack: Stack,
    counters: Counters,
}

impl Link {
    /// The link `spec` describes, its random decisions drawn from `seed`.
    pub fn new(spec: &Spec, seed: u64) -> Link {
        // An unplugged peer is one moment for both directions: one count, shared.
        let shared = spec
            .dead_after_both_ways()
            .then(|| spec.towards(Direction::ToServer).dead_after)
            .flatten()
            .map(DeadAfter::new);
        let way = |direction| Way {
            stack: Stack::new(layers_for(spec, direction, seed, shared.as_ref())),
            counters: Counters::default(),
        };
        Link {
            spec: spec.clone(),
            seed,
            ways: [way(Direction::ToServer), way(Direction::ToClient)],
        }
    }

    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// A packet of `bytes` arrived going `direction` at `now`: push its verdicts to `out` (none
    /// while a layer holds it; two for a duplicate; a held packet it releases comes after it).
    /// Returns the number it was given.
    pub fn pass(
        &mut self,
        direction: Direction,
        bytes: Vec<u8>,
        now: Duration,
        out: &mut Vec<Verdict>,
    ) -> u64 {
        let way = &mut self.ways[direction.index()];
        way.counters.offered += 1;
        let number = way.counters.offered;
        let before = out.len();
        way.stack
            .pass(Flight::new(Packet { number, bytes }, now), out);
        for verdict in &out[before..] {
            way.counters.count(verdict);
        }
        number
    }

    /// When the `direction`'s stack next has a held packet to release, if it holds one.
    pub fn wake(&self, direction: Direction) -> Option<Duration> {
        self.ways[direction.index()].stack.wake()
    }

    /// The time is `now`: push what the `direction`'s stack releases to `out`.
    pub fn tick(&mut self, direction: Direction, now: Duration, out: &mut Vec<Verdict>) {
        let way = &mut self.ways[direction.index()];
        let before = out.len();
        way.stack.tick(now, out);
        for verdict in &out[before..] {
            way.counters.count(verdict);
        }
    }

    /// The link is going down at `now`: push everything the `direction`'s stack still holds to
    /// `out`, each at the end of its hold (or `now`, if later), so that every packet offered has
    /// been sent or dropped: `offered` is then what [`Counters::accounted`] adds up.
    pub fn flush(&mut self, direction: Direction, now: Duration, out: &mut Vec<Verdict>) {
        let way = &mut self.ways[direction.index()];
        let before = out.len();
        while let Some(at) = way.stack.wake() {
            way.stack.tick(at.max(now), out);
        }
        for verdict in &out[before..] {
            way.counters.count(verdict);
        }
    }

    /// What the link did to the packets going `direction`.
    pub fn counters(&self, direction: Direction) -> Counters {
        self.ways[direction.index()].counters
    }

    /// What it did both ways.
    pub fn total(&self) -> Counters {
        let [a, b] = &self.ways;
        a.counters.plus(b.counters)
    }

    /// The lab's closing line: `link: loss 30% both ways, seed 7 — 2 of 11 packets dropped, 0
    /// duplicated`.
    pub fn summary(&self) -> String {
        summary(&self.spec, self.seed, self.total())
    }
}

/// The lab's closing line for a link of `spec` and `seed` that did `total`.
pub fn summary(spec: &Spec, seed: u64, total: Counters) -> String {
    format!("link: {spec}, seed {seed} — {total}")
}

/// The layers of one direction's stack, in the module's order; `shared` is the dead-after count
/// both directions share, if the spec gives it for both ways.
fn layers_for(
    spec: &Spec,
    direction: Direction,
    seed: u64,
    shared: Option<&DeadAfter>,
) -> Vec<Box<dyn Layer>> {
    let wants = spec.towards(direction);
    let stream = |name: &str| Rng::stream(seed, &format!("{name} {direction}"));
    let some = |p: Option<Percent>| p.filter(|p| p.ppm() > 0);
    let mut layers: Vec<Box<dyn Layer>> = Vec::new();
    match (shared, wants.dead_after) {
        (Some(shared), _) => layers.push(Box::new(shared.sharing())),
        (None, Some(after)) => layers.push(Box::new(DeadAfter::new(after))),
        (None, None) => {}
    }
    if let Some(mtu) = wants.mtu {
        layers.push(Box::new(Mtu::new(mtu)));
    }
    if let Some(p) = some(wants.loss) {
        layers.push(Box::new(Loss::new(p, stream("loss"))));
    }
    if let Some(p) = some(wants.duplicate) {
        layers.push(Box::new(Duplicate::new(p, stream("duplicate"))));
    }
    if let Some(p) = some(wants.reorder) {
        layers.push(Box::new(Reorder::new(p, stream("reorder"))));
    }
    if !wants.delay.is_zero() || !wants.jitter.is_zero() {
        layers.push(Box::new(Delay::new(
            wants.delay,
            wants.jitter,
            stream("delay"),
        )));
    }
    layers
}
