//! The lesson registry: the one table every course command and the docs test read.
//!
//! Adding an eighth lesson is its crate (`crates/NAME`), its page (`docs/lessons/NAME.md`) and one
//! row here; the docs test then names whatever else is missing (a link in the course map, SUMMARY).

/// The port the book's server listings bind, and so the lessons' default port.
pub use lesson_common::LISTING_PORT;

/// The port the http-fetch page's recipe serves on (`python3 -m http.server`'s default).
pub const HTTP_PORT: u16 = 8000;

/// What a lesson is to its peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Connects to (or sends to) a server: runs after its partner is up.
    Client,
    /// Binds a port and serves until stopped.
    Server,
    /// Asks the resolver only: no peer.
    Lookup,
}

/// Who the lesson talks to in the tour, compare and trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partner {
    /// Another lesson of the course.
    Lesson(&'static str),
    /// A small HTTP server (the course tool serves one file on loopback).
    HttpServer,
    /// Nobody: a lookup lesson.
    None,
}

/// One lesson of the course.
#[derive(Debug)]
pub struct Lesson {
    /// Package name = folder under `crates/` = binary name = page `docs/lessons/NAME.md`.
    pub name: &'static str,
    /// The chapter of *Foundations of Python Network Programming* (1st edition).
    pub chapter: u8,
    /// The listing it ports, as the book titles it.
    pub listing: &'static str,
    pub role: Role,
    pub partner: Partner,
    /// The arguments a learner runs it with beside its partner (`cargo run -p NAME -- ARGS`).
    pub run_args: &'static [&'static str],
    /// The arguments for a run against a partner on an ephemeral port: the word `PORT` stands for
    /// the partner's port (tour, compare, trace, transcripts).
    pub peer_args: &'static [&'static str],
    /// What the lesson reads on stdin in those runs.
    pub stdin: &'static str,
    /// What the tour checks in its stdout when it runs beside its partner (and exit 0, always).
    pub checks: &'static [Check],
    /// What the tour says when every check of the pair passed (`{NAME}` as in the checks).
    pub ok: &'static str,
    /// The lines (patterns, as in the checks; any one) a client ends with on stderr, exit 1, when
    /// it gives up waiting for its peer after its timeout: what a client should do when a bad link
    /// drops its packets (`cargo course lab` then says so, exit 0). Empty: no such line.
    pub gives_up: &'static [&'static str],
    /// How `cargo course compare` holds it next to the learner's copy of the listing.
    pub compare: Compare,
    /// The socket calls it teaches, for the course map.
    pub teaches: &'static str,
}

/// What the tour checks in one side's stdout. In a pattern, `{NAME}` stands for any text, and for
/// the same text wherever NAME appears again on either side of the pair (the client's checks run
/// first); `{PORT}` is the partner's port, `{SERVER}` its address and `{CLIENT}` the client's (both
/// 127.0.0.1, or the lab link's 192.0.2.2 and 192.0.2.1), and `{_}` any text at all.
#[derive(Clone, Copy, Debug)]
pub enum Check {
    /// Some line matches the pattern.
    Line(&'static str),
    /// Some line matches one of the patterns.
    AnyLine(&'static [&'static str]),
    /// The output begins with exactly these lines.
    Starts(&'static [&'static str]),
    /// Everything after the HTTP head (the first empty line) is the served file, byte for byte.
    ServedFile,
    /// The output is not empty.
    NotEmpty,
}

/// How `cargo course compare` runs a lesson beside the learner's copy of its listing.
#[derive(Debug)]
pub struct Compare {
    /// How long the lesson's side may run (plus any `--pause` or `--timeout`). A client's listing
    /// runs beside it and is stopped, at the latest, that long plus a grace of a second and its
    /// interpreter's start-up: still running then is not a difference (udp.py waits for ever).
    pub limit_secs: u64,
    /// What to change in the listing as the book prints it when it connects to a fixed remote
    /// host, shown when compare refuses it; empty when the listing runs as typed.
    pub edit: &'static str,
    /// The scripted client a server lesson gets: three connections or three datagrams.
    pub scripted: Scripted,
    /// The outputs are `getaddrinfo` tuples: the lesson prints one a line with a comment, Python
    /// one list, so the tuples themselves are compared.
    pub tuples: bool,
}

/// The scripted client of a server comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scripted {
    /// Not a server.
    None,
    /// Three TCP connections, each read until the server closes it.
    Connections,
    /// Three UDP datagrams, each waited for until it comes back.
    Datagrams,
}

