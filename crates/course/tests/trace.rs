//! `cargo course trace` for real: lesson pairs in a private network namespace, where strace and
//! unprivileged namespaces exist (CI installs strace; elsewhere these tests say they are skipped).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, MutexGuard, PoisonError};

use test_support::{Cmd, cmd};

const COURSE: &str = env!("CARGO_BIN_EXE_course");

/// One trace at a time: a trace is a picture of timing, and several at once on a small machine
/// (CI has two cores) delay each strace by milliseconds, enough to draw a call a row away from
/// where it happened.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Whether strace, namespaces and the `lessons` are here (each test says "skipped" otherwise):
/// then the turn to trace, held until the test ends.
fn available(lessons: &[&str]) -> Option<MutexGuard<'static, ()>> {
    let runs = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !runs("strace", &["-V"]) {
        test_support::skip("strace is not installed");
        return None;
    }
    if !runs("unshare", &["-rmnu", "ip", "link", "set", "lo", "up"]) {
        test_support::skip("no unprivileged network namespaces here (or no `ip`)");
        return None;
    }
    if !test_support::built(lessons) {
        return None;
    }
    Some(ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner))
}

/// The ladder's rows, and where things are on it.
struct Ladder(String);

impl Ladder {
    fn trace(args: &[&str]) -> Ladder {
        Ladder::of(cmd(COURSE).arg("trace").args(args))
    }

    /// The ladder alone, as the page's "On the wire" block gets it (`transcripts` runs the
    /// tool's hidden page-ladder entry inside private namespaces), of a run with `args`.
    fn page(lesson: &str, args: &[&str]) -> Ladder {
        let inner = ["-rmnu", COURSE, "__page-ladder", lesson];
        Ladder::of(cmd("unshare").args(inner).args(args))
    }

    fn of(command: Cmd) -> Ladder {
        let done = command.env("COURSE_NO_BUILD", "1").run();
        assert_eq!(
            done.code,
            Some(0),
            "{}\n{}",
            done.stdout_text(),
            done.stderr
        );
        Ladder(done.stdout_text())
    }

    fn lines(&self) -> Vec<&str> {
        self.0.lines().collect()
    }

    /// The first row with `text` on it.
    #[track_caller]
    fn row(&self, text: &str) -> usize {
        let found = self.lines().iter().position(|l| l.contains(text));
        found.unwrap_or_else(|| panic!("no {text:?} in:\n{}", self.0))
    }

    /// The milliseconds on the first row with `text`, left of the client's column.
    #[track_caller]
    fn ms(&self, text: &str) -> i64 {
        let line = self.lines()[self.row(text)];
        let ms = line.get(..5).and_then(|t| t.trim().parse().ok());
        ms.unwrap_or_else(|| panic!("no milliseconds on {line:?}:\n{}", self.0))
    }

    /// The rows with a packet `label` toward the client (◀) or the server (▶).
    fn packets(&self, label: &str, to_client: bool) -> Vec<usize> {
        let head = if to_client { '◀' } else { '▶' };
        let label = format!(" {label} ");
        let lines = self.lines();
        let rows = lines.iter().enumerate();
        rows.filter(|(_, l)| l.contains(head) && l.contains(&label))
            .map(|(at, _)| at)
            .collect()
    }

    /// The first row with a packet `label` toward the client (◀) or the server (▶).
    #[track_caller]
    fn packet(&self, label: &str, to_client: bool) -> usize {
        let found = self.packets(label, to_client).first().copied();
        found.unwrap_or_else(|| {
            panic!(
                "no{label}packet toward the {}:\n{}",
                if to_client { "client" } else { "server" },
                self.0
            )
        })
    }
}

