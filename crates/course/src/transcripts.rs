//! `cargo course transcripts [--check]`: every expected-output block on a page comes from a real
//! run, as the Rust Book keeps its `output.txt` files honest.
//!
//! A page asks for a transcript with a marker line right before a fenced block:
//!
//! ```text
//! <!-- course:transcript socket-info output -->
//! ```
//!
//! `LESSON output` is what the lesson prints beside its partner (a lookup lesson: alone), and
//! `LESSON partner` what the partner prints in that same run. `LESSON wire [ARGS…]` is the ladder
//! of a traced run (`crate::record::page_ladder`), with the lesson's own ARGS where given. The runs use ephemeral ports; the
//! partner's real port is written as the one the page's recipe uses (51423, or 8000 for the HTTP
//! server), so a page reads like the two terminals beside it. `--check` reruns everything and
//! fails on drift, with a diff; it masks what changes from run to run (the client's ephemeral
//! ports, HTTP dates, the Python version in `Server:`; in a ladder, how the two sides interleave
//! and glibc's lookups over Unix sockets, which depend on the machine), so it fails only when
//! behaviour changed.
//! The course map in docs/README.md is written from the registry the same way, between
//! `<!-- course:map -->` and `<!-- /course:map -->`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lesson_common::{Exit, fail, fail_with};

use crate::pair::{self, Peer};
use crate::registry::{Experiment, HTTP_PORT, LESSONS, LISTING_PORT, Lesson, Partner, Role};
use crate::text::{diff, with_port};

pub(crate) const HELP: &str = "\
usage: cargo course transcripts [--check]

Rerun every lesson whose output a page shows (on loopback, beside its partner) and write what it
printed into the page's marked blocks (`<!-- course:transcript LESSON PART -->` before a fenced
block; PART is `output` or `partner`, or `lab NAME`: the lab experiment NAME of the lesson's
page, across the lab link; skipped, and said so, where the lab cannot run), and the course map into docs/README.md. With --check,
change nothing: exit 1 with a diff when a page no longer matches a real run (ports, dates and
versions masked).";

/// The port the http-fetch page's recipe gives its HTTP server.
const MARKER: &str = "<!-- course:transcript ";
const MAP_START: &str = "<!-- course:map -->";
const MAP_END: &str = "<!-- /course:map -->";

