//! `cargo course book`: the site builds clean and every page passes the browser check where
//! mdBook and Chromium are installed; where they are not, the command says so in one line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use test_support::cmd;

const COURSE: &str = env!("CARGO_BIN_EXE_course");

/// `program` on PATH, if it is there.
fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The whole check passes: every page loads from disk without a broken link, missing image or
/// script error, the search finds a word offline, and each page leaves a PNG screenshot.
#[test]
fn every_page_passes_the_browser_check() {
    if on_path("mdbook").is_none() {
        return test_support::skip(
            "site check — mdbook is not installed; install: cargo install --locked mdbook \
             --version 0.5.4 --no-default-features --features search (a few minutes)",
        );
    }
    if on_path("chromium").is_none() {
        return test_support::skip(
            "site check — chromium is not installed; install: the Debian package chromium",
        );
    }
    let done = cmd(COURSE)
        .args(["book", "--check"])
        .limit(Duration::from_secs(240))
        .run();
    let stdout = String::from_utf8_lossy(&done.stdout);
    assert_eq!(
        done.code,
        Some(0),
        "stdout: {stdout}\nstderr: {}",
        done.stderr
    );
    assert!(
        stdout.contains("pages checked in headless Chromium"),
        "{stdout}"
    );
    let summary = std::fs::read_to_string(root().join("docs/SUMMARY.md")).unwrap();
    let shots = root().join("target/book-shots");
    for page in course::book::summary_pages(&summary) {
        let shot = shots.join(page.replace('/', "-").replace(".html", ".png"));
        let png = std::fs::read(&shot).unwrap_or_default();
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n"),
            "no screenshot of {page} at {}",
            shot.display()
        );
    }
}

/// Without mdBook on PATH the build stops at once with one line that says how to install it.
#[test]
fn a_missing_mdbook_is_one_clear_line() {
    let done = cmd("env")
        .args(["PATH=/nonexistent", COURSE, "book"])
        .assert_exit(1);
    assert!(
        done.stderr.contains("cargo install --locked mdbook"),
        "{}",
        done.stderr
    );
}

/// A stray argument is a usage error.
#[test]
fn book_takes_only_check() {
    let done = cmd(COURSE).args(["book", "--chek"]).assert_exit(2);
    assert!(done.stderr.contains("--chek"), "{}", done.stderr);
}
