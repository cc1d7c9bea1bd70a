//! dns-validate against this machine's own resolver. Nothing here can fake a DNS answer, so each
//! test either uses an address whose outcome is the same on any machine, or asks the resolver the
//! same question first and expects the ending the design gives for that answer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;

use dns_lookup::LookupErrorKind;
use test_support::{Finished, cmd};

const BIN: &str = env!("CARGO_BIN_EXE_dns-validate");

fn validate(arg: &str) -> Finished {
    cmd(BIN).args(&[arg]).run()
}

/// The ending the design gives for an address, derived from the resolver's own answers.
fn expected_for(arg: &str) -> (String, Option<i32>) {
    let ip: IpAddr = arg.parse().unwrap();
    match dns_lookup::lookup_addr(&ip.to_canonical()) {
        Ok(name) => {
            let forward: Vec<IpAddr> = dns_lookup::lookup_host(&name).unwrap().collect();
            match forward
                .iter()
                .any(|a| a.to_canonical() == ip.to_canonical())
            {
                true => (format!("Validated hostname: {name}\n"), Some(0)),
                false => (
                    format!(
                        "Got hostname {name}, but on forward lookup,\n\
                         original IP {arg} did not appear in IP address list.\n"
                    ),
                    Some(1),
                ),
            }
        }
        Err(e) if matches!(e.kind(), LookupErrorKind::NoName | LookupErrorKind::NoData) => (
            format!("No host names available for {arg}; this may be normal.\n"),
            Some(0),
        ),
        // A resolver that cannot answer: nothing on stdout, one error line (checked by the caller).
        Err(_) => (String::new(), Some(1)),
    }
}

fn assert_matches_resolver(arg: &str) {
    let (stdout, code) = expected_for(arg);
    let got = validate(arg);
    assert_eq!(got.stdout_text(), stdout, "stderr: {}", got.stderr);
    assert_eq!(got.code, code, "stderr: {}", got.stderr);
    if stdout.is_empty() {
        let line = format!("error: reverse lookup of {arg} failed: [Errno ");
        assert!(got.stderr.starts_with(&line), "stderr: {}", got.stderr);
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

/// An address without a name ends as the resolver says: "no host names" (exit 0) when it answers
/// "no such name" — this machine's case for 127.0.0.2 — or an error line (exit 1) when it cannot answer.
#[test]
fn address_without_a_name_is_reported_as_the_resolver_answers() {
    let ip: IpAddr = "127.0.0.2".parse().unwrap();
    if let Ok(name) = dns_lookup::lookup_addr(&ip) {
        panic!("this machine names 127.0.0.2 ({name}); the test needs an address without a name");
    }
    assert_matches_resolver("127.0.0.2");
}

/// An IPv6 address goes through the same steps (here ::1, named or not depending on /etc/hosts).
#[test]
fn ipv6_address_gets_the_resolvers_ending() {
    assert_matches_resolver("::1");
}

/// An IPv4-mapped IPv6 address is looked up as the IPv4 address it carries, printed as typed.
#[test]
fn mapped_address_is_checked_as_ipv4() {
    let name = dns_lookup::lookup_addr(&"127.0.0.1".parse().unwrap()).unwrap();
    let got = validate("::ffff:127.0.0.1");
    assert_eq!(got.stdout_text(), format!("Validated hostname: {name}\n"));
    assert_eq!(got.code, Some(0));
}

/// A name or a short form such as `127.1` is not an IP address: usage error, exit 2, no lookup.
#[test]
fn non_address_is_a_usage_error() {
    for arg in ["localhost", "127.1", ""] {
        let got = validate(arg);
        assert_eq!(got.code, Some(2), "{arg:?}");
        assert!(got.stdout.is_empty(), "{arg:?}");
        let first = got.stderr.lines().next().unwrap_or_default();
        assert_eq!(first, format!("error: '{arg}' is not an IP address"));
    }
}

/// No argument, or two, is a usage error with the usage line.
#[test]
fn wrong_number_of_arguments_is_a_usage_error() {
    for args in [&[][..], &["127.0.0.1", "127.0.0.2"][..]] {
        let got = cmd(BIN).args(args).run();
        assert_eq!(got.code, Some(2), "{args:?}");
        assert!(
            got.stderr.contains("usage: dns-validate IP_ADDRESS"),
            "{}",
            got.stderr
        );
    }
}
