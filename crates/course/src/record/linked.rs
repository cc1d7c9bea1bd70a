//! The packets of a run across the lab link (`trace --link`): not a capture, but the wire's own
//! account of each packet (`crate::link::log`), turned into what the ladder draws — each packet
//! from the time it came to the wire (its sender's end) to the time it left it (the other end),
//! marked with what the link did to it, and TCP segments sent again marked as retransmissions.

use std::net::IpAddr;

use super::capture::{self, Frame, OnLink, Packet};
use crate::link::Direction;
use crate::link::log::{Event, Fate};

/// Microseconds since the epoch as the seconds strace's `-ttt` prints.
fn seconds(us: u64) -> f64 {
    us as f64 / 1e6
}

/// The packets the ladder draws, in the order the wire decided them. (The kernel's own chatter on
/// a new device, IPv6 router solicitations and multicast reports, never gets here: the wire
/// passes only packets between the two lab addresses, and logs nothing else. An ICMPv6 echo
/// between them, a learner's ping, is lab traffic and drawn.)
pub fn packets(events: &[Event]) -> Vec<Packet> {
    let again = retransmissions(events);
    events
        .iter()
        .zip(again)
        .filter_map(|(event, again)| {
            let mut packet = capture::decode_raw(seconds(event.arrived_us), &event.bytes)?;
            let mut marks = Vec::new();
            if again {
                marks.push("retransmission".to_string());
            }
            // A packet the link sent as it came (delayed or not) gets no words: a delay shows in
            // the calls' times. Every other fate is said in the wire's words.
            if event.fate != Fate::Sent {
                marks.push(event.words.clone());
            }
            packet.link = Some(OnLink {
                from_server: event.direction == Direction::ToClient,
                left: event.left_us.map(seconds),
                marks,
            });
            Some(packet)
        })
        .collect()
}

/// The packets that reached the other side, at the time they left the wire, as pcap records of
/// raw IP packets (the dropped ones are not there: no receiver ever saw them), in the order they
/// left: a packet decided later may leave sooner (one direction's delay, the other's none), and a
/// capture's records go in time order.
pub fn frames(events: &[Event]) -> Vec<Frame> {
    let mut left: Vec<(u64, &Event)> = events
        .iter()
        .filter_map(|event| Some((event.left_us?, event)))
        .collect();
    // Stable: packets that left at the same microsecond keep the order decided.
    left.sort_by_key(|(us, _)| *us);
    left.into_iter()
        .map(|(us, event)| Frame {
            time: seconds(us),
            bytes: event.bytes.clone(),
        })
        .collect()
}

/// A TCP segment as a retransmission would repeat it: its connection (both ends), its sequence
/// number, how many bytes it carries, and its SYN and FIN flags.
type Segment = (IpAddr, u16, IpAddr, u16, u32, usize, u8);

/// The TCP segment in an IP packet, where it is one a sender would send again: one that carries
/// bytes, a SYN or a FIN (a pure ACK or an RST is never retransmitted).
fn segment(bytes: &[u8]) -> Option<Segment> {
    let ip = capture::ip_layer(bytes)?;
    if ip.protocol != capture::TCP {
        return None;
    }
    let t = ip.transport;
    let port = |at: usize| Some(u16::from_be_bytes([*t.get(at)?, *t.get(at + 1)?]));
    let seq = u32::from_be_bytes(t.get(4..8)?.try_into().ok()?);
    let header = usize::from(t.get(12)? >> 4) * 4;
    let data = t.len().checked_sub(header)?;
    let syn_fin = t.get(13)? & 0x03;
    (data > 0 || syn_fin != 0).then_some((ip.src, port(0)?, ip.dst, port(2)?, seq, data, syn_fin))
}

