//! echo-no-storm, solved — exercise 8 (lesson udp-echo-server): never echo to a privileged
//! source port.
//!
//! udp-echo-server's loop: every datagram goes back to its sender, except one from a port below
//! 1024, where another echo service (or chargen, daytime, qotd) may sit: two such services would bounce
//! one datagram between them for ever. That one is logged, not echoed.
//!
//! Run: `cargo run -p exercises --bin echo-no-storm-solution -- 0`
//! Try: `echo hello | nc -u -w1 127.0.0.1 PORT` beside it; check it with
//!      `cargo course exercise echo-no-storm` (page: docs/exercises/echo-no-storm.md).

use std::io::{ErrorKind, Write};
use std::net::UdpSocket;
use std::process::ExitCode;

use lesson_common::{Args, Exit, ServerLog, Transport, fail_with, py_addr, server_address};
use socket2::{Domain, Socket, Type};

const USAGE: &str = "[--bind ADDR] [PORT|SERVICE]";
const HELP: &str = "\
A UDP echo server: every datagram goes straight back to its sender, and the sender is logged.
udp-echo-server's loop. Exercise 8 of the course: never echo to a privileged source port.

Arguments:
  PORT|SERVICE    the port to listen on, 0 for any free port, or a udp service name (default: 51423)

Options:
  --bind ADDR     the IP address to listen on, 0.0.0.0 or :: for every interface
                  (default: 127.0.0.1)
  -h, --help      print this help

Example:
  cargo run -p exercises --bin echo-no-storm-solution -- 0    (then send it a line with nc -u)";
/// The listing's `recvfrom(8192)`: the most we echo back.
const ECHO_LIMIT: usize = 8192;
/// Source ports below this belong to services (echo, chargen, daytime, qotd…) that could answer us back.
const PRIVILEGED: u16 = 1024;

fn main() -> ExitCode {
    lesson_common::report(USAGE, HELP, run())
}

fn run() -> Result<(), Exit> {
    // Deviation: 127.0.0.1 unless `--bind` says otherwise, where the listing's `host = ''` binds
    // every interface; `--bind 0.0.0.0` (or `::`) restores it. The port: the listing's 51423.
    let addr = server_address(Args::from_env()?, Transport::Udp)?;

    // ANCHOR: setup
    // 1. Create a datagram socket. socket2 gives us the bare socket, as Python's socket.socket()
    //    does, so we can set an option before binding; the family follows the address.
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, None)?;
    // 2. SO_REUSEADDR, set by hand as the listing does. Unix only: on Windows the same flag lets
    //    another program bind a port that is already in use and steal its datagrams.
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    // 3. Bind. No listen() or accept(): UDP has no connections, every datagram carries its sender.
    if let Err(e) = socket.bind(&addr.into()) {
        return Err(fail_with(format!("cannot bind {}", py_addr(addr)), e));
    }
    // ANCHOR_END: setup
    // From here on std's UdpSocket: socket2's recv_from fills `MaybeUninit` bytes, which needs
    // unsafe code to read; std's takes a plain `&mut [u8]`.
    let socket = UdpSocket::from(socket);
    // The log and the error lines go through lesson-common's ServerLog: a stdout nobody reads
    // costs log lines (counted), never echoes, and a lasting error is not said for every datagram.
    let mut log = ServerLog::new()?;
    // Deviation: the listing prints nothing here; we announce the address (port 0 picks a free
    // one).
    log.line(format_args!(
        "Listening on {}",
        py_addr(socket.local_addr()?)
    ));

    // Buffers made once and reused: the loop allocates nothing per datagram. `buf` holds any
    // datagram (65,507 bytes is the IPv4 maximum), because std's recv_from would cut a longer one
    // silently to the buffer's size, the very thing the listing's recvfrom(8192) does unseen.
    let mut buf = vec![0u8; 65536];
    let mut line: Vec<u8> = Vec::with_capacity(256);
    // ANCHOR: loop
    // 4. Serve forever; one bad datagram must not stop the server (the listing's bare `except:`).
    loop {
        let (size, peer) = match socket.recv_from(&mut buf) {
            Ok(got) => got,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue, // a signal, not an error
            // e.g. Windows reports an earlier echo's ICMP "port unreachable" here; Linux does not
            // on an unconnected socket. Either way: say so and keep serving.
            Err(e) => {
                log.error(format_args!("recvfrom failed: {e}; still listening"));
                continue;
            }
        };
        // 5. Log the sender, as `print "Got data from", address`. `py_addr` formats straight into
        //    the reused `line` (no String per datagram), and the whole line goes out in one write.
        line.clear();
        write!(line, "Got data from {}", py_addr(peer))?;
        let echo = size.min(ECHO_LIMIT);
        // Deviation: the listing drops bytes past 8192 without a word; we say how many arrived.
        if size > ECHO_LIMIT {
            write!(
                line,
                " (truncated: {size} bytes, echoing the first {ECHO_LIMIT})"
            )?;
        }
        // Deviation: never answer a privileged port, where another echo (or chargen, daytime, qotd)
        // service may sit; two such services would bounce one datagram between them forever.
        let answer = peer.port() >= PRIVILEGED;
        if !answer {
            write!(line, " (not echoed: source port below {PRIVILEGED})")?;
        }
        line.push(b'\n');
        log.bytes(&line);

        // 6. Echo it back: `&buf[..echo]`, never the whole buffer. A datagram goes out whole or not
        //    at all, so there is no partial send to finish (and no `write_all`). A zero-length
        //    datagram is echoed too: that empty reply is how udp-client knows we are done.
        if answer {
            if let Err(e) = socket.send_to(&buf[..echo], peer) {
                log.error(format_args!(
                    "sendto {} failed: {e}; still listening",
                    py_addr(peer)
                ));
            }
        }
    }
    // ANCHOR_END: loop
}
