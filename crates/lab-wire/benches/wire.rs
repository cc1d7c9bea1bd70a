//! `cargo bench -p lab-wire --bench wire`: what the lab's wire costs a packet, measured through
//! the real wire between its two namespaces, with no impairment (`loss=0%`). Issue 18's targets:
//! at most 1 ms added per packet, at least 20,000 packets/s on the project's 2-core machine.
//!
//! Which build it measures: `cargo bench` builds the wire with the bench profile (optimized, the
//! release build); `cargo test -p lab-wire --bench wire` runs the same program with the wire
//! built by the dev profile, `target/debug/lab-wire`, which is the one `cargo course lab` runs.
//! The figures say which build they are of; the targets hold for the dev build too.
//!
//! Method, printed with the figures:
//! - **Added latency**: UDP ping-pong, one datagram in flight, 5,000 round trips of 64 bytes
//!   between 192.0.2.1 and 192.0.2.2 across the wire. Each round trip crosses the wire twice, so
//!   half of it bounds what the wire adds to one packet from above: the bound counts the sockets,
//!   the TUN devices and the scheduler too. The same ping-pong on the client side's own loopback
//!   (no wire) is printed beside it, for scale; the difference of two such noisy figures is not a
//!   measurement, so the bound is what is held to the target.
//! - **Throughput**: 200,000 datagrams of 64 bytes from client to server, at most 256 in flight
//!   (the server acknowledges every 64th received), so neither socket buffer should overflow;
//!   then an end marker, which the server answers with its count. Packets per second through the
//!   wire = datagrams received / elapsed. UDP may still lose one (a full device queue on a busy
//!   machine): a loss is counted and reported, not a failure.
//!
//! It runs itself again inside a user and network namespace (`unshare -rnpf`), as the lab does;
//! where that or /dev/net/tun is missing it says so and measures nothing.

use std::process::ExitCode;