/// socket-info ↔ tcp-listener: the server's four steps, the handshake after connect(), accept4()
/// on the server's side, a FIN from each side's close, every line within 100 columns.
#[test]
fn traces_socket_info_against_tcp_listener() {
    let Some(_turn) = available(&["socket-info", "tcp-listener"]) else {
        return;
    };
    let ladder = Ladder::trace(&["socket-info"]);
    let text = &ladder.0;
    for step in [
        "socket(AF_INET, SOCK_STREAM) = 3",
        "setsockopt(3, SO_REUSEADDR, 1)",
        "bind(3, 127.0.0.1:51423)",
        "listen(3, 5)",
    ] {
        ladder.row(step);
    }
    let connect = ladder.row("connect(3, 127.0.0.1:51423)");
    assert_eq!(
        ladder.packet("SYN", false),
        connect,
        "the SYN sits beside connect():\n{text}"
    );
    assert!(ladder.packet("SYN-ACK", true) > connect, "{text}");
    assert!(
        ladder.packet("ACK", false) > ladder.packet("SYN-ACK", true),
        "{text}"
    );
    assert!(
        ladder.row("accept4(3) = 4") > ladder.packet("ACK", false),
        "accept4 returns once the handshake's ACK is in:\n{text}"
    );
    assert_eq!(
        ladder.packet("FIN", true),
        ladder.row("close(4)"),
        "the server's close sends a FIN:\n{text}"
    );
    assert!(
        ladder.packet("FIN", false) >= ladder.row("close(3)"),
        "the client's close sends a FIN:\n{text}"
    );
    // Each packet once, though `lo` shows each twice (going out, coming in), and the two FINs
    // often cross (both sides close at once), which is when a capture that paired the copies by
    // their bytes drew four.
    for (label, to_client) in [
        ("SYN", false),
        ("SYN-ACK", true),
        ("FIN", true),
        ("FIN", false),
    ] {
        assert_eq!(
            ladder.packets(label, to_client).len(),
            1,
            "one {label}:\n{text}"
        );
    }
    assert!(
        text.contains("Connected to ('127.0.0.1', 51423)"),
        "what socket-info printed is shown:\n{text}"
    );
    assert!(
        text.contains("other rows of the two sides can swap from run to run"),
        "the ladder says which of its rows race:\n{text}"
    );
    assert!(
        text.lines().all(|l| l.chars().count() <= 100),
        "fits 100 columns:\n{text}"
    );
}

/// udp-client ↔ udp-echo-server: connect and shutdown put nothing on the wire; the datagram goes
/// out beside sendto, and the echo comes back beside the server's sendto.
#[test]
fn udp_connect_and_shutdown_send_nothing() {
    let Some(_turn) = available(&["udp-client", "udp-echo-server"]) else {
        return;
    };
    let ladder = Ladder::page("udp-client", &[]);
    let (text, lines) = (&ladder.0, ladder.lines());
    assert!(
        !lines[ladder.row("shutdown(3, SHUT_WR)")].contains('─'),
        "no packet beside the UDP shutdown:\n{text}"
    );
    assert!(
        !lines[ladder.row("connect(3, 127.0.0.1:51423)")].contains('─'),
        "no packet beside the UDP connect:\n{text}"
    );
    assert_eq!(
        ladder.packet("datagram 5", false),
        ladder.row("sendto(3, 5 bytes) = 5"),
        "{text}"
    );
    assert!(
        ladder.packet("datagram 5", true) > ladder.packet("datagram 5", false),
        "the echo comes back:\n{text}"
    );
    // The milliseconds column shows the one-second read timeout (`--timeout 1`) between the
    // echo's receive and the receive that timed out.
    let waited = ladder.ms("recvfrom(3) = -1 EAGAIN") - ladder.ms("recvfrom(3) = 5");
    assert!((900..2000).contains(&waited), "{waited} ms:\n{text}");
}

/// http-fetch's experiment 3 (`--scenario server-resets`): the server resets the connection while
/// the client pauses; the RST comes in before the request goes out, the one send fails at flush,
/// and nothing is sent again behind the learner's back (a dropped BufWriter would retry).
#[test]
fn a_reset_during_the_pause_fails_the_flush_once() {
    let Some(_turn) = available(&["http-fetch"]) else {
        return;
    };
    let ladder = Ladder::trace(&["http-fetch", "--scenario", "server-resets"]);
    let (text, lines) = (&ladder.0, ladder.lines());
    assert!(
        text.contains("Continuing.")
            && text.contains("error: Error sending data (detected by flush): Connection reset"),
        "the pause passed, then flush failed:\n{text}"
    );
    let send = ladder.row("sendto(3, ");
    assert!(ladder.packet("RST", true) < send, "{text}");
    let sends = lines
        .iter()
        .filter(|l| l.get(6..).unwrap_or_default().starts_with("sendto("))
        .count();
    assert_eq!(
        sends, 1,
        "one send, no retry when the writer is dropped:\n{text}"
    );
}

