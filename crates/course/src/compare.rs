//! `cargo course compare LESSON LISTING.py [ARGS…]`: hold a lesson next to the learner's own copy
//! of its Python listing. Both run against the same loopback peer (or, for a server lesson, each in
//! turn on the listing's port with a scripted client); what differs from run to run is masked; the
//! two outputs are shown side by side. Exit 0 same, 1 different (or the comparison could not run),
//! 2 a bad command line.

use std::fmt::Write as _;
use std::fs;
use std::io::ErrorKind;
use std::net::{TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Command, ExitStatus};
use std::thread;
use std::time::{Duration, Instant};

use lesson_common::{Exit, fail, fail_with, usage};
use test_support::process::{self, Keep, NoLine, Spawned};

use crate::registry::{LISTING_PORT, Lesson, Role, Scripted};
use crate::text::{diff_rows, mark, shell_word};
use crate::{pair, python, tether};

pub(crate) const HELP: &str = "\
usage: cargo course compare LESSON LISTING.py [ARGS…]

Run your own copy of a lesson's Python listing (the course does not ship the book's code) and the
lesson against the same peer on 127.0.0.1, mask what differs from run to run, and show both outputs
side by side. Exit 0: the same; 1: different; 2: a bad command line.

  ARGS        the lesson's arguments, to both sides. Write the word PORT where the port of the
              peer compare starts goes (it listens on a free port): `cargo course compare
              socket-info info.py localhost PORT`. Without ARGS, the usual ones (each side's `$`
              line shows them; http-fetch: --pause 0 127.0.0.1 PORT /hello.txt). An option
              joins them, replacing the usual option of its name: `… compare http-fetch fetch.py
              --pause 2` runs --pause 2 127.0.0.1 PORT /hello.txt. Other words replace them all.
              Options (--pause, --timeout) go to the lesson only.
  peers       client lessons: their partner on a free port (http-fetch: python3 -m http.server
              serving hello.txt); server lessons: each side in turn on the listing's port 51423,
              then a scripted client makes three connections (TCP) or sends three datagrams (UDP)
              — on Linux inside a private network namespace (`unshare -rn`) where it is allowed,
              so a server already running on 51423 does not matter; lookup lessons: none.
  python      $PYTHON (a command, e.g. `env PYENV_VERSION=2.7.18 python2`), else `python2`. With
              pyenv: PYENV_VERSION=2.7.18 cargo course compare … These are Python 2 listings (the
              book's 1st edition): python3 cannot run them.

How the sides run: a client or lookup lesson and the listing both at once, against the same peer;
the lesson ends by itself (its usual arguments give udp-client --timeout 1), and the listing is
stopped if it still runs 1 s after the lesson ended and it printed as many lines (udp.py waits for
replies for ever, by design: that is not a difference). A server lesson and its listing one after
the other, each stopped once the scripted client is done. The header says what ended each side.
A program a listing starts (a child it forks) is stopped with it, and the header says so if one
held the listing's output open after it exited; on Linux, where a private PID namespace can be
made (`unshare -cpf`), compare runs in one, so that nothing outlives it, a daemon or a SIGKILL
of compare included. Of each side's stdout and stderr compare keeps
the first 1000 lines (256 KiB at most), and says what it left out.

What compare changes in the listing's run, and why: a listing that binds '' (every interface) binds
127.0.0.1 instead; `--pause SECONDS` for http-fetch also shortens the listing's time.sleep(10) to
that many seconds. A listing that connects to a fixed host elsewhere is refused, and the error
says which lines to change (the Information Example as printed: HOST and PORT from sys.argv).
Masked: ephemeral ports (not 0, 51423, the peer's port, nor ports below 1024), HTTP dates, CRs at
line ends; the lesson's `Listening on (…)` line (the listings print none)
and anything on stderr are shown, not compared. Exit codes count when both sides ended by
themselves. The output fits $COLUMNS, else the terminal's width, else 100 columns; below 120 the
two sides are stacked, a changed line shown once for each.";

/// How long the lesson may run: the registry's limit, plus any pause and any --timeout it was
/// given, so that a lesson that waits out its own timeout (udp-client) ends by itself.
fn limit(lesson: &Lesson, options: &Options) -> Duration {
    let seconds = |s: Option<f64>| Duration::from_secs_f64(s.unwrap_or(0.0).min(3600.0));
    Duration::from_secs(lesson.compare.limit_secs)
        + seconds(options.pause)
        + seconds(options.timeout)
}

/// How long a listing may still run once the lesson has ended and it has printed as many lines, on
/// top of the time its interpreter takes to start: it started at the same moment and does the same
/// exchange, so one still running then is waiting for something that will not come (udp.py waits
/// for replies for ever, by design) and is stopped.
const GRACE: Duration = Duration::from_secs(1);

pub fn main(args: Vec<String>) -> Result<(), Exit> {
    if args.iter().take(2).any(|a| a == "--help" || a == "-h") {
        return crate::print(&format!("{HELP}\n"));
    }
    let [name, listing, rest @ ..] = args.as_slice() else {
        return Err(usage(
            "give a LESSON and your copy of its LISTING.py (cargo course compare --help)",
        ));
    };
    let lesson = crate::registry::find(name)?;
    let source = match fs::read_to_string(listing) {
        Ok(source) => source,
        Err(e) => return Err(usage(format!("cannot read the listing '{listing}': {e}"))),
    };
    let listing =
        fs::canonicalize(listing).map_err(|e| usage(format!("cannot read '{listing}': {e}")))?;
    if let Some((line, host)) = fixed_remote_host(&source) {
        // One line (the error contract) that says exactly what to change, and what to run then.
        let change = if lesson.compare.edit.is_empty() {
            "make it take HOST and PORT from sys.argv, as the lesson does".to_string()
        } else {
            format!("in your copy, {}", lesson.compare.edit)
        };
        // The command runs as pasted into the same shell: the interpreter setting this run was
        // given (PYENV_VERSION=2.7.18 before the command, say) comes along.
        return Err(usage(format!(
            "line {line} of {} connects to the fixed host '{host}', and compare talks only to this \
             machine: {change}; then run `{}cargo course compare {} {} 127.0.0.1 PORT`",
            listing.display(),
            python::settings_for_shell(),
            lesson.name,
            shell_word(&listing.to_string_lossy())
        )));
    }
    let (python, startup) = python::interpreter_and_startup()?;
    let mut args = join_defaults(&compare_defaults(lesson), rest);
    if lesson.role == Role::Client {
        // The peer listens on 127.0.0.1 only.
        if let Some(host) = split_options(&args)
            .listing
            .first()
            .filter(|h| !["127.0.0.1", "localhost"].contains(&h.as_str()))
        {
            return Err(usage(format!(
                "HOST '{host}' is not 127.0.0.1 or localhost, where the peer compare starts listens"
            )));
        }
    }
    // The rest runs as process 1 of a private PID namespace where Linux allows one: nothing a
    // listing starts (a daemon too) outlives compare, even when compare is killed with SIGKILL.
    if let Some(done) = crate::tether::enter(&[python::probed(startup)])? {
        return done;
    }
    crate::workspace::build()?;
    if lesson.role == Role::Server {
        let mut again = vec![
            lesson.name.to_string(),
            listing.to_string_lossy().into_owned(),
        ];
        again.extend(rest.iter().cloned());
        if let Some(done) = in_private_network(&again, startup)? {
            return done;
        }
    }

    let mut report = format!("compare: {} against {}\n", lesson.name, listing.display());
    if std::env::var_os(IN_NETNS).is_some() {
        report.push_str(
            "in a private network namespace (its own loopback: port 51423 is free there)\n",
        );
    }
    let peer = match lesson.role {
        Role::Client => pair::start_partner(lesson)?,
        _ => None,
    };
    if let Some(peer) = &peer {
        let _ = writeln!(report, "peer: {} on port {}", peer.shown, peer.port);
        let port = peer.port.to_string();
        for arg in args.iter_mut() {
            if arg == "PORT" {
                arg.clone_from(&port);
            }
        }
    }
    let options = split_options(&args);
    let (lesson_args, listing_args, pause) = (&args, &options.listing, options.pause);
    if !lesson.stdin.is_empty() {
        let _ = writeln!(report, "stdin (both sides): {}", lesson.stdin.trim_end());
    }
    if let Some(pause) = pause {
        let _ = writeln!(
            report,
            "the listing's time.sleep() is shortened to {pause} s, as --pause does for the lesson"
        );
    }
    if lesson.role == Role::Server {
        let what = if lesson.compare.scripted == Scripted::Datagrams {
            "sends three datagrams"
        } else {
            "makes three connections"
        };
        let _ = writeln!(
            report,
            "each side in turn on port {LISTING_PORT}; then a scripted client {what} to 127.0.0.1\n\
             where the listing binds '' or 0.0.0.0 (every interface), it binds 127.0.0.1, as the \
             lesson does"
        );
    }
    let mut python_cmd = python::python_command(&python, Path::new(&listing), listing_args, pause);
    let mut rust_cmd = Command::new(crate::workspace::binary(lesson.name)?);
    rust_cmd.args(lesson_args);
    let _ = writeln!(
        report,
        "$ {} {} {}",
        python.join(" "),
        listing.display(),
        listing_args.join(" ")
    );
    let lesson_line = format!("$ {} {}\n", lesson.name, lesson_args.join(" "));
    let (listing_side, lesson_side) = if lesson.role == Role::Server {
        // One at a time: both would bind the listing's port. Say what is happening before each
        // run, which takes a second or two.
        crate::print(&std::mem::take(&mut report))?;
        let listing_side = run_server(lesson, &mut python_cmd)?;
        if crate::interrupted() {
            return Err(Exit::Quiet);
        }
        crate::print(&lesson_line)?;
        (listing_side, run_server(lesson, &mut rust_cmd)?)
    } else {
        report.push_str(&lesson_line);
        let _ = writeln!(
            report,
            "both at once: the lesson ends by itself; the listing is stopped if it still runs\n\
             {:.1} s after the lesson ended and it printed as many lines",
            (GRACE + startup).as_secs_f64()
        );
        crate::print(&std::mem::take(&mut report))?;
        let limit = limit(lesson, &options);
        run_together(
            lesson,
            &mut python_cmd,
            &mut rust_cmd,
            limit,
            GRACE + startup,
        )?
    };
    // A SIGINT or SIGTERM that stopped the sides leaves no comparison to report: crate::print
    // writes nothing once it came, and the tool exits 130.

    let keep: Vec<u16> = [0, LISTING_PORT]
        .into_iter()
        .chain(peer.as_ref().map(|p| p.port))
        .collect();
    let left = normalize(lesson, &mask(&listing_side.stdout, &keep));
    let lesson_stdout: String = lesson_side
        .stdout
        .lines()
        .filter(|l| !l.starts_with("Listening on ("))
        .map(|l| format!("{l}\n"))
        .collect();
    let right = normalize(lesson, &mask(&lesson_stdout, &keep));
    let interpreter_name = Path::new(python.last().map_or("python", String::as_str))
        .file_name()
        .map_or("python".into(), |n| n.to_string_lossy().into_owned());
    let (table, same_lines) = side_by_side(
        &format!("LISTING ({interpreter_name}): {}", listing_side.end),
        &format!("LESSON ({}): {}", lesson.name, lesson_side.end),
        &left,
        &right,
        width(),
    );
    let _ = writeln!(report, "\nthe listing: {}", listing_side.how);
    let _ = writeln!(report, "the lesson: {}", lesson_side.how);
    for (who, side) in [("listing", &listing_side), ("lesson", &lesson_side)] {
        report.push_str(&cut_note(who, side.dropped));
    }
    report.push('\n');
    report.push_str(&table);
    for (who, side) in [("listing", &listing_side), ("lesson", &lesson_side)] {
        if !side.stderr.trim().is_empty() {
            let _ = writeln!(report, "\nstderr of the {who} (not compared):");
            for line in side.stderr.lines() {
                let _ = writeln!(report, "    {line}");
            }
        }
    }
    let mut same = same_lines;
    if let (Some(a), Some(b)) = (listing_side.code, lesson_side.code) {
        if a != b {
            let _ = writeln!(
                report,
                "\ncompare: the exit codes differ: listing exit {a}, lesson exit {b}"
            );
            same = false;
        }
    }
    if same {
        report.push_str(
            "\ncompare: SAME — the outputs agree once ephemeral ports and dates are masked\n",
        );
        crate::print(&report)
    } else {
        report.push_str("\ncompare: DIFFERENT — see the lines marked |, < or > above\n");
        crate::print(&report)?;
        Err(Exit::Quiet)
    }
}

/// The arguments compare uses without ARGS: the lesson's own for a run beside its partner (its
/// options go to the lesson only: udp-client's `--timeout 1` lets it end a second after the last
/// reply). A server lesson gets none: the listing's own port, 51423, on both sides.
fn compare_defaults(lesson: &Lesson) -> Vec<String> {
    if lesson.role == Role::Server {
        return Vec::new();
    }
    lesson.peer_args.iter().map(|a| a.to_string()).collect()
}

/// The ARGS given joined with the usual ones: each `--option VALUE` given replaces the usual option
/// of that name (or is added), and positional words given replace all the usual ones (kept when
/// none is given). `--pause 2` alone is then `--pause 2 127.0.0.1 PORT /hello.txt` for http-fetch.
fn join_defaults(defaults: &[String], given: &[String]) -> Vec<String> {
    let (given_options, given_words) = options_and_words(given);
    let (usual_options, usual_words) = options_and_words(defaults);
    let name = |option: &[String]| -> String {
        let flag = option.first().map_or("", String::as_str);
        flag.split_once('=')
            .map_or(flag, |(name, _)| name)
            .to_string()
    };
    let given_names: Vec<String> = given_options.iter().map(|o| name(o)).collect();
    let mut out: Vec<String> = usual_options
        .into_iter()
        .filter(|o| !given_names.contains(&name(o)))
        .chain(given_options)
        .flatten()
        .collect();
    out.extend(if given_words.is_empty() {
        usual_words
    } else {
        given_words
    });
    out
}

/// The `--option VALUE` (or `--option=VALUE`) groups of `args`, and the other words, in order.
fn options_and_words(args: &[String]) -> (Vec<Vec<String>>, Vec<String>) {
    let (mut options, mut words) = (Vec::new(), Vec::new());
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if !arg.starts_with("--") {
            words.push(arg.clone());
        } else if arg.contains('=') {
            options.push(vec![arg.clone()]);
        } else {
            options.push(
                [Some(arg), rest.next()]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect(),
            );
        }
    }
    (options, words)
}

/// What compare reads in the lesson's ARGS.
struct Options {
    /// The ARGS without `--option VALUE` pairs: the listing's.
    listing: Vec<String>,
    /// `--pause SECONDS`, which compare applies to the listing's time.sleep() too.
    pause: Option<f64>,
    /// `--timeout SECONDS`, which the lesson may wait out before it ends.
    timeout: Option<f64>,
}

fn split_options(args: &[String]) -> Options {
    let mut options = Options {
        listing: Vec::new(),
        pause: None,
        timeout: None,
    };
    let mut words = args.iter();
    while let Some(arg) = words.next() {
        if let Some(flag) = arg.strip_prefix("--") {
            let (name, value) = match flag.split_once('=') {
                Some((name, value)) => (name, Some(value.to_string())),
                None => (flag, words.next().cloned()),
            };
            let seconds = value
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|p| p.is_finite() && *p >= 0.0);
            match name {
                "pause" => options.pause = seconds,
                "timeout" => options.timeout = seconds,
                _ => {}
            }
            continue;
        }
        options.listing.push(arg.clone());
    }
    options
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The first `connect((HOST, …))` with a quoted HOST that is not this machine: (line, host).
/// A check on the text, not a sandbox: it catches the book's `s.connect(("www.google.com", port))`.
pub fn fixed_remote_host(source: &str) -> Option<(usize, String)> {
    for (number, line) in source.lines().enumerate() {
        let Some(at) = line.find("connect((") else {
            continue;
        };
        let rest = line[at + "connect((".len()..].trim_start();
        let Some(quote) = rest.chars().next().filter(|c| *c == '\'' || *c == '"') else {
            continue;
        };
        let host: String = rest[1..].chars().take_while(|c| *c != quote).collect();
        if !host.is_empty() && !is_loopback(&host) {
            return Some((number + 1, host));
        }
    }
    None
}

/// How much of each side's stdout, and of its stderr, compare keeps and compares: far more than
/// any listing of the book prints, and a bound on what a listing that prints without end costs
/// (the diff's table grows with the product of the two sides' lines).
const KEEP: Keep = Keep {
    bytes: 256 << 10,
    lines: 1000,
};

/// What one side printed and how it ended.
struct Side {
    stdout: String,
    stderr: String,
    /// The bytes of its stdout and of its stderr past [`KEEP`], read and left out.
    dropped: (u64, u64),
    /// Its exit code, when it ended by itself.
    code: Option<i32>,
    /// How it ended, in a few words (its column's title).
    end: String,
    /// What ended it, in a sentence (the header).
    how: String,
}

/// What a side printed past [`KEEP`], said: one line a stream, empty when nothing was cut.
fn cut_note(who: &str, (stdout, stderr): (u64, u64)) -> String {
    let mut note = String::new();
    for (stream, bytes) in [("stdout", stdout), ("stderr", stderr)] {
        if bytes > 0 {
            let _ = writeln!(
                note,
                "cut: the {who} printed {} more on {stream} than compare keeps ({} lines, {} KiB),\n     \
                 and that is not compared",
                amount(bytes),
                KEEP.lines,
                KEEP.bytes >> 10
            );
        }
    }
    note
}

/// A number of bytes in words: `512 bytes`, `3.2 MB`.
fn amount(bytes: u64) -> String {
    match bytes {
        0..1_000 => format!("{bytes} bytes"),
        1_000..1_000_000 => format!("{:.1} kB", bytes as f64 / 1e3),
        _ => format!("{:.1} MB", bytes as f64 / 1e6),
    }
}

/// A side that ended by itself with `status`.
fn ended(status: ExitStatus) -> (Option<i32>, String, String) {
    match status.code() {
        Some(code) => (
            Some(code),
            format!("exit {code}"),
            format!("ended by itself, exit {code}"),
        ),
        None => (
            None,
            format!("{status}"),
            format!("ended by a signal ({status})"),
        ),
    }
}

/// A client or lookup lesson and its listing, both at once against the same peer. The lesson
/// runs to its own end (within `limit`). The listing, started at the same moment, is stopped if it
/// still runs `grace` after the lesson ended and it has printed as many lines as the lesson did
/// (a listing slow to start, on a busy machine, is not cut short), or at `limit` plus `grace`. A
/// listing that waits for ever (udp.py) so ends a second after the lesson, not at a time limit
/// both sides wait out in turn.
fn run_together(
    lesson: &Lesson,
    listing: &mut Command,
    rust: &mut Command,
    limit: Duration,
    grace: Duration,
) -> Result<(Side, Side), Exit> {
    let stdin = lesson.stdin.as_bytes();
    let started = Instant::now();
    // In a group of its own: a child it forks is stopped with it (it would outlive compare).
    let mut listing = Spawned::start_kept(tether::own_group(listing), stdin, KEEP)
        .map_err(|e| fail_with("cannot start the listing's side", e))?;
    let outcome = process::run_bounded_kept(rust, stdin, limit, KEEP)
        .map_err(|e| fail_with("cannot run the lesson's side", e))?;
    let lesson_ended = Instant::now();
    let lesson_stopped = outcome.status.is_none();
    let lesson_side = match outcome.status {
        Some(status) => {
            let (code, end, how) = ended(status);
            Side {
                stdout: pair::text(&outcome.stdout),
                stderr: pair::text(&outcome.stderr),
                dropped: (outcome.stdout_dropped, outcome.stderr_dropped),
                code,
                end,
                how,
            }
        }
        None => Side {
            stdout: pair::text(&outcome.stdout),
            stderr: pair::text(&outcome.stderr),
            dropped: (outcome.stdout_dropped, outcome.stderr_dropped),
            code: None,
            end: "stopped at its limit".to_string(),
            how: format!(
                "stopped by compare at its limit of {} s (still running)",
                limit.as_secs()
            ),
        },
    };
    let want = lesson_side.stdout.lines().count();
    let hard = started + limit + grace;
    let mut lines: Vec<String> = Vec::new();
    let mut caught_up: Option<Instant> = None;
    let status = loop {
        if let Some(status) = listing
            .wait(Duration::ZERO)
            .map_err(|e| fail_with("cannot wait for the listing's side", e))?
        {
            break Some(status);
        }
        let now = Instant::now();
        if caught_up.is_none() && lines.len() >= want {
            caught_up = Some(now);
        }
        let deadline = caught_up.map_or(hard, |at| (at + grace).min(hard));
        if now >= deadline {
            break None;
        }
        let step = deadline
            .saturating_duration_since(now)
            .min(Duration::from_millis(20));
        match listing.line(step) {
            Ok(line) => lines.push(line),
            Err(NoLine::Timeout) => {}
            // Its stdout is closed: it is ending, or a child of its own holds nothing more.
            Err(NoLine::Closed) => thread::sleep(step),
        }
    };
    let (code, end, how) = match (status, caught_up) {
        (Some(status), _) => ended(status),
        (None, Some(at)) => {
            let after = if lesson_stopped {
                "the lesson was stopped"
            } else if at > lesson_ended + Duration::from_millis(100) {
                "it printed as many lines as the lesson"
            } else {
                "the lesson ended"
            };
            (
                None,
                "stopped after the lesson".to_string(),
                format!(
                    "stopped by compare {:.1} s after {after}, still running\n             (a \
                     listing that waits for ever, as udp.py does by design, ends so: not a \
                     difference)",
                    grace.as_secs_f64()
                ),
            )
        }
        (None, None) => (
            None,
            "stopped at its limit".to_string(),
            format!(
                "stopped by compare at its limit of {:.0} s, still running, with fewer lines \
                 than the lesson",
                (limit + grace).as_secs_f64()
            ),
        ),
    };
    let (rest, stderr, held) = finish(&mut listing, status.is_some());
    let mut stdout: String = lines.iter().map(|l| format!("{l}\n")).collect();
    stdout.push_str(&rest);
    let listing_side = Side {
        stdout,
        stderr,
        dropped: listing.dropped(),
        code,
        end,
        how: how + held.said(),
    };
    Ok((listing_side, lesson_side))
}

/// How long the output of a listing that has exited may stay open before compare takes it that a
/// program the listing started holds it: the pipes close as the listing exits, and its last lines
/// are read in far less.
const HELD: Duration = Duration::from_millis(300);

/// Whether a side's output stayed open after it ended, held by a program it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    No,
    /// Held after the side exited by itself, until compare stopped its process group.
    ByItsGroup,
    /// Held even after its group was stopped: by a program that left the group (a daemon calls
    /// setsid), which the course tool stops when it ends.
    ByAnEscapee,
}

