//! `cargo course tour`: every pair passes on loopback, a bad lesson name is a usage error, and a
//! tour that is killed or that fails leaves no program behind. The last two put a stand-in
//! `python3` first on the tour's PATH (a shell script that says it serves on a port the test
//! holds, then sleeps), so the http-fetch step can be made to hang or to fail on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;
// The stand-in python3 and the signals of the last two tests are Unix's.
#[cfg(unix)]
use std::{fs, io::Read, net::TcpListener, path::PathBuf, process::Command, time::Instant};

use course::registry::{LESSONS, Partner, Role};
use test_support::cmd;

const COURSE: &str = env!("CARGO_BIN_EXE_course");

/// Every step passes (python3 permitting: without it http-fetch's step is skipped), and the
/// summary counts one step per lesson that is not a server.
#[test]
fn every_pair_passes() {
    if !test_support::built(&[
        "socket-info",
        "tcp-listener",
        "udp-client",
        "udp-echo-server",
    ]) {
        return;
    }
    let done = cmd(COURSE)
        .args(["tour"])
        .env("COURSE_NO_BUILD", "1")
        .limit(Duration::from_secs(120))
        .run();
    let out = done.stdout_text();
    assert_eq!(done.code, Some(0), "{out}\n{}", done.stderr);
    // A server is toured with its client, so one step per lesson that is not a server.
    let steps = LESSONS.iter().filter(|l| l.role != Role::Server).count();
    let summary = out.lines().last().unwrap_or_default();
    let counts: Vec<usize> = summary
        .split([' ', ','])
        .filter_map(|w| w.parse().ok())
        .collect();
    let pairs = LESSONS
        .iter()
        .filter(|l| l.role != Role::Server && l.partner != Partner::None)
        .count();
    assert!(
        matches!(counts[..], [passed, 0, skipped, p, alone]
            if passed + skipped == steps && passed > 0 && p == pairs && p + alone == steps),
        "{out}"
    );
    assert!(
        out.contains("  ok: socket-info connected from ('127.0.0.1', "),
        "the checks bind the client's address: {out}"
    );
}

/// An unknown lesson is a usage error that starts nothing.
#[test]
fn an_unknown_lesson_is_a_usage_error() {
    let done = cmd(COURSE)
        .args(["tour", "no-such-lesson"])
        .env("COURSE_NO_BUILD", "1")
        .assert_exit(2);
    assert!(
        done.stderr.contains("unknown lesson 'no-such-lesson'"),
        "{}",
        done.stderr
    );
    assert!(done.stdout.is_empty());
}

/// A folder with a stand-in `python3` that prints http.server's banner for `port`, writes its pid
/// to `pid` (as the machine sees it: the tour may run in a PID namespace of its own, where `$$` is
/// another number, but `/proc` is the machine's), and sleeps; removed at the end.
#[cfg(unix)]
struct FakePython(PathBuf);

