//! dns-validate against this machine's own resolver, never a DNS server: each test uses an address
//! that /etc/hosts answers (127.0.0.1), or runs offline in a private network namespace, where a
//! query cannot leave and the resolver fails at once; what the machine names without DNS is asked
//! offline too. The endings a real DNS answer would pick are unit tests of `verdict()`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use test_support::{Cmd, Finished, cmd};

const BIN: &str = env!("CARGO_BIN_EXE_dns-validate");

fn validate(arg: &str) -> Finished {
    cmd(BIN).args([arg]).run()
}

/// The name this machine gives `ip` without a DNS server: `getent hosts` makes the same NSS lookup
/// as the lesson (/etc/hosts, then DNS), run offline, where the DNS step fails at once. Asked in
/// this process, a lookup of an address that /etc/hosts does not name goes out to the configured
/// resolver (issue 17). `Some(None)` when nothing local names it; `None` (the test is skipped)
/// where no private network namespace can be made.
fn local_name(ip: &str) -> Option<Option<String>> {
    let probe = cmd("getent").args(["hosts", ip]).offline()?.run();
    match probe.code {
        // `127.0.0.2       name alias…`: the first name is the one a reverse lookup returns.
        Some(0) => {
            let line = probe.stdout_text();
            let name = line.split_whitespace().nth(1);
            Some(Some(name.expect("a name after the address").to_string()))
        }
        // 2: not found (here: not in /etc/hosts, and the offline DNS step failed).
        Some(2) => Some(None),
        other => panic!("getent hosts {ip} gave {other:?}: {}", probe.stderr),
    }
}

/// 127.0.0.1 has a name on every machine (/etc/hosts) that leads back to it: validated, exit 0.
#[test]
fn loopback_validates_to_the_machines_name() {
    let got = validate("127.0.0.1");
    let name = dns_lookup::lookup_addr(&"127.0.0.1".parse().unwrap()).unwrap();
    assert_eq!(got.stdout_text(), format!("Validated hostname: {name}\n"));
    assert_eq!((got.code, got.stderr.as_str()), (Some(0), ""));
}

/// An address with no line in /etc/hosts goes on to DNS. Here that runs in a private network
/// namespace, where no DNS server can be reached: the resolver cannot answer, which is an error
/// line (exit 1), not the listing's "No host names available" (that is for "no such name").
#[test]
fn resolver_that_cannot_answer_is_an_error() {
    let Some(local) = local_name("127.0.0.2") else {
        return;
    };
    if let Some(name) = local {
        test_support::skip(&format!(
            "this machine names 127.0.0.2 ({name}) without DNS"
        ));
        return;
    }
    let Some(offline) = cmd(BIN).arg("127.0.0.2").offline() else {
        return;
    };
    let got = offline.assert_error(1, "reverse lookup of 127.0.0.2 failed: [Errno -3] ");
    assert!(got.stdout.is_empty());
}

/// An IPv6 address goes through the same steps, offline: named by /etc/hosts or an error line.
#[test]
fn ipv6_address_gets_the_resolvers_ending() {
    let Some(local) = local_name("::1") else {
        return;
    };
    let Some(offline) = cmd(BIN).arg("::1").offline() else {
        return;
    };
    let got = offline.run();
    match local {
        // /etc/hosts names ::1: validated (or not) without any DNS.
        Some(name) => assert!(got.stdout_text().contains(&name), "{}", got.stdout_text()),
        None => assert!(
            got.stderr
                .starts_with("error: reverse lookup of ::1 failed: [Errno -"),
            "{}",
            got.stderr
        ),
    }
}

/// An IPv4-mapped IPv6 address is looked up as the IPv4 address it carries, printed as typed.
#[test]
fn mapped_address_is_checked_as_ipv4() {
    let name = dns_lookup::lookup_addr(&"127.0.0.1".parse().unwrap()).unwrap();
    let got = validate("::ffff:127.0.0.1");
    assert_eq!(got.stdout_text(), format!("Validated hostname: {name}\n"));
    assert_eq!(got.code, Some(0));
}

/// Hostile and odd arguments: anything that is not one IP address is a usage error, before any
/// lookup; the unspecified addresses name no host. `::ffff:127.0.0.1` is 127.0.0.1 (checked above).
#[test]
fn hostile_input_table() {
    let long = "1".repeat(300);
    let (not_utf8, quoted) = test_support::not_unicode_arg();
    let mut rows: Vec<(Cmd, i32, String)> = vec![
        (
            cmd(BIN).arg("localhost"),
            2,
            "'localhost' is not an IP address".into(),
        ),
        (
            cmd(BIN).arg("127.1"),
            2,
            "'127.1' is not an IP address".into(),
        ),
        (
            cmd(BIN).arg("1.2.3"),
            2,
            "'1.2.3' is not an IP address".into(),
        ),
        (cmd(BIN).arg(""), 2, "'' is not an IP address".into()),
        (
            cmd(BIN).arg("::"),
            2,
            "'::' is the unspecified address, not a host's address".into(),
        ),
        (
            cmd(BIN).arg("0.0.0.0"),
            2,
            "'0.0.0.0' is the unspecified address".into(),
        ),
        (
            cmd(BIN).arg("::ffff:0.0.0.0"),
            2,
            "'::ffff:0.0.0.0' is the unspecified address".into(),
        ),
        (
            cmd(BIN).arg(&long),
            2,
            format!("'{long}' is not an IP address"),
        ),
        (
            cmd(BIN).arg("127.0.0.1 "),
            2,
            "'127.0.0.1 ' is not an IP address".into(),
        ),
        (
            cmd(BIN).arg("256.0.0.1"),
            2,
            "'256.0.0.1' is not an IP address".into(),
        ),
        (
            cmd(BIN).arg("::1%lo"),
            2,
            "'::1%lo' is not an IP address".into(),
        ),
        (cmd(BIN).arg("-1"), 2, "'-1' is not an IP address".into()),
        (
            cmd(BIN).arg(&not_utf8),
            2,
            format!("{quoted} is not valid UTF-8"),
        ),
        (cmd(BIN), 2, "give the IP address to validate".into()),
        (
            cmd(BIN).args(["127.0.0.1", "127.0.0.2"]),
            2,
            "too many arguments".into(),
        ),
        (
            cmd(BIN).args(["--reverse", "127.0.0.1"]),
            2,
            "unknown option '--reverse'".into(),
        ),
        (
            cmd(BIN).arg("127.0.0.1").stdout_closed(),
            1,
            "Broken pipe".into(),
        ),
    ];
    // /dev/full is Linux's: elsewhere the closed pipe above stands for a stdout that fails.
    if test_support::HAS_DEV_FULL {
        rows.push((
            cmd(BIN).arg("127.0.0.1").stdout_full(),
            1,
            "No space left on device".into(),
        ));
        rows.push((
            cmd(BIN).arg("--help").stdout_full(),
            1,
            "cannot write the help: No space left".into(),
        ));
    }
    assert!(rows.len() >= 15, "{} rows", rows.len());
    for (run, code, words) in rows {
        let done = run.assert_error(code, &words);
        assert!(done.stdout.is_empty());
    }
}
