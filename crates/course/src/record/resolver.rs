//! The scripted resolver of a trace: a small DNS server on 127.0.0.1:53 inside the trace's
//! namespace that answers A, AAAA and PTR queries from [`NAMES`] and [`ADDRESSES`], and "no such
//! name" (NXDOMAIN) for anything else, so that a lookup's query and answer are on the ladder and
//! nothing leaves the machine. Only names and addresses set aside for documentation: the example
//! domains (RFC 2606) and the documentation address blocks (RFC 5737, RFC 3849).
//!
//! [`take_over_lookups`] points the C library at it, in the namespace only: resolv.conf
//! bind-mounted in the private mount namespace (the machine's own is never touched), `hosts:
//! files dns` in nsswitch.conf, nscd's socket hidden, a hostname without a domain (which glibc
//! would otherwise add to a name it could not find, one query more).

use std::fmt::Write as _;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

/// The names the resolver knows, and their addresses (A and AAAA records).
pub const NAMES: &[(&str, &str)] = &[
    ("www.example.com", "192.0.2.10"),
    ("www.example.com", "2001:db8::10"),
    ("mail.example.net", "198.51.100.7"),
];

/// The addresses it names (PTR records). 192.0.2.66's name leads to another address, and
/// 192.0.2.99's name to none: dns-validate's two failures.
pub const ADDRESSES: &[(&str, &str)] = &[
    ("192.0.2.10", "www.example.com"),
    ("2001:db8::10", "www.example.com"),
    ("192.0.2.66", "mail.example.net"),
    ("192.0.2.99", "gone.example.org"),
];

/// The port a DNS server listens on.
pub const PORT: u16 = 53;

/// What the resolver knows, in one sentence, for the report.
pub fn table() -> String {
    let mut forward: Vec<(&str, Vec<&str>)> = Vec::new();
    for &(name, address) in NAMES {
        match forward.iter_mut().find(|(n, _)| *n == name) {
            Some((_, addresses)) => addresses.push(address),
            None => forward.push((name, vec![address])),
        }
    }
    let forward: Vec<String> = forward
        .iter()
        .map(|(name, addresses)| format!("{name} is {}", addresses.join(" and ")))
        .collect();
    let mut reverse: Vec<(&str, Vec<&str>)> = Vec::new();
    for &(address, name) in ADDRESSES {
        match reverse.iter_mut().find(|(n, _)| *n == name) {
            Some((_, addresses)) => addresses.push(address),
            None => reverse.push((name, vec![address])),
        }
    }
    let reverse: Vec<String> = reverse
        .iter()
        .map(|(name, addresses)| match addresses[..] {
            [one] => format!("{one} is named {name}"),
            _ => format!("{} are named {name}", addresses.join(" and ")),
        })
        .collect();
    format!(
        "{}; {}; any other name or address is NXDOMAIN (no such name)",
        forward.join(", "),
        reverse.join(", ")
    )
}

/// The resolver answering on a thread of the course tool until [`Resolver::stop`].
pub struct Resolver {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Vec<String>>,
}

impl Resolver {
    /// Listen on 127.0.0.1:53 (the namespace's own loopback) and answer every query there.
    pub fn start() -> io::Result<Resolver> {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, PORT))?;
        // A short timeout, so the thread notices when it is asked to stop.
        socket.set_read_timeout(Some(Duration::from_millis(50)))?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut said = Vec::new();
            // A query over UDP is at most 512 bytes, unless EDNS allows more (glibc sends no EDNS
            // by default): 1232 is what resolvers agreed on as safe.
            let mut buf = [0u8; 1232];
            while !flag.load(Ordering::SeqCst) {
                let Ok((n, from)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                let query = &buf[..n];
                if let Some(reply) = answer(query) {
                    let _ = socket.send_to(&reply, from);
                    if let (Some(asked), Some(answered)) = (describe(query), describe(&reply)) {
                        said.push(format!("{asked}  →  {answered}"));
                    }
                }
            }
            said
        });
        Ok(Resolver { stop, thread })
    }

    /// Stop answering: each query it answered, and how (`A? www.example.com  →  A 192.0.2.10`).
    pub fn stop(self) -> Vec<String> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap_or_default()
    }
}

/// Whether [`take_over_lookups`] pointed this process's namespace at the resolver: `Ok` with what
/// it changed that is worth saying, or why not. `None` before it was tried (outside a trace's
/// namespace).
pub fn taken_over() -> Option<&'static Result<Vec<String>, String>> {
    TAKEN_OVER.get()
}

