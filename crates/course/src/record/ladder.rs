//! The ladder diagram: the client's calls on the left, the server's on the right, the packets
//! between them as arrows, time going down. A call that waits for the peer (accept, recv) sits
//! where it returned, after the packet that woke it; any other call where it began. A packet sits
//! on the row of the call that sent it when that call came just before it.
//!
//! The calls' times come from strace, the packets' from the kernel, and on a busy machine strace's
//! stamps can be off by milliseconds. Where they disagree with cause and effect — a wait that
//! seems to end just before the packet that ended it — cause and effect wins (see [`woken`]).

use std::fmt::Write as _;

use super::capture::Packet;
use super::resolver;
use super::strace::Call;

/// Column widths: milliseconds, call, arrow, call (a space between each): 5 + 32 + 28 + 32 + 3 =
/// 100.
const TIME: usize = 5;
const SIDE: usize = 32;
const MIDDLE: usize = 28;

/// Which side of the ladder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// A packet is tied to the call before it when it follows within this many seconds (the capture
/// stamps a frame when it reads it, a little after the kernel sent it; more on a busy machine).
const CAUSED_WITHIN: f64 = 0.2;

struct Row {
    /// When it happened, in seconds since the epoch: the call's place on the time line, else the
    /// packet's stamp.
    time: f64,
    left: String,
    arrow: String,
    right: String,
    /// The side, time and name of the call on this row, if it has one and no arrow yet.
    open: Option<(Side, f64, String)>,
    /// The call on this row, and its side.
    call: Option<(Side, Call)>,
    /// The side a packet on this row goes to, when it got there, its label and whether it carries
    /// a program's bytes; `None` for a packet that died on the lab link.
    packet: Option<(Side, f64, String, bool)>,
    /// What the lab link did to the packet on this row, written under its arrow.
    marks: Vec<String>,
}

