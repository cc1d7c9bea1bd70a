//! Keeps the docs true to the registry and the code: every lesson has its crate, its page and its
//! links; every `cargo run -p …` a learner copies names a real lesson and only flags its `--help`
//! lists; relative links resolve; the page's step table and the code's numbered steps agree.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use course::registry::LESSONS;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// README.md and every Markdown file under docs/, with their text.
fn pages() -> Vec<(PathBuf, String)> {
    let mut todo = vec![root().join("docs")];
    let mut found = vec![root().join("README.md")];
    while let Some(dir) = todo.pop() {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                found.push(path);
            }
        }
    }
    found
        .into_iter()
        .map(|path| (path.clone(), read(&path)))
        .collect()
}

/// Every registry lesson has its crate, its page, and a link from the course map, SUMMARY.md and
/// README.md; every lesson crate (one with a src/main.rs) is in the registry.
#[test]
fn every_lesson_has_its_crate_page_and_links() {
    let docs = root().join("docs");
    let map = read(&docs.join("README.md"));
    let summary = read(&docs.join("SUMMARY.md"));
    let readme = read(&root().join("README.md"));
    for lesson in LESSONS {
        let name = lesson.name;
        assert!(
            root().join(format!("crates/{name}/src/main.rs")).is_file(),
            "crates/{name}/src/main.rs is missing"
        );
        let page = format!("lessons/{name}.md");
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
    let registered: BTreeSet<&str> = LESSONS.iter().map(|l| l.name).collect();
    for entry in fs::read_dir(root().join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        // A lesson is a crate with src/main.rs; the course tool's binary is src/bin/course.rs.
        if dir.join("src/main.rs").is_file() {
            assert!(
                registered.contains(name.as_str()),
                "crates/{name} is a lesson: add a row for it to crates/course/src/registry.rs"
            );
        }
    }
}

/// Relative links between the pages point at files that exist.
#[test]
fn relative_links_resolve() {
    for (path, text) in pages() {
        for piece in text.split("](").skip(1) {
            let target = piece.split([')', '#']).next().unwrap();
            if target.is_empty() || target.contains("://") || target.contains(' ') {
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

/// Every `cargo run -p NAME` names a lesson, and every flag shown after `--` is one that lesson's
/// own `--help` lists.
#[test]
fn cargo_run_lines_name_lessons_and_their_flags() {
    let lines = run_lines();
    assert!(
        lines.len() >= LESSONS.len(),
        "the docs show how to run every lesson"
    );
    for (path, name, args) in lines {
        if name.chars().all(|c| c.is_ascii_uppercase()) {
            continue; // a placeholder such as `cargo run -p LESSON`
        }
        assert!(
            LESSONS.iter().any(|l| l.name == name),
            "{}: `cargo run -p {name}` is not a lesson",
            path.display()
        );
        let flags: Vec<&String> = args
            .iter()
            .filter(|a| a.starts_with("--") && *a != "--help")
            .collect();
        if flags.is_empty() {
            continue;
        }
        let Some(bin) = test_support::process::binary(&name) else {
            test_support::skip(&format!(
                "the page's flags of {name}: not built (run `cargo test --workspace`)"
            ));
            continue;
        };
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
                "{}: {name} does not accept {flag} (its help: {usage})",
                path.display()
            );
        }
    }
}

/// The numbered step comments of a lesson's code (`// 3. Bind …`) and the rows of its page's step
/// table (`| 3 | … |`) are the same steps: numbered from 1 with none missing, on both sides.
#[test]
fn step_numbers_in_code_and_page_agree() {
    for lesson in LESSONS {
        let name = lesson.name;
        let code = read(&root().join(format!("crates/{name}/src/main.rs")));
        let page = read(&root().join(format!("docs/lessons/{name}.md")));
        let in_code: BTreeSet<u32> = code
            .lines()
            .filter_map(|l| {
                l.trim_start()
                    .strip_prefix("// ")?
                    .split_once(". ")?
                    .0
                    .parse()
                    .ok()
            })
            .collect();
        let in_page: BTreeSet<u32> = page
            .lines()
            .filter_map(|l| l.strip_prefix("| ")?.split_once(" |")?.0.parse().ok())
            .collect();
        let expected: BTreeSet<u32> = (1..=in_code.len() as u32).collect();
        assert_eq!(
            in_code, expected,
            "{name}: the code's numbered steps must run from 1 with none missing"
        );
        assert_eq!(
            in_page, in_code,
            "{name}: the page's step table (left) and the code's numbered steps (right) differ"
        );
    }
}

/// Every transcript marker on a page names a lesson of the registry and a part the tool knows.
#[test]
fn transcript_markers_name_lessons() {
    for (path, text) in pages() {
        for request in course::transcripts::requests(&text) {
            assert!(
                LESSONS.iter().any(|l| l.name == request.lesson),
                "{}: no lesson {:?}",
                path.display(),
                request.lesson
            );
            assert!(
                ["output", "partner", "wire", "lab"].contains(&request.part.as_str()),
                "{}: part {:?}",
                path.display(),
                request.part
            );
            // A lab block names one experiment of the registry, for its page's lesson.
            if request.part == "lab" {
                let [name] = &request.args[..] else {
                    panic!("{}: a lab block names one experiment", path.display());
                };
                assert!(
                    course::registry::experiment(&request.lesson, name).is_ok(),
                    "{}: no experiment {name:?} of {}",
                    path.display(),
                    request.lesson
                );
            }
        }
    }
}

/// Every lab experiment of the registry is shown on its lesson's page, from a real run.
#[test]
fn every_lab_experiment_is_on_its_page() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for e in course::registry::EXPERIMENTS {
        let page = root.join(format!("docs/lessons/{}.md", e.lesson));
        let text = std::fs::read_to_string(&page).unwrap();
        let marker = format!("<!-- course:transcript {} lab {} -->", e.lesson, e.name);
        assert!(text.contains(&marker), "{}: no {marker}", page.display());
    }
}
