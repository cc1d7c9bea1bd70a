//! The lab link running (issue 18): the wire (`crates/lab-wire`) between the lab's two network
//! namespaces, and programs started on either side of it. The lab command and `trace --link`
//! stand on this; the link's decisions are [`crate::link`]'s.
//!
//! A command that uses the lab first runs itself again inside a user and network namespace of its
//! own ([`crate::tether::enter_lab`]): that namespace is the *client's* side, where the tool and
//! the wire run. The wire makes the *server's* side, a second network namespace, on a thread of
//! its own, and names it; [`Lab::start_on`] starts a program there by moving a short-lived thread
//! of ours into it first (a child starts in the network namespace of the thread that forks it).

use std::fs::File;
use std::process::Command;
use std::time::Duration;

use lesson_common::{Exit, fail, fail_with, usage};
use test_support::process::{NoLine, Spawned};

use crate::link::log::{Event, parse_end};
use crate::link::{Counters, Direction, Spec};
use crate::registry::{LESSONS, Lesson, Partner, Role};

/// The client's side: its addresses.
pub const CLIENT_V4: &str = "192.0.2.1";
pub const CLIENT_V6: &str = "2001:db8::1";
/// The server's side.
pub const SERVER_V4: &str = "192.0.2.2";
pub const SERVER_V6: &str = "2001:db8::2";

/// How long the wire may take to make its devices and namespaces.
const STARTUP: Duration = Duration::from_secs(10);

/// A side of the link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

impl Side {
    pub fn parse(word: &str) -> Result<Side, Exit> {
        match word {
            "client" => Ok(Side::Client),
            "server" => Ok(Side::Server),
            other => Err(usage(format!(
                "a side is `client` or `server`, not '{other}'"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }

    /// Its IPv4 and IPv6 addresses.
    pub fn addresses(self) -> (&'static str, &'static str) {
        match self {
            Side::Client => (CLIENT_V4, CLIENT_V6),
            Side::Server => (SERVER_V4, SERVER_V6),
        }
    }
}

/// A link spec as the learner typed it, and the seed of its random decisions.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The spec's own text (the wire reads it again); `loss=0%` when none was given.
    pub text: String,
    pub spec: Spec,
    pub seed: u64,
}

impl Settings {
    /// `--link SPEC` and `--seed N`, as given (or none): a bad spec or seed is a usage error with
    /// the grammar.
    pub fn parse(link: Option<String>, seed: Option<String>) -> Result<Settings, Exit> {
        let text = link.unwrap_or_else(|| "loss=0%".to_string());
        let spec = Spec::parse(&text)?;
        let seed = match seed {
            None => crate::link::fresh_seed(),
            Some(seed) => seed.parse().map_err(|_| {
                usage(format!(
                    "--seed wants a whole number from 0 to {}, not '{seed}'",
                    u64::MAX
                ))
            })?,
        };
        Ok(Settings { text, spec, seed })
    }

    /// `link: loss 30% both ways, seed 7` and, for a profile (whose items the spec shows), what it
    /// is like.
    pub fn said(&self) -> String {
        let mut line = format!("link: {}, seed {}", self.spec, self.seed);
        if let Some(profile) = self.spec.profile() {
            line.push_str(&format!(": {}", profile.about));
        }
        line
    }
}

/// The lab, up: the wire running, both sides' namespaces named.
pub struct Lab {
    wire: Spawned,
    /// The server side's network namespace, open (so it outlives nothing it should not: the
    /// wire's thread holds it, and this file only names it while the wire runs).
    server: File,
    /// The namespaces' files, as any process of the machine may open them (`lab on`).
    pub client_file: String,
    pub server_file: String,
    /// When the link came up, on the machine's clock (µs since the Unix epoch).
    pub start_us: u64,
    /// What the wire said besides (the loopback left down, say).
    pub notes: Vec<String>,
    pub settings: Settings,
}

/// What the link did, once the lab is down.
pub struct Finished {
    /// Each packet's fate, in the order decided (only when asked for at [`Lab::start`]).
    pub events: Vec<Event>,
    pub towards_server: Counters,
    pub towards_client: Counters,
    /// The closing line: `link: loss 30% both ways, seed 7 — 2 of 11 packets dropped, …`.
    pub summary: String,
}

impl Lab {
    /// Start the wire. Only inside the lab's namespaces ([`crate::tether::enter_lab`]); `events`:
    /// whether it writes each packet's fate (for a trace).
    pub fn start(settings: &Settings, events: bool) -> Result<Lab, Exit> {
        let wire = crate::workspace::binary("lab-wire")?;
        let mut command = Command::new(wire);
        command.arg(&settings.text).arg(settings.seed.to_string());
        if events {
            command.arg("--events");
        }
        let spawned = Spawned::start_holding(&mut command)
            .map_err(|e| fail_with("cannot start the lab's wire", e))?;
        let mut notes = Vec::new();
        loop {
            match spawned.line(STARTUP) {
                Ok(line) if line.starts_with("note ") => notes.push(line[5..].to_string()),
                Ok(line) if line.starts_with("ready ") => {
                    let fields: Vec<&str> = line.split(' ').collect();
                    let [_, client, server, start] = fields[..] else {
                        return Err(fail(format!("the wire said {line:?}")));
                    };
                    let file = File::open(server).map_err(|e| {
                        fail_with(
                            format!("cannot open the server side's namespace {server}"),
                            e,
                        )
                    })?;
                    return Ok(Lab {
                        client_file: client.to_string(),
                        server_file: server.to_string(),
                        server: file,
                        start_us: start.parse().unwrap_or(0),
                        wire: spawned,
                        notes,
                        settings: settings.clone(),
                    });
                }
                Ok(other) => return Err(fail(format!("the wire said {other:?}"))),
                Err(why) => return Err(wire_failed(&spawned, why)),
            }
        }
    }

    /// Start `command` on `side`, its stdin closed at once, its output captured.
    pub fn start_on(&self, side: Side, command: &mut Command) -> std::io::Result<Spawned> {
        self.on(side, || Spawned::start(command, b""))
    }

    /// Run `work` on a thread in `side`'s network namespace: what it starts starts there.
    pub fn on<T: Send>(
        &self,
        side: Side,
        work: impl FnOnce() -> std::io::Result<T> + Send,
    ) -> std::io::Result<T> {
        match side {
            // The tool itself runs on the client's side.
            Side::Client => work(),
            Side::Server => std::thread::scope(|scope| {
                let server = &self.server;
                scope
                    .spawn(move || {
                        enter(server)?;
                        work()
                    })
                    .join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("the thread panicked")))
            }),
        }
    }

    /// The Python-style address of a side's IPv4 end, for the checks: `192.0.2.2`.
    pub fn address(side: Side) -> &'static str {
        side.addresses().0
    }

