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

/// A client that gives up after its timeout because the link dropped its datagram did what it
/// should: outside an experiment too, the lab says so and exits 0, not FAIL.
#[test]
fn a_client_giving_up_on_a_lossy_link_is_no_failure() {
    if !lab_here() {
        return;
    }
    let done = cmd(COURSE)
        .args([
            "lab",
            "udp-client",
            "--link",
            "loss=100%@server",
            "--seed",
            "1",
        ])
        .env("COURSE_NO_BUILD", "1")
        .run();
    let out = done.stdout_text();
    assert_eq!(done.code, Some(0), "{done:?}");
    assert!(!out.contains("FAIL"), "{out}");
    assert!(
        out.contains("udp-client gave up: of 1 packet the link dropped 1"),
        "{out}"
    );
}

/// A private TMPDIR for one run, so that what the run leaves there is its own: empty at the end.
#[cfg(target_os = "linux")]
fn private_tmp(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("lab-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Wait (bounded by test_support::PATIENCE) until `done` holds; whether it did.
#[cfg(target_os = "linux")]
fn within_patience(mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + test_support::PATIENCE;
    loop {
        if done() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The network namespaces (`net:[INODE]`) the threads of `pids` are in, other than this test's.
#[cfg(target_os = "linux")]
fn namespaces_of(pids: &[u32]) -> std::collections::BTreeSet<String> {
    let mine = std::fs::read_link("/proc/self/ns/net").ok();
    let mut found = std::collections::BTreeSet::new();
    for pid in pids {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            if let Ok(ns) = std::fs::read_link(task.path().join("ns/net"))
                && Some(&ns) != mine.as_ref()
            {
                found.insert(ns.to_string_lossy().into_owned());
            }
        }
    }
    found
}

/// The processes of the machine now.
#[cfg(target_os = "linux")]
fn processes() -> std::collections::BTreeSet<String> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.bytes().all(|b| b.is_ascii_digit()))
        .collect()
}

/// Every thread of the machine (that this test may look at) in one of `namespaces`, among the
/// processes `before` (a namespace's number may be given again to a new one, another test's, once
/// ours is gone: only a process that was there before can have been left behind).
#[cfg(target_os = "linux")]
fn held_in(
    namespaces: &std::collections::BTreeSet<String>,
    before: &std::collections::BTreeSet<String>,
) -> Vec<String> {
    let mut holders = Vec::new();
    for process in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        if !before.contains(process.file_name().to_string_lossy().as_ref()) {
            continue;
        }
        for task in std::fs::read_dir(process.path().join("task"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let file = task.path().join("ns/net");
            if let Ok(ns) = std::fs::read_link(&file)
                && namespaces.contains(ns.to_string_lossy().as_ref())
            {
                holders.push(file.display().to_string());
            }
        }
    }
    holders
}

/// After a run ended by `what`: none of `under` runs, no thread is left in `namespaces`, and
/// `tmp` is empty. Each waits, bounded; none is timed.
#[cfg(target_os = "linux")]
#[track_caller]
fn nothing_left(
    what: &str,
    under: &[(u32, String)],
    namespaces: &std::collections::BTreeSet<String>,
    before: &std::collections::BTreeSet<String>,
    tmp: &std::path::Path,
) {
    for (pid, name) in under {
        assert!(
            !test_support::still_running(&pid.to_string()),
            "{name} (pid {pid}) still runs after {what}"
        );
    }
    assert!(
        within_patience(|| held_in(namespaces, before).is_empty()),
        "after {what}, threads are still in the lab's namespaces {namespaces:?}: {:?}",
        held_in(namespaces, before)
    );
    let left = || {
        std::fs::read_dir(tmp)
            .map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    assert!(
        within_patience(|| left().is_empty()),
        "{what} left scratch folders in TMPDIR: {:?}",
        left()
    );
    let _ = std::fs::remove_dir(tmp);
}

/// One `lab up` at a time: they share the checkout's `target/lab/up` record.
#[cfg(target_os = "linux")]
static ONE_UP: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// `lab up` ended by `signal`, with a `lab on server -- udp-echo-server` running on its link:
/// nothing either started still runs, no thread is left in the namespaces the link made (both
/// sides', recorded before the signal), its private TMPDIR is empty, and its record is gone.
#[cfg(target_os = "linux")]
fn up_then(signal: &str) {
    if !lab_here() {
        return;
    }
    let _turn = ONE_UP
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let tmp = private_tmp(&format!("up{signal}"));
    let record = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/lab/up");
    let mut up = cmd(COURSE)
        .args(["lab", "up", "--link", "loss=10%", "--seed", "1"])
        .env("COURSE_NO_BUILD", "1")
        .env("TMPDIR", &tmp)
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
    assert!(record.exists(), "lab up wrote no record");
    let mut server = cmd(COURSE)
        .args([
            "lab",
            "on",
            "server",
            "--",
            "udp-echo-server",
            "--bind",
            "192.0.2.2",
            "0",
        ])
        .env("COURSE_NO_BUILD", "1")
        .env("TMPDIR", &tmp)
        .start();
    let banner = server.line();
    assert!(
        banner.starts_with("Listening on ('192.0.2.2', "),
        "{banner}"
    );
    // `lab on` ends with its command's exit status.
    let done = cmd(COURSE)
        .args(["lab", "on", "client", "--", "sh", "-c", "exit 3"])
        .env("COURSE_NO_BUILD", "1")
        .run();
    assert_eq!(done.code, Some(3), "{done:?}");
    let mut under = test_support::descendants(up.pid());
    assert!(
        under.iter().any(|(_, name)| name == "lab-wire"),
        "no lab-wire under lab up: {under:?}"
    );
    let on = test_support::descendants(server.pid());
    assert!(
        on.iter().any(|(_, name)| name == "udp-echo-server"),
        "no udp-echo-server under lab on: {on:?}"
    );
    under.extend(on);
    let pids: Vec<u32> = under.iter().map(|(pid, _)| *pid).collect();
    let mut namespaces = namespaces_of(&pids);
    // The server side's, as the record names it (the wire's thread that holds it).
    let text = std::fs::read_to_string(&record).unwrap();
    let server_file = text
        .lines()
        .find_map(|l| l.strip_prefix("server "))
        .unwrap();
    namespaces.insert(
        std::fs::read_link(server_file)
            .unwrap()
            .to_string_lossy()
            .into_owned(),
    );
    assert!(
        namespaces.len() >= 2,
        "both sides' namespaces: {namespaces:?}"
    );
    let before = processes();
    let kill = std::process::Command::new("kill")
        .args([signal, &up.pid().to_string()])
        .status();
    assert!(kill.unwrap().success());
    up.wait();
    // `lab on` ends with its command, whose namespace went with `lab up`.
    server.wait();
    nothing_left(
        &format!("{signal} of lab up"),
        &under,
        &namespaces,
        &before,
        &tmp,
    );
    assert!(
        within_patience(|| !record.exists()),
        "{signal} of lab up left {}",
        record.display()
    );
}

/// Ctrl-C of `lab up` leaves no process, namespace, scratch folder or record.
#[cfg(target_os = "linux")]
#[test]
fn sigint_of_lab_up_leaves_nothing() {
    up_then("-INT");
}

/// SIGTERM of `lab up` leaves no process, namespace, scratch folder or record.
#[cfg(target_os = "linux")]
#[test]
fn sigterm_of_lab_up_leaves_nothing() {
    up_then("-TERM");
}

/// SIGKILL of `lab up`, which it cannot catch, leaves no process, namespace, scratch folder or
/// record.
#[cfg(target_os = "linux")]
#[test]
fn sigkill_of_lab_up_leaves_nothing() {
    up_then("-KILL");
}

/// `lab http-fetch` killed by `signal` mid-run (the client waiting on its dead peer, the HTTP
/// server serving from its scratch folder): no process, namespace or scratch folder is left.
#[cfg(target_os = "linux")]
fn lab_run_then(signal: &str) {
    if !lab_here() || !test_support::built(&["http-fetch"]) {
        return;
    }
    let tmp = private_tmp(&format!("run{signal}"));
    let mut lab = cmd(COURSE)
        .args(["lab", "http-fetch", "--experiment", "dead-peer"])
        .env("COURSE_NO_BUILD", "1")
        .env("TMPDIR", &tmp)
        .start();
    // Mid-run: the client is running (it waits 2 s on the dead link).
    let mut under = Vec::new();
    let running = within_patience(|| {
        under = test_support::descendants(lab.pid());
        under.iter().any(|(_, name)| name == "http-fetch")
    });
    if !running {
        let said = lab.lines_so_far();
        let python = said.iter().any(|l| l.contains("python3"));
        // No python3 here: http-fetch's partner cannot start, nothing to kill mid-run.
        if !python {
            test_support::skip("lab http-fetch mid-run: python3 is not here");
            return;
        }
        panic!("http-fetch never ran under lab: {said:?}");
    }
    let pids: Vec<u32> = under.iter().map(|(pid, _)| *pid).collect();
    let namespaces = namespaces_of(&pids);
    assert!(!namespaces.is_empty(), "no lab namespace under {under:?}");
    let before = processes();
    let kill = std::process::Command::new("kill")
        .args([signal, &lab.pid().to_string()])
        .status();
    assert!(kill.unwrap().success());
    lab.wait();
    nothing_left(
        &format!("{signal} of lab http-fetch"),
        &under,
        &namespaces,
        &before,
        &tmp,
    );
}

/// SIGKILL of `lab http-fetch` mid-run leaves no process, namespace or scratch folder.
#[cfg(target_os = "linux")]
#[test]
fn sigkill_of_a_lab_run_leaves_nothing() {
    lab_run_then("-KILL");
}

/// SIGTERM of `lab http-fetch` mid-run leaves no process, namespace or scratch folder.
#[cfg(target_os = "linux")]
#[test]
fn sigterm_of_a_lab_run_leaves_nothing() {
    lab_run_then("-TERM");
}
