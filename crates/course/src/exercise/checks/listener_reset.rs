//! Exercise 1, listener-reset: a client that resets its connection must not end the server.
//! The checker connects and resets (SO_LINGER 0, then close), then asks as a normal client.

use std::io::{self, Read};
use std::net::TcpListener;
use std::time::Duration;

use crate::exercise::conversation::{Conversation, Failure, PROBE_FAILED, connect};
use crate::exercise::table::{Exercise, Needs};

pub const EXERCISE: Exercise = Exercise {
    name: "listener-reset",
    lesson: "tcp-listener",
    title: "keep serving after a client resets its connection",
    needs: Needs::Loopback,
    question: "a client connects and closes at once with a reset (SO_LINGER 0). What does the \
               server's read on that connection return: 0 bytes, as at a normal close, or an \
               error? And with the program as shipped, is the next client served?",
    hint: "The `?` after `serve(client)` hands the client's error to run(), and run() returning \
           ends the program. Handle the Result where it comes, as step 5 does for a failed accept: \
           `match serve(client) { Ok(size) => log.line(…), Err(e) => log.error(…) }`. Say the \
           error (log.error writes an `error: …` line on stderr): swallowing it, as \
           `unwrap_or(0)` would, fails the check.",
    seeded: true,
    check,
};

/// How long the normal client waits for its answer.
const WAIT: Duration = Duration::from_secs(3);

fn check(c: &mut Conversation) -> Result<(), Failure> {
    c.answer(probe());
    let port = c.start_server(&["--bind", "127.0.0.1", "0"])?;
    c.step(format!(
        "connect to 127.0.0.1:{port}, then close at once with a reset (SO_LINGER 0, then close)"
    ));
    c.command(format!(
        "python3 -c \"import socket, struct; s = socket.create_connection(('127.0.0.1', {port})); \
         s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); s.close()\""
    ));
    let stream = connect(port)?;
    reset(stream);
    let size = c.random(1, 3000) as usize;
    let reply = format!("Received {size} bytes\n");
    c.exchange(port, &vec![b'x'; size], reply.as_bytes(), WAIT)?;
    // Served on is half of it: the reset client's failure must be said, not swallowed (a
    // `serve(client).unwrap_or(0)` would serve on in silence, and log `Received 0 bytes`).
    c.step(
        "read your server's log: no `Received 0 bytes` for the reset client, and its failure \
         said on an `error: …` line on stderr",
    );
    // Its stdout up to the normal client's line: a swallowed error shows as 0 bytes received.
    let served = format!("Received {size} bytes");
    let mut swallowed = false;
    while let Some(line) = c.server_output_line(Duration::from_secs(1)) {
        swallowed |= line == "Received 0 bytes";
        if line == served {
            break;
        }
    }
    if swallowed {
        return Err(Failure::Expected {
            expected: "the reset connection's error said on stderr, not its size".into(),
            got: "`Received 0 bytes` on stdout: the error was swallowed (as `unwrap_or(0)` \
                  does), and a reset reads as an empty message"
                .into(),
        });
    }
    let said = (0..20).find_map(|_| {
        c.server_error_line(Duration::from_millis(100))
            .filter(|line| line.starts_with("error: "))
    });
    match said {
        Some(line) => {
            c.note(format!("it said: {line}"));
            Ok(())
        }
        None => Err(Failure::Expected {
            expected: "an `error: …` line on stderr for the connection its client reset (the \
                       server logs it, and serves on)"
                .into(),
            got: "no `error:` line on stderr within 2 s: the failure was swallowed".into(),
        }),
    }
}

/// Close with a reset: SO_LINGER on with a time of 0 makes close() send RST, not FIN.
fn reset(stream: std::net::TcpStream) {
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    drop(stream);
}

/// The true answer, from a run of the checker's own: a listener, a client that resets, and the
/// server side's read.
fn probe() -> String {
    let outcome = (|| -> io::Result<io::Result<usize>> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let client = std::net::TcpStream::connect(listener.local_addr()?)?;
        let (mut server, _) = listener.accept()?;
        reset(client);
        server.set_read_timeout(Some(Duration::from_secs(2)))?;
        Ok(server.read(&mut [0u8; 16]))
    })();
    match outcome {
        Ok(Err(e)) => format!(
            "here a read on a connection its client reset fails with an error: \"{e}\" \
             ({:?}), where a normal close reads 0 bytes. In a program that passes that error up \
             with `?`, it ends the server; the steps above show what yours did.",
            e.kind()
        ),
        Ok(Ok(n)) => format!(
            "here the read returned {n} bytes (no error: this system reports a reset as a close)"
        ),
        Err(e) => format!("{PROBE_FAILED} {e})"),
    }
}
