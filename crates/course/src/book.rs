//! `cargo course book [--check]`: the pages as an mdBook site in target/book, and a check of every
//! page as a reader sees it — loaded from disk in headless Chromium, driven over the DevTools
//! protocol: no broken internal link or anchor, no missing image, no JavaScript error, no empty
//! page, a search that finds a word offline; one screenshot per page in target/book-shots/.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use lesson_common::{Exit, fail, fail_with};
use test_support::process::{self, run_bounded};

use crate::json::{self, Json, quote};
use crate::registry::LESSONS;
use crate::scratch::Scratch;

pub(crate) const HELP: &str = "\
usage: cargo course book [--check]

Build the course's pages into a site in target/book with mdBook; open target/book/index.html.
mdBook compiles from crates.io in a few minutes: `cargo install --locked mdbook --version 0.5.4
--no-default-features --features search`. With --check, then load every page from disk in headless Chromium
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
        // Chromium's DevTools pipes are fds 3 and 4, set up by a POSIX shell: Windows has
        // neither, and this check does not run there.
        if cfg!(windows) {
            return Err(fail(
                "book --check needs a POSIX shell to drive Chromium (Linux or macOS); the site is \
                 built in target/book",
            ));
        }
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
                "mdBook is not installed: install it with `cargo install --locked mdbook --version \
                 0.5.4 --no-default-features --features search` (it compiles for a few minutes)",
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
    /// Commands in table cells that the browser broke across lines (`cargo run -` / `p socket-`):
    /// copied from the page, they come out wrong.
    broken_commands: Vec<String>,
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
        for command in &page_seen.broken_commands {
            problems.push(format!(
                "{name}: the command `{command}` in a table is broken across lines"
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

/// Headless Chromium and one page of it, over the DevTools protocol. The protocol runs over two
/// pipes (`--remote-debugging-pipe`: commands in on Chromium's fd 3, answers and events out on its
/// fd 4, each message ended by a NUL byte), so no WebSocket stack is needed; and when the course
/// tool ends, however it ends, Chromium reads the end of its pipe and quits.
struct Browser {
    chromium: Child,
    /// Chromium's fd 3.
    commands: ChildStdin,
    /// Every message Chromium wrote to its fd 4, read on a thread.
    messages: Receiver<Json>,
    /// The session of the page being driven (`Target.attachToTarget` with `flatten`).
    session: String,
    next_id: u64,
    events: Vec<Json>,
    /// Chromium's profile folder: a scratch folder, so an interrupt removes it too.
    _profile: Scratch,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.chromium.kill();
        let _ = self.chromium.wait();
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
        let profile = Scratch::new("chromium")?;
        // std gives a child only fds 0, 1 and 2, so a shell moves our two pipes to 3 and 4 before
        // it becomes Chromium (exec keeps the pid, so killing it kills Chromium).
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(r#"exec "$@" 3<&0 4>&1 0</dev/null 1>&2"#)
            .arg("sh")
            .arg(program);
        // A closed network: without these flags Chromium keeps trying to reach Google's hosts.
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
                // Not even a lookup: Chromium still asks DNS for Google's hosts (about 130
                // queries a run), and the pages are files on disk.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
            ])
            .args([
                "--allow-file-access-from-files",
                "--remote-debugging-pipe",
                "--window-size=1280,1000",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut chromium =
            process::spawn(&mut command).map_err(|e| fail_with("cannot start Chromium", e))?;
        let (Some(commands), Some(answers)) = (chromium.stdin.take(), chromium.stdout.take())
        else {
            let _ = chromium.kill();
            return Err(fail("cannot open Chromium's DevTools pipes"));
        };
        let mut browser = Browser {
            chromium,
            commands,
            messages: read_messages(answers),
            session: String::new(),
            next_id: 0,
            events: Vec::new(),
            _profile: profile,
        };
        // The page Chromium opened on about:blank, driven through a session of its own.
        let targets = browser.call("Target.getTargets", "{}")?;
        let page = targets["targetInfos"]
            .as_array()
            .and_then(|all| all.iter().find(|t| t["type"] == "page"))
            .and_then(|t| t["targetId"].as_str())
            .map(String::from);
        let Some(page) = page else {
            return Err(fail("Chromium gave no page to drive"));
        };
        let attached = browser.call(
            "Target.attachToTarget",
            &format!(r#"{{"targetId":{},"flatten":true}}"#, quote(&page)),
        )?;
        browser.session = attached["sessionId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        for method in ["Page.enable", "Runtime.enable", "Log.enable"] {
            browser.call(method, "{}")?;
        }
        Ok(browser)
    }

    /// Write one message to Chromium: to the page's session once there is one, else to the
    /// browser itself. Returns its id.
    fn send(&mut self, method: &str, params: &str) -> Result<u64, Exit> {
        self.next_id += 1;
        let mut message = format!(
            r#"{{"id":{},"method":{},"params":{params}"#,
            self.next_id,
            quote(method)
        );
        if !self.session.is_empty() && !method.starts_with("Browser.") {
            let _ = write!(message, r#","sessionId":{}"#, quote(&self.session));
        }
        message.push('}');
        let mut bytes = message.into_bytes();
        bytes.push(0);
        self.commands
            .write_all(&bytes)
            .and_then(|()| self.commands.flush())
            .map_err(|e| fail_with(format!("Chromium: {method}"), e))?;
        Ok(self.next_id)
    }

    /// The next message from Chromium, waiting until `deadline` at most.
    fn next_message(&mut self, deadline: Instant, what: &str) -> Result<Json, Exit> {
        match self
            .messages
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            Ok(value) => Ok(value),
            Err(RecvTimeoutError::Timeout) => Err(fail(format!(
                "Chromium: no answer to {what} within {WAIT:?}"
            ))),
            Err(RecvTimeoutError::Disconnected) => Err(fail(format!(
                "Chromium: it closed its DevTools pipe during {what}"
            ))),
        }
    }

    /// Send one command and wait for its answer, keeping the events that come meanwhile.
    fn call(&mut self, method: &str, params: &str) -> Result<Json, Exit> {
        let id = self.send(method, params)?;
        let deadline = Instant::now() + WAIT;
        loop {
            let value = self.next_message(deadline, method)?;
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
        while !self.events.iter().any(|e| e["method"] == method) {
            let value = self.next_message(deadline, &format!("waiting for {method}"))?;
            self.events.push(value);
        }
        Ok(())
    }

    /// The value of a JavaScript expression on the page.
    fn eval(&mut self, expression: &str) -> Result<Json, Exit> {
        let result = self.call(
            "Runtime.evaluate",
            &format!(
                r#"{{"expression":{},"returnByValue":true,"awaitPromise":true}}"#,
                quote(expression)
            ),
        )?;
        Ok(result["result"]["value"].clone())
    }

    /// Load `page` from disk, look at it as a reader would, and screenshot it to `shot`.
    fn visit(&mut self, page: &Path, shot: &Path) -> Result<Seen, Exit> {
        self.events.clear();
        let url = format!("file://{}", page.display());
        self.call("Page.navigate", &format!(r#"{{"url":{}}}"#, quote(&url)))?;
        self.wait_for("Page.loadEventFired")?;
        // Scripts run on load (the theme, the sidebar, the search): let them settle.
        self.eval("new Promise(done => setTimeout(done, 150))")?;
        let facts = self.eval(
            "({ text: (document.querySelector('main') || document.body).innerText.trim().length,
                links: [...document.querySelectorAll('a[href]')].map(a => a.href),
                brokenImages: [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src),
                ids: [...document.querySelectorAll('[id]')].map(e => e.id),
                emptyCode: [...document.querySelectorAll('main pre code')].filter(c => c.textContent.trim() === '').length,
                brokenCommands: [...document.querySelectorAll('main td code')].filter(c => c.getClientRects().length > 1).map(c => c.textContent) })",
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
            r#"{"format":"png","captureBeyondViewport":true}"#,
        )?;
        let Some(png) = base64_decode(shot_data["data"].as_str().unwrap_or("")) else {
            return Err(fail("Chromium's screenshot is not base64"));
        };
        fs::write(shot, png)
            .map_err(|e| fail_with(format!("cannot write {}", shot.display()), e))?;
        Ok(Seen {
            text: facts["text"].as_u64().unwrap_or(0) as usize,
            links: strings("links"),
            broken_images: strings("brokenImages"),
            ids: strings("ids").into_iter().collect(),
            errors: self.events.iter().filter_map(error_of).collect(),
            empty_code: facts["emptyCode"].as_u64().unwrap_or(0) as usize,
            broken_commands: strings("brokenCommands"),
        })
    }

    /// Load `page` with the system set to dark and screenshot it: the theme mdBook picked (the
    /// classes of `<html>`).
    fn dark_theme(&mut self, page: &Path, shot: &Path) -> Result<String, Exit> {
        let dark = r#"{"features":[{"name":"prefers-color-scheme","value":"dark"}]}"#;
        self.call("Emulation.setEmulatedMedia", dark)?;
        let seen = self.visit(page, shot)?;
        let theme = self.eval("document.documentElement.className")?;
        self.call("Emulation.setEmulatedMedia", r#"{"features":[]}"#)?;
        if let Some(error) = seen.errors.first() {
            return Err(fail(format!("the dark theme: {error}")));
        }
        Ok(theme.as_str().unwrap_or_default().to_string())
    }

    /// Ask Chromium to quit, so that it takes its helper processes with it; Drop kills whatever is
    /// left after a few seconds.
    fn close(mut self) {
        // No waiting for the answer: a browser that quits may not send one.
        let _ = self.send("Browser.close", "{}");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && matches!(self.chromium.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Type `word` into the page's search box and count the results, as a reader would, offline.
    fn search(&mut self, page: &Path, word: &str) -> Result<usize, Exit> {
        self.events.clear();
        self.call(
            "Page.navigate",
            &format!(
                r#"{{"url":{}}}"#,
                quote(&format!("file://{}", page.display()))
            ),
        )?;
        self.wait_for("Page.loadEventFired")?;
        // Each wait polls for what it waits for (the search bar, then results), bounded at 5 s: a
        // fixed pause is either too long or, on a slow machine, too short.
        let script = format!(
            "new Promise(done => {{
                const until = (ready, then, left = 100) => ready() || left === 0
                    ? then() : setTimeout(() => until(ready, then, left - 1), 50);
                const toggle = document.getElementById('mdbook-search-toggle'); if (toggle) toggle.click();
                const bar = () => document.getElementById('mdbook-searchbar');
                const results = () => document.querySelectorAll('#mdbook-searchresults li').length;
                until(bar, () => {{
                    if (!bar()) return done(0);
                    bar().value = {word:?};
                    bar().dispatchEvent(new KeyboardEvent('keyup', {{key: 'g', bubbles: true}}));
                    until(() => results() > 0, () => done(results()));
                }});
            }})"
        );
        Ok(self.eval(&script)?.as_u64().unwrap_or(0) as usize)
    }
}

/// The words of a console error, an uncaught exception or an error in the browser's log.
fn error_of(event: &Json) -> Option<String> {
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

/// Chromium's messages from `pipe`, each ended by a NUL byte, parsed on a thread of their own;
/// the channel closes when Chromium closes its end.
fn read_messages(mut pipe: impl Read + Send + 'static) -> Receiver<Json> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let mut pending = Vec::new();
        let mut chunk = [0u8; 64 * 1024];
        while let Ok(n @ 1..) = pipe.read(&mut chunk) {
            pending.extend_from_slice(&chunk[..n]);
            while let Some(end) = pending.iter().position(|&b| b == 0) {
                let message: Vec<u8> = pending.drain(..=end).collect();
                if let Some(value) = std::str::from_utf8(&message[..end])
                    .ok()
                    .and_then(json::parse)
                    && send.send(value).is_err()
                {
                    return;
                }
            }
        }
    });
    receive
}

/// The bytes of standard base64 text (Chromium's screenshots), or `None` if it is not that.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let text = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut bits, mut count) = (0u32, 0);
    for &c in text {
        bits = (bits << 6) | u32::from(value(c)?);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Base64 as Chromium sends it: padding, every alphabet range, and a non-base64 byte refused.
    #[test]
    fn decodes_base64() {
        assert_eq!(base64_decode("aGk=").unwrap(), b"hi");
        assert_eq!(base64_decode("AAECAw==").unwrap(), [0, 1, 2, 3]);
        assert_eq!(base64_decode("+/9z").unwrap(), [0xfb, 0xff, 0x73]);
        assert_eq!(base64_decode("").unwrap(), b"");
        assert!(base64_decode("a*b=").is_none());
    }

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
