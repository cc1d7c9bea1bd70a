//! The impairment layers, each a small type on one trait, [`Layer`], and the [`Stack`] that runs
//! a direction's packets through them in order (smoltcp's `phy` middleware, one layer per fault,
//! is the model).
//!
//! A layer sees a [`Flight`] at its `due` time and pushes what becomes of it: sent on (perhaps
//! later, perhaps twice) or dropped, with the reason. Nothing here sleeps or reads a clock: time
//! is data, so a test can give any time it likes and every decision depends only on the packets,
//! their times and the seed. A layer that holds a packet says when it wants to be woken
//! ([`Layer::wake`]), so the wire can block until then rather than poll.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::rng::Rng;
use super::spec::{IPV6_MIN_MTU, Percent};
use super::{Flight, RouterWould, Verdict, Why};

/// One impairment.
pub trait Layer: Send {
    /// Decide `flight`'s fate at its `due` time: push its verdict (or two, for a copy) to `out`,
    /// or keep it for later.
    fn pass(&mut self, flight: Flight, out: &mut Vec<Verdict>);

    /// When this layer next has something to release, if it holds anything.
    fn wake(&self) -> Option<Duration> {
        None
    }

    /// The time is `now`: push whatever is due by then to `out`.
    fn tick(&mut self, now: Duration, out: &mut Vec<Verdict>) {
        let _ = (now, out);
    }
}

/// `loss=P%`: drops each packet with probability P, one draw per packet.
pub struct Loss {
    chance: Percent,
    rng: Rng,
}

impl Loss {
    pub fn new(chance: Percent, rng: Rng) -> Loss {
        Loss { chance, rng }
    }
}

impl Layer for Loss {
    fn pass(&mut self, flight: Flight, out: &mut Vec<Verdict>) {
        if self.rng.chance(self.chance) {
            out.push(Verdict::Dropped(flight, Why::Loss));
        } else {
            out.push(Verdict::Send(flight));
        }
    }
}

/// `duplicate=P%`: with probability P, sends the packet and then a copy of it, marked as the
/// copy, at the same time.
pub struct Duplicate {
    chance: Percent,
    rng: Rng,
}

impl Duplicate {
    pub fn new(chance: Percent, rng: Rng) -> Duplicate {
        Duplicate { chance, rng }
    }
}

impl Layer for Duplicate {
    fn pass(&mut self, flight: Flight, out: &mut Vec<Verdict>) {
        if self.rng.chance(self.chance) {
            let mut copy = flight.clone();
            copy.marks.copy = true;
            out.push(Verdict::Send(flight));
            out.push(Verdict::Send(copy));
        } else {
            out.push(Verdict::Send(flight));
        }
    }
}

/// `reorder=P%`: with probability P, holds a packet back until the next one has passed, then
/// sends it right after that one: the two swap places. One packet is held at a time, and the
/// packet that overtakes it is never held itself. A held packet that nothing overtakes within
/// [`HOLD_LIMIT`] goes on alone, late.
pub struct Reorder {
    chance: Percent,
    rng: Rng,
    held: Option<Flight>,
}

/// How long [`Reorder`] waits for a packet to swap with: long enough for the next packet of a
/// burst, short against TCP's least retransmission timeout (200 ms on Linux), so that a lone
/// held packet costs a delay, not a retransmission.
pub const HOLD_LIMIT: Duration = Duration::from_millis(100);

impl Reorder {
    pub fn new(chance: Percent, rng: Rng) -> Reorder {
        Reorder {
            chance,
            rng,
            held: None,
        }
    }

    /// The held packet, on its way at the end of its hold.
    fn release(mut held: Flight) -> Verdict {
        held.due += HOLD_LIMIT;
        held.marks.held_back = true;
        Verdict::Send(held)
    }
}

impl Layer for Reorder {
    fn pass(&mut self, flight: Flight, out: &mut Vec<Verdict>) {
        // Drawn for every packet, so that each uses one number of the stream.
        let hold = self.rng.chance(self.chance);
        if let Some(mut held) = self.held.take() {
            if held.due + HOLD_LIMIT <= flight.due {
                // Its hold ran out before this packet came (whether or not the wire ticked at
                // the time): it went on alone, and this packet is decided afresh.
                out.push(Reorder::release(held));
            } else {
                held.due = flight.due;
                held.marks.held_back = true;
                out.push(Verdict::Send(flight));
                out.push(Verdict::Send(held));
                return;
            }
        }
        if hold {
            self.held = Some(flight);
        } else {
            out.push(Verdict::Send(flight));
        }
    }

    fn wake(&self) -> Option<Duration> {
        self.held.as_ref().map(|held| held.due + HOLD_LIMIT)
    }

    fn tick(&mut self, now: Duration, out: &mut Vec<Verdict>) {
        if self.wake().is_some_and(|at| at <= now) {
            if let Some(held) = self.held.take() {
                out.push(Reorder::release(held));
            }
        }
    }
}

/// `delay=T,jitter=J`: each packet is due T later, give or take up to J (uniform, to the
/// microsecond), but never before the packet ahead of it: a queue, as a real link is, so jitter
/// varies the delay without reordering (reordering is [`Reorder`]'s alone).
pub struct Delay {
    delay: Duration,
    jitter: Duration,
    rng: Rng,
    /// When the last packet is due: the next one is not due before.
    last_due: Duration,
}

impl Delay {
    pub fn new(delay: Duration, jitter: Duration, rng: Rng) -> Delay {
        Delay {
            delay,
            jitter,
            rng,
            last_due: Duration::ZERO,
        }
    }

