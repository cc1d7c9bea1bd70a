//! Nothing the course tool starts outlives it. Two ties, each where it can hold:
//!
//! - A learner's listing runs in a process group of its own ([`own_group`]), and when its side
//!   is over the whole group is stopped ([`stop_group`]): a child it forked, which would go on
//!   running with ppid 1 (and hold the listing's output open), goes with it. Unix; a child that
//!   leaves the group (`setsid`, as a daemon does) escapes this tie.

use std::process::Command;

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