/// For each event, whether its packet is a TCP retransmission: a segment with the same ends,
/// sequence number, length and SYN/FIN flags as one its sender offered the wire before. The copy
/// the link's `duplicate` made is the link's doing, not the sender's: never counted.
pub fn retransmissions(events: &[Event]) -> Vec<bool> {
    let mut seen: Vec<Segment> = Vec::new();
    events
        .iter()
        .map(|event| {
            if event.fate == Fate::Copy {
                return false;
            }
            let Some(segment) = segment(&event.bytes) else {
                return false;
            };
            if seen.contains(&segment) {
                true
            } else {
                seen.push(segment);
                false
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv4 TCP packet from 192.0.2.1:41234 to 192.0.2.2:51423 (or back), with `flags`, `seq`
    /// and `data`.
    fn tcp(from_server: bool, flags: u8, seq: u32, data: &[u8]) -> Vec<u8> {
        let (client, server) = ([192, 0, 2, 1], [192, 0, 2, 2]);
        let ((src, sport), (dst, dport)) = if from_server {
            ((server, 51423u16), (client, 41234u16))
        } else {
            ((client, 41234), (server, 51423))
        };
        let total = u16::try_from(20 + 20 + data.len()).unwrap();
        let mut ip = vec![0x45, 0];
        ip.extend_from_slice(&total.to_be_bytes());
        ip.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0]);
        ip.extend_from_slice(&src);
        ip.extend_from_slice(&dst);
        ip.extend_from_slice(&sport.to_be_bytes());
        ip.extend_from_slice(&dport.to_be_bytes());
        ip.extend_from_slice(&seq.to_be_bytes());
        ip.extend_from_slice(&[0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        ip.extend_from_slice(data);
        ip
    }

    fn event(from_server: bool, fate: Fate, bytes: Vec<u8>) -> Event {
        Event {
            direction: if from_server {
                Direction::ToClient
            } else {
                Direction::ToServer
            },
            number: 1,
            arrived_us: 1_000_000,
            left_us: (!fate.dropped()).then_some(1_000_500),
            fate,
            bytes,
            words: match fate {
                Fate::Lost => "dropped by loss".into(),
                Fate::Copy => "duplicated".into(),
                _ => "sent".into(),
            },
        }
    }

    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const PSH_ACK: u8 = 0x18;

    /// The SYN sent again after its first was lost is a retransmission; the SYN-ACK is not (other
    /// direction); the same sequence number with other bytes is not; data sent again is; pure ACKs
    /// with one sequence number never are; the link's copy is not the sender's doing.
    #[test]
    fn finds_segments_sent_again() {
        let events = [
            event(false, Fate::Lost, tcp(false, SYN, 100, b"")),
            event(false, Fate::Sent, tcp(false, SYN, 100, b"")),
            event(true, Fate::Sent, tcp(true, SYN | ACK, 100, b"")),
            event(false, Fate::Sent, tcp(false, ACK, 101, b"")),
            event(false, Fate::Sent, tcp(false, ACK, 101, b"")),
            event(false, Fate::Lost, tcp(false, PSH_ACK, 101, b"hello")),
            event(false, Fate::Copy, tcp(false, PSH_ACK, 101, b"hello")),
            event(false, Fate::Sent, tcp(false, PSH_ACK, 101, b"hullo, more")),
            event(false, Fate::Sent, tcp(false, PSH_ACK, 101, b"hello")),
        ];
        let again = retransmissions(&events);
        assert_eq!(
            again,
            [false, true, false, false, false, false, false, false, true]
        );
    }

    /// The drawn packets carry the wire's direction, when they left (none for a lost one) and
    /// their marks: a lost one its words, a retransmission the word, a plain one none.
    #[test]
    fn packets_carry_what_the_link_did() {
        let events = [
            event(false, Fate::Lost, tcp(false, SYN, 7, b"")),
            event(false, Fate::Sent, tcp(false, SYN, 7, b"")),
            event(true, Fate::Copy, tcp(true, SYN | ACK, 9, b"")),
        ];
        let packets = packets(&events);
        let link = |at: usize| packets[at].link.clone().unwrap();
        assert_eq!(packets[0].label, "SYN");
        assert_eq!(link(0).left, None);
        assert_eq!(link(0).marks, ["dropped by loss"]);
        assert_eq!(link(1).marks, ["retransmission"]);
        assert_eq!(link(1).left, Some(1.0005));
        assert!(link(2).from_server && link(2).marks == ["duplicated"]);
        let frames = frames(&events);
        assert_eq!(frames.len(), 2, "the lost SYN is not in the pcap file");
        assert_eq!(frames[0].time, 1.0005);
    }

    /// A capture's frames go in the order the packets left the wire, not the order decided.
    #[test]
    fn frames_go_in_time_order() {
        let mut late = event(false, Fate::Sent, tcp(false, SYN, 7, b""));
        late.left_us = Some(2_000_000);
        let soon = event(true, Fate::Sent, tcp(true, SYN | ACK, 9, b""));
        let frames = frames(&[late, soon]);
        let times: Vec<f64> = frames.iter().map(|f| f.time).collect();
        assert_eq!(times, [1.0005, 2.0]);
    }
}
