//! course — the course's own tool, run as `cargo course COMMAND` from anywhere in the checkout.
//!
//! Every command reads one table, [`registry::LESSONS`]: adding a lesson is its crate, its page and
//! one row there. The binary (`src/bin/course.rs`, so that `src/main.rs` marks a lesson) only hands
//! [`run`] to the common reporter; the modules are a library so that the course's own tests can
//! read the registry too.

use lesson_common::{Exit, usage};

// The commands: each stands on the services below, never on another command.
pub mod book;
pub mod compare;
pub mod exercise;
pub mod lab;
pub mod list;
pub mod tour;
pub mod trace;
pub mod transcripts;

// The services the commands share: the lesson table, the checkout, the interpreter, text, running
// a pair, the lab link, recording a traced run, and the ties that keep what the tool starts from outliving it.
pub mod json;
pub mod labnet;
pub mod link;
pub mod pair;
pub mod python;
pub mod record;
pub mod registry;
pub mod scratch;
pub mod tether;
pub mod text;
pub mod workspace;

pub const USAGE: &str = "COMMAND [ARGS…]";
pub const HELP: &str = "\
The course's tool: run the lessons, compare them with the Python listings, watch them on the wire.

Commands:
  list                    the course map: lesson, chapter, run command, partner
  tour [LESSON…]          build once, run every lesson with its partner on loopback, check both
                          sides
  compare LESSON LISTING.py [ARGS…]
                          your copy of the Python listing and the lesson against the same peer
  lab LESSON [--link SPEC] [--seed N]
                          the pair across a lossy, slow, reordering link (`lab up`, `lab on`: your
                          own commands on it)
  trace LESSON [--scenario NAME | --listing LISTING.py | --link SPEC [--seed N]] [--pcap FILE]
        [[--] ARGS…]      the system calls and packets of a real run, as a ladder diagram (with
                          --link: across the lab link, drops, duplicates and retransmissions marked)
  transcripts [--check]   rewrite (or check) the expected-output blocks on the lesson pages
  book [--check]          build the site into target/book (and check it in headless Chromium)
  exercise [NAME [--watch] [--hint] [--solution] [--seed N]] | --reset NAME | --dev-check
                          the exercises: edit a lesson's copy, and the checker plays its peer

Run `cargo course COMMAND --help` for a command's own options.";

pub fn run() -> Result<(), Exit> {
    let mut args: Vec<String> = Vec::new();
    for arg in std::env::args_os().skip(1) {
        let arg = arg
            .into_string()
            .map_err(|bad| usage(format!("{bad:?} is not valid UTF-8")))?;
        args.push(arg);
    }
    let Some(command) = args.first().cloned() else {
        return Err(usage(
            "give a COMMAND: list, tour, compare, lab, trace, transcripts, book or exercise",
        ));
    };
    if command == "--help" || command == "-h" {
        return Err(Exit::Help);
    }
    let rest = args.split_off(1);
    stop_children_on_interrupt();
    let outcome = match command.as_str() {
        "list" => list::main(rest),
        "tour" => tour::main(rest),
        "compare" => compare::main(rest),
        "lab" => lab::main(rest),
        "trace" => trace::main(rest),
        "transcripts" => transcripts::main(rest),
        "book" => book::main(rest),
        "exercise" => exercise::main(rest),
        record::PAGE_LADDER => record::page_ladder_inside(&rest),
        other => Err(usage(format!(
            "unknown command '{other}' (one of: list, tour, compare, lab, trace, transcripts, book, \
             exercise)"
        ))),
    };
    if STOPPING.load(std::sync::atomic::Ordering::SeqCst) {
        // An interrupt came, and the handler is stopping what the command started (which is why
        // the command ended): let it finish, remove the scratch folders and say so, and end the
        // process with 130 itself, rather than end the process under it. Bounded all the same.
        std::thread::sleep(std::time::Duration::from_secs(10));
    }
    outcome
}

