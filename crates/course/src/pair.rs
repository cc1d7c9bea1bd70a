//! Running a lesson beside its partner on loopback: what the tour, the transcripts and compare
//! share. Every child is a [`Spawned`] (killed when dropped) or a bounded run, so nothing outlives
//! the course tool and nothing waits forever.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Read;
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use lesson_common::{Exit, fail, fail_with};
use test_support::process::{self, NoLine, Outcome, Spawned};

use crate::registry::{Check, LISTING_PORT, Lesson, Partner};
use crate::scratch::Scratch;

/// How long a partner may take to say where it listens, and a lesson to finish.
pub const STARTUP: Duration = Duration::from_secs(10);
pub const LIMIT: Duration = Duration::from_secs(20);

/// The file the HTTP partner serves, as the http-fetch page's recipe makes it.
pub const HELLO_PATH: &str = "hello.txt";
pub const HELLO_BODY: &str = "hello from the course\n";

/// Where a pair runs: on loopback, or across the lab link (the server in the lab's server
/// namespace, the client in its client namespace, where the course tool itself runs).
pub struct Place<'a> {
    /// The address the partner binds and the lesson reaches.
    pub server: &'a str,
    /// The address the client's packets come from, as the partner logs it.
    pub client: &'a str,
    /// Start a program on the server's side (with nothing on its stdin).
    pub start: &'a dyn Fn(&mut Command) -> std::io::Result<Spawned>,
}

/// Both sides on 127.0.0.1, here.
pub const LOOPBACK: Place<'static> = Place {
    server: "127.0.0.1",
    client: "127.0.0.1",
    start: &|command| Spawned::start(command, b""),
};

/// A partner up and listening on an ephemeral port.
pub struct Peer {
    /// A lesson's name, or `http.server`.
    name: String,
    pub spawned: Spawned,
    /// The port it listens on.
    pub port: u16,
    /// What a person would type to start it, with its real port.
    pub shown: String,
    /// Lines it printed while starting (its `Listening on` banner, say).
    pub banner: Vec<String>,
    /// The served folder of an HTTP partner, held only to be removed when the peer is dropped.
    _site: Option<Scratch>,
}

impl Peer {
    /// The partner lesson's name, or `http.server`.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // Stopped before its folder goes (the field drops after this).
        self.spawned.stop();
    }
}

/// Start the partner that `lesson` talks to on loopback; `Ok(None)` for a lesson without one.
pub fn start_partner(lesson: &Lesson) -> Result<Option<Peer>, Exit> {
    start_partner_at(lesson, &LOOPBACK)
}

/// Start the partner that `lesson` talks to at `place`; `Ok(None)` for a lesson without one.
pub fn start_partner_at(lesson: &Lesson, place: &Place) -> Result<Option<Peer>, Exit> {
    match lesson.partner {
        Partner::None => Ok(None),
        Partner::Lesson(name) => start_lesson_server_at(name, place).map(Some),
        Partner::HttpServer => start_http_server_at(place).map(Some),
    }
}

/// Start a server lesson on 127.0.0.1 port 0 and read the port from its `Listening on` line.
pub fn start_lesson_server(name: &str) -> Result<Peer, Exit> {
    start_lesson_server_at(name, &LOOPBACK)
}

fn start_lesson_server_at(name: &str, place: &Place) -> Result<Peer, Exit> {
    let mut command = Command::new(crate::workspace::binary(name)?);
    command.args(["--bind", place.server, "0"]);
    let spawned =
        (place.start)(&mut command).map_err(|e| fail_with(format!("cannot start {name}"), e))?;
    let banner = match spawned.line(STARTUP) {
        Ok(line) => line,
        Err(why) => return Err(no_banner(name, &spawned, why)),
    };
    let Some(port) = banner.strip_prefix("Listening on ").and_then(port_of_tuple) else {
        return Err(fail(format!(
            "{name} printed {banner:?}, not its `Listening on (…)` line"
        )));
    };
    Ok(Peer {
        name: name.to_string(),
        spawned,
        port,
        shown: format!("{name} --bind {} 0", place.server),
        banner: vec![banner],
        _site: None,
    })
}

/// `python3 -m http.server` on 127.0.0.1 port 0, serving a folder with [`HELLO_PATH`] in it, as the
/// http-fetch page tells a learner to run it. Its port comes from its own `Serving HTTP on …
/// port N` line.
pub fn start_http_server() -> Result<Peer, Exit> {
    start_http_server_at(&LOOPBACK)
}

