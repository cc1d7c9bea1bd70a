//! Exercise 3, udp-backoff: retransmit with exponential backoff. Checked across the lab link with
//! 50 % loss both ways: the checker is the server on the server's side (192.0.2.2), answering each
//! request with the line in capitals and a number from the seed (not an echo: a client cannot
//! make the reply up); the learner's client runs on the client's side. The link's seed is one on
//! whose drops a client must send 3 or 4 times; the wire's account of each datagram says how many
//! the client sent and when, so the check holds the count (at most 5, and none after the first
//! reply that got through) and the waits between sends (each about twice the last) against what
//! the exercise asks.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::exercise::conversation::{Conversation, Failure, text};
use crate::exercise::lablink::{self, datagrams};
use crate::exercise::table::{Exercise, Needs};
use crate::link::log::Fate;
use crate::link::{Direction, Link, Spec, Verdict};

pub const EXERCISE: Exercise = Exercise {
    name: "udp-backoff",
    lesson: "udp-client",
    title: "retransmit with exponential backoff, across a 50 % loss link",
    needs: Needs::LabLink,
    question: "the link loses half the datagrams both ways, so a send gets its reply through one \
               time in four. On average, how many sends does a client make until a reply gets \
               through? And with `--seed 1`, whose link the page shows, how many does it make?",
    hint: "Put the send and the receive in a loop: `let mut wait = Duration::from_millis(100); \
           for sent in 1..=5 { socket.send(data)?; socket.set_read_timeout(Some(wait))?; match \
           socket.recv(&mut buf) { Ok(n) => { print it; return Ok(()) } Err(e) if the kind is \
           WouldBlock or TimedOut => wait *= 2, Err(e) => return Err(…) } }`, and after the loop \
           return an error: no reply after 5 sends.",
    seeded: true,
    check,
};

/// The link.
const SPEC: &str = "loss=50%";
/// The most sends the exercise allows.
const SENDS: usize = 5;
/// How long the program may take (a solution waits 0.1 + 0.2 + 0.4 s before its 4th send).
const LIMIT: Duration = Duration::from_secs(4);

/// How many sends a client that sends again on each timeout makes across `SPEC` with `seed`
/// before a reply comes through (the link decides packet by packet, in order, so this is the
/// wire's own decision run ahead), if it is within 8.
pub fn sends_needed(seed: u64) -> Option<usize> {
    let spec = Spec::parse(SPEC).ok()?;
    let mut link = Link::new(&spec, seed);
    let mut out = Vec::new();
    for sent in 1..=8 {
        let mut through = |direction| {
            out.clear();
            link.pass(direction, vec![0x45; 28], Duration::ZERO, &mut out);
            matches!(out.first(), Some(Verdict::Send(_)))
        };
        if through(Direction::ToServer) && through(Direction::ToClient) {
            return Some(sent);
        }
    }
    None
}

/// The link's seed: the first from the check's on whose drops a client must send 3 or 4 times
/// (so one send fails, and the waits show their doubling), and that count.
fn link_seed(seed: u64) -> (u64, usize) {
    (seed..seed.saturating_add(1000))
        .find_map(|s| {
            sends_needed(s)
                .filter(|n| (3..=4).contains(n))
                .map(|n| (s, n))
        })
        .unwrap_or((seed, 0))
}

/// How long after the first reply reached the client a send of its still counts as crossing
/// that reply (the client's timer ran out as the reply came): a few ms.
const SLACK_US: u64 = 10_000;

