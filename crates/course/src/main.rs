//! course — the course's own tool: `cargo course --help` lists its commands (see `lib.rs`).

use std::process::ExitCode;

fn main() -> ExitCode {
    lesson_common::report(course::USAGE, course::HELP, course::run())
}
