//! `cargo course trace LESSON [--scenario NAME | --listing LISTING.py]`: the system calls of a real
//! run and the packets they caused, as a ladder diagram.
//!
//! The run happens inside a private network namespace (`unshare -rn`: no root needed, a loopback of
//! its own, no other traffic in the picture; as root, `unshare -n` where user namespaces are off):
//! the course tool runs itself again in there, brings `lo` up, starts a capture on it, runs each
//! side under `strace`, and draws what it saw. Without a namespace it shows the system calls alone
//! (it does not capture on the machine's shared loopback); without strace, the packets alone; it
//! says which.

mod check;
mod ladder;
mod peers;
mod strace;
mod traced;
mod wire;

pub use check::mask;
pub(crate) use traced::on_interrupt;

use std::fmt::{self, Display, Write as _};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::Duration;

use lesson_common::{Exit, fail, fail_with, usage};
use test_support::process;

use crate::pair;
use crate::registry::{Lesson, Partner, Role};
use peers::{
    closed_udp_port, oversize_datagram, poke_listing_port, scripted_tcp_peer, start_http_server,
    start_server,
};
use strace::Call;
use traced::{Background, Scratch, Traced, interpreter_itself};
use wire::{Capture, Packet};

pub(crate) const HELP: &str = "\
usage: cargo course trace LESSON [--scenario NAME | --listing LISTING.py]

Run a lesson with its partner on loopback and show the network system calls each side made (strace)
and the packets between them (a capture on loopback) as a ladder: the client's calls on the left,
the server's on the right, each packet beside the call that sent it, time going down.

  --scenario NAME       an experiment from the lesson's page with a scripted peer:
                          http-fetch server-closes   the server closes during the pause (FIN, then RST)
                          http-fetch server-resets   the server resets during the pause (RST at flush)
                          udp-client refused         nothing listens: ICMP port unreachable
                          udp-echo-server oversize   a 9000-byte datagram, echoed as 8192
  --listing LISTING.py  also run your copy of the Python listing in the lesson's place and put its
                        system calls beside the lesson's, differences marked (PYTHON, or python2)

Needs strace, and a private network namespace for the capture: unprivileged user namespaces
(`unshare -rn true` must work), or root. Says what is missing and shows what it can without them.
Every run is bounded in time.";

/// The experiments with a scripted peer: (lesson, scenario).
const SCENARIOS: &[(&str, &str)] = &[
    ("http-fetch", "server-closes"),
    ("http-fetch", "server-resets"),
    ("udp-client", "refused"),
    ("udp-echo-server", "oversize"),
];

/// Why a trace (or part of it) cannot be shown here, in one line.
#[derive(Debug)]
pub struct Unavailable(pub String);

impl Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

struct Options {
    lesson: &'static Lesson,
    scenario: Option<String>,
    listing: Option<PathBuf>,
    /// Running inside the namespace (the hidden second run).
    inside: bool,
    /// Print only the ladder, for a page.
    page: bool,
}

pub fn main(args: Vec<String>) -> Result<(), Exit> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return crate::print(&format!("{HELP}\n"));
    }
    let options = parse(&args)?;
    if options.inside {
        return inside(&options);
    }
    pair::build()?;
    let tools = Tools::probe();
    if let Ok(flags) = tools.namespace {
        // The same command again, inside a private network namespace.
        let exe =
            std::env::current_exe().map_err(|e| fail_with("cannot find the course tool", e))?;
        // Counted among the live children, so that an interrupt reaches the inner run, which
        // then stops what it started.
        let mut inner = Command::new("unshare");
        inner
            .arg(flags)
            .arg(exe)
            .arg("trace")
            .args(&args)
            .arg("--inside");
        let status =
            process::run_inherited(&mut inner).map_err(|e| fail_with("cannot run unshare", e))?;
        return if status.success() {
            Ok(())
        } else {
            Err(Exit::Quiet)
        };
    }
    // No namespace: the system calls alone (a capture on the shared loopback would need root and
    // would show everyone's traffic).
    let why = tools.namespace.err().unwrap_or_default();
    crate::print(&format!(
        "trace: no packets: {why}; showing the system calls alone\n"
    ))?;
    record_and_show(&options, false)
}

