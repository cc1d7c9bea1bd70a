//! `cargo course lab` for real: the lab link between two network namespaces made without root.
//! Where the machine cannot make them (not Linux, no /dev/net/tun, no unprivileged user
//! namespaces), the tests that need them say they are skipped; the usage errors run everywhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use test_support::cmd;

const COURSE: &str = env!("CARGO_BIN_EXE_course");

/// The bad specs the issue names, each a usage error (exit 2) that prints the grammar.
#[test]
fn a_bad_spec_is_a_usage_error_with_the_grammar() {
    for spec in [
        "loss=150%",
        "delay=-1ms",
        "mtu=10",
        "colour=blue",
        "no-such-profile",
        "loss=1%,loss=2%",
    ] {
        let done = cmd(COURSE)
            .args(["lab", "udp-client", "--link", spec])
            .env("COURSE_NO_BUILD", "1")
            .run();
        assert_eq!(done.code, Some(2), "--link {spec}: {done:?}");
        let said = done.stderr.clone();
        assert!(
            said.contains("loss=P%"),
            "--link {spec}: no grammar in {said}"
        );
    }
}

/// An unknown experiment names the lesson's experiments; an experiment with --link is refused.
#[test]
fn experiments_are_the_registrys() {
    let done = cmd(COURSE)
        .args(["lab", "udp-client", "--experiment", "nope"])
        .run();
    assert_eq!(done.code, Some(2));
    let said = done.stderr.clone();
    assert!(
        said.contains("one of: loss, fragments, small-mtu"),
        "{said}"
    );
    let done = cmd(COURSE)
        .args([
            "lab",
            "udp-client",
            "--experiment",
            "loss",
            "--link",
            "loss=1%",
        ])
        .run();
    assert_eq!(done.code, Some(2));
    let help = cmd(COURSE).args(["lab", "--help"]).run();
    assert!(help.stdout_text().contains("--experiment syn-lost"));
}

/// Whether the lab can run here; if not, the test is skipped with the reason.
fn lab_here() -> bool {
    if !cfg!(target_os = "linux") {
        test_support::skip("the lab link needs Linux");
        return false;
    }
    if !std::path::Path::new("/dev/net/tun").exists() {
        test_support::skip("the lab link needs /dev/net/tun");
        return false;
    }
    let namespaces = std::process::Command::new("unshare")
        .args(["-rnpf", "true"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !namespaces {
        test_support::skip("the lab link needs unprivileged user namespaces (`unshare -rnpf`)");
        return false;
    }
    test_support::built(&["udp-client", "udp-echo-server", "lab-wire"])
}

/// udp-client across `loss=100%` ends as its page says: it gives up with its timeout's line (and
/// the lab, which expected just that, exits 0), nothing logged by the server, and the summary
/// line with the one datagram dropped.
#[test]
fn udp_client_across_total_loss_gives_up() {
    if !lab_here() {
        return;
    }
    let done = cmd(COURSE)
        .args(["lab", "udp-client", "--experiment", "loss"])
        .env("COURSE_NO_BUILD", "1")
        .run();
    assert_eq!(done.code, Some(0), "{done:?}");
    let out = done.stdout_text();
    assert!(out.contains("error: no reply from ('192.0.2.2', "), "{out}");
    assert!(
        out.contains("ok: udp-client gave up after its 1 s timeout"),
        "{out}"
    );
    assert!(out.contains("udp-client took about 1 s"), "{out}");
    // The server logged nothing.
    assert!(
        !out.lines()
            .any(|l| l.trim_start().starts_with("Got data from")),
        "{out}"
    );
    assert!(
        out.contains(
            "link: loss 100% towards the server, seed 1 — 1 of 1 packet dropped, 0 duplicated"
        ),
        "{out}"
    );
}

/// One `lab up` at a time: they share the checkout's `target/lab/up` record.
#[cfg(target_os = "linux")]
static ONE_UP: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// `lab up` ended by `signal`: nothing it started still runs (the wire, found by its place under
/// the tool, and with it the namespaces it held), and its record is gone.
#[cfg(target_os = "linux")]
fn up_then(signal: &str) {
    if !lab_here() {
        return;
    }
    let _turn = ONE_UP
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let record = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/lab/up");
    let mut up = cmd(COURSE)
        .args(["lab", "up", "--link", "loss=10%", "--seed", "1"])
        .env("COURSE_NO_BUILD", "1")
        .start();
    // Bounded: each `line` waits at most test_support::PATIENCE.
    let mut said = Vec::new();
    while !said
        .iter()
        .any(|l: &String| l.starts_with("lab: the link is up"))
    {
        said.push(up.line());
        assert!(said.len() < 50, "no `link is up` line: {said:?}");
    }
    let under = test_support::descendants(up.pid());
    assert!(
        under.iter().any(|(_, name)| name == "lab-wire"),
        "no lab-wire under lab up: {under:?}"
    );
    assert!(record.exists(), "lab up wrote no record");
    let kill = std::process::Command::new("kill")
        .args([signal, &up.pid().to_string()])
        .status();
    assert!(kill.unwrap().success());
    up.wait();
    for (pid, name) in &under {
        assert!(
            !test_support::still_running(&pid.to_string()),
            "{name} (pid {pid}) still runs after {signal} of lab up"
        );
        // The wire's /proc entry (and the namespaces' files under it) gone: nothing holds them.
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}/ns/net")).exists()
                || test_support::still_running(&pid.to_string()),
            "{name} (pid {pid}) left its namespace"
        );
    }
    let deadline = std::time::Instant::now() + test_support::PATIENCE;
    while record.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        !record.exists(),
        "{signal} of lab up left {}",
        record.display()
    );
}

/// Ctrl-C of `lab up` leaves no process, namespace or record.
#[cfg(target_os = "linux")]
#[test]
fn sigint_of_lab_up_leaves_nothing() {
    up_then("-INT");
}

/// SIGTERM of `lab up` leaves no process, namespace or record.
#[cfg(target_os = "linux")]
#[test]
fn sigterm_of_lab_up_leaves_nothing() {
    up_then("-TERM");
}

/// SIGKILL of `lab up`, which it cannot catch, leaves no process, namespace or record.
#[cfg(target_os = "linux")]
#[test]
fn sigkill_of_lab_up_leaves_nothing() {
    up_then("-KILL");
}
