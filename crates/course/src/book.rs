//! `cargo course book [--check]`: the pages as an mdBook site in target/book, and a check of every
//! page as a reader sees it — loaded from disk in headless Chromium, driven over the DevTools
//! protocol: no broken internal link or anchor, no missing image, no JavaScript error, no empty
//! page, a search that finds a word offline; one screenshot per page in target/book-shots/.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use lesson_common::{Exit, fail, fail_with};
use serde_json::{Value, json};
use test_support::process::{Spawned, run_bounded};
use tungstenite::{Message, WebSocket};

use crate::registry::LESSONS;

pub(crate) const HELP: &str = "\
usage: cargo course book [--check]

Build the course's pages into a site in target/book with mdBook (`cargo install --locked mdbook`);
open target/book/index.html. With --check, then load every page from disk in headless Chromium
(Debian package `chromium`) and fail on a broken internal link or anchor, a missing image, a
JavaScript error, a page with no text, or a search box that finds nothing; screenshots of every page
go to target/book-shots/.";

/// How long one page may take to load, and Chromium to start.
const WAIT: Duration = Duration::from_secs(20);
/// mdBook builds these pages in well under a second; this is room for a slow machine.
const BUILD_LIMIT: Duration = Duration::from_secs(120);

pub fn main(args: Vec<String>) -> Result<(), Exit> {
    let Some(check) = crate::check_flag("book", HELP, &args)? else {
        return Ok(());
    };
    // Canonical, so that the pages' paths match the links the browser resolves (`a.href`).
    let root = crate::workspace::root()?;
    let site = root.join("target/book");
    build(&root, &site)?;
    crate::print(&format!("book: built {}\n", site.display()))?;
    if check {
        check_site(&root, &site)?;
    }
    Ok(())
}

/// `mdbook build docs`, failing on any warning; then the lesson sources the pages link to are put
/// where those links lead from the site (`../../crates/NAME/src/main.rs` from
/// `target/book/lessons`).
fn build(root: &Path, site: &Path) -> Result<(), Exit> {
    let mut command = Command::new("mdbook");
    command.arg("build").arg(root.join("docs"));
    let output = match run_bounded(&mut command, b"", BUILD_LIMIT) {
        Ok(output) => output,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(fail(
                "mdBook is not installed: install it with `cargo install --locked mdbook`",
            ));
        }
        Err(e) => return Err(fail_with("cannot run mdbook", e)),
    };
    let Some(status) = output.status else {
        return Err(fail(format!(
            "mdbook build docs did not finish within {BUILD_LIMIT:?}"
        )));
    };
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let warnings = warnings(&said);
    if !status.success() || !warnings.is_empty() {
        return Err(fail(format!(
            "mdbook build docs: {}",
            if warnings.is_empty() {
                said.trim().replace('\n', " / ")
            } else {
                warnings.join(" / ")
            }
        )));
    }
    let beside = site.parent().unwrap_or(site);
    for lesson in LESSONS {
        let from = root.join(format!("crates/{}/src/main.rs", lesson.name));
        let to = beside.join(format!("crates/{}/src/main.rs", lesson.name));
        if let Some(dir) = to.parent() {
            fs::create_dir_all(dir).map_err(|e| fail_with("cannot copy the lesson sources", e))?;
        }
        fs::copy(&from, &to)
            .map_err(|e| fail_with(format!("cannot copy {}", from.display()), e))?;
    }
    Ok(())
}

/// The lines of mdBook's output that are warnings or errors. mdBook logs through `tracing`: a
/// line starts with its level, padded (` WARN`, `ERROR`), after colour codes when it writes to a
/// terminal. A failed `{{#include}}` is only an `ERROR` line — the build still succeeds — so these
/// lines, not the exit status, say whether the book is clean.
pub fn warnings(output: &str) -> Vec<String> {
    output
        .lines()
        .map(strip_colour)
        .filter(|line| matches!(line.split_whitespace().next(), Some("WARN" | "ERROR")))
        .map(|line| line.trim().to_string())
        .collect()
}

