//! Exercise 10, addr-family: a `--family` filter, and the canonical name. No socket to play:
//! in namespaces of its own ([`namespace`]), the checker writes a hosts file where
//! `canon.course.test` has an alias, `alias.course.test`, on a 127.0.0.1 line and on a ::1 line
//! (no DNS query is sent), and runs the program for the alias with each family: only that
//! family's tuples may come, and the first must carry the canonical name, which is the line's
//! first name, not the alias asked for (glibc's files backend; verified by a run). Last, an IPv4
//! literal asked as IPv6: the resolver's error.

use std::time::Duration;

use crate::exercise::conversation::{Conversation, Failure, text};
use crate::exercise::namespace;
use crate::exercise::table::{Exercise, Needs};

pub const EXERCISE: Exercise = Exercise {
    name: "addr-family",
    lesson: "addr-info",
    title: "a --family filter, and the canonical name",
    needs: Needs::Namespace,
    question: "the hosts file says `127.0.0.1 canon.course.test alias.course.test` and the same \
               for ::1. Asked for `alias.course.test` with AI_CANONNAME, which name comes back in \
               the first tuple: the alias you asked for, or another? And what does `--family \
               inet6 127.0.0.1 PORT` give?",
    hint: "Fill the hints: `AddrInfoHints { address: family, flags: AI_CANONNAME, \
           ..AddrInfoHints::default() }`. The resolver then returns that family only (an error \
           when the host has none), and puts the canonical name in the first result's \
           canonname. Print what the resolver gives: the canonical name is not the name you \
           asked for when that is an alias.",
    seeded: true,
    check,
};

/// The names of the check's hosts file, in a domain kept for tests (RFC 6761).
const CANON: &str = "canon.course.test";
const ALIAS: &str = "alias.course.test";

const LIMIT: Duration = Duration::from_secs(3);

/// One printed tuple: `(2, 1, 6, 'localhost', ('127.0.0.1', 80))  # AF_INET SOCK_STREAM …`.
struct Tuple {
    family: String,
    canonname: String,
    sockaddr: String,
}

fn parse(line: &str) -> Option<Tuple> {
    let (tuple, comment) = line.split_once("  # ")?;
    let mut names = comment.split_whitespace();
    let family = names.next()?.to_string();
    names.next()?; // the socket type
    let open = tuple.find('\'')?;
    let close = open + 1 + tuple[open + 1..].find('\'')?;
    let canonname = tuple[open + 1..close].to_string();
    let sockaddr = tuple[close + 1..]
        .trim_start_matches(", ")
        .strip_suffix(')')?
        .to_string();
    Some(Tuple {
        family,
        canonname,
        sockaddr,
    })
}

fn check(c: &mut Conversation) -> Result<(), Failure> {
    let port = c.random(1024, 65535);
    let names = format!("{CANON} {ALIAS}");
    namespace::hosts_file(
        c,
        &[
            ("127.0.0.1", "localhost"),
            ("::1", "localhost"),
            ("127.0.0.1", &names),
            ("::1", &names),
        ],
    )?;
    c.answer(format!(
        "the canonical name is `{CANON}`, not the alias `{ALIAS}` you asked for: glibc's files \
         backend gives the first name of the address's line. With --family inet only AF_INET \
         tuples come (127.0.0.1; glibc also reads the ::1 line as 127.0.0.1 for an IPv4 \
         lookup, so it may come twice), with --family inet6 only AF_INET6 ones (::1). An IPv4 \
         literal has no IPv6 address: with --family inet6 the resolver fails (\"Address family \
         for hostname not supported\"), exit 1."
    ));

    for (family, words, address) in [
        ("inet", "AF_INET", format!("('127.0.0.1', {port})")),
        ("inet6", "AF_INET6", format!("('::1', {port}, 0, 0)")),
    ] {
        c.step(format!(
            "run your program for {ALIAS}'s {words} addresses, with the canonical name"
        ));
        let args = vec![
            "--family".to_string(),
            family.to_string(),
            ALIAS.to_string(),
            port.to_string(),
        ];
        let tuples = run(c, &args)?;
        all_of_family(&tuples, words)?;
        let wrong: Vec<&String> = tuples
            .iter()
            .map(|t| &t.sockaddr)
            .filter(|a| **a != address)
            .collect();
        if !wrong.is_empty() {
            return Err(Failure::Expected {
                expected: format!("every address {address}"),
                got: format!("{wrong:?}"),
            });
        }
        canonical(&tuples, CANON)?;
        c.note(format!(
            "{} tuple(s), all {words}, the first named '{CANON}'",
            tuples.len()
        ));
    }

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
    Ok(())
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

/// The first tuple names the canonical name `name`, and only the first.
fn canonical(tuples: &[Tuple], name: &str) -> Result<(), Failure> {
    let first = tuples.first().map_or("", |t| t.canonname.as_str());
    if first == name && tuples.iter().skip(1).all(|t| t.canonname.is_empty()) {
        return Ok(());
    }
    let hint = if first == ALIAS {
        " (the name asked for, not the resolver's canonical name)"
    } else {
        ""
    };
    Err(Failure::Expected {
        expected: format!(
            "the canonical name '{name}' in the first tuple's canonname, the others ''"
        ),
        got: format!(
            "{:?}{hint}",
            tuples
                .iter()
                .map(|t| t.canonname.as_str())
                .collect::<Vec<_>>()
        ),
    })
}
