//! Exercise 8, echo-no-storm: never echo to a privileged source port. In namespaces of its own
//! ([`namespace`]), where the checker is root and may bind ports below 1024, it sends a datagram
//! from port 7 (echo), playing an echo service there, one from port 19 (chargen), and one from a
//! privileged port drawn from the seed (so refusing 7 and 19 alone does not pass); then one from
//! a port the kernel picks, which must come back. Datagrams on one loopback are handled in
//! order, so once that echo is back the server has dealt with the first two.

use std::io;
use std::net::UdpSocket;
use std::time::Duration;

use crate::exercise::conversation::{Conversation, Failure, seconds, text};
use crate::exercise::namespace;
use crate::exercise::table::{Exercise, Needs};

pub const EXERCISE: Exercise = Exercise {
    name: "echo-no-storm",
    lesson: "udp-echo-server",
    title: "never echo to a privileged source port (echo storms)",
    needs: Needs::Namespace,
    question: "the checker plays an echo service on port 7 (whatever comes there goes back) and \
               sends your server one datagram from that port. With the program as shipped, how \
               many times does that datagram go back and forth before someone stops it?",
    hint: "A source port below 1024 belongs to a service (echo 7, chargen 19, daytime 13, qotd \
           17…), which may answer whatever it gets: any of them, not a list of a few. Before the send_to, decide: `let answer = peer.port() >= \
           PRIVILEGED;`. Log the datagram either way, and say on its line that it was not echoed.",
    seeded: true,
    check,
};

/// How long an echo that must come may take on the namespace's loopback.
const WAIT: Duration = Duration::from_secs(2);
/// How long the checker listens on a privileged port after the last echo, for one that must not
/// come: it would be there already (the server answers in order), so this is only slack.
const SLACK: Duration = Duration::from_millis(200);
/// How many bounces the checker's echo service on port 7 allows before it stops.
const BOUNCES: usize = 10;

fn check(c: &mut Conversation) -> Result<(), Failure> {
    namespace::entered(
        c,
        "in private namespaces, where the checker is root and may bind a port below 1024",
    );
    let port = c.start_server(&["--bind", "127.0.0.1", "0"])?;
    let server = ("127.0.0.1", port);
    let mut sent = Vec::new();
    // A third privileged port from the seed: any port below 1024 may be a service's.
    let third = loop {
        let port = c.random(1, 1023) as u16;
        if port != 7 && port != 19 {
            break port;
        }
    };
    for (from, service) in [
        (7, "echo"),
        (19, "chargen"),
        (third, "privileged, from the seed"),
    ] {
        let word = c.letters(8);
        c.step(format!(
            "from port {from} ({service}) send {:?} to 127.0.0.1:{port}",
            text(&word)
        ));
        c.command(format!(
            "printf '{}' | nc -u -p {from} -w1 127.0.0.1 {port}",
            text(&word)
        ));
        let socket = bind(from)?;
        send(&socket, &word, server)?;
        sent.push((from, socket, word));
    }

    let word = c.letters(8);
    let high = bind(0)?;
    let from = high.local_addr().map(|a| a.port()).unwrap_or(0);
    c.used_port(from);
    c.step(format!(
        "from port {from} (the kernel's pick) send {:?}, and wait for its echo (at most {})",
        text(&word),
        seconds(WAIT)
    ));
    c.command(format!(
        "printf '{}' | nc -u -w1 127.0.0.1 {port}",
        text(&word)
    ));
    send(&high, &word, server)?;
    match receive(&high, WAIT) {
        Ok(echo) if echo == word => c.note(format!("got {:?} back", text(&echo))),
        Ok(echo) => {
            return Err(Failure::Bytes {
                expected: word,
                got: echo,
            });
        }
        Err(e) => {
            return Err(Failure::Expected {
                expected: format!("{:?} back, the datagram's echo", text(&word)),
                got: format!("nothing ({e})"),
            });
        }
    }

    c.step(format!(
        "look for anything sent back to ports 7, 19 and {third}; play the echo service on port 7"
    ));
    let mut bounced = 0;
    let mut wrong = Vec::new();
    for (from, socket, word) in &sent {
        let Ok(echo) = receive(socket, SLACK) else {
            continue;
        };
        wrong.push(format!("{:?} back to port {from}", text(&echo)));
        if *from == 7 {
            // As an echo service would: send it back, as long as it keeps coming.
            let mut echo = echo;
            while bounced < BOUNCES && echo == *word && send(socket, &echo, server).is_ok() {
                bounced += 1;
                match receive(socket, WAIT) {
                    Ok(again) => echo = again,
                    Err(_) => break,
                }
            }
        }
    }
    if wrong.is_empty() {
        c.note("nothing came back to any of them");
        c.answer(format!(
            "none here: your server logged the datagram from port 7 and did not answer it. As \
             shipped it bounces until one side stops: the checker's echo service stops after \
             {BOUNCES}, two real echo services never do."
        ));
        return Ok(());
    }
    c.answer(if bounced > 0 {
        format!(
            "it went back and forth {bounced} times, until the checker's echo service stopped \
             at {BOUNCES}. Two real echo services never stop: each answer is a new datagram to \
             answer, for as long as neither loses one."
        )
    } else {
        format!(
            "as shipped, back and forth until one side stops: the checker's echo service stops \
             after {BOUNCES}, two real echo services never do. Here your server did not answer \
             port 7, but it answered another port below 1024, where a service may sit as well."
        )
    });
    Err(Failure::Expected {
        expected: format!(
            "nothing back to ports 7, 19 and {third}: a service may sit on any port below 1024 \
             and answer"
        ),
        got: format!(
            "{}{}",
            wrong.join(", "),
            if bounced > 0 {
                format!("; echoed back from port 7, it bounced {bounced} times")
            } else {
                String::new()
            }
        ),
    })
}

/// A UDP socket of the checker's on 127.0.0.1:`port` (0: the kernel picks).
fn bind(port: u16) -> Result<UdpSocket, Failure> {
    UdpSocket::bind(("127.0.0.1", port)).map_err(|e| Failure::Expected {
        expected: format!("the checker's socket on 127.0.0.1:{port}"),
        got: format!("{e}"),
    })
}

fn send(socket: &UdpSocket, word: &[u8], to: (&str, u16)) -> Result<(), Failure> {
    socket
        .send_to(word, to)
        .map(|_| ())
        .map_err(|e| Failure::Expected {
            expected: "the datagram sent".into(),
            got: format!("{e}"),
        })
}

/// The next datagram on `socket`, waiting at most `wait`.
fn receive(socket: &UdpSocket, wait: Duration) -> io::Result<Vec<u8>> {
    socket.set_read_timeout(Some(wait))?;
    let mut buf = [0u8; 2048];
    let n = socket.recv(&mut buf)?;
    Ok(buf[..n].to_vec())
}