fn parse(args: &[String]) -> Result<Options, Exit> {
    let mut words = args.iter();
    let Some(name) = words.next() else {
        return Err(usage("give a LESSON to trace (cargo course trace --help)"));
    };
    let lesson = crate::registry::find(name)?;
    let mut options = Options {
        lesson,
        scenario: None,
        listing: None,
        inside: false,
        page: false,
    };
    while let Some(word) = words.next() {
        match word.as_str() {
            "--inside" => options.inside = true,
            "--page" => options.page = true,
            "--scenario" => match words.next() {
                Some(name) => options.scenario = Some(name.clone()),
                None => return Err(usage("--scenario needs a NAME (see --help)")),
            },
            "--listing" => match words.next() {
                Some(file) => options.listing = Some(PathBuf::from(file)),
                None => return Err(usage("--listing needs a LISTING.py file")),
            },
            other => {
                return Err(usage(format!(
                    "trace takes --scenario NAME or --listing FILE, not '{other}'"
                )));
            }
        }
    }
    if options.scenario.is_some() && options.listing.is_some() {
        return Err(usage(
            "--scenario and --listing go one at a time (a listing runs beside the usual partner)",
        ));
    }
    if let Some(scenario) = &options.scenario {
        if !SCENARIOS.contains(&(lesson.name, scenario.as_str())) {
            let known: Vec<String> = SCENARIOS
                .iter()
                .filter(|(l, _)| *l == lesson.name)
                .map(|(_, s)| s.to_string())
                .collect();
            let known = if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            };
            return Err(usage(format!(
                "{} has no scenario '{scenario}' (its scenarios: {known})",
                lesson.name
            )));
        }
    }
    if let Some(listing) = &options.listing {
        if fs::metadata(listing).is_err() {
            return Err(usage(format!(
                "cannot read the listing '{}'",
                listing.display()
            )));
        }
    }
    Ok(options)
}

/// What this machine allows.
struct Tools {
    strace: bool,
    /// How to enter a private network namespace: `unshare -rn` (a user namespace too, no root
    /// needed), else `unshare -n` where we are root but user namespaces are switched off; or why
    /// neither works.
    namespace: Result<&'static str, String>,
}

impl Tools {
    fn probe() -> Tools {
        let runs = |program: &str, args: &[&str]| {
            Command::new(program)
                .args(args)
                .output()
                .is_ok_and(|o| o.status.success())
        };
        let flags = ["-rn", "-n"]
            .into_iter()
            .find(|flags| runs("unshare", &[flags, "true"]));
        let namespace = match flags {
            None => Err(
                "no private network namespace here (`unshare -rn true` fails: unprivileged user \
                 namespaces are off, and we are not root)"
                    .to_string(),
            ),
            Some(flags) if !runs("unshare", &[flags, "ip", "link", "set", "lo", "up"]) => {
                Err("`ip` (iproute2) is needed to bring up the namespace's loopback".to_string())
            }
            Some(flags) => Ok(flags),
        };
        Tools {
            strace: runs("strace", &["-V"]),
            namespace,
        }
    }
}

/// The second run, inside the namespace: loopback up, then the recording.
fn inside(options: &Options) -> Result<(), Exit> {
    let up = Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .status();
    if !up.is_ok_and(|s| s.success()) {
        return Err(fail(
            "cannot bring up the namespace's loopback (`ip link set lo up`)",
        ));
    }
    record_and_show(options, true)
}

/// Record the lesson's run (with a capture, in the namespace) and print the report; with
/// `--listing`, the listing's run first and its calls beside the lesson's. First, because the
/// lesson's run leaves its server port in TIME_WAIT, which a listing without SO_REUSEADDR could
/// not bind; the lessons set it, as the book's servers do.
fn record_and_show(options: &Options, in_namespace: bool) -> Result<(), Exit> {
    let listing = match &options.listing {
        Some(listing) => Some(record_listing(options, listing)?),
        None => None,
    };
    let recording = record(options, in_namespace)?;
    if let Some((listing_calls, trouble)) = listing {
        let mut text = report(options, &recording, in_namespace);
        if let Some(trouble) = trouble {
            let _ = write!(
                text,
                "\nthe listing did not run as the lesson did, so its list below is short:\n  {trouble}\n"
            );
        }
        text.push_str(&calls_side_by_side(
            options.lesson,
            &listing_calls,
            &recording,
        ));
        return crate::print(&text);
    }
    crate::print(&report(options, &recording, in_namespace))
}

/// Everything one run showed.
struct Recording {
    client: String,
    server: String,
    client_calls: Vec<Call>,
    server_calls: Vec<Call>,
    packets: Vec<Packet>,
    server_port: u16,
    notes: Vec<String>,
    /// What the traced lesson printed, stdout and stderr.
    output: String,
}

