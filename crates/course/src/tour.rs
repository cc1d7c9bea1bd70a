//! `cargo course tour [LESSON…]`: the course in one command, offline. Build the workspace once,
//! then run every lesson beside its partner on loopback, show both sides, and check what each
//! printed. Exit 0 when every step passed, 1 when any misbehaved (named in the summary).

use std::fmt::Write as _;
use std::time::Duration;

use lesson_common::Exit;
use test_support::process::Outcome;

use crate::pair::{self, HELLO_BODY, Peer};
use crate::registry::{LESSONS, Lesson, Partner, Role};

const HELP: &str = "\
usage: cargo course tour [LESSON…]

Build the workspace once, then run every lesson beside its partner on 127.0.0.1 (servers on a free
port the kernel picks), show what both sides printed, and check it. With LESSON names, only the
steps those lessons take part in. Needs nothing but Rust, and python3 for http-fetch's partner
(`python3 -m http.server`; that step is skipped without it). Exit 0: every step passed; 1: a step
failed. Ctrl-C stops every program the tour started.";

pub fn main(args: Vec<String>) -> Result<(), Exit> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return crate::print(&format!("{HELP}\n"));
    }
    for name in &args {
        crate::registry::find(name)?;
    }
    let steps: Vec<&Lesson> = LESSONS
        .iter()
        .filter(|l| l.role != Role::Server)
        .filter(|l| {
            args.is_empty()
                || args
                    .iter()
                    .any(|a| a == l.name || Some(a.as_str()) == partner_lesson(l))
        })
        .collect();
    crate::print("tour: building the workspace (cargo build --workspace --locked)...\n")?;
    pair::build()?;
    let (mut passed, mut failed, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    for lesson in steps {
        let title = match partner_lesson(lesson) {
            Some(partner) => format!("{} → {partner}", lesson.name),
            None if lesson.partner == Partner::HttpServer => {
                format!("{} → python3 -m http.server", lesson.name)
            }
            None => lesson.name.to_string(),
        };
        crate::print(&format!(
            "\n=== {title} (ch. {}, {}) ===\n",
            lesson.chapter, lesson.listing
        ))?;
        match step(lesson) {
            Ok(Step::Passed(report)) => {
                crate::print(&report)?;
                passed.push(title);
            }
            Ok(Step::Failed(report)) => {
                crate::print(&report)?;
                failed.push(title);
            }
            Err(Skip(why)) => {
                crate::print(&format!("  skipped ({why})\n"))?;
                skipped.push(format!("{title}: {why}"));
            }
        }
    }
    let mut summary = String::from("\n");
    for name in &skipped {
        let _ = writeln!(summary, "tour: SKIPPED {name}");
    }
    for name in &failed {
        let _ = writeln!(summary, "tour: FAILED {name}");
    }
    let _ = writeln!(
        summary,
        "tour: {} passed, {} failed, {} skipped",
        passed.len(),
        failed.len(),
        skipped.len()
    );
    crate::print(&summary)?;
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Exit::Quiet)
    }
}

fn partner_lesson(lesson: &Lesson) -> Option<&'static str> {
    match lesson.partner {
        Partner::Lesson(name) => Some(name),
        _ => None,
    }
}

enum Step {
    Passed(String),
    Failed(String),
}

/// Why a step could not run here (a missing tool), which is not a failure of the lesson.
struct Skip(String);

/// One lesson run beside its partner, shown and checked.
fn step(lesson: &Lesson) -> Result<Step, Skip> {
    let mut report = String::new();
    let peer = match pair::start_partner(lesson) {
        Ok(peer) => peer,
        Err(e) if lesson.partner == Partner::HttpServer => return Err(Skip(exit_words(&e))),
        Err(e) => return Ok(Step::Failed(format!("  FAIL: {}\n", exit_words(&e)))),
    };
    if let Some(peer) = &peer {
        let _ = writeln!(report, "$ {}   (serving on port {})", peer.shown, peer.port);
    }
    let args = pair::peer_args(lesson, peer.as_ref());
    let stdin = lesson.stdin.trim_end();
    let feed = if stdin.is_empty() {
        String::new()
    } else {
        format!("echo {stdin} | ")
    };
    let _ = writeln!(report, "$ {feed}{} {}", lesson.name, args.join(" "));
    let outcome = match pair::run_lesson(lesson, &args) {
        Ok(outcome) => outcome,
        Err(e) => {
            return Ok(Step::Failed(format!(
                "{report}  FAIL: {}\n",
                exit_words(&e)
            )));
        }
    };
    let stdout = pair::text(&outcome.stdout);
    report.push_str(&indent(&stdout));
    let partner_lines = match &peer {
        Some(peer) => {
            // The partner logs as it serves: give its last line a moment to arrive.
            let lines = pair::peer_lines(peer, Duration::from_millis(300));
            let mut shown = peer.banner.clone();
            shown.extend(lines.iter().cloned());
            let _ = writeln!(
                report,
                "  {} printed:",
                peer.shown.split(' ').next().unwrap_or("the partner")
            );
            report.push_str(&indent(&shown.join("\n")));
            lines
        }
        None => Vec::new(),
    };
    let problems = check(lesson, &outcome, &stdout, &partner_lines, peer.as_ref());
    if !problems.is_empty() {
        let stderr = pair::text(&outcome.stderr);
        if !stderr.is_empty() {
            let _ = writeln!(report, "  {} said on stderr:", lesson.name);
            report.push_str(&indent(&stderr));
        }
        for problem in problems {
            let _ = writeln!(report, "  FAIL: {problem}");
        }
        return Ok(Step::Failed(report));
    }
    let _ = writeln!(report, "  ok: {}", ok_words(lesson));
    Ok(Step::Passed(report))
}

