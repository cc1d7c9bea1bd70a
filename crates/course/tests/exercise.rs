//! `cargo course exercise`: bad input loses no learner code (an unknown name, a progress file
//! edited by hand, `--reset` of an edited or deleted file), the list follows the progress file,
//! and the checker's reports on deliberately wrong programs match their golden texts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use test_support::{cmd, skip};

const COURSE: &str = env!("CARGO_BIN_EXE_course");

/// A scratch folder of this test's own, removed at the end.
struct Temp(PathBuf);

impl Temp {
    fn new(name: &str) -> Temp {
        let dir = std::env::temp_dir().join(format!(
            "course-exercise-test-{name}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Temp(dir)
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// An unknown exercise is a usage error that lists the real ones.
#[test]
fn an_unknown_exercise_lists_the_others() {
    let temp = Temp::new("unknown");
    let done = cmd(COURSE)
        .args(["exercise", "nosuch"])
        .env("COURSE_EXERCISE_STATE", temp.0.join("progress"))
        .assert_error(
            2,
            "unknown exercise 'nosuch' (one of: listener-reset, listener-idle",
        );
    assert!(done.stderr.contains("addr-family"), "{}", done.stderr);
}

/// The list marks what the progress file says is done, and names the first pending as next.
#[test]
fn the_list_follows_the_progress_file() {
    let temp = Temp::new("list");
    let state = temp.0.join("progress");
    fs::write(&state, "# passed\nlistener-reset\n").unwrap();
    let done = cmd(COURSE)
        .arg("exercise")
        .env("COURSE_EXERCISE_STATE", &state)
        .assert_exit(0);
    let text = done.stdout_text();
    let line = |name: &str| text.lines().find(|l| l.contains(name)).unwrap().to_string();
    assert!(line("listener-reset").ends_with("done"), "{text}");
    assert!(line("listener-idle").ends_with("pending  ← next"), "{text}");
    assert!(line("addr-family").ends_with("pending"), "{text}");
    let all = course::exercise::table::EXERCISES.len();
    assert!(text.contains(&format!("1 of {all} done.")), "{text}");
}

/// A progress file edited by hand into garbage: exit 2, saying which line, and the file as it was.
#[test]
fn a_garbled_progress_file_is_a_clear_error() {
    let temp = Temp::new("garbled");
    let state = temp.0.join("progress");
    let garbage = "listener-reset\nhello there\n";
    fs::write(&state, garbage).unwrap();
    for args in [&["exercise"][..], &["exercise", "listener-reset", "--hint"]] {
        let done = cmd(COURSE)
            .args(args)
            .env("COURSE_EXERCISE_STATE", &state)
            .assert_error(2, "the progress file");
        assert!(
            done.stderr.contains("line 2 is 'hello there'"),
            "{}",
            done.stderr
        );
    }
    assert_eq!(fs::read_to_string(&state).unwrap(), garbage);
}

/// `--reset` of an edited file saves the learner's version beside it first, and never over an
/// earlier save; of a deleted file, restores it; from origin/HEAD when there is one, so a
/// learner's own commit is not what comes back. In a checkout of its own (a git repository with
/// the shipped file committed), so the real one is never touched.
#[test]
fn reset_restores_and_keeps_the_learners_code() {
    if Command::new("git").arg("--version").output().is_err() {
        skip("git is not installed");
        return;
    }
    let temp = Temp::new("reset");
    let fake = &temp.0;
    let relative = "crates/exercises/src/bin/listener-reset.rs";
    let shipped = fs::read_to_string(root().join(relative)).unwrap();
    fs::create_dir_all(fake.join("crates/course/src")).unwrap();
    fs::create_dir_all(fake.join("crates/exercises/src/bin")).unwrap();
    fs::write(fake.join("Cargo.toml"), "[workspace]\n").unwrap();
    fs::write(fake.join("crates/course/src/registry.rs"), "").unwrap();
    fs::write(fake.join(relative), &shipped).unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .arg("-C")
            .arg(fake)
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "shipped"]);
    let reset = || {
        cmd(COURSE)
            .args(["exercise", "--reset", "listener-reset"])
            .env("CARGO_MANIFEST_DIR", fake.join("crates/course"))
            .env("COURSE_EXERCISE_STATE", fake.join("progress"))
            .assert_exit(0)
            .stdout_text()
    };
    let file = fake.join(relative);
    for (round, saved) in [
        (1, "listener-reset.rs.mine"),
        (2, "listener-reset.rs.mine.2"),
    ] {
        let mine = format!("// my attempt {round}\n");
        fs::write(&file, &mine).unwrap();
        let said = reset();
        assert!(said.contains(saved), "{said}");
        assert_eq!(fs::read_to_string(&file).unwrap(), shipped);
        let kept = fake.join("crates/exercises/src/bin").join(saved);
        assert_eq!(fs::read_to_string(kept).unwrap(), mine);
    }
    fs::remove_file(&file).unwrap();
    let said = reset();
    assert!(said.contains("was missing"), "{said}");
    assert_eq!(fs::read_to_string(&file).unwrap(), shipped);
    assert!(reset().contains("already as shipped"));

    // A learner who commits their work gets the course as cloned back (origin/HEAD), not their
    // own commit.
    git(&["update-ref", "refs/remotes/origin/main", "HEAD"]);
    git(&[
        "symbolic-ref",
        "refs/remotes/origin/HEAD",
        "refs/remotes/origin/main",
    ]);
    fs::write(&file, "// my committed attempt\n").unwrap();
    git(&["commit", "-qam", "mine"]);
    let said = reset();
    assert!(said.contains("origin/HEAD"), "{said}");
    assert_eq!(fs::read_to_string(&file).unwrap(), shipped);
}

/// The checker's reports on the wrong programs (one exits at once, one hangs, one prints a
/// server's words without serving) match their golden texts, ports and times masked.
#[test]
fn the_checkers_failure_messages_match_their_goldens() {
    if !test_support::built(&["wrong-exits", "wrong-hangs", "wrong-cheats"]) {
        return;
    }
    let problems = course::exercise::golden_problems().unwrap();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
