//! Exercise 9, validate-by-value: the listing's false alarm on `fd00:0::5`. In namespaces of its
//! own ([`namespace`]), the checker names `fd00::5` in a hosts file (so the reverse and the
//! forward lookup are answered from files, with no DNS query), under a name drawn from the seed,
//! then asks the program to validate that address as written three ways: `fd00::5`, `fd00:0::5`,
//! and one more from the seed. Last, a case that must not validate: an address whose name is an
//! IPv4 address (a PTR record that lies, in effect), whose forward lookup cannot give it back.

use std::net::{IpAddr, ToSocketAddrs};
use std::time::Duration;

use crate::exercise::conversation::{Conversation, Failure, text};
use crate::exercise::namespace;
use crate::exercise::table::{Exercise, Needs};

pub const EXERCISE: Exercise = Exercise {
    name: "validate-by-value",
    lesson: "dns-validate",
    title: "the listing's false alarm on fd00:0::5: compare addresses, not text",
    needs: Needs::Namespace,
    question: "the hosts file says `fd00::5 v6-NAME.course.test`, and the program is asked to \
               validate `fd00:0::5`. As what text does the forward lookup of the name give the \
               address back, and does the listing's string comparison find `fd00:0::5` there?",
    hint: "In verdict(), step 4: parse the argument, `arg.parse::<IpAddr>()` (run() has already \
           checked that it parses), and compare IpAddr values: `addresses.iter().any(|a| \
           a.to_canonical() == original.to_canonical())`, so an IPv4-mapped address is its IPv4.",
    seeded: true,
    check,
};

/// The address, in the unique local range; its name, `v6-LETTERS.course.test` (a domain kept
/// for tests, RFC 6761), is drawn from the seed, so that no program can print it unasked.
const ADDRESS: &str = "fd00::5";
/// The address whose name is an IPv4 address: its reverse lookup gives that text, whose forward
/// lookup (getaddrinfo reads it as a numeric address) gives the IPv4 address, never this one.
const LIAR: &str = "fd00::7";

/// Other ways to write fd00::5, one picked by the seed.
const SPELLINGS: &[&str] = &[
    "FD00::5",
    "fd00:0:0:0:0:0:0:5",
    "fd00::0:5",
    "fd00:0000::0005",
    "fd00:0:0::5",
];

/// How long the program may take: both lookups read a file.
const LIMIT: Duration = Duration::from_secs(3);

fn check(c: &mut Conversation) -> Result<(), Failure> {
    let name = format!("v6-{}.course.test", text(&c.letters(5)));
    let posing = format!("198.51.100.{}", c.random(1, 254));
    namespace::hosts_file(
        c,
        &[
            ("127.0.0.1", "localhost"),
            ("::1", "localhost"),
            (ADDRESS, &name),
            (LIAR, &posing),
        ],
    )?;
    // The forward lookup as the program makes it (std asks getaddrinfo too), for the answer.
    let forward: Vec<String> = (name.as_str(), 0)
        .to_socket_addrs()
        .map(|all| all.map(|a| a.ip().to_string()).collect())
        .unwrap_or_default();
    let forward = forward.first().cloned().unwrap_or_else(|| "nothing".into());
    c.answer(format!(
        "getaddrinfo gives the address back as `{forward}`: one spelling only, the shortest \
         (RFC 5952: zeros left out, lowercase). `fd00:0::5` == `{forward}` is false as text, so \
         the listing says the address did not appear: a false alarm. As addresses they are \
         equal, the same 16 bytes. And {LIAR}, whose name is `{posing}`, must not validate: \
         the forward lookup of that name is the IPv4 address it spells."
    ));
    let other = SPELLINGS[c.random(0, SPELLINGS.len() as u64 - 1) as usize];
    for spelling in [ADDRESS, "fd00:0::5", other] {
        validate(c, &name, spelling)?;
    }
    refuse(c, &posing)
}

/// Step: run the program for [`LIAR`], whose name `posing` is an IPv4 address, and expect the
/// listing's mismatch: exit 1, `Got hostname …, but on forward lookup, original IP … did not
/// appear in IP address list.`
fn refuse(c: &mut Conversation, posing: &str) -> Result<(), Failure> {
    c.step(format!(
        "run your program for {LIAR}, whose name in the hosts file is `{posing}`: its forward \
         lookup gives {posing}, not {LIAR}, so it must not validate"
    ));
    let outcome = c.run_client(&[LIAR.to_string()], LIMIT, None, |_| {})?;
    let want = format!(
        "Got hostname {posing}, but on forward lookup,\noriginal IP {LIAR} did not appear in IP \
         address list.\n"
    );
    let stdout = text(&outcome.stdout);
    if outcome.status.and_then(|s| s.code()) == Some(1) && stdout == want {
        c.note("it printed the listing's mismatch, exit 1");
        return Ok(());
    }
    Err(Failure::Expected {
        expected: format!("exit status 1 and {want:?}"),
        got: format!(
            "{}, and {}",
            outcome.status.map_or(String::new(), |s| s.to_string()),
            if stdout.trim().is_empty() {
                format!("on stderr {:?}", text(&outcome.stderr).trim())
            } else {
                format!("{stdout:?}")
            }
        ),
    })
}

/// Step: run the program for `spelling`, and expect it validated: exit 0 and the listing's line.
fn validate(c: &mut Conversation, name: &str, spelling: &str) -> Result<(), Failure> {
    let same = spelling.parse::<IpAddr>().ok() == ADDRESS.parse().ok();
    c.step(format!(
        "run your program for {spelling}{}",
        if spelling == ADDRESS {
            " (as the hosts file writes it)".to_string()
        } else if same {
            format!(" (the same address as {ADDRESS}, written otherwise)")
        } else {
            String::new()
        }
    ));
    let outcome = c.run_client(&[spelling.to_string()], LIMIT, None, |_| {})?;
    let want = format!("Validated hostname: {name}\n");
    let stdout = text(&outcome.stdout);
    if outcome.status.is_some_and(|s| s.success()) && stdout == want {
        c.note(format!("it printed: {}", want.trim_end()));
        return Ok(());
    }
    Err(Failure::Expected {
        expected: format!("exit status 0 and `{}`", want.trim_end()),
        got: format!(
            "{}, and {}",
            outcome.status.map_or(String::new(), |s| s.to_string()),
            if stdout.trim().is_empty() {
                format!("on stderr {:?}", text(&outcome.stderr).trim())
            } else {
                format!("{:?}", stdout.trim())
            }
        ),
    })
}
