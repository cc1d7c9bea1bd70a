//! `cargo bench -p course --bench link`: how many packets per second the lab link's decisions
//! (`course::link`, issue 18) get through, with no impairment and with typical profiles.
//!
//! The issue asks the whole wire to add at most 1 ms per packet and to forward at least 20,000
//! packets/s on a 2-core machine, so each packet may cost the wire up to 50 µs; the decisions
//! should be a small part of that, leaving the rest to reading and writing the TUN devices.
//!
//! Method: one thread hands 1,000,000 IPv4 packets of 1,200 bytes to one [`Link`], alternating
//! the two directions, with a made-up clock that advances 50 µs a packet (20,000 packets/s, so
//! that delays, jitter and the reorder hold see realistic times), ticking a direction whenever it
//! has a held packet due, as the wire will. Each packet's buffer is taken back from its verdict
//! and reused for a later packet, as the wire will reuse its read buffers, so what is timed is the
//! decisions (numbering, the stack of layers, the counters), not the allocator. Wall time by
//! `Instant` over the whole run; five runs per spec after one warm-up run; the median and the best
//! are printed. No device, socket or sleep is involved: the figures are the decisions' cost alone.

use std::hint::black_box;
use std::time::{Duration, Instant};

use course::link::{Direction, Link, Spec, Verdict};

const PACKETS: u64 = 1_000_000;
const RUNS: usize = 5;
const SIZE: usize = 1200;
/// The clock's step per packet: 20,000 packets/s, the floor.
const STEP: Duration = Duration::from_micros(50);

fn main() {
    let specs: [(&str, Option<&str>); 6] = [
        ("no impairment", None),
        ("wifi", Some("wifi")),
        ("mobile", Some("mobile")),
        ("satellite", Some("satellite")),
        ("lossy", Some("lossy")),
        (
            "every layer",
            Some(
                "dead-after=100000000,mtu=1400,loss=10%,duplicate=10%,reorder=10%,delay=80ms,jitter=20ms",
            ),
        ),
    ];
    // Other builds on a 2-core machine move these figures: say how busy it was.
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let one_minute = load.split_whitespace().next().unwrap_or("?");
        println!("load average (1 min) at the start: {one_minute}");
    }
    println!(
        "{PACKETS} packets of {SIZE} bytes per run, both directions, clock +{} µs a packet; \
         {RUNS} runs after a warm-up",
        STEP.as_micros()
    );
    println!(
        "{:<15} {:>9} {:>9} {:>12} {:>10}  summary of the last run",
        "spec", "median ns", "best ns", "median pkt/s", "of 50 µs"
    );
    for (name, text) in specs {
        let spec = match text {
            None => Spec::none(),
            Some(text) => match Spec::parse(text) {
                Ok(spec) => spec,
                Err(e) => panic!("the bench's spec {text:?} does not parse: {e:?}"),
            },
        };
        run(&spec, 1);
        let mut times = Vec::new();
        let mut summary = String::new();
        for seed in 1..=RUNS as u64 {
            let (time, line) = run(&spec, seed);
            times.push(time);
            summary = line;
        }
        times.sort();
        let per = |t: Duration| t.as_nanos() as f64 / PACKETS as f64;
        let (median, best) = (per(times[RUNS / 2]), per(times[0]));
        let rate = 1e9 / median;
        let share = median / 50_000.0 * 100.0;
        println!(
            "{name:<15} {median:>9.0} {best:>9.0} {rate:>12.0} {share:>9.2}%  {}",
            summary.split(" — ").nth(1).unwrap_or_default()
        );
    }
    println!(
        "ns: wall time per packet through Link::pass (and tick); of 50 µs: the share of a \
         packet's budget at 20,000 packets/s"
    );
}

/// One run: the time it took, and the link's summary line.
fn run(spec: &Spec, seed: u64) -> (Duration, String) {
    let mut link = Link::new(spec, seed);
    let mut template = vec![0u8; SIZE];
    template[0] = 0x45;
    template[6] = 0x40;
    let mut spare: Vec<Vec<u8>> = (0..64).map(|_| template.clone()).collect();
    let mut out: Vec<Verdict> = Vec::with_capacity(16);
    let mut now = Duration::ZERO;
    let start = Instant::now();
    for i in 0..PACKETS {
        now += STEP;
        let direction = if i % 2 == 0 {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        if link.wake(direction).is_some_and(|at| at <= now) {
            link.tick(direction, now, &mut out);
        }
        let bytes = spare.pop().unwrap_or_else(|| template.clone());
        link.pass(direction, bytes, now, &mut out);
        for verdict in out.drain(..) {
            let (Verdict::Send(flight) | Verdict::Dropped(flight, _)) = black_box(verdict);
            if spare.len() < 64 {
                spare.push(flight.packet.bytes);
            }
        }
    }
    let time = start.elapsed();
    (time, link.summary())
}