impl Held {
    /// The words for the header, after what ended the side.
    fn said(self) -> &'static str {
        match self {
            Held::No => "",
            Held::ByItsGroup => {
                "; a program it started kept its output open, and compare\n             stopped \
                 it (what the listing printed before it exited is compared)"
            }
            Held::ByAnEscapee => {
                "; a program it started, in a session of its own, still held its\n             \
                 output open 2 s later: what the listing printed before then is compared"
            }
        }
    }
}

/// End a listing's side: stop every program it started (its process group: a child it forked
/// would run on with ppid 1), and read what it printed that is still on its way, its last line
/// too (one without a newline comes only when the pipe closes). A side that `exited` by itself
/// should close its output at once: if it does not within [`HELD`], a program it started holds
/// it, and is stopped so that the pipe closes. Bounded: at most 2 s more for output that a
/// program outside the group holds. Its stdout and stderr, and whether its output was held.
fn finish(side: &mut Spawned, exited: bool) -> (String, String, Held) {
    let mut texts = [String::new(), String::new()];
    let closed = exited && drain(side, HELD, &mut texts);
    // Still open: a program of its group holds it, if one is left; else the pipe is slow to say
    // so (a busy machine), and nothing is held.
    let by_group = exited && !closed && tether::group_alive(side.id());
    tether::stop_group(side.id());
    side.stop();
    let held = if !closed && !drain(side, Duration::from_secs(2), &mut texts) {
        Held::ByAnEscapee
    } else if by_group {
        Held::ByItsGroup
    } else {
        Held::No
    };
    let [stdout, stderr] = texts;
    (stdout, stderr, held)
}

