//! The peers a trace runs a lesson against: its partner lesson or `python3 -m http.server`, under
//! strace, and the scripted peers of the scenarios, on threads of the course tool.

use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::time::Duration;

use lesson_common::{Exit, fail, fail_with};

use super::traced::{Background, Traced};
use crate::pair;
use crate::python::interpreter_itself;

/// One connection or datagram to the listing's port, so a server listing shows its accept/recv.
pub(super) fn poke_listing_port(udp: bool) {
    let port = lesson_common::LISTING_PORT;
    if udp {
        if let Ok(socket) = UdpSocket::bind("127.0.0.1:0") {
            let _ = socket.set_read_timeout(Some(Duration::from_secs(1)));
            let _ = socket.send_to(b"hello", ("127.0.0.1", port));
            let _ = socket.recv(&mut [0u8; 64]);
        }
    } else if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) {
        pair::until_server_closes(stream, Duration::from_secs(1));
    }
}

/// A server lesson on 127.0.0.1 `port` (0: any free one) under strace; its port from its
/// `Listening on` line.
pub(super) fn start_server(
    name: &str,
    log: &Path,
    strace: bool,
    port: u16,
) -> Result<(Background, u16), Exit> {
    start_server_at(name, "127.0.0.1", log, strace, port)
}

/// [`start_server`] on `address` (the lab's server side: 192.0.2.2).
pub(super) fn start_server_at(
    name: &str,
    address: &str,
    log: &Path,
    strace: bool,
    port: u16,
) -> Result<(Background, u16), Exit> {
    let args = vec!["--bind".to_string(), address.into(), port.to_string()];
    let mut background = Traced::new(crate::workspace::binary(name)?, &args, log, strace)
        .start("")
        .map_err(|e| fail_with(format!("cannot start {name}"), e))?;
    let line = background.spawned.line(pair::STARTUP).map_err(|_| {
        // Its own words, where it said why (`error: cannot bind … Address already in use`).
        let said = background.spawned.err_line(Duration::from_millis(200));
        let said = said.map(|line| format!(": {line}")).unwrap_or_default();
        fail(format!("{name} did not say where it listens{said}"))
    })?;
    let port = line
        .strip_prefix("Listening on ")
        .and_then(pair::port_of_tuple);
    let Some(port) = port else {
        return Err(fail(format!("{name} printed {line:?}")));
    };
    background.taken.push(line);
    Ok((background, port))
}

/// `python3 -m http.server` on 127.0.0.1 `port` (0: any free one) under strace, serving the page's
/// hello.txt.
pub(super) fn start_http_server(
    dir: &Path,
    log: &Path,
    strace: bool,
    port: u16,
) -> Result<(Background, u16), Exit> {
    start_http_server_at(dir, "127.0.0.1", log, strace, port)
}

/// [`start_http_server`] on `address` (the lab's server side: 192.0.2.2).
pub(super) fn start_http_server_at(
    dir: &Path,
    address: &str,
    log: &Path,
    strace: bool,
    port: u16,
) -> Result<(Background, u16), Exit> {
    let site = dir.join("site");
    pair::write_site(&site)?;
    let mut python = interpreter_itself(&["python3".to_string()]);
    let program = python.remove(0);
    python.extend(pair::http_server_args_at(&site, address, port));
    let mut background = Traced::new(program, &python, log, strace)
        .start("")
        .map_err(|e| fail_with("cannot start python3 -m http.server", e))?;
    let line = background
        .spawned
        .line(pair::STARTUP)
        .map_err(|_| fail("python3 -m http.server did not say where it listens"))?;
    let port = pair::http_server_port(&line);
    let Some(port) = port else {
        return Err(fail(format!("python3 -m http.server printed {line:?}")));
    };
    background.taken.push(line);
    Ok((background, port))
}

/// How long the scripted server holds a connection before it closes or resets it: long enough for
/// the client's `connect` to have returned, well inside the one-second pause the trace gives it.
pub(super) const SCRIPTED_HOLD: Duration = Duration::from_millis(300);

/// A one-connection server on a thread of the course tool: it accepts, then closes (FIN) or resets
/// (RST) while the client pauses.
pub(super) fn scripted_tcp_peer(reset: bool) -> Result<u16, Exit> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| fail_with("cannot listen", e))?;
    let port = listener
        .local_addr()
        .map_err(|e| fail_with("cannot listen", e))?
        .port();
    std::thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            // Not at once: a reset that beats the end of the client's connect would fail the
            // connect itself (step 3), not the send after the pause that the experiment is about.
            std::thread::sleep(SCRIPTED_HOLD);
            if reset {
                let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
            }
            drop(stream);
        }
    });
    Ok(port)
}

/// A UDP port where nothing listens (bound, then closed).
pub(super) fn closed_udp_port() -> Result<u16, Exit> {
    let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| fail_with("cannot bind", e))?;
    socket
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| fail_with("cannot bind", e))
}

/// Send a 9000-byte datagram to the echo server; how many bytes came back.
pub(super) fn oversize_datagram(port: u16) -> usize {
    let Ok(socket) = UdpSocket::bind("127.0.0.1:0") else {
        return 0;
    };
    let _ = socket.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = socket.send_to(&[b'x'; 9000], ("127.0.0.1", port));
    let mut buf = vec![0u8; 65_536];
    socket.recv(&mut buf).unwrap_or(0)
}
