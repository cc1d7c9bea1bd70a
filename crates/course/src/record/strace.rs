//! Reading `strace -f -ttt -yy -o FILE` output: one [`Call`] per network system call on a socket,
//! in a short form that fits a column (`connect(3, 127.0.0.1:51423) = 0`).

/// One system call a traced program made.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// When it began: seconds since the epoch, from `-ttt`.
    pub time: f64,
    /// When it returned: `time` plus the time spent in it (`-T`); `time` where strace gave none.
    pub done: f64,
    pub pid: u32,
    pub name: String,
    /// The short form: `name(args) = result`; for a call still waiting, `name(fd) … still
    /// waiting`.
    pub text: String,
    /// Still waiting when its program was stopped: it began, and never returned.
    pub waiting: bool,
}

/// The calls that touch the network: these by name, and read/write/close only on a socket fd.
const NETWORK: &[&str] = &[
    "socket",
    "setsockopt",
    "bind",
    "listen",
    "accept",
    "accept4",
    "connect",
    "getsockname",
    "getpeername",
    "sendto",
    "recvfrom",
    "sendmsg",
    "recvmsg",
    "send",
    "recv",
    "shutdown",
    "sendmmsg",
    "recvmmsg",
];

/// Parse strace's output file. Lines split by `-f` (`<unfinished …>`, `<… name resumed>`) are
/// joined (a call's time is when it began; `-T`'s ` <0.000123>` at the end of a line gives when it
/// returned); calls that are not about the network are left out. A call cut short when its
/// program was stopped (`= ?`, or never resumed) is kept, as still waiting, when it is the last
/// its thread made: that is where the program sat when it was stopped (a server in `accept4`,
/// udp.py in `recvfrom` for ever). Cut short and then restarted, it is left out.
pub fn parse(text: &str) -> Vec<Call> {
    let mut pending: Vec<(u32, f64, String, usize)> = Vec::new();
    // Each call, with the line it ended on; and each thread's last line.
    let mut calls: Vec<(Call, usize)> = Vec::new();
    let mut last_line: Vec<(u32, usize)> = Vec::new();
    for (at, line) in text.lines().enumerate() {
        // `PID TIME CALL…`; strace pads the pid to five columns, so split on runs of spaces.
        let Some((pid, rest)) = line.trim_start().split_once(' ') else {
            continue;
        };
        let Some((time, rest)) = rest.trim_start().split_once(' ') else {
            continue;
        };
        let (Ok(pid), Ok(time)) = (pid.parse::<u32>(), time.parse::<f64>()) else {
            continue;
        };
        let rest = rest.trim_start();
        // `+++ exited with 0 +++`, `--- SIGTERM … ---`: not calls.
        if rest.starts_with("+++") || rest.starts_with("---") {
            continue;
        }
        match last_line.iter_mut().find(|(p, _)| *p == pid) {
            Some(last) => last.1 = at,
            None => last_line.push((pid, at)),
        }
        if let Some(head) = rest.strip_suffix(" <unfinished ...>") {
            pending.push((pid, time, head.to_string(), at));
            continue;
        }
        let whole = if let Some(resumed) = rest.strip_prefix("<... ") {
            let Some((_, tail)) = resumed.split_once(" resumed>") else {
                continue;
            };
            let Some(at) = pending.iter().position(|(p, ..)| *p == pid) else {
                continue;
            };
            let (_, started, head, _) = pending.remove(at);
            (started, format!("{head}{tail}"))
        } else {
            (time, rest.to_string())
        };
        let (started, line) = whole;
        let (line, spent) = split_duration(&line);
        if let Some(call) = call(pid, started, line) {
            let done = started + spent.unwrap_or(0.0);
            calls.push((Call { done, ..call }, at));
        }
    }
    // Calls still open when the log ended: strace itself was stopped first.
    for (pid, started, head, at) in pending {
        if let Some(call) = call(pid, started, &format!("{head}<unfinished ...>) = ?")) {
            calls.push((call, at));
        }
    }
    calls.sort_by_key(|a| a.1);
    let last = |pid: u32| last_line.iter().find(|(p, _)| *p == pid).map(|(_, at)| *at);
    let calls = calls
        .into_iter()
        .filter(|(call, at)| !call.waiting || last(call.pid) == Some(*at))
        .map(|(call, _)| call)
        .collect();
    fold_name_service(calls)
}