/// Add to `texts` (stdout, stderr) every line of `side` that comes within `within`: whether both
/// pipes closed by then.
fn drain(side: &Spawned, within: Duration, texts: &mut [String; 2]) -> bool {
    let deadline = Instant::now() + within;
    let mut closed = true;
    for (text, err) in texts.iter_mut().zip([false, true]) {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = if err {
                side.err_line(left)
            } else {
                side.line(left)
            };
            match line {
                Ok(line) => {
                    text.push_str(&line);
                    text.push('\n');
                }
                Err(NoLine::Closed) => break,
                Err(NoLine::Timeout) => {
                    closed = false;
                    break;
                }
            }
        }
    }
    closed
}

/// One server side: it binds the listing's port, the scripted client plays against it, then it is
/// stopped. What the scripted client saw is part of the compared output.
fn run_server(lesson: &Lesson, command: &mut Command) -> Result<Side, Exit> {
    let udp = lesson.compare.scripted == Scripted::Datagrams;
    // Asked before the side starts, never while it starts: a probe socket bound at the moment the
    // server binds would take the port from it.
    if pair::listing_port_taken(udp) {
        return Err(fail(format!(
            "port {LISTING_PORT}/{} is in use on 127.0.0.1 (is a lesson or a listing still \
             running?): stop it, then compare again",
            if udp { "udp" } else { "tcp" }
        )));
    }
    // In a group of its own, stopped whole: a child it forked would hold its port, its output and
    // the private network namespace after the comparison.
    let mut spawned = Spawned::start_kept(tether::own_group(command), b"", KEEP)
        .map_err(|e| fail_with("cannot start a server side", e))?;
    let mut seen = String::from("--- what the scripted client saw ---\n");
    // The book's servers print nothing when they are up, so the scripted client's first
    // connection (or datagram) is the readiness probe: refused means "not yet", so it tries again.
    seen.push_str(&if udp {
        scripted_datagrams(&mut spawned)
    } else {
        scripted_connections(&mut spawned)
    });
    // Let the last log line arrive: stop when nothing new came for 0.3 s (at most 3 s).
    let mut stdout: Vec<String> = Vec::new();
    let settled = Instant::now() + Duration::from_secs(3);
    while let Ok(line) = spawned.line(Duration::from_millis(300)) {
        stdout.push(line);
        if Instant::now() >= settled {
            break;
        }
    }
    let status = spawned.wait(Duration::ZERO).ok().flatten();
    let (rest, err, held) = finish(&mut spawned, status.is_some());
    stdout.extend(rest.lines().map(String::from));
    let (code, end, how) = match status {
        Some(status) => {
            let (code, end, how) = ended(status);
            (
                code,
                end,
                format!("{how}, before the scripted client was done"),
            )
        }
        None => (
            None,
            "stopped at the end (a server)".to_string(),
            "stopped by compare after the scripted client (a server runs until stopped)"
                .to_string(),
        ),
    };
    let mut text: String = stdout.iter().map(|l| format!("{l}\n")).collect();
    text.push_str(&seen);
    Ok(Side {
        stdout: text,
        stderr: err,
        dropped: spawned.dropped(),
        code,
        end,
        how: how + held.said(),
    })
}

