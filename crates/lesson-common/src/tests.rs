use super::*;
use std::net::{Ipv6Addr, SocketAddrV6};
use std::time::Duration;

fn args(list: &[&str]) -> Result<Args, Exit> {
    Args::parse(list.iter().map(|s| s.to_string()))
}

/// Decimal ports across the whole range parse; anything else is an error that names the value.
#[test]
fn parse_port_table() {
    for (text, port) in [("0", 0), ("80", 80), ("51423", 51423), ("65535", 65535)] {
        assert_eq!(parse_port(text, Protocol::TCP).unwrap(), port, "{text}");
    }
    for bad in [
        "abc",
        "-1",
        "65536",
        "",
        "no-such-service",
        "8 0",
        "99999999999",
        "+",
    ] {
        let message = parse_port(bad, Protocol::TCP).unwrap_err().to_string();
        assert!(
            message.contains(&format!("'{bad}'")),
            "{bad:?} gave {message:?}"
        );
        assert!(!message.contains('\n'), "{message:?}");
    }
}

/// Service names resolve as Python's getservbyname does, per protocol (needs /etc/services).
#[test]
fn parse_port_service_names() {
    if !std::path::Path::new("/etc/services").exists() {
        eprintln!("skipped: no /etc/services on this machine (package netbase)");
        return;
    }
    assert_eq!(parse_port("http", Protocol::TCP).unwrap(), 80);
    assert_eq!(parse_port("ssh", Protocol::TCP).unwrap(), 22);
    assert_eq!(parse_port("domain", Protocol::UDP).unwrap(), 53);
    let message = parse_port("no-such-service", Protocol::UDP)
        .unwrap_err()
        .to_string();
    assert_eq!(message, "unknown udp service 'no-such-service'");
}

/// Addresses print exactly as Python 2 prints getsockname()/getpeername() tuples.
#[test]
fn python_address_notation() {
    assert_eq!(
        py_addr("127.0.0.1:51423".parse().unwrap()).to_string(),
        "('127.0.0.1', 51423)"
    );
    assert_eq!(
        py_addr("[::1]:80".parse().unwrap()).to_string(),
        "('::1', 80, 0, 0)"
    );
    let scoped = SocketAddrV6::new(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1), 8080, 7, 2);
    assert_eq!(
        py_addr(scoped.into()).to_string(),
        "('fe80::1', 8080, 7, 2)"
    );
    let mapped: SocketAddr = "[::ffff:127.0.0.1]:5".parse().unwrap();
    assert_eq!(py_addr(mapped).to_string(), "('::ffff:127.0.0.1', 5, 0, 0)");
}

/// `--help` wins anywhere; options come out in both spellings; leftovers are checked.
#[test]
fn command_line() {
    assert!(matches!(args(&["x", "--help"]), Err(Exit::Help)));
    assert!(matches!(args(&["-h"]), Err(Exit::Help)));

    let mut a = args(&["--bind", "::", "0", "--pause=2"]).unwrap();
    assert_eq!(a.option("--bind").unwrap().as_deref(), Some("::"));
    assert_eq!(a.option("--pause").unwrap().as_deref(), Some("2"));
    assert_eq!(a.option("--timeout").unwrap(), None);
    assert_eq!(a.positional(1).unwrap(), ["0"]);

    let mut a = args(&["--pause", "0.5", "--timeout=-1", "--wait", "x"]).unwrap();
    assert_eq!(
        a.seconds("--pause", Duration::ZERO).unwrap(),
        Duration::from_millis(500)
    );
    assert_eq!(
        a.seconds("--other", Duration::from_secs(3)).unwrap(),
        Duration::from_secs(3)
    );
    assert!(
        matches!(a.seconds("--timeout", Duration::ZERO), Err(Exit::Usage(m)) if m.contains("'-1'"))
    );
    assert!(
        matches!(a.seconds("--wait", Duration::ZERO), Err(Exit::Usage(m)) if m.contains("--wait"))
    );

    let mut a = args(&["80", "--bind"]).unwrap();
    assert!(matches!(a.option("--bind"), Err(Exit::Usage(m)) if m.contains("--bind")));
    assert!(
        matches!(args(&["--bogus"]).unwrap().positional(3), Err(Exit::Usage(m)) if m.contains("--bogus"))
    );
    assert!(matches!(
        args(&["a", "b", "c"]).unwrap().positional(2),
        Err(Exit::Usage(_))
    ));
    // A negative number is a value, not an option: it reaches parse_port, which names it.
    assert_eq!(args(&["-1"]).unwrap().positional(1).unwrap(), ["-1"]);
}

/// Run-time failures keep their causes on one line; usage and help pick their own exit codes.
#[test]
fn report_exit_codes() {
    assert_eq!(report("X", Ok(())), ExitCode::SUCCESS);
    assert_eq!(report("X", Err(Exit::Help)), ExitCode::SUCCESS);
    assert_eq!(report("X", Err(usage("bad"))), ExitCode::from(2));
    let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
    assert_eq!(report("X", Err(refused.into())), ExitCode::FAILURE);
    assert_eq!(report("X", Err(fail("two\nlines"))), ExitCode::FAILURE);
    assert_eq!(report("X", Err(Exit::Quiet)), ExitCode::FAILURE);
}
