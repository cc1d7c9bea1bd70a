//! wrong-hangs — a deliberately wrong program for the checker's golden tests: it prints one line
//! and then sleeps, doing nothing, until it is killed (`cargo course exercise --dev-check`).

use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    println!("sleeping");
    // Bounded all the same (a minute), should the checker that kills it be gone.
    std::thread::sleep(Duration::from_secs(60));
    ExitCode::SUCCESS
}
