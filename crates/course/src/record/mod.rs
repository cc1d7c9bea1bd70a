//! A recorded run: a lesson beside its partner (or a scenario's scripted peer, or the learner's
//! listing), each side under `strace`, the packets between them captured, ready to be drawn as a
//! ladder. `trace` shows one; `transcripts` checks the pages' "On the wire" blocks against one.
//!
//! The capture happens inside a private network namespace (`unshare -rmnu`: no root needed, a
//! loopback of its own, no other traffic in the picture, and a mount and UTS namespace of its own;
//! as root, `unshare -mnu` where user namespaces are off): the course tool runs itself again in
//! there ([`enter`]), brings `lo` up and points name lookups at a scripted resolver on
//! 127.0.0.1:53 ([`set_up_namespace`], `resolver`), and records. Without a namespace the calls
//! alone can be recorded.

mod capture;
mod check;
mod ladder;
mod linked;
mod pcap;
mod peers;
mod resolver;
mod strace;
mod traced;

pub use check::mask;
pub use resolver::{ADDRESSES, NAMES};
pub use strace::{Call, NSCD, NSCD_ROW};
pub(crate) use traced::on_interrupt;

use std::fmt::{self, Display};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use lesson_common::{Exit, fail, fail_with};
use test_support::process;

use crate::labnet::{Finished, Lab, SERVER_V4, Settings, Side as LabSide};
use crate::registry::{LISTING_PORT, Lesson, Partner, Role};
use crate::scratch::Scratch;
use crate::{pair, python, workspace};
use capture::{Capture, Frame, Packet};
use peers::{
    closed_udp_port, oversize_datagram, poke_listing_port, scripted_tcp_peer, start_http_server,
    start_http_server_at, start_server, start_server_at,
};
use resolver::Resolver;
use traced::{Background, Ended, Ending, Traced};

/// What to record: a lesson, as its page runs it or in one of its scenarios, and whether the
/// learner's listing runs beside it (a server lesson then binds the listing's port where it can).
pub struct Run {
    pub lesson: &'static Lesson,
    pub scenario: Option<String>,
    pub listing: Option<PathBuf>,
    /// The lesson's own arguments in place of the registry's (a lookup's, or a client's, where
    /// `PORT` stands for its partner's port); `None` for the page's.
    pub args: Option<Vec<String>>,
}

impl Run {
    /// The arguments the lesson runs with, `PORT` still standing for its partner's port.
    fn template(&self) -> Vec<&str> {
        match &self.args {
            Some(args) => args.iter().map(String::as_str).collect(),
            None => self.lesson.peer_args.to_vec(),
        }
    }
}

/// Why a trace (or part of it) cannot be shown here, in one line.
#[derive(Debug)]
pub struct Unavailable(pub String);

impl Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A traced run needs Linux: strace, network namespaces and an AF_PACKET capture. Elsewhere, the
/// one line a command that needs it (`trace`) ends with, exit 1.
pub fn needs_linux(command: &str) -> Result<(), Exit> {
    if cfg!(target_os = "linux") {
        return Ok(());
    }
    let system = crate::text::system();
    Err(fail(format!(
        "{command} needs Linux (strace and network namespaces); on {system}, run the course in a \
         Linux VM or container to see the wire"
    )))
}

/// What this machine allows.
pub struct Tools {
    pub strace: bool,
    /// How to enter a private network namespace, with a mount and a UTS namespace of its own (for
    /// the scripted resolver's resolv.conf and hostname): `unshare -rmnu` (a user namespace too,
    /// no root needed), else `unshare -mnu` where we are root but user namespaces are switched
    /// off; or why neither works.
    pub namespace: Result<&'static str, String>,
}

