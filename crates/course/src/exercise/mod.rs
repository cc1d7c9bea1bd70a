//! `cargo course exercise`: the course's exercises, checked against real peers on loopback. Each
//! exercise is a lesson's copy with something missing or wrong (`crates/exercises/src/bin`), its
//! solution beside it (`crates/exercises/solutions`); the checker plays the peer
//! ([`conversation`]), one check function per exercise ([`checks`]), all listed in [`table`].

pub mod checks;
pub mod conversation;
pub mod lablink;
pub mod namespace;
pub mod state;
pub mod table;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use lesson_common::{Exit, fail, fail_with, usage};
use test_support::process;

use conversation::{Conversation, Verdict};
use state::Progress;
use table::{EXERCISES, Exercise};

pub(crate) const HELP: &str = "\
usage: cargo course exercise [NAME [--watch] [--hint] [--solution] [--seed N]]
       cargo course exercise --reset NAME | --dev-check

The exercises: each a lesson's program with something missing or wrong, marked TODO, in
crates/exercises/src/bin/NAME.rs, with a page in docs/exercises/NAME.md. The checker plays the
other side over real sockets on 127.0.0.1 and tells, step by step, what it did and what came back.

  (nothing)        the list, done or pending, and which is next
  NAME             build the exercise (cargo build -p exercises --bin NAME) and check it; once
                   it passes, its solution is shown
  NAME --watch     check, then again on every save of the file (it polls the file's
                   modification time twice a second); Ctrl-C ends it
  NAME --hint      the hint
  NAME --solution  the solution (crates/exercises/solutions/NAME.rs)
  NAME --seed N    replay the check's random choices of an earlier run (its report names N)
  --reset NAME     put back the file as shipped: as in the newest commit of the course your branch
                   has (git merge-base HEAD origin/HEAD) where there is an origin/HEAD, else as in
                   your last commit (HEAD); an edited file is first saved beside it, NAME.rs.mine
  --dev-check      the course's own check: each exercise fails as shipped, each solution passes
                   (several seeds), hints and TODOs are there, every file is in the table, and the
                   checker's failure messages match their golden texts

Exit 0: passed (or done); 1: not passed, did not build, or cannot run here; 2: a bad command line
or a progress file (crates/exercises/.progress) that is not as the tool wrote it.";

/// What the command line asked for.
#[derive(Default)]
struct Options {
    name: Option<String>,
    watch: bool,
    hint: bool,
    solution: bool,
    seed: Option<u64>,
    reset: bool,
    dev_check: bool,
}

fn parse(args: &[String]) -> Result<Options, Exit> {
    let mut options = Options::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--watch" => options.watch = true,
            "--hint" => options.hint = true,
            "--solution" => options.solution = true,
            "--reset" => options.reset = true,
            "--dev-check" => options.dev_check = true,
            "--seed" => {
                let value = args.next().ok_or_else(|| usage("--seed needs a number"))?;
                let seed = value
                    .parse()
                    .map_err(|_| usage(format!("--seed '{value}' is not a whole number")))?;
                options.seed = Some(seed);
            }
            flag if flag.starts_with('-') => {
                return Err(usage(format!("exercise has no option '{flag}'")));
            }
            name if options.name.is_none() => options.name = Some(name.to_string()),
            extra => return Err(usage(format!("one exercise at a time, not also '{extra}'"))),
        }
    }
    if let Some(name) = &options.name
        && table::find(name).is_none()
    {
        return Err(usage(format!(
            "unknown exercise '{name}' (one of: {})",
            table::names()
        )));
    }
    if (options.hint || options.solution || options.watch) && options.name.is_none() {
        return Err(usage(format!(
            "--hint, --solution and --watch take an exercise's name (one of: {})",
            table::names()
        )));
    }
    let alone = options.dev_check && (options.name.is_some() || options.reset);
    if alone || (options.reset && options.name.is_none()) {
        return Err(usage(
            "--reset takes an exercise's name, and --dev-check goes alone",
        ));
    }
    Ok(options)
}

