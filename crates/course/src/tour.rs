//! `cargo course tour [LESSON…]`: the course in one command, offline. Build the workspace once,
//! then run every lesson beside its partner on loopback, show both sides, and check what each
//! printed. Exit 0 when every step passed, 1 when any misbehaved (named in the summary).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use lesson_common::Exit;

use crate::pair;
use crate::registry::{LESSONS, Lesson, Partner, Role};

pub(crate) const HELP: &str = "\
usage: cargo course tour [LESSON…]

Build the workspace once, then run every lesson beside its partner on 127.0.0.1 (servers on a free
port the kernel picks), show what both sides printed, and check it. With LESSON names, only the
steps those lessons take part in. Needs nothing but Rust, and python3 for http-fetch's partner
(`python3 -m http.server`; that step is skipped without it). Exit 0: every step passed; 1: a step
failed. Ctrl-C stops every program the tour started; on Linux, where a private PID namespace can
be made (`unshare -cpf`), the tour runs in one, so that even a SIGKILL of it leaves none behind.";

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
    // The rest runs as process 1 of a private PID namespace where Linux allows one: nothing the
    // tour starts outlives it, even when it is killed with SIGKILL.
    if let Some(done) = crate::tether::enter(&[])? {
        return done;
    }
    crate::print("tour: building the lessons (cargo build --package LESSON…)\n")?;
    crate::workspace::build()?;
    let (mut passed, mut failed, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    // The steps are independent (each pair on ports of its own), so they run at once, and each is
    // shown in course order as soon as it and those before it are done: the tour takes as long as
    // its slowest step (udp-client waiting out its reply timeout), not the sum of them all.
    std::thread::scope(|scope| -> Result<(), Exit> {
        let running: Vec<_> = steps
            .iter()
            .map(|&lesson| (lesson, scope.spawn(move || step(lesson))))
            .collect();
        for (lesson, handle) in running {
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
            let outcome = handle.join().unwrap_or_else(|_| {
                Ok(Step::Failed("  FAIL: the step's thread panicked\n".into()))
            });
            match outcome {
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
                    test_support::process::note_skipped(&format!("tour: {title} — {why}"));
                    skipped.push(format!("{title}: {why}"));
                }
            }
        }
        Ok(())
    })?;
    let mut summary = String::from("\n");
    for name in &skipped {
        let _ = writeln!(summary, "tour: SKIPPED {name}");
    }
    for name in &failed {
        let _ = writeln!(summary, "tour: FAILED {name}");
    }
    // A step is a lesson with its partner, or a lesson alone: say so, in a course of more lessons.
    let pairs = steps.iter().filter(|l| l.partner != Partner::None).count();
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let _ = writeln!(
        summary,
        "tour: {} passed, {} failed, {} skipped — steps of {} and {}",
        passed.len(),
        failed.len(),
        skipped.len(),
        plural(pairs, "lesson pair", "lesson pairs"),
        plural(steps.len() - pairs, "lone lesson", "lone lessons"),
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
        // Only a python3 that is not there is a reason to skip the HTTP step: any other trouble
        // starting the partner (a missing TMPDIR, no banner in time) fails the step.
        Err(e) if not_installed(&e) => return Err(Skip(e.words())),
        Err(e) => return Ok(Step::Failed(format!("  FAIL: {}\n", e.words()))),
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
            return Ok(Step::Failed(format!("{report}  FAIL: {}\n", e.words())));
        }
    };
    let stdout = pair::text(&outcome.stdout);
    report.push_str(&indent(&stdout));
    let mut problems = Vec::new();
    match outcome.status {
        None => problems.push(format!(
            "{} did not finish within {:?}",
            lesson.name,
            pair::LIMIT
        )),
        Some(status) if !status.success() => {
            problems.push(format!("{} ended with {status}", lesson.name));
        }
        Some(_) => {}
    }
    // What each side must have printed is the registry's: the same `{NAME}` on both sides is the
    // same text (socket-info's `Connected from` address is the one tcp-listener logs).
    let port = peer.as_ref().map_or(0, |p| p.port);
    let mut found = HashMap::from([("PORT".to_string(), port.to_string())]);
    problems.extend(pair::check(
        lesson.name,
        lesson.checks,
        &outcome.stdout,
        &mut found,
    ));
    if let Some(peer) = &peer {
        let partner = crate::registry::find(peer.name()).ok();
        let checks = partner.map_or(&[][..], |p| p.checks);
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
                    let trial = pair::check("", checks, text.as_bytes(), &mut found.clone());
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
            // http.server logs each request on stderr.
            let log = pair::peer_log(peer, Duration::from_secs(5));
            let _ = writeln!(report, "  {} logged (stderr):", peer.name());
            report.push_str(&indent(&log.join("\n")));
        }
        problems.extend(pair::check(
            peer.name(),
            checks,
            text.as_bytes(),
            &mut found,
        ));
    }
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
    let _ = writeln!(report, "  ok: {}", pair::fill(lesson.ok, &found));
    Ok(Step::Passed(report))
}

fn indent(text: &str) -> String {
    if text.trim().is_empty() {
        return "    (no output)\n".to_string();
    }
    text.lines().map(|l| format!("    {l}\n")).collect()
}

/// Whether starting the partner failed because a program it needs is not installed.
fn not_installed(exit: &Exit) -> bool {
    matches!(exit, Exit::Failed(error) if error.downcast_ref::<pair::NotInstalled>().is_some())
}