    /// This packet's delay: `delay - jitter` plus a draw from `0..=2 × jitter`, in microseconds.
    fn sample(&mut self) -> Duration {
        if self.jitter.is_zero() {
            return self.delay;
        }
        let micros = |t: Duration| u64::try_from(t.as_micros()).unwrap_or(u64::MAX);
        let jitter = micros(self.jitter);
        let shift = self.rng.below(jitter.saturating_mul(2).saturating_add(1));
        let early = self.delay.saturating_sub(self.jitter);
        // Past the delay's end when the jitter is more than the delay (a spec refuses that).
        let late = micros(self.delay)
            .saturating_add(jitter)
            .saturating_sub(micros(early));
        early + Duration::from_micros(shift.min(late))
    }
}

impl Layer for Delay {
    fn pass(&mut self, mut flight: Flight, out: &mut Vec<Verdict>) {
        let due = flight.due + self.sample();
        flight.due = due.max(self.last_due);
        self.last_due = flight.due;
        out.push(Verdict::Send(flight));
    }
}

/// `mtu=N`: a packet longer than the MTU is dropped, and the verdict says what a real router
/// would send back ([`RouterWould`]). IPv6 packets are held to at least [`IPV6_MIN_MTU`]. The
/// wire gives each side the same MTU (its device's, or its route's for IPv4 under 1280), so the
/// hosts fragment and size their segments to fit: this layer only drops what still does not (a
/// raw socket's packet, or a side whose route could not be set).
pub struct Mtu {
    mtu: u16,
}

impl Mtu {
    pub fn new(mtu: u16) -> Mtu {
        Mtu { mtu }
    }
}

impl Layer for Mtu {
    fn pass(&mut self, flight: Flight, out: &mut Vec<Verdict>) {
        let bytes = &flight.packet.bytes;
        let reply = RouterWould::answer(bytes);
        let mtu = match reply {
            RouterWould::SendPacketTooBig => self.mtu.max(IPV6_MIN_MTU),
            _ => self.mtu,
        };
        if bytes.len() > usize::from(mtu) {
            let size = bytes.len();
            out.push(Verdict::Dropped(flight, Why::TooBig { size, mtu, reply }));
        } else {
            out.push(Verdict::Send(flight));
        }
    }
}

/// `dead-after=N`: carries the first N packets, then drops every one: the peer unplugged. The
/// count may be shared by both directions ([`DeadAfter::sharing`]), so that both ways die at
/// the same moment.
pub struct DeadAfter {
    after: u64,
    /// Packets seen so far: by this layer alone, or by every layer sharing it. Atomic because
    /// the two directions may run on two threads of the wire.
    seen: Arc<AtomicU64>,
}

impl DeadAfter {
    pub fn new(after: u64) -> DeadAfter {
        DeadAfter {
            after,
            seen: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Another layer (for the other direction) on the same count.
    pub fn sharing(&self) -> DeadAfter {
        DeadAfter {
            after: self.after,
            seen: Arc::clone(&self.seen),
        }
    }
}

impl Layer for DeadAfter {
    fn pass(&mut self, flight: Flight, out: &mut Vec<Verdict>) {
        // Relaxed: the count is the only data, and each packet gets a distinct number.
        if self.seen.fetch_add(1, Ordering::Relaxed) < self.after {
            out.push(Verdict::Send(flight));
        } else {
            out.push(Verdict::Dropped(flight, Why::Dead { after: self.after }));
        }
    }
}

/// A direction's layers in order: each packet goes through the first, what it sends on goes
/// through the second, and so on; a dropped packet leaves the stack at once. What comes out is
/// in the order to send, each at a due time that never decreases, so the wire needs one queue per
/// direction, not a heap.
pub struct Stack {
    layers: Vec<Box<dyn Layer>>,
    last_due: Duration,
    /// Scratch lists for the verdicts between two layers, kept so that a packet costs no
    /// allocation once the link has run a little.
    here: Vec<Verdict>,
    next: Vec<Verdict>,
}

impl Stack {
    pub fn new(layers: Vec<Box<dyn Layer>>) -> Stack {
        Stack {
            layers,
            last_due: Duration::ZERO,
            here: Vec::new(),
            next: Vec::new(),
        }
    }

    /// Run `flight` through every layer; push the verdicts to `out`.
    pub fn pass(&mut self, flight: Flight, out: &mut Vec<Verdict>) {
        self.here.push(Verdict::Send(flight));
        self.run_from(0, out);
    }

    /// The earliest time a layer has something to release.
    pub fn wake(&self) -> Option<Duration> {
        self.layers.iter().filter_map(|layer| layer.wake()).min()
    }

    /// The time is `now`: each layer releases what is due, and it goes through the layers below.
    pub fn tick(&mut self, now: Duration, out: &mut Vec<Verdict>) {
        for at in 0..self.layers.len() {
            if self.layers[at].wake().is_some_and(|wake| wake <= now) {
                self.layers[at].tick(now, &mut self.here);
                self.run_from(at + 1, out);
            }
        }
    }

    /// Run what is in `here` through the layers from `start` on, into `out`.
    fn run_from(&mut self, start: usize, out: &mut Vec<Verdict>) {
        let Stack {
            layers,
            last_due,
            here,
            next,
        } = self;
        for layer in layers.iter_mut().skip(start) {
            for verdict in here.drain(..) {
                match verdict {
                    Verdict::Send(flight) => layer.pass(flight, next),
                    dropped @ Verdict::Dropped(..) => out.push(dropped),
                }
            }
            std::mem::swap(here, next);
        }
        for mut verdict in here.drain(..) {
            if let Verdict::Send(flight) = &mut verdict {
                flight.due = flight.due.max(*last_due);
                *last_due = flight.due;
            }
            out.push(verdict);
        }
    }
}