static TAKEN_OVER: OnceLock<Result<Vec<String>, String>> = OnceLock::new();

/// Inside a trace's namespaces, once: make the C library's lookups, of the programs this process
/// starts, reach the resolver on 127.0.0.1:53 and nothing else.
pub fn take_over_lookups() {
    TAKEN_OVER.get_or_init(take_over);
}

#[cfg(target_os = "linux")]
fn take_over() -> Result<Vec<String>, String> {
    use std::fs;
    use std::path::Path;
    use std::process::Command;

    // Never on the machine's own files: only where this process has a mount and a UTS namespace
    // of its own, not its parent's (the course tool that ran `unshare`). From a user namespace of
    // our own, the parent's are hidden (it is in another); then the kernel itself refuses any
    // change to a namespace we share with it, which that other user namespace owns.
    let parent = std::os::unix::process::parent_id().to_string();
    let initial_users = fs::read_to_string("/proc/self/uid_map")
        .is_ok_and(|map| map.split_whitespace().eq(["0", "0", "4294967295"]));
    for kind in ["mnt", "uts"] {
        let ns = |pid: &str| fs::read_link(format!("/proc/{pid}/ns/{kind}"));
        match (ns("self"), ns(&parent)) {
            (Ok(ours), Ok(theirs)) if ours != theirs => {}
            (Ok(_), Err(e)) if e.kind() == io::ErrorKind::PermissionDenied && !initial_users => {}
            _ => {
                return Err(format!(
                    "no private {kind} namespace here, so the machine's resolver is left alone"
                ));
            }
        }
    }
    let mount = |args: &[&str]| -> Result<(), String> {
        let done = Command::new("mount").args(args).output();
        match done {
            Ok(out) if out.status.success() => Ok(()),
            Ok(out) => Err(format!(
                "mount {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Err(e) => Err(format!("cannot run mount: {e}")),
        }
    };
    // A hostname with a domain (`ci.example.internal`) gives glibc a default search domain, which
    // it would try after a name it could not find: a query more, machine by machine.
    fs::write("/proc/sys/kernel/hostname", "course-trace")
        .map_err(|e| format!("cannot set the namespace's hostname: {e}"))?;
    let mut said = Vec::new();
    // The files to mount over the machine's, in this mount namespace only; a bind mount keeps its
    // file once the name is gone, so the folder goes at once.
    // A scratch folder: named by the machine's pid (in a PID namespace every run is pid 1), never
    // a missing TMPDIR made.
    let scratch = crate::scratch::Scratch::new("resolver").map_err(|e| e.words())?;
    let dir = scratch.path().to_path_buf();
    let files = (|| -> Result<(), String> {
        let write = |name: &str, text: &str| {
            fs::write(dir.join(name), text)
                .map_err(|e| format!("cannot write {}: {e}", dir.join(name).display()))
        };
        // One try of one second: an answer comes at once or never.
        write(
            "resolv.conf",
            "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
        )?;
        let resolv = dir.join("resolv.conf").to_string_lossy().into_owned();
        // Where there is none, glibc asks 127.0.0.1 anyway.
        if Path::new("/etc/resolv.conf").exists() {
            mount(&["--bind", &resolv, "/etc/resolv.conf"])?;
        }
        // nss-resolve (systemd-resolved), mdns, nis…: each would ask something outside the
        // namespace, over a Unix socket, which the network namespace does not stop.
        if let Ok(nsswitch) = fs::read_to_string("/etc/nsswitch.conf") {
            if let Some(hosts) = nsswitch
                .lines()
                .find(|l| l.trim_start().starts_with("hosts:"))
            {
                let sources: Vec<&str> = hosts
                    .trim_start()
                    .trim_start_matches("hosts:")
                    .split_whitespace()
                    .filter(|w| !w.starts_with('['))
                    .collect();
                if sources != ["files", "dns"] {
                    let ours: String = nsswitch
                        .lines()
                        .map(|l| {
                            if l.trim_start().starts_with("hosts:") {
                                "hosts: files dns\n".to_string()
                            } else {
                                format!("{l}\n")
                            }
                        })
                        .collect();
                    write("nsswitch.conf", &ours)?;
                    let copy = dir.join("nsswitch.conf").to_string_lossy().into_owned();
                    mount(&["--bind", &copy, "/etc/nsswitch.conf"])?;
                    said.push(format!(
                        "this machine's /etc/nsswitch.conf says `{}`; in the namespace it says \
                         `hosts: files dns`, so that a lookup reads /etc/hosts, then asks the \
                         scripted resolver",
                        hosts.trim()
                    ));
                }
            }
        }
        Ok(())
    })();
    drop(scratch);
    files?;
    // A running nscd would answer from outside the namespace, asking the machine's DNS server.
    for nscd in ["/run/nscd", "/var/run/nscd"] {
        if Path::new(nscd).join("socket").exists() {
            mount(&["-t", "tmpfs", "-o", "size=16k", "none", nscd])?;
            said.push(format!(
                "nscd runs on this machine: its socket is hidden in the namespace ({nscd})"
            ));
        }
    }
    Ok(said)
}

#[cfg(not(target_os = "linux"))]
fn take_over() -> Result<Vec<String>, String> {
    Err("a scripted resolver needs Linux's namespaces".to_string())
}

/// The record types the resolver and the ladder name.
const A: u16 = 1;
const PTR: u16 = 12;
const AAAA: u16 = 28;

/// How long a record may be kept (seconds): nothing keeps these.
const TTL: u32 = 60;

/// The reply to `query`, or `None` for what is not a query it can read at all.
pub fn answer(query: &[u8]) -> Option<Vec<u8>> {
    let header = query.get(..12)?;
    let flags = u16::from_be_bytes([header[2], header[3]]);
    if flags & 0x8000 != 0 {
        return None; // a response, not a query
    }
    let opcode = (flags >> 11) & 0x0f;
    let questions = u16::from_be_bytes([header[4], header[5]]);
    let mut reply = header[..2].to_vec();
    // QR, the opcode, AA, RD as asked, RA.
    let reply_flags =
        |rcode: u16| 0x8000 | (opcode << 11) | 0x0400 | (flags & 0x0100) | 0x0080 | rcode;
    let (name, end) = match (opcode, questions) {
        (0, 1..) => match read_name(query, 12) {
            Some(read) => read,
            None => return Some(refusal(query, reply_flags(1))),
        },
        (0, 0) => return Some(refusal(query, reply_flags(1))), // FORMERR
        _ => return Some(refusal(query, reply_flags(4))),      // NOTIMP
    };
    let question = query.get(12..end + 4)?;
    let qtype = u16::from_be_bytes([query[end], query[end + 1]]);
    let (rcode, records) = match lookup(&name, qtype) {
        Some(records) => (0, records),
        None => (3, Vec::new()),
    };
    reply.extend_from_slice(&reply_flags(rcode).to_be_bytes());
    reply.extend_from_slice(&1u16.to_be_bytes());
    reply.extend_from_slice(&(records.len() as u16).to_be_bytes());
    reply.extend_from_slice(&[0, 0, 0, 0]);
    reply.extend_from_slice(question);
    for rdata in records {
        reply.extend_from_slice(&[0xc0, 12]); // the name: the question's, at offset 12
        reply.extend_from_slice(&qtype.to_be_bytes());
        reply.extend_from_slice(&1u16.to_be_bytes()); // class IN
        reply.extend_from_slice(&TTL.to_be_bytes());
        reply.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        reply.extend_from_slice(&rdata);
    }
    Some(reply)
}

/// A reply with `flags` and no question: to a query it does not take.
fn refusal(query: &[u8], flags: u16) -> Vec<u8> {
    let mut reply = query[..2].to_vec();
    reply.extend_from_slice(&flags.to_be_bytes());
    reply.extend_from_slice(&[0; 8]);
    reply
}

/// The records of `qtype` for `name`, each as its data; `None` when the name is unknown.
fn lookup(name: &str, qtype: u16) -> Option<Vec<Vec<u8>>> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if let Some(address) = reverse_address(&name) {
        let (_, named) = ADDRESSES
            .iter()
            .find(|(a, _)| a.parse::<IpAddr>().ok() == Some(address))?;
        return Some(if qtype == PTR {
            vec![encode_name(named)]
        } else {
            Vec::new()
        });
    }
    let known: Vec<IpAddr> = NAMES
        .iter()
        .filter(|(n, _)| *n == name)
        .filter_map(|(_, a)| a.parse().ok())
        .collect();
    if known.is_empty() {
        return None;
    }
    Some(
        known
            .into_iter()
            .filter_map(|address| match (address, qtype) {
                (IpAddr::V4(v4), A) => Some(v4.octets().to_vec()),
                (IpAddr::V6(v6), AAAA) => Some(v6.octets().to_vec()),
                _ => None,
            })
            .collect(),
    )
}

/// `10.2.0.192.in-addr.arpa` → 192.0.2.10; the 32 nibbles of an `ip6.arpa` name → the IPv6
/// address; anything else, `None`.
fn reverse_address(name: &str) -> Option<IpAddr> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if let Some(labels) = name.strip_suffix(".in-addr.arpa") {
        let mut octets: Vec<u8> = labels
            .split('.')
            .map(|l| l.parse().ok())
            .collect::<Option<_>>()?;
        octets.reverse();
        let octets: [u8; 4] = octets.try_into().ok()?;
        return Some(IpAddr::V4(Ipv4Addr::from(octets)));
    }
    let labels = name.strip_suffix(".ip6.arpa")?;
    let nibbles: Vec<u8> = labels
        .split('.')
        .map(|l| u8::from_str_radix(l, 16).ok().filter(|_| l.len() == 1))
        .collect::<Option<_>>()?;
    if nibbles.len() != 32 {
        return None;
    }
    let mut octets = [0u8; 16];
    for (i, pair) in nibbles.rchunks(2).enumerate() {
        octets[i] = pair[1] << 4 | pair[0];
    }
    Some(IpAddr::V6(Ipv6Addr::from(octets)))
}