#[cfg(unix)]
impl FakePython {
    fn new(name: &str, port: u16) -> FakePython {
        let dir = std::env::temp_dir().join(format!("course-tour-{name}-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let script = format!(
            "#!/bin/sh\npid=$$\n[ -r /proc/self/stat ] && read pid rest < /proc/self/stat\n\
             echo $pid > '{}/pid'\necho 'Serving HTTP on 127.0.0.1 port {port} \
             (http://127.0.0.1:{port}/) ...'\nexec sleep 60\n",
            dir.display()
        );
        let python = dir.join("python3");
        fs::write(&python, script).unwrap();
        let chmod = Command::new("chmod").arg("+x").arg(&python).status();
        assert!(chmod.unwrap().success());
        FakePython(dir)
    }

    fn path_env(&self) -> String {
        let rest = std::env::var("PATH").unwrap_or_default();
        format!("{}:{rest}", self.0.display())
    }

    /// The stand-in's pid, once it has started.
    fn pid(&self) -> String {
        let file = self.0.join("pid");
        let deadline = Instant::now() + test_support::PATIENCE;
        while !file.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        fs::read_to_string(file).unwrap().trim().to_string()
    }
}

#[cfg(unix)]
impl Drop for FakePython {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// SIGTERM to the tour alone, while http-fetch waits for a reply: the tour ends as interrupted,
/// without a FAIL line for the step it stopped, http-fetch's connection closes (it is gone), and
/// the partner is gone.
#[cfg(unix)]
#[test]
fn a_killed_tour_leaves_nothing_running() {
    if !test_support::built(&["http-fetch"]) {
        return;
    }
    // The "server" accepts and never answers, so http-fetch waits for its reply.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let fake = FakePython::new("killed", listener.local_addr().unwrap().port());
    fs::create_dir_all(fake.0.join("tmp")).unwrap();
    let mut tour = cmd(COURSE)
        .args(["tour", "http-fetch"])
        .env("COURSE_NO_BUILD", "1")
        .env("PATH", fake.path_env())
        .env("TMPDIR", fake.0.join("tmp"))
        .start();
    let (mut stream, _) = listener.accept().unwrap();
    let partner = fake.pid();
    let kill = Command::new("kill").arg(tour.pid().to_string()).status();
    assert!(kill.unwrap().success());
    let code = tour.wait();
    assert_eq!(code, Some(130), "stopped as an interrupted program");
    // Its last lines are on their way: a step the kill cut short is no result to report.
    std::thread::sleep(Duration::from_millis(100));
    let printed = tour.lines_so_far();
    assert!(
        !printed
            .iter()
            .any(|l| l.contains("FAIL") || l.contains(" passed, ")),
        "an interrupted tour reports no result of the runs it stopped: {printed:?}"
    );
    stream
        .set_read_timeout(Some(test_support::PATIENCE))
        .unwrap();
    // Its request, then EOF: the connection closed because http-fetch is gone.
    let read = stream.read_to_end(&mut Vec::new());
    let closed = match &read {
        Ok(_) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    };
    assert!(closed, "http-fetch still holds its connection: {read:?}");
    assert!(
        !test_support::still_running(&partner),
        "the partner (pid {partner}) still runs"
    );
    // The folder it served is gone too (the handler exits without running drops); the tour had
    // a temporary folder of its own.
    let left: Vec<_> = fs::read_dir(fake.0.join("tmp"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("course-site-"))
        .collect();
    assert!(left.is_empty(), "the served folder was left: {left:?}");
}

/// SIGKILL of a tour, which it cannot catch, while udp-client talks to udp-echo-server: every
/// program under it goes too (udp-echo-server ran on for good in the machine's own namespace),
/// because the tour runs as process 1 of a private PID namespace, whose programs the kernel ends
/// with it. Linux, where such a namespace can be made; the tour elsewhere runs as it always did.
#[cfg(target_os = "linux")]
#[test]
fn a_tour_killed_with_sigkill_leaves_nothing_running() {
    if !test_support::built(&["udp-client", "udp-echo-server"]) {
        return;
    }
    if !test_support::pid_namespaces() {
        test_support::skip("no private PID namespace here (`unshare -cpf --kill-child` fails)");
        return;
    }
    let mut tour = cmd(COURSE)
        .args(["tour", "udp-client"])
        .env("COURSE_NO_BUILD", "1")
        .start();
    // Found by its place under the tour, not by name: other runs may have a udp-echo-server too.
    let deadline = Instant::now() + test_support::PATIENCE;
    let under = loop {
        let under = test_support::descendants(tour.pid());
        if under.iter().any(|(_, name)| name == "udp-echo-server") {
            break under;
        }
        assert!(
            Instant::now() < deadline,
            "no udp-echo-server under the tour"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let kill = Command::new("kill")
        .args(["-KILL", &tour.pid().to_string()])
        .status();
    assert!(kill.unwrap().success());
    assert_eq!(tour.wait(), None, "killed by the signal");
    for (pid, name) in under {
        assert!(
            !test_support::still_running(&pid.to_string()),
            "{name} (pid {pid}) still runs after the tour was killed"
        );
    }
}

/// A TMPDIR that does not exist is said so and fails the step (it is no reason to skip it); the
/// tour never makes it (it made `/nonexistent`).
#[cfg(unix)]
#[test]
fn a_missing_tmpdir_is_not_made() {
    if !test_support::built(&["http-fetch"]) {
        return;
    }
    let missing = std::env::temp_dir().join(format!("course-no-tmpdir-{}", std::process::id()));
    let done = cmd(COURSE)
        .args(["tour", "http-fetch"])
        .env("COURSE_NO_BUILD", "1")
        // A skip on purpose: not one for scripts/check.sh's list.
        .env_remove("COURSE_SKIPPED")
        .env("TMPDIR", &missing)
        .run();
    assert!(!missing.exists(), "the tour made {}", missing.display());
    assert_eq!(
        done.code,
        Some(1),
        "a failure, not a skip: {}",
        done.stdout_text()
    );
    assert!(
        done.stdout_text()
            .contains("cannot make a scratch folder in"),
        "{}",
        done.stdout_text()
    );
}

/// A step that fails (the "server" closes without a reply) fails the tour, exit 1, and still
/// stops the partner it started.
#[cfg(unix)]
#[test]
fn a_failed_tour_leaves_nothing_running() {
    if !test_support::built(&["http-fetch"]) {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let fake = FakePython::new("failed", listener.local_addr().unwrap().port());
    let closer = std::thread::spawn(move || {
        // Accept and close at once: http-fetch reads an empty reply.
        let _ = listener.accept();
    });
    let done = cmd(COURSE)
        .args(["tour", "http-fetch"])
        .env("COURSE_NO_BUILD", "1")
        .env("PATH", fake.path_env())
        .limit(Duration::from_secs(60))
        .run();
    closer.join().unwrap();
    let out = done.stdout_text();
    assert_eq!(done.code, Some(1), "{out}");
    assert!(out.contains("tour: FAILED http-fetch"), "{out}");
    assert!(
        out.contains("FAIL: http-fetch did not print: HTTP/1.0 200"),
        "{out}"
    );
    let partner = fake.pid();
    assert!(
        !test_support::still_running(&partner),
        "the partner (pid {partner}) still runs"
    );
}
