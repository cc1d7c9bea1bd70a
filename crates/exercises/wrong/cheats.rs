//! wrong-cheats — a deliberately wrong program for the checker's golden tests: it prints a server's
//! words (`Listening on (…)`, `Got connection from …`) for a socket it listens on but never
//! serves, so only the checker's conversation over the socket can tell
//! (`cargo course exercise --dev-check`).

use std::net::TcpListener;
use std::process::ExitCode;
use std::time::Duration;

use lesson_common::py_addr;

fn main() -> ExitCode {
    let Ok(listener) = TcpListener::bind("127.0.0.1:0") else {
        return ExitCode::FAILURE;
    };
    let Ok(address) = listener.local_addr() else {
        return ExitCode::FAILURE;
    };
    println!("Listening on {}", py_addr(address));
    println!("Waiting for connections...");
    println!("Got connection from ('127.0.0.1', 40000)");
    println!("Received 0 bytes");
    // The kernel completes the handshakes; nobody accepts, reads or answers. Bounded (a minute).
    std::thread::sleep(Duration::from_secs(60));
    ExitCode::SUCCESS
}
