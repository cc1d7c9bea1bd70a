//! A ladder as the transcripts check compares it: what the lesson and its partner did, without
//! what changes from machine to machine or run to run.

use crate::text::replace_numbers;

/// Each side's calls, and the packets each way, in their own order — the two processes run at
/// once, so how their rows and packets interleave is not behaviour — with ephemeral ports, byte
/// counts and repeats masked, and a Python side's name-service traffic left out. The milliseconds
/// column goes too: no two runs take the same time.
pub fn mask(text: &str) -> String {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let mut lists: [Vec<String>; 4] = Default::default(); // client calls, to server, to client, server calls
    for line in lines.skip(1) {
        let chars: Vec<char> = line.chars().collect();
        let cell = |from: usize, to: usize| -> String {
            chars
                .get(from.min(chars.len())..to.min(chars.len()))
                .map(|c| c.iter().collect::<String>())
                .unwrap_or_default()
        };
        // The ladder's columns: milliseconds (0..5), the client's calls, the packets, the server's.
        let arrow = cell(39, 67);
        let toward = if arrow.contains('◀') { 2 } else { 1 };
        for (index, text) in [(0, cell(6, 38)), (toward, arrow), (3, cell(68, 200))] {
            let words: Vec<&str> = text
                .split(|c: char| c == '─' || c == '▶' || c == '◀' || c.is_whitespace())
                .filter(|w| !w.is_empty())
                .collect();
            if !words.is_empty() {
                lists[index].push(words.join(" "));
            }
        }
    }
    // The column titles: `client: NAME` at the left, `server: NAME` from column 68.
    let python = |from: usize, to: usize| {
        let title: String = header.chars().skip(from).take(to - from).collect();
        title.contains("python")
    };
    let [mut client, to_server, to_client, mut server] = lists;
    if python(0, 68) {
        client = without_unix_sockets(client);
    }
    if python(68, 200) {
        server = without_unix_sockets(server);
    }
    let masked = |list: Vec<String>| {
        let mut out: Vec<String> = Vec::new();
        for row in list {
            let row = numbers(&row);
            if out.last() != Some(&row) {
                out.push(row);
            }
        }
        out.join("\n  ")
    };
    format!(
        "client calls:\n  {}\npackets to the server:\n  {}\npackets to the client:\n  {}\nserver calls:\n  {}\n",
        masked(client),
        masked(to_server),
        masked(to_client),
        masked(server)
    )
}

/// A Python side's calls without those on Unix sockets (and without the row that folds its tries
/// to reach nscd). glibc asks the name-service cache daemon
/// (`/var/run/nscd/socket`) before it reads /etc/hosts or /etc/passwd, and how often Python asks
/// depends on the machine, not on the listing: nscd running or not, HOME set or not (`site.py`
/// looks the user up when it is not), a launcher such as a pyenv shim in front of it. A lesson's
/// side keeps its lookups: they are the lesson (addr-info, dns-validate). A wrapped result
/// (`= -1 ENOENT` on a row of its own) goes with its call.
fn without_unix_sockets(calls: Vec<String>) -> Vec<String> {
    let mut unix: Vec<String> = Vec::new(); // the fds open on a Unix socket
    let mut dropping = false; // the call above was dropped (its wrapped result goes too)
    let mut socket_pending = false; // a dropped socket() whose fd is on the next row
    let mut reuse_pending = false; // a kept socket() or accept whose fd is on the next row
    let mut kept = Vec::new();
    for call in calls {
        if let Some(result) = call.strip_prefix("= ") {
            if socket_pending {
                unix.push(result.to_string());
            }
            if reuse_pending {
                unix.retain(|u| u != result);
            }
            (socket_pending, reuse_pending) = (false, false);
            if !dropping {
                kept.push(call);
            }
            continue;
        }
        (socket_pending, reuse_pending) = (false, false);
        dropping = true;
        // glibc's tries to reach nscd, folded into one row by the recording.
        if call.starts_with(super::strace::NSCD_ROW) {
            continue;
        }
        if call.starts_with("socket(AF_UNIX") {
            match call.rsplit_once(" = ") {
                Some((_, fd)) => unix.push(fd.to_string()),
                None => socket_pending = true,
            }
            continue;
        }
        // A new socket on an fd number makes it no longer the Unix one (its close may be missing
        // from a log cut short).
        if call.starts_with("socket(") || call.starts_with("accept") {
            match call.rsplit_once(" = ") {
                Some((_, fd)) => unix.retain(|u| u != fd),
                None => reuse_pending = true,
            }
        }
        let fd = call
            .split_once('(')
            .and_then(|(_, args)| args.split([',', ')']).next())
            .unwrap_or_default()
            .to_string();
        if unix.contains(&fd) {
            if call.starts_with("close(") {
                unix.retain(|u| *u != fd);
            }
            continue;
        }
        dropping = false;
        kept.push(call);
    }
    kept
}

