//! listener-reset, solved — exercise 1 (lesson tcp-listener): keep serving after a client resets.
//!
//! A copy of tcp-listener that also reads what each client sends, up to EOF, and answers with its
//! size. A client that resets its connection costs that client only: the server logs it and
//! serves the next.
//!
//! Run: `cargo run -p exercises --bin listener-reset-solution -- 0`
//! Try: `printf hello | nc -N 127.0.0.1 PORT` beside it; check it with
//!      `cargo course exercise listener-reset` (page: docs/exercises/listener-reset.md).

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use lesson_common::{Args, Exit, ServerLog, Transport, fail_with, py_addr, server_address};
use socket2::{Domain, Socket, Type};

const USAGE: &str = "[--bind ADDR] [PORT|SERVICE]";
const HELP: &str = "\
tcp-listener's server, which also reads each client's message up to EOF and answers
`Received N bytes`. Exercise 1 of the course: keep serving after a client resets.

Arguments:
  PORT|SERVICE    the port to listen on, 0 for any free port (default: 51423)

Options:
  --bind ADDR     the IP address to listen on (default: 127.0.0.1)
  -h, --help      print this help";

fn main() -> ExitCode {
    lesson_common::report(USAGE, HELP, run())
}

fn run() -> Result<(), Exit> {
    let address = server_address(Args::from_env()?, Transport::Tcp)?;

    // 1-4. Create, set SO_REUSEADDR, bind, listen: tcp-listener's four steps, unchanged.
    let socket = Socket::new(Domain::for_address(address), Type::STREAM, None)?;
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    if let Err(e) = socket.bind(&address.into()) {
        return Err(fail_with(format!("cannot bind {}", py_addr(address)), e));
    }
    socket.listen(5)?;
    let listener = TcpListener::from(socket);
    let mut log = ServerLog::new()?;
    // The checker reads the port from this line.
    log.line(format_args!(
        "Listening on {}",
        py_addr(listener.local_addr()?)
    ));
    log.line(format_args!("Waiting for connections..."));

    loop {
        // 5. Accept a connection; a failure is about one connection, not the server.
        let client = match listener.accept() {
            Ok((client, _)) => client,
            Err(e) => {
                log.error(format_args!("accept failed: {e}"));
                thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        match client.peer_addr() {
            Ok(peer) => log.line(format_args!("Got connection from {}", py_addr(peer))),
            Err(e) => log.error(format_args!("a client left before we could name it: {e}")),
        }

        // 6. Serve it: read its message, answer with the size. A client that reset its connection
        //    (or any other failure on this one socket) is that client's trouble: say so on stderr
        //    and go on to the next, as with a failed accept, and as the listing's try/except
        //    does (it prints the traceback). The exercise's `?` ended the server.
        match serve(client) {
            Ok(size) => log.line(format_args!("Received {size} bytes")),
            Err(e) => log.error(format_args!("a client's connection failed: {e}")),
        }
    }
}

/// Read the client's message up to EOF (a read of 0 bytes: it shut down its sending side), then
/// tell it how many bytes came. Dropping the stream at the end closes the connection.
fn serve(mut client: TcpStream) -> io::Result<usize> {
    let mut message = Vec::new();
    client.read_to_end(&mut message)?;
    client.write_all(format!("Received {} bytes\n", message.len()).as_bytes())?;
    Ok(message.len())
}
