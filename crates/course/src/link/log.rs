//! What the wire tells the course tool, one line each, on its stdout: that the link is up (and
//! where each side's network namespace is), each packet's fate when a trace asks for them, and its
//! counts when it ends. The wire (`crates/lab-wire`) writes these lines and the course tool reads
//! them, so both sides use this module and neither knows the other's code.
//!
//! ```text
//! ready CLIENT-NETNS SERVER-NETNS START-UNIX-MICROS
//! note TEXT
//! packet s 3 1733012345678901 1733012345759901 sent 4500003c…⇥delayed 81 ms
//! packet c 5 1733012345778000 - lost 4500…⇥dropped by loss
//! end s OFFERED SENT LOST TOO-BIG DEAD DUPLICATED HELD-BACK
//! end c …
//! ```
//!
//! A packet's times are the machine's clock (microseconds since the Unix epoch, as strace prints
//! its calls' times), so that a trace can set them beside the calls: when the packet came to the
//! wire, and when it left it (`-` for a packet that died there). `s` is towards the server. A tab
//! (`⇥` above) parts the fields from the verdict in words.

use std::fmt::Write as _;

use super::{Counters, Direction, Verdict, Why};

/// A packet as the wire decided it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub direction: Direction,
    /// Its number in its direction, from 1 (a copy has its original's).
    pub number: u64,
    /// When it came to the wire.
    pub arrived_us: u64,
    /// When it left the wire; `None`: it died there.
    pub left_us: Option<u64>,
    pub fate: Fate,
    /// The IP packet.
    pub bytes: Vec<u8>,
    /// The verdict in words, as the ladder writes it beside the packet.
    pub words: String,
}

/// `t` on the clock the wire stamps its packets with: microseconds since the Unix epoch (0 for a
/// clock set before it).
pub fn unix_micros(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// What happened to a packet, in one word each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    Sent,
    /// The copy `duplicate` made.
    Copy,
    /// Held back by `reorder`: a later packet went first.
    HeldBack,
    Lost,
    TooBig,
    Dead,
}

impl Fate {
    const WORDS: [(Fate, &'static str); 6] = [
        (Fate::Sent, "sent"),
        (Fate::Copy, "copy"),
        (Fate::HeldBack, "held"),
        (Fate::Lost, "lost"),
        (Fate::TooBig, "too-big"),
        (Fate::Dead, "dead"),
    ];

    fn word(self) -> &'static str {
        Fate::WORDS
            .iter()
            .find(|(fate, _)| *fate == self)
            .map_or("sent", |(_, word)| word)
    }

    fn from_word(word: &str) -> Option<Fate> {
        Fate::WORDS
            .iter()
            .find(|(_, w)| *w == word)
            .map(|(fate, _)| *fate)
    }

    /// Whether the packet died on the link.
    pub fn dropped(self) -> bool {
        matches!(self, Fate::Lost | Fate::TooBig | Fate::Dead)
    }
}