/// What each lesson must have printed (beyond exit 0) for its step to pass.
fn check(
    lesson: &Lesson,
    outcome: &Outcome,
    stdout: &str,
    partner: &[String],
    peer: Option<&Peer>,
) -> Vec<String> {
    let mut problems = Vec::new();
    match outcome.status {
        None => problems.push(format!(
            "{} did not finish within {:?}",
            lesson.name,
            pair::LIMIT
        )),
        Some(status) if !status.success() => {
            problems.push(format!("{} ended with {status}", lesson.name))
        }
        Some(_) => {}
    }
    let port = peer.map_or(0, |p| p.port);
    let has = |line: &str| stdout.lines().any(|l| l == line);
    match lesson.name {
        "socket-info" => {
            // The point of the lesson: getsockname() on the client is the address the server's
            // accept() reports, and getpeername() is the server's own address.
            let to = format!("Connected to ('127.0.0.1', {port})");
            if !has(&to) {
                problems.push(format!("socket-info did not print: {to}"));
            }
            match stdout
                .lines()
                .find_map(|l| l.strip_prefix("Connected from "))
            {
                Some(from) => {
                    let logged = format!("Got connection from {from}");
                    if !partner.contains(&logged) {
                        problems.push(format!("tcp-listener did not log: {logged}"));
                    }
                }
                None => problems.push("socket-info printed no `Connected from (…)` line".into()),
            }
        }
        "udp-client" => {
            if !has("Received: hello") {
                problems.push(
                    "udp-client did not print `Received: hello` (the echo of what it sent)".into(),
                );
            }
            if !partner
                .iter()
                .any(|l| l.starts_with("Got data from ('127.0.0.1', "))
            {
                problems.push("udp-echo-server did not log `Got data from (…)`".into());
            }
        }
        "http-fetch" => {
            if !stdout.starts_with("sleeping\nContinuing.\n") {
                problems
                    .push("http-fetch did not start with `sleeping`, then `Continuing.`".into());
            }
            if !stdout.lines().any(|l| l.starts_with("HTTP/1.0 200 ")) {
                problems.push("http-fetch printed no `200` status line".into());
            }
            // The body is everything after the head's empty line, byte for byte.
            let body = String::from_utf8_lossy(&outcome.stdout);
            let body = body.split_once("\r\n\r\n").map(|(_, body)| body);
            if body != Some(HELLO_BODY) {
                problems.push(format!(
                    "the body is not the served file byte for byte: {body:?}"
                ));
            }
        }
        "addr-info" if !stdout.contains("('127.0.0.1', ") && !stdout.contains("('::1', ") => {
            problems.push("addr-info printed no tuple with 127.0.0.1 or ::1".into());
        }
        _ if stdout.is_empty() => problems.push(format!("{} printed nothing", lesson.name)),
        _ => {}
    }
    problems
}

fn ok_words(lesson: &Lesson) -> &'static str {
    match lesson.name {
        "socket-info" => "socket-info connected from the address that tcp-listener logged",
        "udp-client" => "`hello` went out and came back, and the server logged its sender",
        "http-fetch" => "the body http-fetch printed is the served file, byte for byte",
        _ => "exit 0, and the lines the listing prints",
    }
}

fn indent(text: &str) -> String {
    if text.trim().is_empty() {
        return "    (no output)\n".to_string();
    }
    text.lines().map(|l| format!("    {l}\n")).collect()
}

/// The one line an `Exit` would print, for a report.
pub fn exit_words(exit: &Exit) -> String {
    match exit {
        Exit::Failed(e) => lesson_common::one_line(e.as_ref()),
        Exit::Usage(why) => why.clone(),
        Exit::Help | Exit::Quiet => String::new(),
    }
}