/// `line` without terminal colour codes (`ESC [ … m`).
fn strip_colour(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip up to and including the sequence's final letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The pages `SUMMARY.md` lists, as the files mdBook writes for them: `README.md` becomes
/// `index.html` (mdBook's `index` preprocessor), `x.md` becomes `x.html`; a draft chapter
/// (`[Title]()`) has no page.
pub fn summary_pages(summary: &str) -> Vec<String> {
    let mut pages = Vec::new();
    for line in summary.lines() {
        let mut rest = line;
        while let Some(open) = rest.find("](") {
            let after = &rest[open + 2..];
            let Some(close) = after.find(')') else { break };
            if let Some(page) = after[..close].trim().strip_suffix(".md") {
                let page = match page.rsplit_once('/') {
                    Some((dir, "README")) => format!("{dir}/index.html"),
                    None if page == "README" => "index.html".to_string(),
                    _ => format!("{page}.html"),
                };
                if !pages.contains(&page) {
                    pages.push(page);
                }
            }
            rest = &after[close..];
        }
    }
    pages
}

/// The pages of the built site a reader reaches (not the print view, the 404 page or the table of
/// contents frame).
pub fn pages(site: &Path) -> Vec<PathBuf> {
    let mut todo = vec![site.to_path_buf()];
    let mut found = Vec::new();
    while let Some(dir) = todo.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if path.is_dir() && !["css", "fonts", "FontAwesome"].contains(&name.as_str()) {
                todo.push(path);
            } else if name.ends_with(".html")
                && !["print.html", "404.html", "toc.html"].contains(&name.as_str())
            {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// What a page showed the browser.
#[derive(Debug, Default)]
struct Seen {
    text: usize,
    links: Vec<String>,
    broken_images: Vec<String>,
    ids: BTreeSet<String>,
    errors: Vec<String>,
    /// Code blocks with nothing in them: an `{{#include FILE:anchor}}` whose anchor is gone
    /// renders as one, and mdBook says nothing.
    empty_code: usize,
}

fn check_site(root: &Path, site: &Path) -> Result<(), Exit> {
    let started = Instant::now();
    let shots = root.join("target/book-shots");
    fs::create_dir_all(&shots).map_err(|e| fail_with("cannot make target/book-shots", e))?;
    // Every chapter SUMMARY.md lists must be among the pages checked.
    let summary = fs::read_to_string(root.join("docs/SUMMARY.md"))
        .map_err(|e| fail_with("cannot read docs/SUMMARY.md", e))?;
    let built = pages(site);
    for page in summary_pages(&summary) {
        if !built.contains(&site.join(&page)) {
            return Err(fail(format!(
                "SUMMARY.md lists {page}, but mdbook did not write it"
            )));
        }
    }
    let mut browser = Browser::start()?;
    let mut seen: BTreeMap<PathBuf, Seen> = BTreeMap::new();
    let mut report = String::new();
    for page in built {
        let name = page
            .strip_prefix(site)
            .unwrap_or(&page)
            .to_string_lossy()
            .into_owned();
        let shot = shots.join(name.replace('/', "-").replace(".html", ".png"));
        let page_seen = browser.visit(&page, &shot)?;
        let _ = writeln!(
            report,
            "book: loaded {name} ({} characters of text, {} links) → {}",
            page_seen.text,
            page_seen.links.len(),
            shot.strip_prefix(root).unwrap_or(&shot).display()
        );
        seen.insert(page, page_seen);
    }
    let found = browser.search(&site.join("index.html"), "getsockname")?;
    let dark = browser.dark_theme(&site.join("index.html"), &shots.join("index-dark.png"))?;
    browser.close();
    crate::print(&report)?;
    let mut problems = problems(&seen, found);
    if !dark.split_whitespace().any(|class| class == "navy") {
        problems.push(format!(
            "with the system set to dark, the map's theme is '{dark}', not book.toml's `navy`"
        ));
    }
    if !problems.is_empty() {
        return Err(fail(format!(
            "the site has {} problem(s): {}",
            problems.len(),
            problems.join("; ")
        )));
    }
    crate::print(&format!(
        "book: {} pages checked in headless Chromium in {:.1} s: every internal link and anchor resolves, no image is missing, no JavaScript error, no empty page or code block; the search finds `getsockname` on {found} page(s); a dark system theme gets the dark theme\n",
        seen.len(),
        started.elapsed().as_secs_f64()
    ))
}

/// Everything wrong with the pages seen: broken links and anchors, missing images, console errors,
/// empty pages, a search that found nothing.
fn problems(seen: &BTreeMap<PathBuf, Seen>, search_hits: usize) -> Vec<String> {
    let mut problems = Vec::new();
    for (page, page_seen) in seen {
        let name = page
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if page_seen.text < 200 {
            problems.push(format!(
                "{name}: its main text is empty ({} characters)",
                page_seen.text
            ));
        }
        if page_seen.empty_code > 0 {
            problems.push(format!(
                "{name}: {} empty code block(s) — an {{{{#include}}}} whose anchor is gone?",
                page_seen.empty_code
            ));
        }
        for image in &page_seen.broken_images {
            problems.push(format!("{name}: image {image} is missing"));
        }
        for error in &page_seen.errors {
            problems.push(format!("{name}: {error}"));
        }
        for link in &page_seen.links {
            if let Some(problem) = broken(link, seen) {
                problems.push(format!("{name}: {problem}"));
            }
        }
    }
    if search_hits == 0 {
        problems.push("the search box found nothing for `getsockname`".into());
    }
    problems
}

/// Why an internal link goes nowhere: a file that does not exist, or an anchor its page lacks.
/// Links off the site (http, mailto) are not followed: the check runs offline.
fn broken(link: &str, seen: &BTreeMap<PathBuf, Seen>) -> Option<String> {
    let target = link.strip_prefix("file://")?;
    let (path, anchor) = target.split_once('#').unwrap_or((target, ""));
    let path = PathBuf::from(percent_decode(path));
    if !path.exists() {
        return Some(format!("link to {} goes nowhere", path.display()));
    }
    if anchor.is_empty() {
        return None;
    }
    let anchor = percent_decode(anchor);
    let has_anchor = match seen.get(&path) {
        Some(target) => target.ids.contains(&anchor),
        // A page the check did not load (print.html): mdBook writes every id into the HTML.
        None if path.extension().is_some_and(|e| e == "html") => {
            fs::read_to_string(&path).is_ok_and(|html| html.contains(&format!(" id=\"{anchor}\"")))
        }
        None => true,
    };
    (!has_anchor).then(|| format!("link to {}#{anchor}: no such anchor", path.display()))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Headless Chromium and one page of it, over the DevTools protocol.
struct Browser {
    chromium: Spawned,
    socket: WebSocket<TcpStream>,
    next_id: u64,
    events: Vec<Value>,
    profile: PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.socket.close(None);
        self.chromium.stop();
        let _ = fs::remove_dir_all(&self.profile);
    }
}

impl Browser {
    fn start() -> Result<Browser, Exit> {
        let program = ["chromium", "chromium-browser", "google-chrome"]
            .into_iter()
            .find(|p| {
                Command::new(p)
                    .arg("--version")
                    .output()
                    .is_ok_and(|o| o.status.success())
            });
        let Some(program) = program else {
            return Err(fail(
                "Chromium is not installed (Debian package `chromium`): the site check needs it",
            ));
        };
        let profile = std::env::temp_dir().join(format!("course-chromium-{}", std::process::id()));
        // A closed network: without these flags Chromium keeps trying to reach Google's hosts.
        let mut command = Command::new(program);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
            ])
            .args([
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .args([
                "--allow-file-access-from-files",
                "--remote-debugging-port=0",
                "--window-size=1280,1000",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank");
        let chromium =
            Spawned::start(&mut command, b"").map_err(|e| fail_with("cannot start Chromium", e))?;
        let deadline = Instant::now() + WAIT;
        let port = loop {
            let Ok(line) = chromium.err_line(deadline.saturating_duration_since(Instant::now()))
            else {
                return Err(fail("Chromium did not open its DevTools port"));
            };
            if let Some(rest) = line.strip_prefix("DevTools listening on ws://127.0.0.1:") {
                break rest
                    .split('/')
                    .next()
                    .and_then(|p| p.parse::<u16>().ok())
                    .unwrap_or(0);
            }
        };
        let target = http_json(port, "PUT", "/json/new?about:blank")?;
        let Some(url) = target["webSocketDebuggerUrl"].as_str() else {
            return Err(fail("Chromium gave no page to drive"));
        };
        let stream = TcpStream::connect(("127.0.0.1", port))
            .map_err(|e| fail_with("cannot reach Chromium", e))?;
        stream
            .set_read_timeout(Some(WAIT))
            .map_err(|e| fail_with("cannot reach Chromium", e))?;
        let (socket, _) = tungstenite::client(url, stream)
            .map_err(|e| fail(format!("cannot drive Chromium: {e}")))?;
        let mut browser = Browser {
            chromium,
            socket,
            next_id: 0,
            events: Vec::new(),
            profile,
        };
        for method in ["Page.enable", "Runtime.enable", "Log.enable"] {
            browser.call(method, json!({}))?;
        }
        Ok(browser)
    }

    /// Send one command and wait for its answer, keeping the events that come meanwhile.
    fn call(&mut self, method: &str, params: Value) -> Result<Value, Exit> {
        self.next_id += 1;
        let id = self.next_id;
        let message = json!({"id": id, "method": method, "params": params}).to_string();
        self.socket
            .send(Message::text(message))
            .map_err(|e| fail(format!("Chromium: {method}: {e}")))?;
        loop {
            let message = self
                .socket
                .read()
                .map_err(|e| fail(format!("Chromium: {method}: {e}")))?;
            let Ok(text) = message.to_text() else {
                continue;
            };
            let Ok(value) = serde_json::from_str::<Value>(text) else {
                continue;
            };
            if value["id"].as_u64() == Some(id) {
                if let Some(error) = value.get("error") {
                    return Err(fail(format!("Chromium: {method}: {error}")));
                }
                return Ok(value["result"].clone());
            }
            self.events.push(value);
        }
    }

    /// Wait until an event `method` arrives (or `WAIT` passes).
    fn wait_for(&mut self, method: &str) -> Result<(), Exit> {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if self.events.iter().any(|e| e["method"] == method) {
                return Ok(());
            }
            let message = self
                .socket
                .read()
                .map_err(|e| fail(format!("Chromium: waiting for {method}: {e}")))?;
            if let Ok(value) = serde_json::from_str::<Value>(message.to_text().unwrap_or("")) {
                self.events.push(value);
            }
        }
        Err(fail(format!("Chromium: no {method} within {WAIT:?}")))
    }

    /// The value of a JavaScript expression on the page.
    fn eval(&mut self, expression: &str) -> Result<Value, Exit> {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        )?;
        Ok(result["result"]["value"].clone())
    }

    /// Load `page` from disk, look at it as a reader would, and screenshot it to `shot`.
    fn visit(&mut self, page: &Path, shot: &Path) -> Result<Seen, Exit> {
        self.events.clear();
        let url = format!("file://{}", page.display());
        self.call("Page.navigate", json!({"url": url}))?;
        self.wait_for("Page.loadEventFired")?;
        // Scripts run on load (the theme, the sidebar, the search): let them settle.
        self.eval("new Promise(done => setTimeout(done, 300))")?;
        let facts = self.eval(
            "({ text: (document.querySelector('main') || document.body).innerText.trim().length,
                links: [...document.querySelectorAll('a[href]')].map(a => a.href),
                brokenImages: [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src),
                ids: [...document.querySelectorAll('[id]')].map(e => e.id),
                emptyCode: [...document.querySelectorAll('main pre code')].filter(c => c.textContent.trim() === '').length })",
        )?;
        let strings = |key: &str| -> Vec<String> {
            facts[key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        let shot_data = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true}),
        )?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot_data["data"].as_str().unwrap_or(""))
            .map_err(|e| fail(format!("Chromium's screenshot: {e}")))?;
        fs::write(shot, png)
            .map_err(|e| fail_with(format!("cannot write {}", shot.display()), e))?;
        Ok(Seen {
            text: facts["text"].as_u64().unwrap_or(0) as usize,
            links: strings("links"),
            broken_images: strings("brokenImages"),
            ids: strings("ids").into_iter().collect(),
            errors: self.events.iter().filter_map(error_of).collect(),
            empty_code: facts["emptyCode"].as_u64().unwrap_or(0) as usize,
        })
    }

    /// Load `page` with the system set to dark and screenshot it: the theme mdBook picked (the
    /// classes of `<html>`).
    fn dark_theme(&mut self, page: &Path, shot: &Path) -> Result<String, Exit> {
        let dark = json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]});
        self.call("Emulation.setEmulatedMedia", dark)?;
        let seen = self.visit(page, shot)?;
        let theme = self.eval("document.documentElement.className")?;
        self.call("Emulation.setEmulatedMedia", json!({"features": []}))?;
        if let Some(error) = seen.errors.first() {
            return Err(fail(format!("the dark theme: {error}")));
        }
        Ok(theme.as_str().unwrap_or_default().to_string())
    }

    /// Ask Chromium to quit, so that it takes its helper processes with it; Drop kills whatever is
    /// left after a few seconds.
    fn close(mut self) {
        // No waiting for the answer: a browser that quits may not send one.
        self.next_id += 1;
        let close = json!({"id": self.next_id, "method": "Browser.close"}).to_string();
        let _ = self.socket.send(Message::text(close));
        let _ = self.chromium.wait(Duration::from_secs(5));
    }

    /// Type `word` into the page's search box and count the results, as a reader would, offline.
    fn search(&mut self, page: &Path, word: &str) -> Result<usize, Exit> {
        self.events.clear();
        self.call(
            "Page.navigate",
            json!({"url": format!("file://{}", page.display())}),
        )?;
        self.wait_for("Page.loadEventFired")?;
        let script = format!(
            "new Promise(done => {{
                const toggle = document.getElementById('mdbook-search-toggle'); if (toggle) toggle.click();
                setTimeout(() => {{
                    const bar = document.getElementById('mdbook-searchbar');
                    if (!bar) return done(0);
                    bar.value = {word:?};
                    bar.dispatchEvent(new KeyboardEvent('keyup', {{key: 'g', bubbles: true}}));
                    setTimeout(() => done(document.querySelectorAll('#mdbook-searchresults li').length), 1500);
                }}, 1000);
            }})"
        );
        Ok(self.eval(&script)?.as_u64().unwrap_or(0) as usize)
    }
}