/// How much of a program's run strace's log holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogState {
    /// Every call, to the program's end (`+++ exited with N +++` or `+++ killed by SIG… +++` on
    /// the first process's line).
    Whole,
    /// Nothing at all: strace could not write it, or never started the program.
    Empty,
    /// Calls, but not the program's end: strace could not write the rest, or was stopped first.
    Cut,
}

impl std::fmt::Display for LogState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LogState::Whole => "its log is whole",
            LogState::Empty => "strace's log of it is empty",
            LogState::Cut => "strace's log of it stops before the program ended",
        })
    }
}

/// Whether a log written with `-q` (so with each process's end) is whole: the process strace
/// started, whose pid opens the first line, has its `+++ exited` or `+++ killed by` line.
pub fn log_state(text: &str) -> LogState {
    let pid_and_rest = |line: &str| -> Option<(u32, String)> {
        let (pid, rest) = line.trim_start().split_once(' ')?;
        let (_, rest) = rest.trim_start().split_once(' ')?;
        Some((pid.parse().ok()?, rest.trim_start().to_string()))
    };
    let Some((first, _)) = text.lines().find_map(pid_and_rest) else {
        return LogState::Empty;
    };
    let ended = text.lines().filter_map(pid_and_rest).any(|(pid, rest)| {
        pid == first && (rest.starts_with("+++ exited with") || rest.starts_with("+++ killed by"))
    });
    if ended {
        LogState::Whole
    } else {
        LogState::Cut
    }
}

/// A traced program's stderr split into what the program wrote and what strace itself said:
/// strace writes its messages (`strace: /tmp/…/client: No space left on device`) to the stderr it
/// shares with the program, each in one write, so one can fall inside a line the program wrote in
/// pieces. Each message goes, to its newline, and the program's line joins up again.
pub fn messages_apart(stderr: &str) -> (String, Vec<String>) {
    const PREFIX: &str = "strace: ";
    let mut kept = String::with_capacity(stderr.len());
    let mut said = Vec::new();
    let mut rest = stderr;
    while let Some(at) = rest.find(PREFIX) {
        kept.push_str(&rest[..at]);
        let message = &rest[at + PREFIX.len()..];
        let end = message.find('\n').map_or(message.len(), |e| e + 1);
        said.push(message[..end].trim_end().to_string());
        rest = &message[end..];
    }
    kept.push_str(rest);
    (kept, said)
}

/// The path of the name-service cache daemon's socket, which glibc tries before it reads
/// /etc/hosts, /etc/services or /etc/passwd.
pub const NSCD: &str = "/var/run/nscd/socket";

/// The first words of a row that folds glibc's tries to reach nscd.
pub const NSCD_ROW: &str = "nscd:";

