//! The course tool's command line: every command has its own help, and a usage error ends with
//! the synopsis of the command it was about.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use test_support::cmd;

const COURSE: &str = env!("CARGO_BIN_EXE_course");
const COMMANDS: [&str; 6] = ["list", "tour", "compare", "trace", "transcripts", "book"];

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
