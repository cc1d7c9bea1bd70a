//! listener-idle — exercise 2 (lesson tcp-listener): one idle client must not block the next.
//!
//! Exercise 1's server, solved: it reads each client's message up to EOF, answers with its size,
//! and survives a reset. But it serves one client at a time, and waits for each as long as the
//! client likes: one that connects and says nothing holds up everyone after it. Find the TODO.
//!
//! Run: `cargo run -p exercises --bin listener-idle -- 0`
//! Try: `nc 127.0.0.1 PORT` (type nothing) beside it, then `printf hi | nc -N 127.0.0.1 PORT` in
//!      a third terminal; check it with `cargo course exercise listener-idle`
//!      (page: docs/exercises/listener-idle.md).

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use lesson_common::{Args, Exit, ServerLog, Transport, fail_with, py_addr, server_address};
use socket2::{Domain, Socket, Type};

/// How long one client may keep the server waiting between two reads.
#[allow(dead_code)] // TODO: used once the exercise is done
const IDLE_LIMIT: Duration = Duration::from_secs(1);

const USAGE: &str = "[--bind ADDR] [PORT|SERVICE]";
const HELP: &str = "\
tcp-listener's server, which also reads each client's message up to EOF and answers
`Received N bytes`. Exercise 2 of the course: one idle client must not block the next.

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
        //    and go on to the next, as with a failed accept. The listing's `?` ended the server.
        match serve(client) {
            Ok(size) => log.line(format_args!("Received {size} bytes")),
            Err(e) => log.error(format_args!("a client's connection failed: {e}")),
        }
    }
}

/// Read the client's message up to EOF (a read of 0 bytes: it shut down its sending side), then
/// tell it how many bytes came. Dropping the stream at the end closes the connection.
fn serve(mut client: TcpStream) -> io::Result<usize> {
    // TODO: `read_to_end` waits for as long as the client keeps the connection open and silent:
    //       one idle client blocks the accept loop, and so every client after it. Give each
    //       connection a read timeout (IDLE_LIMIT), so that an idle client costs at most that.
    let mut message = Vec::new();
    client.read_to_end(&mut message)?;
    client.write_all(format!("Received {} bytes\n", message.len()).as_bytes())?;
    Ok(message.len())
}
