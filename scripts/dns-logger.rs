//! dns-logger — the query logger behind `scripts/dns-guard`: a DNS server on 127.0.0.1:53 (UDP and
//! TCP) that answers every query REFUSED and writes down what was asked, one line per query, such
//! as `udp PTR 2.0.0.127.in-addr.arpa`.
//!
//! dns-guard runs it inside a test binary's private network namespace, whose resolv.conf names
//! 127.0.0.1, so every query the system resolver sends lands here, and none can leave the machine.
//! REFUSED rather than silence: the resolver gives up at once instead of waiting out its timeouts.
//!
//! Run (dns-guard does): `dns-logger LOG_FILE`. It prints `ready` once both sockets are bound, and
//! stops when its stdin closes, after answering every query already sent. Std only, so `rustc`
//! builds it alone with nothing to download; `crates/dns-validate/tests/dns-guard.rs` includes it
//! as a module, so the workspace's fmt, clippy and tests cover it too.

#![deny(clippy::unwrap_used, clippy::expect_used)] // the workspace rule; the test crate allows them

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::Duration;

/// RCODE 5, REFUSED: "this server will not answer you" (RFC 1035, 4.1.1).
const REFUSED: u8 = 5;

#[cfg_attr(test, allow(dead_code))]
fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: dns-logger LOG_FILE");
        return ExitCode::from(2);
    };
    let result = File::create(&path).and_then(|file| {
        let server = Server::bind(SocketAddr::from(([127, 0, 0, 1], 53)))?;
        // The guard waits for this line before it starts the program under test.
        println!("ready");
        io::stdout().flush()?;
        let log = Log::new(file);
        thread::scope(|scope| {
            scope.spawn(|| {
                // dns-guard closes our stdin once the program under test has exited.
                let _ = io::copy(&mut io::stdin(), &mut io::sink());
                if let Err(e) = server.stop() {
                    eprintln!("dns-logger: cannot stop: {e}");
                }
            });
            server.serve(&log)
        })
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dns-logger: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The question of a DNS query: the name asked and the record type, e.g. `PTR` and
/// `2.0.0.127.in-addr.arpa`, and where the question section ends (after QTYPE and QCLASS).
#[derive(Debug, PartialEq)]
pub struct Question {
    pub name: String,
    pub kind: String,
    pub end: usize,
}

/// The first question of `query` (a DNS message without TCP's length prefix), if it has one.
pub fn question(query: &[u8]) -> Option<Question> {
    let count = u16::from_be_bytes([*query.get(4)?, *query.get(5)?]);
    if count == 0 {
        return None;
    }
    let mut labels = Vec::new();
    let mut at = 12;
    loop {
        let len = usize::from(*query.get(at)?);
        at += 1;
        if len == 0 {
            break;
        }
        // A query's name is written out in full; a compression pointer (top bits set) is not.
        if len > 63 {
            return None;
        }
        let label = query.get(at..at + len)?;
        labels.push(String::from_utf8_lossy(label).into_owned());
        at += len;
    }
    let kind = u16::from_be_bytes([*query.get(at)?, *query.get(at + 1)?]);
    query.get(at + 2..at + 4)?;
    let name = if labels.is_empty() {
        ".".to_string()
    } else {
        labels.join(".")
    };
    Some(Question {
        name,
        kind: kind_name(kind),
        end: at + 4,
    })
}

/// A record type's mnemonic, or `TYPE<n>` (RFC 3597) for one not listed here.
fn kind_name(kind: u16) -> String {
    let known = match kind {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        12 => "PTR",
        15 => "MX",
        16 => "TXT",
        28 => "AAAA",
        33 => "SRV",
        64 => "SVCB",
        65 => "HTTPS",
        255 => "ANY",
        _ => return format!("TYPE{kind}"),
    };
    known.to_string()
}

/// The line logged for `query`: `PTR 2.0.0.127.in-addr.arpa`.
pub fn describe(query: &[u8]) -> String {
    match question(query) {
        Some(q) => format!("{} {}", q.kind, q.name),
        None => format!("unreadable query of {} bytes", query.len()),
    }
}

/// The REFUSED answer to `query`: its id, opcode and RD flag, QR set, and its question repeated
/// (a resolver drops an answer whose question is not its own). `None` for fewer than 12 bytes.
pub fn refused(query: &[u8]) -> Option<Vec<u8>> {
    let header = query.get(..12)?;
    let question = question(query);
    let mut answer = vec![
        header[0],
        header[1],
        0x80 | (header[2] & 0x79),
        REFUSED,
        0,
        u8::from(question.is_some()),
        0,
        0,
        0,
        0,
        0,
        0,
    ];
    if let Some(q) = question {
        answer.extend_from_slice(query.get(12..q.end)?);
    }
    Some(answer)
}

/// The log file, shared by the UDP and TCP sides. Each query is also shown on stderr as it comes,
/// so that with `--test-threads=1` it appears under the test that asked.
pub struct Log {
    file: Mutex<File>,
}

impl Log {
    pub fn new(file: File) -> Log {
        Log {
            file: Mutex::new(file),
        }
    }

    fn record(&self, transport: &str, query: &[u8]) -> io::Result<()> {
        let line = format!("{transport} {}", describe(query));
        eprintln!("dns-guard: DNS query: {line}");
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        writeln!(file, "{line}")?;
        file.flush()
    }
}

/// The two sockets of the server, bound, and what stops it.
pub struct Server {
    udp: UdpSocket,
    tcp: TcpListener,
    /// Sends the empty datagram that stops the UDP side: datagrams queue in order, so every query
    /// sent before it has been read when it arrives.
    waker: UdpSocket,
    stopping: AtomicBool,
}

impl Server {
    /// Bind `addr` for UDP and the same address for TCP (with port 0: the UDP socket's port).
    pub fn bind(addr: SocketAddr) -> io::Result<Server> {
        let udp = UdpSocket::bind(addr)?;
        let tcp = TcpListener::bind(udp.local_addr()?)?;
        let waker = UdpSocket::bind(SocketAddr::new(addr.ip(), 0))?;
        Ok(Server {
            udp,
            tcp,
            waker,
            stopping: AtomicBool::new(false),
        })
    }

    /// Where the server listens (its tests bind port 0).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.udp.local_addr()
    }

    /// Make [`Server::serve`] return once it has answered every query sent before this call.
    /// Blocking sockets, woken by a datagram and a connection of our own: no polling while idle.
    pub fn stop(&self) -> io::Result<()> {
        self.stopping.store(true, Ordering::SeqCst);
        let addr = self.udp.local_addr()?;
        self.waker.send_to(&[], addr)?;
        // Connections are accepted in order too; this one is read to its (immediate) end.
        TcpStream::connect(addr).map(drop)
    }

    /// Answer and log queries until [`Server::stop`], then those already waiting, and return.
    pub fn serve(&self, log: &Log) -> io::Result<()> {
        thread::scope(|scope| {
            let udp = scope.spawn(|| self.serve_udp(log));
            let tcp = self.serve_tcp(log);
            let udp = udp
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the UDP side panicked")));
            udp.and(tcp)
        })
    }

    fn serve_udp(&self, log: &Log) -> io::Result<()> {
        let waker = self.waker.local_addr()?;
        let mut buf = [0; 65_535];
        loop {
            let (n, from) = match self.udp.recv_from(&mut buf) {
                Ok(got) => got,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if from == waker {
                return Ok(());
            }
            log.record("udp", &buf[..n])?;
            if let Some(answer) = refused(&buf[..n]) {
                // The asker may be gone already; its query is logged all the same.
                let _ = self.udp.send_to(&answer, from);
            }
        }
    }

    fn serve_tcp(&self, log: &Log) -> io::Result<()> {
        loop {
            match self.tcp.accept() {
                Ok((stream, _)) => answer_tcp(stream, log)?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            if self.stopping.load(Ordering::SeqCst) {
                break;
            }
        }
        // Stopping: answer the connections already waiting (ours among them), then return.
        self.tcp.set_nonblocking(true)?;
        loop {
            match self.tcp.accept() {
                Ok((stream, _)) => answer_tcp(stream, log)?,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

/// One TCP connection: each query has a two-byte length in front (RFC 1035, 4.2.2). Read queries
/// until the asker closes or goes quiet for a second.
fn answer_tcp(mut stream: TcpStream, log: &Log) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(1)))?;
    loop {
        let mut len = [0; 2];
        if stream.read_exact(&mut len).is_err() {
            return Ok(());
        }
        let mut query = vec![0; usize::from(u16::from_be_bytes(len))];
        if stream.read_exact(&mut query).is_err() {
            // A cut-off query was still asked.
            return log.record("tcp", &query);
        }
        log.record("tcp", &query)?;
        let Some(answer) = refused(&query) else {
            return Ok(());
        };
        let Ok(len) = u16::try_from(answer.len()) else {
            return Ok(());
        };
        if stream.write_all(&len.to_be_bytes()).is_err() || stream.write_all(&answer).is_err() {
            return Ok(());
        }
    }
}