/// The words of a console error, an uncaught exception or an error in the browser's log.
fn error_of(event: &Value) -> Option<String> {
    let params = &event["params"];
    match event["method"].as_str()? {
        "Runtime.consoleAPICalled" if params["type"] == "error" => {
            let words: Vec<String> = params["args"]
                .as_array()?
                .iter()
                .map(|a| {
                    a["value"]
                        .as_str()
                        .map_or(a["description"].to_string(), String::from)
                })
                .collect();
            Some(format!("console error: {}", words.join(" ")))
        }
        "Runtime.exceptionThrown" => Some(format!(
            "JavaScript exception: {}",
            params["exceptionDetails"]["exception"]["description"]
                .as_str()
                .unwrap_or("?")
        )),
        "Log.entryAdded" if params["entry"]["level"] == "error" => Some(format!(
            "{} ({})",
            params["entry"]["text"].as_str().unwrap_or("?"),
            params["entry"]["url"].as_str().unwrap_or("")
        )),
        _ => None,
    }
}

/// A small HTTP request to Chromium's DevTools endpoint, its JSON answer.
fn http_json(port: u16, method: &str, path: &str) -> Result<Value, Exit> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .map_err(|e| fail_with("cannot reach Chromium", e))?;
    stream
        .set_read_timeout(Some(WAIT))
        .map_err(|e| fail_with("cannot reach Chromium", e))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| fail_with("cannot reach Chromium", e))?;
    // Chromium keeps the connection open: read the head, then Content-Length bytes of body.
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while !answer.ends_with(b"\r\n\r\n") {
        stream
            .read_exact(&mut byte)
            .map_err(|e| fail_with("cannot read Chromium's answer", e))?;
        answer.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&answer).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("content-length:")?
                .trim()
                .parse::<usize>()
                .ok()
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream
        .read_exact(&mut body)
        .map_err(|e| fail_with("cannot read Chromium's answer", e))?;
    serde_json::from_slice(&body).map_err(|e| fail(format!("Chromium's answer is not JSON ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A link to a missing file or a missing anchor is broken; off-site links are not followed.
    #[test]
    fn finds_broken_links_and_anchors() {
        let dir = std::env::temp_dir().join(format!("course-book-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let page = dir.join("a.html");
        fs::write(&page, "x").unwrap();
        let mut seen = BTreeMap::new();
        seen.insert(
            page.clone(),
            Seen {
                ids: ["steps".to_string()].into(),
                ..Seen::default()
            },
        );
        let url = format!("file://{}", page.display());
        assert_eq!(broken(&format!("{url}#steps"), &seen), None);
        assert!(
            broken(&format!("{url}#nowhere"), &seen)
                .unwrap()
                .contains("no such anchor")
        );
        assert!(
            broken(&format!("file://{}/missing.html", dir.display()), &seen)
                .unwrap()
                .contains("goes nowhere")
        );
        assert_eq!(broken("https://docs.rs/socket2", &seen), None);
        // A page the browser did not load is read from disk for its ids.
        let other = dir.join("b.html");
        fs::write(&other, r#"<h2 id="the-steps">x</h2>"#).unwrap();
        let other = format!("file://{}", other.display());
        assert_eq!(broken(&format!("{other}#the-steps"), &seen), None);
        assert!(broken(&format!("{other}#gone"), &seen).is_some());
        assert_eq!(percent_decode("a%20b%23c"), "a b#c");
        let _ = fs::remove_dir_all(&dir);
    }

    /// mdBook's WARN and ERROR lines are found, coloured or not; INFO lines are not warnings,
    /// even when their text mentions one.
    #[test]
    fn finds_warnings() {
        let output = " INFO Book building has started\n \
                      WARN The command `x` for preprocessor `y` was not found\n\
                      \u{1b}[31mERROR\u{1b}[0m Error updating \"{{#include a.rs:b}}\"\n \
                      INFO HTML book written (no WARN here)\n";
        assert_eq!(
            warnings(output),
            [
                "WARN The command `x` for preprocessor `y` was not found",
                "ERROR Error updating \"{{#include a.rs:b}}\"",
            ]
        );
        assert!(warnings(" INFO Running the html backend\n").is_empty());
    }

    /// SUMMARY's chapters become the files mdBook writes, in reading order; README is the index,
    /// a draft chapter has no page.
    #[test]
    fn pages_from_the_summary() {
        let summary = "# Summary\n\n[The course map](README.md)\n[How to](how-to.md)\n\n\
                       - [socket-info](lessons/socket-info.md)\n  - [More](lessons/README.md)\n\
                       - [Draft]()\n---\n[Troubleshooting](troubleshooting.md)\n";
        assert_eq!(
            summary_pages(summary),
            [
                "index.html",
                "how-to.html",
                "lessons/socket-info.html",
                "lessons/index.html",
                "troubleshooting.html"
            ]
        );
    }

    /// The project's SUMMARY starts with the course map and lists every lesson of the registry.
    #[test]
    fn the_summary_lists_the_map_first_and_every_lesson() {
        let summary =
            fs::read_to_string(crate::workspace::root().unwrap().join("docs/SUMMARY.md")).unwrap();
        let pages = summary_pages(&summary);
        assert_eq!(pages.first().map(String::as_str), Some("index.html"));
        for lesson in LESSONS {
            let page = format!("lessons/{}.html", lesson.name);
            assert!(pages.contains(&page), "SUMMARY.md does not list {page}");
        }
    }

    /// The pages checked are the built HTML files, mdBook's own print view, 404 page and sidebar
    /// frame and its asset folders left out.
    #[test]
    fn pages_from_the_built_files() {
        let site = std::env::temp_dir().join(format!("course-book-pages-{}", std::process::id()));
        for file in [
            "index.html",
            "print.html",
            "404.html",
            "toc.html",
            "lessons/a.html",
            "css/x.html",
            "searchindex.js",
        ] {
            let path = site.join(file);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, "x").unwrap();
        }
        assert_eq!(
            pages(&site),
            [site.join("index.html"), site.join("lessons/a.html")]
        );
        let _ = fs::remove_dir_all(&site);
    }
}
