//! `cargo course lab`: the lesson pairs across a link that loses, delays, duplicates and reorders
//! packets, as chapters 2 and 3 say networks do; seeded, so a run can be replayed. Also `lab up`,
//! which holds the link for a learner's own commands, and `lab on`, which runs one on a side.

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use lesson_common::{Args, Exit, fail, fail_with, usage};

use crate::labnet::{Lab, SERVER_V4, Settings, Side};
use crate::pair;
use crate::registry::{EXPERIMENTS, Experiment, Input, Lesson, Partner};

pub(crate) const HELP: &str = "\
usage: cargo course lab LESSON [--link SPEC] [--seed N]
       cargo course lab LESSON --experiment NAME
       cargo course lab up [--link SPEC] [--seed N]
       cargo course lab on client|server -- COMMAND [ARGS…]

The lesson and its partner across the lab link: two network namespaces of the tool's own, the
client's (192.0.2.1, 2001:db8::1) and the server's (192.0.2.2, 2001:db8::2), and a wire between them
that decides each packet's fate as SPEC says. Shown and checked as the tour shows the pair, then
what the link did: `link: loss 30% both ways, seed 7 — 2 of 11 packets dropped, 0 duplicated`.
Every random decision comes from the seed; --seed N replays the same decisions for the same packets.

  --experiment NAME   one of the lesson page's \"On a bad link\" experiments (below): its link,
                      its seed and its client's input, so the run is the one the page shows
  up      hold the link until Ctrl-C, and say how to run commands on each side
  on      run COMMAND on a side of the link `lab up` holds (a lesson by its name, nc, python2 …),
          from a second terminal; Ctrl-C on `lab up` ends it too

Needs Linux, /dev/net/tun and unprivileged user namespaces (or root where those are off); nothing
else: no root where they are on, no kernel module beyond tun, no Docker. Without them it says which
is missing, exit 1. Traffic goes only between the two namespaces.

";

pub fn main(args: Vec<String>) -> Result<(), Exit> {
    // `lab on SIDE -- COMMAND…`: the command's own arguments (its --help) are its.
    if args.first().is_some_and(|a| a == "on") {
        return on(&args[1..]);
    }
    let mut args = match Args::parse(args) {
        Err(Exit::Help) => {
            return crate::print(&format!(
                "{HELP}{}{}\n",
                experiments(),
                crate::link::GRAMMAR
            ));
        }
        other => other?,
    };
    let link = args.option("--link")?;
    let seed = args.option("--seed")?;
    let experiment = args.option("--experiment")?;
    let words = args.positional(1)?;
    let Some(what) = words.first() else {
        return Err(usage("give a LESSON, `up` or `on`"));
    };
    let experiment = match experiment {
        None => None,
        Some(_) if what == "up" => return Err(usage("`lab up` runs no experiment")),
        Some(_) if link.is_some() || seed.is_some() => {
            return Err(usage(
                "an experiment has its own link and seed: give --experiment, or --link and --seed",
            ));
        }
        Some(name) => Some(crate::registry::experiment(what, &name)?),
    };
    let settings = match experiment {
        Some(row) => Settings::parse(Some(row.link.to_string()), Some(row.seed.to_string()))?,
        None => Settings::parse(link, seed)?,
    };
    if what == "up" {
        return up(&settings);
    }
    let client = crate::labnet::client_of(crate::registry::find(what)?)?;
    crate::labnet::preflight("cargo course lab")?;
    if let Some(done) = crate::tether::enter_lab(&[])? {
        return done;
    }
    across(client, &settings, &client_run(client, experiment))
}

/// The experiments, for `lab --help`: each as its command and its sentence.
fn experiments() -> String {
    let mut text = String::from("The lesson pages' experiments (`--experiment NAME`):\n");
    for e in EXPERIMENTS {
        let command = format!("  cargo course lab {} --experiment {}", e.lesson, e.name);
        let link = format!("(--link {} --seed {})", e.link, e.seed);
        if command.len() + 3 + link.len() <= 100 {
            text.push_str(&format!("{command}   {link}\n"));
        } else {
            text.push_str(&format!("{command}\n      {link}\n"));
        }
        text.push_str(&crate::text::fill(e.says, "      ", 100));
    }
    text.push('\n');
    text
}

