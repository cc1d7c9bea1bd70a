//! The checkout the course tool acts on, and its lesson binaries.
//!
//! The root is found when the tool runs, never baked in when it is built: with one shared
//! `CARGO_TARGET_DIR` for many projects, the binary one clone built is the one another clone runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use lesson_common::{Exit, fail, fail_with};
use test_support::process;

use crate::registry::LESSONS;

/// The course's checkout: where `cargo course` was typed. `cargo run` (the alias) sets
/// `CARGO_MANIFEST_DIR` for the program it runs to `crates/course` of the workspace it found from
/// the current folder; run directly, the tool looks up from the current folder itself.
pub fn root() -> Result<PathBuf, Exit> {
    let from_cargo = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(|dir| Path::new(&dir).join("../.."))
        .filter(|dir| is_course_root(dir));
    if let Some(root) = from_cargo {
        return Ok(root.canonicalize().unwrap_or(root));
    }
    let here =
        std::env::current_dir().map_err(|e| fail_with("cannot read the current folder", e))?;
    here.ancestors()
        .find(|dir| is_course_root(dir))
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            fail(format!(
                "{} is not inside the course's checkout: run `cargo course` from the folder you \
                 cloned (or any folder under it)",
                here.display()
            ))
        })
}

/// A workspace whose `crates/course` is this tool's crate.
fn is_course_root(dir: &Path) -> bool {
    dir.join("Cargo.toml").is_file() && dir.join("crates/course/src/registry.rs").is_file()
}

/// Build every lesson of the registry, so each binary below is fresh, with cargo's own progress on
/// the terminal. The course tool is in the selection too, though `cargo course` has just built it
/// (cargo finds it fresh): cargo resolves features over the packages it is given, and without it
/// the lessons' own selection would give libc other features than the tool's build did (nix asks
/// for more), and libc, socket2, dns-lookup and lesson-common would be compiled a second time: a
/// second of a newcomer's first tour.
/// The course's own tests set `COURSE_NO_BUILD` (`cargo test --workspace` has just built
/// everything, and holds the lock).
pub fn build() -> Result<(), Exit> {
    build_with(&[])
}

/// [`build`], and the workspace's `packages` besides (the lab's wire).
pub fn build_with(packages: &[&str]) -> Result<(), Exit> {
    if std::env::var_os("COURSE_NO_BUILD").is_some() {
        return Ok(());
    }
    let root = root()?;
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.args(["build", "--locked", "--bins", "--manifest-path"]);
    command.arg(root.join("Cargo.toml"));
    for name in LESSONS
        .iter()
        .map(|l| l.name)
        .chain(["course"])
        .chain(packages.iter().copied())
    {
        command.args(["--package", name]);
    }
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(_) => Err(fail("cargo could not build the lessons (see above)")),
        Err(e) => Err(fail_with("cannot run cargo", e)),
    }
}

/// A built lesson binary.
pub fn binary(name: &str) -> Result<PathBuf, Exit> {
    process::binary(name).ok_or_else(|| {
        fail(format!(
            "{name} is not built: run `cargo build --workspace`"
        ))
    })
}