pub fn main(args: Vec<String>) -> Result<(), Exit> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return crate::print(&format!("{HELP}\n"));
    }
    let options = parse(&args)?;
    // A hand-edited progress file is said at once, whatever was asked.
    let progress = Progress::load()?;
    let Some(name) = &options.name else {
        if options.dev_check {
            return dev_check();
        }
        return crate::print(&list(&progress));
    };
    let exercise = table::find(name).ok_or_else(|| fail("no such exercise"))?;
    // The copy of the tool that runs a check in its own namespaces (namespace::check_inside).
    if let Some(program) = namespace::inside() {
        return namespace::run_inside(exercise, program, options.seed.unwrap_or(1));
    }
    if options.reset {
        return reset(exercise);
    }
    if options.hint {
        return crate::print(&format!("hint for {name}: {}\n", exercise.hint));
    }
    if options.solution {
        return show_solution(exercise);
    }
    // Checking starts programs: the rest runs as process 1 of a private PID namespace where
    // Linux allows one, so nothing outlives the tool, even after a SIGKILL. A check across the
    // lab link runs inside the lab's namespaces instead (a PID namespace too): it cannot be
    // entered from inside the first.
    if exercise.needs == table::Needs::LabLink {
        let entered =
            crate::labnet::preflight("this check").and_then(|()| crate::tether::enter_lab(&[]));
        match entered {
            Ok(Some(done)) => return done,
            Ok(None) => {}
            Err(why) => {
                crate::print(&format!("{name}: cannot run here: {}\n", why.words()))?;
                return Err(Exit::Quiet);
            }
        }
    } else if let Some(done) = crate::tether::enter(&[])? {
        return done;
    }
    if options.watch {
        return watch(exercise, options.seed, progress);
    }
    let passed = check_and_record(exercise, options.seed, progress)?;
    if passed { Ok(()) } else { Err(Exit::Quiet) }
}

/// The list, done or pending, and the next one.
fn list(progress: &Progress) -> String {
    // The names' column as wide as the longest name, and the heading's with it.
    let width = EXERCISES
        .iter()
        .map(|e| e.name.len())
        .max()
        .unwrap_or(0)
        .max(8)
        + 1;
    let mut out = format!(
        "{:<3} {:<width$} {:<16} {:<20} status\n",
        "#", "exercise", "lesson", "needs"
    );
    let next = EXERCISES.iter().find(|e| !progress.is_done(e.name));
    for (i, e) in EXERCISES.iter().enumerate() {
        let status = if progress.is_done(e.name) {
            "done"
        } else if next.is_some_and(|n| n.name == e.name) {
            "pending  ← next"
        } else {
            "pending"
        };
        let _ = writeln!(
            out,
            "{:<3} {:<width$} {:<16} {:<20} {status}",
            i + 1,
            e.name,
            e.lesson,
            e.needs.words()
        );
    }
    let done = EXERCISES
        .iter()
        .filter(|e| progress.is_done(e.name))
        .count();
    let _ = writeln!(out, "\n{done} of {} done.", EXERCISES.len());
    match next {
        Some(e) => {
            let _ = writeln!(
                out,
                "next: {} — {}\n  read docs/exercises/{}.md, edit crates/exercises/src/bin/{}.rs, \
                 then: cargo course exercise {} --watch",
                e.name, e.title, e.name, e.name, e.name
            );
        }
        None => out.push_str("Every exercise passes.\n"),
    }
    out
}

fn exercise_file(root: &Path, name: &str) -> PathBuf {
    root.join(format!("crates/exercises/src/bin/{name}.rs"))
}

fn solution_file(root: &Path, name: &str) -> PathBuf {
    root.join(format!("crates/exercises/solutions/{name}.rs"))
}

