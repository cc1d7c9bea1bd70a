//! lab-wire — the lab link's wire (issue 18): the one program between the lab's two network
//! namespaces, deciding the fate of every packet that crosses.
//!
//! `cargo course lab` starts it inside a user and network namespace of the tool's own (where it
//! is root, so it may make devices and namespaces without being root on the machine). It:
//! 1. makes a TUN device `lab0` in its own network namespace, the *client's*, addressed
//!    192.0.2.1/24 and 2001:db8::1/64 (documentation ranges, RFC 5737 and RFC 3849);
//! 2. moves one thread into a new network namespace, the *server's*, and makes `lab0` there,
//!    192.0.2.2/24 and 2001:db8::2/64; that thread stays, so the namespace lives as long as the
//!    wire;
//! 3. says `ready CLIENT-NETNS SERVER-NETNS START` on stdout (the namespaces' files under /proc,
//!    which the tool opens to start programs on either side);
//! 4. moves every packet each device gives it to the other device, as the link decides
//!    ([`course::link::Link`]): at once, later, twice, or never. One thread per direction reads
//!    (blocking) and sends what is due; one more per direction sleeps until a held or delayed
//!    packet is due. Nothing busy-polls: an idle link costs no CPU;
//! 5. ends when its stdin ends (the tool closes it, or dies), writing each direction's counts.
//!
//! The lines it writes are [`course::link::log`]'s. Packets that are not between the two lab
//! addresses (the kernel's IPv6 router solicitations and multicast reports on a new device) are
//! not lab traffic: they cross no link, take no random draw and are not counted, so a seed
//! replays the same decisions for the lesson's own packets whatever the kernel sends besides.

use std::process::ExitCode;

use lesson_common::Exit;

const USAGE: &str = "SPEC SEED [--events]";
const HELP: &str = "\
The lab link's wire, started by `cargo course lab` inside namespaces of its own: not for running
by hand. SPEC is a link spec (`cargo course lab --help`), SEED its random seed; --events writes a
line for every packet's fate, for `cargo course trace --link`.";

fn main() -> ExitCode {
    lesson_common::report_as("lab-wire", USAGE, HELP, run())
}

#[cfg(not(target_os = "linux"))]
fn run() -> Result<(), Exit> {
    Err(lesson_common::fail(
        "the lab link needs Linux (network namespaces and TUN devices)",
    ))
}

#[cfg(target_os = "linux")]
fn run() -> Result<(), Exit> {
    wire::run()
}

#[cfg(target_os = "linux")]
mod wire {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    use std::io::{Read as _, Write as _};
    use std::net::{Ipv4Addr, Ipv6Addr};
    use std::sync::mpsc;
    use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
    use std::time::{Duration, Instant, SystemTime};

    use course::link::log::{Event, end_line, unix_micros};
    use course::link::{Direction, Link, Spec, Verdict};
    use lesson_common::{Args, Exit, fail, fail_with, usage};
    use tun_rs::{DeviceBuilder, SyncDevice};

