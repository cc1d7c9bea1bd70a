//! addr-info against this machine's resolver: the printed tuples must be exactly what getaddrinfo
//! (called here with the same all-zero hints, as Python calls it) returns, in its order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dns_lookup::{AddrFamily, AddrInfoHints, Protocol, SockType};
use lesson_common::py_addr;
use test_support::{Cmd, Finished, cmd};

const BIN: &str = env!("CARGO_BIN_EXE_addr-info");

fn addr_info(args: &[&str]) -> Finished {
    cmd(BIN).args(args).run()
}

/// The constant names for this OS's numbers, from dns-lookup's constants (the lesson uses socket2's).
fn names(family: i32, socktype: i32, proto: i32) -> String {
    let family = match family {
        f if f == i32::from(AddrFamily::Inet) => "AF_INET",
        f if f == i32::from(AddrFamily::Inet6) => "AF_INET6",
        _ => "?",
    };
    let socktype = match socktype {
        t if t == i32::from(SockType::Stream) => "SOCK_STREAM",
        t if t == i32::from(SockType::DGram) => "SOCK_DGRAM",
        t if t == i32::from(SockType::Raw) => "SOCK_RAW",
        _ => "?",
    };
    let proto = match proto {
        0 => "IPPROTO_IP",
        p if p == i32::from(Protocol::TCP) => "IPPROTO_TCP",
        p if p == i32::from(Protocol::UDP) => "IPPROTO_UDP",
        _ => "?",
    };
    format!("{family} {socktype} {proto}")
}

/// What the lesson should print: the resolver's own answer, one Python 2 tuple and comment a line.
fn expected(host: &str, service: Option<&str>) -> String {
    let results = dns_lookup::getaddrinfo(Some(host), service, Some(AddrInfoHints::default()));
    let mut text = String::new();
    for info in results.unwrap() {
        let info = info.unwrap();
        let (f, t, p) = (info.address, info.socktype, info.protocol);
        let canon = info.canonname.unwrap_or_default();
        let tuple = format!("({f}, {t}, {p}, '{canon}', {})", py_addr(info.sockaddr));
        text += &format!("{tuple}  # {}\n", names(f, t, p));
    }
    text
}

fn assert_prints_resolver_answer(args: &[&str]) -> String {
    let got = addr_info(args);
    assert_eq!((got.code, got.stderr.as_str()), (Some(0), ""), "{args:?}");
    let stdout = got.stdout_text();
    assert_eq!(stdout, expected(args[0], args.get(1).copied()), "{args:?}");
    stdout
}

/// The TCP tuple for an address and port, with numbers from this OS's constants.
fn tcp_line(family: AddrFamily, sockaddr: &str) -> String {
    let (f, t, p) = (
        i32::from(family),
        i32::from(SockType::Stream),
        i32::from(Protocol::TCP),
    );
    format!("({f}, {t}, {p}, '', {sockaddr})  # {}", names(f, t, p))
}

/// `localhost http` prints the resolver's tuples, among them 127.0.0.1 port 80 over TCP.
#[test]
fn localhost_with_a_service_prints_each_tuple() {
    let stdout = assert_prints_resolver_answer(&["localhost", "http"]);
    let line = tcp_line(AddrFamily::Inet, "('127.0.0.1', 80)");
    assert!(stdout.lines().any(|l| l == line), "{stdout}");
}

/// Without a service the port is 0 in every tuple (Python's None), and every socket type appears.
#[test]
fn localhost_without_a_service_has_port_zero() {
    let stdout = assert_prints_resolver_answer(&["localhost"]);
    assert!(stdout.lines().count() >= 2, "{stdout}");
    assert!(stdout.lines().all(|l| l.contains("', 0")), "{stdout}");
}

/// A numeric IPv4 host needs no lookup: its tuples carry the address and port as given.
#[test]
fn numeric_ipv4_host() {
    let stdout = assert_prints_resolver_answer(&["127.0.0.1", "80"]);
    assert!(
        stdout
            .lines()
            .any(|l| l == tcp_line(AddrFamily::Inet, "('127.0.0.1', 80)")),
        "{stdout}"
    );
    assert!(
        stdout.contains("  # AF_INET SOCK_DGRAM IPPROTO_UDP\n"),
        "{stdout}"
    );
}

/// A numeric IPv6 host prints Python's four-part address, `('::1', 80, 0, 0)`.
#[test]
fn numeric_ipv6_host() {
    let stdout = assert_prints_resolver_answer(&["::1", "http"]);
    let line = tcp_line(AddrFamily::Inet6, "('::1', 80, 0, 0)");
    assert!(stdout.lines().any(|l| l == line), "{stdout}");
}

/// A service known only for udp (`biff` in /etc/services) is passed through as Python passes it:
/// datagram tuples only, not the three socket types a bare port number would give.
#[test]
fn udp_only_service_gives_datagram_tuples_only() {
    let stdout = assert_prints_resolver_answer(&["localhost", "biff"]);
    assert!(!stdout.is_empty());
    assert!(
        stdout.lines().all(|l| l.contains(" SOCK_DGRAM ")),
        "{stdout}"
    );
}

