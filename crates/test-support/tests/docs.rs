//! Keeps the docs true: every lesson has a page, and every `cargo run -p …` line a learner copies
//! from README.md or docs/ names a real lesson and only flags that lesson's `--help` lists.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The lessons: the crates with a binary.
fn lessons() -> Vec<String> {
    let mut found: Vec<String> = fs::read_dir(root().join("crates"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|dir| dir.join("src/main.rs").is_file())
        .map(|dir| dir.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    found.sort();
    found
}

/// README.md and every Markdown file under docs/, with their text.
fn pages() -> Vec<(PathBuf, String)> {
    let mut todo = vec![root().join("docs")];
    let mut pages = vec![(root().join("README.md"), String::new())];
    while let Some(dir) = todo.pop() {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                pages.push((path, String::new()));
            }
        }
    }
    pages
        .into_iter()
        .map(|(path, _)| (path.clone(), fs::read_to_string(&path).unwrap()))
        .collect()
}

/// Every `cargo run -p NAME [-- ARGS]` in the pages: (page, NAME, ARGS up to the end of the command).
fn run_lines() -> Vec<(PathBuf, String, Vec<String>)> {
    let mut found = Vec::new();
    for (path, text) in pages() {
        for line in text.lines() {
            for (at, _) in line.match_indices("cargo run -p ") {
                let command = &line[at + "cargo run -p ".len()..];
                let command = command
                    .split(['`', '|', '#', ';', '&', ')'])
                    .next()
                    .unwrap();
                let mut words = command.split_whitespace().map(String::from);
                let name = words.next().unwrap_or_default();
                let args: Vec<String> = words.skip_while(|w| w != "--").skip(1).collect();
                found.push((path.clone(), name, args));
            }
        }
    }
    found
}

/// Each lesson has its page, listed in the course map and in SUMMARY.md.
#[test]
fn every_lesson_has_a_page() {
    let docs = root().join("docs");
    let map = fs::read_to_string(docs.join("README.md")).unwrap();
    let summary = fs::read_to_string(docs.join("SUMMARY.md")).unwrap();
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    assert_eq!(
        lessons().len(),
        7,
        "the course has seven lessons: {:?}",
        lessons()
    );
    for lesson in lessons() {
        let page = format!("lessons/{lesson}.md");
        assert!(docs.join(&page).is_file(), "docs/{page} is missing");
        assert!(
            map.contains(&format!("]({page})")),
            "docs/README.md does not link {page}"
        );
        assert!(
            summary.contains(&format!("]({page})")),
            "docs/SUMMARY.md does not list {page}"
        );
        assert!(
            readme.contains(&format!("(docs/{page})")),
            "README.md does not link docs/{page}"
        );
    }
}

/// Relative links between the pages point at files that exist.
#[test]
fn relative_links_resolve() {
    for (path, text) in pages() {
        for piece in text.split("](").skip(1) {
            let target = piece.split([')', '#']).next().unwrap();
            if target.is_empty() || target.contains("://") {
                continue;
            }
            let file = path.parent().unwrap().join(target);
            assert!(
                file.exists(),
                "{}: link to {target} goes nowhere",
                path.display()
            );
        }
    }
}

/// Every `cargo run -p NAME` names a lesson.
#[test]
fn cargo_run_lines_name_real_lessons() {
    let lessons = lessons();
    let lines = run_lines();
    assert!(lines.len() >= 7, "the docs show how to run every lesson");
    for (path, name, _) in lines {
        if name.chars().all(|c| c.is_ascii_uppercase()) {
            continue; // a placeholder such as `cargo run -p LESSON`
        }
        assert!(
            lessons.contains(&name),
            "{}: `cargo run -p {name}` is not a lesson",
            path.display()
        );
    }
}

/// Every flag shown after `--` is one the lesson's own `--help` lists (and `--help` itself).
#[test]
fn shown_flags_are_accepted() {
    // The test binary lives in target/<profile>/deps; the lessons' binaries one folder up.
    let bin_dir = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    for (path, name, args) in run_lines() {
        let flags: Vec<&String> = args
            .iter()
            .filter(|a| a.starts_with("--") && *a != "--help")
            .collect();
        if flags.is_empty() {
            continue;
        }
        if name.chars().all(|c| c.is_ascii_uppercase()) {
            continue;
        }
        let bin = bin_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        if !bin.is_file() {
            eprintln!("skipped {name}: not built (run `cargo test --workspace`)");
            continue;
        }
        let help = Command::new(&bin).arg("--help").output().unwrap();
        assert!(help.status.success(), "{name} --help failed");
        let usage = String::from_utf8_lossy(&help.stdout);
        for flag in flags {
            let flag = flag.split('=').next().unwrap();
            let listed = usage
                .split(|c: char| !(c.is_alphanumeric() || c == '-'))
                .any(|w| w == flag);
            assert!(
                listed,
                "{}: {name} does not accept {flag} (usage: {usage})",
                path.display()
            );
        }
    }
}
