//! The checks that need a private namespace ([`Needs::Namespace`]): a hosts file of the check's
//! own, a source port below 1024. The course tool runs such a check in a copy of itself inside
//! `unshare -rmn` (root in a user namespace of its own, no root needed on the machine; `unshare
//! -mn` where we are root and user namespaces are off), with a network and a mount namespace of
//! its own. There the copy brings up the loopback and runs the check as any other: the learner's
//! program is its child, so both are in the same namespaces, and the checker is still the peer,
//! its sockets beside the program's. The copy hands back its report and verdict on stdout
//! ([`check_inside`], [`run_inside`]). Linux only; elsewhere [`Needs::available`] says so first.
//!
//! [`Needs::Namespace`]: super::table::Needs::Namespace
//! [`Needs::available`]: super::table::Needs::available

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use lesson_common::Exit;
use test_support::process;

use super::conversation::{Conversation, Failure, Verdict};
use super::table::Exercise;

/// Set, to the program to check, in the copy of the tool that runs a check in its namespaces.
const INSIDE: &str = "COURSE_EXERCISE_NAMESPACE";

/// How long the copy inside may take, setup and check: every step inside has a limit of its
/// own, far below this.
const LIMIT: Duration = Duration::from_secs(60);

/// Whether this process is the copy inside the namespaces: the program it checks.
pub fn inside() -> Option<PathBuf> {
    std::env::var_os(INSIDE).map(PathBuf::from)
}

/// Outside: check `program` as `exercise` with `seed` in a copy of the tool inside fresh
/// namespaces; the copy's report, verdict and ports.
pub fn check_inside(exercise: &Exercise, program: &Path, seed: u64) -> (String, Verdict, Vec<u16>) {
    let cannot = |why: String| {
        (
            format!("{}: cannot run here: {why}\n", exercise.name),
            Verdict::CannotRun(why),
            Vec::new(),
        )
    };
    let me = match std::env::current_exe() {
        Ok(me) => me,
        Err(e) => return cannot(format!("cannot find the course tool: {e}")),
    };
    let mut last = String::from("unshare is missing");
    for flags in ["-rmn", "-mn"] {
        let mut command = Command::new("unshare");
        command
            .args([flags, "--kill-child", "--"])
            .arg(&me)
            .args(["exercise", exercise.name, "--seed", &seed.to_string()])
            .env(INSIDE, program)
            .env("COURSE_NO_BUILD", "1");
        let outcome = match process::run_bounded(&mut command, b"", LIMIT) {
            Ok(outcome) => outcome,
            Err(e) => return cannot(format!("cannot run unshare: {e}")),
        };
        let stdout = String::from_utf8_lossy(&outcome.stdout);
        if let Some(done) = decode(&stdout) {
            return done;
        }
        last = match outcome.status {
            None => format!("the check's copy in its namespace did not end within {LIMIT:?}"),
            Some(_) => format!(
                "`unshare {flags}` failed: {}",
                String::from_utf8_lossy(&outcome.stderr).trim()
            ),
        };
    }
    cannot(last)
}

/// Inside (`exercise NAME --seed N` with [`INSIDE`] set): bring up the loopback, run the check,
/// and print what [`check_inside`] reads: the verdict, the ports, then the report.
pub fn run_inside(exercise: &Exercise, program: PathBuf, seed: u64) -> Result<(), Exit> {
    let up = Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .output();
    let (report, verdict, ports) = match up {
        Ok(out) if out.status.success() => super::check_binary(exercise, program, seed),
        _ => {
            let why = "cannot bring up the namespace's loopback (`ip link set lo up`: is \
                       iproute2 there?)"
                .to_string();
            let report = format!("{}: cannot run here: {why}\n", exercise.name);
            (report, Verdict::CannotRun(why), Vec::new())
        }
    };
    let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
    crate::print(&format!(
        "{}\n{}\n{report}",
        encode(&verdict),
        ports.join(" ")
    ))
}

/// The verdict as one line, for the copy outside.
fn encode(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Passed => "passed".into(),
        Verdict::FailedAt(step) => format!("failed {step}"),
        Verdict::DidNotBuild => "unbuilt".into(),
        Verdict::DidNotFinish(step, limit) => format!("unfinished {step} {}", limit.as_millis()),
        Verdict::CannotRun(why) => format!("cannot {why}"),
    }
}

/// What [`run_inside`] printed, read back; `None` when it is not that.
fn decode(stdout: &str) -> Option<(String, Verdict, Vec<u16>)> {
    let mut lines = stdout.splitn(3, '\n');
    let verdict = lines.next()?;
    let ports: Result<Vec<u16>, _> = lines.next()?.split_whitespace().map(str::parse).collect();
    let report = lines.next()?.to_string();
    let (word, rest) = verdict.split_once(' ').unwrap_or((verdict, ""));
    let mut numbers = rest.split(' ').map(str::parse::<u64>);
    let mut number = || numbers.next()?.ok();
    let verdict = match word {
        "passed" => Verdict::Passed,
        "failed" => Verdict::FailedAt(usize::try_from(number()?).ok()?),
        "unbuilt" => Verdict::DidNotBuild,
        "unfinished" => {
            let step = usize::try_from(number()?).ok()?;
            Verdict::DidNotFinish(step, Duration::from_millis(number()?))
        }
        "cannot" => Verdict::CannotRun(rest.to_string()),
        _ => return None,
    };
    Some((report, verdict, ports.ok()?))
}