/// A server lesson's trace shows what the server itself printed, first, then its partner's: the
/// oversize experiment is about the server's `(truncated: …)` line.
#[test]
fn a_server_trace_shows_the_servers_own_output_first() {
    let Some(_turn) = available(&["udp-echo-server"]) else {
        return;
    };
    let ladder = Ladder::trace(&["udp-echo-server", "--scenario", "oversize"]);
    let text = &ladder.0;
    let own = ladder.row("what udp-echo-server printed:");
    let truncated = ladder.row("(truncated: 9000 bytes, echoing the first 8192)");
    let partner = ladder.row("what its partner, scripted client (course), did:");
    let echoed = ladder.row("the scripted client sent 9000 bytes and got 8192 back");
    assert!(
        own < truncated && truncated < partner && partner < echoed,
        "{text}"
    );
}

/// glibc's tries to reach nscd (a Unix socket, a connect to /var/run/nscd/socket that fails where
/// none runs, a close: four rows each, addr-info's whole ladder) fold into one labelled row, which
/// the report explains once.
#[test]
fn name_service_tries_are_one_row_explained_once() {
    let Some(_turn) = available(&["addr-info"]) else {
        return;
    };
    let ladder = Ladder::trace(&["addr-info"]);
    let text = &ladder.0;
    assert!(!text.contains("connect(3, /var/run/nscd/socket)"), "{text}");
    let rows = text
        .lines()
        .filter(|l| {
            l.get(6..)
                .unwrap_or_default()
                .trim_start()
                .starts_with("nscd: ")
        })
        .count();
    assert!(
        !text.contains("can swap from run to run"),
        "one side, no race:\n{text}"
    );
    let explained = text.matches("is one row for the C library's tries").count();
    assert!(
        rows <= 1 && explained == rows,
        "one folded row, explained once:\n{text}"
    );
}

/// A lookup with the lesson's own arguments asks the scripted resolver in the namespace: the
/// query goes out beside the call that sent it, the answer comes back from port 53 above the
/// receive that read it, a name it does not know is NXDOMAIN, and a PTR query names an address
/// (nothing leaves the machine: check.sh's DNS guard would fail this test).
#[test]
fn a_lookup_asks_the_scripted_resolver() {
    let Some(_turn) = available(&["addr-info", "dns-validate"]) else {
        return;
    };
    // The lesson's arguments as trailing words.
    let ladder = Ladder::trace(&["addr-info", "www.example.com", "http"]);
    let text = &ladder.0;
    for printed in [
        "(2, 1, 6, '', ('192.0.2.10', 80))  # AF_INET SOCK_STREAM IPPROTO_TCP",
        "(10, 1, 6, '', ('2001:db8::10', 80, 0, 0))  # AF_INET6 SOCK_STREAM IPPROTO_TCP",
        "what its partner, the scripted resolver (course), answered:",
        "A? www.example.com  →  A 192.0.2.10",
    ] {
        assert!(text.contains(printed), "{printed:?} in:\n{text}");
    }
    let query = ladder.packet("A? www.example.com", false);
    let sent = ladder.lines()[query].get(6..).unwrap_or_default();
    assert!(
        sent.starts_with("sendmmsg(3) = 2") || sent.starts_with("sendto(3, "),
        "the query beside the call that sent it:\n{text}"
    );
    assert!(ladder.row("connect(3, 127.0.0.1:53)") < query, "{text}");
    let answer = ladder.packet("A 192.0.2.10", true);
    assert!(answer > query, "{text}");
    assert_eq!(ladder.packets("AAAA 2001:db8::10", true).len(), 1, "{text}");
    assert!(ladder.row("recvfrom(3) = ") > answer, "{text}");
    // A name it does not know, on the page's ladder.
    let ladder = Ladder::page("addr-info", &["nosuch.invalid", "http"]);
    assert_eq!(
        ladder.packets("NXDOMAIN", true).len(),
        2,
        "A and AAAA:\n{}",
        ladder.0
    );
    // A PTR query, the lesson's arguments after `--`: the name leads to another address.
    let ladder = Ladder::trace(&["dns-validate", "--", "192.0.2.66"]);
    let text = &ladder.0;
    assert!(
        text.contains("what dns-validate printed (exit 1):")
            && text.contains("original IP 192.0.2.66 did not appear in IP address list."),
        "{text}"
    );
    assert!(
        ladder.packet("PTR? 192.0.2.66", false) < ladder.packet("PTR mail.example.net", true)
            && ladder.packet("PTR mail.example.net", true) < ladder.packet("A 198.51.100.7", true),
        "{text}"
    );
}