fn show_solution(exercise: &Exercise) -> Result<(), Exit> {
    let path = solution_file(&crate::workspace::root()?, exercise.name);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| fail_with(format!("cannot read {}", path.display()), e))?;
    crate::print(&format!(
        "the solution of {} (crates/exercises/solutions/{}.rs; it builds as {}-solution):\n\n{text}",
        exercise.name, exercise.name, exercise.name
    ))
}

/// `cargo build -p exercises --bin …` with cargo's progress on the terminal: whether it built.
fn build(bins: &[String]) -> Result<bool, Exit> {
    if std::env::var_os("COURSE_NO_BUILD").is_some() {
        return Ok(true);
    }
    let root = crate::workspace::root()?;
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    // The course tool in the selection too (fresh already; no target of it named here is built):
    // cargo resolves features over the packages it is given, and the exercises' own selection
    // would give libc other features than the tool's build did, compiling libc, socket2,
    // dns-lookup and lesson-common a second time (as crate::workspace::build says).
    command.args([
        "build",
        "--locked",
        "--package",
        "exercises",
        "--package",
        "course",
        "--manifest-path",
    ]);
    command.arg(root.join("Cargo.toml"));
    let shown: Vec<String> = bins.iter().map(|b| format!("--bin {b}")).collect();
    for bin in bins {
        command.args(["--bin", bin]);
    }
    crate::print(&format!(
        "exercise: building (cargo build -p exercises {})\n",
        shown.join(" ")
    ))?;
    let built = match process::run_inherited(&mut command) {
        Ok(status) => status.success(),
        Err(e) => return Err(fail_with("cannot run cargo", e)),
    };
    // A check across the lab link needs the lab's wire too.
    let lab = bins.iter().any(|b| {
        table::find(b.trim_end_matches("-solution"))
            .is_some_and(|e| e.needs == table::Needs::LabLink)
    });
    if !built || !lab {
        return Ok(built);
    }
    let mut wire = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    wire.args([
        "build",
        "--locked",
        "--package",
        "lab-wire",
        "--manifest-path",
    ]);
    wire.arg(root.join("Cargo.toml"));
    match process::run_inherited(&mut wire) {
        Ok(status) => Ok(status.success()),
        Err(e) => Err(fail_with("cannot run cargo", e)),
    }
}

/// Check the program `binary` as exercise `exercise` with `seed`: the report, its verdict, and the
/// ports it used (for masking). The one entry the command, `--dev-check` and the tests share.
pub fn check_binary(
    exercise: &Exercise,
    binary: PathBuf,
    seed: u64,
) -> (String, Verdict, Vec<u16>) {
    let inside = namespace::inside().is_some();
    if !inside && let Err(why) = exercise.needs.available() {
        return (
            format!("{}: cannot run here: {why}\n", exercise.name),
            Verdict::CannotRun(why),
            Vec::new(),
        );
    }
    if !inside && exercise.needs == table::Needs::Namespace {
        return namespace::check_inside(exercise, &binary, seed);
    }
    let mut conversation = Conversation::new(exercise.name, binary, seed);
    let failure = (exercise.check)(&mut conversation).err();
    let ports = conversation.ports();
    let replay = format!("cargo course exercise {}", exercise.name);
    let (report, verdict) = conversation.report(exercise.question, failure, &replay);
    (report, verdict, ports)
}

/// Build and check one exercise, print the report, and note a pass: whether it passed.
fn check_and_record(
    exercise: &Exercise,
    seed: Option<u64>,
    mut progress: Progress,
) -> Result<bool, Exit> {
    let seed = seed.unwrap_or_else(crate::link::fresh_seed);
    if !build(&[exercise.name.to_string()])? {
        crate::print(&format!(
            "\nverdict: did not build (cargo's errors are above; the file is \
             crates/exercises/src/bin/{}.rs)\n",
            exercise.name
        ))?;
        return Ok(false);
    }
    let binary = crate::workspace::binary(exercise.name)?;
    let (report, verdict, _) = check_binary(exercise, binary, seed);
    crate::print(&format!("\n{report}"))?;
    if verdict != Verdict::Passed {
        if !matches!(verdict, Verdict::CannotRun(_)) {
            crate::print(&format!(
                "\nstuck? cargo course exercise {} --hint\n",
                exercise.name
            ))?;
        }
        return Ok(false);
    }
    let first = !progress.is_done(exercise.name);
    progress.mark_done(exercise.name)?;
    if first {
        show_solution(exercise)?;
    } else {
        crate::print(&format!(
            "(passed before too; its solution: cargo course exercise {} --solution)\n",
            exercise.name
        ))?;
    }
    Ok(true)
}

