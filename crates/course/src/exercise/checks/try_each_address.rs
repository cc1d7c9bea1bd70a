//! Exercise 5, try-each-address: try every address getaddrinfo returns until one connects. In
//! namespaces of its own ([`namespace`]), the checker gives a name two addresses, ::1 and
//! 127.0.0.1, in a hosts file (no DNS query is sent), and listens on one of them only: first on
//! the one getaddrinfo returns first, then on the other.

use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use lesson_common::py_addr;

use crate::exercise::conversation::{Conversation, Failure, accept_within, text};
use crate::exercise::namespace;
use crate::exercise::table::{Exercise, Needs};

pub const EXERCISE: Exercise = Exercise {
    name: "try-each-address",
    lesson: "socket-info",
    title: "try every address getaddrinfo returns until one connects",
    needs: Needs::Namespace,
    question: "`both.course.test` has two lines in the check's hosts file, ::1 and 127.0.0.1. \
               Which address does getaddrinfo give first? And when nothing listens there, does a \
               connect to it fail at once, or only after a timeout?",
    hint: "Make step 3 a loop over `addresses`: for each, a Socket::new of \
           Domain::for_address(target), then connect_timeout; on Ok keep that socket and break, \
           on Err remember the error (say it on stderr) and go on. After the loop, no socket \
           means every address failed: return the last error.",
    seeded: false,
    check,
};

/// The name with two addresses, in a domain kept for tests (RFC 6761).
const NAME: &str = "both.course.test";

/// How long the program may take: every connect is on the namespace's loopback.
const LIMIT: Duration = Duration::from_secs(3);

fn check(c: &mut Conversation) -> Result<(), Failure> {
    namespace::hosts_file(
        c,
        &[
            ("127.0.0.1", "localhost"),
            ("::1", "localhost"),
            ("::1", NAME),
            ("127.0.0.1", NAME),
        ],
    )?;

    c.step(format!(
        "ask getaddrinfo for {NAME}'s addresses, as your program will"
    ));
    c.command(format!("getent ahosts {NAME}"));
    // std asks getaddrinfo too; one address per socket type, so each once.
    let mut order: Vec<IpAddr> = Vec::new();
    for address in (NAME, 0).to_socket_addrs().into_iter().flatten() {
        if !order.contains(&address.ip()) {
            order.push(address.ip());
        }
    }
    let [first, second] = order[..] else {
        return Err(Failure::Expected {
            expected: "two addresses, ::1 and 127.0.0.1, from the check's hosts file".into(),
            got: format!("{order:?}"),
        });
    };
    c.note(format!("in this order: {first}, then {second}"));

    // The first address listens: any program connects there.
    connect_via(c, first, None)?;
    // Only the second listens: a connect to the first is refused, and only a program that goes
    // on to the next address connects.
    connect_via(c, second, Some(first))
}

/// Step: listen on `at` only, run the program for NAME and that port, and expect it to connect
/// there. `refused`: the address where nothing listens, for the true answer.
fn connect_via(c: &mut Conversation, at: IpAddr, refused: Option<IpAddr>) -> Result<(), Failure> {
    let listener = TcpListener::bind((at, 0)).map_err(|e| Failure::Expected {
        expected: format!("a port for the checker on {at}"),
        got: format!("{e}"),
    })?;
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let server = SocketAddr::new(at, port);
    c.used_port(port);
    c.step(format!(
        "listen on {} only{}, and run your program for {NAME} {port}",
        py_addr(server),
        refused.map_or(String::new(), |r| format!(" (nothing on {r})"))
    ));
    c.command(format!("nc -l {at} {port} &"));
    if let Some(refused) = refused {
        answer(c, server, SocketAddr::new(refused, port));
    }
    // No thread to accept: the kernel completes the connection in the listen queue, and the
    // checker takes it from there once the program has ended.
    let outcome = c.run_client(&[NAME.to_string(), port.to_string()], LIMIT, None, |_| {})?;
    let stdout = text(&outcome.stdout);
    let want = format!("Connected to {}", py_addr(server));
    let came = accept_within(&listener, Duration::from_millis(100))
        .ok()
        .flatten()
        .and_then(|stream| stream.peer_addr().ok());
    if outcome.status.is_some_and(|s| s.success()) && stdout.contains(&want) && came.is_some() {
        c.note(format!(
            "it connected to {}, from {}",
            py_addr(server),
            came.map(|a| py_addr(a).to_string()).unwrap_or_default()
        ));
        return Ok(());
    }
    Err(Failure::Expected {
        expected: format!(
            "exit status 0, a connection to {}, and `{want}`",
            py_addr(server)
        ),
        got: format!(
            "{}, {}, and {}",
            outcome.status.map_or(String::new(), |s| s.to_string()),
            if came.is_some() {
                "a connection"
            } else {
                "no connection"
            },
            match stdout.lines().last() {
                Some(line) => format!("last line {line:?}"),
                None => "nothing on stdout".into(),
            }
        ),
    })
}

/// The true answer, from the checker's own connect to the address where nothing listens.
fn answer(c: &mut Conversation, server: SocketAddr, refused: SocketAddr) {
    let began = Instant::now();
    let tried = TcpStream::connect_timeout(&refused, Duration::from_secs(2));
    let took = began.elapsed();
    let what = match tried {
        Err(e) => format!(
            "fails at once: \"{e}\" after {:.2} ms. The kernel answers a SYN to a port where \
             nothing listens with a RST; a host that drops the SYN instead (a firewall) makes \
             each address cost a whole connect timeout",
            took.as_secs_f64() * 1000.0
        ),
        Ok(_) => "connected (something else listens there)".into(),
    };
    c.answer(format!(
        "getaddrinfo gave {} first and {} second (RFC 6724's order: here {}'s loopback \
         before {}'s). A connect to {} {what}. A program that tries only the first address \
         stops there; one that goes on reaches {}.",
        refused.ip(),
        server.ip(),
        if refused.is_ipv6() { "IPv6" } else { "IPv4" },
        if server.is_ipv6() { "IPv6" } else { "IPv4" },
        py_addr(refused),
        py_addr(server)
    ));
}
