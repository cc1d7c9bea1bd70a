//! course — the course's own tool: `cargo course --help` lists its commands (see `lib.rs`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let outcome = course::run();
    // Interrupted: the handler stops every child and exits 130; if the run noticed first (a child
    // it waited on was killed), its drops have stopped the rest, and the status is the same.
    if course::interrupted() {
        return ExitCode::from(130);
    }
    // A command that passes on another's exit status (`lab on`) has said all it will.
    if let (Err(_), Some(code)) = (&outcome, course::exit_code()) {
        return ExitCode::from(code);
    }
    // The name a learner types, not the binary's file name; a command's own synopsis under its
    // usage errors.
    let command = std::env::args_os().nth(1);
    let synopsis = course::synopsis(command.as_ref().and_then(|c| c.to_str()));
    lesson_common::report_as("cargo course", synopsis, course::HELP, outcome)
}