fn start_http_server_at(place: &Place) -> Result<Peer, Exit> {
    let site = Scratch::new("site")?;
    write_site(site.path())?;
    let mut command = Command::new("python3");
    command.args(http_server_args_at(site.path(), place.server, 0));
    let spawned = match (place.start)(&mut command) {
        Ok(spawned) => spawned,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Exit::Failed(Box::new(NotInstalled(
                "http-fetch's partner is `python3 -m http.server`, and python3 is not installed"
                    .into(),
            ))));
        }
        Err(e) => {
            return Err(fail_with(
                "http-fetch's partner is `python3 -m http.server`, and python3 cannot run",
                e,
            ));
        }
    };
    let mut peer = Peer {
        name: "http.server".to_string(),
        spawned,
        port: 0,
        shown: String::new(),
        banner: Vec::new(),
        _site: Some(site),
    };
    let banner = match peer.spawned.line(STARTUP) {
        Ok(line) => line,
        Err(why) => return Err(no_banner("python3 -m http.server", &peer.spawned, why)),
    };
    let port = http_server_port(&banner);
    let Some(port) = port else {
        return Err(fail(format!(
            "python3 -m http.server printed {banner:?}, not its port"
        )));
    };
    peer.port = port;
    peer.shown = format!(
        "python3 -m http.server --bind {} 0 --directory SITE",
        place.server
    );
    peer.banner.push(banner);
    Ok(peer)
}

/// A program a step needs is not installed: a reason to skip the step, where any other failure to
/// start its partner fails it.
#[derive(Debug)]
pub struct NotInstalled(pub String);

impl std::fmt::Display for NotInstalled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotInstalled {}

/// [`HELLO_PATH`] written into the folder `site`, made if need be inside a folder that exists (a
/// scratch folder): never a missing parent, so a TMPDIR that is not there is an error, not made.
pub fn write_site(site: &Path) -> Result<(), Exit> {
    match fs::create_dir(site) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            return Err(fail_with("cannot make a folder to serve", e));
        }
        _ => {}
    }
    fs::write(site.join(HELLO_PATH), HELLO_BODY)
        .map_err(|e| fail_with("cannot write the served file", e))
}

/// `python3`'s arguments to serve `site` on 127.0.0.1 `port` (0: any free one).
pub fn http_server_args(site: &Path, port: u16) -> Vec<String> {
    http_server_args_at(site, "127.0.0.1", port)
}

pub fn http_server_args_at(site: &Path, host: &str, port: u16) -> Vec<String> {
    // -u: unbuffered, or the "Serving HTTP on … port N" line would wait in Python's buffer.
    let args = ["-u", "-m", "http.server", "--bind", host];
    let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    args.push(port.to_string());
    args.push("--directory".to_string());
    args.push(site.to_string_lossy().into_owned());
    args
}

fn no_banner(name: &str, spawned: &Spawned, why: NoLine) -> Exit {
    let (_, err) = spawned.lines_so_far();
    let what = match why {
        NoLine::Timeout => format!("said nothing within {STARTUP:?}"),
        NoLine::Closed => "exited".to_string(),
    };
    fail(format!(
        "{name} {what} instead of saying where it listens: {}",
        err.join(" / ")
    ))
}

/// Whether something holds 127.0.0.1:51423, the listing's port: a bind fails then. (std's
/// TcpListener sets SO_REUSEADDR, as the lessons do, so a connection of theirs in TIME_WAIT there
/// does not count.) Ask before a side starts, never while it starts: the probe would take the
/// port from it.
pub fn listing_port_taken(udp: bool) -> bool {
    let at = ("127.0.0.1", LISTING_PORT);
    if udp {
        std::net::UdpSocket::bind(at).is_err()
    } else {
        std::net::TcpListener::bind(at).is_err()
    }
}

/// Read `stream` until the server closes it (`true`), or for at most `limit`; then close it with a
/// reset, not a FIN. The server closed first, so a FIN from here would leave its side of the
/// connection in TIME_WAIT, and Linux refuses the next server's bind to that port while it lasts
/// unless both sockets set SO_REUSEADDR, which a learner's listing may not (a lesson and a listing
/// take turns on 51423).
pub fn until_server_closes(mut stream: TcpStream, limit: Duration) -> bool {
    let closed = stream
        .set_read_timeout(Some(limit))
        .and_then(|()| stream.read_to_end(&mut Vec::new()))
        .is_ok();
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    closed
}

