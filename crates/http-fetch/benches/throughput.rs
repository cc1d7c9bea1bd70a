//! `cargo bench -p http-fetch`: how fast the lesson moves a large body from a loopback server to a
//! pipe, and how much memory it needs doing so, beside curl on the very same transfer.
//!
//! An in-process server answers every request with one fixed response (256 MiB, or 1 KiB for the
//! memory comparison). Each client runs as its own process with stdout on a pipe that this bench
//! drains and counts. Peak RSS comes from GNU time (`/usr/bin/time -f %M`), which reads the child's
//! `ru_maxrss` from wait4 when it exits: exact, and no sampling race, unlike polling VmHWM in /proc.
//! Timings are wall clock from spawn to exit, so they include process start-up (about 1 ms).

// A bench that cannot do its job should stop loudly with the reason: expect is the right tool.
#![allow(clippy::expect_used)]

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_http-fetch");
const MIB: u64 = 1024 * 1024;

fn main() {
    let time = Path::new("/usr/bin/time")
        .is_file()
        .then_some("/usr/bin/time");
    let curl = Path::new("/usr/bin/curl")
        .is_file()
        .then_some("/usr/bin/curl");
    if time.is_none() {
        println!("note: /usr/bin/time not found, so no peak RSS figures");
    }
    if curl.is_none() {
        println!("note: /usr/bin/curl not found, so no comparison with curl");
    }
    println!("body      client      runs  median ms  best MiB/s  median MiB/s  peak RSS KiB (max)");
    let sizes = [
        ("256 MiB", 256 * MIB, 5),
        ("1 KiB", 1024, 5),
        ("1 GiB", 1024 * MIB, 3),
    ];
    for (label, body, runs) in sizes {
        let port = serve(body);
        let url = format!("http://127.0.0.1:{port}/");
        let port = port.to_string();
        let fetch = ["--pause", "0", "127.0.0.1", &port, "/"].map(String::from);
        measure((label, body, runs), "http-fetch", time, BIN, &fetch);
        if let Some(curl) = curl {
            measure(
                (label, body, runs),
                "curl",
                time,
                curl,
                &["-sS".into(), url],
            );
        }
    }
}

/// Run `program args` `runs` times, each with stdout drained from a pipe; print one summary row.
fn measure(
    size: (&str, u64, usize),
    name: &str,
    time: Option<&str>,
    program: &str,
    args: &[String],
) {
    let (label, body, runs) = size;
    let (mut seconds, mut peak) = (Vec::new(), None::<u64>);
    for run in 0..runs {
        let rss_file =
            std::env::temp_dir().join(format!("http-bench-{}-{run}", std::process::id()));
        let mut command = match time {
            Some(time) => {
                let mut c = Command::new(time);
                c.args(["-f", "%M", "-o"]).arg(&rss_file).arg(program);
                c
            }
            None => Command::new(program),
        };
        let start = Instant::now();
        let mut child = command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        let mut out = child.stdout.take().expect("piped stdout");
        let (mut buf, mut seen) = (vec![0; 256 * 1024], 0u64);
        loop {
            match out.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => seen += n as u64,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => panic!("reading {name}'s output: {e}"),
            }
        }
        let status = child.wait().expect("wait");
        let secs = start.elapsed().as_secs_f64();
        assert!(
            status.success() && seen >= body,
            "{name} failed: {status}, {seen} bytes"
        );
        seconds.push(secs);
        if let Ok(text) = std::fs::read_to_string(&rss_file) {
            let kib = text.trim().lines().last().and_then(|l| l.parse().ok());
            peak = peak.max(kib);
            let _ = std::fs::remove_file(&rss_file);
        }
    }
    seconds.sort_by(f64::total_cmp);
    let rss = peak.map_or("n/a".to_string(), |kib| kib.to_string());
    let (best, median) = (seconds[0], seconds[runs / 2]);
    let rate = |secs: f64| body as f64 / MIB as f64 / secs;
    let (best, ms, median) = (rate(best), median * 1e3, rate(median));
    println!("{label:<9} {name:<11} {runs:>4}  {ms:>9.1}  {best:>10.1}  {median:>12.1}  {rss:>10}");
}

/// A loopback server on its own thread: each connection gets the head and `body` bytes, then EOF.
fn serve(body: u64) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local_addr").port();
    thread::spawn(move || {
        let chunk: Vec<u8> = (0..MIB).map(|i| (i % 251) as u8).collect();
        for stream in listener.incoming().flatten() {
            if let Err(e) = answer(stream, &chunk, body) {
                eprintln!("bench server: {e}");
            }
        }
    });
    port
}

fn answer(mut stream: TcpStream, chunk: &[u8], body: u64) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    // Read up to the blank line that ends the request (curl keeps its side open; http-fetch closes).
    let (mut request, mut buf) = (Vec::new(), [0; 4096]);
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf)? {
            0 => break,
            n => request.extend_from_slice(&buf[..n]),
        }
    }
    write!(
        stream,
        "HTTP/1.0 200 OK\r\nContent-Length: {body}\r\nConnection: close\r\n\r\n"
    )?;
    let mut left = body;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        stream.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    Ok(())
}
