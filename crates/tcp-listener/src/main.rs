//! tcp-listener — a TCP server built in the four classic steps, then an accept loop that logs each
//! client's address and closes the connection.
//!
//! Ports the TCP server of chapter 3 (Foundations of Python Network Programming, 1st edition):
//! create the socket, set SO_REUSEADDR, bind, listen(5), accept forever. Deviation: it binds
//! 127.0.0.1 unless told otherwise, where the listing's `host = ''` binds every interface.
//!
//! Run: `cargo run -p tcp-listener`
//! Try: `cargo run -p socket-info -- 127.0.0.1 51423` or `nc -d 127.0.0.1 51423` in another
//!      terminal.

use std::net::TcpListener;
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use lesson_common::{Args, Exit, ServerLog, Transport, fail_with, py_addr, server_address};
use socket2::{Domain, Socket, Type};

const USAGE: &str = "[--bind ADDR] [PORT|SERVICE]";
const HELP: &str = "\
A TCP server in the four classic steps (socket, SO_REUSEADDR, bind, listen), then an accept loop
that logs each client's address and closes the connection.
Ports the TCP server of chapter 3 (Foundations of Python Network Programming, 1st edition).

Arguments:
  PORT|SERVICE    the port to listen on, 0 for any free port, or a tcp service name (default: 51423)

Options:
  --bind ADDR     the IP address to listen on, 0.0.0.0 or :: for every interface
                  (default: 127.0.0.1)
  -h, --help      print this help

Example:
  cargo run -p tcp-listener -- 0    (then connect with socket-info or `nc -d`)";

fn main() -> ExitCode {
    lesson_common::report(USAGE, HELP, run())
}

fn run() -> Result<(), Exit> {
    // Deviation: 127.0.0.1 unless `--bind` says otherwise, where the listing's `host = ''` binds
    // every interface; `--bind 0.0.0.0` (or `::`) restores it. The port: the listing's 51423.
    let address = server_address(Args::from_env()?, Transport::Tcp)?;

    // std's `TcpListener::bind` would do all four steps in one call — and hide steps 2 and 4 (it
    // sets SO_REUSEADDR itself and picks its own backlog). socket2 lets each step stand on its own.
    // ANCHOR: setup
    // 1. Create the socket: a TCP (stream) socket of the bind address's family.
    let socket = Socket::new(Domain::for_address(address), Type::STREAM, None)?;

    // 2. Set options. SO_REUSEADDR lets a restarted server bind its port while the previous run's
    //    connections still sit in TIME_WAIT. Unix only: on Windows the same flag lets another
    //    socket take over a port that is in use, so there we leave it off.
    #[cfg(unix)]
    socket.set_reuse_address(true)?;

    // 3. Bind to the port. This is where "Address already in use" shows up.
    if let Err(e) = socket.bind(&address.into()) {
        return Err(fail_with(format!("cannot bind {}", py_addr(address)), e));
    }

    // 4. Listen. The 5 is the backlog: how many finished handshakes may wait for accept().
    socket.listen(5)?;
    // ANCHOR_END: setup

    // From here on the std type does the safe, idiomatic I/O.
    let listener = TcpListener::from(socket);
    // The log and the error lines go through lesson-common's ServerLog: a stdout nobody reads
    // costs log lines (counted), never service, and a lasting error is not said ten times a second.
    let mut log = ServerLog::new()?;
    // Not in the listing: with port 0 the kernel picks the port, so say which one (tests read
    // this).
    log.line(format_args!(
        "Listening on {}",
        py_addr(listener.local_addr()?)
    ));
    log.line(format_args!("Waiting for connections...")); // the listing's first line

    // ANCHOR: accept
    loop {
        // 5. Accept a connection. A failure here (out of file descriptors, a client that gave up
        //    before we got to it) is about one connection, not the server: say so and go on, as the
        //    listing's `traceback.print_exc(); continue`. The pause keeps a lasting failure such as
        //    EMFILE from spinning the CPU.
        let client = match listener.accept() {
            Ok((client, _)) => client,
            Err(e) => {
                log.error(format_args!("accept failed: {e}"));
                thread::sleep(Duration::from_millis(100));
                continue;
            }
        };

        // 6. Process the connection: the listing only names its peer. getpeername() can fail if the
        //    client already reset the connection — again reported, not fatal.
        match client.peer_addr() {
            Ok(peer) => log.line(format_args!("Got connection from {}", py_addr(peer))),
            Err(e) => log.error(format_args!("a client left before we could name it: {e}")),
        }

        // 7. Close the connection: dropping the stream closes the socket; the client reads EOF.
        drop(client);
    }
    // ANCHOR_END: accept
}
