//! The exercise table: the one list `cargo course exercise` and its `--dev-check` read. Each row
//! lives beside its check, in `checks/NAME.rs` (`pub const EXERCISE: Exercise`), so adding an
//! exercise is its program (`crates/exercises/src/bin/NAME.rs`), its solution
//! (`crates/exercises/solutions/NAME.rs`, a `[[bin]]` NAME-solution), its page
//! (`docs/exercises/NAME.md`), its check file, and one line in [`EXERCISES`].

use super::checks;
use super::conversation::{Conversation, Failure};

/// What an exercise's check needs from the machine it runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// 127.0.0.1 and ports the kernel picks: every machine.
    Loopback,
    /// A private network (and mount) namespace of the checker's own: Linux, with unprivileged
    /// user namespaces (`unshare -rn true` works), or root.
    Namespace,
    /// The course's lab link (a simulated, impaired link in a private namespace): Linux, as
    /// [`Needs::Namespace`].
    LabLink,
}

impl Needs {
    /// `Ok` when this machine has it, else why not, in one line.
    pub fn available(self) -> Result<(), String> {
        match self {
            Needs::Loopback => Ok(()),
            Needs::Namespace | Needs::LabLink if !cfg!(target_os = "linux") => Err(format!(
                "this check needs {}, which only Linux has",
                self.words()
            )),
            Needs::Namespace | Needs::LabLink => {
                let mut probe = std::process::Command::new("unshare");
                probe.args(["-rn", "true"]);
                let works = test_support::process::run_bounded(
                    &mut probe,
                    b"",
                    std::time::Duration::from_secs(5),
                )
                .is_ok_and(|o| o.status.is_some_and(|s| s.success()));
                if works {
                    Ok(())
                } else {
                    Err(format!(
                        "this check needs {}, and `unshare -rn true` fails here (unprivileged \
                         user namespaces are off, or util-linux is missing)",
                        self.words()
                    ))
                }
            }
        }
    }

    pub fn words(self) -> &'static str {
        match self {
            Needs::Loopback => "loopback",
            Needs::Namespace => "a private namespace",
            Needs::LabLink => "the lab link",
        }
    }
}

/// One exercise.
pub struct Exercise {
    /// The binary `crates/exercises/src/bin/NAME.rs`, its page `docs/exercises/NAME.md`.
    pub name: &'static str,
    /// The lesson it extends (a row of [`crate::registry::LESSONS`]).
    pub lesson: &'static str,
    /// One line: what the learner makes the program do.
    pub title: &'static str,
    pub needs: Needs,
    /// Predict first: the question the check's run answers (it prints the true answer).
    pub question: &'static str,
    /// `--hint`.
    pub hint: &'static str,
    /// Whether the check draws on the seed (then `--dev-check` runs the solution with several).
    pub seeded: bool,
    /// The check: play the peer, step by step, against the program the conversation runs.
    pub check: fn(&mut Conversation) -> Result<(), Failure>,
}

/// Every exercise, in course order: the order `cargo course exercise` lists them and suggests
/// the next.
pub const EXERCISES: &[Exercise] = &[
    checks::listener_reset::EXERCISE,
    checks::listener_idle::EXERCISE,
    checks::udp_backoff::EXERCISE,
    checks::udp_once::EXERCISE,
    checks::try_each_address::EXERCISE,
    checks::fetch_short_body::EXERCISE,
    checks::fetch_one_byte::EXERCISE,
    checks::echo_no_storm::EXERCISE,
    checks::validate_by_value::EXERCISE,
    checks::addr_family::EXERCISE,
];

/// The exercise called `name`.
pub fn find(name: &str) -> Option<&'static Exercise> {
    EXERCISES.iter().find(|e| e.name == name)
}

/// The names, for a message: `a, b, c`.
pub fn names() -> String {
    EXERCISES
        .iter()
        .map(|e| e.name)
        .collect::<Vec<_>>()
        .join(", ")
}