/// What follows `usage: cargo course` under a usage error: the named command's own synopsis (the
/// first line of its help), else the tool's.
pub fn synopsis(command: Option<&str>) -> &'static str {
    let help = match command {
        Some("list") => list::HELP,
        Some("tour") => tour::HELP,
        Some("compare") => compare::HELP,
        Some("lab") => lab::HELP,
        Some("trace") => trace::HELP,
        Some("transcripts") => transcripts::HELP,
        Some("book") => book::HELP,
        Some("exercise") => exercise::HELP,
        _ => return USAGE,
    };
    let first = help.lines().next().unwrap_or_default();
    first.strip_prefix("usage: cargo course ").unwrap_or(USAGE)
}

/// Write `text` to stdout. A reader that left on purpose (`cargo course list | head -3`) is not an
/// error; any other failed write is. Once an interrupt has come, nothing more is written: the
/// handler stops the programs while the main thread may still be reporting on them, and a report
/// of runs the interrupt cut short (a DIFFERENT verdict, a tour's FAIL lines) would be wrong.
pub fn print(text: &str) -> Result<(), Exit> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    // Asked with stdout held: a report begun before the interrupt is written whole.
    if interrupted() {
        return Ok(());
    }
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// The exit status a command asked for in place of 1 (0: none asked).
static EXIT_CODE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// The exit status the run asked for instead of the usual 1 of a failure: `lab on` passes its
/// command's own on. `None`: the usual.
pub fn exit_code() -> Option<u8> {
    match EXIT_CODE.load(std::sync::atomic::Ordering::SeqCst) {
        0 => None,
        code => Some(code),
    }
}

/// End the run with `code` (with [`Exit::Quiet`], so nothing more is said).
pub(crate) fn set_exit_code(code: u8) {
    EXIT_CODE.store(code, std::sync::atomic::Ordering::SeqCst);
}
/// Set once [`stop_everything`] has begun.
static STOPPING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether a SIGINT or SIGTERM arrived: the run then ends with exit 130, whatever it was doing.
pub fn interrupted() -> bool {
    INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst)
}