/// How the client runs: as the registry says, or as the experiment changes it.
fn client_run(client: &Lesson, experiment: Option<&Experiment>) -> pair::ClientRun {
    let mut run = pair::ClientRun::of(client);
    // A client that gives up after its timeout has done right if the link dropped its packets:
    // the lab says so once it knows what the link did (`across`).
    run.may_give_up = client.gives_up;
    let Some(experiment) = experiment else {
        return run;
    };
    if !experiment.args.is_empty() {
        run.args = experiment.args.iter().map(|a| a.to_string()).collect();
    }
    if let Input::Xs(n) = experiment.stdin {
        let mut line = vec![b'x'; n];
        line.push(b'\n');
        run.stdin = line;
        run.feed = format!("head -c {n} /dev/zero | tr '\\0' x | ");
    }
    if let Some((checks, ok)) = experiment.checks {
        run.checks = checks;
        run.ok = ok;
    }
    run.gives_up = experiment.gives_up;
    run
}

/// How long the client ran, coarsely enough that a rerun says the same (a page shows it): a SYN
/// sent again costs a whole second, a timeout its seconds; milliseconds are noise.
fn took(name: &str, took: Duration) -> String {
    if took < Duration::from_millis(500) {
        format!("{name} took under half a second")
    } else {
        format!("{name} took about {} s", took.as_secs_f64().round())
    }
}