/// Draw the ladder. `server_port` tells the sides' packets apart (the server's port is the one it
/// listens on); pure ACKs after the handshake are left out — they carry no news.
pub fn render(
    client: &str,
    server: &str,
    client_calls: &[Call],
    server_calls: &[Call],
    packets: &[Packet],
    server_port: u16,
) -> String {
    enum Event<'a> {
        Call(Side, &'a Call),
        Packet(&'a Packet),
    }
    let mut events: Vec<(f64, Event)> = Vec::new();
    events.extend(
        client_calls
            .iter()
            .map(|c| (placed_at(c), Event::Call(Side::Client, c))),
    );
    events.extend(
        server_calls
            .iter()
            .map(|c| (placed_at(c), Event::Call(Side::Server, c))),
    );
    let mut handshake_ack_shown = false;
    for packet in packets {
        if packet.bare_ack {
            // The third packet of the handshake is part of the lesson; later pure ACKs are not,
            // unless the lab link did something to one (lost it, say).
            let marked = packet.link.as_ref().is_some_and(|l| !l.marks.is_empty());
            if handshake_ack_shown && !marked {
                continue;
            }
            handshake_ack_shown = true;
        }
        events.push((packet.time, Event::Packet(packet)));
    }
    events.sort_by(|a, b| a.0.total_cmp(&b.0));

    let mut rows: Vec<Row> = Vec::new();
    for (time, event) in events {
        match event {
            Event::Call(side, call) => {
                let text = call.text.clone();
                let (left, right) = if side == Side::Client {
                    (text, String::new())
                } else {
                    (String::new(), text)
                };
                rows.push(Row {
                    time,
                    left,
                    arrow: String::new(),
                    right,
                    open: Some((side, time, call.name.clone())),
                    call: Some((
                        side,
                        Call {
                            time,
                            ..call.clone()
                        },
                    )),
                    packet: None,
                    marks: Vec::new(),
                });
            }
            Event::Packet(packet) => {
                // The server's port, or a DNS server's: the scripted resolver answers from the
                // right, whoever the partner is.
                // Across the lab link the wire says which way a packet went.
                let from = match &packet.link {
                    Some(link) if link.from_server => Side::Server,
                    Some(_) => Side::Client,
                    None if packet.src.1 == server_port || packet.src.1 == resolver::PORT => {
                        Side::Server
                    }
                    None => Side::Client,
                };
                let died = packet.link.as_ref().is_some_and(|l| l.left.is_none());
                let arrow = arrow(&packet.label, from, died);
                let to = if from == Side::Server {
                    Side::Client
                } else {
                    Side::Server
                };
                // A packet that died wakes nothing; one the link delayed wakes its receiver when
                // it left the wire, not when it came to it.
                let delivered = packet.link.as_ref().and_then(|l| l.left).unwrap_or(time);
                let sent = (!died).then(|| (to, delivered, packet.label.clone(), packet.payload));
                let marks = packet
                    .link
                    .as_ref()
                    .map(|l| l.marks.clone())
                    .unwrap_or_default();
                // The sender's call that can send this packet may sit a few rows up: other calls
                // began in between (a row is where a call began). Look back past those, and past a
                // packet the other side sent (two FINs that cross in a simultaneous close: the
                // client's may be stamped first, yet the server's was sent by the server's close,
                // a row above), not past one this side sent.
                let other_side = |row: &Row| matches!(&row.packet, Some((to, ..)) if *to == from);
                let cause = rows.iter_mut().rev().take(6).take_while(|row| row.arrow.is_empty() || other_side(row)).find(|row| {
                    matches!(&row.open, Some((side, at, name)) if *side == from && time - at <= CAUSED_WITHIN && can_send(name, packet))
                });
                match cause {
                    Some(row) => {
                        row.arrow = arrow;
                        row.open = None;
                        row.packet = sent;
                        row.marks = marks;
                    }
                    None => rows.push(Row {
                        time,
                        left: String::new(),
                        arrow,
                        right: String::new(),
                        open: None,
                        call: None,
                        packet: sent,
                        marks,
                    }),
                }
            }
        }
    }
    woken(&mut rows);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>TIME$} {:<SIDE$} {:^MIDDLE$} {}",
        "ms",
        fit(client, SIDE),
        "",
        fit(server, SIDE)
    );
    let _ = writeln!(
        out,
        "{:>TIME$} {:<SIDE$} {:^MIDDLE$} {}",
        "--",
        "-".repeat(SIDE.min(client.len().max(6))),
        "",
        "-".repeat(SIDE.min(server.len().max(6)))
    );
    // Milliseconds since the first row: the time between rows is what a timeout, a pause or a
    // retransmission's wait looks like.
    let origin = rows.iter().map(|r| r.time).fold(f64::INFINITY, f64::min);
    for row in rows {
        let (left, right) = (wrap(&row.left), wrap(&row.right));
        let marks = mark_lines(&row.marks);
        let ms = ((row.time - origin) * 1000.0).round();
        for at in 0..left.len().max(right.len()).max(1 + marks.len()) {
            let (arrow, time) = if at == 0 {
                (row.arrow.as_str(), format!("{ms}"))
            } else {
                (marks.get(at - 1).map_or("", String::as_str), String::new())
            };
            let line = format!(
                "{time:>TIME$} {:<SIDE$} {:<MIDDLE$} {}",
                left.get(at).map_or("", String::as_str),
                arrow,
                right.get(at).map_or("", String::as_str)
            );
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
    out
}

/// How far strace's stamp for the end of a wait may fall before the packet that ended it, on a busy
/// machine, and still be moved below it.
const STAMPS_DISAGREE: f64 = 0.05;

/// A wait that ended (accept, a receive with a result) moves below the packet that ended it when
/// that packet comes just after it: toward its side, of the kind that ends it (the handshake's ACK
/// for accept, data for a receive with bytes, a FIN for 0, an RST, an ICMP), within
/// [`STAMPS_DISAGREE`], with no other call of its side in between. The kernel wakes the call only
/// once the packet is in, so the order can only be that one.
fn woken(rows: &mut Vec<Row>) {
    let mut moved = vec![false; rows.len()];
    let mut at = 0;
    while at < rows.len() {
        // A wait that ended (one still waiting when its program was stopped was woken by nothing).
        let waiting = match &rows[at] {
            Row {
                call: Some((side, call)),
                arrow,
                ..
            } if !moved[at] && arrow.is_empty() && waits(&call.name) && !call.waiting => {
                Some((*side, call.time, call.name.clone(), call.text.clone()))
            }
            _ => None,
        };
        let Some((side, time, name, text)) = waiting else {
            at += 1;
            continue;
        };
        let wakes = |row: &Row| matches!(&row.packet, Some((to, _, label, payload)) if *to == side && ends_wait(&name, &text, label, *payload));
        let same_side = |row: &Row| matches!(&row.call, Some((s, _)) if *s == side);
        // Already below its packet: one came since this side's wait before (data can come in
        // before a shutdown or setsockopt of this side and be read after it).
        let waited = |row: &Row| matches!(&row.call, Some((s, c)) if *s == side && waits(&c.name));
        let above = rows[..at].iter().rev();
        let mut since_last_wait = above.take_while(|row| !waited(row));
        if since_last_wait.any(&wakes) {
            at += 1;
            continue;
        }
        let mut waker = None;
        for (later, row) in rows.iter().enumerate().skip(at + 1) {
            let too_late = row
                .packet
                .as_ref()
                .is_some_and(|(_, when, ..)| *when - time > STAMPS_DISAGREE);
            if too_late || same_side(row) {
                break;
            }
            if wakes(row) {
                waker = Some(later);
                break;
            }
        }
        match waker {
            Some(waker) => {
                let mut row = rows.remove(at);
                // The wait ended once the packet was in: never shown before it.
                let woke_at = rows[waker - 1].packet.as_ref().map(|(_, when, ..)| *when);
                row.time = row.time.max(woke_at.unwrap_or(row.time));
                rows.insert(waker, row);
                moved.remove(at);
                moved.insert(waker, true);
                // The rows that moved up into `at` are looked at next.
            }
            None => at += 1,
        }
    }
}

/// Whether a packet labelled `label` (carrying a program's bytes: `payload`) is one that ends the
/// wait of `name` with result `text`.
fn ends_wait(name: &str, text: &str, label: &str, payload: bool) -> bool {
    let result = text.rsplit_once(" = ").map_or("", |(_, r)| r);
    if name.starts_with("accept") {
        return label == "ACK" && !result.starts_with('-');
    }
    match result {
        "0" => label.contains("FIN"),
        r if r.contains("ECONNREFUSED") => label.starts_with("ICMP"),
        r if r.contains("ECONNRESET") => label.contains("RST"),
        r if r.starts_with('-') => false,
        _ => payload,
    }
}

fn waits(name: &str) -> bool {
    [
        "accept", "accept4", "recvfrom", "recv", "recvmsg", "recvmmsg", "read",
    ]
    .contains(&name)
}

/// Where a call goes on the time line: a call that waits for the peer (accept, a receive) where it
/// returned, since the packet that ended the wait came before; any other call where it began, since
/// what it sends comes after, and so does one still waiting when its program was stopped.
fn placed_at(call: &Call) -> f64 {
    if waits(&call.name) && !call.waiting {
        call.done
    } else {
        call.time
    }
}

/// A call's text in lines of at most SIDE characters: whole if it fits, else the call on one line
/// and its result (` = -1 EINPROGRESS`) indented on the next, cut with `…` only if still too long.
fn wrap(text: &str) -> Vec<String> {
    if text.chars().count() <= SIDE {
        return vec![text.to_string()];
    }
    match text.rsplit_once(" = ") {
        Some((call, result)) => vec![fit(call, SIDE), fit(&format!("  = {result}"), SIDE)],
        None => vec![fit(text, SIDE)],
    }
}

/// Whether a call named `name` is one that sends `packet` (the SYN-ACK, bare ACKs and ICMP come
/// from the kernel by itself, so they sit on rows of their own).
fn can_send(name: &str, packet: &Packet) -> bool {
    let sends = ["sendto", "send", "sendmsg", "sendmmsg", "write"].contains(&name);
    let label = packet.label.as_str();
    if label == "SYN" {
        name == "connect"
    } else if packet.payload {
        sends
    } else if label.contains("FIN") {
        name == "shutdown" || name == "close"
    } else if label == "RST" {
        name == "close" || name == "shutdown" || sends
    } else {
        false
    }
}

/// `── SYN ──────▶` left to right, `◀────── SYN-ACK ──` right to left, MIDDLE wide; a packet that
/// died on the lab link ends in `✗` instead of its head: `── data 5 ─────✗`.
fn arrow(label: &str, from: Side, died: bool) -> String {
    let label = fit(label, MIDDLE - 6);
    let fill = MIDDLE - label.chars().count() - 6;
    let (right, left) = if died { ('✗', '✗') } else { ('▶', '◀') };
    match from {
        Side::Client => format!("── {label} {}{right}", "─".repeat(fill + 1)),
        Side::Server => format!("{left}{} {label} ──", "─".repeat(fill + 1)),
    }
}

/// What the lab link did to a packet, each mark on lines of its own that fit under the arrow,
/// indented two spaces.
fn mark_lines(marks: &[String]) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for mark in marks {
        let mut line = String::new();
        for word in mark.split_whitespace() {
            if !line.is_empty() && 2 + line.chars().count() + 1 + word.chars().count() > MIDDLE {
                lines.push(format!("  {line}"));
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&fit(word, MIDDLE - 2));
        }
        if !line.is_empty() {
            lines.push(format!("  {line}"));
        }
    }
    lines
}