/// glibc's tries to reach nscd — each a `socket(AF_UNIX)`, a `connect` to [`NSCD`] (`-1 ENOENT`
/// where none runs) and a `close`, and whatever else went over that socket — folded into one row
/// per run of them in a thread: `nscd: none running (4 tries)`, or `nscd: asked (2 tries)` where
/// one answered. They are the C library's, not the lesson's: four rows each, they buried
/// http.server's column and made addr-info's whole ladder.
pub fn fold_name_service(calls: Vec<Call>) -> Vec<Call> {
    let fd = |text: &str| -> String {
        let args = text.split_once('(').map_or("", |(_, a)| a);
        args.split([',', ')'])
            .next()
            .unwrap_or_default()
            .to_string()
    };
    let result = |text: &str| text.rsplit_once(" = ").map(|(_, r)| r.to_string());
    // Which calls belong to a try: from the Unix socket to its close, on that thread and fd.
    let mut folded = vec![false; calls.len()];
    for (at, call) in calls.iter().enumerate() {
        if !call.text.starts_with("socket(AF_UNIX") {
            continue;
        }
        let Some(socket) = result(&call.text) else {
            continue;
        };
        let mut same = Vec::new();
        for (later, next) in calls.iter().enumerate().skip(at + 1) {
            if next.pid != call.pid {
                continue;
            }
            // A new socket on that fd number: the old one was closed unseen.
            if ["socket", "accept", "accept4"].contains(&next.name.as_str())
                && result(&next.text).as_deref() == Some(socket.as_str())
            {
                break;
            }
            if fd(&next.text) == socket {
                same.push(later);
                if next.name == "close" {
                    break;
                }
            }
        }
        let first = same.first().map(|&i| &calls[i]);
        if first.is_some_and(|c| c.name == "connect" && c.text.contains(NSCD)) {
            folded[at] = true;
            for i in same {
                folded[i] = true;
            }
        }
    }
    // One row per run of them in a thread, with how many tries and whether one was answered.
    let mut out: Vec<Call> = Vec::new();
    let mut open: Vec<(u32, usize, u32, bool)> = Vec::new(); // pid, row in out, tries, answered
    for (call, folded) in calls.into_iter().zip(folded) {
        let at = open.iter().position(|(pid, ..)| *pid == call.pid);
        if !folded {
            if let Some(at) = at {
                open.remove(at);
            }
            out.push(call);
            continue;
        }
        let row = match at {
            Some(at) => at,
            None => {
                out.push(Call {
                    name: "nscd".into(),
                    text: String::new(),
                    waiting: false,
                    ..call.clone()
                });
                open.push((call.pid, out.len() - 1, 0, false));
                open.len() - 1
            }
        };
        let (_, index, tries, answered) = &mut open[row];
        if call.name == "connect" {
            *tries += 1;
            *answered |= result(&call.text).is_none_or(|r| !r.starts_with('-'));
        }
        let plural = if *tries == 1 { "try" } else { "tries" };
        let what = if *answered { "asked" } else { "none running" };
        out[*index].text = format!("{NSCD_ROW} {what} ({tries} {plural})");
        out[*index].done = call.done;
    }
    out
}

/// `… = 3 <0.000044>` → (`… = 3`, 0.000044 s): the time spent in the call, which `-T` adds.
fn split_duration(line: &str) -> (&str, Option<f64>) {
    let Some(body) = line.strip_suffix('>') else {
        return (line, None);
    };
    let Some((head, spent)) = body.rsplit_once(" <") else {
        return (line, None);
    };
    if !spent.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return (line, None);
    }
    match spent.parse::<f64>() {
        Ok(seconds) => (head, Some(seconds)),
        Err(_) => (line, None),
    }
}

