//! tcp-listener — a TCP server built in the four classic steps, then an accept loop that logs
//! each client's address and closes the connection.
//!
//! Ports the chapter 3 server: create the socket, set SO_REUSEADDR, bind, listen(5), accept forever.
//! Deviation: it binds 127.0.0.1 by default, where the listing's `host = ''` binds every interface;
//! a lesson should not open a port to your network. `--bind 0.0.0.0` (or `--bind ::`) restores that.
//!
//! Run: `cargo run -p tcp-listener` (port 51423, as the listing; `0` picks any free port)
//! Try: `cargo run -p socket-info -- 127.0.0.1 51423` or `nc 127.0.0.1 51423` in another terminal.

use lesson_common::{Args, Exit, Transport, fail, parse_port, py_addr, usage};
use socket2::{Domain, Socket, Type};
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

const USAGE: &str = "[--bind ADDR] [PORT]   (default: --bind 127.0.0.1, port 51423)";
/// What `--help` prints below the usage line.
const HELP: &str = "TODO";

fn main() -> ExitCode {
    lesson_common::report(USAGE, HELP, run())
}

fn run() -> Result<(), Exit> {
    let mut args = Args::from_env()?;
    let host = args.option("--bind")?.unwrap_or_else(|| "127.0.0.1".into());
    let rest = args.positional(1)?;
    let ip: IpAddr = host
        .parse()
        .map_err(|_| usage(format!("--bind '{host}' is not an IP address")))?;
    let port = rest
        .first()
        .map_or(Ok(51423), |p| parse_port(p, Transport::Tcp))?;
    let address = SocketAddr::new(ip, port);

    // std's `TcpListener::bind` would do all four steps in one call — and hide steps 2 and 4 (it
    // sets SO_REUSEADDR itself and picks its own backlog). socket2 lets each step stand on its own.
    // 1. Create the socket: a TCP (stream) socket of the bind address's family.
    let socket = Socket::new(Domain::for_address(address), Type::STREAM, None)?;

    // 2. Set options. SO_REUSEADDR lets a restarted server bind its port while the previous run's
    //    connections still sit in TIME_WAIT. Unix only: on Windows the same flag lets another socket
    //    take over a port that is in use, so there we leave it off.
    #[cfg(unix)]
    socket.set_reuse_address(true)?;

    // 3. Bind to the port. This is where "Address already in use" shows up.
    socket
        .bind(&address.into())
        .map_err(|e| fail(format!("cannot bind {}: {e}", py_addr(address))))?;

    // 4. Listen. The 5 is the backlog: how many finished handshakes may wait for accept().
    socket.listen(5)?;

    // From here on the std type does the safe, idiomatic I/O.
    let listener = TcpListener::from(socket);
    // The log goes to stdout. A line that cannot be written (stdout closed, `| head -1`) is reported
    // on stderr and the server goes on, as the listing's `except: traceback.print_exc()` would.
    let mut out = io::stdout().lock();
    let mut log = |line: std::fmt::Arguments| {
        if let Err(e) = writeln!(out, "{line}") {
            eprintln!("error: cannot write the log: {e}");
        }
    };
    // Not in the listing: with port 0 the kernel picks the port, so say which one (tests read this).
    log(format_args!(
        "Listening on {}",
        py_addr(listener.local_addr()?)
    ));
    log(format_args!("Waiting for connections..."));

    loop {
        // 5. Accept a connection. A failure here (out of file descriptors, a client that gave up
        //    before we got to it) is about one connection, not the server: log it and go on, as the
        //    listing's `traceback.print_exc(); continue`. The pause keeps a persistent failure such
        //    as EMFILE from spinning the CPU.
        let client = match listener.accept() {
            Ok((client, _)) => client,
            Err(e) => {
                eprintln!("error: accept failed: {e}");
                thread::sleep(Duration::from_millis(100));
                continue;
            }
        };

        // 6. Process the connection: the listing only names its peer. getpeername() can fail if the
        //    client already reset the connection — again logged, not fatal.
        match client.peer_addr() {
            Ok(peer) => log(format_args!("Got connection from {}", py_addr(peer))),
            Err(e) => eprintln!("error: a client left before we could name it: {e}"),
        }

        // 7. Close the connection: dropping the stream closes the socket; the client reads EOF.
        drop(client);
    }
}