/// Run the lesson as its page shows it (or the scenario), under strace, with a capture.
fn record(options: &Options, capture: bool) -> Result<Recording, Exit> {
    let tools_strace = Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    let scratch = Scratch::new()?;
    let mut notes = Vec::new();
    if !tools_strace {
        notes.push("no system calls: strace is not installed (Debian package strace)".to_string());
    }
    let capture = if capture {
        match Capture::start() {
            Ok(capture) => Some(capture),
            Err(e) => {
                notes.push(format!("no packets: cannot capture on loopback ({e})"));
                None
            }
        }
    } else {
        None
    };
    let lesson = options.lesson;
    // In the namespace the recipes' own ports are always free, so the ladder reads like the page;
    // on the shared loopback any free port, except that a server lesson compared with its listing
    // binds the listing's port where it is free, as the listing did.
    let udp = lesson.name.starts_with("udp");
    let (listing_port, http_port) = if capture.is_some() {
        (lesson_common::LISTING_PORT, crate::transcripts::HTTP_PORT)
    } else if options.listing.is_some()
        && lesson.role == Role::Server
        && !pair::listing_port_taken(udp)
    {
        (lesson_common::LISTING_PORT, 0)
    } else {
        (0, 0)
    };
    let client_log = scratch.0.join("client");
    let server_log = scratch.0.join("server");
    let output;
    let (client, server, server_port);
    match (lesson.role, options.scenario.as_deref()) {
        (Role::Lookup, _) => {
            let args: Vec<String> = lesson.peer_args.iter().map(|a| a.to_string()).collect();
            (output, _) = Traced::new(pair::binary(lesson.name)?, &args, &client_log, tools_strace)
                .run(lesson.stdin)?;
            client = lesson.name.to_string();
            server = "(no peer: a lookup)".to_string();
            server_port = 0;
        }
        (Role::Server, Some("oversize")) => {
            let (background, port) =
                start_server(lesson.name, &server_log, tools_strace, listing_port)?;
            let echoed = oversize_datagram(port);
            background.stop();
            output = format!("the scripted client sent 9000 bytes and got {echoed} back\n");
            client = "scripted client (course)".to_string();
            server = lesson.name.to_string();
            server_port = port;
        }
        (Role::Server, _) => {
            let Partner::Lesson(client_name) = lesson.partner else {
                return Err(fail(format!("{} has no client partner", lesson.name)));
            };
            let client_lesson = crate::registry::find(client_name)?;
            let (background, port) =
                start_server(lesson.name, &server_log, tools_strace, listing_port)?;
            let args = pair::args_for_port(client_lesson.peer_args, port);
            (output, _) = Traced::new(pair::binary(client_name)?, &args, &client_log, tools_strace)
                .run(client_lesson.stdin)?;
            background.stop();
            client = client_name.to_string();
            server = lesson.name.to_string();
            server_port = port;
        }
        (Role::Client, scenario) => {
            let (peer, port, peer_name): (Option<Background>, u16, String) =
                match (lesson.partner, scenario) {
                    (_, Some("server-closes")) => (
                        None,
                        scripted_tcp_peer(false)?,
                        "a script that closes".into(),
                    ),
                    (_, Some("server-resets")) => (
                        None,
                        scripted_tcp_peer(true)?,
                        "a script that resets".into(),
                    ),
                    (_, Some("refused")) => {
                        (None, closed_udp_port()?, "nobody (a closed port)".into())
                    }
                    (Partner::Lesson(name), _) => {
                        let (background, port) =
                            start_server(name, &server_log, tools_strace, listing_port)?;
                        (Some(background), port, name.to_string())
                    }
                    (Partner::HttpServer, _) => {
                        let (background, port) =
                            start_http_server(&scratch.0, &server_log, tools_strace, http_port)?;
                        (Some(background), port, "python3 -m http.server".into())
                    }
                    (Partner::None, _) => {
                        return Err(fail(format!("{} has no partner", lesson.name)));
                    }
                };
            let mut args = pair::args_for_port(lesson.peer_args, port);
            if scenario.is_some() && lesson.name == "http-fetch" {
                // A pause long enough for the scripted server to act while the client waits.
                if let Some(at) = args.iter().position(|a| a == "--pause") {
                    args[at + 1] = "1".into();
                }
            }
            (output, _) = Traced::new(pair::binary(lesson.name)?, &args, &client_log, tools_strace)
                .run(lesson.stdin)?;
            if let Some(peer) = peer {
                peer.stop();
            }
            client = lesson.name.to_string();
            server = peer_name;
            server_port = port;
        }
    }
    // Let the last packets land before the capture stops.
    std::thread::sleep(Duration::from_millis(100));
    let packets: Vec<Packet> = capture
        .map(Capture::stop)
        .unwrap_or_default()
        .iter()
        .filter_map(wire::decode)
        .collect();
    let read_calls = |log: &Path| {
        fs::read_to_string(log)
            .map(|t| strace::parse(&t))
            .unwrap_or_default()
    };
    Ok(Recording {
        client,
        server,
        client_calls: read_calls(&client_log),
        server_calls: read_calls(&server_log),
        packets,
        server_port,
        notes,
        output,
    })
}