/// One complete strace line (`name(args) = result`), if it is a network call.
fn call(pid: u32, time: f64, line: &str) -> Option<Call> {
    let open = line.find('(')?;
    let name = &line[..open];
    // `-yy` names what an fd is: `3<TCP:[…]>`, `4<UDP:[…]>`, `5<socket:[…]>`, `6<UNIX:[…]>`.
    let on_socket = ["<TCP", "<UDP", "<socket:", "<UNIX"]
        .iter()
        .any(|m| line.contains(m));
    let wanted =
        NETWORK.contains(&name) || (["read", "write", "close"].contains(&name) && on_socket);
    if !wanted {
        return None;
    }
    let close = line.rfind(") = ")?;
    let args = split_args(&strip_fd_notes(&line[open + 1..close]));
    let result = short_result(&line[close + 4..]);
    let arg = |i: usize| args.get(i).map(|a| short_arg(a)).unwrap_or_default();
    // `= ? ERESTARTSYS`, `<unfinished ...>) = ?`: cut short when the program was stopped.
    let waiting = result.starts_with('?');
    let text = match name {
        _ if waiting => format!("{name}({}) … still waiting", arg(0)),
        "socket" => format!(
            "socket({}, {}) = {result}",
            arg(0),
            arg(1).split('|').next().unwrap_or("")
        ),
        "setsockopt" => match timeout(&arg(3)) {
            // A read or write timeout: the name std asked for (`_OLD` is strace's name for the
            // timeval form of the same option) and the time in seconds, not 16 raw bytes.
            Some(seconds) => format!(
                "setsockopt({}, {}, {seconds})",
                arg(0),
                arg(2).trim_end_matches("_OLD")
            ),
            None => format!(
                "setsockopt({}, {}, {})",
                arg(0),
                arg(2),
                arg(3).trim_matches(['[', ']'])
            ),
        },
        "bind" | "connect" => format!("{name}({}, {}){}", arg(0), arg(1), ok_or(&result)),
        "listen" => format!("listen({}, {}){}", arg(0), arg(1), ok_or(&result)),
        "accept" | "accept4" => format!("{name}({}) = {result}", arg(0)),
        "getsockname" | "getpeername" => format!("{name}({}) = {}", arg(0), arg(1)),
        "sendto" | "send" | "write" | "sendmsg" => {
            format!("{name}({}, {} bytes) = {result}", arg(0), arg(2))
        }
        "recvfrom" | "recv" | "read" | "recvmsg" => format!("{name}({}) = {result}", arg(0)),
        "shutdown" => format!("shutdown({}, {}){}", arg(0), arg(1), ok_or(&result)),
        "close" => format!("close({}){}", arg(0), ok_or(&result)),
        _ => format!("{name}({}) = {result}", arg(0)),
    };
    Some(Call {
        time,
        done: time,
        pid,
        name: name.to_string(),
        text,
        waiting,
    })
}

/// A `struct timeval` option value as seconds (`10 s`, `0.5 s`): strace shows it decoded
/// (`{tv_sec=10, tv_usec=0}`) or, for the `_OLD` options, as its 16 bytes in C escapes
/// (`"\n\0\0…"`: tv_sec then tv_usec, each 8 bytes little-endian on x86-64 and arm64).
fn timeout(value: &str) -> Option<String> {
    let (sec, usec) = if value.starts_with("{tv_sec=") {
        let field = |key: &str| -> Option<i64> {
            let at = value.find(key)? + key.len();
            value[at..].split([',', '}']).next()?.trim().parse().ok()
        };
        (field("tv_sec=")?, field("tv_usec=")?)
    } else {
        let bytes = unescape(value.strip_prefix('"')?.strip_suffix('"')?)?;
        let word = |at: usize| -> Option<i64> {
            Some(i64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
        };
        if bytes.len() != 16 {
            return None;
        }
        (word(0)?, word(8)?)
    };
    if !(0..1_000_000).contains(&usec) || sec < 0 {
        return None;
    }
    let seconds = sec as f64 + usec as f64 / 1e6;
    Some(format!("{seconds} s"))
}

/// strace's C escapes (`\n`, `\0`, `\177`, `\x7f`, `\\`, `\"`) back to bytes.
fn unescape(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let byte = match chars.next()? {
            'n' => b'\n',
            't' => b'\t',
            'r' => b'\r',
            'v' => 0x0b,
            'f' => 0x0c,
            '\\' => b'\\',
            '"' => b'"',
            'x' => {
                let hex: String = [chars.next()?, chars.next()?].iter().collect();
                u8::from_str_radix(&hex, 16).ok()?
            }
            d @ '0'..='7' => {
                let mut octal = d.to_string();
                while octal.len() < 3 && chars.peek().is_some_and(|c| ('0'..='7').contains(c)) {
                    octal.extend(chars.next());
                }
                u8::from_str_radix(&octal, 8).ok()?
            }
            _ => return None,
        };
        out.push(byte);
    }
    Some(out)
}

