//! `cargo course trace LESSON [--scenario NAME | --listing LISTING.py] [--pcap FILE] [[--]
//! ARGS…]`: the system calls of a real run and the packets they caused, as a ladder diagram (and
//! the packets as a pcap file).
//!
//! The run happens inside a private network namespace (`unshare -rmnu`: no root needed, a loopback
//! of its own, no other traffic in the picture, and a mount and UTS namespace of its own for the
//! scripted resolver; as root, `unshare -mnu` where user namespaces are off): the course tool runs
//! itself again in there, brings `lo` up, points name lookups at a scripted resolver, starts a
//! capture, runs each side under `strace`, and draws what it saw. Without a namespace it shows the
//! system calls alone (it does not capture on the machine's shared loopback); without strace, the
//! packets alone; it says which.

use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use lesson_common::{Exit, fail, fail_with, usage};

use crate::labnet::Settings;
use crate::record::{self, Call, ListingRun, NSCD, NSCD_ROW, RESOLVER, Recording, Run, Tools};
use crate::registry::{Lesson, Role};

pub(crate) const HELP: &str = "\
usage: cargo course trace LESSON [--scenario NAME | --listing LISTING.py]
                          [--pcap FILE] [[--] ARGS…]
       cargo course trace LESSON --link SPEC [--seed N] [--pcap FILE] [[--] ARGS…]

Run a lesson with its partner on loopback and show the network system calls each side made (strace)
and the packets between them (a capture on loopback) as a ladder: the client's calls on the left,
the server's on the right, each packet beside the call that sent it, time going down.

With --link, the pair runs across the lab link instead (as `cargo course lab` does: the client's
side 192.0.2.1, the server's 192.0.2.2, a wire between them that decides each packet's fate as SPEC
says; the grammar is in `cargo course lab --help`), and the packets are the wire's account of them.
Each arrow starts when the packet reached the wire; a packet the link dropped ends in ✗ where it
died, with why under it (`dropped by loss`); a duplicate (`duplicated`) or a packet held back
behind a later one (`held back`) says so; a TCP segment sent again with the sequence number and
length of one before is marked `retransmission`. A delay shows in the calls' times. The trace ends
with the link's summary line; --seed N replays the same decisions. A lookup has no partner to reach
across the link. The registry's 127.0.0.1 becomes 192.0.2.2; ARGS you give run as given.

  ARGS                  the lesson's own arguments, in place of its page's: a lookup's
                        (trace addr-info www.example.com http), or a client's, where PORT stands
                        for its partner's port. The first word that is not one of trace's options
                        starts them, and so does `--`, which an option of the lesson's needs:
                        trace udp-client -- --timeout 2 127.0.0.1 PORT
  --scenario NAME       an experiment from the lesson's page with a scripted peer:
                          http-fetch server-closes   the server closes during the pause (FIN, then RST)
                          http-fetch server-resets   the server resets during the pause (RST at flush)
                          udp-client refused         nothing listens: ICMP port unreachable
                          udp-echo-server oversize   a 9000-byte datagram, echoed as 8192
  --listing LISTING.py  also run your copy of the Python listing in the lesson's place and put its
                        system calls beside the lesson's, differences marked (PYTHON, or python2)
  --pcap FILE           also write the packets of the lesson's run to FILE as a pcap file, every
                        pure ACK too, for `tcpdump -nr FILE` or Wireshark (needs the namespace);
                        with --link, the packets that crossed the link, each at the time it left
                        the wire, as raw IP (LINKTYPE_RAW): the dropped ones are not in it, since
                        no receiver saw them (the ladder shows them)
  --link SPEC           run across the lab link (see above); --seed N its seed

