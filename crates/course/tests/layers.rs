//! The course tool's layers point one way: a command (`list`, `tour`, `compare`, …) stands on the
//! services below it (the registry, the checkout, the interpreter, text, running a pair, recording
//! a traced run) and never on another command; a service never stands on a command. A helper two
//! commands need moves down into a service. The commands are the `pub mod` lines of `lib.rs`'s
//! "The commands" block.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The modules declared in `lib.rs`'s block that starts with `comment`, up to the first blank line.
fn block(comment: &str) -> Vec<String> {
    let lib = fs::read_to_string(src().join("lib.rs")).unwrap();
    let start = lib
        .find(comment)
        .unwrap_or_else(|| panic!("lib.rs has no `{comment}` block"));
    lib[start..]
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.trim().strip_prefix("pub mod ")?.strip_suffix(';'))
        .map(String::from)
        .collect()
}

/// Every `.rs` file of module `name`: `src/NAME.rs`, or everything under `src/NAME/`.
fn files(name: &str) -> Vec<PathBuf> {
    let file = src().join(format!("{name}.rs"));
    if file.is_file() {
        return vec![file];
    }
    let mut found = Vec::new();
    let mut dirs = vec![src().join(name)];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    assert!(!found.is_empty(), "no source for module {name}");
    found
}

/// The crate modules a source text names: `crate::NAME…` and the names in `crate::{A, B::c}`.
fn crate_modules(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        let group = match rest.strip_prefix('{') {
            Some(inner) => &inner[..inner.find('}').unwrap_or(inner.len())],
            None => rest,
        };
        for item in group.split(',') {
            let name: String = item
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            names.push(name);
            if !rest.starts_with('{') {
                break;
            }
        }
    }
    names
}

/// No command names another command, and no service names a command.
#[test]
fn commands_stand_on_services_only() {
    let commands = block("// The commands:");
    let services = block("// The services");
    assert!(commands.contains(&"trace".to_string()), "{commands:?}");
    assert!(services.contains(&"registry".to_string()), "{services:?}");
    let mut wrong = Vec::new();
    for module in commands.iter().chain(&services) {
        for file in files(module) {
            let text = fs::read_to_string(&file).unwrap();
            for named in crate_modules(&text) {
                if commands.contains(&named) && named != *module {
                    wrong.push(format!("{} names the command `{named}`", file.display()));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "layers point the wrong way:\n{}",
        wrong.join("\n")
    );
}

/// The scanner finds what it must: plain paths and grouped imports.
#[test]
fn finds_crate_paths() {
    assert_eq!(
        crate_modules("use crate::{pair, python::x};\nlet a = crate::trace::main;"),
        ["pair", "python", "trace"]
    );
}
