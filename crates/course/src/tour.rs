//! `cargo course tour [LESSON…]`: the course in one command, offline. Build the workspace once,
//! then run every lesson beside its partner on loopback, show both sides, and check what each
//! printed. Exit 0 when every step passed, 1 when any misbehaved (named in the summary).

use std::fmt::Write as _;

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
            .map(|&lesson| {
                (
                    lesson,
                    scope.spawn(move || pair::show_and_check(lesson, &pair::LOOPBACK)),
                )
            })
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
                Ok(pair::Step::Failed(
                    "  FAIL: the step's thread panicked\n".into(),
                ))
            });
            match outcome {
                Ok(pair::Step::Passed(report)) => {
                    crate::print(&report)?;
                    passed.push(title);
                }
                // show_and_check makes a give-up a failure: GaveUp never comes here.
                Ok(pair::Step::Failed(report) | pair::Step::GaveUp(report)) => {
                    crate::print(&report)?;
                    failed.push(title);
                }
                Err(pair::Skip(why)) => {
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