/// The run was interrupted where this process cannot see it: its copy in a private PID namespace
/// ([`tether::enter`]) ended so. It ends with exit 130 too, and says nothing more. (Only Linux
/// makes the namespace.)
#[cfg(target_os = "linux")]
pub(crate) fn mark_interrupted() {
    INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Send SIGTERM to the process `pid`, and to the process group it leads if it leads one (a listing
/// compare started in a group of its own, with any child it forked); one that is already gone is
/// no error. Only that process and its group: kill(2) reads 0 and -1 as "my process group" and
/// "everyone I may signal", and pid 1 is init. A pid that leads no group names none (Linux gives
/// no process a pid in use as a group's id), so the second kill then finds nothing.
#[cfg(unix)]
pub(crate) fn terminate(pid: u32) {
    use nix::sys::signal::{SIGTERM, kill, killpg};
    if let Ok(pid) = i32::try_from(pid)
        && pid > 1
    {
        let pid = nix::unistd::Pid::from_raw(pid);
        let _ = kill(pid, SIGTERM);
        let _ = killpg(pid, SIGTERM);
    }
}

/// Wait (at most `limit`) until each of `pids`, children of ours, has ended, reaping them: a
/// child that another thread reaps first (its owner's `wait`) counts as ended too. Whether all
/// have.
#[cfg(unix)]
fn wait_gone(pids: &[u32], limit: std::time::Duration) -> bool {
    use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
    let deadline = std::time::Instant::now() + limit;
    let mut left: Vec<nix::unistd::Pid> = pids
        .iter()
        .filter_map(|&pid| i32::try_from(pid).ok())
        .map(nix::unistd::Pid::from_raw)
        .collect();
    while !left.is_empty() && std::time::Instant::now() < deadline {
        left.retain(|&pid| {
            matches!(
                waitpid(pid, Some(WaitPidFlag::WNOHANG)),
                Ok(WaitStatus::StillAlive)
            )
        });
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    left.is_empty()
}

/// Windows: taskkill has ended them by the time it returns.
#[cfg(not(unix))]
fn wait_gone(_pids: &[u32], _limit: std::time::Duration) -> bool {
    true
}

/// Windows has no signals to send: `taskkill` ends the process (and what it started) by its id.
#[cfg(not(unix))]
pub(crate) fn terminate(pid: u32) {
    let _ = std::process::Command::new("taskkill")
        .args(["/PID", &pid.to_string(), "/T", "/F"])
        .output();
}

/// Ctrl-C at a terminal reaches every program the tool started (they share its process group);
/// a SIGINT or SIGTERM sent to the tool alone must stop them too, so nothing is left running.
/// std cannot catch a signal without unsafe code, so the `ctrlc` crate does.
fn stop_children_on_interrupt() {
    let _ = ctrlc::set_handler(|| stop_everything(true));
}

/// Set by a copy of the tool for another copy it runs with the terminal (record::enter).
pub(crate) const NESTED: &str = "COURSE_NESTED";

/// What a command has to say when it is interrupted, before its programs are stopped (`lab up`,
/// which is ended by Ctrl-C, says what the link did): [`on_interrupt_first`].
type LastWords = Box<dyn FnOnce() + Send>;
static LAST_WORDS: std::sync::Mutex<Option<LastWords>> = std::sync::Mutex::new(None);

/// Run `words` first when an interrupt comes (once; a second call replaces the first).
pub(crate) fn on_interrupt_first(words: impl FnOnce() + Send + 'static) {
    *LAST_WORDS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Box::new(words));
}

/// Stop every program the tool started, remove its scratch folders, and exit 130: on an
/// interrupt, and inside a private PID namespace when the copy of the tool outside it is
/// interrupted or gone ([`tether`]). `say`: tell the terminal so (not when the copy outside was
/// killed: the learner has the prompt back by then). Runs once; a second caller waits for the
/// first to end the process.
pub(crate) fn stop_everything(say: bool) -> ! {
    if STOPPING.swap(true, std::sync::atomic::Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
    INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
    let last_words = LAST_WORDS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    if let Some(last_words) = last_words {
        last_words();
    }
    if let Some(unshare) = tether::pass_interrupt_on() {
        // The command runs in a copy of the tool inside a private PID namespace, which stops what
        // it started and says so; unshare ends once it has. At most a little longer than the copy
        // waits for its programs, then the namespace is killed whole.
        if !wait_gone(&[unshare], std::time::Duration::from_secs(4)) {
            // Still our unreaped child, so the pid is still its.
            tether::kill_inside(unshare);
        }
    } else {
        // Traced programs first: their strace ignores the signal, and ends once they do.
        record::on_interrupt();
        let children = test_support::process::live_children();
        for &pid in &children {
            terminate(pid);
        }
        // Gone before we say so: a partner that still held its port a moment after the tool
        // exited could refuse the next run its bind.
        wait_gone(&children, std::time::Duration::from_secs(2));
        scratch::remove_all();
        // A copy run by another copy of the tool (trace's run in its network namespace) leaves
        // the saying to the copy the learner started: it said it twice, or after a SIGKILL of
        // the outer copy, onto the learner's prompt.
        if say && std::env::var_os(NESTED).is_none() {
            eprintln!("\ncourse: interrupted; every program it started is stopped");
        }
    }
    // The handler runs on its own thread while the main one waits on children: ending the
    // process from here is the one way out that does not wait for them.
    #[allow(clippy::exit)]
    std::process::exit(130);
}

/// The arguments of a command that takes only `--check`: `Some(true)` with it, `Some(false)`
/// without; `None` once `--help` has printed `help`.
pub fn check_flag(command: &str, help: &str, args: &[String]) -> Result<Option<bool>, Exit> {
    match args {
        [] => Ok(Some(false)),
        [flag] if flag == "--check" => Ok(Some(true)),
        [flag] if flag == "--help" || flag == "-h" => print(&format!("{help}\n")).map(|()| None),
        _ => Err(usage(format!(
            "{command} takes only --check, not '{}'",
            args.join(" ")
        ))),
    }
}