/// Digit runs of two or more (ports, byte counts, addresses, fds above 9) as `N`.
fn numbers(text: &str) -> String {
    replace_numbers(text, |number| (number.len() >= 2).then(|| "N".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    /// The name-service lookups go, however many there were, with their wrapped results and any
    /// traffic on their fd; the socket calls of the lesson stay, fd 3 reused included.
    #[test]
    fn drops_calls_on_unix_sockets_only() {
        let nscd = [
            "socket(AF_UNIX, SOCK_STREAM) = 3",
            "connect(3, /var/run/nscd/socket)",
            "= -1 ENOENT",
            "close(3)",
        ];
        let lesson = [
            "socket(AF_INET, SOCK_STREAM) = 3",
            "connect(3, 127.0.0.1:N)",
            "= -1 EINPROGRESS",
            "close(3)",
        ];
        let mut noisy: Vec<&str> = nscd.repeat(5);
        noisy.extend(lesson);
        noisy.extend([
            "socket(AF_UNIX, SOCK_STREAM)",
            "= 4",
            "sendto(4, N bytes) = N",
            "close(4)",
        ]);
        assert_eq!(without_unix_sockets(calls(&noisy)), calls(&lesson));
        assert_eq!(without_unix_sockets(calls(&lesson)), calls(&lesson));
    }

    /// An fd that a new socket or accept reuses is no longer the Unix one, though its close was
    /// never logged; numbers are masked only after, so fds above 9 are told apart.
    #[test]
    fn a_reused_fd_is_kept() {
        let calls_in = [
            "socket(AF_UNIX, SOCK_STREAM) = 12",
            "connect(12, /var/run/nscd/socket) = 0",
            "socket(AF_INET, SOCK_STREAM) = 3",
            "accept4(3) = 10",
            "recvfrom(10) = 49",
            "socket(AF_UNIX, SOCK_STREAM) = 5",
            "socket(AF_INET, SOCK_DGRAM) = 5",
            "bind(5, 127.0.0.1:51423)",
            "socket(AF_UNIX, SOCK_STREAM) = 4",
            // Too long for the client's column: the result on a row of its own.
            "socket(AF_INET6, SOCK_STREAM)",
            "= 4",
            "bind(4, [::1]:51423)",
        ];
        assert_eq!(
            without_unix_sockets(calls(&calls_in)),
            calls(&calls_in[2..5])
                .into_iter()
                .chain(calls(&calls_in[6..8]))
                .chain(calls(&calls_in[9..]))
                .collect::<Vec<_>>()
        );
    }

    fn row(client: &str, arrow: &str, server: &str) -> String {
        row_at(7, client, arrow, server)
    }

    /// A row at `ms` milliseconds, as the ladder writes it.
    fn row_at(ms: u32, client: &str, arrow: &str, server: &str) -> String {
        format!("{ms:>5} {client:<32} {arrow:<28} {server}\n")
    }

    /// The title rows, as the ladder writes them.
    fn head(client: &str, server: &str) -> String {
        format!("{:>5} {client:<61} {server}\n   -- ------\n", "ms")
    }

    /// Two runs of the same calls and packets, each row at other milliseconds, mask alike; the
    /// columns are read where the ladder writes them.
    #[test]
    fn masks_the_milliseconds() {
        let head = head("client: socket-info", "server: tcp-listener");
        let run = |ms: [u32; 3]| {
            head.clone()
                + &row_at(ms[0], "", "", "listen(3, 5)")
                + &row_at(ms[1], "connect(3, 127.0.0.1:51423)", "── SYN ──▶", "")
                + &row_at(ms[2], "", "◀── SYN-ACK ──", "")
        };
        let once = mask(&run([0, 9, 10]));
        assert_eq!(once, mask(&run([0, 12, 1013])));
        assert!(
            once.contains(
                "client calls:\n  connect(3, N.0.0.1:N)\npackets to the server:\n  SYN\n"
            ) && once
                .contains("packets to the client:\n  SYN-ACK\nserver calls:\n  listen(3, 5)\n"),
            "{once}"
        );
    }

    fn nscd() -> String {
        row("", "", "socket(AF_UNIX, SOCK_STREAM) = 3")
            + &row("", "", "connect(3, /var/run/nscd/socket)")
            + &row("", "", "  = -1 ENOENT")
            + &row("", "", "close(3)")
    }

    /// Two ladders of the same run that differ only in the Python partner's nscd lookups compare
    /// equal, and repeats collapse only after they are gone; a different call of the lesson's
    /// still differs.
    #[test]
    fn masks_a_python_sides_name_service() {
        let head = head("client: http-fetch", "server: python3 -m http.server");
        let send = row("", "", "sendto(4, 186 bytes) = 186");
        let listen = row("", "", "socket(AF_INET, SOCK_STREAM) = 3") + &row("", "", "listen(3, 5)");
        let connect = row("connect(3, 127.0.0.1:8000)", "── SYN ──▶", "");
        let quiet = head.clone() + &listen + &connect + &send + &send;
        let noisy = head.clone() + &nscd() + &nscd() + &listen + &connect + &send + &nscd() + &send;
        assert_eq!(mask(&quiet), mask(&noisy));
        assert!(
            mask(&quiet)
                .contains("server calls:\n  socket(AF_INET, SOCK_STREAM) = 3\n  listen(3, 5)\n"),
            "{}",
            mask(&quiet)
        );
        let other = head + &listen + &row("connect(4, 127.0.0.1:8000)", "── SYN ──▶", "") + &send;
        assert_ne!(mask(&quiet), mask(&other));
    }

    /// The folded row of a Python side's nscd tries goes too, whatever its count; a lesson's stays,
    /// and its count counts.
    #[test]
    fn masks_a_python_sides_folded_name_service() {
        let listen = row("", "", "listen(3, 5)");
        let python = head("client: http-fetch", "server: python3 -m http.server");
        let folded = |tries: &str| row("", "", &format!("nscd: none running ({tries})"));
        assert_eq!(
            mask(&(python.clone() + &folded("2 tries") + &listen)),
            mask(&(python + &listen))
        );
        let lesson = head("client: addr-info", "server: (no peer: a lookup)");
        let lookups = |tries: &str| row(&format!("nscd: none running ({tries})"), "", "");
        assert_ne!(
            mask(&(lesson.clone() + &lookups("4 tries"))),
            mask(&(lesson + &lookups("3 tries")))
        );
    }

    /// A lesson's own lookups are what addr-info and dns-validate teach: one lookup fewer is a
    /// change.
    #[test]
    fn keeps_a_lessons_name_service() {
        let head = head("client: dns-validate", "server: (no peer: a lookup)");
        let one = head.clone() + &nscd();
        let two = head + &nscd() + &nscd();
        assert_ne!(mask(&one), mask(&two));
        assert!(mask(&one).contains("connect(3, /var/run/nscd/socket)"));
    }
}