    /// The two sides' addresses: the client's first.
    pub const V4: [Ipv4Addr; 2] = [Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2)];
    pub const V6: [Ipv6Addr; 2] = [
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1),
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2),
    ];
    /// The device's name on both sides.
    const DEVICE: &str = "lab0";
    /// Room for the largest packet a TUN device of MTU 1500 hands over, and then some.
    const BUFFER: usize = 65_536;

    pub fn run() -> Result<(), Exit> {
        let mut args = Args::from_env()?;
        let events = args.flag("--events");
        let [spec, seed] = <[String; 2]>::try_from(args.positional(2)?)
            .map_err(|_| usage("give a link SPEC and its SEED"))?;
        let spec = Spec::parse(&spec)?;
        let seed: u64 = seed
            .parse()
            .map_err(|_| usage(format!("the seed must be a whole number, not {seed:?}")))?;

        // 1. The client's side is this process's own network namespace. Each side's device has
        //    the link's MTU for the packets it sends, so that its host fragments a datagram (and
        //    TCP sizes its segments) to fit, as a host does on a link of that MTU.
        let mtu = |direction| spec.towards(direction).mtu;
        let (to_server, to_client) = (mtu(Direction::ToServer), mtu(Direction::ToClient));
        let client = device(0, to_server)?;
        let mut notes = Vec::new();
        notes.extend(loopback_up());
        notes.extend(route_mtu(0, to_server));
        let client_ns = namespace_file()?;
        // 2. The server's side: a thread of ours moves to a new network namespace (unshare(2)
        //    moves only the calling thread) and makes its device there. It then waits for ever:
        //    while it lives, so does the namespace, and its /proc file names it.
        let (made, server) = mpsc::channel();
        std::thread::spawn(move || {
            let side = || -> Result<(SyncDevice, String, Vec<String>), Exit> {
                nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
                    .map_err(|e| fail_with("cannot make the server's network namespace", e))?;
                let device = device(1, to_client)?;
                let notes: Vec<String> = loopback_up()
                    .into_iter()
                    .chain(route_mtu(1, to_client))
                    .collect();
                Ok((device, namespace_file()?, notes))
            };
            // An Exit is not Send: its words cross instead.
            let _ = made.send(side().map_err(|e| e.words()));
            loop {
                std::thread::park();
            }
        });
        let (server, server_ns, note) = server
            .recv()
            .map_err(|_| fail("the server side's thread ended"))?
            .map_err(fail)?;
        notes.extend(note);
        let start = Instant::now();
        let start_us = unix_micros(SystemTime::now());

        // 3. Ready: the tool may start programs on either side now.
        let out = Output { events };
        for note in notes {
            out.line(&format!("note {note}"));
        }
        out.line(&format!("ready {client_ns} {server_ns} {start_us}"));

        // 4. The link, and two ways through it.
        let link = Arc::new(Mutex::new(Link::new(&spec, seed)));
        let client = Arc::new(client);
        let server = Arc::new(server);
        let mut ways = Vec::new();
        for (direction, from, to) in [
            (Direction::ToServer, client.clone(), server.clone()),
            (Direction::ToClient, server, client),
        ] {
            let way = Arc::new(Way {
                direction,
                to,
                link: link.clone(),
                queue: Mutex::new(Queue::default()),
                due: Condvar::new(),
                start,
                start_us,
                out: out.clone(),
            });
            let reader = way.clone();
            std::thread::spawn(move || reader.read_from(&from));
            let releaser = way.clone();
            std::thread::spawn(move || releaser.release());
            ways.push(way);
        }

        // 5. Until stdin ends: the tool closes it when the run is over, and the kernel does when
        //    the tool dies. The process then ends, and its threads with it.
        let mut sink = [0u8; 64];
        while std::io::stdin().read(&mut sink).is_ok_and(|n| n > 0) {}
        // What the link still holds (reorder) or the wire still queues (delay) goes now, late
        // but sent and counted: every packet offered is then sent or dropped, none forgotten.
        // Both directions' queues are held from the flush to the counts (each in the order every
        // thread takes them: a queue, then the link): a packet a reader takes from its device
        // meanwhile waits at its queue, and is neither offered nor counted.
        let mut queues: Vec<_> = ways.iter().map(|way| lock(&way.queue)).collect();
        for (way, queue) in ways.iter().zip(queues.iter_mut()) {
            way.flush(queue);
        }
        let link = lock(&link);
        for direction in Direction::BOTH {
            out.line(&end_line(direction, &link.counters(direction)));
        }
        drop(queues);
        Ok(())
    }

    /// The TUN device of side `i` (0: client, 1: server), up and addressed, in the calling
    /// thread's network namespace, its MTU the link's towards the other side (1500 when the spec
    /// sets none). Never below IPv6's 1280 (RFC 8200 §5): the kernel takes IPv6 off a device with
    /// less, and the spec keeps IPv6 at 1280 anyway; a smaller IPv4 MTU is the route's
    /// ([`route_mtu`]).
    fn device(i: usize, mtu: Option<u16>) -> Result<SyncDevice, Exit> {
        DeviceBuilder::new()
            .name(DEVICE)
            .mtu(mtu.map_or(1500, |n| n.max(course::link::spec::IPV6_MIN_MTU)))
            .ipv4(V4[i], 24u8, None)
            .ipv6(V6[i], 64u8)
            .build_sync()
            .map_err(|e| {
                let side = ["client", "server"][i];
                fail_with(format!("cannot make the {side}'s TUN device"), e)
            })
    }

    /// Bring up the namespace's loopback, so that 127.0.0.1 works there too (a learner's program
    /// may bind it); a note if `ip` cannot. Run from the thread whose namespace it is: a child
    /// starts in its parent thread's network namespace.
    fn loopback_up() -> Option<String> {
        let up = std::process::Command::new("ip")
            .args(["link", "set", "lo", "up"])
            .status();
        (!up.is_ok_and(|s| s.success())).then(|| {
            "the sides' loopback stays down (`ip link set lo up` failed: install iproute2), so \
             127.0.0.1 does not work on them; 192.0.2.x does"
                .to_string()
        })
    }

    /// An IPv4 MTU below the device's (below 1280): the route to the other side carries it,
    /// locked (path-MTU discovery may not raise it), so the host fragments its datagrams to it
    /// and TCP's MSS follows it. A note if `ip` cannot set it (the wire then drops what is over).
    fn route_mtu(i: usize, mtu: Option<u16>) -> Option<String> {
        let n = mtu.filter(|n| *n < course::link::spec::IPV6_MIN_MTU)?;
        let set = std::process::Command::new("ip")
            .args([
                "-4",
                "route",
                "replace",
                "192.0.2.0/24",
                "dev",
                DEVICE,
                "src",
            ])
            .arg(V4[i].to_string())
            .args(["mtu", "lock"])
            .arg(n.to_string())
            .output();
        let why = match set {
            Ok(out) if out.status.success() => return None,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                "`ip` is not installed: install iproute2".to_string()
            }
            Err(e) => format!("`ip` cannot run: {e}"),
            Ok(out) => format!("`ip` said: {}", String::from_utf8_lossy(&out.stderr).trim()),
        };
        Some(format!(
            "the IPv4 route keeps the device's MTU (`ip route … mtu lock {n}` failed: {why}), so \
             the hosts send packets of up to 1280 bytes and the wire drops those over {n}"
        ))
    }

    /// The calling thread's network namespace as a file any process of the machine can open:
    /// `/proc/PID/task/TID/ns/net`, in the numbering of the /proc we see (the machine's, where
    /// the tool made a PID namespace without mounting a /proc of its own).
    fn namespace_file() -> Result<String, Exit> {
        let me = std::fs::read_link("/proc/thread-self")
            .map_err(|e| fail_with("cannot read /proc/thread-self", e))?;
        Ok(format!("/proc/{}/ns/net", me.display()))
    }

    /// Whether `packet` goes between the two lab addresses, either way.
    fn lab_traffic(packet: &[u8]) -> bool {
        match packet.first().map(|b| b >> 4) {
            Some(4) if packet.len() >= 20 => {
                let at = |i: usize| {
                    Ipv4Addr::new(packet[i], packet[i + 1], packet[i + 2], packet[i + 3])
                };
                V4.contains(&at(12)) && V4.contains(&at(16)) && at(12) != at(16)
            }
            Some(6) if packet.len() >= 40 => {
                let at = |i: usize| {
                    let mut octets = [0u8; 16];
                    octets.copy_from_slice(&packet[i..i + 16]);
                    Ipv6Addr::from(octets)
                };
                V6.contains(&at(8)) && V6.contains(&at(24)) && at(8) != at(24)
            }
            _ => false,
        }
    }

    /// Stdout, one whole line at a time (each direction's threads write to it).
    #[derive(Clone)]
    struct Output {
        /// Whether each packet's fate is written too.
        events: bool,
    }

    impl Output {
        fn line(&self, line: &str) {
            let mut out = std::io::stdout().lock();
            // The tool reads every line; if it is gone, so is the point of saying anything.
            let _ = writeln!(out, "{line}").and_then(|()| out.flush());
        }
    }

    /// One direction of the wire.
    struct Way {
        direction: Direction,
        to: Arc<SyncDevice>,
        link: Arc<Mutex<Link>>,
        /// Packets sent later than they came, in the order they leave.
        queue: Mutex<Queue>,
        /// Rung when the queue gains a packet or the link holds one.
        due: Condvar,
        start: Instant,
        start_us: u64,
        out: Output,
    }

    /// Packets waiting for their time, soonest first (and in the order decided, for a tie).
    #[derive(Default)]
    struct Queue {
        waiting: BinaryHeap<Reverse<(Duration, u64, Bytes)>>,
        decided: u64,
    }

    /// A packet's bytes, ordered by nothing (the heap orders by time and decision).
    struct Bytes(Vec<u8>);

    impl PartialEq for Bytes {
        fn eq(&self, _: &Bytes) -> bool {
            true
        }
    }
    impl Eq for Bytes {}
    impl PartialOrd for Bytes {
        fn partial_cmp(&self, other: &Bytes) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for Bytes {
        fn cmp(&self, _: &Bytes) -> std::cmp::Ordering {
            std::cmp::Ordering::Equal
        }
    }

    fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
        mutex.lock().unwrap_or_else(PoisonError::into_inner)
    }

    impl Way {
        /// Read every packet the sending side's device gives, and pass each to the link.
        fn read_from(&self, from: &SyncDevice) {
            let mut buffer = vec![0u8; BUFFER];
            let mut verdicts = Vec::new();
            loop {
                let n = match from.recv(&mut buffer) {
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.out
                            .line(&format!("note the wire stopped reading: {e}"));
                        return;
                    }
                };
                let packet = &buffer[..n];
                if !lab_traffic(packet) {
                    continue;
                }
                // The queue before the link, and both held from the link's decision to the send,
                // in the same order as the release thread takes them: otherwise a packet the
                // release thread has just let go could reach the device after one decided later,
                // while the log says it left first.
                let mut queue = lock(&self.queue);
                let now = self.start.elapsed();
                lock(&self.link).pass(self.direction, packet.to_vec(), now, &mut verdicts);
                self.deliver(&mut queue, &mut verdicts, now);
            }
        }

        /// Send or queue each verdict's packet (in order: once one waits, all after it wait
        /// behind it), writing its event if asked.
        fn deliver(&self, queue: &mut Queue, verdicts: &mut Vec<Verdict>, now: Duration) {
            for verdict in verdicts.drain(..) {
                if self.out.events {
                    let event = Event::of(self.direction, &verdict, self.start_us);
                    self.out.line(&event.line());
                }
                let Verdict::Send(flight) = verdict else {
                    continue;
                };
                if flight.due <= now && queue.waiting.is_empty() {
                    // A full device queue (ENOBUFS) or a namespace going away: the packet is
                    // lost, as on any link.
                    let _ = self.to.send(&flight.packet.bytes);
                } else {
                    queue.decided += 1;
                    let decided = queue.decided;
                    queue
                        .waiting
                        .push(Reverse((flight.due, decided, Bytes(flight.packet.bytes))));
                }
            }
            // The release thread recomputes when to wake: a packet queued, or one the link now
            // holds (reorder), changes it. (No thread waiting: a single atomic load.)
            self.due.notify_one();
        }

        /// At the end: send at once what the link holds and what waits in the queue, in their
        /// order (the lab is over, so their times no longer matter).
        fn flush(&self, queue: &mut MutexGuard<'_, Queue>) {
            let mut verdicts = Vec::new();
            let now = self.start.elapsed();
            lock(&self.link).flush(self.direction, now, &mut verdicts);
            self.deliver(queue, &mut verdicts, now);
            while let Some(Reverse((_, _, Bytes(bytes)))) = queue.waiting.pop() {
                let _ = self.to.send(&bytes);
            }
        }

        /// Send each waiting packet at its time, and let the link release what it holds when it
        /// asks to be woken. Sleeps on the condition variable, never spins.
        fn release(&self) {
            let mut verdicts = Vec::new();
            let mut queue = lock(&self.queue);
            loop {
                let now = self.start.elapsed();
                while let Some(Reverse((due, _, _))) = queue.waiting.peek()
                    && *due <= now
                {
                    if let Some(Reverse((_, _, Bytes(bytes)))) = queue.waiting.pop() {
                        let _ = self.to.send(&bytes);
                    }
                }
                let wake = lock(&self.link).wake(self.direction);
                if wake.is_some_and(|at| at <= now) {
                    // The queue stays locked from the link's release to the send (see read_from).
                    lock(&self.link).tick(self.direction, now, &mut verdicts);
                    self.deliver(&mut queue, &mut verdicts, now);
                    continue;
                }
                let next = queue.waiting.peek().map(|Reverse((due, _, _))| *due);
                let next = match (next, wake) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                queue = match next {
                    Some(at) => {
                        let wait = at.saturating_sub(now);
                        self.due
                            .wait_timeout(queue, wait)
                            .unwrap_or_else(PoisonError::into_inner)
                            .0
                    }
                    None => self.due.wait(queue).unwrap_or_else(PoisonError::into_inner),
                };
            }
        }
    }
}