/// How long a server side may take to bind, and how long the scripted client waits for an answer.
const BIND_LIMIT: Duration = Duration::from_secs(10);
const ANSWER_LIMIT: Duration = Duration::from_secs(5);

fn refused(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::ConnectionRefused
}

/// Three connections, each read until the server closes it. The first is tried again while it is
/// refused (the server has not bound yet), until the server exits or [`BIND_LIMIT`] passes.
fn scripted_connections(server: &mut Spawned) -> String {
    let deadline = Instant::now() + BIND_LIMIT;
    let mut seen = String::new();
    for i in 1..=3 {
        let what = loop {
            let to = ([127, 0, 0, 1], LISTING_PORT).into();
            match TcpStream::connect_timeout(&to, ANSWER_LIMIT) {
                Err(e)
                    if i == 1
                        && refused(&e)
                        && server.is_running()
                        && Instant::now() < deadline =>
                {
                    thread::sleep(Duration::from_millis(20));
                }
                Err(e) => break not_connected(&e, server),
                Ok(stream) => {
                    break match pair::until_server_closes_or_why(stream, ANSWER_LIMIT) {
                        Ok(()) => "closed by the server".to_string(),
                        Err(e) if timed_out(&e) => format!(
                            "still open after {} s: the server did not close it",
                            ANSWER_LIMIT.as_secs()
                        ),
                        Err(e) if e.kind() == ErrorKind::ConnectionReset => {
                            "reset by the server".to_string()
                        }
                        Err(e) => format!("failed while reading: {e}"),
                    };
                }
            }
        };
        let _ = writeln!(seen, "connection {i}: {what}");
    }
    seen
}

