//! Exercise 10, addr-family: a `--family` filter, and the canonical name. No socket to play:
//! the checker runs the program three times and holds each answer against the resolver's own
//! (std's lookup, which asks getaddrinfo too). Only names /etc/hosts holds (`localhost`) and
//! numeric addresses: the check never sends a DNS query.

use std::collections::BTreeSet;
use std::net::ToSocketAddrs;
use std::time::Duration;

use crate::exercise::conversation::{Conversation, Failure, text};
use crate::exercise::table::{Exercise, Needs};

pub const EXERCISE: Exercise = Exercise {
    name: "addr-family",
    lesson: "addr-info",
    title: "a --family filter, and the canonical name",
    needs: Needs::Loopback,
    question: "how many tuples does `--family inet localhost PORT` print, and which canonical \
               name comes first? And what does `--family inet6 127.0.0.1 PORT` give?",
    hint: "Fill the hints: `AddrInfoHints { address: family, flags: AI_CANONNAME, \
           ..AddrInfoHints::default() }`. The resolver then returns that family only (an error \
           when the host has none), and puts the canonical name in the first result's \
           canonname.",
    seeded: true,
    check,
};

const LIMIT: Duration = Duration::from_secs(3);

/// One printed tuple: `(2, 1, 6, 'localhost', ('127.0.0.1', 80))  # AF_INET SOCK_STREAM …`.
struct Tuple {
    family: String,
    socktype: String,
    canonname: String,
    sockaddr: String,
}

fn parse(line: &str) -> Option<Tuple> {
    let (tuple, comment) = line.split_once("  # ")?;
    let mut names = comment.split_whitespace();
    let family = names.next()?.to_string();
    let socktype = names.next()?.to_string();
    let open = tuple.find('\'')?;
    let close = open + 1 + tuple[open + 1..].find('\'')?;
    let canonname = tuple[open + 1..close].to_string();
    let sockaddr = tuple[close + 1..]
        .trim_start_matches(", ")
        .strip_suffix(')')?
        .to_string();
    Some(Tuple {
        family,
        socktype,
        canonname,
        sockaddr,
    })
}

fn check(c: &mut Conversation) -> Result<(), Failure> {
    let port = c.random(1024, 65535);

    // What the resolver itself says localhost's IPv4 addresses are (std asks getaddrinfo too).
    let want: BTreeSet<String> = ("localhost", port as u16)
        .to_socket_addrs()
        .map(|all| {
            all.filter(|a| a.is_ipv4())
                .map(|a| format!("('{}', {port})", a.ip()))
                .collect()
        })
        .unwrap_or_default();
    c.answer(format!(
        "here localhost has {} IPv4 address(es), each printed once per socket type (stream, \
         datagram, raw on Linux); the canonical name is the first name of localhost's line in \
         /etc/hosts{}. An IPv4 literal has no IPv6 address: with --family inet6 the resolver \
         fails (\"Address family for hostname not supported\"), exit 1.",
        want.len(),
        hosts_name().map_or(String::new(), |n| format!(" ('{n}' here)"))
    ));

    c.step("run your program for localhost's IPv4 addresses, with the canonical name");
    let args = vec![
        "--family".to_string(),
        "inet".to_string(),
        "localhost".to_string(),
        port.to_string(),
    ];
    let tuples = run(c, &args)?;
    all_of_family(&tuples, "AF_INET")?;
    let stream: BTreeSet<String> = tuples
        .iter()
        .filter(|t| t.socktype == "SOCK_STREAM")
        .map(|t| t.sockaddr.clone())
        .collect();
    if stream != want {
        return Err(Failure::Expected {
            expected: format!("the stream tuples' addresses {want:?} (the resolver's own)"),
            got: format!("{stream:?}"),
        });
    }
    canonical(&tuples, None)?;

    c.step("run your program for an IPv4 literal's IPv6 addresses (there are none)");
    let args = vec![
        "--family".to_string(),
        "inet6".to_string(),
        "127.0.0.1".to_string(),
        port.to_string(),
    ];
    let outcome = c.run_client(&args, LIMIT, None, |_| {})?;
    let stderr = text(&outcome.stderr);
    if outcome.status.and_then(|s| s.code()) != Some(1) || !stderr.starts_with("error: ") {
        return Err(Failure::Expected {
            expected: "exit status 1 and the resolver's error on an `error: …` line".into(),
            got: format!(
                "{}, stdout {:?}",
                outcome.status.map_or(String::new(), |s| s.to_string()),
                text(&outcome.stdout)
            ),
        });
    }

    c.step("run your program for ::1 as IPv6, with the canonical name");
    let args = vec![
        "--family".to_string(),
        "inet6".to_string(),
        "::1".to_string(),
        port.to_string(),
    ];
    let tuples = run(c, &args)?;
    all_of_family(&tuples, "AF_INET6")?;
    let wrong: Vec<&String> = tuples
        .iter()
        .map(|t| &t.sockaddr)
        .filter(|a| **a != format!("('::1', {port}, 0, 0)"))
        .collect();
    if !wrong.is_empty() {
        return Err(Failure::Expected {
            expected: format!("every address ('::1', {port}, 0, 0)"),
            got: format!("{wrong:?}"),
        });
    }
    canonical(&tuples, Some("::1"))
}