/// `text` cut to `width` characters, with `…` where it was cut.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::capture::OnLink;
    use std::net::{IpAddr, Ipv4Addr};

    fn call(time: f64, text: &str) -> Call {
        Call {
            time,
            done: time,
            pid: 1,
            name: text.split('(').next().unwrap_or("").into(),
            text: text.into(),
            waiting: text.ends_with("still waiting"),
        }
    }

    /// A call that began at `time` and returned at `done`.
    fn waiting(time: f64, done: f64, text: &str) -> Call {
        Call {
            done,
            ..call(time, text)
        }
    }

    fn packet(time: f64, from_server: bool, label: &str) -> Packet {
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let (client, server) = ((ip, 41234), (ip, 51423));
        let (src, dst) = if from_server {
            (server, client)
        } else {
            (client, server)
        };
        Packet {
            time,
            src,
            dst,
            label: label.into(),
            payload: label.starts_with("data"),
            bare_ack: label == "ACK",
            link: None,
        }
    }

    /// Each line of `ladder` without its milliseconds column.
    fn cells(ladder: &str) -> Vec<String> {
        ladder
            .lines()
            .map(|l| l.chars().skip(TIME + 1).collect())
            .collect()
    }

    /// The milliseconds on the first line with `needle`.
    #[track_caller]
    fn ms(ladder: &str, needle: &str) -> u64 {
        let line = ladder
            .lines()
            .nth(row_of(ladder, needle))
            .unwrap_or_default();
        line[..TIME]
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("no time on {line:?}"))
    }

    /// The first line of `ladder` with `needle` on it.
    #[track_caller]
    fn row_of(ladder: &str, needle: &str) -> usize {
        let found = ladder.lines().position(|l| l.contains(needle));
        found.unwrap_or_else(|| panic!("no {needle:?} in\n{ladder}"))
    }

    /// Two closes in the same millisecond: the client's FIN is stamped before the server's, yet
    /// each FIN sits beside the close that sent it (the server's did not, under load in CI, and
    /// got a row of its own below the client's).
    #[test]
    fn crossing_fins_sit_beside_their_closes() {
        let client = [call(1.0010, "close(3)")];
        let server = [call(1.0005, "close(4)")];
        let packets = [packet(1.0012, false, "FIN"), packet(1.0014, true, "FIN")];
        let ladder = render("client", "server", &client, &server, &packets, 51423);
        let server_close = row_of(&ladder, "close(4)");
        let client_close = row_of(&ladder, "close(3)");
        let line = |n: usize| ladder.lines().nth(n).unwrap_or_default().to_string();
        assert!(line(server_close).contains("FIN ──"), "{ladder}");
        assert!(line(server_close).contains('◀'), "{ladder}");
        assert!(line(client_close).contains("── FIN"), "{ladder}");
        assert_eq!(
            ladder.lines().count(),
            4,
            "no row of its own for a FIN: {ladder}"
        );
    }

    /// The handshake sits beside connect(); accept4() comes later on the right; only the first
    /// pure ACK is drawn; every line fits 100 columns.
    #[test]
    fn draws_packets_beside_their_calls() {
        let client = [
            call(1.000, "connect(3, 127.0.0.1:51423)"),
            call(1.010, "shutdown(3, SHUT_WR)"),
        ];
        let server = [call(0.500, "listen(3, 5)"), call(1.005, "accept4(3) = 4")];
        let packets = [
            packet(1.001, false, "SYN"),
            packet(1.002, true, "SYN-ACK"),
            packet(1.003, false, "ACK"),
            packet(1.011, false, "FIN"),
            packet(1.012, true, "ACK"),
        ];
        let ladder = render(
            "client 127.0.0.1:41234",
            "server 127.0.0.1:51423",
            &client,
            &server,
            &packets,
            51423,
        );
        let lines = cells(&ladder);
        assert!(
            lines[2].trim_start().starts_with("listen(3, 5)"),
            "{ladder}"
        );
        assert!(
            lines[3].starts_with("connect(3, 127.0.0.1:51423)") && lines[3].contains("── SYN ─"),
            "{ladder}"
        );
        assert!(
            lines[4].contains("◀") && lines[4].contains(" SYN-ACK ──"),
            "{ladder}"
        );
        assert!(lines[5].contains("── ACK ─"), "{ladder}");
        assert!(
            lines[6].trim_start().starts_with("accept4(3) = 4"),
            "{ladder}"
        );
        assert!(
            lines[7].starts_with("shutdown(3, SHUT_WR)") && lines[7].contains("── FIN ─"),
            "{ladder}"
        );
        assert_eq!(lines.len(), 8, "the later pure ACK is not drawn: {ladder}");
        assert!(ladder.lines().all(|l| l.chars().count() <= 100), "{ladder}");
    }

    /// A receive sits after the packet that ended its wait, though it began before; a call too long
    /// for its column goes on with its result on the next line instead of losing it.
    #[test]
    fn waits_end_after_their_packet_and_long_calls_wrap() {
        let client = [
            call(1.000, "connect(3, 127.0.0.1:8000) = -1 EINPROGRESS"),
            call(1.010, "sendto(3, 40 bytes) = 40"),
            waiting(1.011, 1.030, "recvfrom(3) = 156"),
            waiting(1.031, 1.050, "recvfrom(3) = 0"),
        ];
        let server = [
            waiting(0.500, 1.003, "accept4(3) = 4"),
            call(1.020, "sendto(4, 156 bytes) = 156"),
            call(1.040, "shutdown(4, SHUT_WR)"),
        ];
        let packets = [
            packet(1.001, false, "SYN"),
            packet(1.002, true, "SYN-ACK"),
            packet(1.0025, false, "ACK"),
            packet(1.0101, false, "data 40"),
            packet(1.0201, true, "data 156"),
            packet(1.0401, true, "FIN"),
        ];
        let ladder = render("client", "server", &client, &server, &packets, 51423);
        let lines = cells(&ladder)[2..].to_vec();
        let at = |needle: &str| row_of(&ladder, needle);
        assert!(
            lines[0].starts_with("connect(3, 127.0.0.1:8000)") && lines[0].contains("SYN"),
            "{ladder}"
        );
        assert_eq!(lines[1].trim_end(), "  = -1 EINPROGRESS", "{ladder}");
        assert!(at("accept4(3) = 4") > at("── ACK ─"), "{ladder}");
        assert!(at("recvfrom(3) = 156") > at(" data 156 ──"), "{ladder}");
        assert!(at("recvfrom(3) = 0") > at(" FIN ──"), "{ladder}");
        assert!(
            ladder
                .lines()
                .nth(at(" data 156 ──"))
                .unwrap_or_default()
                .ends_with("sendto(4, 156 bytes) = 156"),
            "the response beside its call: {ladder}"
        );
        assert!(ladder.lines().all(|l| l.chars().count() <= 100), "{ladder}");
    }

    /// strace's stamp for the end of accept4 fell just before the handshake (seen with both cores
    /// busy): it still sits below the ACK that ended it. A receive already below its data stays,
    /// with later data for the next receive left alone; a receive that timed out is not moved.
    #[test]
    fn a_wait_never_ends_before_its_packet() {
        let client = [
            call(1.000, "connect(3, 127.0.0.1:51423)"),
            waiting(1.010, 1.0301, "recvfrom(3) = 186"),
            waiting(1.031, 1.0402, "recvfrom(3) = 22"),
            waiting(1.041, 2.041, "recvfrom(3) = -1 EAGAIN"),
        ];
        let server = [
            waiting(0.500, 1.0015, "accept4(3) = 4"),
            call(1.030, "sendto(4, 186 bytes) = 186"),
            call(1.040, "sendto(4, 22 bytes) = 22"),
        ];
        let packets = [
            packet(1.001, false, "SYN"),
            packet(1.002, true, "SYN-ACK"),
            packet(1.003, false, "ACK"),
            packet(1.0300, true, "data 186"),
            packet(1.0401, true, "data 22"),
            packet(2.0411, true, "datagram 5"),
        ];
        let ladder = render("client", "server", &client, &server, &packets, 51423);
        let at = |needle: &str| row_of(&ladder, needle);
        assert!(at("accept4(3) = 4") > at("── ACK ─"), "{ladder}");
        assert!(at("recvfrom(3) = 186") > at(" data 186 ──"), "{ladder}");
        assert!(at("recvfrom(3) = 186") < at(" data 22 ──"), "{ladder}");
        assert!(at("recvfrom(3) = 22") > at(" data 22 ──"), "{ladder}");
        assert!(at("= -1 EAGAIN") < at(" datagram 5 ──"), "{ladder}");
    }

    /// Each row says when it happened, in milliseconds since the first: a one-second timeout
    /// reads as one; a wrapped call's second line has none; a wait moved below the packet that
    /// ended it is never shown before that packet, whatever strace's stamp said.
    #[test]
    fn shows_milliseconds_since_the_first_row() {
        let client = [
            call(1.000, "connect(3, 127.0.0.1:51423) = -1 EINPROGRESS"),
            waiting(1.010, 2.0124, "recvfrom(3) = -1 EAGAIN"),
        ];
        let server = [
            call(0.995, "bind(3, 127.0.0.1:51423)"),
            waiting(0.996, 1.0015, "accept4(3) = 4"),
        ];
        let packets = [
            packet(1.001, false, "SYN"),
            packet(1.002, true, "SYN-ACK"),
            packet(1.003, false, "ACK"),
        ];
        let ladder = render("client", "server", &client, &server, &packets, 51423);
        assert!(ladder.starts_with("   ms client"), "{ladder}");
        assert_eq!(ms(&ladder, "bind(3,"), 0, "{ladder}");
        assert_eq!(ms(&ladder, "connect(3,"), 5, "{ladder}");
        assert_eq!(ms(&ladder, "= -1 EAGAIN"), 1017, "{ladder}");
        assert_eq!(
            ms(&ladder, "accept4(3) = 4"),
            8,
            "at the ACK, not before:\n{ladder}"
        );
        let wrapped = ladder.lines().nth(row_of(&ladder, "  = -1 EINPROGRESS"));
        assert!(
            wrapped.unwrap_or_default().starts_with("      "),
            "{ladder}"
        );
    }

    /// A DNS query goes out beside the send that carried it, and its answer comes back from the
    /// right (from port 53), whoever the partner is, above the receive that read it.
    #[test]
    fn dns_answers_come_from_the_right() {
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let dns = |time: f64, query: bool, label: &str| {
            let (client, resolver) = ((ip, 40000), (ip, resolver::PORT));
            let (src, dst) = if query {
                (client, resolver)
            } else {
                (resolver, client)
            };
            Packet {
                time,
                src,
                dst,
                label: label.into(),
                payload: true,
                bare_ack: false,
                link: None,
            }
        };
        let client = [
            call(1.000, "connect(3, 127.0.0.1:53)"),
            call(1.001, "sendmmsg(3) = 2"),
            waiting(1.002, 1.0035, "recvfrom(3) = 49"),
        ];
        let packets = [
            dns(1.0012, true, "A? www.example.com"),
            dns(1.0013, true, "AAAA? www.example.com"),
            dns(1.0034, false, "A 192.0.2.10"),
        ];
        let ladder = render("client", "server", &client, &[], &packets, 51423);
        let row = |needle: &str| row_of(&ladder, needle);
        assert_eq!(
            row("sendmmsg(3) = 2"),
            row("── A? www.example.com ─"),
            "{ladder}"
        );
        assert!(
            ladder.contains("◀─") && row("A 192.0.2.10 ──") < row("recvfrom(3) = 49"),
            "{ladder}"
        );
    }

    /// Data that came in before a call of the same side that does not wait (a shutdown) and was
    /// read after it is not taken for the next segment's: its receive stays above that one.
    #[test]
    fn a_receive_of_earlier_data_stays() {
        let client = [
            call(1.010, "sendto(3, 49 bytes) = 49"),
            call(1.025, "shutdown(3, SHUT_WR)"),
            waiting(1.026, 1.0303, "recvfrom(3) = 186"),
            waiting(1.031, 1.0445, "recvfrom(3) = 22"),
        ];
        let server = [
            call(1.0199, "sendto(4, 186 bytes) = 186"),
            call(1.0440, "sendto(4, 22 bytes) = 22"),
        ];
        let packets = [
            packet(1.0101, false, "data 49"),
            packet(1.0200, true, "data 186"),
            packet(1.0251, false, "FIN"),
            packet(1.0441, true, "data 22"),
        ];
        let ladder = render("client", "server", &client, &server, &packets, 51423);
        let row = |needle: &str| row_of(&ladder, needle);
        assert!(row("recvfrom(3) = 186") < row(" data 22 ──"), "{ladder}");
        assert!(row("recvfrom(3) = 22") > row(" data 22 ──"), "{ladder}");
    }

    /// `packet` as the lab link carried it: from the server or not, when it left the wire (`None`:
    /// it died there), with `marks`.
    fn linked(mut packet: Packet, from_server: bool, left: Option<f64>, marks: &[&str]) -> Packet {
        packet.link = Some(OnLink {
            from_server,
            left,
            marks: marks.iter().map(|m| m.to_string()).collect(),
        });
        packet
    }

    /// Across the lab link: the SYN the link dropped ends in ✗ beside connect, with why under it;
    /// the SYN sent again a second later has a row of its own marked `retransmission`; a copy
    /// says `duplicated`; a later pure ACK the link lost is drawn (it matters now); unmarked
    /// packets carry no words; every line fits 100 columns.
    #[test]
    fn marks_what_the_link_did() {
        let client = [call(1.000, "connect(3, 192.0.2.2:51423) = -1 EINPROGRESS")];
        let server = [waiting(0.5, 2.0035, "accept4(3) = 4")];
        let packets = [
            linked(
                packet(1.001, false, "SYN"),
                false,
                None,
                &["dropped by loss"],
            ),
            linked(
                packet(2.001, false, "SYN"),
                false,
                Some(2.0011),
                &["retransmission"],
            ),
            linked(packet(2.002, true, "SYN-ACK"), true, Some(2.0021), &[]),
            linked(packet(2.003, false, "ACK"), false, Some(2.0031), &[]),
            linked(packet(2.004, false, "data 5"), false, Some(2.0041), &[]),
            linked(
                packet(2.0042, false, "data 5"),
                false,
                Some(2.0043),
                &["duplicated"],
            ),
            linked(packet(2.005, true, "ACK"), true, None, &["dropped by loss"]),
        ];
        let ladder = render("client", "server", &client, &server, &packets, 51423);
        let lines: Vec<&str> = ladder.lines().collect();
        let connect = row_of(&ladder, "connect(3,");
        assert!(
            lines[connect].ends_with("── SYN ────────────────────✗"),
            "{ladder}"
        );
        assert!(lines[connect + 1].contains("dropped by loss"), "{ladder}");
        let again = row_of(&ladder, "retransmission") - 1;
        assert!(
            again > connect + 1 && lines[again].contains("── SYN ─"),
            "{ladder}"
        );
        assert!(lines[again].ends_with('▶'), "{ladder}");
        assert!(ladder.contains("◀──────────────── SYN-ACK ──"), "{ladder}");
        let copy = row_of(&ladder, "duplicated") - 1;
        assert!(lines[copy].contains("── data 5 ─"), "{ladder}");
        let lost_ack = lines
            .iter()
            .rposition(|l| l.contains("✗") && l.contains(" ACK ──"));
        assert!(lost_ack.is_some_and(|at| at > copy), "{ladder}");
        assert_eq!(ladder.matches("dropped by loss").count(), 2, "{ladder}");
        assert!(
            row_of(&ladder, "accept4(3) = 4") > row_of(&ladder, "── ACK ─"),
            "{ladder}"
        );
        assert!(ladder.lines().all(|l| l.chars().count() <= 100), "{ladder}");
    }

    /// A datagram the link dropped wakes no receive: the receive that timed out stays where it
    /// returned, and the arrow toward the server ends in ✗.
    #[test]
    fn a_dropped_packet_wakes_nothing() {
        let client = [
            call(1.000, "sendto(3, 5 bytes) = 5"),
            waiting(1.001, 2.001, "recvfrom(3) = -1 EAGAIN"),
        ];
        let server = [waiting(0.5, 3.0, "recvfrom(3) … still waiting")];
        let packets = [linked(
            packet(1.0005, false, "datagram 5"),
            false,
            None,
            &["dropped by loss"],
        )];
        let ladder = render("client", "server", &client, &server, &packets, 51423);
        let send = row_of(&ladder, "sendto(3, 5 bytes)");
        assert!(ladder.lines().nth(send).unwrap().ends_with('✗'), "{ladder}");
        assert!(row_of(&ladder, "= -1 EAGAIN") > send, "{ladder}");
        assert_eq!(ms(&ladder, "= -1 EAGAIN"), 1501, "{ladder}");
    }
}