/// A read or connect that gave up at its time limit (Linux says WouldBlock, Windows TimedOut).
fn timed_out(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Why the scripted client got no answer, in words that are the same from run to run.
fn not_connected(e: &std::io::Error, server: &mut Spawned) -> String {
    if refused(e) {
        if server.is_running() {
            format!("refused: nothing listens on port {LISTING_PORT}")
        } else {
            "refused: the server has exited".to_string()
        }
    } else if timed_out(e) {
        format!("no answer within {} s", ANSWER_LIMIT.as_secs())
    } else {
        format!("failed: {e}")
    }
}

/// Three datagrams, each waited for until it comes back. The first is sent again while the port
/// is unreachable (ECONNREFUSED on a connected UDP socket: nobody has bound it yet); a datagram
/// that was simply not answered is never sent twice, so a server logs each one once.
fn scripted_datagrams(server: &mut Spawned) -> String {
    let deadline = Instant::now() + BIND_LIMIT;
    let mut seen = String::new();
    for i in 1..=3 {
        let message = format!("datagram {i}");
        let exchange = |server: &mut Spawned| -> std::io::Result<Vec<u8>> {
            let socket = UdpSocket::bind("127.0.0.1:0")?;
            socket.connect(("127.0.0.1", LISTING_PORT))?;
            socket.set_read_timeout(Some(ANSWER_LIMIT))?;
            loop {
                let mut buf = [0u8; 64];
                let sent = socket.send(message.as_bytes());
                match sent.and_then(|_| socket.recv(&mut buf)) {
                    Err(e)
                        if i == 1
                            && refused(&e)
                            && server.is_running()
                            && Instant::now() < deadline =>
                    {
                        thread::sleep(Duration::from_millis(20));
                    }
                    Err(e) => return Err(e),
                    Ok(n) => return Ok(buf[..n].to_vec()),
                }
            }
        };
        let what = match exchange(server) {
            Ok(reply) if reply == message.as_bytes() => "echoed".to_string(),
            Ok(_) => "answered with other bytes".to_string(),
            Err(e) if timed_out(&e) => {
                format!("no echo within {} s", ANSWER_LIMIT.as_secs())
            }
            Err(e) => not_connected(&e, server),
        };
        let _ = writeln!(seen, "{message}: {what}");
    }
    seen
}

/// Mask what changes from run to run: port numbers in address tuples and after `port ` other than
/// those in `keep` or below 1024 (a well-known port is the value a lesson is about), the values of
/// HTTP date headers, and CRs at line ends.
pub fn mask(text: &str, keep: &[u16]) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(header) = ["Date:", "Last-Modified:", "Expires:"]
            .iter()
            .find(|h| line.len() >= h.len() && line[..h.len()].eq_ignore_ascii_case(h))
        {
            let _ = writeln!(out, "{header} <date>");
            continue;
        }
        let mut masked = String::new();
        let mut rest = line;
        loop {
            let tuple = rest.find("', ").map(|at| at + 3);
            let word = rest.find("port ").map(|at| at + 5);
            let Some(at) = [tuple, word].into_iter().flatten().min() else {
                break;
            };
            masked.push_str(&rest[..at]);
            let digits = rest[at..].chars().take_while(char::is_ascii_digit).count();
            let number: Option<u16> = rest[at..at + digits].parse().ok();
            match number {
                Some(port) if port >= 1024 && !keep.contains(&port) => masked.push_str("<port>"),
                _ => masked.push_str(&rest[at..at + digits]),
            }
            rest = &rest[at + digits..];
        }
        masked.push_str(rest);
        let _ = writeln!(out, "{masked}");
    }
    out
}