/// Check now, then on every change of the file's modification time, until Ctrl-C.
fn watch(exercise: &Exercise, seed: Option<u64>, progress: Progress) -> Result<(), Exit> {
    let file = exercise_file(&crate::workspace::root()?, exercise.name);
    // One seed for the whole watch: each save is checked against the same peer's choices, so a
    // change in the report is the learner's edit, not a new draw.
    let seed = Some(seed.unwrap_or_else(crate::link::fresh_seed));
    let modified =
        |file: &Path| -> Option<SystemTime> { std::fs::metadata(file).ok()?.modified().ok() };
    let mut progress = Some(progress);
    // The first round always checks; after that, a change of the modification time does. A file
    // that is gone is said once, and polled quietly until it is back.
    let mut seen = None;
    let mut first = true;
    loop {
        let now = modified(&file);
        if now.is_none() && (first || seen.is_some()) {
            seen = None;
            first = false;
            crate::print(&format!(
                "\nthe file is gone: `cargo course exercise --reset {}` brings it back (watching \
                 for it to return).\n",
                exercise.name
            ))?;
        } else if now.is_some() && (first || now != seen) {
            seen = now;
            first = false;
            let progress = match progress.take() {
                Some(progress) => progress,
                None => Progress::load()?,
            };
            check_and_record(exercise, seed, progress)?;
            crate::print(&format!(
                "\nwatching crates/exercises/src/bin/{}.rs: it polls the file's modification \
                 time twice a second and checks again on every save. Ctrl-C ends it.\n",
                exercise.name
            ))?;
        }
        if crate::interrupted() {
            return Err(Exit::Quiet);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Put back the shipped file from git: from the merge base of `HEAD` and `origin/HEAD` (the
/// course as the learner has it) when that ref exists, so a learner who committed their work does
/// not get their own commit back, nor a fetched newer course's file; else from `HEAD`. An edited
/// file is first saved beside it.
fn reset(exercise: &Exercise) -> Result<(), Exit> {
    let root = crate::workspace::root()?;
    let relative = format!("crates/exercises/src/bin/{}.rs", exercise.name);
    let git = |args: &[&str]| {
        let mut git = Command::new("git");
        git.arg("-C").arg(&root).args(args);
        process::run_bounded(&mut git, b"", Duration::from_secs(20))
    };
    // The newest commit of the course that the learner's branch contains: the merge base with
    // origin/HEAD, not origin/HEAD itself, which a `git fetch` moves past what the checkout (and
    // its checker) is.
    let base = git(&["merge-base", "HEAD", "origin/HEAD"])
        .ok()
        .filter(|out| out.status.is_some_and(|s| s.success()))
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|base| !base.is_empty());
    let (from, whence) = if let Some(base) = &base {
        (
            base.as_str(),
            "the course as you have it from origin: git merge-base HEAD origin/HEAD",
        )
    } else {
        (
            "HEAD",
            "your last commit, HEAD: this clone has no origin/HEAD",
        )
    };
    let shipped = match git(&["show", &format!("{from}:{relative}")]) {
        Ok(out) if out.status.is_some_and(|s| s.success()) => out.stdout,
        Ok(out) => {
            return Err(fail(format!(
                "cannot restore {relative}: `git show {from}:{relative}` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Err(e) => return Err(fail_with(format!("cannot restore {relative}: git"), e)),
    };
    let file = root.join(&relative);
    let said = match std::fs::read(&file) {
        Ok(current) if current == shipped => {
            format!("{relative} is already as shipped (in {whence}).\n")
        }
        Ok(current) => {
            let saved = free_name(&file);
            std::fs::write(&saved, current).map_err(|e| {
                fail_with(
                    format!("cannot save your version to {}", saved.display()),
                    e,
                )
            })?;
            std::fs::write(&file, &shipped)
                .map_err(|e| fail_with(format!("cannot write {relative}"), e))?;
            format!(
                "{relative} is as shipped again (from {whence}). Your version is saved in {}\n",
                saved.strip_prefix(&root).unwrap_or(&saved).display()
            )
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::write(&file, &shipped)
                .map_err(|e| fail_with(format!("cannot write {relative}"), e))?;
            format!("{relative} was missing; it is back as shipped (from {whence}).\n")
        }
        Err(e) => return Err(fail_with(format!("cannot read {relative}"), e)),
    };
    crate::print(&said)
}

/// `NAME.rs.mine`, or `NAME.rs.mine.2`, … : the first that does not exist (never overwritten).
fn free_name(file: &Path) -> PathBuf {
    let base = format!("{}.mine", file.display());
    (1..)
        .map(|n| {
            if n == 1 {
                PathBuf::from(&base)
            } else {
                PathBuf::from(format!("{base}.{n}"))
            }
        })
        .find(|path| !path.exists())
        .unwrap_or_else(|| PathBuf::from(base))
}

/// The deliberately wrong programs and the exercise each is checked as, for the golden texts in
/// `crates/exercises/golden/EXERCISE.PROGRAM.txt`: one exits at once, one hangs, one prints a
/// server's words without serving.
pub const GOLDENS: &[(&str, &str)] = &[
    ("listener-reset", "wrong-exits"),
    ("fetch-short-body", "wrong-hangs"),
    ("listener-idle", "wrong-cheats"),
];

/// The seed of the golden runs.
const GOLDEN_SEED: u64 = 1;

/// Check each wrong program and hold its masked report against its golden text: what differs,
/// one item each. `COURSE_BLESS=1` writes the texts instead. The reports name Linux's error
/// texts, so elsewhere this says it is skipped.
pub fn golden_problems() -> Result<Vec<String>, Exit> {
    if !cfg!(target_os = "linux") {
        process::note_skipped("exercise goldens: the golden texts are Linux runs");
        return Ok(Vec::new());
    }
    let root = crate::workspace::root()?;
    let bless = std::env::var_os("COURSE_BLESS").is_some();
    let runs: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = GOLDENS
            .iter()
            .map(|&(name, wrong)| {
                // Exit is not Send: a thread's error comes back as its words.
                scope.spawn(move || -> Result<(String, String, String), String> {
                    let exercise =
                        table::find(name).ok_or_else(|| format!("no exercise {name}"))?;
                    let binary = crate::workspace::binary(wrong).map_err(|e| e.words())?;
                    let (report, _, ports) = check_binary(exercise, binary, GOLDEN_SEED);
                    Ok((
                        name.to_string(),
                        wrong.to_string(),
                        conversation::mask(&report, &ports),
                    ))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a golden run panicked".to_string()))
            })
            .collect()
    });
    let mut problems = Vec::new();
    for run in runs {
        let (name, wrong, masked) = run.map_err(fail)?;
        let path = root.join(format!("crates/exercises/golden/{name}.{wrong}.txt"));
        if bless {
            std::fs::write(&path, &masked)
                .map_err(|e| fail_with(format!("cannot write {}", path.display()), e))?;
            continue;
        }
        let golden = std::fs::read_to_string(&path).unwrap_or_default();
        if golden != masked {
            problems.push(format!(
                "the checker's report on {wrong} as {name} differs from {} (COURSE_BLESS=1 \
                 rewrites it):\n{}",
                path.display(),
                crate::text::diff(&path.display().to_string(), &golden, &masked)
            ));
        }
    }
    Ok(problems)
}

/// The files: every exercise of the table has its program with a TODO, its solution without
/// one, its page, its lesson, a hint and a question; every program in the folder is in the table.
fn file_problems(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for e in EXERCISES {
        let program = std::fs::read_to_string(exercise_file(root, e.name)).unwrap_or_default();
        if !program.contains("TODO") {
            problems.push(format!(
                "crates/exercises/src/bin/{}.rs: missing, or no TODO marker",
                e.name
            ));
        }
        let solution = std::fs::read_to_string(solution_file(root, e.name)).unwrap_or_default();
        if solution.is_empty() || solution.contains("TODO") {
            problems.push(format!(
                "crates/exercises/solutions/{}.rs: missing, or still has a TODO",
                e.name
            ));
        }
        if !root.join(format!("docs/exercises/{}.md", e.name)).is_file() {
            problems.push(format!("docs/exercises/{}.md is missing", e.name));
        }
        if crate::registry::find(e.lesson).is_err() {
            problems.push(format!(
                "{}: its lesson '{}' is not in the registry",
                e.name, e.lesson
            ));
        }
        if e.hint.trim().is_empty() || e.question.trim().is_empty() {
            problems.push(format!("{}: no hint or no question", e.name));
        }
    }
    let folder = root.join("crates/exercises/src/bin");
    let files = std::fs::read_dir(&folder)
        .map(|d| d.flatten().collect::<Vec<_>>())
        .unwrap_or_default();
    for entry in files {
        let path = entry.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_some_and(|x| x == "rs") && table::find(stem).is_none() {
            problems.push(format!(
                "crates/exercises/src/bin/{stem}.rs is not in the exercise table \
                 (crates/course/src/exercise/table.rs)"
            ));
        }
    }
    problems
}

/// The seeds a solution is checked with: several where the check draws on them.
fn seeds(exercise: &Exercise) -> &'static [u64] {
    if exercise.seeded { &[1, 2, 3] } else { &[1] }
}

/// `--dev-check`; see the help.
fn dev_check() -> Result<(), Exit> {
    // Inside the lab's namespaces where the lab can run (its PID namespace ties everything to
    // the tool as the plain one does), so the lab-link exercises are checked too; elsewhere the
    // plain tether, and they are noted as skipped.
    let entered = match crate::labnet::preflight("the lab link")
        .and_then(|()| crate::tether::enter_lab(&[]))
    {
        Ok(entered) => entered,
        Err(why) => {
            process::note_skipped(&format!("the lab link: {}", why.words()));
            crate::tether::enter(&[])?
        }
    };
    if let Some(done) = entered {
        return done;
    }
    if crate::tether::in_lab() {
        // The lab's client side starts with its loopback down; the other checks use 127.0.0.1.
        let mut up = Command::new("ip");
        up.args(["link", "set", "lo", "up"]);
        let works = process::run_bounded(&mut up, b"", Duration::from_secs(5))
            .is_ok_and(|o| o.status.is_some_and(|s| s.success()));
        if !works {
            return Err(fail(
                "cannot bring up the loopback in the lab's namespace (`ip link set lo up`)",
            ));
        }
    }
    let root = crate::workspace::root()?;
    let mut problems = file_problems(&root);
    let mut bins: Vec<String> = Vec::new();
    for e in EXERCISES {
        bins.push(e.name.to_string());
        bins.push(format!("{}-solution", e.name));
    }
    for (_, wrong) in GOLDENS {
        if !bins.iter().any(|b| b == wrong) {
            bins.push((*wrong).to_string());
        }
    }
    if !build(&bins)? {
        return Err(fail("cargo could not build the exercises (see above)"));
    }
    // Every exercise at once (each on ports of its own): the slowest sets the time.
    let results: Vec<Result<Vec<String>, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = EXERCISES
            .iter()
            .map(|e| scope.spawn(move || dev_check_one(e).map_err(|e| e.words())))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a check panicked".into())))
            .collect()
    });
    let mut lines = String::new();
    let mut skipped: Vec<String> = Vec::new();
    for result in results {
        for line in result.map_err(fail)? {
            if line.starts_with("PROBLEM") {
                problems.push(line.clone());
            }
            if let Some(why) = line.strip_prefix("skipped: ") {
                skipped.push(why.to_string());
            }
            lines.push_str(&line);
            lines.push('\n');
        }
    }
    let goldens = golden_problems()?;
    let _ = writeln!(
        lines,
        "{} golden texts of the checker's failure messages (wrong programs: {})",
        if goldens.is_empty() {
            "ok:"
        } else {
            "PROBLEM:"
        },
        GOLDENS
            .iter()
            .map(|(e, w)| format!("{w} as {e}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    problems.extend(goldens);
    crate::print(&lines)?;
    if problems.is_empty() {
        // A skipped exercise is never counted as checked.
        let checked = EXERCISES.len() - skipped.len();
        let why = if skipped.is_empty() {
            String::new()
        } else {
            format!(" ({})", skipped.join("; "))
        };
        crate::print(&format!(
            "dev-check: passed: {checked} exercises checked (each fails as shipped, its solution \
             passes), {} skipped{why}; files and goldens agree\n",
            skipped.len()
        ))
    } else {
        Err(fail(format!(
            "dev-check found {} problem(s):\n{}",
            problems.len(),
            problems.join("\n")
        )))
    }
}

/// One exercise: fails as shipped, its solution passes with every seed. One line each.
fn dev_check_one(exercise: &Exercise) -> Result<Vec<String>, Exit> {
    let mut lines = Vec::new();
    if let Err(why) = exercise.needs.available() {
        process::note_skipped(&format!("exercise {}: {why}", exercise.name));
        lines.push(format!("skipped: {} — {why}", exercise.name));
        return Ok(lines);
    }
    let (report, verdict, _) = check_binary(exercise, crate::workspace::binary(exercise.name)?, 1);
    if let Verdict::CannotRun(why) = &verdict {
        process::note_skipped(&format!("exercise {}: {why}", exercise.name));
        lines.push(format!(
            "skipped: {} — cannot run here: {why}",
            exercise.name
        ));
        return Ok(lines);
    }
    // An answer the checker could not find is the checker's fault, whatever the verdict.
    let unanswered = |report: &str| report.contains(conversation::PROBE_FAILED);
    if unanswered(&report) {
        lines.push(format!(
            "PROBLEM: {} as shipped: the checker could not find the true answer:\n{report}",
            exercise.name
        ));
    }
    match verdict {
        Verdict::FailedAt(_) | Verdict::DidNotFinish(..) => lines.push(format!(
            "ok: {} fails as shipped ({})",
            exercise.name,
            verdict.words()
        )),
        _ => lines.push(format!(
            "PROBLEM: {} as shipped: {}, where it must fail:\n{report}",
            exercise.name,
            verdict.words()
        )),
    }
    let solution = crate::workspace::binary(&format!("{}-solution", exercise.name))?;
    for &seed in seeds(exercise) {
        let (report, verdict, _) = check_binary(exercise, solution.clone(), seed);
        if unanswered(&report) {
            lines.push(format!(
                "PROBLEM: {}-solution with seed {seed}: the checker could not find the true \
                 answer:\n{report}",
                exercise.name
            ));
        }
        if verdict == Verdict::Passed {
            lines.push(format!(
                "ok: {}-solution passes with seed {seed}",
                exercise.name
            ));
        } else {
            lines.push(format!(
                "PROBLEM: {}-solution with seed {seed}: {}:\n{report}",
                exercise.name,
                verdict.words()
            ));
        }
    }
    Ok(lines)
}
