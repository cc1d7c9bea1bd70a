//! The learner's progress: which exercises have passed, one name a line, in
//! `crates/exercises/.progress`, beside the exercises and out of `target/`, so `cargo clean` keeps it
//! (git ignores it; `COURSE_EXERCISE_STATE` names another file, for tests). It
//! records nothing else: deleting it starts the list over and touches no code.

use std::path::PathBuf;

use lesson_common::{Exit, fail_with, usage};

use super::table;

const HEADER: &str = "# cargo course exercise: the exercises you have passed, one a line. \
                      Delete this file to start over; your code is not in it.\n";

pub struct Progress {
    path: PathBuf,
    pub done: Vec<String>,
}

/// The progress file's path.
pub fn path() -> Result<PathBuf, Exit> {
    match std::env::var_os("COURSE_EXERCISE_STATE") {
        Some(path) => Ok(PathBuf::from(path)),
        None => Ok(crate::workspace::root()?.join("crates/exercises/.progress")),
    }
}

impl Progress {
    /// Read it (a file that is not there yet is no progress). A file that is not as the tool
    /// writes it — edited by hand into something else — is a usage error (exit 2) that says which
    /// line, and changes nothing.
    pub fn load() -> Result<Progress, Exit> {
        let path = path()?;
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                return Err(fail_with(
                    format!("cannot read the progress file {}", path.display()),
                    e,
                ));
            }
        };
        let bad = |what: String| {
            usage(format!(
                "the progress file {} is not as cargo course wrote it: {what}. Fix that line or \
                 delete the file (it only records which exercises passed; your code in \
                 crates/exercises is untouched)",
                path.display()
            ))
        };
        let text = String::from_utf8(bytes).map_err(|_| bad("it is not UTF-8 text".into()))?;
        let mut done = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if table::find(line).is_none() {
                return Err(bad(format!(
                    "line {} is '{}', not an exercise's name",
                    n + 1,
                    line.chars().take(60).collect::<String>()
                )));
            }
            if !done.iter().any(|d| d == line) {
                done.push(line.to_string());
            }
        }
        Ok(Progress { path, done })
    }

    pub fn is_done(&self, name: &str) -> bool {
        self.done.iter().any(|d| d == name)
    }

    /// Note `name` as passed, and write the file.
    pub fn mark_done(&mut self, name: &str) -> Result<(), Exit> {
        if self.is_done(name) {
            return Ok(());
        }
        self.done.push(name.to_string());
        let mut text = String::from(HEADER);
        for name in &self.done {
            text.push_str(name);
            text.push('\n');
        }
        std::fs::write(&self.path, text).map_err(|e| {
            fail_with(
                format!("cannot write the progress file {}", self.path.display()),
                e,
            )
        })
    }
}