/// A name as DNS carries it: each label behind its length, then a zero.
fn encode_name(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in name.trim_end_matches('.').split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

/// The name at `at` in `message` (following compression pointers, bounded), and where the bytes
/// after it begin.
fn read_name(message: &[u8], at: usize) -> Option<(String, usize)> {
    let mut labels: Vec<String> = Vec::new();
    let (mut at, mut end, mut jumps) = (at, None, 0);
    loop {
        let length = *message.get(at)?;
        match length {
            0 => break,
            l if l & 0xc0 == 0xc0 => {
                jumps += 1;
                if jumps > 16 {
                    return None;
                }
                end.get_or_insert(at + 2);
                at = usize::from(u16::from_be_bytes([l & 0x3f, *message.get(at + 1)?]));
            }
            l if l < 64 => {
                let label = message.get(at + 1..at + 1 + usize::from(l))?;
                labels.push(String::from_utf8_lossy(label).into_owned());
                at += 1 + usize::from(l);
            }
            _ => return None,
        }
    }
    let name = labels.join(".");
    (name.len() <= 255).then_some((name, end.unwrap_or(at + 1)))
}

/// A record type's name.
fn type_name(qtype: u16) -> String {
    match qtype {
        A => "A".into(),
        2 => "NS".into(),
        5 => "CNAME".into(),
        6 => "SOA".into(),
        PTR => "PTR".into(),
        15 => "MX".into(),
        16 => "TXT".into(),
        AAAA => "AAAA".into(),
        33 => "SRV".into(),
        65 => "HTTPS".into(),
        other => format!("TYPE{other}"),
    }
}

/// A DNS message in a few words, as tcpdump would put it: a query as `A? www.example.com` (a
/// reverse one as `PTR? 192.0.2.10`), an answer as its first record (`A 192.0.2.10`, `+1` for
/// each more), `no AAAA record`, `NXDOMAIN`. `None` for what does not read as one.
pub fn describe(message: &[u8]) -> Option<String> {
    let header = message.get(..12)?;
    let flags = u16::from_be_bytes([header[2], header[3]]);
    let count = |at: usize| u16::from_be_bytes([header[at], header[at + 1]]);
    if count(4) != 1 {
        return None;
    }
    let (name, end) = read_name(message, 12)?;
    let qtype = u16::from_be_bytes([*message.get(end)?, *message.get(end + 1)?]);
    let kind = type_name(qtype);
    if flags & 0x8000 == 0 {
        let shown = reverse_address(&name).map_or(name, |a| a.to_string());
        return Some(format!("{kind}? {shown}"));
    }
    let rcode = flags & 0x0f;
    let answers = count(6);
    let mut out = match rcode {
        0 if answers == 0 => return Some(format!("no {kind} record")),
        0 => String::new(),
        1 => return Some("FORMERR".into()),
        2 => return Some("SERVFAIL".into()),
        3 => return Some("NXDOMAIN".into()),
        4 => return Some("NOTIMP".into()),
        5 => return Some("REFUSED".into()),
        other => return Some(format!("rcode {other}")),
    };
    // The first answer: its name, type, class, TTL, length, data.
    let (_, at) = read_name(message, end + 4)?;
    let rtype = u16::from_be_bytes([*message.get(at)?, *message.get(at + 1)?]);
    let length = usize::from(u16::from_be_bytes([
        *message.get(at + 8)?,
        *message.get(at + 9)?,
    ]));
    let data = message.get(at + 10..at + 10 + length)?;
    let value = match rtype {
        A => IpAddr::from(<[u8; 4]>::try_from(data).ok()?).to_string(),
        AAAA => IpAddr::from(<[u8; 16]>::try_from(data).ok()?).to_string(),
        PTR | 5 | 2 => read_name(message, at + 10)?.0,
        _ => format!("{length} bytes"),
    };
    let _ = write!(out, "{} {value}", type_name(rtype));
    if answers > 1 {
        let _ = write!(out, " +{}", answers - 1);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query for `name` of `qtype`, recursion desired, as glibc sends one.
    fn query(name: &str, qtype: u16) -> Vec<u8> {
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        q.extend_from_slice(&encode_name(name));
        q.extend_from_slice(&qtype.to_be_bytes());
        q.extend_from_slice(&1u16.to_be_bytes());
        q
    }

    /// Each known name and address gets its records, as a reply to its own query (same id, the
    /// question echoed, recursion available), read back the way the ladder labels it.
    #[test]
    fn answers_from_its_table() {
        let cases = [
            ("www.example.com", A, "A? www.example.com", "A 192.0.2.10"),
            (
                "WWW.Example.COM.",
                AAAA,
                "AAAA? WWW.Example.COM",
                "AAAA 2001:db8::10",
            ),
            (
                "10.2.0.192.in-addr.arpa",
                PTR,
                "PTR? 192.0.2.10",
                "PTR www.example.com",
            ),
            (
                "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
                PTR,
                "PTR? 2001:db8::10",
                "PTR www.example.com",
            ),
            (
                "66.2.0.192.in-addr.arpa",
                PTR,
                "PTR? 192.0.2.66",
                "PTR mail.example.net",
            ),
            (
                "mail.example.net",
                AAAA,
                "AAAA? mail.example.net",
                "no AAAA record",
            ),
            ("nosuch.invalid", A, "A? nosuch.invalid", "NXDOMAIN"),
            (
                "200.2.0.192.in-addr.arpa",
                PTR,
                "PTR? 192.0.2.200",
                "NXDOMAIN",
            ),
        ];
        for (name, qtype, asked, answered) in cases {
            let q = query(name, qtype);
            let reply = answer(&q).unwrap();
            assert_eq!(reply[..2], q[..2], "the query's id");
            assert_eq!(reply[2] & 0x81, 0x81, "a response, recursion desired kept");
            assert_eq!(reply[12..q.len()], q[12..], "the question echoed");
            assert_eq!(describe(&q).as_deref(), Some(asked));
            assert_eq!(describe(&reply).as_deref(), Some(answered), "{name}");
        }
    }

    /// What is not a query gets no reply (a response, a cut header); what it cannot take gets
    /// FORMERR or NOTIMP.
    #[test]
    fn refuses_what_it_cannot_read() {
        assert_eq!(answer(&[0x12, 0x34, 0x01]), None);
        let mut response = query("www.example.com", A);
        response[2] |= 0x80;
        assert_eq!(answer(&response), None);
        let mut update = query("www.example.com", A);
        update[2] = 0x28; // opcode 5, UPDATE
        assert_eq!(answer(&update).unwrap()[3] & 0x0f, 4);
        let mut cut = query("www.example.com", A);
        cut.truncate(20);
        assert_eq!(answer(&cut).unwrap()[3] & 0x0f, 1, "a name cut short");
        let mut no_type = query("www.example.com", A);
        no_type.truncate(no_type.len() - 3);
        assert_eq!(answer(&no_type), None);
        let looping = [
            0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1,
        ];
        assert_eq!(answer(&looping).unwrap()[3] & 0x0f, 1, "a pointer loop");
    }

    /// The report's sentence names every row of the table.
    #[test]
    fn says_what_it_knows() {
        let said = table();
        for (name, address) in NAMES.iter().chain(ADDRESSES) {
            assert!(said.contains(name) && said.contains(address), "{said}");
        }
    }
}