pub fn main(args: Vec<String>) -> Result<(), Exit> {
    let Some(check) = crate::check_flag("transcripts", HELP, &args)? else {
        return Ok(());
    };
    let root = crate::workspace::root()?;
    let docs = root.join("docs");
    let pages = pages(&docs)?;
    crate::workspace::build()?;
    // First every block each page asks for, checked; then the runs, each once (a lesson's run
    // fills its output and partner blocks); then the pages, filled.
    let mut texts = Vec::new();
    let mut jobs: BTreeMap<Job, Option<Done>> = BTreeMap::new();
    for path in pages {
        let text = fs::read_to_string(&path)
            .map_err(|e| fail_with(format!("cannot read {}", path.display()), e))?;
        for request in requests(&text) {
            jobs.insert(job(&path, &request)?, None);
        }
        texts.push((path, text));
    }
    if jobs.keys().any(|job| matches!(job, Job::Lab(..))) {
        crate::workspace::build_with(&["lab-wire"])?;
    }
    // The three kinds of run at once, each kind one after another: a traced run, a run across
    // the lab link and a plain run on loopback each take a second or so, and none shares a port
    // or a namespace with another. Within a kind they stay in turn, so that their timing (which
    // a lab block's `took about 1 s` shows) is a quiet machine's.
    let kinds = [Kind::Wire, Kind::Lab, Kind::Plain];
    let finished: Vec<Vec<(Job, Done)>> = std::thread::scope(|scope| {
        let running: Vec<_> = kinds
            .iter()
            .map(|&kind| {
                let mine: Vec<Job> = jobs.keys().filter(|j| j.kind() == kind).cloned().collect();
                scope.spawn(move || mine.into_iter().map(|j| (j.clone(), j.run())).collect())
            })
            .collect();
        running
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    for (job, done) in finished.into_iter().flatten() {
        jobs.insert(job, Some(done));
    }
    let mut drift = String::new();
    let mut blocks = 0;
    for (path, text) in texts {
        let mut wanted = Vec::new();
        let mut skipped_here = Vec::new();
        for request in requests(&text) {
            let job = job(&path, &request)?;
            let done = match jobs.get(&job) {
                Some(Some(done)) => done,
                _ => return Err(fail(format!("{}: a run did not end", job.name()))),
            };
            match done {
                Err(why) => return Err(fail(why.clone())),
                Ok(Err(skip)) => {
                    // Keep the page's block as it is, and say it was not checked here.
                    skipped_here.push(format!("{}: {skip}", job.name()));
                    wanted.push(String::new());
                }
                Ok(Ok(run)) => wanted.push(match (&job, request.part.as_str()) {
                    (Job::Plain(_), "partner") => run.partner.clone(),
                    _ => run.output.clone(),
                }),
            }
        }
        blocks += wanted.len() - skipped_here.len();
        for skip in &skipped_here {
            crate::print(&format!("transcripts: skipped {skip}\n"))?;
            test_support::process::note_skipped(&format!("transcripts: {skip}"));
        }
        let mut new = fill(&text, &wanted)?;
        if path.ends_with("docs/README.md") {
            new = with_map(&new);
        }
        // Only behaviour counts: a rerun whose ephemeral ports and dates alone differ leaves the
        // page as it is, so the pages do not churn.
        if mask(&new) == mask(&text) {
            continue;
        }
        let name = path
            .strip_prefix(&root)
            .unwrap_or(&path)
            .display()
            .to_string();
        if check {
            let _ = write!(drift, "{}", diff(&name, &mask(&text), &mask(&new)));
        } else {
            fs::write(&path, new).map_err(|e| fail_with(format!("cannot write {name}"), e))?;
            crate::print(&format!("transcripts: rewrote {name}\n"))?;
        }
    }
    if !drift.is_empty() {
        crate::print(&drift)?;
        return Err(fail(
            "a page no longer matches a real run (diff above): run `cargo course transcripts`",
        ));
    }
    let verb = if check { "checked" } else { "up to date:" };
    let runs: Vec<&Job> = jobs.keys().filter(|j| j.kind() == Kind::Plain).collect();
    crate::print(&format!(
        "transcripts: {verb} {blocks} blocks from {} runs\n",
        runs.len()
    ))
}

/// README.md and every Markdown page under docs/.
pub fn pages(docs: &Path) -> Result<Vec<PathBuf>, Exit> {
    let mut todo = vec![docs.to_path_buf()];
    let mut found = Vec::new();
    while let Some(dir) = todo.pop() {
        let entries = fs::read_dir(&dir)
            .map_err(|e| fail_with(format!("cannot read {}", dir.display()), e))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// One marked block's request.
#[derive(Debug, PartialEq)]
pub struct Request {
    pub lesson: String,
    pub part: String,
    /// The lesson's own arguments, after the part (`addr-info wire www.example.com http`): a
    /// `wire` block's run with them instead of the page's.
    pub args: Vec<String>,
}

/// The marked blocks of a page, in order.
pub fn requests(text: &str) -> Vec<Request> {
    text.lines()
        .filter_map(|line| line.trim().strip_prefix(MARKER)?.strip_suffix("-->"))
        .map(|words| {
            let mut words = words.split_whitespace();
            let lesson = words.next().unwrap_or_default().to_string();
            Request {
                lesson,
                part: words.next().unwrap_or_default().to_string(),
                args: words.map(str::to_string).collect(),
            }
        })
        .collect()
}

/// The page with each marked block's fenced contents replaced by `bodies`, in order.
pub fn fill(text: &str, bodies: &[String]) -> Result<String, Exit> {
    let mut out = String::new();
    let mut lines = text.split_inclusive('\n');
    let mut bodies = bodies.iter();
    while let Some(line) = lines.next() {
        out.push_str(line);
        if !line.trim().starts_with(MARKER) {
            continue;
        }
        let Some(fence) = lines.next().filter(|l| l.trim_start().starts_with("```")) else {
            return Err(fail(format!(
                "a `{}` line must be followed by a fenced block",
                line.trim()
            )));
        };
        out.push_str(fence);
        let mut closed = false;
        let mut old = String::new();
        for inner in lines.by_ref() {
            if inner.trim() == "```" {
                // An empty body (a run that could not be made here) keeps what the page has.
                let body = bodies.next().map_or("", String::as_str);
                let body = if body.is_empty() { old.as_str() } else { body };
                out.push_str(body);
                if !body.is_empty() && !body.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str(inner);
                closed = true;
                break;
            }
            old.push_str(inner);
        }
        if !closed {
            return Err(fail(format!(
                "the block after `{}` is never closed",
                line.trim()
            )));
        }
    }
    Ok(out)
}

/// What one transcript run printed, with the partner's port written as the page's.
pub struct Run {
    pub output: String,
    pub partner: String,
}

/// One run a page's blocks ask for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Job {
    /// A traced run's ladder: the lesson, and its own arguments if the block names them.
    Wire(&'static str, Vec<String>),
    /// An experiment across the lab link: the lesson and the experiment's name.
    Lab(&'static str, String),
    /// The lesson as its page runs it: its output and its partner's.
    Plain(&'static str),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Wire,
    Lab,
    Plain,
}

/// What a run gave: its text, or why it could not run here (a skip), or why it failed. (An
/// [`Exit`] cannot cross threads; its words can.)
type Done = Result<Result<Run, String>, String>;

/// The run `request` (a block of the page at `path`) asks for; a block no run can fill is an
/// error, before anything runs.
fn job(path: &Path, request: &Request) -> Result<Job, Exit> {
    let lesson = crate::registry::find(&request.lesson).map_err(|_| {
        fail(format!(
            "{}: no lesson '{}' for a transcript",
            path.display(),
            request.lesson
        ))
    })?;
    match request.part.as_str() {
        "wire" => Ok(Job::Wire(lesson.name, request.args.clone())),
        "lab" => {
            let [name] = &request.args[..] else {
                return Err(fail(format!(
                    "{}: a lab block names one experiment: `{} lab NAME`",
                    path.display(),
                    request.lesson
                )));
            };
            crate::registry::experiment(&request.lesson, name)?;
            Ok(Job::Lab(lesson.name, name.clone()))
        }
        "output" | "partner" if request.args.is_empty() => Ok(Job::Plain(lesson.name)),
        "output" | "partner" => Err(fail(format!(
            "{}: only a wire block takes the lesson's ARGS, not '{} {}'",
            path.display(),
            request.lesson,
            request.part
        ))),
        other => Err(fail(format!(
            "{}: unknown transcript part '{other}'",
            path.display()
        ))),
    }
}

impl Job {
    fn kind(&self) -> Kind {
        match self {
            Job::Wire(..) => Kind::Wire,
            Job::Lab(..) => Kind::Lab,
            Job::Plain(_) => Kind::Plain,
        }
    }

    /// `udp-client wire`, `udp-client lab loss`, `udp-client`: for messages.
    fn name(&self) -> String {
        match self {
            Job::Wire(lesson, args) => {
                let args: String = args.iter().map(|a| format!(" {a}")).collect();
                format!("{lesson} wire{args}")
            }
            Job::Lab(lesson, name) => format!("{lesson} lab {name}"),
            Job::Plain(lesson) => lesson.to_string(),
        }
    }

    /// Run it, saying so first (each run takes a second or so: a check of many pages is never a
    /// long silence).
    fn run(self) -> Done {
        let words = |e: Exit| e.words();
        let said = match &self {
            Job::Wire(..) => format!("transcripts: tracing {}\n", self.name()),
            Job::Lab(lesson, name) => {
                format!("transcripts: across the lab link: {lesson} --experiment {name}\n")
            }
            Job::Plain(lesson) => format!("transcripts: running {lesson}\n"),
        };
        crate::print(&said).map_err(words)?;
        let lesson = crate::registry::find(self.lesson()).map_err(words)?;
        match &self {
            Job::Wire(_, args) => Ok(crate::record::page_ladder(lesson, args)
                .map_err(words)?
                .map(|ladder| Run {
                    output: ladder,
                    partner: String::new(),
                })
                .map_err(|why| why.to_string())),
            Job::Lab(lesson, name) => {
                let experiment = crate::registry::experiment(lesson, name).map_err(words)?;
                Ok(lab_run(experiment).map_err(words)?.map(|text| Run {
                    output: text,
                    partner: String::new(),
                }))
            }
            Job::Plain(_) => run(lesson).map(Ok).map_err(words),
        }
    }

    fn lesson(&self) -> &'static str {
        match self {
            Job::Wire(lesson, _) | Job::Lab(lesson, _) | Job::Plain(lesson) => lesson,
        }
    }
}

/// Run `lesson` as its page shows it: a client beside its partner, a server with its client, a
/// lookup alone.
pub fn run(lesson: &'static Lesson) -> Result<Run, Exit> {
    match lesson.role {
        Role::Lookup => {
            let outcome = pair::run_lesson(lesson, &own_args(lesson))?;
            Ok(Run {
                output: pair::text(&outcome.stdout),
                partner: String::new(),
            })
        }
        Role::Client => {
            let Some(peer) = pair::start_partner(lesson)? else {
                return Err(fail(format!(
                    "{} has no partner to run beside",
                    lesson.name
                )));
            };
            let outcome = pair::run_lesson(lesson, &pair::peer_args(lesson, Some(&peer)))?;
            let partner = partner_text(&peer);
            let documented = documented_port(lesson);
            Ok(Run {
                output: with_port(&pair::text(&outcome.stdout), peer.port, documented),
                partner: with_port(&partner, peer.port, documented),
            })
        }
        Role::Server => {
            let Partner::Lesson(client_name) = lesson.partner else {
                return Err(fail(format!(
                    "{} has no client partner in the registry",
                    lesson.name
                )));
            };
            let client = crate::registry::find(client_name)?;
            let server = pair::start_lesson_server(lesson.name)?;
            let outcome = pair::run_lesson(client, &pair::peer_args(client, Some(&server)))?;
            let output = partner_text(&server);
            Ok(Run {
                output: with_port(&output, server.port, LISTING_PORT),
                partner: with_port(&pair::text(&outcome.stdout), server.port, LISTING_PORT),
            })
        }
    }
}

/// What `cargo course lab LESSON --experiment NAME` printed, from the link's line to its summary,
/// the partner's real port written as the page's; `Ok(Err(why))` where the lab cannot run here
/// (not Linux, no /dev/net/tun, no user namespaces): the block is then skipped, never passed.
fn lab_run(experiment: &Experiment) -> Result<Result<String, String>, Exit> {
    let tool = std::env::current_exe().map_err(|e| fail_with("cannot find the course tool", e))?;
    let mut command = std::process::Command::new(tool);
    command
        .args(["lab", experiment.lesson, "--experiment", experiment.name])
        .env("COURSE_NO_BUILD", "1");
    let outcome = test_support::process::run_bounded(&mut command, b"", Duration::from_secs(90))
        .map_err(|e| fail_with("cannot run the course tool's lab", e))?;
    let stdout = pair::text(&outcome.stdout);
    let stderr = pair::text(&outcome.stderr);
    let summary = stdout
        .lines()
        .any(|l| l.starts_with("link: ") && l.contains(" — "));
    if !summary {
        let said = stderr.trim().trim_start_matches("error: ").to_string();
        if crate::labnet::cannot(&said) {
            return Ok(Err(said));
        }
        return Err(fail(format!(
            "lab {} --experiment {} ended without the link's summary: {said}",
            experiment.lesson, experiment.name
        )));
    }
    let port = stdout.lines().find_map(|l| {
        l.split("(serving on port ")
            .nth(1)?
            .strip_suffix(')')?
            .parse()
            .ok()
    });
    let documented = match crate::registry::find(experiment.lesson)?.partner {
        Partner::HttpServer => HTTP_PORT,
        _ => LISTING_PORT,
    };
    let kept: String = stdout
        .lines()
        .filter(|l| !l.starts_with("lab: ") && !l.starts_with("note: "))
        .map(|l| format!("{l}\n"))
        .collect();
    Ok(Ok(match port {
        Some(port) => with_port(&kept, port, documented),
        None => kept,
    }))
}

fn own_args(lesson: &Lesson) -> Vec<String> {
    lesson.peer_args.iter().map(|a| a.to_string()).collect()
}

fn documented_port(lesson: &Lesson) -> u16 {
    if lesson.partner == Partner::HttpServer {
        HTTP_PORT
    } else {
        LISTING_PORT
    }
}

/// Everything a partner printed on stdout: its banner, then what it logged while serving.
fn partner_text(peer: &Peer) -> String {
    let mut lines = peer.banner.clone();
    lines.extend(pair::peer_lines(peer, Duration::from_millis(300)));
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// What changes from run to run, masked: port numbers in Python's address tuples other than the
/// documented ones, HTTP dates, and the version in a `Server:` line.
pub fn mask(text: &str) -> String {
    let text = &mask_wire_blocks(text);
    let keep = [0, 80, HTTP_PORT, LISTING_PORT];
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        // A lab block shows the response indented, under the command that printed it.
        let body = line.trim_start();
        let header = ["Date:", "Last-Modified:", "Expires:", "Server:"]
            .into_iter()
            .find(|h| body.starts_with(h));
        if let Some(header) = header {
            out.push_str(&line[..line.len() - body.len()]);
            out.push_str(header);
            out.push_str(" <masked>\n");
            continue;
        }
        // A lab run's summary: how many packets the wire saw in all varies by one or two from
        // run to run (whether the closing FIN and ACKs cross before the lab ends); what the seed
        // fixes is which were dropped.
        if let Some((head, tail)) = line
            .split_once(" — ")
            .filter(|_| line.starts_with("link: "))
        {
            if let Some((dropped, rest)) = tail.split_once(" of ") {
                let digits = rest.chars().take_while(char::is_ascii_digit).count();
                out.push_str(&format!("{head} — {dropped} of <n>{}", &rest[digits..]));
                continue;
            }
        }
        // http.server's log line: `192.0.2.1 - - [01/Dec/2026 01:37:55] "GET …`.
        if let (Some(open), Some(close)) = (line.find(" - - ["), line.find("] \"")) {
            if open < close {
                out.push_str(&line[..open + 6]);
                out.push_str("<time>");
                out.push_str(&line[close..]);
                continue;
            }
        }
        let mut rest = line;
        while let Some(at) = rest.find("', ") {
            let (head, tail) = rest.split_at(at + 3);
            out.push_str(head);
            let digits = tail.chars().take_while(char::is_ascii_digit).count();
            let number: Option<u16> = tail[..digits].parse().ok();
            match number {
                Some(port) if !keep.contains(&port) => out.push_str("<port>"),
                _ => out.push_str(&tail[..digits]),
            }
            rest = &tail[digits..];
        }
        out.push_str(rest);
    }
    out
}

/// docs/README.md with the course map between its markers written from the registry.
fn with_map(text: &str) -> String {
    let (Some(start), Some(end)) = (text.find(MAP_START), text.find(MAP_END)) else {
        return text.to_string();
    };
    format!("{}{MAP_START}\n{}{}", &text[..start], map(), &text[end..])
}

/// The course map table, one row per registry lesson.
pub fn map() -> String {
    // Four columns of prose and one of commands: each command stays on one line (course.css), and
    // what to start first sits above the command it comes before, so the table fits a laptop.
    let mut table = String::from(
        "| # | lesson | listing (chapter, title) | run it (its partner first) | socket calls it teaches |\n\
         |---|---|---|---|---|\n",
    );
    for (i, l) in LESSONS.iter().enumerate() {
        let first = match l.partner {
            Partner::Lesson(name) if l.role == Role::Client => {
                format!("with [{name}](lessons/{name}.md) running:<br>")
            }
            Partner::HttpServer => {
                "`python3 -m http.server --bind 127.0.0.1 8000`, then<br>".into()
            }
            Partner::Lesson(_) | Partner::None => String::new(),
        };
        let then = match l.partner {
            Partner::Lesson(name) if l.role == Role::Server => {
                format!("<br>then [{name}](lessons/{name}.md)")
            }
            _ => String::new(),
        };
        let _ = writeln!(
            table,
            "| {} | [{}](lessons/{}.md) | ch. {}, {} | {first}`{}`{then} | {} |",
            i + 1,
            l.name,
            l.name,
            l.chapter,
            l.listing,
            l.run_command().replace('|', "\\|"),
            l.teaches
        );
    }
    table
}

/// The page with each `wire` block's ladder replaced by [`crate::record::mask`]'s form of it.
fn mask_wire_blocks(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.split_inclusive('\n');
    while let Some(line) = lines.next() {
        out.push_str(line);
        let is_wire = line
            .trim()
            .strip_prefix(MARKER)
            .is_some_and(|rest| rest.split_whitespace().nth(1) == Some("wire"));
        if !is_wire {
            continue;
        }
        let Some(fence) = lines.next() else { break };
        out.push_str(fence);
        let mut block = String::new();
        for inner in lines.by_ref() {
            if inner.trim() == "```" {
                out.push_str(&crate::record::mask(&block));
                out.push_str(inner);
                break;
            }
            block.push_str(inner);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "intro\n<!-- course:transcript socket-info output -->\n```text\nold line\n```\nmiddle\n<!-- course:transcript socket-info partner -->\n```\n```\nend\n";

    /// Markers are found in order, and each block's contents are replaced, fences kept.
    #[test]
    fn fills_marked_blocks() {
        let asked = requests(PAGE);
        assert_eq!(
            asked,
            [
                Request {
                    lesson: "socket-info".into(),
                    part: "output".into(),
                    args: Vec::new(),
                },
                Request {
                    lesson: "socket-info".into(),
                    part: "partner".into(),
                    args: Vec::new(),
                },
            ]
        );
        let filled = fill(PAGE, &["new 1\n".to_string(), "new 2".to_string()]).unwrap();
        assert_eq!(
            filled,
            PAGE.replace("old line\n", "new 1\n")
                .replace("```\n```\nend", "```\nnew 2\n```\nend")
        );
        // A wire block may name the lesson's own arguments after its part.
        let wire = requests("<!-- course:transcript addr-info wire www.example.com http -->\n");
        assert_eq!(wire[0].args, ["www.example.com", "http"]);
        // An empty body keeps what the page has (a run that could not be made here).
        assert_eq!(fill(PAGE, &[String::new(), String::new()]).unwrap(), PAGE);
        assert!(fill("<!-- course:transcript x output -->\nno fence\n", &[]).is_err());
    }

    /// Masking hides ephemeral ports and HTTP dates, keeps the documented ports.
    #[test]
    fn masks() {
        let masked = mask(
            "Connected from ('127.0.0.1', 41234)\nConnected to ('127.0.0.1', 51423)\nDate: Wed, 25 Nov 2026\n",
        );
        assert_eq!(
            masked,
            "Connected from ('127.0.0.1', <port>)\nConnected to ('127.0.0.1', 51423)\nDate: <masked>\n"
        );
    }

    /// The course map has a row, and a link, for every lesson of the registry.
    #[test]
    fn map_has_every_lesson() {
        let table = map();
        for lesson in LESSONS {
            assert!(table.contains(&format!("[{}](lessons/{}.md)", lesson.name, lesson.name)));
        }
        assert_eq!(table.lines().count(), LESSONS.len() + 2);
    }
}