    /// Whether the wire still runs.
    pub fn running(&mut self) -> bool {
        self.wire.is_running()
    }

    /// Take the link down: the wire writes its counts and ends.
    pub fn finish(mut self) -> Result<Finished, Exit> {
        self.wire.close_stdin();
        let mut events = Vec::new();
        let mut ends = Vec::new();
        loop {
            match self.wire.line(STARTUP) {
                Ok(line) => {
                    if let Some(event) = Event::parse(&line) {
                        events.push(event);
                    } else if let Some(end) = parse_end(&line) {
                        ends.push(end);
                    }
                }
                Err(NoLine::Closed) => break,
                Err(NoLine::Timeout) => return Err(fail("the wire did not end when told to")),
            }
        }
        let count = |direction| {
            ends.iter()
                .find(|(d, _)| *d == direction)
                .map(|(_, c)| *c)
                .ok_or_else(|| fail("the wire ended without its counts"))
        };
        let towards_server = count(Direction::ToServer)?;
        let towards_client = count(Direction::ToClient)?;
        let summary = crate::link::summary(
            &self.settings.spec,
            self.settings.seed,
            towards_server.plus(towards_client),
        );
        Ok(Finished {
            events,
            towards_server,
            towards_client,
            summary,
        })
    }
}

/// Move the calling thread into the network namespace `file` names.
#[cfg(target_os = "linux")]
fn enter(file: &File) -> std::io::Result<()> {
    nix::sched::setns(file, nix::sched::CloneFlags::CLONE_NEWNET).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn enter(_file: &File) -> std::io::Result<()> {
    Err(std::io::Error::other("the lab needs Linux"))
}

/// Why the wire did not come up, in one line that says what is missing and how to get it.
fn wire_failed(wire: &Spawned, why: NoLine) -> Exit {
    let (_, err) = wire.lines_so_far();
    let said = err.join(" / ");
    if said.contains("No such file or directory") && said.contains("TUN") {
        return fail(
            "the lab link needs /dev/net/tun, the kernel's TUN driver, and it is not here: \
             `sudo modprobe tun` loads it (in a container, start it with --device /dev/net/tun)",
        );
    }
    if said.contains("Permission denied") && said.contains("TUN") {
        return fail(
            "the lab link cannot open /dev/net/tun (permission denied): it is root's alone here \
             (mode 0600); `sudo chmod 0666 /dev/net/tun` gives it the mode Debian, Ubuntu and \
             Fedora ship",
        );
    }
    match why {
        NoLine::Timeout => fail(format!(
            "the lab's wire did not come up within {STARTUP:?}: {said}"
        )),
        NoLine::Closed => fail(format!("the lab's wire could not start: {said}")),
    }
}

/// Check, before anything is made, that this machine has what the lab needs that can be checked
/// from outside: Linux, and the TUN driver's device file. The namespaces are checked by making
/// them ([`crate::tether::enter_lab`]).
pub fn preflight(command: &str) -> Result<(), Exit> {
    if !cfg!(target_os = "linux") {
        let system = crate::text::system();
        return Err(fail(format!(
            "{command} needs Linux (network namespaces and TUN devices); on {system}, run the \
             course in a Linux VM (or WSL2) to use the lab link"
        )));
    }
    if !std::path::Path::new("/dev/net/tun").exists() {
        return Err(fail(
            "the lab link needs /dev/net/tun, the kernel's TUN driver, and it is not here: \
             `sudo modprobe tun` loads it (in a container, start it with --device /dev/net/tun)",
        ));
    }
    Ok(())
}

/// The client lesson of `lesson`'s pair: itself, or the client whose partner it is.
pub fn client_of(lesson: &'static Lesson) -> Result<&'static Lesson, Exit> {
    match lesson.role {
        Role::Client => Ok(lesson),
        Role::Server => LESSONS
            .iter()
            .find(|l| l.partner == Partner::Lesson(lesson.name))
            .ok_or_else(|| fail(format!("no lesson is {}'s client", lesson.name))),
        Role::Lookup => Err(usage(format!(
            "{} asks the resolver only: it has no partner to reach across the link (the lab \
             runs socket-info, http-fetch and udp-client with their partners)",
            lesson.name
        ))),
    }
}

/// Whether `words` (an error's) say that the lab cannot run on this machine (not Linux, no
/// /dev/net/tun, no user namespaces), as [`preflight`], the wire and the tether word it: a reason
/// to skip what needs the lab, not a failure.
pub fn cannot(words: &str) -> bool {
    [
        "needs Linux",
        "the lab link needs",
        "the lab link cannot open",
    ]
    .iter()
    .any(|w| words.contains(w))
}