impl Tools {
    pub fn probe() -> Tools {
        let runs = |program: &str, args: &[&str]| {
            Command::new(program)
                .args(args)
                .output()
                .is_ok_and(|o| o.status.success())
        };
        let flags = ["-rmnu", "-mnu"]
            .into_iter()
            .find(|flags| runs("unshare", &[flags, "true"]));
        let namespace = match flags {
            None => Err(
                "no private network namespace here (`unshare -rmnu true` fails: unprivileged user \
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

/// Run the course tool again as `course ARGS…` inside a private network namespace, with the
/// terminal; counted among the live children, so that an interrupt reaches the inner run, which
/// then stops what it started.
pub fn enter(flags: &str, args: &[String]) -> Result<ExitStatus, Exit> {
    let exe = std::env::current_exe().map_err(|e| fail_with("cannot find the course tool", e))?;
    let mut inner = Command::new("unshare");
    inner.arg(flags).arg(exe).args(args).env(crate::NESTED, "1");
    process::run_inherited(&mut inner).map_err(|e| fail_with("cannot run unshare", e))
}

/// Inside the namespaces, first: bring the loopback up, and point the C library's lookups at the
/// scripted resolver (where that cannot be done, the recording says why in a note).
pub fn set_up_namespace() -> Result<(), Exit> {
    loopback_up()?;
    resolver::take_over_lookups();
    Ok(())
}

/// Inside the namespace: bring its loopback up (it starts down).
fn loopback_up() -> Result<(), Exit> {
    let up = Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .status();
    if up.is_ok_and(|s| s.success()) {
        Ok(())
    } else {
        Err(fail(
            "cannot bring up the namespace's loopback (`ip link set lo up`)",
        ))
    }
}

impl Recording {
    /// The ladder of this run: the client's calls left, the server's right, packets between.
    pub fn ladder(&self) -> String {
        ladder::render(
            &format!("client: {}", self.client),
            &format!("server: {}", self.server),
            &self.client_calls,
            &self.server_calls,
            &self.packets,
            self.server_port,
        )
    }
}

impl Recording {
    /// Write every frame captured to `path` as a pcap file (tcpdump -r, Wireshark): how many.
    /// Across the lab link, the packets that crossed it, as raw IP.
    pub fn write_pcap(&self, path: &Path) -> std::io::Result<usize> {
        let link = if self.raw_ip {
            pcap::RAW
        } else {
            pcap::ETHERNET
        };
        pcap::write(path, &self.frames, link).map(|()| self.frames.len())
    }
}

/// The hidden entry point of [`page_ladder`]'s inner run (`course __page-ladder LESSON
/// [ARGS…]`): the lesson's usual run (or with ARGS), recorded in the namespace, its ladder printed
/// with the server's port as the page's recipe uses it.
pub const PAGE_LADDER: &str = "__page-ladder";

pub fn page_ladder_inside(args: &[String]) -> Result<(), Exit> {
    let Some((name, args)) = args.split_first() else {
        return Err(fail(format!("{PAGE_LADDER} takes a LESSON and its ARGS")));
    };
    let lesson = crate::registry::find(name)?;
    set_up_namespace()?;
    let run = Run {
        lesson,
        scenario: None,
        listing: None,
        args: (!args.is_empty()).then(|| args.to_vec()),
    };
    let recording = record(&run, true)?;
    if let Some(lost) = recording.lost {
        return Err(fail(lost));
    }
    // A lookup has no partner's port to write as the page's (its peer is the resolver, on 53).
    if lesson.role == Role::Lookup {
        return crate::print(&recording.ladder());
    }
    let documented = if lesson.partner == Partner::HttpServer {
        crate::registry::HTTP_PORT
    } else {
        crate::registry::LISTING_PORT
    };
    crate::print(&crate::text::with_port(
        &recording.ladder(),
        recording.server_port,
        documented,
    ))
}

/// Everything one run showed.
pub struct Recording {
    pub client: String,
    pub server: String,
    pub client_calls: Vec<Call>,
    pub server_calls: Vec<Call>,
    pub packets: Vec<Packet>,
    /// Every frame captured, as it was on the wire (the ladder leaves the later pure ACKs out).
    pub frames: Vec<Frame>,
    /// The frames are IP packets without a link header (the lab wire's), not Ethernet frames.
    pub raw_ip: bool,
    pub server_port: u16,
    pub notes: Vec<String>,
    /// Why the calls of a side are lost (strace's log of it missing or cut short), in one line:
    /// then there is no ladder to draw, and the trace fails.
    pub lost: Option<String>,
    /// What the traced lesson printed, stdout and stderr.
    pub output: String,
    /// The lesson's exit code, where it ran to its end (a client, a lookup).
    pub exit: Option<i32>,
    /// How long the lesson's own side ran (a client's run; a server's from its start to its stop).
    pub took: Duration,
    /// What its partner printed (the partner lesson's log, http.server's request lines), or what
    /// a scripted peer did; empty for a lookup, which has none.
    pub partner_output: String,
}

/// Run the lesson as its page shows it (or the scenario, or with its own arguments), under strace,
/// with a capture and the scripted resolver where `in_namespace`.
pub fn record(run: &Run, in_namespace: bool) -> Result<Recording, Exit> {
    let tools_strace = strace_here();
    let scratch = Scratch::new("trace")?;
    let mut notes = Vec::new();
    if !tools_strace {
        notes.push("no system calls: strace is not installed (Debian package strace)".to_string());
    }
    let capture = if in_namespace {
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
    let lesson = run.lesson;
    let lookup = lesson.role == Role::Lookup;
    let resolver = if in_namespace {
        start_resolver(&mut notes, lookup)
    } else {
        None
    };
    // In the namespace the recipes' own ports are always free, so the ladder reads like the page;
    // on the shared loopback any free port, except that a server lesson compared with its listing
    // binds the listing's port where it is free, as the listing did.
    let udp = lesson.name.starts_with("udp");
    let (listing_port, http_port) = if capture.is_some() {
        (lesson_common::LISTING_PORT, crate::registry::HTTP_PORT)
    } else if run.listing.is_some() && lesson.role == Role::Server && !pair::listing_port_taken(udp)
    {
        (lesson_common::LISTING_PORT, 0)
    } else {
        (0, 0)
    };
    let client_log = scratch.path().join("client");
    let server_log = scratch.path().join("server");
    // The client side (a lesson, or a lookup) under strace, to its end.
    let run_client = |name: &str, args: &[String], stdin: &str| {
        Traced::new(workspace::binary(name)?, args, &client_log, tools_strace).run(stdin)
    };
    let (output, mut partner_output);
    let (client, mut server, mut server_port);
    // Each traced side, once ended: which side, its name, and how it ended.
    let mut sides: Vec<(&str, String, Ended)> = Vec::new();
    let began = Instant::now();
    let mut took = Duration::ZERO;
    let mut exit = None;
    match (lesson.role, run.scenario.as_deref()) {
        (Role::Lookup, _) => {
            let args: Vec<String> = run.template().iter().map(|a| a.to_string()).collect();
            let ended = run_client(lesson.name, &args, lesson.stdin)?;
            output = ended.printed.clone();
            exit = ended.status.and_then(|s| s.code());
            sides.push(("client", lesson.name.to_string(), ended));
            // Filled in from the resolver below, where it ran.
            partner_output = String::new();
            client = lesson.name.to_string();
            server = "(no peer: a lookup)".to_string();
            server_port = 0;
        }
        (Role::Server, Some("oversize")) => {
            let (background, port) =
                start_server(lesson.name, &server_log, tools_strace, listing_port)?;
            let echoed = oversize_datagram(port);
            let ended = background.stop();
            output = ended.printed.clone();
            sides.push(("server", lesson.name.to_string(), ended));
            partner_output = format!("the scripted client sent 9000 bytes and got {echoed} back\n");
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
            let ended = run_client(client_name, &args, client_lesson.stdin)?;
            partner_output = ended.printed.clone();
            sides.push(("client", client_name.to_string(), ended));
            let ended = background.stop();
            output = ended.printed.clone();
            sides.push(("server", lesson.name.to_string(), ended));
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
                        let (background, port) = start_http_server(
                            scratch.path(),
                            &server_log,
                            tools_strace,
                            http_port,
                        )?;
                        (Some(background), port, "python3 -m http.server".into())
                    }
                    (Partner::None, _) => {
                        return Err(fail(format!("{} has no partner", lesson.name)));
                    }
                };
            let mut args = pair::args_for_port(&run.template(), port);
            if scenario.is_some() && lesson.name == "http-fetch" {
                // A pause long enough for the scripted server to act while the client waits.
                if let Some(at) = args.iter().position(|a| a == "--pause") {
                    args[at + 1] = "1".into();
                }
            }
            let started = Instant::now();
            let ended = run_client(lesson.name, &args, lesson.stdin)?;
            took = started.elapsed();
            output = ended.printed.clone();
            exit = ended.status.and_then(|s| s.code());
            sides.push(("client", lesson.name.to_string(), ended));
            partner_output = match (peer, scenario) {
                (Some(peer), _) => {
                    let ended = peer.stop();
                    let printed = ended.printed.clone();
                    sides.push(("server", peer_name.clone(), ended));
                    printed
                }
                (None, Some("refused")) => {
                    format!("nothing listens on port {port}: the course bound it, then closed it\n")
                }
                (None, Some(scenario)) => format!(
                    "the scripted server accepted the connection, held it {} ms, then {}\n",
                    peers::SCRIPTED_HOLD.as_millis(),
                    if scenario == "server-resets" {
                        "reset it (SO_LINGER 0, then close: RST)"
                    } else {
                        "closed it (FIN)"
                    }
                ),
                (None, None) => String::new(),
            };
            client = lesson.name.to_string();
            server = peer_name;
            server_port = port;
        }
    }
    // Let the last packets land before the capture stops.
    std::thread::sleep(Duration::from_millis(100));
    let frames: Vec<Frame> = capture.map(Capture::stop).unwrap_or_default();
    if let Some(resolver) = resolver {
        let answered = resolver.stop();
        let said = format!(
            "name lookups go to a scripted resolver on 127.0.0.1:53 in the namespace (its \
             resolv.conf, bind-mounted there only, names it; nothing leaves the machine): {}",
            resolver::table()
        );
        if lookup {
            // A lookup's peer: the resolver, which answered what it was asked.
            notes.push(said);
            partner_output = answered.iter().map(|a| format!("{a}\n")).collect();
            server = RESOLVER.to_string();
            server_port = resolver::PORT;
        } else if !answered.is_empty() {
            notes.push(said);
            notes.push(format!(
                "the scripted resolver answered: {}",
                answered.join("; ")
            ));
        }
    }
    let lost = lost_calls(&sides);
    // What strace said about a side whose log is whole anyway (the error says the rest).
    for (_, name, ended) in sides.iter().filter(|(.., ended)| ended.lost.is_none()) {
        for said in &ended.strace_said {
            notes.push(format!("strace said, tracing {name}: {said}"));
        }
    }
    let packets: Vec<Packet> = frames.iter().filter_map(capture::decode).collect();
    Ok(Recording {
        client,
        server,
        client_calls: calls_in(&client_log),
        server_calls: calls_in(&server_log),
        packets,
        frames,
        raw_ip: false,
        server_port,
        notes,
        lost,
        output,
        exit,
        partner_output,
        took: if took.is_zero() {
            began.elapsed()
        } else {
            took
        },
    })
}

/// The name of the scripted resolver's column in a lookup's ladder.
pub const RESOLVER: &str = "scripted resolver";

/// The scripted resolver, where [`set_up_namespace`] pointed the lookups at it; else `None`, and
/// for a lookup a note that says why.
fn start_resolver(notes: &mut Vec<String>, lookup: bool) -> Option<Resolver> {
    let why = match resolver::taken_over()? {
        Ok(said) => match Resolver::start() {
            Ok(resolver) => {
                if lookup {
                    notes.extend(said.iter().cloned());
                }
                return Some(resolver);
            }
            Err(e) => format!("cannot listen on 127.0.0.1:53 ({e})"),
        },
        Err(why) => why.clone(),
    };
    if lookup {
        notes.push(format!(
            "no scripted resolver: {why}; a name that /etc/hosts does not answer finds no DNS \
             server from inside the namespace"
        ));
    }
    None
}

/// The error (one line) that names each side whose calls strace lost (its log missing or cut
/// short: a full disk under TMPDIR, strace stopped at the time limit), and why: a ladder without
/// them would draw a run that did not happen. `None` when every log is whole.
fn lost_calls(sides: &[(&str, String, Ended)]) -> Option<String> {
    let lost: Vec<String> = sides
        .iter()
        .filter_map(|(side, name, ended)| {
            let why = ended.lost.as_ref()?;
            Some(format!("the {side}'s system calls ({name}: {why})"))
        })
        .collect();
    (!lost.is_empty()).then(|| format!("trace lost {}, so it draws no ladder", lost.join(" and ")))
}

/// The Python listing's run in the lesson's place.
pub struct ListingRun {
    /// Its calls, for the side-by-side list.
    pub calls: Vec<Call>,
    /// What went wrong if it did not run as the lesson did (a typo in the listing, a port in use).
    pub trouble: Option<String>,
    /// A client listing still running [`GRACE`] after the time the lesson's side took, quiet: it
    /// was stopped then (udp.py waits for replies for ever, by design).
    pub stopped_idle: bool,
}

/// How long a client listing may sit quiet, once it has had the time the lesson's side took,
/// before it is stopped.
pub const GRACE: Duration = Duration::from_secs(1);

/// Run the learner's listing in the lesson's place, under strace. A client listing talks to the
/// partner on `port` (the lesson's partner's, so that their calls read alike; 0 for any free one)
/// and is stopped once it sits quiet after `lesson_took`, what the lesson's side took.
pub fn record_listing(
    run: &Run,
    listing: &Path,
    port: u16,
    lesson_took: Duration,
) -> Result<ListingRun, Exit> {
    let python = python::interpreter_itself(&python::interpreter()?);
    let scratch = Scratch::new("trace")?;
    let log = scratch.path().join("listing");
    let lesson = run.lesson;
    // Its lookups get the answers the lesson's got (inside the namespace only).
    let resolver = start_resolver(&mut Vec::new(), false);
    let wrap = |args: &[String]| -> Traced {
        let python = python::python_command(&python, listing, args, Some(0.0));
        let args: Vec<String> = python
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let mut traced = Traced::new(python.get_program(), &args, &log, true);
        traced.command.env("PYTHONUNBUFFERED", "1");
        traced
    };
    let ended = |printed: &str, status: Option<ExitStatus>| {
        let how = match status {
            Some(status) if status.success() => return None,
            Some(status) => match status.code() {
                Some(code) => format!("it exited {code}"),
                None => "it was killed by a signal".to_string(),
            },
            None => "it was stopped at the time limit".to_string(),
        };
        Some(format!("{how}{}", last_words(printed)))
    };
    let mut stopped_idle = false;
    // How the listing's side ended, for its log's check.
    let side: Ended;
    let trouble = match lesson.role {
        Role::Lookup => {
            let args: Vec<String> = run.template().iter().map(|a| a.to_string()).collect();
            side = wrap(&args).run(lesson.stdin)?;
            ended(&side.printed, side.status)
        }
        Role::Client => {
            let server_log = scratch.path().join("server");
            let (peer, port) = match lesson.partner {
                Partner::Lesson(name) => start_server(name, &server_log, false, port)?,
                _ => start_http_server(scratch.path(), &server_log, false, port)?,
            };
            let template = run.template();
            let args: Vec<String> = pair::args_for_port(&template, port)
                .into_iter()
                .filter(|a| !a.starts_with("--"))
                .collect();
            let args = drop_option_values(&template, args);
            let listing = wrap(&args)
                .start(lesson.stdin)
                .map_err(|e| fail_with("cannot start the listing", e))?;
            let (ending, printed) = listing.run_until_idle(lesson_took, GRACE, pair::LIMIT);
            let _ = peer.stop();
            side = printed;
            match ending {
                Ending::Exited(status) => ended(&side.printed, Some(status)),
                Ending::Limit => ended(&side.printed, None),
                Ending::Stopped => {
                    stopped_idle = true;
                    None
                }
            }
        }
        Role::Server => {
            // The listing binds its own port, 51423: free in the namespace; on the shared loopback,
            // if something else holds it, the listing's error says so (and the lesson, run next,
            // takes a free port).
            let mut listing_server = wrap(&[])
                .start("")
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
            side = listing_server.stop();
            trouble
        }
    };
    if let Some(resolver) = resolver {
        resolver.stop();
    }
    if let Some(lost) = lost_calls(&[("listing", listing.display().to_string(), side)]) {
        return Err(fail(lost));
    }
    let calls = fs::read_to_string(&log)
        .map(|t| strace::parse(&t))
        .unwrap_or_default();
    Ok(ListingRun {
        calls,
        trouble,
        stopped_idle,
    })
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

/// The "On the wire" block of a lesson's page: the ladder of its usual run (or of a run with
/// `args`, the lesson's own arguments), from a real run in a private network namespace.
/// `Ok(Err(why))` where this machine cannot make one (not Linux, no strace, no namespace): a
/// reason to skip the block, said as such; `Err` when the run itself fails, which fails the check.
pub fn page_ladder(
    lesson: &'static Lesson,
    args: &[String],
) -> Result<Result<String, Unavailable>, Exit> {
    if !cfg!(target_os = "linux") {
        return Ok(Err(Unavailable(
            "the wire needs Linux (strace and network namespaces)".into(),
        )));
    }
    let tools = Tools::probe();
    if !tools.strace {
        return Ok(Err(Unavailable("strace is not installed".into())));
    }
    let flags = match tools.namespace {
        Ok(flags) => flags,
        Err(why) => return Ok(Err(Unavailable(why))),
    };
    let exe = std::env::current_exe().map_err(|e| fail_with("cannot find the course tool", e))?;
    let mut command = Command::new("unshare");
    command
        .arg(flags)
        .arg(exe)
        .args([PAGE_LADDER, lesson.name])
        .args(args);
    let outcome = process::run_bounded(&mut command, b"", Duration::from_secs(60))
        .map_err(|e| fail_with("cannot run the trace", e))?;
    // Where the tools are there, a trace that fails is a failure of the check, never a skip.
    match outcome.status {
        Some(status) if status.success() => Ok(Ok(pair::text(&outcome.stdout))),
        _ => Err(fail(format!(
            "the trace of {} for its page failed: {}",
            lesson.name,
            pair::text(&outcome.stderr).trim()
        ))),
    }
}

/// The lesson and its partner across the lab link (`trace --link`), inside the lab's namespaces
/// ([`crate::tether::enter_lab`]): the server's side under strace in the server's network
/// namespace, bound to 192.0.2.2; the client's under strace here, on the client's side, the
/// registry's 127.0.0.1 pointed at 192.0.2.2 (arguments the learner gave run as given). The
/// packets are the wire's account of each one, not a capture: what the link did is in the
/// [`Finished`], its summary line included.
pub fn record_link(run: &Run, settings: &Settings) -> Result<(Recording, Finished), Exit> {
    let strace = strace_here();
    let scratch = Scratch::new("trace")?;
    let (client_log, server_log) = (scratch.path().join("client"), scratch.path().join("server"));
    let lesson = run.lesson;
    let client_lesson = crate::labnet::client_of(lesson)?;
    let lab = Lab::start(settings, true)?;
    let mut notes = lab.notes.clone();
    if !strace {
        notes.push("no system calls: strace is not installed (Debian package strace)".to_string());
    }
    // The server's side: a thread moved into its namespace starts it (see labnet).
    let started = lab
        .on(LabSide::Server, || {
            let started = match client_lesson.partner {
                Partner::Lesson(name) => {
                    start_server_at(name, SERVER_V4, &server_log, strace, LISTING_PORT)
                        .map(|(peer, port)| (peer, port, name.to_string()))
                }
                Partner::HttpServer => start_http_server_at(
                    scratch.path(),
                    SERVER_V4,
                    &server_log,
                    strace,
                    crate::registry::HTTP_PORT,
                )
                .map(|(peer, port)| (peer, port, "python3 -m http.server".to_string())),
                Partner::None => Err(fail(format!("{} has no partner", client_lesson.name))),
            };
            // An Exit is not Send: its words cross back to this thread.
            started.map_err(|e| std::io::Error::other(e.words()))
        })
        .map_err(|e| fail(format!("cannot start the server's side of the link: {e}")))?;
    let (peer, server_port, server) = started;
    let registry_args = run.args.is_none() || lesson.role == Role::Server;
    let template = if lesson.role == Role::Client {
        run.template()
    } else {
        client_lesson.peer_args.to_vec()
    };
    let args: Vec<String> = pair::args_for_port(&template, server_port)
        .into_iter()
        .map(|a| {
            if registry_args && a == pair::LOOPBACK.server {
                SERVER_V4.to_string()
            } else {
                a
            }
        })
        .collect();
    let began = Instant::now();
    let program = workspace::binary(client_lesson.name)?;
    let client_ended = Traced::new(program, &args, &client_log, strace).run(client_lesson.stdin)?;
    let client_took = began.elapsed();
    let server_ended = peer.stop();
    // Let the last packets cross before the link goes down.
    std::thread::sleep(Duration::from_millis(100));
    let finished = lab.finish()?;
    let client_exit = client_ended.status.and_then(|s| s.code());
    let (client_printed, server_printed) =
        (client_ended.printed.clone(), server_ended.printed.clone());
    let sides = [
        ("client", client_lesson.name.to_string(), client_ended),
        ("server", server.clone(), server_ended),
    ];
    let lost = lost_calls(&sides);
    for (_, name, ended) in sides.iter().filter(|(.., ended)| ended.lost.is_none()) {
        for said in &ended.strace_said {
            notes.push(format!("strace said, tracing {name}: {said}"));
        }
    }
    let (output, partner_output, exit, took) = if lesson.role == Role::Server {
        (server_printed, client_printed, None, began.elapsed())
    } else {
        (client_printed, server_printed, client_exit, client_took)
    };
    let recording = Recording {
        client: client_lesson.name.to_string(),
        server,
        client_calls: calls_in(&client_log),
        server_calls: calls_in(&server_log),
        packets: linked::packets(&finished.events),
        frames: linked::frames(&finished.events),
        raw_ip: true,
        server_port,
        notes,
        lost,
        output,
        exit,
        took,
        partner_output,
    };
    Ok((recording, finished))
}

/// The wire's view of a run across the lab link, as a ladder with no calls: each packet the wire
/// saw, in order, from the side that sent it, with what the link did to it (`✗` for a drop,
/// `duplicated`), its time in ms since the first. For a check that ran its own peer (an
/// exercise's), where no strace ran.
pub fn link_ladder(
    client: &str,
    server: &str,
    events: &[crate::link::log::Event],
    server_port: u16,
) -> String {
    ladder::render(
        &format!("client: {client}"),
        &format!("server: {server}"),
        &[],
        &[],
        &linked::packets(events),
        server_port,
    )
}

/// Whether strace runs here.
fn strace_here() -> bool {
    Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The calls strace logged in `log` (none if it wrote nothing).
fn calls_in(log: &Path) -> Vec<Call> {
    fs::read_to_string(log)
        .map(|t| strace::parse(&t))
        .unwrap_or_default()
}