/// ` = RESULT` unless the result is a plain 0.
fn ok_or(result: &str) -> String {
    if result == "0" {
        String::new()
    } else {
        format!(" = {result}")
    }
}

/// `-1 ECONNREFUSED (Connection refused)` → `-1 ECONNREFUSED`; `3<TCP:[…]>` → `3`.
fn short_result(result: &str) -> String {
    let result = result.trim();
    if let Some(rest) = result.strip_prefix("-1 ") {
        return format!("-1 {}", rest.split(' ').next().unwrap_or(rest));
    }
    strip_fd_note(result)
}

/// `3<TCP:[127.0.0.1:41234->127.0.0.1:51423]>` → `3`: the notes `-yy` adds after an fd (their
/// `->` would confuse the splitting).
fn strip_fd_notes(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('<') {
        let after_digit = rest[..at].ends_with(|c: char| c.is_ascii_digit());
        let end = if rest[at..].starts_with("<TCP")
            || rest[at..].starts_with("<UDP")
            || rest[at..].starts_with("<socket")
            || rest[at..].starts_with("<UNIX")
            || rest[at..].starts_with("<pipe")
            || rest[at..].starts_with("</")
        {
            rest[at..]
                .find("]>")
                .map(|e| e + 2)
                .or_else(|| rest[at..].find('>').map(|e| e + 1))
        } else {
            None
        };
        match (after_digit, end) {
            (true, Some(end)) => {
                out.push_str(&rest[..at]);
                rest = &rest[at + end..];
            }
            _ => {
                out.push_str(&rest[..=at]);
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The arguments of a call, split at top-level commas (not inside `{…}`, `[…]`, `(…)` or quotes).
fn split_args(text: &str) -> Vec<String> {
    let (mut depth, mut quoted, mut escaped) = (0i32, false, false);
    let mut args = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if quoted {
            current.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            '{' | '[' | '(' => depth += 1,
            '}' | ']' | ')' => depth -= 1,
            ',' if depth == 0 => {
                args.push(current.trim().to_string());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        args.push(current.trim().to_string());
    }
    args
}

/// An argument in short form: an fd without its `<TCP:[…]>` note, a socket address as `ip:port`.
fn short_arg(arg: &str) -> String {
    if arg.starts_with("{sa_family=") {
        return sockaddr(arg);
    }
    if arg.starts_with('[') && arg.contains("{sa_family=") {
        return sockaddr(arg.trim_matches(['[', ']']));
    }
    strip_fd_note(arg)
}

fn strip_fd_note(text: &str) -> String {
    match text.find('<') {
        Some(at) if text[..at].chars().all(|c| c.is_ascii_digit()) && at > 0 => {
            text[..at].to_string()
        }
        _ => text.to_string(),
    }
}

/// `{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}` → `127.0.0.1:80`.
fn sockaddr(text: &str) -> String {
    let field = |key: &str| -> Option<String> {
        let at = text.find(key)? + key.len();
        Some(text[at..].split([',', '}']).next()?.to_string())
    };
    let quoted = |s: String| {
        s.trim_matches(|c| c == '"' || c == ')' || c == '(')
            .to_string()
    };
    if text.contains("AF_INET6") {
        let port = field("sin6_port=htons(").unwrap_or_default();
        let addr = text
            .split("inet_pton(AF_INET6, \"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or("?");
        return format!("[{addr}]:{}", port.trim_end_matches(')'));
    }
    if text.contains("AF_INET") {
        let port = field("sin_port=htons(").unwrap_or_default();
        let addr = field("sin_addr=inet_addr(").map(quoted).unwrap_or_default();
        return format!("{addr}:{}", port.trim_end_matches(')'));
    }
    if text.contains("AF_NETLINK") {
        // The kernel's own channel (glibc asks it for this host's addresses, to sort a lookup's
        // answers): no address worth a column.
        return "netlink".to_string();
    }
    if text.contains("AF_UNIX") {
        // The path alone (`/var/run/nscd/socket`, `@name` for an abstract one): it cannot be
        // mistaken for an ip:port, and it fits the ladder's column.
        return field("sun_path=").map(quoted).unwrap_or_default();
    }
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"410  1795584000.100000 socket(AF_UNIX, SOCK_STREAM, 0) = 3<UNIX:[1]>
410  1795584000.100000 connect(3<UNIX:[1]>, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT (No such file or directory) <0.000020>
4101 1795584000.100001 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 3<TCP:[40000]>
4101 1795584000.100002 setsockopt(3<TCP:[40000]>, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
4101 1795584000.100003 bind(3<TCP:[40000]>, {sa_family=AF_INET, sin_port=htons(51423), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
4101 1795584000.100004 listen(3<TCP:[127.0.0.1:51423]>, 5) = 0
4101 1795584000.100005 write(1<pipe:[1]>, "Listening on ('127.0.0.1', 51423)"..., 34) = 34
4101 1795584000.100006 accept4(3<TCP:[127.0.0.1:51423]>, {sa_family=AF_INET, sin_port=htons(41234), sin_addr=inet_addr("127.0.0.1")}, [128 => 16], SOCK_CLOEXEC <unfinished ...>
4102 1795584000.100007 connect(3<TCP:[40001]>, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = -1 ECONNREFUSED (Connection refused)
4101 1795584000.100009 <... accept4 resumed>) = 4<TCP:[127.0.0.1:51423->127.0.0.1:41234]> <0.000003>
4101 1795584000.100010 sendto(4<TCP:[127.0.0.1:51423->127.0.0.1:41234]>, "hello, world", 12, MSG_NOSIGNAL, NULL, 0) = 12 <0.000050>
4101 1795584000.100011 shutdown(4<TCP:[127.0.0.1:51423->127.0.0.1:41234]>, SHUT_WR) = 0
4101 1795584000.100012 close(4<TCP:[127.0.0.1:51423->127.0.0.1:41234]>) = 0
4101 1795584000.100013 close(5</etc/hosts>) = 0
4101 1795584000.100014 +++ exited with 0 +++
"#;

    /// Network calls come out in short form, split lines are joined at the time they started (and
    /// returned, from `-T`), and a write to a pipe or a close of a file is left out.
    #[test]
    fn parses_and_shortens_network_calls() {
        let calls = parse(SAMPLE);
        let texts: Vec<&str> = calls.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "nscd: none running (1 try)",
                "socket(AF_INET, SOCK_STREAM) = 3",
                "setsockopt(3, SO_REUSEADDR, 1)",
                "bind(3, 127.0.0.1:51423)",
                "listen(3, 5)",
                "connect(3, [::1]:80) = -1 ECONNREFUSED",
                "accept4(3) = 4",
                "sendto(4, 12 bytes) = 12",
                "shutdown(4, SHUT_WR)",
                "close(4)",
            ]
        );
        let accept = calls.iter().find(|c| c.name == "accept4").unwrap();
        assert_eq!(accept.time, 1795584000.100006);
        assert!((accept.done - 1795584000.100009).abs() < 1e-6, "{accept:?}");
        assert_eq!(accept.pid, 4101);
        let send = calls.iter().find(|c| c.name == "sendto").unwrap();
        assert!((send.done - send.time - 0.000050).abs() < 1e-6, "{send:?}");
        let listen = calls.iter().find(|c| c.name == "listen").unwrap();
        assert_eq!(listen.done, listen.time, "no -T on that line: {listen:?}");
    }

    /// A netlink address (glibc asking the kernel for this host's addresses) is one word.
    #[test]
    fn shortens_netlink_addresses() {
        let log = "7 1.0 bind(3<NETLINK:[1]>, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, 12) = 0\n\
                   7 1.1 getsockname(3<NETLINK:[1]>, {sa_family=AF_NETLINK, nl_pid=7, nl_groups=00000000}, [12]) = 0\n";
        let texts: Vec<String> = parse(log).into_iter().map(|c| c.text).collect();
        assert_eq!(texts, ["bind(3, netlink)", "getsockname(3) = netlink"]);
    }

    /// A call cut short when its program was stopped is where the program sat: kept, still
    /// waiting, if it is its thread's last (both of strace's forms, and one never resumed because
    /// strace itself was stopped); one cut short by a signal and then made again is left out.
    #[test]
    fn a_call_cut_short_last_is_still_waiting() {
        let log = "10 1.000000 accept4(3<TCP:[1]>,  <unfinished ...>
11 1.100000 write(1<pipe:[2]>, \"x\", 1) = 1 <0.000010>
10 1.500000 <... accept4 resumed>0x7ff, [128], SOCK_CLOEXEC) = ? ERESTARTSYS (To be restarted if SA_RESTART is set) <0.500000>
12 2.000000 recvfrom(4<UDP:[3]>, 0x1, 10, 0, NULL, NULL) = ? ERESTARTSYS (To be restarted if SA_RESTART is set) <0.100000>
12 2.100000 recvfrom(4<UDP:[3]>, \"hi\", 10, 0, NULL, NULL) = 2 <0.100000>
14 2.500000 recvfrom(6<UDP:[5]>,  <unfinished ...>
14 2.600000 <... recvfrom resumed> <unfinished ...>) = ?
13 3.000000 recvfrom(5<UDP:[4]>,  <unfinished ...>
";
        let calls = parse(log);
        let texts: Vec<(&str, bool)> = calls.iter().map(|c| (c.text.as_str(), c.waiting)).collect();
        assert_eq!(
            texts,
            [
                ("accept4(3) … still waiting", true),
                ("recvfrom(4) = 2", false),
                ("recvfrom(6) … still waiting", true),
                ("recvfrom(5) … still waiting", true),
            ]
        );
        assert_eq!(calls[0].time, 1.0, "it waits since it began");
    }

    /// glibc's tries to reach nscd fold into one row per run of them in a thread, whatever the
    /// fd; a Unix socket to anything else, and the lesson's own calls between, stay.
    #[test]
    fn folds_the_name_service_tries() {
        let call = |pid: u32, time: f64, text: &str| Call {
            time,
            done: time,
            pid,
            name: text.split('(').next().unwrap_or("").into(),
            text: text.into(),
            waiting: false,
        };
        let nscd = |pid: u32, time: f64, fd: u32| {
            vec![
                call(pid, time, &format!("socket(AF_UNIX, SOCK_STREAM) = {fd}")),
                call(pid, time, &format!("connect({fd}, {NSCD}) = -1 ENOENT")),
                call(pid, time, &format!("close({fd})")),
            ]
        };
        let mut calls = nscd(1, 1.0, 3);
        calls.extend(nscd(2, 1.1, 3)); // another thread's, between
        calls.extend(nscd(1, 1.2, 4));
        calls.push(call(1, 1.3, "socket(AF_INET, SOCK_STREAM) = 3"));
        calls.extend(nscd(1, 1.4, 5));
        calls.push(call(1, 1.5, "socket(AF_UNIX, SOCK_STREAM) = 6"));
        calls.push(call(1, 1.5, "connect(6, /dev/log)"));
        let texts: Vec<(u32, String)> = fold_name_service(calls)
            .into_iter()
            .map(|c| (c.pid, c.text))
            .collect();
        let row = |pid: u32, text: &str| (pid, text.to_string());
        assert_eq!(
            texts,
            [
                row(1, "nscd: none running (2 tries)"),
                row(2, "nscd: none running (1 try)"),
                row(1, "socket(AF_INET, SOCK_STREAM) = 3"),
                row(1, "nscd: none running (1 try)"),
                row(1, "socket(AF_UNIX, SOCK_STREAM) = 6"),
                row(1, "connect(6, /dev/log)"),
            ]
        );
        let answered = vec![
            call(1, 1.0, "socket(AF_UNIX, SOCK_STREAM) = 3"),
            call(1, 1.0, &format!("connect(3, {NSCD})")),
            call(1, 1.0, "sendto(3, 12 bytes) = 12"),
            call(1, 1.0, "close(3)"),
        ];
        let folded = fold_name_service(answered);
        assert_eq!(folded.len(), 1);
        assert_eq!(folded[0].text, "nscd: asked (1 try)");
    }

    /// A log is whole when the process strace started has its end in it (either kind, after its
    /// threads' ends); without it, or without any line, it is not.
    #[test]
    fn tells_a_whole_log_from_a_cut_one() {
        let start = "4101 1.000000 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3<UDP:[1]> <0.000010>\n\
                     4102 1.100000 +++ exited with 0 +++\n";
        assert_eq!(log_state(start), LogState::Cut);
        assert_eq!(
            log_state(&format!("{start}4101 1.200000 +++ exited with 1 +++\n")),
            LogState::Whole
        );
        assert_eq!(
            log_state(&format!(
                "{start}4101 1.200000 --- SIGTERM {{si_signo=SIGTERM}} ---\n\
                 4101 1.200001 +++ killed by SIGTERM +++\n"
            )),
            LogState::Whole
        );
        assert_eq!(log_state(""), LogState::Empty);
        assert_eq!(log_state("4101 1.0 recvfrom(3<UDP:[1]>, "), LogState::Cut);
    }

    /// strace's messages come out of the stderr it shares with the program, the one that fell
    /// inside a line the program wrote in pieces too, and that line joins up again.
    #[test]
    fn takes_straces_messages_apart() {
        let full = "strace: /tmp/c/client: No space left on device";
        let stderr =
            format!("{full}\n(no further reply within {full}\n1{full}\n s; stopping)\n{full}\n");
        let (kept, said) = messages_apart(&stderr);
        assert_eq!(kept, "(no further reply within 1 s; stopping)\n");
        assert_eq!(said.len(), 4);
        assert_eq!(said[0], "/tmp/c/client: No space left on device");
        let (kept, said) = messages_apart("error: refused\n");
        assert_eq!((kept.as_str(), said.len()), ("error: refused\n", 0));
    }

    /// A timeout option shows its seconds, from either of strace's forms; other values stay.
    #[test]
    fn shows_timeouts_in_seconds() {
        let line = |value: &str, name: &str| {
            let text = format!("setsockopt(3<TCP:[1]>, SOL_SOCKET, {name}, {value}, 16) = 0");
            call(1, 0.0, &text).map(|c| c.text)
        };
        assert_eq!(
            line(r#""\n\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0""#, "SO_RCVTIMEO_OLD").as_deref(),
            Some("setsockopt(3, SO_RCVTIMEO, 10 s)")
        );
        assert_eq!(
            line(r#""\5\0\0\0\0\0\0\0 \241\7\0\0\0\0\0""#, "SO_SNDTIMEO_OLD").as_deref(),
            Some("setsockopt(3, SO_SNDTIMEO, 5.5 s)")
        );
        assert_eq!(
            line("{tv_sec=2, tv_usec=0}", "SO_RCVTIMEO_NEW").as_deref(),
            Some("setsockopt(3, SO_RCVTIMEO_NEW, 2 s)")
        );
        assert_eq!(
            line("[1]", "SO_REUSEADDR").as_deref(),
            Some("setsockopt(3, SO_REUSEADDR, 1)")
        );
        assert_eq!(
            line(r#""\n\0""#, "SO_RCVTIMEO_OLD").as_deref(),
            Some(r#"setsockopt(3, SO_RCVTIMEO_OLD, "\n\0")"#),
            "not 16 bytes: shown as it is"
        );
    }

    /// Commas inside quotes and braces do not split arguments.
    #[test]
    fn splits_only_top_level_commas() {
        let args = split_args(r#"3, "a, \"b\", c", {x=1, y=2}, [4]"#);
        assert_eq!(args, ["3", r#""a, \"b\", c""#, "{x=1, y=2}", "[4]"]);
    }
}