/// The lessons, in course order.
pub static LESSONS: &[Lesson] = &[
    Lesson {
        name: "socket-info",
        chapter: 2,
        listing: "Information Example",
        role: Role::Client,
        partner: Partner::Lesson("tcp-listener"),
        run_args: &["127.0.0.1", "51423"],
        peer_args: &["127.0.0.1", "PORT"],
        stdin: "",
        // The point of the lesson: getsockname() on the client is the address the server's
        // accept() reports, and getpeername() is the server's own address.
        checks: &[
            Check::Line("Connected to ('{SERVER}', {PORT})"),
            Check::Line("Connected from {FROM}"),
        ],
        ok: "socket-info connected from {FROM}, and tcp-listener logged that same address",
        gives_up: &[
            // connect_timeout's own timer, or the kernel's SYN retries running out first.
            "error: cannot connect to ('{SERVER}', {PORT}): timed out",
            "error: cannot connect to ('{SERVER}', {PORT}): connection timed out",
            "error: cannot connect to ('{SERVER}', {PORT}): Connection timed out (os error 110)",
        ],
        compare: Compare {
            limit_secs: 15,
            // The book's listing connects to www.google.com on the `http` port (80); the lesson
            // takes HOST and PORT from its command line. Two lines make the listing do the same.
            edit: "`port = socket.getservbyname('http', 'tcp')` becomes \
                   `import sys; port = int(sys.argv[2])`, and `s.connect((\"www.google.com\", port))` \
                   becomes `s.connect((sys.argv[1], port))`",
            scripted: Scripted::None,
            tuples: false,
        },
        teaches: "`socket`, `getservbyname`, `connect`, `getsockname`, `getpeername`",
    },
    Lesson {
        name: "http-fetch",
        chapter: 2,
        listing: "Error Handling Example With Shutdown and File-Like Objects",
        role: Role::Client,
        partner: Partner::HttpServer,
        run_args: &["--pause", "0", "127.0.0.1", "8000", "/"],
        peer_args: &["--pause", "0", "127.0.0.1", "PORT", "/hello.txt"],
        stdin: "",
        checks: &[
            Check::Starts(&["sleeping", "Continuing."]),
            Check::Line("HTTP/1.0 200 {_}"),
            Check::ServedFile,
        ],
        ok: "the body http-fetch printed is the served file, byte for byte",
        gives_up: &[
            "error: Connection error: timed out after {_}",
            "error: Error receiving data: timed out after {_}",
            "error: Error receiving data: response not complete within the {_} deadline",
        ],
        compare: Compare {
            limit_secs: 15,
            edit: "",
            scripted: Scripted::None,
            tuples: false,
        },
        teaches: "`connect`, `makefile` (buffered reader and writer), `flush`, `shutdown(SHUT_WR)`, \
                  `read` to EOF, the error classes",
    },
    Lesson {
        name: "udp-client",
        chapter: 2,
        listing: "UDP Example (udp.py)",
        role: Role::Client,
        partner: Partner::Lesson("udp-echo-server"),
        run_args: &["127.0.0.1", "51423"],
        peer_args: &["--timeout", "1", "127.0.0.1", "PORT"],
        stdin: "hello\n",
        checks: &[Check::Line("Received: hello")],
        ok: "`hello` went out and came back, and udp-echo-server logged its sender",
        gives_up: &["error: no reply from ('{SERVER}', {PORT}) within {_} s"],
        compare: Compare {
            limit_secs: 4,
            edit: "",
            scripted: Scripted::None,
            tuples: false,
        },
        teaches: "`socket(SOCK_DGRAM)`, `connect` on UDP, `send`, `shutdown` on UDP, `recv`",
    },
    Lesson {
        name: "tcp-listener",
        chapter: 3,
        listing: "TCP server: the four steps and the accept loop",
        role: Role::Server,
        partner: Partner::Lesson("socket-info"),
        run_args: &[],
        peer_args: &["0"],
        stdin: "",
        checks: &[Check::Line("Got connection from {FROM}")],
        ok: "",
        gives_up: &[],
        compare: Compare {
            limit_secs: 15,
            edit: "",
            scripted: Scripted::Connections,
            tuples: false,
        },
        teaches: "`socket`, `setsockopt(SO_REUSEADDR)`, `bind`, `listen`, `accept`",
    },
    Lesson {
        name: "udp-echo-server",
        chapter: 3,
        listing: "UDP Echo Server (udpechoserver.py)",
        role: Role::Server,
        partner: Partner::Lesson("udp-client"),
        run_args: &[],
        peer_args: &["0"],
        stdin: "",
        checks: &[Check::Line("Got data from ('{CLIENT}', {_})")],
        ok: "",
        gives_up: &[],
        compare: Compare {
            limit_secs: 15,
            edit: "",
            scripted: Scripted::Datagrams,
            tuples: false,
        },
        teaches: "`bind`, `recvfrom`, `sendto`",
    },
    Lesson {
        name: "addr-info",
        chapter: 4,
        listing: "getaddrinfo() result tuples",
        role: Role::Lookup,
        partner: Partner::None,
        run_args: &["localhost", "http"],
        peer_args: &["localhost", "http"],
        stdin: "",
        // localhost resolves through /etc/hosts, so a loopback address must be among the tuples.
        checks: &[Check::AnyLine(&["{_}('127.0.0.1', {_}", "{_}('::1', {_}"])],
        ok: "exit 0, and a loopback address among the tuples",
        gives_up: &[],
        compare: Compare {
            limit_secs: 15,
            edit: "",
            scripted: Scripted::None,
            tuples: true,
        },
        teaches: "`getaddrinfo`",
    },
    Lesson {
        name: "dns-validate",
        chapter: 4,
        listing: "Double (reverse, then forward) DNS validation",
        role: Role::Lookup,
        partner: Partner::None,
        run_args: &["127.0.0.1"],
        peer_args: &["127.0.0.1"],
        stdin: "",
        // Exit 0 covers both outcomes the listing treats as fine: a validated name, and none.
        checks: &[Check::NotEmpty],
        ok: "exit 0, and a verdict",
        gives_up: &[],
        compare: Compare {
            limit_secs: 15,
            edit: "",
            scripted: Scripted::None,
            tuples: false,
        },
        teaches: "`gethostbyaddr`, `getaddrinfo`",
    },
];