/// A step, `what`, that starts with the commands that make namespaces like the check's: a shell
/// in them, and their loopback up.
pub fn entered(c: &mut Conversation, what: &str) {
    c.step(what);
    c.command(
        "unshare -rmn    # a shell as root in a user, mount and network namespace of its own",
    );
    c.command("ip link set lo up");
}

/// For a check, inside: make `entries` (address, name) the namespace's whole /etc/hosts, and
/// `hosts: files` the hosts line of its /etc/nsswitch.conf, so that a lookup of those names and
/// addresses is answered from that file and never becomes a DNS query (none could leave the
/// namespace anyway: it has only its loopback). Bind mounts, in this mount namespace only: the
/// machine's own files are never touched. A step of its own, with the commands that do the same.
pub fn hosts_file(c: &mut Conversation, entries: &[(&str, &str)]) -> Result<(), Failure> {
    let text: String = entries
        .iter()
        .map(|(address, name)| format!("{address} {name}\n"))
        .collect();
    entered(
        c,
        "make a hosts file of the check's own, in private namespaces (no DNS query is sent)",
    );
    c.command(format!(
        "printf '{}' > /tmp/hosts && mount --bind /tmp/hosts /etc/hosts",
        text.replace('\n', "\\n")
    ));
    c.command(
        "{ grep -v '^hosts:' /etc/nsswitch.conf; echo 'hosts: files'; } > /tmp/nsswitch.conf && \
         mount --bind /tmp/nsswitch.conf /etc/nsswitch.conf",
    );
    if inside().is_none() {
        return Err(Failure::CannotRun(
            "the hosts file is only for a check in its own namespaces".into(),
        ));
    }
    let said = mount_hosts(&text).map_err(Failure::CannotRun)?;
    for line in said {
        c.note(line);
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn mount_hosts(text: &str) -> Result<Vec<String>, String> {
    use std::fs;

    let scratch = crate::scratch::Scratch::new("exercise-hosts").map_err(|e| e.words())?;
    let dir = scratch.path();
    let mount = |file: &str, over: &str| -> Result<(), String> {
        let path = dir.join(file);
        let done = Command::new("mount")
            .arg("--bind")
            .arg(&path)
            .arg(over)
            .output();
        match done {
            Ok(out) if out.status.success() => Ok(()),
            Ok(out) => Err(format!(
                "mount --bind {} {over}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Err(e) => Err(format!("cannot run mount: {e}")),
        }
    };
    let write = |file: &str, text: &str| {
        fs::write(dir.join(file), text).map_err(|e| format!("cannot write a scratch {file}: {e}"))
    };
    write("hosts", text)?;
    mount("hosts", "/etc/hosts")?;
    let mut said = Vec::new();
    // Files first, and nothing else: nss-resolve, mdns or nscd would ask outside the namespace.
    let nsswitch = fs::read_to_string("/etc/nsswitch.conf").map_err(|e| {
        format!("/etc/nsswitch.conf cannot be read ({e}), so the hosts file may not be consulted")
    })?;
    let machine = nsswitch
        .lines()
        .find(|l| l.trim_start().starts_with("hosts:"))
        .map_or(
            "(no hosts: line, so glibc's default: dns first)".to_string(),
            |l| l.split_whitespace().collect::<Vec<_>>().join(" "),
        );
    let ours: String = nsswitch
        .lines()
        .filter(|l| !l.trim_start().starts_with("hosts:"))
        .chain(["hosts: files"])
        .map(|l| format!("{l}\n"))
        .collect();
    write("nsswitch.conf", &ours)?;
    mount("nsswitch.conf", "/etc/nsswitch.conf")?;
    let first = machine
        .trim_start_matches("hosts:")
        .split_whitespace()
        .next()
        .is_some_and(|source| source == "files");
    said.push(if first {
        format!("this machine's nsswitch.conf says `{machine}` (files first); here: `hosts: files`")
    } else {
        format!(
            "this machine's nsswitch.conf says `{machine}`, which does not read /etc/hosts first; \
             here it says `hosts: files`, so the hosts file answers"
        )
    });
    for nscd in ["/run/nscd", "/var/run/nscd"] {
        if Path::new(nscd).join("socket").exists() {
            let hidden = Command::new("mount")
                .args(["-t", "tmpfs", "-o", "size=16k", "none", nscd])
                .output();
            if !hidden.is_ok_and(|o| o.status.success()) {
                return Err(format!(
                    "nscd runs here and its socket ({nscd}) cannot be hidden"
                ));
            }
            said.push(format!(
                "nscd runs here: its socket is hidden in the namespace ({nscd})"
            ));
        }
    }
    Ok(said)
}

#[cfg(not(target_os = "linux"))]
fn mount_hosts(_text: &str) -> Result<Vec<String>, String> {
    Err("a hosts file of the check's own needs Linux's namespaces".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every verdict comes back from the copy inside as it went in, with its ports and report.
    #[test]
    fn verdicts_survive_the_trip_out() {
        for verdict in [
            Verdict::Passed,
            Verdict::FailedAt(3),
            Verdict::DidNotBuild,
            Verdict::DidNotFinish(2, Duration::from_millis(3500)),
            Verdict::CannotRun("no ip here".into()),
        ] {
            let text = format!("{}\n40000 40001\nthe report\nline 2\n", encode(&verdict));
            let (report, back, ports) = decode(&text).unwrap();
            assert_eq!(back, verdict);
            assert_eq!(ports, vec![40000, 40001]);
            assert_eq!(report, "the report\nline 2\n");
        }
    }
}