/// `report` with each very long line cut (a 9000-byte datagram printed back), saying how long
/// what it printed was: the data after the line's label (`Received: `), not the report's indent.
fn shortened(report: &str) -> String {
    const LONGEST: usize = 100;
    let mut out = String::with_capacity(report.len().min(4096));
    for line in report.lines() {
        if line.len() > LONGEST && line.is_char_boundary(60) {
            let printed = line.trim_start();
            let data = printed.split_once(": ").map_or(printed, |(_, data)| data);
            out.push_str(&format!("{}… ({} bytes in all)\n", &line[..60], data.len()));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Inside the lab's namespaces: the pair across the link, shown and checked, then what the link
/// did.
fn across(client: &'static Lesson, settings: &Settings, run: &pair::ClientRun) -> Result<(), Exit> {
    crate::print(
        "lab: building the lessons and the wire (cargo build --package LESSON… --package \
         lab-wire)\n",
    )?;
    crate::workspace::build_with(&["lab-wire"])?;
    // Each packet's fate, to tell a give-up the link caused from one it did not.
    let lab = Lab::start(settings, true)?;
    let mut said = format!("{}\n", settings.said());
    for note in &lab.notes {
        said.push_str(&format!("note: {note}\n"));
    }
    let partner = match client.partner {
        Partner::Lesson(name) => name.to_string(),
        _ => "python3 -m http.server".to_string(),
    };
    said.push_str(&format!(
        "\n=== {} (client side, 192.0.2.1) → {partner} (server side, 192.0.2.2) ===\n",
        client.name
    ));
    crate::print(&said)?;
    let start = |command: &mut Command| lab.start_on(Side::Server, command);
    let place = pair::Place {
        server: SERVER_V4,
        client: crate::labnet::CLIENT_V4,
        start: &start,
    };
    let began = crate::link::log::unix_micros(std::time::SystemTime::now());
    let outcome = pair::show_and_check_as(client, &place, run);
    let report = match &outcome {
        Ok((
            pair::Step::Passed(report) | pair::Step::Failed(report) | pair::Step::GaveUp(report),
            time,
        )) => {
            format!("{}{}\n", shortened(report), took(client.name, *time))
        }
        Err(pair::Skip(why)) => format!("  skipped ({why})\n"),
    };
    crate::print(&report)?;
    let finished = lab.finish()?;
    crate::print(&format!("\n{}\n", finished.summary))?;
    match outcome {
        Ok((pair::Step::Passed(_), _)) => Ok(()),
        Ok((pair::Step::Failed(_), _)) => Err(Exit::Quiet),
        Ok((pair::Step::GaveUp(_), took)) => {
            // The client's run ended about `took` after `began` (a little later: its partner
            // started first), so a packet that left the wire after that came too late for it.
            let ended = began.saturating_add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
            let (lost, late) = too_late(&finished.events, began, ended);
            let total = finished.towards_server.plus(finished.towards_client);
            let packets = if total.offered == 1 {
                "packet"
            } else {
                "packets"
            };
            if lost + late > 0 {
                // What a client with a timeout should do when its packets are lost or held
                // past its patience.
                let mut why = Vec::new();
                if lost > 0 {
                    why.push(format!("dropped {lost}"));
                }
                if late > 0 {
                    why.push(format!("delivered {late} only after it had given up"));
                }
                crate::print(&format!(
                    "{} gave up: of {} {packets} the link {}\n",
                    client.name,
                    total.offered,
                    why.join(" and ")
                ))
            } else {
                crate::print(&format!(
                    "  FAIL: {} gave up, though the link delivered all {} of its {packets} in time\n",
                    client.name, total.offered
                ))?;
                Err(Exit::Quiet)
            }
        }
        Err(pair::Skip(why)) => Err(fail(why)),
    }
}

/// Of the packets that came to the wire from `began` to `ended` (µs on the machine's clock), how
/// many died on the link, and how many it delivered only after `ended`.
fn too_late(events: &[crate::link::log::Event], began: u64, ended: u64) -> (usize, usize) {
    let during = events
        .iter()
        .filter(|e| (began..=ended).contains(&e.arrived_us));
    during.fold((0, 0), |(lost, late), e| match e.left_us {
        None => (lost + 1, late),
        Some(left) if left > ended => (lost, late + 1),
        Some(_) => (lost, late),
    })
}

/// The file where `lab up` says where its link is, for `lab on`.
fn state_file() -> Result<PathBuf, Exit> {
    Ok(crate::workspace::root()?.join("target/lab/up"))
}

/// The process of a `lab up` that still holds its link, if its record names one.
fn held_by() -> Result<Option<String>, Exit> {
    let record = std::fs::read_to_string(state_file()?).unwrap_or_default();
    Ok(record
        .lines()
        .find_map(|l| l.strip_prefix("pid "))
        .filter(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists())
        .map(str::to_string))
}

/// `lab up`: hold the link until Ctrl-C.
fn up(settings: &Settings) -> Result<(), Exit> {
    crate::labnet::preflight("cargo course lab up")?;
    if let Some(pid) = held_by()? {
        return Err(fail(format!(
            "a lab link is up already (process {pid}): use it with `cargo course lab on`, or end \
             it with Ctrl-C in its terminal first"
        )));
    }
    if let Some(done) = crate::tether::enter_lab(&[])? {
        return done;
    }
    crate::print("lab: building the lessons and the wire\n")?;
    crate::workspace::build_with(&["lab-wire"])?;
    let lab = Lab::start(settings, false)?;
    // Where the link is: this process (process 1 of the lab's PID namespace, the machine's pid
    // here), its user namespace, and each side's network namespace.
    let me = crate::tether::pid();
    let state = state_file()?;
    if let Some(folder) = state.parent() {
        std::fs::create_dir_all(folder)
            .map_err(|e| fail_with(format!("cannot make {}", folder.display()), e))?;
    }
    let record = format!(
        "pid {me}\nclient {}\nserver {}\n",
        lab.client_file, lab.server_file
    );
    std::fs::write(&state, record)
        .map_err(|e| fail_with(format!("cannot write {}", state.display()), e))?;
    let mut said = format!("lab: the link is up. {}\n", settings.said());
    for note in &lab.notes {
        said.push_str(&format!("note: {note}\n"));
    }
    let seed = settings.seed;
    said.push_str(&format!(
        "  client side: 192.0.2.1 and 2001:db8::1
  server side: 192.0.2.2 and 2001:db8::2
In a second terminal, run any command on a side: a lesson by its name, nc, your listing.
  cargo course lab on server -- tcp-listener --bind 192.0.2.2 1060
  cargo course lab on client -- socket-info 192.0.2.2 1060
  cargo course lab on client -- python2 LISTING.py 192.0.2.2 1060
--seed {seed} replays these decisions for the same commands run in the same order (the draws
follow the packets as they come). Ctrl-C here ends the link and everything started on it.
"
    ));
    crate::print(&said)?;
    // Ctrl-C is how it ends: say then what the link did (before its wire is stopped with the
    // rest), and forget where it was.
    let held = Arc::new(Mutex::new(Some(lab)));
    let last = held.clone();
    let forget = state.clone();
    crate::on_interrupt_first(move || {
        let _ = std::fs::remove_file(&forget);
        let lab = last.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(Ok(finished)) = lab.map(Lab::finish) {
            use std::io::Write as _;
            let _ = writeln!(std::io::stdout(), "\n{}", finished.summary);
        }
    });
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let mut lab = held.lock().unwrap_or_else(PoisonError::into_inner);
        if lab.as_mut().is_some_and(|lab| !lab.running()) {
            let _ = std::fs::remove_file(&state);
            return Err(fail("the lab's wire ended by itself"));
        }
    }
}

/// `lab on SIDE -- COMMAND [ARGS…]`: run COMMAND on a side of the link `lab up` holds.
fn on(args: &[String]) -> Result<(), Exit> {
    let (side, command) = match args {
        [side, dashes, command @ ..] if dashes == "--" && !command.is_empty() => (side, command),
        [side, command @ ..] if !command.is_empty() && command[0] != "--" => (side, command),
        _ => {
            return Err(usage(
                "give a side and a command: lab on client|server -- COMMAND",
            ));
        }
    };
    let side = Side::parse(side)?;
    if !cfg!(target_os = "linux") {
        return crate::labnet::preflight("cargo course lab on");
    }
    let state = state_file()?;
    let record = std::fs::read_to_string(&state).map_err(|_| {
        fail("no lab link is up: start one with `cargo course lab up` in another terminal")
    })?;
    let field = |name: &str| {
        record
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .map(str::to_string)
            .ok_or_else(|| {
                fail(format!(
                    "{} is not a lab's record (no {name})",
                    state.display()
                ))
            })
    };
    let pid = field("pid")?;
    let net = field(side.name())?;
    if !std::path::Path::new(&net).exists() {
        return Err(fail(
            "the lab link that was up is gone: start one with `cargo course lab up`",
        ));
    }
    // A lesson by its name is its built binary; anything else runs as given.
    let (program, rest) = command.split_first().unwrap_or((&command[0], &[]));
    let program = match crate::registry::find(program) {
        Ok(lesson) => crate::workspace::binary(lesson.name)?
            .to_string_lossy()
            .into_owned(),
        Err(_) => program.clone(),
    };
    // nsenter (util-linux, as unshare): into the lab's user namespace (where the lab is root,
    // unless it was made by root without one), its PID namespace (so Ctrl-C on `lab up` ends
    // this too), and the side's network namespace.
    let mut nsenter = Command::new("nsenter");
    let user = format!("/proc/{pid}/ns/user");
    if std::fs::read_link(&user).ok() != std::fs::read_link("/proc/self/ns/user").ok() {
        nsenter.arg(format!("--user={user}"));
    }
    nsenter
        .arg(format!("--pid=/proc/{pid}/ns/pid"))
        .arg(format!("--net={net}"))
        .arg("--")
        .arg(&program)
        .args(rest);
    let status = test_support::process::run_inherited(&mut nsenter)
        .map_err(|e| fail_with("cannot run nsenter (util-linux)", e))?;
    if status.success() {
        return Ok(());
    }
    // The command's own exit, as a shell gives it: its code, or 128 + the signal that ended it.
    #[cfg(unix)]
    let signal = std::os::unix::process::ExitStatusExt::signal(&status);
    #[cfg(not(unix))]
    let signal: Option<i32> = None;
    let code = status.code().or(signal.map(|s| 128 + s)).unwrap_or(1);
    // Ended under it: `lab up` went, and its PID namespace with everything in it.
    if held_by()?.is_none() {
        eprintln!("error: the lab link went down (Ctrl-C on `lab up`)");
    }
    crate::set_exit_code(u8::try_from(code).unwrap_or(1).max(1));
    Err(Exit::Quiet)
}

#[cfg(test)]
mod tests {
    /// A cut line counts the data it printed, not the report's indent or the `Received: ` label.
    #[test]
    fn a_cut_line_counts_its_data() {
        let line = format!("    Received: {}\n", "x".repeat(8192));
        let cut = super::shortened(&line);
        assert!(cut.ends_with("… (8192 bytes in all)\n"), "{cut}");
    }

    use super::too_late;
    use crate::link::Direction;
    use crate::link::log::{Event, Fate};

    fn event(arrived_us: u64, left_us: Option<u64>) -> Event {
        Event {
            direction: Direction::ToServer,
            number: 1,
            arrived_us,
            left_us,
            fate: if left_us.is_some() {
                Fate::Sent
            } else {
                Fate::Lost
            },
            bytes: Vec::new(),
            words: String::new(),
        }
    }

    /// A give-up is the link's doing when, of the packets sent during the run, one died or came
    /// only after the run ended; packets before the run, or delivered in time, do not count.
    #[test]
    fn counts_what_died_or_came_too_late_during_the_run() {
        let events = [
            event(50, None),         // before the run: not its packet
            event(100, Some(150)),   // delivered in time
            event(200, None),        // dropped
            event(300, Some(1_500)), // delivered after the run ended at 1000
            event(2_000, None),      // after the run
        ];
        assert_eq!(too_late(&events, 100, 1_000), (1, 1));
        assert_eq!(too_late(&events[..2], 100, 1_000), (0, 0));
    }
}