/// The lesson called `name`, or a usage error that lists the lessons.
pub fn find(name: &str) -> Result<&'static Lesson, lesson_common::Exit> {
    LESSONS.iter().find(|l| l.name == name).ok_or_else(|| {
        let names: Vec<&str> = LESSONS.iter().map(|l| l.name).collect();
        lesson_common::usage(format!(
            "unknown lesson '{name}' (one of: {})",
            names.join(", ")
        ))
    })
}

impl Lesson {
    /// The command a learner types: `cargo run -p NAME -- ARGS`, with `echo …|` for stdin.
    pub fn run_command(&self) -> String {
        let mut command = format!("cargo run -p {}", self.name);
        if !self.run_args.is_empty() {
            command = format!("{command} -- {}", self.run_args.join(" "));
        }
        match self.stdin.trim_end() {
            "" => command,
            line => format!("echo {line} | {command}"),
        }
    }

    /// The partner's name for the course map.
    pub fn partner_name(&self) -> &'static str {
        match self.partner {
            Partner::Lesson(name) => name,
            Partner::HttpServer => "an HTTP server on loopback",
            Partner::None => "—",
        }
    }
}

/// What a lab experiment's client reads on stdin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// The lesson's own (the registry's `stdin`).
    Lesson,
    /// A line of this many `x`s: a datagram bigger than the link's packets.
    Xs(usize),
}

/// One "On a bad link" experiment of a lesson page (issue 18): the pair across the lab link with
/// a fixed spec and seed, run by `cargo course lab LESSON --experiment NAME`, its output on the
/// page from a real run (`<!-- course:transcript LESSON lab NAME -->`).
#[derive(Debug)]
pub struct Experiment {
    /// The page's lesson (a client, or a server whose client runs against it).
    pub lesson: &'static str,
    /// Unique per lesson: `--experiment NAME`.
    pub name: &'static str,
    /// The link spec and the seed that make the run the page shows.
    pub link: &'static str,
    pub seed: u64,
    /// The client's arguments instead of its registry `peer_args` (PORT as there); empty: those.
    pub args: &'static [&'static str],
    pub stdin: Input,
    /// The client's checks instead of its registry ones, and what the lab says when they pass
    /// (`None`: the registry's).
    pub checks: Option<(&'static [Check], &'static str)>,
    /// Where the link keeps the pair from completing, as the page says it does: the client's
    /// last line on stderr as it gives up (exit 1); the lab then says `ok` when it does just
    /// that. `None`: the pair completes.
    pub gives_up: Option<&'static str>,
    /// The one sentence the page and `lab --help` say about it.
    pub says: &'static str,
}

