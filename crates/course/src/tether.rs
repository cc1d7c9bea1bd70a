//! Nothing the course tool starts outlives it, however the tool ends. Two ties, each where it can
//! hold:
//!
//! - **A private PID namespace whose init is the tool** ([`enter`]; Linux, where unprivileged user
//!   namespaces are allowed, or as root). A command that starts programs runs itself again as
//!   `unshare -cpf --kill-child -- course COMMAND …`: the copy inside is process 1 of a PID
//!   namespace of its own, and when process 1 of a namespace ends, by any means, SIGKILL
//!   included, the kernel kills everything else in it (a daemon that left its session too). The
//!   copy outside, the process the learner started, only waits, and is tied to the copy inside by
//!   a pipe, the inside copy's stdin: when the outside copy ends, even by SIGKILL, which cannot
//!   be caught, the pipe reaches its end, and the inside copy stops what it started, removes its
//!   scratch folders and exits, taking the namespace with it. An interrupt (SIGINT, SIGTERM) of
//!   the outside copy is passed on through the same pipe, as one byte: unshare itself blocks
//!   SIGINT and SIGTERM while it waits, so a signal sent to it would never arrive. Elsewhere (no
//!   user namespaces, macOS, Windows) the command runs where it is, as it always did.
//! - **A process group for each learner's listing** ([`own_group`], [`stop_group`]; Unix): when
//!   its side is over the whole group is stopped, so a child it forked (which would run on with
//!   ppid 1 and hold the listing's output open) goes with it at once, not when the tool ends. A
//!   child that leaves the group (`setsid`, as a daemon does) escapes this tie, not the first.

use std::process::Command;

use lesson_common::Exit;

/// Run the command this process was given (its whole command line) again as process 1 of a
/// private PID namespace, and wait for it: `Ok(Some(result))` once that copy has ended (it said
/// everything itself; the result carries only its exit: 0, 1, or 130 after an interrupt, through
/// [`crate::interrupted`]); `Ok(None)` to run the command here, in this process: inside the
/// namespace already, or where no namespace can be made. A command calls this once its command
/// line is checked (the copy inside checks it again, and finds it good: its usage errors, exit
/// 2, are this copy's to report), before it builds the lessons or starts any program:
/// `if let Some(done) = crate::tether::enter(&[])? { return done; }`. `env`: settings for the
/// copy inside, such as what this copy found out already (the interpreter's startup time).
pub fn enter(env: &[(&str, String)]) -> Result<Option<Result<(), Exit>>, Exit> {
    #[cfg(target_os = "linux")]
    {
        linux::enter(env, &linux::WAYS, linux::INSIDE)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = env;
        Ok(None)
    }
}