fn check(c: &mut Conversation) -> Result<(), Failure> {
    let (seed, needed) = link_seed(c.seed());
    let length = c.random(5, 12) as usize;
    let line = c.letters(length);
    let nonce = c.random(1000, 9999);
    let reply = lablink::reply_to(&line, nonce);
    let link = lablink::up(c, SPEC, seed)?;
    let (server, port) = link.server_socket()?;
    c.used_port(port);
    c.step(format!(
        "answer every datagram on 192.0.2.2:{port} (the server's side), and run your program on \
         the client's side with the line {:?} on its stdin",
        text(&line)
    ));
    lablink::server_note(c, port, &nonce.to_string());
    c.input(&[line.as_slice(), b"\n"].concat());
    let args = vec!["192.0.2.2".to_string(), port.to_string()];
    let stop = AtomicBool::new(false);
    let outcome = std::thread::scope(|scope| {
        scope.spawn(|| answer(&server, nonce, &stop));
        let outcome = c.run_client(&args, LIMIT, None, |_| {});
        stop.store(true, Ordering::Relaxed);
        outcome
    });
    let finished = link.finish()?;
    lablink::show(c, "udp-backoff", &finished.events, port);
    let all = datagrams(&finished.events);
    let sends: Vec<_> = all
        .iter()
        .filter(|d| d.direction == Direction::ToServer && d.to.port() == port)
        .collect();
    let fates: Vec<String> = sends
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let next = sends.get(i + 1).map_or(u64::MAX, |n| n.arrived_us);
            let echo = all.iter().find(|r| {
                r.direction == Direction::ToClient
                    && r.from.port() == port
                    && (d.arrived_us..next).contains(&r.arrived_us)
            });
            let what = match (d.fate, echo.map(|r| r.fate)) {
                (Fate::Lost, _) => "lost on the way",
                (_, Some(Fate::Lost)) => "arrived, its reply was lost",
                (_, Some(_)) => "arrived, its reply came back",
                (_, None) => "arrived",
            };
            format!("{} {what}", i + 1)
        })
        .collect();
    let (one_seed, one_needed) = link_seed(1);
    let one = sends_needed(one_seed).unwrap_or(0).max(one_needed);
    c.answer(format!(
        "4 on average: each send gets its reply through with probability 1/2 × 1/2 = 1/4, and \
         the mean number of tries until the first success is 1/p = 4 (a client that gives up \
         after 5 sends gives up (3/4)^5 ≈ 24 % of the time). With --seed 1 (link seed \
         {one_seed}) a client sends {one} times. In this run (link seed {seed}, the first from \
         the check's seed {} whose drops make a client send 3 or 4 times) it sends {needed}, \
         after waits of {}. Your client sent {}: {}.",
        c.seed(),
        (0..needed.saturating_sub(1))
            .map(|i| format!("{} ms", 100 << i))
            .collect::<Vec<_>>()
            .join(", "),
        sends.len(),
        if fates.is_empty() {
            "none".to_string()
        } else {
            fates.join("; ")
        }
    ));
    let outcome = outcome?;
    let expected = format!("Received: {}", text(&reply));
    let stdout = text(&outcome.stdout);
    if !stdout.lines().any(|l| l == expected) || !outcome.status.is_some_and(|s| s.success()) {
        return Err(Failure::Expected {
            expected: format!("the line `{expected}` on stdout, and exit status 0"),
            got: format!(
                "{}; {}",
                if stdout.trim().is_empty() {
                    "nothing on stdout".to_string()
                } else {
                    format!("{:?} on stdout", stdout.trim())
                },
                outcome
                    .status
                    .map_or_else(|| "still running".to_string(), |s| s.to_string())
            ),
        });
    }
    c.step("count the datagrams your client sent, from the wire's account");
    c.note(format!("it sent {} (at most {SENDS} allowed)", sends.len()));
    if sends.len() > SENDS || sends.len() < 2 {
        return Err(Failure::Expected {
            expected: format!(
                "2 to {SENDS} datagrams (the first was lost, or its echo was: it must send again, \
                 but never flood)"
            ),
            got: format!("{} datagrams", sends.len()),
        });
    }
    // A client that has its reply stops sending: the first reply that got through to it ends
    // the count.
    let first_reply = all
        .iter()
        .filter(|r| r.direction == Direction::ToClient && r.from.port() == port)
        .find_map(|r| r.left_us);
    if let Some(at) = first_reply {
        let after = sends
            .iter()
            .filter(|d| d.arrived_us > at + SLACK_US)
            .count();
        if after > 0 {
            return Err(Failure::Expected {
                expected: "no send after the first reply got through to your client (sends \
                           until the reply, then stop)"
                    .into(),
                got: format!(
                    "{after} more send(s) after the reply reached your client: does it wait for \
                     the reply with recv, and stop once it has one?"
                ),
            });
        }
    }
    c.step("hold the waits between its sends against a doubling backoff, from the wire's times");
    let gaps: Vec<u64> = sends
        .windows(2)
        .map(|w| w[1].arrived_us.saturating_sub(w[0].arrived_us) / 1000)
        .collect();
    let shown = gaps
        .iter()
        .map(|g| format!("{g} ms"))
        .collect::<Vec<_>>()
        .join(", ");
    c.note(format!("the waits: {shown}"));
    // Generous: a check of the program's backoff, not a timing test of ours.
    let first_ok = gaps.first().is_some_and(|&g| (50..=1000).contains(&g));
    let doubling = gaps
        .windows(2)
        .all(|w| (w[1] as f64) >= 1.5 * w[0] as f64 && (w[1] as f64) <= 3.0 * w[0] as f64);
    if !first_ok || !doubling {
        return Err(Failure::Expected {
            expected: "a first wait of about 0.1 s (50 ms to 1 s), each next wait about twice \
                       the last (1.5 to 3 times)"
                .into(),
            got: format!("waits of {shown}"),
        });
    }
    Ok(())
}

/// The checker's server: every datagram answered to its sender with [`lablink::reply_to`],
/// until `stop`.
fn answer(socket: &std::net::UdpSocket, nonce: u64, stop: &AtomicBool) {
    let _ = socket.set_read_timeout(Some(Duration::from_millis(50)));
    let mut buf = [0u8; 65536];
    while !stop.load(Ordering::Relaxed) {
        if let Ok((n, from)) = socket.recv_from(&mut buf) {
            let _ = socket.send_to(&lablink::reply_to(&buf[..n], nonce), from);
        }
    }
}