impl Event {
    /// The event of `verdict`, for a link that came up at `start_us` on the machine's clock.
    pub fn of(direction: Direction, verdict: &Verdict, start_us: u64) -> Event {
        let (flight, fate) = match verdict {
            Verdict::Send(flight) if flight.marks.copy => (flight, Fate::Copy),
            Verdict::Send(flight) if flight.marks.held_back => (flight, Fate::HeldBack),
            Verdict::Send(flight) => (flight, Fate::Sent),
            Verdict::Dropped(flight, Why::Loss) => (flight, Fate::Lost),
            Verdict::Dropped(flight, Why::TooBig { .. }) => (flight, Fate::TooBig),
            Verdict::Dropped(flight, Why::Dead { .. }) => (flight, Fate::Dead),
        };
        let micros = |d: std::time::Duration| {
            start_us.saturating_add(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        };
        Event {
            direction,
            number: flight.packet.number,
            arrived_us: micros(flight.arrived),
            left_us: (!fate.dropped()).then(|| micros(flight.due)),
            fate,
            bytes: flight.packet.bytes.clone(),
            words: verdict.to_string(),
        }
    }

    /// The event as one line of the wire's output (no newline).
    pub fn line(&self) -> String {
        let mut hex = String::with_capacity(self.bytes.len() * 2);
        for byte in &self.bytes {
            let _ = write!(hex, "{byte:02x}");
        }
        let left = self
            .left_us
            .map_or_else(|| "-".to_string(), |us| us.to_string());
        format!(
            "packet {} {} {} {left} {} {hex}\t{}",
            side(self.direction),
            self.number,
            self.arrived_us,
            self.fate.word(),
            self.words
        )
    }

    /// The event a `packet …` line stands for; `None` for any other line.
    pub fn parse(line: &str) -> Option<Event> {
        let (fields, words) = line.strip_prefix("packet ")?.split_once('\t')?;
        let mut fields = fields.split(' ');
        let direction = direction(fields.next()?)?;
        let number = fields.next()?.parse().ok()?;
        let arrived_us = fields.next()?.parse().ok()?;
        let left_us = match fields.next()? {
            "-" => None,
            us => Some(us.parse().ok()?),
        };
        let fate = Fate::from_word(fields.next()?)?;
        let hex = fields.next()?;
        if hex.len() % 2 != 0 || fields.next().is_some() {
            return None;
        }
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        Some(Event {
            direction,
            number,
            arrived_us,
            left_us,
            fate,
            bytes,
            words: words.to_string(),
        })
    }
}

/// The `end` line of one direction's counts.
pub fn end_line(direction: Direction, c: &Counters) -> String {
    format!(
        "end {} {} {} {} {} {} {} {}",
        side(direction),
        c.offered,
        c.sent,
        c.lost,
        c.too_big,
        c.dead,
        c.duplicated,
        c.held_back
    )
}

/// The counts an `end` line gives, and their direction.
pub fn parse_end(line: &str) -> Option<(Direction, Counters)> {
    let mut fields = line.strip_prefix("end ")?.split(' ');
    let direction = direction(fields.next()?)?;
    let numbers: Vec<u64> = fields.map(str::parse).collect::<Result<_, _>>().ok()?;
    let [offered, sent, lost, too_big, dead, duplicated, held_back] = numbers[..] else {
        return None;
    };
    Some((
        direction,
        Counters {
            offered,
            sent,
            lost,
            too_big,
            dead,
            duplicated,
            held_back,
        },
    ))
}

fn side(direction: Direction) -> &'static str {
    match direction {
        Direction::ToServer => "s",
        Direction::ToClient => "c",
    }
}

fn direction(side: &str) -> Option<Direction> {
    match side {
        "s" => Some(Direction::ToServer),
        "c" => Some(Direction::ToClient),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::{Flight, Marks, Packet};
    use std::time::Duration;

    fn flight(copy: bool) -> Flight {
        Flight {
            packet: Packet {
                number: 4,
                bytes: vec![0x45, 0, 0xff],
            },
            arrived: Duration::from_millis(10),
            due: Duration::from_millis(93),
            marks: Marks {
                copy,
                held_back: false,
            },
        }
    }

    #[test]
    fn a_sent_packet_reads_back_as_written() {
        let event = Event::of(Direction::ToServer, &Verdict::Send(flight(true)), 1_000_000);
        assert_eq!(event.fate, Fate::Copy);
        assert_eq!(event.arrived_us, 1_010_000);
        assert_eq!(event.left_us, Some(1_093_000));
        let line = event.line();
        assert_eq!(
            line,
            "packet s 4 1010000 1093000 copy 4500ff\tduplicated, delayed 83 ms"
        );
        assert_eq!(Event::parse(&line), Some(event));
    }

    #[test]
    fn a_lost_packet_has_no_time_it_left() {
        let event = Event::of(
            Direction::ToClient,
            &Verdict::Dropped(flight(false), Why::Loss),
            0,
        );
        let line = event.line();
        assert!(
            line.starts_with("packet c 4 10000 - lost 4500ff\t"),
            "{line}"
        );
        assert_eq!(Event::parse(&line).map(|e| e.left_us), Some(None));
    }

    #[test]
    fn other_lines_and_broken_ones_are_no_packet() {
        for line in [
            "ready a b 1",
            "packet s 4 1 - lost 450\tx",
            "packet x 4 1 - lost 45\tx",
            "packet s 4 1 - gone 45\tx",
            "packet s 4 1 - lost 45",
        ] {
            assert_eq!(Event::parse(line), None, "{line}");
        }
    }

    #[test]
    fn counts_read_back_as_written() {
        let counters = Counters {
            offered: 11,
            sent: 9,
            lost: 2,
            too_big: 0,
            dead: 0,
            duplicated: 1,
            held_back: 3,
        };
        let line = end_line(Direction::ToClient, &counters);
        assert_eq!(line, "end c 11 9 2 0 0 1 3");
        assert_eq!(parse_end(&line), Some((Direction::ToClient, counters)));
        assert_eq!(parse_end("end c 1 2 3"), None);
    }
}