/// [`enter`] for the lab link: the copy inside is also root in a user namespace of its own (so it
/// may make network devices and namespaces without being root on the machine), in a network
/// namespace of its own, the lab's client side. Where no such namespace can be made, the one line
/// that says why, and so how to get one (exit 1): the lab cannot run in place.
pub fn enter_lab(env: &[(&str, String)]) -> Result<Option<Result<(), Exit>>, Exit> {
    #[cfg(target_os = "linux")]
    {
        match linux::enter(env, &linux::LAB_WAYS, linux::INSIDE_LAB)? {
            Some(done) => Ok(Some(done)),
            None if std::env::var_os(linux::INSIDE_LAB).is_some() => Ok(None),
            None => Err(lesson_common::fail(linux::why_no_lab())),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = env;
        Ok(None)
    }
}

/// Whether this process runs inside the lab's namespaces ([`enter_lab`]'s copy, or what it
/// started): where a lab's wire may be started.
pub fn in_lab() -> bool {
    #[cfg(target_os = "linux")]
    {
        std::env::var_os(linux::INSIDE_LAB).is_some()
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// For the interrupt handler of the copy outside: pass the interrupt on to the copy inside, and
/// give the process to wait for (unshare, which ends when the copy inside has stopped everything
/// and exited); `None` when there is no copy inside to tell.
pub(crate) fn pass_interrupt_on() -> Option<u32> {
    #[cfg(target_os = "linux")]
    {
        linux::pass_interrupt_on()
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// For the interrupt handler of the copy outside, when the copy inside has not ended in time:
/// SIGKILL unshare, which (`--kill-child`) SIGKILLs the copy inside, which ends the namespace
/// and everything in it.
pub(crate) fn kill_inside(unshare: u32) {
    #[cfg(target_os = "linux")]
    linux::kill(unshare);
    #[cfg(not(target_os = "linux"))]
    let _ = unshare;
}

/// This process's id as the machine sees it, for names that must not clash between runs (a
/// scratch folder's): inside the PID namespace `std::process::id()` is 1 in every run, but
/// `/proc` is the machine's, and `/proc/self` names the process by its id there.
pub fn pid() -> u32 {
    std::fs::read_link("/proc/self")
        .ok()
        .and_then(|link| link.to_str()?.parse().ok())
        .unwrap_or_else(std::process::id)
}

/// Start `command` in a new process group, led by the program itself (its pgid is its pid), so
/// that [`stop_group`] reaches everything it starts. Unix only; elsewhere nothing changes.
pub fn own_group(command: &mut Command) -> &mut Command {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        command.process_group(0);
    }
    command
}

/// Whether any process is left in the group that `leader` (a program started with [`own_group`])
/// leads, once the leader itself has ended. Unix only; elsewhere none is.
pub fn group_alive(leader: u32) -> bool {
    #[cfg(unix)]
    if let Ok(pgid) = i32::try_from(leader)
        && pgid > 1
    {
        // Signal 0: sent to no one, but refused (ESRCH) when the group is empty.
        return nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid), None).is_ok();
    }
    let _ = leader;
    false
}

/// SIGKILL every process in the group that `leader` (a program started with [`own_group`]) leads,
/// itself included. The group outlives its leader while a member runs, and Linux gives no new
/// process a pid still in use as a group's id, so this reaches only what the leader started; a
/// group with no one left in it is no error. Unix only.
pub fn stop_group(leader: u32) {
    #[cfg(unix)]
    if let Ok(pgid) = i32::try_from(leader)
        && pgid > 1
    {
        let _ =
            nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid), nix::sys::signal::SIGKILL);
    }
    #[cfg(not(unix))]
    let _ = leader;
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io::{Read as _, Write as _};
    use std::process::{ChildStdin, Command, Stdio};
    use std::sync::{Mutex, Once, PoisonError};
    use std::time::Duration;

    use lesson_common::{Exit, fail, fail_with};
    use test_support::process;

    /// Set for the copy of the tool that runs inside the PID namespace, and so for everything it
    /// starts (a nested course tool, such as compare's copy in a network namespace, is then inside
    /// already).
    pub(super) const INSIDE: &str = "COURSE_PID_NAMESPACE";
    /// Set for the copy inside the lab's namespaces (and everything it starts).
    pub(super) const INSIDE_LAB: &str = "COURSE_LAB_NAMESPACE";

    /// The copy inside, while it runs: unshare's pid, and the writing end of the copy's stdin.
    static INSIDE_COPY: Mutex<Option<(u32, ChildStdin)>> = Mutex::new(None);

    /// unshare's ways to make the namespace, tried in turn: keeping our uid in a new user namespace
    /// (`-c`, util-linux 2.38), as root in one (`-r`, older util-linux), without one (root where
    /// user namespaces are off); a PID namespace (`-p`) whose process 1 is the forked command
    /// (`-f`), SIGKILLed if unshare dies (`--kill-child`).
    pub(super) const WAYS: [&str; 3] = ["-cpf", "-rpf", "-pf"];
    /// The lab's: root in a new user namespace (`-r`: a lab needs the capabilities, which an
    /// unmapped uid loses at exec) or none where we are root already, and a network namespace.
    pub(super) const LAB_WAYS: [&str; 2] = ["-rnpf", "-npf"];

    pub(super) fn enter(
        env: &[(&str, String)],
        ways: &[&str],
        marker: &str,
    ) -> Result<Option<Result<(), Exit>>, Exit> {
        if std::env::var_os(marker).is_some() {
            // Process 1 is the copy unshare started; a course tool it runs is inside already.
            if std::process::id() == 1 {
                watch_the_lifeline();
            }
            return Ok(None);
        }
        let Some(way) = ways.iter().find(|way| works(way)) else {
            return Ok(None);
        };
        let me =
            std::env::current_exe().map_err(|e| fail_with("cannot find the course tool", e))?;
        let mut command = Command::new("unshare");
        command
            .args([way, "--kill-child", "--"])
            .arg(me)
            .args(std::env::args_os().skip(1))
            .envs(env.iter().map(|(name, value)| (name, value)))
            .env(INSIDE, "1")
            .env(marker, "1")
            .stdin(Stdio::piped());
        let mut child = process::spawn(&mut command)
            .map_err(|e| fail_with("cannot run the command in a private PID namespace", e))?;
        if let Some(stdin) = child.stdin.take() {
            *lock() = Some((child.id(), stdin));
        }
        let status = child.wait();
        // The pipe closes here: nothing is left inside to read it.
        lock().take();
        let status = status.map_err(|e| fail_with("cannot wait for the course tool's run", e))?;
        Ok(Some(match status.code() {
            Some(0) => Ok(()),
            Some(130) => {
                // Interrupted inside (Ctrl-C reaches every program in the terminal's process
                // group): the same exit here, and nothing more said.
                crate::mark_interrupted();
                Err(Exit::Quiet)
            }
            Some(_) => Err(Exit::Quiet),
            None => Err(fail(format!(
                "the course tool's run in its private PID namespace ended by {status}"
            ))),
        }))
    }

    /// Why no lab namespace can be made here, in one line that names the one thing that blocks
    /// it and how to lift it: unshare missing, unshare too old for `--kill-child`, or one of the
    /// kernel's switches for unprivileged user namespaces.
    pub(super) fn why_no_lab() -> String {
        let on_path = std::env::var_os("PATH").is_some_and(|path| {
            std::env::split_paths(&path).any(|dir| dir.join("unshare").is_file())
        });
        let kill_child = || {
            // No namespace asked for: only whether this unshare knows the option.
            let mut probe = Command::new("unshare");
            probe.args(["--kill-child", "true"]);
            match process::run_bounded(&mut probe, b"", Duration::from_secs(10)) {
                Ok(o) => !String::from_utf8_lossy(&o.stderr).contains("--kill-child"),
                Err(_) => true,
            }
        };
        let read = |file: &str| {
            std::fs::read_to_string(file)
                .ok()
                .map(|v| v.trim().to_string())
        };
        blocker(on_path, on_path && kill_child(), read)
    }

    /// [`why_no_lab`]'s reasoning, on what it found: `unshare` on PATH, it knowing
    /// `--kill-child`, and the sysctl files as `read` gives them.
    pub(super) fn blocker(
        unshare: bool,
        kill_child: bool,
        read: impl Fn(&str) -> Option<String>,
    ) -> String {
        const NEEDS: &str = "the lab link needs a user and a network namespace";
        if !unshare {
            return format!(
                "{NEEDS}, made by unshare, which is not on PATH: install util-linux (apt, dnf \
                 and apk all call the package util-linux)"
            );
        }
        if !kill_child {
            return format!(
                "{NEEDS}, and this unshare does not know --kill-child (util-linux 2.32 or \
                 later has it): update util-linux"
            );
        }
        let is = |file: &str, value: &str| read(file).is_some_and(|v| v == value);
        if is("/proc/sys/kernel/unprivileged_userns_clone", "0") {
            return format!(
                "{NEEDS}, and this kernel allows them to root only \
                 (kernel.unprivileged_userns_clone is 0, a Debian patch): as root, `sysctl \
                 kernel.unprivileged_userns_clone=1`"
            );
        }
        if is("/proc/sys/user/max_user_namespaces", "0") {
            return format!(
                "{NEEDS}, and user.max_user_namespaces is 0 here, so none can be made: as root, \
                 `sysctl user.max_user_namespaces=15000`"
            );
        }
        if is(
            "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
            "1",
        ) {
            return format!(
                "{NEEDS}, and AppArmor refuses them to unprivileged programs \
                 (kernel.apparmor_restrict_unprivileged_userns is 1, as Ubuntu sets it since \
                 23.10): as root, `sysctl kernel.apparmor_restrict_unprivileged_userns=0`"
            );
        }
        format!(
            "{NEEDS}, and `unshare -rnpf --kill-child true` fails here though unshare is \
             there and the kernel's switches allow it (a container or seccomp policy that \
             forbids unshare(2)?): run the course on the host, or in a VM"
        )
    }

    /// Whether unshare can make the namespace `way` here (it says nothing when it cannot).
    fn works(way: &str) -> bool {
        let mut probe = Command::new("unshare");
        probe.args([way, "--kill-child", "true"]);
        process::run_bounded(&mut probe, b"", Duration::from_secs(10))
            .is_ok_and(|o| o.status.is_some_and(|s| s.success()))
    }

    fn lock() -> std::sync::MutexGuard<'static, Option<(u32, ChildStdin)>> {
        INSIDE_COPY.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Inside: read stdin, the pipe from the copy outside, on a thread of its own. A byte means
    /// the copy outside was interrupted; the end of the pipe means it is gone (SIGKILL, say), with
    /// no one left to tell. Either way everything started is stopped and the tool exits 130, as
    /// on an interrupt, and the namespace ends with it; only an interrupt is said on the terminal.
    fn watch_the_lifeline() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            std::thread::spawn(|| {
                let mut byte = [0u8; 1];
                let interrupted = loop {
                    match std::io::stdin().read(&mut byte) {
                        Ok(0) => break false,
                        Ok(_) => break true,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => break false,
                    }
                };
                crate::stop_everything(interrupted);
            });
        });
    }

    pub(super) fn pass_interrupt_on() -> Option<u32> {
        let (unshare, mut pipe) = lock().take()?;
        let _ = pipe.write_all(b"!");
        Some(unshare)
    }

    pub(super) fn kill(unshare: u32) {
        if let Ok(pid) = i32::try_from(unshare)
            && pid > 1
        {
            let _ =
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL);
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::linux::blocker;

    /// The one thing that blocks the lab is named, in the order it is checked, with its fix.
    #[test]
    fn the_message_names_what_blocks_the_lab() {
        let none = |_: &str| None;
        assert!(blocker(false, false, none).contains("install util-linux"));
        assert!(blocker(true, false, none).contains("--kill-child (util-linux 2.32"));
        let zero = |file: &str| {
            file.ends_with("unprivileged_userns_clone")
                .then(|| "0".into())
        };
        assert!(blocker(true, true, zero).contains("sysctl kernel.unprivileged_userns_clone=1"));
        let max = |file: &str| file.ends_with("max_user_namespaces").then(|| "0".into());
        assert!(blocker(true, true, max).contains("user.max_user_namespaces=15000"));
        let apparmor = |file: &str| {
            file.ends_with("apparmor_restrict_unprivileged_userns")
                .then(|| "1".into())
        };
        assert!(blocker(true, true, apparmor).contains("23.10"));
        assert!(blocker(true, true, none).contains("container"));
    }
}
