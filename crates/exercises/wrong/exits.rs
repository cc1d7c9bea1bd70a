//! wrong-exits — a deliberately wrong program for the checker's golden tests: it exits at once,
//! saying nothing, whatever it is asked (`cargo course exercise --dev-check` runs it).

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::SUCCESS
}