fn main() -> ExitCode {
    #[cfg(target_os = "linux")]
    {
        linux::main()
    }
    #[cfg(not(target_os = "linux"))]
    {
        println!("wire bench: skipped: the lab's wire needs Linux");
        ExitCode::SUCCESS
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::fs::File;
    use std::io::{BufRead, BufReader, Write as _};
    use std::net::UdpSocket;
    use std::process::{Command, ExitCode, Stdio};
    use std::time::{Duration, Instant};

    const INSIDE: &str = "LAB_WIRE_BENCH_INSIDE";
    const ROUND_TRIPS: usize = 5_000;
    const DATAGRAMS: u32 = 200_000;
    const IN_FLIGHT: u32 = 256;
    const ACK_EVERY: u32 = 64;
    /// The flood's end marker (its datagrams are 64 bytes of 9), and the first byte of the
    /// server's answer to it: its count.
    const END: u8 = 0xff;

    pub fn main() -> ExitCode {
        if std::env::var_os(INSIDE).is_none() {
            let Ok(me) = std::env::current_exe() else {
                println!("wire bench: cannot find its own program");
                return ExitCode::FAILURE;
            };
            let status = Command::new("unshare")
                .args(["-rnpf", "--kill-child", "--"])
                .arg(me)
                .env(INSIDE, "1")
                .status();
            return match status {
                Ok(s) if s.success() => ExitCode::SUCCESS,
                Ok(_) => ExitCode::FAILURE,
                Err(e) => {
                    println!("wire bench: skipped: cannot run unshare ({e})");
                    ExitCode::SUCCESS
                }
            };
        }
        match inside() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                println!("wire bench: {e}");
                ExitCode::FAILURE
            }
        }
    }

    fn inside() -> Result<(), String> {
        fn say(what: &str) -> impl Fn(std::io::Error) -> String + '_ {
            move |e| format!("{what}: {e}")
        }
        // Loopback first, for the baseline.
        let _ = Command::new("ip")
            .args(["link", "set", "lo", "up"])
            .status();
        let mut wire = Command::new(env!("CARGO_BIN_EXE_lab-wire"))
            .args(["loss=0%", "1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(say("cannot start the wire"))?;
        let mut lines = BufReader::new(wire.stdout.take().ok_or("no stdout")?).lines();
        let server_ns = loop {
            let line = lines
                .next()
                .ok_or("the wire ended before it was ready")?
                .map_err(say("reading the wire"))?;
            if let Some(rest) = line.strip_prefix("ready ") {
                break rest.split(' ').nth(1).ok_or("bad ready line")?.to_string();
            }
        };
        let server_ns = File::open(&server_ns).map_err(say("open the server's namespace"))?;

        // The server side: an echo for the ping-pong, and a counter for the flood, each on a
        // thread moved into the server's namespace before it binds.
        let on_server = |port: u16| {
            nix::sched::setns(&server_ns, nix::sched::CloneFlags::CLONE_NEWNET)
                .map_err(|e| format!("setns: {e}"))?;
            UdpSocket::bind(("192.0.2.2", port)).map_err(|e| format!("bind: {e}"))
        };
        let (through, baseline, rate) = std::thread::scope(|scope| -> Result<_, String> {
            let echoing = scope.spawn(|| -> Result<(), String> {
                let socket = on_server(7)?;
                echo(&socket, ROUND_TRIPS)
            });
            let sink = scope.spawn(|| -> Result<(), String> {
                let socket = on_server(9)?;
                sink(&socket)
            });
            std::thread::sleep(Duration::from_millis(200));
            let through = ping_pong("192.0.2.2:7")?;
            let rate = flood("192.0.2.2:9")?;
            let _ = echoing.join();
            let _ = sink.join();
            // The baseline: the same ping-pong on the client side's own loopback.
            let local = UdpSocket::bind("127.0.0.1:0").map_err(say("bind"))?;
            let at = local.local_addr().map_err(say("addr"))?;
            let echoing = scope.spawn(move || echo(&local, ROUND_TRIPS));
            let baseline = ping_pong(&at.to_string())?;
            let _ = echoing.join();
            Ok((through, baseline, rate))
        })?;
        let build = if cfg!(debug_assertions) {
            "the dev build, target/debug/lab-wire, which the lab runs"
        } else {
            "the release build (cargo bench); `cargo test -p lab-wire --bench wire` measures the \
             dev build the lab runs"
        };
        println!(
            "wire bench (lab-wire: {build}; loss=0%, 64-byte UDP datagrams, {} round trips; {} \
             datagrams with at most {} in flight):",
            ROUND_TRIPS, DATAGRAMS, IN_FLIGHT
        );
        println!(
            "  round trip across the wire: median {:?}, p99 {:?}; on loopback: median {:?}, p99 {:?}",
            through.0, through.1, baseline.0, baseline.1
        );
        println!(
            "  the wire adds at most half a round trip per packet: median {:?}, p99 {:?} (target: \
             at most 1 ms)",
            through.0 / 2,
            through.1 / 2
        );
        let (rate, received) = rate;
        println!(
            "  throughput client → server: {rate:.0} packets/s (target: at least 20,000); {} of \
             {DATAGRAMS} datagrams lost on the way",
            DATAGRAMS - received.min(DATAGRAMS)
        );
        if let Some(mut stdin) = wire.stdin.take() {
            let _ = stdin.flush();
        }
        let _ = wire.kill();
        let _ = wire.wait();
        Ok(())
    }

    fn echo(socket: &UdpSocket, count: usize) -> Result<(), String> {
        let mut buffer = [0u8; 2048];
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        for _ in 0..count {
            let (n, from) = socket.recv_from(&mut buffer).map_err(|e| e.to_string())?;
            socket
                .send_to(&buffer[..n], from)
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Median and 99th percentile of the round trips to `to`.
    fn ping_pong(to: &str) -> Result<(Duration, Duration), String> {
        let socket = UdpSocket::bind(if to.starts_with("127.") {
            "127.0.0.1:0"
        } else {
            "192.0.2.1:0"
        })
        .map_err(|e| e.to_string())?;
        socket.connect(to).map_err(|e| e.to_string())?;
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        let mut times = Vec::with_capacity(ROUND_TRIPS);
        let mut buffer = [0u8; 2048];
        for _ in 0..ROUND_TRIPS {
            let sent = Instant::now();
            socket.send(&[7u8; 64]).map_err(|e| e.to_string())?;
            socket.recv(&mut buffer).map_err(|e| e.to_string())?;
            times.push(sent.elapsed());
        }
        times.sort();
        Ok((times[times.len() / 2], times[times.len() * 99 / 100]))
    }

    /// Count the flood's datagrams, acknowledging every 64th received, until its end marker,
    /// answered with the count (again for each marker: the answer may be lost too).
    fn sink(socket: &UdpSocket) -> Result<(), String> {
        let mut buffer = [0u8; 2048];
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        let mut got = 0u32;
        let mut ended = false;
        loop {
            let (n, from) = match socket.recv_from(&mut buffer) {
                Ok(received) => received,
                // Quiet for a while after the marker: the count got through.
                Err(_) if ended => return Ok(()),
                Err(e) => return Err(e.to_string()),
            };
            if n == 1 && buffer[0] == END {
                let mut answer = [END; 5];
                answer[1..].copy_from_slice(&got.to_be_bytes());
                socket.send_to(&answer, from).map_err(|e| e.to_string())?;
                ended = true;
                socket
                    .set_read_timeout(Some(Duration::from_millis(500)))
                    .map_err(|e| e.to_string())?;
                continue;
            }
            got += 1;
            if got % ACK_EVERY == 0 {
                socket
                    .send_to(&got.to_be_bytes(), from)
                    .map_err(|e| e.to_string())?;
            }
        }
    }

    /// Datagrams per second from the client side to `to`, received (as the server counted them
    /// at the end), and how many it received.
    fn flood(to: &str) -> Result<(f64, u32), String> {
        let socket = UdpSocket::bind("192.0.2.1:0").map_err(|e| e.to_string())?;
        socket.connect(to).map_err(|e| e.to_string())?;
        socket
            .set_read_timeout(Some(Duration::from_secs(1)))
            .map_err(|e| e.to_string())?;
        let began = Instant::now();
        let (mut sent, mut acked) = (0u32, 0u32);
        let mut buffer = [0u8; 16];
        while sent < DATAGRAMS {
            while sent < DATAGRAMS && sent - acked < IN_FLIGHT {
                socket.send(&[9u8; 64]).map_err(|e| e.to_string())?;
                sent += 1;
            }
            // A lost datagram leaves `acked` behind `sent` for good; a lost acknowledgement or
            // several may stall the window: then send the rest without waiting.
            match socket.recv(&mut buffer) {
                Ok(4) => {
                    let count = u32::from_be_bytes([buffer[0], buffer[1], buffer[2], buffer[3]]);
                    acked = acked.max(count);
                }
                Ok(_) => {}
                Err(_) => acked = sent,
            }
        }
        // The end: the marker, until the server's count comes back (bounded).
        for _ in 0..20 {
            socket.send(&[END]).map_err(|e| e.to_string())?;
            loop {
                match socket.recv(&mut buffer) {
                    Ok(5) if buffer[0] == END => {
                        let received =
                            u32::from_be_bytes([buffer[1], buffer[2], buffer[3], buffer[4]]);
                        let rate = f64::from(received) / began.elapsed().as_secs_f64();
                        return Ok((rate, received));
                    }
                    // An acknowledgement still on its way.
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        }
        Err("the server never answered the flood's end marker".to_string())
    }
}