/// [`until_server_closes`], saying why when the server did not close the connection: `Ok` when
/// it did, else the read's error (`WouldBlock` or `TimedOut`: still open at `limit`;
/// `ConnectionReset`: the server reset it). For a report that must say which.
pub fn until_server_closes_or_why(mut stream: TcpStream, limit: Duration) -> std::io::Result<()> {
    let read = stream
        .set_read_timeout(Some(limit))
        .and_then(|()| stream.read_to_end(&mut Vec::new()))
        .map(drop);
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    read
}

/// The port in `python3 -m http.server`'s `Serving HTTP on 127.0.0.1 port 8000 (…) ...` line.
pub fn http_server_port(banner: &str) -> Option<u16> {
    banner
        .split(" port ")
        .nth(1)?
        .split(' ')
        .next()?
        .parse()
        .ok()
}

/// The port of Python's address notation: `('127.0.0.1', 5555)` → 5555.
pub fn port_of_tuple(tuple: &str) -> Option<u16> {
    tuple.split(", ").nth(1)?.trim_end_matches(')').parse().ok()
}

/// The lesson's arguments for a run against `peer`: the word PORT becomes its port.
pub fn peer_args(lesson: &Lesson, peer: Option<&Peer>) -> Vec<String> {
    let port = peer.map(|p| p.port.to_string()).unwrap_or_default();
    args_with(lesson.peer_args, &port)
}

/// A registry argument list with the word PORT as `port`.
pub fn args_for_port(template: &[&str], port: u16) -> Vec<String> {
    args_with(template, &port.to_string())
}

fn args_with(template: &[&str], port: &str) -> Vec<String> {
    let word = |a: &&str| {
        if *a == "PORT" {
            port.to_string()
        } else {
            a.to_string()
        }
    };
    template.iter().map(word).collect()
}

/// Run `lesson` to its end (bounded) with `args`, feeding it the registry's stdin.
pub fn run_lesson(lesson: &Lesson, args: &[String]) -> Result<Outcome, Exit> {
    let mut command = Command::new(crate::workspace::binary(lesson.name)?);
    command.args(args);
    process::run_bounded(&mut command, lesson.stdin.as_bytes(), LIMIT)
        .map_err(|e| fail_with(format!("cannot run {}", lesson.name), e))
}

/// The lines a peer printed on stdout after its banner, waiting up to `settle` for each more.
pub fn peer_lines(peer: &Peer, settle: Duration) -> Vec<String> {
    let mut lines = Vec::new();
    while let Ok(line) = peer.spawned.line(settle) {
        lines.push(line);
    }
    lines
}

/// The HTTP server's log (its stderr): what it logged so far, waiting up to `limit` for the
/// request's line (`127.0.0.1 - - […] "GET /hello.txt HTTP/1.0" 200 -`).
pub fn peer_log(peer: &Peer, limit: Duration) -> Vec<String> {
    let mut lines = Vec::new();
    let deadline = std::time::Instant::now() + limit;
    while !lines.iter().any(|l: &String| l.contains("\"GET ")) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match peer.spawned.err_line(left) {
            Ok(line) => lines.push(line),
            Err(_) => break,
        }
    }
    lines
}

/// The text of `bytes`, lossily, without CRs at line ends.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace("\r\n", "\n")
}

/// Check `out` (one side's stdout) against the registry's `checks` for it: the problems, in words.
/// `found` holds what each `{NAME}` stood for so far, and gains what this side binds.
pub fn check(
    who: &str,
    checks: &[Check],
    out: &[u8],
    found: &mut HashMap<String, String>,
) -> Vec<String> {
    let text = String::from_utf8_lossy(out);
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let mut problems = Vec::new();
    for check in checks {
        match check {
            Check::Line(pattern) => {
                if !any_line(&lines, pattern, found) {
                    problems.push(format!("{who} did not print: {}", fill(pattern, found)));
                }
            }
            Check::AnyLine(patterns) => {
                if !patterns.iter().any(|p| any_line(&lines, p, found)) {
                    let shown: Vec<String> = patterns.iter().map(|p| fill(p, found)).collect();
                    problems.push(format!(
                        "{who} printed no line like: {}",
                        shown.join(" or ")
                    ));
                }
            }
            Check::Starts(first) => {
                if lines.len() < first.len() || lines[..first.len()] != first[..] {
                    problems.push(format!(
                        "{who} did not begin with the lines: {}",
                        first.join(" / ")
                    ));
                }
            }
            Check::ServedFile => {
                let at = out.windows(4).position(|w| w == b"\r\n\r\n");
                let body = at.map(|at| &out[at + 4..]);
                if body != Some(HELLO_BODY.as_bytes()) {
                    problems.push(format!(
                        "the body {who} printed is not the served {HELLO_PATH}, byte for byte"
                    ));
                }
            }
            Check::NotEmpty => {
                if out.is_empty() {
                    problems.push(format!("{who} printed nothing"));
                }
            }
        }
    }
    problems
}