/// addr-info prints one tuple a line with a `# AF_INET …` comment; Python prints one list. Both
/// become one bare tuple a line (Python 3's `<AddressFamily.AF_INET: 2>` its number), so the
/// tuples themselves are compared.
pub fn normalize(lesson: &Lesson, text: &str) -> String {
    if !lesson.compare.tuples {
        return text.to_string();
    }
    let mut out = String::new();
    for line in text.lines() {
        let line = strip_enums(line.split("  # ").next().unwrap_or(line).trim());
        let inner = line.strip_prefix('[').and_then(|l| l.strip_suffix(']'));
        for tuple in top_level_tuples(inner.unwrap_or(&line)) {
            let _ = writeln!(out, "{tuple}");
        }
    }
    out
}

fn strip_enums(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('<') {
        let Some(len) = rest[start..].find('>') else {
            break;
        };
        out.push_str(&rest[..start]);
        let inside = &rest[start + 1..start + len];
        out.push_str(inside.rsplit(": ").next().unwrap_or(inside));
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

/// The parenthesized groups at depth 0 of `text`: `(a, (b)), (c)` → [`(a, (b))`, `(c)`].
fn top_level_tuples(text: &str) -> Vec<String> {
    let (mut depth, mut start, mut found) = (0usize, None, Vec::new());
    for (i, c) in text.char_indices() {
        match c {
            '(' => {
                if depth == 0 {
                    start = Some(i);
                }
                depth += 1;
            }
            ')' if depth > 0 => {
                depth -= 1;
                if let (0, Some(s)) = (depth, start) {
                    found.push(text[s..=i].to_string());
                }
            }
            _ => {}
        }
    }
    if found.is_empty() && !text.trim().is_empty() {
        found.push(text.trim().to_string());
    }
    found
}

/// Below this many columns the two sides are stacked, not side by side: two columns of 58
/// characters hold the listings' lines; narrower ones would cut them.
const STACK_BELOW: usize = 120;

/// The width to fit: `COLUMNS` where it is set in the environment (shells set it but do not
/// export it, so it is there only when someone asked), else the terminal's own width when stdout
/// is one, else 100.
fn width() -> usize {
    use std::io::IsTerminal as _;
    let columns = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok());
    columns
        .or_else(|| {
            std::io::stdout()
                .is_terminal()
                .then(terminal_columns)
                .flatten()
        })
        .unwrap_or(100)
        .clamp(40, 400)
}

/// The terminal's width in columns. Asking it is an ioctl, which Rust can make only with unsafe
/// code (forbidden here); `stty size` makes it for us, on Linux and macOS alike, and prints
/// `ROWS COLUMNS`. stty asks its stdin, so the terminal is given there.
#[cfg(unix)]
fn terminal_columns() -> Option<usize> {
    let mut stty = Command::new("sh");
    stty.args(["-c", "stty size </dev/tty"]);
    let outcome = process::run_bounded(&mut stty, b"", Duration::from_secs(2)).ok()?;
    if !outcome.status.is_some_and(|s| s.success()) {
        return None;
    }
    let columns: usize = pair::text(&outcome.stdout)
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    (columns > 0).then_some(columns)
}

/// Windows has no stty, and its console API needs unsafe code: the fallback width.
#[cfg(not(unix))]
fn terminal_columns() -> Option<usize> {
    None
}

/// `text` in at most `max` characters; one cut short ends with `…`.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The two outputs aligned on their common lines, fitted to `width`: side by side from
/// [`STACK_BELOW`] columns (`a   a` equal, `a | b` changed, `a <` left only, `> b` right only),
/// else stacked (an equal line once, a changed one as a `| listing` line and a `| lesson` line,
/// `< listing`, `> lesson`); and whether every line was equal.
fn side_by_side(
    left_title: &str,
    right_title: &str,
    left: &str,
    right: &str,
    width: usize,
) -> (String, bool) {
    let rows = diff_rows(left, right);
    let same = rows
        .iter()
        .all(|(a, b)| mark(a.as_ref(), b.as_ref()) == " ");
    let mut out = String::new();
    if width < STACK_BELOW {
        const LABEL: usize = "| listing  ".len();
        let text = width - LABEL;
        let _ = writeln!(out, "{}", cut(left_title, width));
        let _ = writeln!(out, "{}", cut(right_title, width));
        let _ = writeln!(out, "{}", "-".repeat(width));
        for (a, b) in rows {
            let mark = mark(a.as_ref(), b.as_ref());
            match (a, b) {
                (Some(a), Some(_)) if mark == " " => {
                    let _ = writeln!(out, "{:LABEL$}{}", "", cut(&a, text).trim_end());
                }
                (a, b) => {
                    for (who, line) in [("listing", a), ("lesson", b)] {
                        if let Some(line) = line {
                            let label = format!("{mark} {who}");
                            let line = cut(&line, text);
                            let _ = writeln!(out, "{label:LABEL$}{}", line.trim_end());
                        }
                    }
                }
            }
        }
        return (out, same);
    }
    let half = (width - 3) / 2;
    let _ = write!(
        out,
        "{:<half$}   {}\n{}   {}\n",
        cut(left_title, half),
        cut(right_title, half),
        "-".repeat(half),
        "-".repeat(half)
    );
    for (a, b) in rows {
        let mark = mark(a.as_ref(), b.as_ref());
        let a = a.map(|s| cut(&s, half)).unwrap_or_default();
        let b = b.map(|s| cut(&s, half)).unwrap_or_default();
        let _ = writeln!(out, "{:<half$} {mark} {}", a, b.trim_end());
    }
    (out, same)
}

/// Set in the copy of compare that runs inside its own network namespace.
const IN_NETNS: &str = "COURSE_COMPARE_NETNS";

/// Run this same comparison again inside a private network namespace (`unshare -rn`, no root
/// needed), with only its own loopback: there port 51423 is always free, whatever runs on the
/// machine (a learner's server, a parallel test), and nothing the listing does can reach a
/// network. `None` where namespaces are not allowed (or `ip` is missing): then the comparison runs
/// on the machine's own loopback. Linux only; elsewhere, always `None`.
fn in_private_network(
    args: &[String],
    startup: Duration,
) -> Result<Option<Result<(), Exit>>, Exit> {
    if !cfg!(target_os = "linux") || std::env::var_os(IN_NETNS).is_some() {
        return Ok(None);
    }
    // `ip link set lo up`: a new namespace's loopback starts down.
    const UP: &str = "ip link set lo up && exec \"$0\" \"$@\"";
    let mut probe = Command::new("unshare");
    probe.args(["-rn", "sh", "-c", UP, "true"]);
    let works = process::run_bounded(&mut probe, b"", Duration::from_secs(10))
        .is_ok_and(|o| o.status.is_some_and(|s| s.success()));
    if !works {
        return Ok(None);
    }
    let me = std::env::current_exe().map_err(|e| fail_with("cannot find the course tool", e))?;
    // It need not ask the interpreter again.
    let (probed, seconds) = python::probed(startup);
    let mut command = Command::new("unshare");
    command
        .args(["-rn", "sh", "-c", UP])
        .arg(me)
        .arg("compare")
        .args(args)
        .env(IN_NETNS, "1")
        .env(probed, seconds)
        // Its stdout is a pipe to this copy: it fits what this one fits.
        .env("COLUMNS", width().to_string())
        .env("COURSE_NO_BUILD", "1");
    let mut inner = Spawned::start(&mut command, b"")
        .map_err(|e| fail_with("cannot start compare in a network namespace", e))?;
    // Pass its lines on as they come; it says everything itself, exit code included.
    let relay = |(out, err): (Vec<String>, Vec<String>)| -> Result<(), Exit> {
        for line in out {
            crate::print(&format!("{line}\n"))?;
        }
        // Once interrupted (or cut off from the copy of the tool outside a PID namespace), the
        // copy in the network namespace, stopped, says so too: this copy says it once, or not at
        // all when the learner killed the tool and has the prompt back.
        if !crate::interrupted() {
            for line in err {
                eprintln!("{line}");
            }
        }
        Ok(())
    };
    while inner.is_running() {
        relay(inner.lines_so_far())?;
        thread::sleep(Duration::from_millis(50));
    }
    // What it wrote just before it ended is still on its way through the pipes.
    while let Ok(line) = inner.line(Duration::from_millis(500)) {
        crate::print(&format!("{line}\n"))?;
    }
    relay(inner.lines_so_far())?;
    let code = inner
        .wait(Duration::ZERO)
        .ok()
        .flatten()
        .and_then(|s| s.code());
    Ok(Some(match code {
        Some(0) => Ok(()),
        _ => Err(Exit::Quiet),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    /// An option joins the usual arguments, replacing the usual option of its name; positional
    /// words replace the usual ones.
    #[test]
    fn options_join_the_defaults() {
        let usual = words("--pause 0 127.0.0.1 PORT /hello.txt");
        let join = |given: &str| join_defaults(&usual, &words(given)).join(" ");
        assert_eq!(join(""), "--pause 0 127.0.0.1 PORT /hello.txt");
        assert_eq!(join("--pause 2"), "--pause 2 127.0.0.1 PORT /hello.txt");
        assert_eq!(join("--pause=2"), "--pause=2 127.0.0.1 PORT /hello.txt");
        assert_eq!(
            join("--timeout 1"),
            "--pause 0 --timeout 1 127.0.0.1 PORT /hello.txt"
        );
        assert_eq!(join("127.0.0.1 9 /"), "--pause 0 127.0.0.1 9 /");
        assert_eq!(
            join("--pause 2 localhost PORT /"),
            "--pause 2 localhost PORT /"
        );
    }
}