/// The lab experiments, in the order the pages show them.
pub static EXPERIMENTS: &[Experiment] = &[
    Experiment {
        lesson: "socket-info",
        name: "syn-lost",
        link: "loss=30%@server",
        seed: 230,
        args: &[],
        stdin: Input::Lesson,
        checks: None,
        gives_up: None,
        says: "the first SYN is lost: the kernel sends it again after its 1 s initial RTO, and \
               connect() returns a second late",
    },
    Experiment {
        lesson: "http-fetch",
        name: "loss-delay",
        link: "loss=30%@server,delay=20ms",
        seed: 2421,
        args: &[],
        stdin: Input::Lesson,
        checks: None,
        gives_up: None,
        says: "the request's segment is lost, the FIN after it crosses, and the server's SACK \
               tells the client: its kernel resends the request a round trip and RACK's reorder \
               window later (a fast retransmit), not after a timeout, and the body arrives whole",
    },
    Experiment {
        lesson: "http-fetch",
        name: "dead-peer",
        link: "dead-after=3",
        seed: 1,
        args: &[
            "--pause",
            "0",
            "--timeout",
            "2",
            "127.0.0.1",
            "PORT",
            "/hello.txt",
        ],
        stdin: Input::Lesson,
        checks: Some((
            &[],
            "http-fetch gave up after its 2 s read timeout, with the request never answered",
        )),
        gives_up: Some("error: Error receiving data: timed out after 2s"),
        says: "the link dies after the handshake: a tail-loss probe, then the request again at \
               each retransmission timeout, doubling, into nothing; http-fetch's 2 s read \
               timeout ends the wait",
    },
    Experiment {
        lesson: "udp-client",
        name: "loss",
        link: "loss=100%@server",
        seed: 1,
        args: &[],
        stdin: Input::Lesson,
        checks: Some((
            &[],
            "udp-client gave up after its 1 s timeout, and nothing said why",
        )),
        gives_up: Some("error: no reply from ('{SERVER}', {PORT}) within 1 s"),
        says: "the datagram never arrives and nothing says so: udp-client gives up after its \
               1 s timeout",
    },
    Experiment {
        lesson: "udp-client",
        name: "fragments",
        link: "loss=0%",
        seed: 1,
        args: &[],
        stdin: Input::Xs(9000),
        checks: Some((
            &[Check::Line("Received: x{_}")],
            "the x's went out and came back, and udp-echo-server logged their sender",
        )),
        gives_up: None,
        says: "a 9000-byte datagram crosses a 1500-byte link as IP fragments, reassembled at \
               the far end",
    },
    Experiment {
        lesson: "udp-client",
        name: "small-mtu",
        link: "mtu=576",
        seed: 1,
        args: &[],
        stdin: Input::Xs(9000),
        checks: Some((
            &[Check::Line("Received: x{_}")],
            "the x's crossed as fragments of at most 576 bytes and came back whole",
        )),
        gives_up: None,
        says: "the same datagram across a 576-byte link: the sending host fragments it to the \
               link's MTU (each side's device has it), more and smaller fragments cross, and the \
               far end reassembles the datagram",
    },
    Experiment {
        lesson: "udp-echo-server",
        name: "duplicate",
        link: "duplicate=100%@server",
        seed: 1,
        args: &[],
        stdin: Input::Lesson,
        checks: None,
        gives_up: None,
        says: "the link delivers the datagram twice: the server echoes each copy, and the client \
               receives two replies to one send",
    },
];

/// `lesson`'s experiment called `name`, or a usage error that lists its experiments.
pub fn experiment(lesson: &str, name: &str) -> Result<&'static Experiment, lesson_common::Exit> {
    let mine = || EXPERIMENTS.iter().filter(move |e| e.lesson == lesson);
    mine().find(|e| e.name == name).ok_or_else(|| {
        let names: Vec<&str> = mine().map(|e| e.name).collect();
        lesson_common::usage(if names.is_empty() {
            format!("{lesson} has no lab experiments")
        } else {
            format!(
                "{lesson} has no experiment '{name}' (one of: {})",
                names.join(", ")
            )
        })
    })
}