/// The Python listing's run in the lesson's place: its calls, for the side-by-side list, and what
/// went wrong if it did not run as the lesson did (a typo in the listing, a port in use).
fn record_listing(options: &Options, listing: &Path) -> Result<(Vec<Call>, Option<String>), Exit> {
    let python = interpreter_itself(&crate::compare::interpreter()?);
    let scratch = Scratch::new()?;
    let log = scratch.0.join("listing");
    let lesson = options.lesson;
    let wrap = |args: &[String]| -> Traced {
        let python = crate::compare::python_command(&python, listing, args, Some(0.0));
        let args: Vec<String> = python
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let mut traced = Traced::new(python.get_program(), &args, &log, true);
        traced.command.env("PYTHONUNBUFFERED", "1");
        traced
    };
    let ended = |(printed, status): (String, Option<ExitStatus>)| {
        let how = match status {
            Some(status) if status.success() => return None,
            Some(status) => match status.code() {
                Some(code) => format!("it exited {code}"),
                None => "it was killed by a signal".to_string(),
            },
            None => "it was stopped at the time limit".to_string(),
        };
        Some(format!("{how}{}", last_words(&printed)))
    };
    let trouble = match lesson.role {
        Role::Lookup => {
            let args: Vec<String> = lesson.peer_args.iter().map(|a| a.to_string()).collect();
            ended(wrap(&args).run(lesson.stdin)?)
        }
        Role::Client => {
            let server_log = scratch.0.join("server");
            let (peer, port) = match lesson.partner {
                Partner::Lesson(name) => start_server(name, &server_log, false, 0)?,
                _ => start_http_server(&scratch.0, &server_log, false, 0)?,
            };
            let args: Vec<String> = pair::args_for_port(lesson.peer_args, port)
                .into_iter()
                .filter(|a| !a.starts_with("--"))
                .collect();
            let args = drop_option_values(lesson.peer_args, args);
            let ran = wrap(&args).run(lesson.stdin)?;
            peer.stop();
            ended(ran)
        }
        Role::Server => {
            // The listing binds its own port, 51423: free in the namespace; on the shared loopback,
            // if something else holds it, the listing's error says so (and the lesson, run next,
            // takes a free port).
            let mut listing_server = wrap(&[])
                .start()
                .map_err(|e| fail_with("cannot start the listing", e))?;
            std::thread::sleep(Duration::from_millis(800));
            poke_listing_port(lesson.name.starts_with("udp"));
            std::thread::sleep(Duration::from_millis(300));
            let (_, errors) = listing_server.spawned.lines_so_far();
            let trouble = (!listing_server.spawned.is_running()).then(|| {
                format!(
                    "it ended before it was stopped{}",
                    last_words(&errors.join("\n"))
                )
            });
            listing_server.stop();
            trouble
        }
    };
    let calls = fs::read_to_string(&log)
        .map(|t| strace::parse(&t))
        .unwrap_or_default();
    Ok((calls, trouble))
}

/// `: ` and the last line a program printed, if it printed one.
fn last_words(printed: &str) -> String {
    match printed.lines().rev().find(|l| !l.trim().is_empty()) {
        Some(line) => format!(": {}", line.trim()),
        None => String::new(),
    }
}

/// A lesson's peer arguments without the `--option VALUE` pairs the listing does not take.
fn drop_option_values(template: &[&str], args: Vec<String>) -> Vec<String> {
    let values: Vec<usize> = template
        .iter()
        .enumerate()
        .filter(|(_, a)| a.starts_with("--"))
        .map(|(i, _)| i + 1)
        .collect();
    let positional = template
        .iter()
        .enumerate()
        .filter(|(i, a)| !a.starts_with("--") && !values.contains(i))
        .count();
    let skip = args.len().saturating_sub(positional);
    args.into_iter().skip(skip).collect()
}

