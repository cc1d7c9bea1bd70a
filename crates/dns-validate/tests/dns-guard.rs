//! scripts/dns-guard, the check that no test of the workspace sends a DNS query (issue 17), and its
//! query logger (scripts/dns-logger.rs, compiled here as a module). The guard must fail a program
//! that asks DNS anything, name what it asked, and leave every other run as it was. dns-validate is
//! the program that asks: a reverse lookup of 192.0.2.1 (TEST-NET-1, which /etc/hosts does not
//! name) goes to the resolver. Every query stays inside the guard's own namespace, at its logger.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../../scripts/dns-logger.rs"]
mod dns_logger;

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::thread;

use dns_logger::{Log, Question, Server, describe, question, refused};
use test_support::{Cmd, PATIENCE, cmd};

const BIN: &str = env!("CARGO_BIN_EXE_dns-validate");
const GUARD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/dns-guard");

/// A query as a resolver writes it: id 0x1234, recursion desired, one question (class IN).
fn query(name: &str, kind: u16) -> Vec<u8> {
    let mut bytes = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.split('.') {
        bytes.push(u8::try_from(label.len()).unwrap());
        bytes.extend_from_slice(label.as_bytes());
    }
    bytes.push(0);
    bytes.extend_from_slice(&kind.to_be_bytes());
    bytes.extend_from_slice(&[0, 1]);
    bytes
}

/// `scripts/dns-guard --run PROGRAM ARGS…`, or `None` (the test is skipped, as the guard's own
/// `--env` says why) where the guard cannot run here.
fn guarded(program: &str, args: &[&str]) -> Option<Cmd> {
    let probe = cmd(GUARD).arg("--env").run();
    let exports = probe.stdout_text();
    if exports.contains("DNS_GUARD=skipped") {
        test_support::skip(probe.stderr.trim());
        return None;
    }
    assert!(
        exports.contains("DNS_GUARD=on"),
        "{exports}{}",
        probe.stderr
    );
    Some(cmd(GUARD).arg("--run").arg(program).args(args))
}

/// The question is read back as the log shows it: type mnemonic and dotted name.
#[test]
fn reads_the_question_of_a_query() {
    let ptr = query("2.0.0.127.in-addr.arpa", 12);
    let got = question(&ptr).unwrap();
    let want = Question {
        name: "2.0.0.127.in-addr.arpa".into(),
        kind: "PTR".into(),
        end: ptr.len(),
    };
    assert_eq!(got, want);
    assert_eq!(describe(&query("localhost", 28)), "AAAA localhost");
    assert_eq!(describe(&query("x.example", 99)), "TYPE99 x.example");
    // Cut short, or with no question: still logged, as what it is.
    assert_eq!(describe(&ptr[..20]), "unreadable query of 20 bytes");
    assert_eq!(describe(&ptr[..12]), "unreadable query of 12 bytes");
}

/// The answer is REFUSED for the same id and question, so the resolver gives up at once.
#[test]
fn answers_refused_with_the_question() {
    let ptr = query("2.0.0.127.in-addr.arpa", 12);
    let answer = refused(&ptr).unwrap();
    assert_eq!(answer[..4], [0x12, 0x34, 0x81, 0x05]);
    assert_eq!(answer[4..12], [0, 1, 0, 0, 0, 0, 0, 0]);
    assert_eq!(answer[12..], ptr[12..]);
    // A header alone: REFUSED, no question.
    assert_eq!(refused(&ptr[..12]).unwrap()[4..6], [0, 0]);
    assert_eq!(refused(&ptr[..11]), None);
}

/// Queries over UDP and over TCP are answered and logged, and those already sent when the stop
/// comes are still read.
#[test]
fn logs_every_query_over_udp_and_tcp() {
    let path = std::env::temp_dir().join(format!("dns-guard-test-{}.log", std::process::id()));
    let log = Log::new(File::create(&path).unwrap());
    let server = Server::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = server.local_addr().unwrap();
    thread::scope(|scope| {
        let serving = scope.spawn(|| server.serve(&log));

        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        udp.set_read_timeout(Some(PATIENCE)).unwrap();
        udp.send_to(&query("2.0.0.127.in-addr.arpa", 12), addr)
            .unwrap();
        let mut buf = [0; 512];
        let n = test_support::recv_from(&udp, &mut buf).unwrap().0;
        assert_eq!(buf[3] & 0x0f, 5, "REFUSED over UDP: {:?}", &buf[..n]);

        let mut tcp = TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(PATIENCE)).unwrap();
        let aaaa = query("localhost", 28);
        tcp.write_all(&u16::try_from(aaaa.len()).unwrap().to_be_bytes())
            .unwrap();
        tcp.write_all(&aaaa).unwrap();
        let mut len = [0; 2];
        tcp.read_exact(&mut len).unwrap();
        let mut answer = vec![0; usize::from(u16::from_be_bytes(len))];
        tcp.read_exact(&mut answer).unwrap();
        assert_eq!(answer[3] & 0x0f, 5, "REFUSED over TCP: {answer:?}");
        drop(tcp);

        // Sent, then the stop at once: the server reads what is waiting before it returns.
        udp.send_to(&query("late.example", 1), addr).unwrap();
        server.stop().unwrap();
        serving.join().unwrap().unwrap();
    });
    let logged = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(
        logged,
        "udp PTR 2.0.0.127.in-addr.arpa\ntcp AAAA localhost\nudp A late.example\n"
    );
}

/// A program that sends a DNS query fails under the guard, even when it exits 0, and the guard
/// names the query; glibc's `use-vc` option sends it over TCP, which is caught the same way.
#[test]
fn guard_fails_a_program_that_asks_dns() {
    let script = "\"$0\" 192.0.2.1; exit 0";
    let Some(udp) = guarded("sh", &["-c", script, BIN]) else {
        return;
    };
    let got = udp.run();
    assert_eq!(got.code, Some(1), "{}", got.stderr);
    assert!(
        got.stderr
            .contains("error: reverse lookup of 192.0.2.1 failed: [Errno -3] "),
        "the lesson's own error line: {}",
        got.stderr
    );
    assert!(
        got.stderr.contains("dns-guard: FAILED: sh sent ")
            && got.stderr.contains("udp PTR 1.2.0.192.in-addr.arpa ("),
        "{}",
        got.stderr
    );

    let tcp = guarded(BIN, &["192.0.2.1"])
        .unwrap()
        .env("RES_OPTIONS", "use-vc");
    let got = tcp.run();
    assert_eq!(got.code, Some(1), "{}", got.stderr);
    assert!(
        got.stderr.contains("tcp PTR 1.2.0.192.in-addr.arpa ("),
        "{}",
        got.stderr
    );
}

/// A program that asks nothing runs as it would without the guard: same output, same exit code,
/// not a word from the guard.
#[test]
fn guard_leaves_a_program_that_asks_nothing_alone() {
    let Some(run) = guarded(BIN, &["127.0.0.1"]) else {
        return;
    };
    let plain = cmd(BIN).arg("127.0.0.1").run();
    let got = run.run();
    assert_eq!(
        (got.code, got.stdout_text(), got.stderr.as_str()),
        (Some(0), plain.stdout_text(), "")
    );
    let usage = guarded(BIN, &["::"]).unwrap().run();
    assert_eq!(usage.code, Some(2), "{}", usage.stderr);
    assert!(!usage.stderr.contains("dns-guard"), "{}", usage.stderr);
}