/// `--pcap FILE`: the packets of the run as a pcap file, read back here record by record (the
/// 9000-byte datagram and its 8192-byte echo, whole, in Ethernet frames as `lo` carries them), and
/// by tcpdump where it is installed.
#[test]
fn the_packets_go_to_a_pcap_file() {
    let Some(_turn) = available(&["udp-echo-server"]) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("course-trace-pcap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("oversize.pcap");
    let path = file.to_string_lossy().into_owned();
    let ladder = Ladder::trace(&["udp-echo-server", "--scenario", "oversize", "--pcap", &path]);
    let bytes = std::fs::read(&file).expect("the pcap file is written");
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    assert_eq!(word(0), 0xa1b2_c3d4, "pcap's magic, microsecond stamps");
    assert_eq!(word(20), 1, "Ethernet frames");
    let mut lengths = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let length = word(at + 8) as usize;
        assert!(word(at + 4) < 1_000_000, "microseconds");
        lengths.push(length);
        at += 16 + length;
    }
    assert_eq!(at, bytes.len(), "whole records: {lengths:?}");
    // Ethernet 14 + IPv4 20 + UDP 8 + the datagram.
    assert_eq!(lengths, [9042, 8234], "{}", ladder.0);
    assert!(
        ladder.0.contains("the 2 packets of this run") && ladder.0.contains("tcpdump -nr"),
        "{}",
        ladder.0
    );
    let tcpdump = Command::new("tcpdump").arg("-nr").arg(&file).output();
    let _ = std::fs::remove_dir_all(&dir);
    match tcpdump {
        Ok(out) => {
            let said = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                said.contains("UDP, length 9000") && said.contains("UDP, length 8192"),
                "{said}"
            );
        }
        Err(_) => test_support::skip("reading the pcap file with tcpdump (not installed)"),
    }
}

/// `--listing` with a server listing: its calls go beside the lesson's, and the listing, which ran
/// under strace in the lesson's place, is stopped afterwards — stopping strace alone would have left
/// it serving, detached.
#[test]
fn a_traced_server_listing_is_stopped_afterwards() {
    let Some(_turn) = available(&["tcp-listener"]) else {
        return;
    };
    let server = StandIn::new("listing", true);
    let text = trace_listing("tcp-listener", &server.listing, None);
    assert!(text.contains("the listing's system calls"), "{text}");
    assert!(!text.contains("did not run as the lesson did"), "{text}");
    // The listing asked for '' (every interface); the course's wrapper bound 127.0.0.1, and says so.
    assert!(
        text.contains("the listing binds 127.0.0.1 where it asks for ''"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("bind(3, 127.0.0.1:51423) ")
                && l.ends_with("   bind(3, 127.0.0.1:51423)")),
        "{text}"
    );
    let pid = std::fs::read_to_string(&server.pid_file).expect("the listing ran and wrote its pid");
    let left = server.still_running(&pid);
    assert!(
        !left,
        "the traced listing {pid} is still running after the trace"
    );
}

