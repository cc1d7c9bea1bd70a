//! `cargo bench -p udp-echo-server`: echoes per second through the real (release-built) server on
//! loopback, its log going to /dev/null. Two loads, 64-byte datagrams, every echo checked byte for
//! byte: a flood with 64 datagrams in flight, and ping-pong with one. Servers take turns, round
//! after round; each figure is the median of the rounds, with the lowest and highest beside it.
//! Ping-pong on two cores swings tenfold with where the scheduler puts the two processes (same core:
//! a direct hand-over; different cores: a wake-up each way), so compare servers by the flood, or run
//! everything on one core (`taskset -c 0`, the peers too) for steadier ping-pong figures.
//!
//! To compare with another echo server in the same run (say a C `recvfrom`/`sendto` loop), start it
//! on loopback and name it: `UDP_ECHO_BENCH_PEER=127.0.0.1:9001[,127.0.0.1:9002…] cargo bench -p
//! udp-echo-server`. Only loopback addresses are accepted.
// A bench that cannot run has nothing to report: panicking with the reason is the right outcome.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SIZE: usize = 64;
const FLOOD: u64 = 150_000;
const WINDOW: u64 = 64;
const PINGS: u64 = 30_000;
const ROUNDS: usize = 5;

/// The server under test; killed when dropped, so a failed bench leaves nothing running.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() {
    let peers: Vec<SocketAddr> = std::env::var("UDP_ECHO_BENCH_PEER")
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.trim()
                .parse()
                .unwrap_or_else(|_| panic!("UDP_ECHO_BENCH_PEER: bad '{s}'"))
        })
        .collect();
    if let Some(far) = peers.iter().find(|a| !a.ip().is_loopback()) {
        panic!("UDP_ECHO_BENCH_PEER: {far} is not a loopback address");
    }
    // The server's log goes to /dev/null, so we cannot read its banner: reserve a free port by
    // binding it, let go, hand it to the server, then wait until it answers.
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_udp-echo-server"))
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start udp-echo-server");
    let _server = Server(child);
    let ours: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut targets = vec![("udp-echo-server".to_string(), ours)];
    targets.extend(peers.iter().map(|&a| (format!("peer {a}"), a)));
    for (_, addr) in &targets {
        wait_until_up(*addr);
    }

    println!("64-byte datagrams over loopback, echoes per second, {ROUNDS} rounds");
    let mut floods = vec![Vec::new(); targets.len()];
    let mut pings = vec![Vec::new(); targets.len()];
    for round in 1..=ROUNDS {
        for (i, (name, addr)) in targets.iter().enumerate() {
            floods[i].push(run_load(*addr, FLOOD, WINDOW));
            pings[i].push(run_load(*addr, PINGS, 1));
            let (flood, ping) = (floods[i][round - 1], pings[i][round - 1]);
            println!("  round {round}: {name:<28} flood {flood:>9.0}   ping-pong {ping:>8.0}");
        }
    }
    println!("median [lowest, highest] of {ROUNDS} rounds, echoes per second:");
    let (ours_flood, ours_ping) = (median(&mut floods[0]).0, median(&mut pings[0]).0);
    for (i, (name, _)) in targets.iter().enumerate() {
        let ((flood, f_low, f_high), (ping, p_low, p_high)) =
            (median(&mut floods[i]), median(&mut pings[i]));
        println!("  {name:<28} flood {flood:>7.0} [{f_low:.0}, {f_high:.0}]");
        println!(
            "  {:<28} ping-pong {ping:>7.0} [{p_low:.0}, {p_high:.0}]",
            ""
        );
        if i > 0 {
            let (f, p) = (ours_flood / flood * 100.0, ours_ping / ping * 100.0);
            println!(
                "  {:<28} udp-echo-server = {f:.0}% (flood), {p:.0}% (ping-pong)",
                ""
            );
        }
    }
}

/// The median, lowest and highest figure.
fn median(figures: &mut [f64]) -> (f64, f64, f64) {
    figures.sort_by(f64::total_cmp);
    (
        figures[figures.len() / 2],
        figures[0],
        figures[figures.len() - 1],
    )
}

fn wait_until_up(addr: SocketAddr) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    for _ in 0..50 {
        socket.send_to(b"up?", addr).unwrap();
        if socket.recv_from(&mut [0u8; 16]).is_ok() {
            return;
        }
    }
    panic!("no echo from {addr} within 5 s");
}

/// The datagram for sequence number `seq`: the number, then bytes that depend on it.
fn payload(seq: u64) -> [u8; SIZE] {
    let mut p = [0u8; SIZE];
    p[..8].copy_from_slice(&seq.to_be_bytes());
    for (i, b) in p[8..].iter_mut().enumerate() {
        *b = (seq as u8).wrapping_mul(31).wrapping_add(i as u8);
    }
    p
}

/// Send `total` datagrams keeping `window` in flight; return echoes per second. Loopback keeps
/// order, so echoes must come back in sequence; a lost one (a full socket buffer) is skipped over
/// and counted, and a corrupt one stops the bench.
fn run_load(addr: SocketAddr, total: u64, window: u64) -> f64 {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(addr).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let (mut sent, mut next, mut echoed, mut lost) = (0u64, 0u64, 0u64, 0u64);
    let mut buf = [0u8; 2 * SIZE];
    let start = Instant::now();
    while next < total {
        while sent < total && sent - next < window {
            socket.send(&payload(sent)).unwrap();
            sent += 1;
        }
        match socket.recv(&mut buf) {
            Ok(n) => {
                let got = &buf[..n];
                let seq = u64::from_be_bytes(got[..8.min(n)].try_into().unwrap_or([0xff; 8]));
                assert!(
                    n == SIZE && got == payload(seq) && seq < sent,
                    "corrupt echo: {got:?}"
                );
                if seq >= next {
                    lost += seq - next;
                    next = seq + 1;
                    echoed += 1;
                } // else a straggler we had already given up on
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {} // stopped and resumed: wait again
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                lost += sent - next; // everything in flight is gone; start a fresh window
                next = sent;
            }
            Err(e) => panic!("recv from {addr}: {e}"),
        }
    }
    let rate = echoed as f64 / start.elapsed().as_secs_f64();
    if lost > 0 {
        println!("    ({addr}: {lost} of {total} datagrams lost)");
    }
    rate
}
