//! Exercise 4, udp-once: print each reply once, and only the server's. Checked across the lab
//! link with `duplicate=100%`: every datagram crosses twice. The checker is an echo server on the
//! server's side (192.0.2.2), which answers every copy of the request it gets; before its first
//! answer a stray sender, a second socket on the same host but another port, sends the client
//! other words. The program must print the server's reply exactly once, and nothing of the stray.

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::exercise::conversation::{Conversation, Failure, text};
use crate::exercise::lablink::{self, datagrams};
use crate::exercise::table::{Exercise, Needs};
use crate::link::Direction;

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
           the socket and let the kernel drop them. Keep the replies you printed in a \
           `Vec<Vec<u8>>` and skip a datagram equal to one of them.",
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
    let stray = [b"not for you: ".as_slice(), &c.letters(8)].concat();
    let link = lablink::up(c, SPEC, c.seed())?;
    let (server, port) = link.server_socket()?;
    let (stranger, stray_port) = link.server_socket()?;
    c.used_port(port);
    c.used_port(stray_port);
    c.step(format!(
        "echo every datagram on 192.0.2.2:{port} (the server's side); before the first echo, send \
         {:?} to your client from 192.0.2.2:{stray_port}; run your program on the client's side \
         with the line {:?} on its stdin",
        text(&stray),
        text(&line)
    ));
    c.command(format!(
        "cargo course lab on server -- udp-echo-server --bind 192.0.2.2 {port}"
    ));
    c.command(format!(
        "cargo course lab on server -- sh -c 'echo {} | nc -u -p {stray_port} -w1 192.0.2.1 \
         CLIENT-PORT'",
        text(&stray)
    ));
    c.input(&[line.as_slice(), b"\n"].concat());
    let args = vec!["192.0.2.2".to_string(), port.to_string()];
    let stop = AtomicBool::new(false);
    let outcome = std::thread::scope(|scope| {
        scope.spawn(|| serve(&server, &stranger, &stray, &stop));
        let outcome = c.run_client(&args, LIMIT, None, |_| {});
        stop.store(true, Ordering::Relaxed);
        outcome
    });
    let finished = link.finish()?;
    lablink::show(c, "udp-once", &finished.events, port);
    let arrived: Vec<_> = datagrams(&finished.events)
        .into_iter()
        .filter(|d| d.direction == Direction::ToClient && !d.fate.dropped())
        .collect();
    let strays = arrived
        .iter()
        .filter(|d| d.from.port() == stray_port)
        .count();
    let replies = arrived.iter().filter(|d| d.from.port() == port).count();
    c.answer(format!(
        "{} datagrams reached your client's socket: {strays} from the stranger at \
         192.0.2.2:{stray_port} (its one datagram and the link's copy), and {replies} from the \
         server (the link copied your request, the server answered both copies, and the link \
         copied each answer). One of them is news: print one line.",
        strays + replies
    ));
    let outcome = outcome?;
    let expected = format!("Received: {}", text(&line));
    let stdout = text(&outcome.stdout);
    let printed: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("Received:"))
        .collect();
    if printed != [expected.as_str()] {
        let stranger = if printed.iter().any(|l| l.contains("not for you")) {
            " (the stranger's too: check who sent each datagram)"
        } else if printed.len() > 1 {
            " (copies: print each reply once)"
        } else {
            ""
        };
        return Err(Failure::Expected {
            expected: format!("one line: `{expected}`"),
            got: if printed.is_empty() {
                "no `Received:` line".to_string()
            } else {
                format!("{} lines{stranger}: {}", printed.len(), printed.join(" / "))
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

/// The checker's side: every datagram echoed to its sender; before the first echo, the stranger
/// sends `stray` to the same address. Until `stop`.
fn serve(server: &UdpSocket, stranger: &UdpSocket, stray: &[u8], stop: &AtomicBool) {
    let _ = server.set_read_timeout(Some(Duration::from_millis(50)));
    let mut buf = [0u8; 65536];
    let mut first = true;
    while !stop.load(Ordering::Relaxed) {
        if let Ok((n, from)) = server.recv_from(&mut buf) {
            if first {
                let _ = stranger.send_to(stray, from);
                first = false;
            }
            let _ = server.send_to(&buf[..n], from);
        }
    }
}