/// With TMPDIR on a full filesystem strace cannot write its logs: the trace fails, in one line that
/// names each side whose calls were lost and what strace said, and strace's own messages do not
/// mix into what the lesson printed (it exited 0 with no calls at all, 24 `strace: … No space left
/// on device` lines among the lesson's, one splitting its line).
#[test]
fn a_trace_that_lost_its_calls_fails() {
    let Some(_turn) = available(&["udp-client", "udp-echo-server"]) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("course-trace-full-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A tiny filesystem of its own (a user and mount namespace: no root needed), filled up; a
    // short read timeout keeps the run quick.
    let full = "mount -t tmpfs -o size=64k none \"$1\" || exit 9
        dd if=/dev/zero of=\"$1/fill\" bs=4k 2>/dev/null
        TMPDIR=$1 exec \"$2\" trace udp-client -- --timeout 0.2 127.0.0.1 PORT";
    let done = cmd("unshare")
        .args(["-rm", "sh", "-c", full, "sh"])
        .arg(&dir)
        .arg(COURSE)
        .env("COURSE_NO_BUILD", "1")
        .run();
    // Nothing it started is left running: with no pid in an empty log, the server was (stopping
    // strace alone left it serving, detached, and its namespace with it).
    let tmpdir = format!("TMPDIR={}", dir.display());
    let left = still_running_with(&tmpdir);
    let _ = std::fs::remove_dir(&dir);
    assert!(left.is_empty(), "still running: {left:?}");
    if done.code == Some(9) {
        test_support::skip("a full filesystem for TMPDIR (cannot mount a tmpfs here)");
        return;
    }
    let text = done.stdout_text();
    assert_eq!(done.code, Some(1), "{text}\n{}", done.stderr);
    let error: Vec<&str> = done
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(error.len(), 1, "one line:\n{}", done.stderr);
    for words in [
        "trace lost the client's system calls (udp-client: ",
        "and the server's system calls (udp-echo-server: ",
        "No space left on device",
    ] {
        assert!(error[0].contains(words), "{words:?} in:\n{}", error[0]);
    }
    assert!(
        !text.contains("strace:"),
        "strace's messages kept apart:\n{text}"
    );
    assert!(
        text.contains("(no further reply within 0.2 s; stopping)"),
        "the lesson's own line, whole:\n{text}"
    );
}

/// The processes (of this user) that still run, given a moment to end, with `variable=value` in
/// their environment: their command lines. Each is stopped.
fn still_running_with(variable: &str) -> Vec<String> {
    let find = || -> Vec<(String, String)> {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|entry| {
                let pid = entry.file_name().to_str()?.parse::<u32>().ok()?.to_string();
                let environ = std::fs::read(entry.path().join("environ")).ok()?;
                let found = environ.split(|&b| b == 0).any(|v| v == variable.as_bytes());
                let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
                let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
                (found && test_support::still_running(&pid)).then_some((pid, cmdline))
            })
            .collect()
    };
    let left = find();
    for (pid, _) in &left {
        let _ = Command::new("kill").arg(pid).status();
    }
    left.into_iter()
        .map(|(pid, cmd)| format!("{pid} {cmd}"))
        .collect()
}

/// Bad input is a usage error: no lesson, an unknown lesson or scenario, a missing listing.
#[test]
fn bad_input_is_a_usage_error() {
    for (args, words) in [
        (&["trace"][..], "give a LESSON"),
        (&["trace", "nope"], "unknown lesson 'nope'"),
        (
            &["trace", "socket-info", "--scenario", "nope"],
            "socket-info has no scenario 'nope'",
        ),
        (
            &["trace", "socket-info", "--listing", "/nonexistent.py"],
            "cannot read the listing",
        ),
        (
            &["trace", "http-fetch", "--scenario"],
            "--scenario needs a NAME",
        ),
        (
            &["trace", "socket-info", "--listing"],
            "--listing needs a LISTING.py",
        ),
        (
            &["trace", "socket-info", "--nope"],
            "trace takes --scenario NAME, --listing FILE, --pcap FILE, --link SPEC or --seed N, \
             not '--nope' (the lesson's own options go after `--`)",
        ),
        (
            &["trace", "tcp-listener", "--", "51423"],
            "tcp-listener is a server: trace runs it on 127.0.0.1:51423",
        ),
        (
            &[
                "trace",
                "http-fetch",
                "--scenario",
                "server-resets",
                "127.0.0.1",
            ],
            "a --scenario runs the lesson with its page's arguments",
        ),
        (&["trace", "socket-info", "--pcap"], "--pcap needs a FILE"),
    ] {
        cmd(COURSE)
            .args(args)
            .env("COURSE_NO_BUILD", "1")
            .assert_error(2, words);
    }
}

