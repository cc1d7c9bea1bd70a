//! The course tool's command line: every command has its own help, and a usage error ends with
//! the synopsis of the command it was about.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use test_support::cmd;

const COURSE: &str = env!("CARGO_BIN_EXE_course");
const COMMANDS: [&str; 7] = [
    "list",
    "tour",
    "compare",
    "trace",
    "transcripts",
    "book",
    "exercise",
];

/// `cargo course COMMAND --help` prints that command's synopsis first, exit 0.
#[test]
fn every_command_has_its_help() {
    for command in COMMANDS {
        let done = cmd(COURSE).args([command, "--help"]).assert_exit(0);
        let text = done.stdout_text();
        assert!(
            text.starts_with(&format!("usage: cargo course {command}")),
            "{command}: {text}"
        );
    }
}

/// A usage error says what was wrong, then the synopsis of the command it was about (the tool's
/// own when no known command was named), exit 2.
#[test]
fn usage_errors_end_with_their_commands_synopsis() {
    let cases: [(&[&str], &str, &str); 8] = [
        (&[], "give a COMMAND", "COMMAND [ARGS…]"),
        (&["nosuch"], "unknown command 'nosuch'", "COMMAND [ARGS…]"),
        (&["list", "x"], "list takes no arguments", "list"),
        (
            &["tour", "nosuch"],
            "unknown lesson 'nosuch'",
            "tour [LESSON…]",
        ),
        (
            &["compare"],
            "give a LESSON",
            "compare LESSON LISTING.py [ARGS…]",
        ),
        (
            &[
                "trace",
                "socket-info",
                "--scenario",
                "x",
                "--listing",
                "y.py",
            ],
            "--scenario and --listing go one at a time",
            "trace LESSON [--scenario NAME | --listing LISTING.py]",
        ),
        (
            &["transcripts", "--x"],
            "transcripts takes only --check",
            "transcripts [--check]",
        ),
        (
            &["book", "--x"],
            "book takes only --check",
            "book [--check]",
        ),
    ];
    for (args, error, synopsis) in cases {
        let done = cmd(COURSE)
            .args(args)
            .env("COURSE_NO_BUILD", "1")
            .assert_error(2, error);
        let last = done.stderr.lines().last().unwrap_or_default();
        assert_eq!(last, format!("usage: cargo course {synopsis}"), "{args:?}");
        assert_eq!(done.stderr.lines().count(), 2, "{args:?}: {}", done.stderr);
    }
}

/// The checkout the tool acts on is the one it is run in, found when it runs: from a folder of
/// another checkout it reads that checkout's pages (not the ones of the checkout that built it),
/// and from outside any checkout it says so, exit 1.
#[test]
fn acts_on_the_checkout_it_is_run_in() {
    use std::fs;
    use std::process::Command;
    use std::time::Duration;
    use test_support::process::run_bounded;

    let scratch = std::env::temp_dir().join(format!("course-root-test-{}", std::process::id()));
    let other = scratch.join("other-clone");
    fs::create_dir_all(other.join("crates/course/src")).unwrap();
    fs::create_dir_all(other.join("docs/lessons")).unwrap();
    fs::write(other.join("Cargo.toml"), "[workspace]\n").unwrap();
    fs::write(other.join("crates/course/src/registry.rs"), "").unwrap();
    fs::write(
        other.join("docs/lessons/page.md"),
        "no transcript blocks here\n",
    )
    .unwrap();
    let outside = scratch.join("outside");
    fs::create_dir_all(&outside).unwrap();
    let run = |dir: &std::path::Path| {
        let mut command = Command::new(COURSE);
        command
            .args(["transcripts", "--check"])
            .current_dir(dir)
            .env_remove("CARGO_MANIFEST_DIR")
            .env("COURSE_NO_BUILD", "1");
        run_bounded(&mut command, b"", Duration::from_secs(60)).unwrap()
    };
    let in_other = run(&other.join("docs/lessons"));
    let in_outside = run(&outside);
    let _ = fs::remove_dir_all(&scratch);
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    assert_eq!(
        text(&in_other.stdout),
        "transcripts: checked 0 blocks from 0 runs\n",
        "{}",
        text(&in_other.stderr)
    );
    assert_eq!(in_outside.status.and_then(|s| s.code()), Some(1));
    assert!(
        text(&in_outside.stderr).contains("is not inside the course's checkout"),
        "{}",
        text(&in_outside.stderr)
    );
}
