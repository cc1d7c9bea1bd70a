//! A ladder as the transcripts check compares it: what the lesson and its partner did, without
//! what changes from machine to machine or run to run.

/// Each side's calls, and the packets each way, in their own order — the two processes run at
/// once, so how their rows and packets interleave is not behaviour — with ephemeral ports, byte
/// counts, repeats and name-service traffic masked.
pub fn mask(text: &str) -> String {
    let mut lists: [Vec<String>; 4] = Default::default(); // client calls, to server, to client, server calls
    for line in text.lines().skip(2) {
        let chars: Vec<char> = line.chars().collect();
        let cell = |from: usize, to: usize| -> String {
            chars
                .get(from.min(chars.len())..to.min(chars.len()))
                .map(|c| c.iter().collect::<String>())
                .unwrap_or_default()
        };
        let arrow = cell(34, 66);
        let toward = if arrow.contains('◀') { 2 } else { 1 };
        for (index, text) in [(0, cell(0, 32)), (toward, arrow), (3, cell(68, 200))] {
            let words: Vec<&str> = text
                .split(|c: char| c == '─' || c == '▶' || c == '◀' || c.is_whitespace())
                .filter(|w| !w.is_empty())
                .collect();
            let masked = numbers(&words.join(" "));
            let list = &mut lists[index];
            if !masked.is_empty() && list.last() != Some(&masked) {
                list.push(masked);
            }
        }
    }
    let [client, to_server, to_client, server] = lists;
    let (client, server) = (without_unix_sockets(client), without_unix_sockets(server));
    format!(
        "client calls:\n  {}\npackets to the server:\n  {}\npackets to the client:\n  {}\nserver calls:\n  {}\n",
        client.join("\n  "),
        to_server.join("\n  "),
        to_client.join("\n  "),
        server.join("\n  ")
    )
}

/// One side's calls without those on Unix sockets: glibc asks the name-service cache daemon
/// (`/var/run/nscd/socket`) before it reads /etc/hosts or /etc/passwd, and how often it asks
/// depends on the machine — nscd running or not, HOME set or not (Python looks the user up when
/// it is not), a pyenv shim's bash helpers before the interpreter — not on the lesson. A wrapped
/// result (`= -1 ENOENT` on a row of its own) goes with its call.
fn without_unix_sockets(calls: Vec<String>) -> Vec<String> {
    let mut unix: Vec<String> = Vec::new(); // the fds open on a Unix socket
    let mut dropping = false; // the call above was dropped (its wrapped result goes too)
    let mut socket_pending = false; // a dropped socket() whose fd is on the next row
    let mut kept = Vec::new();
    for call in calls {
        if let Some(result) = call.strip_prefix("= ") {
            if socket_pending {
                unix.push(result.to_string());
                socket_pending = false;
            }
            if !dropping {
                kept.push(call);
            }
            continue;
        }
        socket_pending = false;
        dropping = true;
        if call.starts_with("socket(AF_UNIX") {
            match call.rsplit_once(" = ") {
                Some((_, fd)) => unix.push(fd.to_string()),
                None => socket_pending = true,
            }
            continue;
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
    let mut out = String::new();
    let mut digits = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if digits.len() >= 2 {
            out.push('N')
        } else {
            out.push_str(&digits)
        }
        digits.clear();
        out.push(c);
    }
    out.pop();
    out
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

    /// Two ladders of the same run that differ only in the partner's nscd lookups compare equal;
    /// one whose lesson made a different call does not.
    #[test]
    fn masks_the_name_service_not_the_lesson() {
        let row = |client: &str, arrow: &str, server: &str| {
            format!("{client:<32}  {arrow:<32}  {server}\n")
        };
        let head = "client\n------\n".to_string();
        let nscd = row("", "", "socket(AF_UNIX, SOCK_STREAM) = 3")
            + &row("", "", "connect(3, /var/run/nscd/socket)")
            + &row("", "", "  = -1 ENOENT")
            + &row("", "", "close(3)");
        let listen = row("", "", "socket(AF_INET, SOCK_STREAM) = 3") + &row("", "", "listen(3, 5)");
        let connect = row("connect(3, 127.0.0.1:8000)", "── SYN ──▶", "");
        let quiet = head.clone() + &listen + &connect;
        let noisy = head.clone() + &nscd + &nscd + &listen + &connect;
        assert_eq!(mask(&quiet), mask(&noisy));
        assert!(
            mask(&quiet)
                .contains("server calls:\n  socket(AF_INET, SOCK_STREAM) = 3\n  listen(3, 5)\n")
        );
        let other = head + &listen + &row("connect(4, 127.0.0.1:8000)", "── SYN ──▶", "");
        assert_ne!(mask(&quiet), mask(&other));
    }
}
