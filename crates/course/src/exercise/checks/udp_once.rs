//! Exercise 4, udp-once: print each reply once, and only the server's. Checked across the lab
//! link with `duplicate=100%`: every datagram crosses twice. The checker is the server on the
//! server's side (192.0.2.2): it answers every copy of the request it gets, each answer the line in
//! capitals with a number of its own after a colon (from the seed: the client cannot make it up,
//! and two answers to the same request differ, as two real replies may). Before its first answer a
//! stray sender, a second socket on the same host but another port, sends the client other words.
//! The program must print one of the server's replies exactly once, and nothing of the stray.

use std::net::UdpSocket;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::exercise::conversation::{Conversation, Failure, text};
use crate::exercise::lablink::{self, datagrams};
use crate::exercise::table::{Exercise, Needs};
use crate::link::Direction;
use crate::link::log::Fate;

pub const EXERCISE: Exercise = Exercise {
    name: "udp-once",
    lesson: "udp-client",
    title: "across duplication and a stray sender, print each reply once, and only the server's",
    needs: Needs::LabLink,
    question: "the link copies every datagram, both ways, and the server answers every request \
               it gets; a stranger on the server's host sends to your port too. For your one \
               request, how many datagrams reach your client's socket, and how many should it \
               print?",
    hint: "`recv_from` says who sent each datagram: skip one whose address is not `server` (the \
           whole SocketAddr: the same host from another port is another sender), or connect() \
           the socket and let the kernel drop them. One request wants one reply: print the first \
           datagram from the server and stop (the book's other way: put a request id in the \
           request and print only the reply that carries it). Do not skip a datagram because it \
           equals one you printed: two real replies may be equal, and two copies of one answer \
           need not be.",
    seeded: true,
    check,
};

/// The link.
const SPEC: &str = "duplicate=100%";
/// How long the program may take (it ends half a second after the last datagram).
const LIMIT: Duration = Duration::from_secs(3);

fn check(c: &mut Conversation) -> Result<(), Failure> {
    let length = c.random(5, 12) as usize;
    let line = c.letters(length);
    let nonce = c.random(1000, 9000);
    let stray = [b"not for you: ".as_slice(), &c.letters(8)].concat();
    let link = lablink::up(c, SPEC, c.seed())?;
    let (server, port) = link.server_socket()?;
    let (stranger, stray_port) = link.server_socket()?;
    c.used_port(port);
    c.used_port(stray_port);
    c.step(format!(
        "answer every datagram on 192.0.2.2:{port} (the server's side); before the first answer, \
         send {:?} to your client from 192.0.2.2:{stray_port}; run your program on the client's \
         side with the line {:?} on its stdin",
        text(&stray),
        text(&line)
    ));
    lablink::server_note(
        c,
        port,
        &format!("{nonce}, {}, … (one more each answer)", nonce + 1),
    );
    c.command(format!(
        "cargo course lab on server -- sh -c 'echo {} | nc -u -p {stray_port} -w1 192.0.2.1 \
         CLIENT-PORT'",
        text(&stray)
    ));
    c.input(&[line.as_slice(), b"\n"].concat());
    let args = vec!["192.0.2.2".to_string(), port.to_string()];
    let stop = AtomicBool::new(false);
    let answered = Mutex::new(Vec::new());
    let outcome = std::thread::scope(|scope| {
        scope.spawn(|| serve(&server, &stranger, &stray, nonce, &answered, &stop));
        let outcome = c.run_client(&args, LIMIT, None, |_| {});
        stop.store(true, Ordering::Relaxed);
        outcome
    });
    let answered = answered.into_inner().unwrap_or_default();
    let finished = link.finish()?;
    lablink::show(c, "udp-once", &finished.events, port);
    let all = datagrams(&finished.events);
    let requests = all
        .iter()
        // The client's own sends: not the link's copies of them.
        .filter(|d| d.direction == Direction::ToServer && d.to.port() == port)
        .filter(|d| d.fate != Fate::Copy)
        .count();
    let arrived: Vec<_> = all
        .iter()
        .filter(|d| d.direction == Direction::ToClient && !d.fate.dropped())
        .collect();
    let strays = arrived
        .iter()
        .filter(|d| d.from.port() == stray_port)
        .count();
    let replies = arrived.iter().filter(|d| d.from.port() == port).count();
    c.answer(format!(
        "6 datagrams reach the socket of a client that sends its one request: 2 from the \
         stranger at 192.0.2.2:{stray_port} (its one datagram and the link's copy), and 4 from \
         the server (the link copied the request, the server answered both copies, and the link \
         copied each answer). One of them is news: print one line, the first reply from the \
         server. In this run your client sent {requests} datagram(s) and {} reached its socket \
         ({strays} from the stranger, {replies} from the server).",
        strays + replies
    ));
    let outcome = outcome?;
    let stdout = text(&outcome.stdout);
    let printed: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("Received:"))
        .collect();
    let expected: Vec<String> = answered
        .iter()
        .map(|a| format!("Received: {}", text(a)))
        .collect();
    let one_reply = printed.len() == 1 && expected.iter().any(|e| e == printed[0]);
    if requests == 0 || !one_reply {
        let stranger = if printed.iter().any(|l| l.contains("not for you")) {
            " (the stranger's too: check who sent each datagram)"
        } else if printed.len() > 1 {
            " (copies, or a second answer to the same request: print one reply)"
        } else if requests == 0 {
            " (and no datagram of your client's ever reached the wire)"
        } else {
            ""
        };
        let first = lablink::reply_to(&line, nonce);
        return Err(Failure::Expected {
            expected: format!(
                "one line: `Received: {}` (or the same with another of the server's numbers: \
                 it answered {})",
                text(&first),
                if answered.is_empty() {
                    "nothing, as no request reached it".to_string()
                } else {
                    answered
                        .iter()
                        .map(|a| text(a))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
            got: if printed.is_empty() {
                format!("no `Received:` line{stranger}")
            } else {
                format!(
                    "{} line(s){stranger}: {}",
                    printed.len(),
                    printed.join(" / ")
                )
            },
        });
    }
    if !outcome.status.is_some_and(|s| s.success()) {
        return Err(Failure::Expected {
            expected: "exit status 0".into(),
            got: outcome
                .status
                .map_or_else(|| "still running".to_string(), |s| s.to_string()),
        });
    }
    Ok(())
}

/// The checker's side: every datagram answered to its sender (the request in capitals and a
/// number, one more each answer), each answer noted in `answered`; before the first answer, the
/// stranger sends `stray` to the same address. Until `stop`.
fn serve(
    server: &UdpSocket,
    stranger: &UdpSocket,
    stray: &[u8],
    nonce: u64,
    answered: &Mutex<Vec<Vec<u8>>>,
    stop: &AtomicBool,
) {
    let _ = server.set_read_timeout(Some(Duration::from_millis(50)));
    let mut buf = [0u8; 65536];
    let mut count = 0;
    while !stop.load(Ordering::Relaxed) {
        if let Ok((n, from)) = server.recv_from(&mut buf) {
            if count == 0 {
                let _ = stranger.send_to(stray, from);
            }
            let reply = lablink::reply_to(&buf[..n], nonce + count);
            count += 1;
            if let Ok(mut answered) = answered.lock() {
                answered.push(reply.clone());
            }
            let _ = server.send_to(&reply, from);
        }
    }
}