/// An unknown service is one error line with Python's `[Errno N] text`, exit 1, nothing on stdout.
#[test]
fn unknown_service_is_one_error_line() {
    let got = addr_info(&["localhost", "no-such-service"]);
    let hints = Some(AddrInfoHints::default());
    let error = dns_lookup::getaddrinfo(Some("localhost"), Some("no-such-service"), hints)
        .err()
        .expect("the resolver knows no such service");
    let text = error.to_string();
    let text = text.rsplit(": ").next().unwrap();
    let line = format!(
        "error: getaddrinfo('localhost', 'no-such-service'): [Errno {}] {text}\n",
        error.error_num()
    );
    assert_eq!(
        (got.code, got.stdout_text(), got.stderr),
        (Some(1), String::new(), line)
    );
}

/// A name that does not resolve is one error line in Python's words, exit 1, nothing on stdout.
/// Run in a private network namespace: `.invalid` is reserved never to exist, but asking would
/// still send a query to this machine's DNS server, and tests stay on the machine.
#[test]
fn unresolvable_host_is_one_error_line() {
    let Some(offline) = cmd(BIN).args(["nosuch.invalid", "80"]).offline() else {
        return;
    };
    let got = offline.assert_error(1, "getaddrinfo('nosuch.invalid', '80'): [Errno -");
    assert!(got.stdout.is_empty());
}

/// A port number past 65535 is a usage error, rather than wrapped to port 0 as the C library would.
#[test]
fn port_out_of_range_is_refused() {
    let got = cmd(BIN).args(["127.0.0.1", "65536"]).assert_exit(2);
    assert!(got.stdout.is_empty());
    assert!(
        got.stderr
            .starts_with("error: port '65536' is not a number from 0 to 65535\n")
    );
}

/// Hostile and odd input, with what glibc makes of it. Accepted: `127.1` and `1.2.3` are valid to
/// inet_aton (127.0.0.1 and 1.2.0.3), `::` and `::ffff:127.0.0.1` are IPv6 literals — all numeric,
/// so no resolver is asked. Refused with the contract's exit code and words: everything else.
/// Names longer than DNS allows, and the empty name, fail inside the resolver (checked with strace:
/// no query leaves the machine).
#[test]
fn hostile_input_table() {
    let name300 = "d".repeat(300);
    let (not_utf8, quoted) = test_support::not_unicode_arg();
    let not_utf8_words = format!("{quoted} is not valid UTF-8");
    let mut rows: Vec<(Cmd, i32, &str)> = vec![
        (cmd(BIN).arg("127.1"), 0, "(2, 1, 6, '', ('127.0.0.1', 0))"),
        (cmd(BIN).arg("1.2.3"), 0, "(2, 1, 6, '', ('1.2.0.3', 0))"),
        (
            cmd(BIN).arg("::"),
            0,
            "('::', 0, 0, 0))  # AF_INET6 SOCK_STREAM",
        ),
        (
            cmd(BIN).args(["::ffff:127.0.0.1", "80"]),
            0,
            "('::ffff:127.0.0.1', 80, 0, 0))",
        ),
        (cmd(BIN).args(["localhost", "0"]), 0, "('127.0.0.1', 0))"),
        (
            cmd(BIN).args([name300.as_str(), "80"]),
            1,
            "getaddrinfo('dddd",
        ),
        (
            cmd(BIN).args(["", "80"]),
            1,
            "getaddrinfo('', '80'): [Errno -2] Name or service not known",
        ),
        (
            cmd(BIN).args(["::1%nosuchif", "80"]),
            1,
            "getaddrinfo('::1%nosuchif', '80'): [Errno -2] ",
        ),
        (
            cmd(BIN).args(["localhost", "-1"]),
            1,
            "getaddrinfo('localhost', '-1'): [Errno -8] ",
        ),
        (
            cmd(BIN).args(["localhost", "no-such-service"]),
            1,
            "getaddrinfo('localhost', 'no-such-service'): [Errno -8] ",
        ),
        (
            cmd(BIN).args(["localhost", "65536"]),
            2,
            "port '65536' is not a number from 0 to 65535",
        ),
        (
            cmd(BIN).args(["localhost", "99999999999999999999"]),
            2,
            "port '9999",
        ),
        (cmd(BIN).arg(&not_utf8), 2, &not_utf8_words),
        (cmd(BIN), 2, "give a host name or address"),
        (
            cmd(BIN).args(["localhost", "http", "extra"]),
            2,
            "too many arguments",
        ),
        (
            cmd(BIN).args(["--family", "6", "localhost"]),
            2,
            "unknown option '--family'",
        ),
        (cmd(BIN).arg("localhost").stdout_closed(), 1, "Broken pipe"),
    ];
    if test_support::HAS_DEV_FULL {
        rows.push((
            cmd(BIN).arg("localhost").stdout_full(),
            1,
            "No space left on device",
        ));
        rows.push((
            cmd(BIN).arg("--help").stdout_full(),
            1,
            "cannot write the help: No space left",
        ));
    }
    assert!(rows.len() >= 15, "{} rows", rows.len());
    for (run, code, words) in rows {
        if code == 0 {
            let done = run.assert_exit(0);
            assert!(
                done.stdout_text().contains(words),
                "{words}: {}",
                done.stdout_text()
            );
            assert_eq!(done.stderr, "");
        } else {
            run.assert_error(code, words);
        }
    }
}

/// No host is a usage error (exit 2); so are three arguments.
#[test]
fn wrong_number_of_arguments_is_a_usage_error() {
    for args in [&[][..], &["localhost", "http", "extra"][..]] {
        let got = addr_info(args);
        assert_eq!(got.code, Some(2), "{args:?}");
        assert!(
            got.stderr.contains("usage: addr-info HOST [PORT|SERVICE]"),
            "{}",
            got.stderr
        );
    }
}