In the namespace, name lookups go to a scripted resolver on 127.0.0.1:53 (resolv.conf is
bind-mounted there, in a mount namespace of its own: the machine's is never touched), so the ladder
shows each DNS query and its answer, and nothing leaves the machine. It knows www.example.com
(192.0.2.10 and 2001:db8::10) and mail.example.net (198.51.100.7); it names 192.0.2.10 and
2001:db8::10 www.example.com, 192.0.2.66 mail.example.net (whose address is another) and 192.0.2.99
gone.example.org (which it does not know); any other name or address is NXDOMAIN (no such name).

Needs strace, and a private network namespace for the capture: unprivileged user namespaces
(`unshare -rmnu true` must work), or root. Says what is missing and shows what it can without them.
Every run is bounded in time.";

/// The experiments with a scripted peer: (lesson, scenario).
const SCENARIOS: &[(&str, &str)] = &[
    ("http-fetch", "server-closes"),
    ("http-fetch", "server-resets"),
    ("udp-client", "refused"),
    ("udp-echo-server", "oversize"),
];

struct Options {
    run: Run,
    /// Where to write the packets as a pcap file.
    pcap: Option<PathBuf>,
    /// Running inside the namespace (the hidden second run).
    inside: bool,
    /// `--link SPEC [--seed N]`: across the lab link.
    link: Option<Settings>,
}

pub fn main(args: Vec<String>) -> Result<(), Exit> {
    if asks_for_help(&args) {
        return crate::print(&format!("{HELP}\n"));
    }
    let options = parse(&args)?;
    record::needs_linux("trace")?;
    if let Some(settings) = &options.link {
        // The pair across the lab link: the tool runs itself again inside the lab's namespaces
        // (the client's side), with this same command line.
        crate::labnet::preflight("cargo course trace --link")?;
        if let Some(done) = crate::tether::enter_lab(&[])? {
            return done;
        }
        return across_link(&options, settings);
    }
    if options.inside {
        // The second run, inside the namespace: loopback up, lookups to the scripted resolver,
        // then the recording.
        record::set_up_namespace()?;
        return record_and_show(&options, true);
    }
    // Everything from here on runs in a PID namespace of its own where Linux allows one, so that
    // nothing it starts outlives it, SIGKILL included (crate::tether).
    if let Some(done) = crate::tether::enter(&[])? {
        return done;
    }
    crate::workspace::build()?;
    let tools = Tools::probe();
    if let (Some(file), Err(why)) = (&options.pcap, &tools.namespace) {
        return Err(fail(format!(
            "--pcap {}: no packets to write here: {why}",
            file.display()
        )));
    }
    if let Ok(flags) = tools.namespace {
        // The same command again, inside a private network namespace.
        return if record::enter(flags, &inner_args(&options))?.success() {
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

/// Inside the lab's namespaces: the pair across the link, its ladder drawn from the wire's account
/// of each packet, then the link's summary line.
fn across_link(options: &Options, settings: &Settings) -> Result<(), Exit> {
    // The learner's ARGS run as given: a loopback address there is the client side's own, and
    // what goes to it never meets the wire.
    let loopback = ["127.0.0.1", "::1", "localhost"];
    if let Some(arg) = options
        .run
        .args
        .iter()
        .flatten()
        .find(|a| loopback.contains(&a.as_str()))
    {
        crate::print(&format!(
            "trace: note: your ARGS name {arg}, the client side's own loopback: those packets \
             never cross the link (the server side is {})\n",
            crate::labnet::SERVER_V4
        ))?;
    }
    crate::workspace::build_with(&["lab-wire"])?;
    let (recording, finished) = record::record_link(&options.run, settings)?;
    let recording = whole(options, recording, true)?;
    let mut text = report(options, &recording, true);
    text.push_str(&save_pcap(options, &recording)?);
    let _ = write!(text, "\n{}\n", finished.summary);
    crate::print(&text)
}

/// Whether `--help` (or `-h`) is among trace's own words: a `--help` among the lesson's ARGS is
/// the lesson's.
fn asks_for_help(args: &[String]) -> bool {
    let mut words = args.iter().enumerate();
    while let Some((at, word)) = words.next() {
        match word.as_str() {
            "--help" | "-h" => return true,
            "--scenario" | "--listing" | "--pcap" | "--link" | "--seed" => {
                words.next();
            }
            "--" => return false,
            // The LESSON, then the first of its ARGS.
            other if !other.starts_with('-') && at > 0 => return false,
            _ => {}
        }
    }
    false
}

/// The inner run's command line: these options (the pcap file named whole: the inner run writes
/// it), `--inside`, then the lesson's arguments after `--`.
fn inner_args(options: &Options) -> Vec<String> {
    let run = &options.run;
    let mut inner = vec!["trace".to_string(), run.lesson.name.to_string()];
    if let Some(scenario) = &run.scenario {
        inner.extend(["--scenario".to_string(), scenario.clone()]);
    }
    if let Some(listing) = &run.listing {
        inner.extend(["--listing".to_string(), listing.display().to_string()]);
    }
    if let Some(file) = &options.pcap {
        inner.extend(["--pcap".to_string(), file.display().to_string()]);
    }
    inner.push("--inside".to_string());
    if let Some(args) = &run.args {
        inner.push("--".to_string());
        inner.extend(args.iter().cloned());
    }
    inner
}

fn parse(args: &[String]) -> Result<Options, Exit> {
    let mut words = args.iter();
    let Some(name) = words.next() else {
        return Err(usage("give a LESSON to trace (cargo course trace --help)"));
    };
    let lesson = crate::registry::find(name)?;
    let mut options = Options {
        run: Run {
            lesson,
            scenario: None,
            listing: None,
            args: None,
        },
        pcap: None,
        inside: false,
        link: None,
    };
    let (mut link, mut seed) = (None, None);
    while let Some(word) = words.next() {
        match word.as_str() {
            "--link" => match words.next() {
                Some(spec) => link = Some(spec.clone()),
                None => return Err(usage("--link needs a SPEC (cargo course lab --help)")),
            },
            "--seed" => match words.next() {
                Some(n) => seed = Some(n.clone()),
                None => return Err(usage("--seed needs a number N")),
            },
            "--inside" => options.inside = true,
            "--scenario" => match words.next() {
                Some(name) => options.run.scenario = Some(name.clone()),
                None => return Err(usage("--scenario needs a NAME (see --help)")),
            },
            "--listing" => match words.next() {
                Some(file) => options.run.listing = Some(PathBuf::from(file)),
                None => return Err(usage("--listing needs a LISTING.py file")),
            },
            "--pcap" => match words.next() {
                // Named whole, so the run inside the namespace writes where this one was asked.
                Some(file) => {
                    let file = std::path::absolute(file)
                        .map_err(|e| usage(format!("--pcap {file}: {e}")))?;
                    options.pcap = Some(file);
                }
                None => return Err(usage("--pcap needs a FILE to write the packets to")),
            },
            // The rest is the lesson's.
            "--" => options.run.args = Some(words.by_ref().cloned().collect()),
            other if other.starts_with('-') => {
                return Err(usage(format!(
                    "trace takes --scenario NAME, --listing FILE, --pcap FILE, --link SPEC or \
                     --seed N, not '{other}' (the lesson's own options go after `--`)"
                )));
            }
            _ => {
                let mut lesson_args = vec![word.clone()];
                lesson_args.extend(words.by_ref().cloned());
                options.run.args = Some(lesson_args);
            }
        }
    }
    if link.is_none() && seed.is_some() {
        return Err(usage(
            "--seed N goes with --link SPEC: it seeds the link's decisions",
        ));
    }
    if link.is_some() {
        if options.run.scenario.is_some() || options.run.listing.is_some() {
            return Err(usage(
                "--link runs the lesson with its partner: no --scenario or --listing with it",
            ));
        }
        crate::labnet::client_of(lesson)?;
        options.link = Some(Settings::parse(link, seed)?);
    }
    if options.run.scenario.is_some() && options.run.listing.is_some() {
        return Err(usage(
            "--scenario and --listing go one at a time (a listing runs beside the usual partner)",
        ));
    }
    if options.run.args.is_some() {
        if lesson.role == Role::Server {
            return Err(usage(format!(
                "{} is a server: trace runs it on 127.0.0.1:51423 in its namespace, beside its \
                 partner, so it takes no ARGS",
                lesson.name
            )));
        }
        if options.run.scenario.is_some() {
            return Err(usage(
                "a --scenario runs the lesson with its page's arguments: give ARGS without it",
            ));
        }
    }
    if let Some(scenario) = &options.run.scenario {
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
    if let Some(listing) = &options.run.listing {
        if fs::metadata(listing).is_err() {
            return Err(usage(format!(
                "cannot read the listing '{}'",
                listing.display()
            )));
        }
    }
    Ok(options)
}

/// Record the lesson's run (with a capture, in the namespace) and print the report; with
/// `--listing`, the listing's calls beside the lesson's. A server listing runs first, because the
/// lesson's run leaves its server port in TIME_WAIT, which a listing without SO_REUSEADDR could
/// not bind (the lessons set it, as the book's servers do). A client listing runs after, beside a
/// partner on the port the lesson's had, and is given the time the lesson's side took: then,
/// once it sits quiet for [`record::GRACE`], it is stopped (udp.py waits for replies for ever).
fn record_and_show(options: &Options, in_namespace: bool) -> Result<(), Exit> {
    let run = &options.run;
    let Some(listing) = &run.listing else {
        let recording = whole(options, record::record(run, in_namespace)?, in_namespace)?;
        let saved = save_pcap(options, &recording)?;
        return crate::print(&(report(options, &recording, in_namespace) + &saved));
    };
    let (listing, recording) = if run.lesson.role == Role::Server {
        let listing = record::record_listing(run, listing, 0, Duration::ZERO)?;
        let recording = whole(options, record::record(run, in_namespace)?, in_namespace)?;
        (listing, recording)
    } else {
        let recording = whole(options, record::record(run, in_namespace)?, in_namespace)?;
        // In the namespace the lesson's partner had the page's port: the listing's gets it too,
        // so that their connect and getpeername read alike (elsewhere both are ephemeral, masked).
        let port = if in_namespace {
            recording.server_port
        } else {
            0
        };
        let listing = record::record_listing(run, listing, port, recording.took)?;
        (listing, recording)
    };
    let mut text = report(options, &recording, in_namespace);
    text.push_str(&save_pcap(options, &recording)?);
    text.push_str(&listing_notes(run.lesson, &listing, &recording));
    text.push_str(&calls_side_by_side(run.lesson, &listing.calls, &recording));
    crate::print(&text)
}

/// The recording, if strace kept every side's calls; else what each side printed, then the error
/// that says whose calls were lost.
fn whole(options: &Options, rec: Recording, in_namespace: bool) -> Result<Recording, Exit> {
    match &rec.lost {
        None => Ok(rec),
        Some(lost) => {
            crate::print(&printed(options, &rec, in_namespace))?;
            Err(fail(lost))
        }
    }
}

/// With `--pcap FILE`, every frame of the lesson's run written there as a pcap file; what to say
/// about it.
fn save_pcap(options: &Options, rec: &Recording) -> Result<String, Exit> {
    let Some(file) = &options.pcap else {
        return Ok(String::new());
    };
    let count = rec
        .write_pcap(file)
        .map_err(|e| fail_with(format!("cannot write the pcap file {}", file.display()), e))?;
    let plural = if count == 1 { "" } else { "s" };
    let what = if options.run.listing.is_some() {
        " (the lesson's run; the listing's is not captured)"
    } else {
        ""
    };
    let said = if rec.raw_ip {
        let dropped = rec
            .packets
            .iter()
            .filter(|p| p.link.as_ref().is_some_and(|l| l.left.is_none()))
            .count();
        format!(
            "the {count} packet{plural} that crossed the link, every pure ACK too, each at the time \
             it left the wire, are in {} (a pcap file of raw IP packets; the {dropped} the link \
             dropped are not); read them with",
            file.display()
        )
    } else {
        format!(
            "the {count} packet{plural} of this run{what}, every pure ACK too, are in {} (a pcap \
             file); read them with",
            file.display()
        )
    };
    Ok(format!(
        "\n{}    tcpdump -nr {}\nor open the file in Wireshark.\n",
        crate::text::fill(&said, "", 100),
        file.display()
    ))
}

/// What to know before reading the listing's calls beside the lesson's: that it did not run as the
/// lesson did, or that it was stopped still waiting where the lesson gives up.
fn listing_notes(lesson: &Lesson, listing: &ListingRun, rec: &Recording) -> String {
    let mut trouble = listing.trouble.clone();
    let mut notes = String::new();
    if lesson.role == Role::Server {
        // The course's wrapper (python::WRAPPER) rewrites the address, as compare says too.
        let _ = write!(
            notes,
            "\n{}",
            crate::text::fill(
                "the listing binds 127.0.0.1 where it asks for '' or 0.0.0.0 (every interface), as \
                 the lesson does by default: the course runs it through a wrapper that rewrites the \
                 address, as compare does, so its bind below shows 127.0.0.1.",
                "",
                100
            )
        );
    }
    if listing.stopped_idle {
        let grace = record::GRACE.as_secs();
        let waiting = listing.calls.iter().rev().find(|c| c.waiting);
        let call = |c: &Call| c.text.split(" …").next().unwrap_or_default().to_string();
        // Where the lesson gave up instead: the same call, timed out.
        let gave_up = waiting.and_then(|w| {
            lesson_calls(lesson, rec)
                .iter()
                .find(|c| c.name == w.name && c.text.ends_with("= -1 EAGAIN"))
        });
        match (waiting, gave_up) {
            (Some(waiting), Some(gave_up)) => {
                let said = format!(
                    "the listing waits for ever, by design (it sets no timeout): it still waited in \
                     {} when trace stopped it, {grace} s after the time the lesson's side took; the \
                     lesson gives up after its timeout ({}). That is not counted as a difference.",
                    call(waiting),
                    gave_up.text
                );
                let _ = write!(notes, "\n{}", crate::text::fill(&said, "", 100));
            }
            (Some(waiting), None) => {
                trouble = Some(format!(
                    "it still waited in {} {grace} s after the time the lesson's side took, so \
                     trace stopped it",
                    call(waiting)
                ));
            }
            (None, _) => {
                trouble = Some(format!(
                    "it still ran, quiet, {grace} s after the time the lesson's side took, so trace \
                     stopped it"
                ));
            }
        }
    }
    if let Some(trouble) = trouble {
        let _ = write!(
            notes,
            "\nthe listing did not run as the lesson did, so its list below is short:\n{}",
            crate::text::fill(&trouble, "  ", 100)
        );
    }
    notes
}

/// The calls of the lesson's own side of the run.
fn lesson_calls<'a>(lesson: &Lesson, rec: &'a Recording) -> &'a [Call] {
    if lesson.role == Role::Server {
        &rec.server_calls
    } else {
        &rec.client_calls
    }
}

/// The whole report: notes, what the lesson printed, each side's calls, the ladder.
fn report(options: &Options, rec: &Recording, in_namespace: bool) -> String {
    let mut out = printed(options, rec, in_namespace);
    let lesson = options.run.lesson;
    if rec.packets.is_empty() && in_namespace {
        let _ = writeln!(
            out,
            "\nno packets on the wire{}",
            match (options.run.lesson.role, rec.server == RESOLVER) {
                (Role::Lookup, true) => {
                    ": the answer came from /etc/hosts or a numeric address, without a query"
                }
                (Role::Lookup, false) => {
                    ": the answer came from /etc/hosts or a numeric address, or the resolver \
                     found no route to a DNS server"
                }
                _ => "",
            }
        );
    }
    let _ = writeln!(
        out,
        "\nthe ladder (client's calls left, server's right, packets between, time going down):"
    );
    if lesson.role != Role::Lookup {
        out.push_str(&crate::text::fill(RACE, "", 100));
    }
    if options.link.is_some() {
        out.push_str(&crate::text::fill(ACROSS_THE_LINK, "", 100));
    }
    out.push('\n');
    out.push_str(&rec.ladder());
    let calls = rec.client_calls.iter().chain(&rec.server_calls);
    if let Some(nscd) = calls.map(|c| &c.text).find(|t| t.starts_with(NSCD_ROW)) {
        let _ = write!(
            out,
            "\n{}",
            crate::text::fill(
                &name_service_note(nscd.split(" (").next().unwrap_or(nscd)),
                "",
                100
            )
        );
    }
    out
}

/// The head of the report: what was traced, the notes, what the lesson and its partner printed.
fn printed(options: &Options, rec: &Recording, in_namespace: bool) -> String {
    let mut out = String::new();
    let place = match (&options.link, in_namespace) {
        (Some(settings), _) => format!(
            "across the lab link (the client's side 192.0.2.1, the server's 192.0.2.2)\ntrace: {}",
            settings.said()
        ),
        (None, true) => {
            "in a private network namespace (its own loopback, nothing else on it)".to_string()
        }
        (None, false) => "on this machine's loopback".to_string(),
    };
    let mut what = options.run.lesson.name.to_string();
    if let Some(scenario) = &options.run.scenario {
        let _ = write!(what, " --scenario {scenario}");
    }
    for arg in options.run.args.iter().flatten() {
        let _ = write!(what, " {}", crate::text::shell_word(arg));
    }
    let _ = writeln!(out, "trace: {what}, {place}");
    for note in &rec.notes {
        // Each note its own paragraph, its lines after the first indented.
        let filled = crate::text::fill(&format!("trace: {note}"), "", 93);
        for (at, line) in filled.lines().enumerate() {
            let indent = if at == 0 { "" } else { "       " };
            let _ = writeln!(out, "{indent}{line}");
        }
    }
    let lesson = options.run.lesson;
    let exit = match rec.exit {
        Some(code) if code != 0 => format!(" (exit {code})"),
        _ => String::new(),
    };
    let _ = writeln!(out, "\nwhat {} printed{exit}:", lesson.name);
    indented(&mut out, &rec.output);
    if rec.server == RESOLVER {
        let _ = writeln!(
            out,
            "\nwhat its partner, the {RESOLVER} (course), answered:"
        );
        indented(&mut out, &rec.partner_output);
    }
    if lesson.role != Role::Lookup {
        let partner = if lesson.role == Role::Server {
            &rec.client
        } else {
            &rec.server
        };
        // A scripted peer prints nothing: what it did is said instead.
        let verb = if options.run.scenario.is_some() {
            "did"
        } else {
            "printed"
        };
        let _ = writeln!(out, "\nwhat its partner, {partner}, {verb}:");
        indented(&mut out, &rec.partner_output);
    }
    out
}

/// Said above a ladder of two programs: which of its rows may come in another order next time.
const RACE: &str = "Each column keeps its own order, and a packet sits beside the call that sent it and \
     above the wait it ended; other rows of the two sides can swap from run to run, because two \
     programs run at once (the server's close and the client's getpeername, say): the \
     milliseconds show how close they were.";

/// Said above a ladder across the lab link: how to read its packets.
const ACROSS_THE_LINK: &str = "Across the link each arrow starts when its packet reached the wire; the \
     receiving side got it when the wire let it go, so a delay shows in the calls' times. An arrow \
     ending in ✗ is a packet the link dropped; the words under an arrow say what the link did to it, \
     and `retransmission` marks a TCP segment its sender sent again (the same sequence number and \
     length as one before).";

/// What a row like `nscd: none running (2 tries)` stands for, said once.
fn name_service_note(row: &str) -> String {
    format!(
        "`{row} (N tries)` is one row for the C library's tries to reach the name-service cache \
         daemon, nscd: each a Unix socket, a connect to {NSCD} and a close, before it reads \
         /etc/hosts, /etc/services or /etc/passwd. Where no nscd runs, as here, each try ends in \
         ENOENT and the library reads the files itself."
    )
}

/// `text`'s lines, each indented four spaces; `(nothing)` for none.
fn indented(out: &mut String, text: &str) {
    if text.trim().is_empty() {
        out.push_str("    (nothing)\n");
    }
    for line in text.lines() {
        let _ = writeln!(out, "    {line}");
    }
}

/// The listing's calls beside the lesson's, on its side of the run, differences marked `|`, `<`,
/// `>`.
fn calls_side_by_side(lesson: &Lesson, listing: &[Call], rec: &Recording) -> String {
    let ours = lesson_calls(lesson, rec);
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
    for (a, b) in crate::text::diff_rows(&normal(listing), &normal(ours)) {
        let mark = crate::text::mark(a.as_ref(), b.as_ref());
        let _ = writeln!(
            out,
            "{:<48} {mark} {}",
            a.unwrap_or_default(),
            b.unwrap_or_default()
        );
    }
    out
}

/// The kernel's ephemeral ports (Linux picks them from 32768 to 60999) as `<port>`: they differ
/// from run to run, not from listing to lesson.
fn ephemeral_ports(text: &str) -> String {
    crate::text::replace_numbers(text, |number| {
        let port: u16 = number.parse().ok()?;
        let ephemeral = number.len() == 5 && (32768..=60999).contains(&port);
        (ephemeral && port != lesson_common::LISTING_PORT).then(|| "<port>".to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_string).collect()
    }

    /// The lesson's arguments start at the first word that is not one of trace's options, or
    /// after `--`; the inner run gets them back after `--`, its own options before.
    #[test]
    fn takes_the_lessons_arguments() {
        let options = parse(&words("addr-info www.example.com http")).unwrap();
        assert_eq!(options.run.args, Some(words("www.example.com http")));
        let options = parse(&words(
            "udp-client --pcap x.pcap -- --timeout 2 127.0.0.1 PORT",
        ))
        .unwrap();
        assert_eq!(options.run.args, Some(words("--timeout 2 127.0.0.1 PORT")));
        let inner = inner_args(&options);
        let at = inner.iter().position(|w| w == "--").unwrap();
        assert_eq!(inner[at - 1], "--inside");
        assert_eq!(inner[at + 1..], words("--timeout 2 127.0.0.1 PORT"));
        let again = parse(&inner[1..]).unwrap();
        assert!(again.inside && again.run.args == options.run.args);
        assert_eq!(parse(&words("addr-info")).unwrap().run.args, None);
        assert!(asks_for_help(&words("addr-info --pcap x --help")));
        assert!(!asks_for_help(&words("addr-info -- --help")));
        assert!(!asks_for_help(&words("addr-info localhost --help")));
    }

    /// The help names every row of the scripted resolver's table.
    #[test]
    fn help_names_the_resolvers_table() {
        let help = HELP.split_whitespace().collect::<Vec<_>>().join(" ");
        for (name, address) in record::NAMES.iter().chain(record::ADDRESSES) {
            assert!(
                help.contains(name) && help.contains(address),
                "{name} {address}"
            );
        }
    }
}
