//! The lesson registry: the one table every course command and the docs test read.
//!
//! Adding an eighth lesson is its crate (`crates/NAME`), its page (`docs/lessons/NAME.md`) and one
//! row here; the docs test then names whatever else is missing (a link in the course map, SUMMARY).

/// The port the book's server listings bind, and so the lessons' default port.
pub use lesson_common::LISTING_PORT;

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
    /// The socket calls it teaches, for the course map.
    pub teaches: &'static str,
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
