//! Exercise 2, listener-idle: one client that connects and says nothing must not block the next.
//! The checker connects and stays silent, then asks as a normal client, and times the answer.

use std::time::Duration;

use crate::exercise::conversation::{Conversation, Failure, connect, seconds};
use crate::exercise::table::{Exercise, Needs};

pub const EXERCISE: Exercise = Exercise {
    name: "listener-idle",
    lesson: "tcp-listener",
    title: "one idle client must not block the next (a timeout per connection)",
    needs: Needs::Loopback,
    question: "one client connects and sends nothing, and keeps the connection open. A second \
               client then sends its message. How long does the second one wait for its answer?",
    hint: "TcpStream::set_read_timeout(Some(IDLE_LIMIT)) on each accepted connection, before \
           read_to_end: a read that waits longer fails (WouldBlock on Unix), serve returns the \
           error, and run() logs it and accepts the next client.",
    seeded: true,
    check,
};

/// How long the normal client waits for its answer.
const WAIT: Duration = Duration::from_secs(3);

fn check(c: &mut Conversation) -> Result<(), Failure> {
    let port = c.start_server(&["--bind", "127.0.0.1", "0"])?;
    c.step(format!(
        "connect to 127.0.0.1:{port} and send nothing, keeping the connection open"
    ));
    c.command(format!("nc 127.0.0.1 {port}     # and type nothing"));
    let _idle = connect(port)?;
    let size = c.random(1, 3000) as usize;
    let reply = format!("Received {size} bytes\n");
    c.answer(format!(
        "as shipped, for ever: the server is stuck reading the idle client, and the second \
         one's answer never comes (the checker gives up after {}).",
        seconds(WAIT)
    ));
    let took = c.exchange(port, &vec![b'x'; size], reply.as_bytes(), WAIT)?;
    c.answer(format!(
        "your server answered the second client after {}: about the idle client's timeout, \
         since it serves one client at a time.",
        seconds(took)
    ));
    Ok(())
}