/// Run with `args`, expect exit 0 and at least one tuple, every line one.
fn run(c: &mut Conversation, args: &[String]) -> Result<Vec<Tuple>, Failure> {
    let outcome = c.run_client(args, LIMIT, None, |_| {})?;
    if !outcome.status.is_some_and(|s| s.success()) {
        return Err(Failure::Expected {
            expected: "exit status 0 and one tuple a line".into(),
            got: format!(
                "{}: {}",
                outcome.status.map_or(String::new(), |s| s.to_string()),
                text(&outcome.stderr).trim()
            ),
        });
    }
    let out = text(&outcome.stdout);
    let tuples: Option<Vec<Tuple>> = out.lines().map(parse).collect();
    match tuples {
        Some(tuples) if !tuples.is_empty() => Ok(tuples),
        _ => Err(Failure::Expected {
            expected: "one tuple a line, as addr-info prints them".into(),
            got: format!("{out:?}"),
        }),
    }
}

fn all_of_family(tuples: &[Tuple], family: &str) -> Result<(), Failure> {
    let other: Vec<&str> = tuples
        .iter()
        .map(|t| t.family.as_str())
        .filter(|f| *f != family)
        .collect();
    if other.is_empty() {
        return Ok(());
    }
    Err(Failure::Expected {
        expected: format!("only {family} tuples"),
        got: format!("{} of another family too: {other:?}", other.len()),
    })
}

/// The first tuple names the canonical name (`exactly`, when given), and only the first.
fn canonical(tuples: &[Tuple], exactly: Option<&str>) -> Result<(), Failure> {
    let first = tuples.first().map_or("", |t| t.canonname.as_str());
    let ok = match exactly {
        Some(name) => first == name,
        None => !first.is_empty(),
    };
    if ok && tuples.iter().skip(1).all(|t| t.canonname.is_empty()) {
        return Ok(());
    }
    Err(Failure::Expected {
        expected: format!(
            "the canonical name {} in the first tuple's canonname, the others ''",
            exactly.map_or("(any)".to_string(), |n| format!("'{n}'"))
        ),
        got: format!(
            "{:?}",
            tuples
                .iter()
                .map(|t| t.canonname.as_str())
                .collect::<Vec<_>>()
        ),
    })
}

/// localhost's canonical name as /etc/hosts gives it: the first name on the first IPv4 line that
/// names localhost.
fn hosts_name() -> Option<String> {
    let hosts = std::fs::read_to_string("/etc/hosts").ok()?;
    hosts.lines().find_map(|line| {
        let line = line.split('#').next()?;
        let mut words = line.split_whitespace();
        let address = words.next()?;
        let names: Vec<&str> = words.collect();
        (address.contains('.') && names.contains(&"localhost")).then(|| names[0].to_string())
    })
}
