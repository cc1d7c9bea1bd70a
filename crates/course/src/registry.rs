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