/// The whole report: notes, what the lesson printed, each side's calls, the ladder.
fn report(options: &Options, rec: &Recording, in_namespace: bool) -> String {
    let ladder = ladder::render(
        &format!("client: {}", rec.client),
        &format!("server: {}", rec.server),
        &rec.client_calls,
        &rec.server_calls,
        &rec.packets,
        rec.server_port,
    );
    if options.page {
        // On a page the server's port is the one its recipe uses, as in the other transcripts.
        let documented = if options.lesson.partner == Partner::HttpServer {
            crate::transcripts::HTTP_PORT
        } else {
            lesson_common::LISTING_PORT
        };
        return crate::transcripts::with_port(&ladder, rec.server_port, documented);
    }
    let mut out = String::new();
    let place = if in_namespace {
        "in a private network namespace (its own loopback, nothing else on it)"
    } else {
        "on this machine's loopback"
    };
    let _ = writeln!(
        out,
        "trace: {}{}, {place}",
        options.lesson.name,
        options
            .scenario
            .as_ref()
            .map_or(String::new(), |s| format!(" --scenario {s}"))
    );
    for note in &rec.notes {
        let _ = writeln!(out, "trace: {note}");
    }
    let _ = writeln!(out, "\nwhat it printed:");
    for line in rec.output.lines() {
        let _ = writeln!(out, "    {line}");
    }
    if rec.packets.is_empty() && in_namespace {
        let _ = writeln!(
            out,
            "\nno packets on the wire{}",
            if options.lesson.role == Role::Lookup {
                ": the answer came from /etc/hosts or a numeric address, or the resolver found no route to a DNS server"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(
        out,
        "\nthe ladder (client's calls left, server's right, packets between, time going down):\n"
    );
    out.push_str(&ladder);
    out
}

/// The listing's calls beside the lesson's, on its side of the run, differences marked `|`, `<`,
/// `>`.
fn calls_side_by_side(lesson: &Lesson, listing: &[Call], rec: &Recording) -> String {
    let ours = if lesson.role == Role::Server {
        &rec.server_calls
    } else {
        &rec.client_calls
    };
    let normal = |calls: &[Call]| {
        calls
            .iter()
            .map(|c| ephemeral_ports(&c.text))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let ours_title = format!("{}'s", lesson.name);
    let mut out = format!(
        "\n{:<48}   {ours_title}\n{:<48}   {}\n",
        "the listing's system calls",
        "-".repeat(26),
        "-".repeat(ours_title.len())
    );
    for (a, b) in crate::transcripts::diff_rows(&normal(listing), &normal(ours)) {
        let mark = crate::transcripts::mark(a.as_ref(), b.as_ref());
        let _ = writeln!(
            out,
            "{:<48} {mark} {}",
            a.unwrap_or_default(),
            b.unwrap_or_default()
        );
    }
    out
}

/// The "On the wire" block of a lesson's page: the ladder of its usual run, from a real run in a
/// private network namespace.
pub fn wire_transcript(lesson: &'static Lesson) -> Result<String, Unavailable> {
    let tools = Tools::probe();
    if !tools.strace {
        return Err(Unavailable("strace is not installed".into()));
    }
    let flags = tools.namespace.map_err(Unavailable)?;
    let exe = std::env::current_exe()
        .map_err(|e| Unavailable(format!("cannot find the course tool: {e}")))?;
    let mut command = Command::new("unshare");
    command
        .arg(flags)
        .arg(exe)
        .args(["trace", lesson.name, "--page", "--inside"]);
    let outcome = process::run_bounded(&mut command, b"", Duration::from_secs(60))
        .map_err(|e| Unavailable(format!("cannot run the trace: {e}")))?;
    match outcome.status {
        Some(status) if status.success() => Ok(pair::text(&outcome.stdout)),
        _ => Err(Unavailable(format!(
            "the trace failed: {}",
            pair::text(&outcome.stderr).trim()
        ))),
    }
}

/// The kernel's ephemeral ports (Linux picks them from 32768 to 60999) as `<port>`: they differ
/// from run to run, not from listing to lesson.
fn ephemeral_ports(text: &str) -> String {
    crate::transcripts::replace_numbers(text, |number| {
        let port: u16 = number.parse().ok()?;
        let ephemeral = number.len() == 5 && (32768..=60999).contains(&port);
        (ephemeral && port != lesson_common::LISTING_PORT).then(|| "<port>".to_string())
    })
}