/// A listing that fails (a typo, a missing module) is not silently shown as a short list: the trace
/// says it did not run as the lesson did, with the last line it printed.
#[test]
fn a_listing_that_fails_says_so() {
    let Some(_turn) = available(&["socket-info", "tcp-listener"]) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("course-trace-failing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let listing = dir.join("info.py");
    std::fs::write(&listing, "import socket\nprint(undefined_name)\n").unwrap();
    let text = trace_listing("socket-info", &listing, None);
    assert!(
        text.contains("the listing did not run as the lesson did")
            && text.contains("it exited 1: NameError: name 'undefined_name' is not defined"),
        "{text}"
    );
    // The same without a namespace (an `unshare` that always fails): the calls alone, the
    // listing's beside them.
    let fake = dir.join("bin");
    std::fs::create_dir_all(&fake).unwrap();
    std::fs::write(fake.join("unshare"), "#!/bin/sh\nexit 1\n").unwrap();
    Command::new("chmod")
        .arg("+x")
        .arg(fake.join("unshare"))
        .status()
        .unwrap();
    let text = trace_listing("socket-info", &listing, Some(&fake));
    // --pcap asks for packets there are none of without a namespace: one line, exit 1, at once.
    let path = std::env::var("PATH").unwrap_or_default();
    cmd(COURSE)
        .args(["trace", "socket-info", "--pcap"])
        .arg(dir.join("x.pcap"))
        .env("PATH", format!("{}:{path}", fake.display()))
        .env("COURSE_NO_BUILD", "1")
        .assert_error(1, "--pcap");
    assert!(!dir.join("x.pcap").exists());
    let _ = std::fs::remove_dir_all(&dir);
    assert!(text.contains("showing the system calls alone"), "{text}");
    assert!(
        text.contains("the listing did not run as the lesson did")
            && text.contains("it exited 1: NameError: name 'undefined_name' is not defined"),
        "{text}"
    );
}

/// udp.py waits for replies for ever, by design: trace stops it soon after the lesson's side is
/// done (it waited for the 20 s limit, silent, then called that a failure), says why in compare's
/// words, and shows its last call still waiting where the lesson's timed out.
#[test]
fn a_listing_that_waits_for_ever_is_stopped_soon() {
    let Some(_turn) = available(&["udp-client", "udp-echo-server"]) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("course-trace-udp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let listing = dir.join("udp.py");
    std::fs::write(
        &listing,
        "import socket, sys\n\
         s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
         s.connect((sys.argv[1], int(sys.argv[2])))\n\
         print('Enter data to transmit: ')\n\
         data = sys.stdin.readline().strip()\n\
         s.sendall(data.encode())\n\
         s.shutdown(1)\n\
         print('Looking for replies; press Ctrl-C or Ctrl-Break to stop.')\n\
         while 1:\n    buf = s.recv(2048)\n    if not len(buf):\n        break\n    sys.stdout.write(buf.decode())\n",
    )
    .unwrap();
    let began = std::time::Instant::now();
    let text = trace_listing("udp-client", &listing, None);
    let took = began.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        took < std::time::Duration::from_secs(10),
        "stopped soon after the lesson's side, not at the limit ({took:?}):\n{text}"
    );
    assert!(
        text.contains("the listing waits for ever, by design") && !text.contains("did not run"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("recvfrom(3) … still waiting")
                && l.ends_with("| recvfrom(3) = -1 EAGAIN")),
        "the listing's last call still waits where the lesson's timed out:\n{text}"
    );
    // The same call on both sides is not marked different: each met its partner on 51423.
    assert!(
        text.lines()
            .any(|l| l.starts_with("connect(3, 127.0.0.1:51423) ")
                && l.ends_with("   connect(3, 127.0.0.1:51423)")),
        "{text}"
    );
}

/// `cargo course trace LESSON --listing LISTING` with python3 as the listing's interpreter, and
/// `first_in_path` searched first for programs: what it printed, once it exited 0.
#[track_caller]
fn trace_listing(lesson: &str, listing: &Path, first_in_path: Option<&Path>) -> String {
    let mut trace = cmd(COURSE)
        .args(["trace", lesson, "--listing"])
        .arg(listing)
        .env("PYTHON", "python3")
        .env("COURSE_NO_BUILD", "1");
    if let Some(dir) = first_in_path {
        let path = std::env::var("PATH").unwrap_or_default();
        trace = trace.env("PATH", format!("{}:{path}", dir.display()));
    }
    let done = trace.run();
    let text = done.stdout_text();
    assert_eq!(done.code, Some(0), "{text}\n{}", done.stderr);
    text
}

/// SIGTERM to the course tool alone while a traced listing serves: the tool ends as interrupted
/// (130) and the listing is gone too, though its strace ignores the signal, and the run sits in a
/// namespace behind a second course process.
#[test]
fn a_terminated_trace_leaves_nothing_running() {
    let Some(_turn) = available(&["tcp-listener"]) else {
        return;
    };
    let server = StandIn::new("term", true);
    let mut trace = cmd(COURSE)
        .args(["trace", "tcp-listener", "--listing"])
        .arg(&server.listing)
        .env("PYTHON", "python3")
        .env("COURSE_NO_BUILD", "1")
        .start();
    let deadline = std::time::Instant::now() + test_support::PATIENCE;
    let pid = loop {
        match std::fs::read_to_string(&server.pid_file) {
            Ok(pid) if !pid.is_empty() => break pid,
            _ if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            _ => panic!("the listing never started"),
        }
    };
    let kill = Command::new("kill").arg(trace.pid().to_string()).status();
    assert!(kill.unwrap().success());
    let code = trace.wait();
    let left = server.still_running(&pid);
    assert_eq!(code, Some(130), "stopped as an interrupted program");
    assert!(
        !left,
        "the traced listing {pid} still runs after the trace was stopped"
    );
}

/// A server listing that does not set SO_REUSEADDR is compared all the same, the difference
/// marked: the lesson binds the same port after it (Linux refuses that bind while the listing's
/// side of a connection sits in TIME_WAIT, so the trace's own client ends each one with a reset).
#[test]
fn a_listing_without_reuseaddr_is_compared() {
    let Some(_turn) = available(&["tcp-listener"]) else {
        return;
    };
    let server = StandIn::new("noreuse", false);
    let text = trace_listing("tcp-listener", &server.listing, None);
    assert!(!text.contains("did not run as the lesson did"), "{text}");
    assert!(
        text.lines().any(|l| l
            .trim_start()
            .starts_with("> setsockopt(3, SO_REUSEADDR, 1)")),
        "{text}"
    );
    if let Ok(pid) = std::fs::read_to_string(&server.pid_file) {
        server.still_running(&pid);
    }
}

/// A stand-in for a server listing (Python 2 and 3 alike) in a folder of its own: it binds the
/// listing's port on every interface (`''`, as the book's servers do), writes its pid to
/// `pid_file` once it listens, and accepts for ever. The pid as the machine sees it: trace runs in
/// a PID namespace of its own, where getpid() gives the namespace's number (`/proc/self` names
/// the process in the machine's /proc, which the namespace keeps).
struct StandIn {
    dir: std::path::PathBuf,
    listing: std::path::PathBuf,
    pid_file: std::path::PathBuf,
}

impl StandIn {
    /// With `reuse`, it sets SO_REUSEADDR before it binds, as the book's servers do.
    fn new(name: &str, reuse: bool) -> StandIn {
        let dir = std::env::temp_dir().join(format!("course-trace-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pid_file = dir.join("pid");
        let listing = dir.join("server.py");
        let reuse = if reuse {
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        } else {
            ""
        };
        let text = format!(
            "import os, socket\n\
             s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n\
             {reuse}\
             s.bind(('', 51423))\n\
             s.listen(5)\n\
             open({:?}, 'w').write(os.readlink('/proc/self'))\n\
             while 1:\n    c, a = s.accept()\n    print('Got connection from', c.getpeername())\n    c.close()\n",
            pid_file.to_string_lossy()
        );
        std::fs::write(&listing, text).unwrap();
        StandIn {
            dir,
            listing,
            pid_file,
        }
    }

    /// Whether the process `pid` still runs (given a moment to end); it is stopped either way.
    fn still_running(&self, pid: &str) -> bool {
        let left = test_support::still_running(pid.trim());
        let _ = Command::new("kill")
            .arg(pid.trim())
            .stderr(std::process::Stdio::null())
            .status();
        left
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether the lab link can run here too (a user, network and PID namespace, /dev/net/tun, the
/// wire built), besides what [`available`] asks: then the turn to trace.
fn link_available(lessons: &[&str]) -> Option<MutexGuard<'static, ()>> {
    if !Path::new("/dev/net/tun").exists() {
        test_support::skip("no /dev/net/tun: the lab link needs the TUN driver");
        return None;
    }
    let namespaces = Command::new("unshare")
        .args(["-rnpf", "true"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !namespaces {
        test_support::skip("no unprivileged user, network and PID namespaces for the lab link");
        return None;
    }
    let mut needed = lessons.to_vec();
    needed.push("lab-wire");
    available(&needed)
}

/// socket-info across a seeded lossy link (seed 3 loses the first SYN): it still completes, the
/// lost SYN ends in ✗ with why under it, the SYN sent again is marked a retransmission below it,
/// the handshake then goes through, and the trace ends with the link's summary line.
#[test]
fn a_lossy_link_shows_the_lost_syn_and_its_retransmission() {
    let Some(_turn) = link_available(&["socket-info", "tcp-listener"]) else {
        return;
    };
    let ladder = Ladder::trace(&["socket-info", "--link", "loss=50%", "--seed", "3"]);
    let text = &ladder.0;
    let lines = ladder.lines();
    let connect = ladder.row("connect(3, 192.0.2.2:51423)");
    assert!(
        lines[connect].contains("── SYN ") && lines[connect].ends_with('✗'),
        "the first SYN dies on the link:\n{text}"
    );
    assert!(
        lines[connect + 1].contains("dropped by loss"),
        "and says why:\n{text}"
    );
    let again = ladder.packet("SYN", false);
    assert!(again > connect, "{text}");
    assert!(
        lines[again + 1].contains("retransmission"),
        "the SYN sent again is marked:\n{text}"
    );
    assert!(ladder.packet("SYN-ACK", true) > again, "{text}");
    assert!(ladder.row("accept4(3) = 4") > again, "{text}");
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with("link: loss 50% both ways, seed 3 — "),
        "{text}"
    );
    assert!(lines.iter().all(|l| l.chars().count() <= 100), "{text}");
}

/// trace --link's command line: a bad spec is a usage error with the grammar (exit 2), as lab's
/// is; --seed wants --link; a lookup has no partner to reach across the link. All before anything
/// is made.
#[test]
fn a_bad_link_is_a_usage_error_with_the_grammar() {
    // Not assert_error: the grammar's lines sit between the error and the usage line.
    let done = cmd(COURSE)
        .args(["trace", "socket-info", "--link", "loss=150%"])
        .env("COURSE_NO_BUILD", "1")
        .run();
    let said = &done.stderr;
    assert_eq!(done.code, Some(2), "{said}");
    assert!(said.starts_with("error: link spec 'loss=150%'"), "{said}");
    assert!(said.contains("\nA link spec is a profile"), "{said}");
    assert!(
        said.lines()
            .last()
            .unwrap()
            .starts_with("usage: cargo course trace LESSON"),
        "{said}"
    );
    cmd(COURSE)
        .args(["trace", "socket-info", "--seed", "3"])
        .env("COURSE_NO_BUILD", "1")
        .assert_error(2, "--seed N goes with --link SPEC");
    cmd(COURSE)
        .args(["trace", "addr-info", "--link", "loss=10%"])
        .env("COURSE_NO_BUILD", "1")
        .assert_error(2, "addr-info asks the resolver only: it has no partner");
}
