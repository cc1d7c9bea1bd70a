//! The decision of `verdict()`, one ending at a time, with canned lookup results.
#![allow(clippy::unwrap_used)]

use super::*;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn failure(kind: LookupErrorKind) -> Failure {
    Failure {
        kind,
        reason: format!("[Errno 0] {kind:?}"),
    }
}

/// A forward lookup that must not happen (the reverse step already decided).
fn no_forward(name: &str) -> Result<Vec<IpAddr>, Failure> {
    panic!("forward lookup of {name} should not be attempted")
}

/// A reverse name whose forward list holds the address validates.
#[test]
fn name_that_leads_back_validates() {
    let forward = |name: &str| {
        assert_eq!(name, "host.example");
        Ok(vec![ip("192.0.2.9"), ip("192.0.2.7")])
    };
    let got = verdict(ip("192.0.2.7"), Ok("host.example".into()), forward);
    assert_eq!(got, Verdict::Validated("host.example".into()));
}

/// A forward list without the address is the listing's "someone is playing tricks" ending.
#[test]
fn name_that_leads_elsewhere_is_a_mismatch() {
    let forward = |_: &str| Ok(vec![ip("192.0.2.8"), ip("2001:db8::7")]);
    let got = verdict(ip("192.0.2.7"), Ok("host.example".into()), forward);
    assert_eq!(got, Verdict::Mismatch("host.example".into()));
}

/// Equal addresses spelled differently match (the listing's string comparison said they did not).
#[test]
fn addresses_compare_as_values_not_strings() {
    let forward = |_: &str| Ok(vec![ip("0:0:0:0:0:0:0:1")]);
    assert_eq!(
        verdict(ip("::1"), Ok("h".into()), forward),
        Verdict::Validated("h".into())
    );
}

/// An IPv4-mapped IPv6 result counts as the IPv4 address it maps, and the other way round.
#[test]
fn mapped_addresses_count_as_ipv4() {
    let mapped = |_: &str| Ok(vec![ip("::ffff:192.0.2.7")]);
    assert_eq!(
        verdict(ip("192.0.2.7"), Ok("h".into()), mapped),
        Verdict::Validated("h".into())
    );
    let plain = |_: &str| Ok(vec![ip("192.0.2.7")]);
    assert_eq!(
        verdict(ip("::ffff:192.0.2.7"), Ok("h".into()), plain),
        Verdict::Validated("h".into())
    );
}

/// An IPv6 result whose low bits happen to match is not the IPv4 address (only ::ffff: maps).
#[test]
fn other_ipv6_forms_do_not_count_as_ipv4() {
    let compat = |_: &str| Ok(vec![ip("::c000:207"), ip("64:ff9b::192.0.2.7")]);
    assert_eq!(
        verdict(ip("192.0.2.7"), Ok("h".into()), compat),
        Verdict::Mismatch("h".into())
    );
}

/// A forward lookup that fails ends with the name and the resolver's reason.
#[test]
fn name_that_does_not_resolve_is_unresolvable() {
    let forward = |_: &str| Err(failure(LookupErrorKind::NoName));
    let got = verdict(ip("192.0.2.7"), Ok("gone.example".into()), forward);
    assert_eq!(
        got,
        Verdict::Unresolvable("gone.example".into(), "[Errno 0] NoName".into())
    );
}

/// "No such name" and "no data" from the reverse lookup mean no host names: normal, exit 0.
#[test]
fn no_reverse_name_is_normal() {
    for kind in [LookupErrorKind::NoName, LookupErrorKind::NoData] {
        assert_eq!(
            verdict(ip("192.0.2.7"), Err(failure(kind)), no_forward),
            Verdict::NoNames
        );
    }
}

/// A resolver that cannot answer is an error, not "no host names" as the listing said.
#[test]
fn resolver_failure_is_an_error() {
    for kind in [
        LookupErrorKind::Again,
        LookupErrorKind::Fail,
        LookupErrorKind::System,
    ] {
        let got = verdict(ip("192.0.2.7"), Err(failure(kind)), no_forward);
        assert_eq!(got, Verdict::ResolverFailed(format!("[Errno 0] {kind:?}")));
    }
}

/// The reason reads as Python's `str(gaierror)`: `[Errno N] text`, without dns-lookup's prefix.
#[test]
fn failure_reason_reads_like_python() {
    let error = LookupError::from(std::io::Error::other("boom"));
    assert_eq!(Failure::from(error).reason, "[Errno 0] boom");
}