fn any_line(lines: &[&str], pattern: &str, found: &mut HashMap<String, String>) -> bool {
    for line in lines {
        if let Some(bound) = matches(pattern, line, found) {
            *found = bound;
            return true;
        }
    }
    false
}

/// The pattern with every name found so far written in.
pub fn fill(pattern: &str, found: &HashMap<String, String>) -> String {
    let mut out = pattern.to_string();
    for (name, value) in found {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// Whether the whole of `text` matches `pattern`: the names bound then, with those `known`.
pub fn matches(
    pattern: &str,
    text: &str,
    known: &HashMap<String, String>,
) -> Option<HashMap<String, String>> {
    let Some(open) = pattern.find('{') else {
        return (pattern == text).then(|| known.clone());
    };
    let close = open + pattern[open..].find('}')?;
    let (literal, name, rest) = (
        &pattern[..open],
        &pattern[open + 1..close],
        &pattern[close + 1..],
    );
    let after = text.strip_prefix(literal)?;
    if let Some(value) = known.get(name).filter(|_| name != "_") {
        return matches(rest, after.strip_prefix(value.as_str())?, known);
    }
    // A hole stands for some non-empty text: try each length, shortest first.
    let ends = after.char_indices().map(|(i, _)| i).skip(1);
    for end in ends.chain([after.len()]).filter(|e| *e > 0) {
        let mut bound = known.clone();
        if name != "_" {
            bound.insert(name.to_string(), after[..end].to_string());
        }
        if let Some(done) = matches(rest, &after[end..], &bound) {
            return Some(done);
        }
    }
    None
}

pub enum Step {
    Passed(String),
    Failed(String),
    /// The client gave up waiting for its peer with one of its `may_give_up` lines, as a client
    /// should when the link drops its packets; everything else was as it should be. Whether that
    /// is what should have happened is the caller's to say (the lab knows what the link did).
    GaveUp(String),
}

/// Why a step could not run here (a missing tool), which is not a failure of the lesson.
pub struct Skip(pub String);

/// One lesson run beside its partner at `place`, shown and checked: the tour's step, and the lab's
/// run across the link.
pub fn show_and_check(lesson: &Lesson, place: &Place) -> Result<Step, Skip> {
    show_and_check_as(lesson, place, &ClientRun::of(lesson)).map(|(step, _)| match step {
        // Not asked for by ClientRun::of, so never here; a failure if it were.
        Step::GaveUp(report) => Step::Failed(report),
        step => step,
    })
}

/// How the client of a pair runs: the registry's way ([`ClientRun::of`]), or a lab experiment's.
pub struct ClientRun {
    /// Its arguments, PORT standing for the partner's port.
    pub args: Vec<String>,
    /// What it reads on stdin, and how the report shows where that came from (`echo hello | `).
    pub stdin: Vec<u8>,
    pub feed: String,
    /// What its stdout must show, and what the report says when every check passed.
    pub checks: &'static [Check],
    pub ok: &'static str,
    /// Where the link keeps the pair from doing what it does on loopback, and the page says so:
    /// the line (a pattern, as in a check) the client ends with on stderr when it gives up, exit
    /// 1. The partner's checks are then not asked for; what it printed is shown.
    pub gives_up: Option<&'static str>,
    /// Lines (patterns, any one) the client may end with on stderr, exit 1, when it gives up
    /// waiting for its peer (the registry's `gives_up`): the step is then [`Step::GaveUp`], not a
    /// failure, and the partner's checks are not asked for. Empty: a give-up is a failure.
    pub may_give_up: &'static [&'static str],
}

impl ClientRun {
    /// As the registry runs `lesson`.
    pub fn of(lesson: &Lesson) -> ClientRun {
        let stdin = lesson.stdin.trim_end();
        ClientRun {
            args: lesson.peer_args.iter().map(|a| a.to_string()).collect(),
            stdin: lesson.stdin.as_bytes().to_vec(),
            feed: if stdin.is_empty() {
                String::new()
            } else {
                format!("echo {stdin} | ")
            },
            checks: lesson.checks,
            ok: lesson.ok,
            gives_up: None,
            may_give_up: &[],
        }
    }
}

/// [`show_and_check`] with the client run as `client` says; also how long the client ran.
pub fn show_and_check_as(
    lesson: &Lesson,
    place: &Place,
    client: &ClientRun,
) -> Result<(Step, Duration), Skip> {
    let mut report = String::new();
    let peer = match start_partner_at(lesson, place) {
        Ok(peer) => peer,
        // Only a python3 that is not there is a reason to skip the HTTP step: any other trouble
        // starting the partner (a missing TMPDIR, no banner in time) fails the step.
        Err(e) if not_installed(&e) => return Err(Skip(e.words())),
        Err(e) => {
            return Ok((
                Step::Failed(format!("  FAIL: {}\n", e.words())),
                Duration::ZERO,
            ));
        }
    };
    if let Some(peer) = &peer {
        let _ = writeln!(report, "$ {}   (serving on port {})", peer.shown, peer.port);
    }
    // The registry's arguments name the loopback address; across the link, the server's.
    let port = peer
        .as_ref()
        .map(|p| p.port.to_string())
        .unwrap_or_default();
    let template: Vec<&str> = client.args.iter().map(String::as_str).collect();
    let args: Vec<String> = args_with(&template, &port)
        .into_iter()
        .map(|a| {
            if a == LOOPBACK.server {
                place.server.to_string()
            } else {
                a
            }
        })
        .collect();
    let _ = writeln!(
        report,
        "$ {}{} {}",
        client.feed,
        lesson.name,
        args.join(" ")
    );
    let began = Instant::now();
    let ran = crate::workspace::binary(lesson.name).and_then(|binary| {
        process::run_bounded(Command::new(binary).args(&args), &client.stdin, LIMIT)
            .map_err(|e| fail_with(format!("cannot run {}", lesson.name), e))
    });
    let took = began.elapsed();
    let outcome = match ran {
        Ok(outcome) => outcome,
        Err(e) => {
            let failed = format!("{report}  FAIL: {}\n", e.words());
            return Ok((Step::Failed(failed), took));
        }
    };
    let stdout = text(&outcome.stdout);
    report.push_str(&indent(&stdout));
    let port = peer.as_ref().map_or(0, |p| p.port);
    let mut found = HashMap::from([
        ("PORT".to_string(), port.to_string()),
        ("SERVER".to_string(), place.server.to_string()),
        ("CLIENT".to_string(), place.client.to_string()),
    ]);
    // Did it give up waiting, with one of the lines it may end with? (exit 1, its last line)
    let last_said = text(&outcome.stderr)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .to_string();
    let gave_up = client.gives_up.is_none()
        && outcome.status.is_some_and(|s| s.code() == Some(1))
        && client
            .may_give_up
            .iter()
            .any(|p| matches(p, &last_said, &found).is_some());
    let giving_up = client.gives_up.or(gave_up.then_some("{_}"));
    let mut problems = Vec::new();
    match (outcome.status, giving_up) {
        (None, _) => problems.push(format!("{} did not finish within {:?}", lesson.name, LIMIT)),
        (Some(status), None) if !status.success() => {
            problems.push(format!("{} ended with {status}", lesson.name));
        }
        (Some(status), Some(_)) if status.code() != Some(1) => problems.push(format!(
            "{} was to give up (exit status 1), and ended with {status}",
            lesson.name
        )),
        (Some(_), _) => {}
    }
    // What each side must have printed is the registry's: the same `{NAME}` on both sides is the
    // same text (socket-info's `Connected from` address is the one tcp-listener logs). A client
    // that gave up never got what its checks look for.
    let checks = if gave_up { &[][..] } else { client.checks };
    problems.extend(check(lesson.name, checks, &outcome.stdout, &mut found));
    if let Some(line) = giving_up {
        let said = format!("{} on stderr", lesson.name);
        let stderr = text(&outcome.stderr);
        let _ = writeln!(report, "  {said}:");
        report.push_str(&indent(&stderr));
        problems.extend(check(
            &said,
            &[Check::Line(line)],
            stderr.as_bytes(),
            &mut found,
        ));
    }
    if let Some(peer) = &peer {
        let partner = crate::registry::find(peer.name()).ok();
        let checks = match giving_up {
            Some(_) => &[][..],
            None => partner.map_or(&[][..], |p| p.checks),
        };
        // The partner logs as it serves: wait (bounded) until what it printed passes its checks
        // and nothing more came for 0.1 s (the client is done by now: its
        // partner has written what it will).
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut lines = peer.banner.clone();
        loop {
            match peer.spawned.line(Duration::from_millis(100)) {
                Ok(line) => lines.push(line),
                Err(_) => {
                    let text = lines.join("\n");
                    let trial = check("", checks, text.as_bytes(), &mut found.clone());
                    if trial.is_empty() || Instant::now() >= deadline {
                        break;
                    }
                }
            }
        }
        let text = format!("{}\n", lines.join("\n"));
        let _ = writeln!(report, "  {} printed:", peer.name());
        report.push_str(&indent(&text));
        if partner.is_none() {
            // http.server logs each request on stderr: wait for it, unless the client gave up,
            // when no request line is coming (waiting would only stretch the run, and with it
            // what the link counts).
            let wait = match giving_up {
                Some(_) => Duration::from_millis(100),
                None => Duration::from_secs(5),
            };
            let log = peer_log(peer, wait);
            let _ = writeln!(report, "  {} logged (stderr):", peer.name());
            report.push_str(&indent(&log.join("\n")));
        }
        problems.extend(check(peer.name(), checks, text.as_bytes(), &mut found));
    }
    if !problems.is_empty() {
        let stderr = text(&outcome.stderr);
        if !stderr.is_empty() && giving_up.is_none() {
            let _ = writeln!(report, "  {} said on stderr:", lesson.name);
            report.push_str(&indent(&stderr));
        }
        for problem in problems {
            let _ = writeln!(report, "  FAIL: {problem}");
        }
        return Ok((Step::Failed(report), took));
    }
    if gave_up {
        return Ok((Step::GaveUp(report), took));
    }
    let _ = writeln!(report, "  ok: {}", fill(client.ok, &found));
    Ok((Step::Passed(report), took))
}

pub fn indent(text: &str) -> String {
    if text.trim().is_empty() {
        return "    (no output)\n".to_string();
    }
    text.lines().map(|l| format!("    {l}\n")).collect()
}

/// Whether starting the partner failed because a program it needs is not installed.
fn not_installed(exit: &Exit) -> bool {
    matches!(exit, Exit::Failed(error) if error.downcast_ref::<NotInstalled>().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name binds on one side and must stand for the same text on the other; `{_}` is anything.
    #[test]
    fn patterns_bind_names_across_sides() {
        let mut found = HashMap::from([("PORT".to_string(), "5000".to_string())]);
        let client = b"Connected from ('127.0.0.1', 41234)\nConnected to ('127.0.0.1', 5000)\n";
        let checks = [
            Check::Line("Connected to ('127.0.0.1', {PORT})"),
            Check::Line("Connected from {FROM}"),
        ];
        assert!(check("client", &checks, client, &mut found).is_empty());
        assert_eq!(found["FROM"], "('127.0.0.1', 41234)");
        let server = [Check::Line("Got connection from {FROM}")];
        let logged =
            b"Listening on ('127.0.0.1', 5000)\nGot connection from ('127.0.0.1', 41234)\n";
        assert!(check("server", &server, logged, &mut found.clone()).is_empty());
        let other = b"Got connection from ('127.0.0.1', 9)\n";
        let problems = check("server", &server, other, &mut found.clone());
        assert_eq!(
            problems,
            ["server did not print: Got connection from ('127.0.0.1', 41234)"]
        );
        let any = [Check::AnyLine(&["{_}('::1', {_}", "{_}('127.0.0.1', {_}"])];
        let tuple = b"(2, 1, 6, '', ('127.0.0.1', 80))  # AF_INET\n";
        assert!(check("a", &any, tuple, &mut found).is_empty());
        assert_eq!(check("a", &any, b"nothing\n", &mut found).len(), 1);
        let body = [Check::ServedFile];
        let response = format!("HTTP/1.0 200 OK\r\n\r\n{HELLO_BODY}");
        assert!(check("f", &body, response.as_bytes(), &mut found).is_empty());
        assert_eq!(
            check("f", &body, b"HTTP/1.0 200 OK\r\n\r\nx", &mut found).len(),
            1
        );
    }
}
