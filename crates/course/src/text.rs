//! Text services every command shares: numbers found and replaced (ports, counts, fds), two
//! texts aligned line by line for a diff or a side-by-side view, prose filled to a width, and the
//! name of the system the tool runs on.

use std::fmt::Write as _;

/// `text` with every whole number `real` written as `documented`.
pub fn with_port(text: &str, real: u16, documented: u16) -> String {
    let real = real.to_string();
    replace_numbers(text, |number| {
        (number == real).then(|| documented.to_string())
    })
}

/// `text` with each whole run of digits replaced by what `replace` gives for it, where it gives
/// something: the one scanner behind every mask of ports, counts and fds.
pub fn replace_numbers(text: &str, replace: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    let flush = |out: &mut String, digits: &mut String| {
        if !digits.is_empty() {
            out.push_str(&replace(digits).unwrap_or_else(|| digits.clone()));
            digits.clear();
        }
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut out, &mut digits);
            out.push(c);
        }
    }
    flush(&mut out, &mut digits);
    out
}

/// `word` as a POSIX shell reads it back as one word: as it is when that is safe, else in single
/// quotes (a `'` inside written `'\''`). For commands the course tool suggests a learner paste.
pub fn shell_word(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// A line diff of two texts (`-` the page, `+` the run).
pub fn diff(name: &str, was: &str, now: &str) -> String {
    let mut out = format!("--- {name} (the page)\n+++ {name} (a real run)\n");
    for (a, b) in diff_rows(was, now) {
        match (a, b) {
            (Some(a), Some(b)) if a == b => {}
            (a, b) => {
                if let Some(a) = a {
                    let _ = writeln!(out, "-{a}");
                }
                if let Some(b) = b {
                    let _ = writeln!(out, "+{b}");
                }
            }
        }
    }
    out
}

/// The mark between two aligned rows, as `diff -y` draws it: ` ` equal, `|` changed, `<` only on
/// the left, `>` only on the right.
pub fn mark(left: Option<&String>, right: Option<&String>) -> &'static str {
    match (left, right) {
        (Some(a), Some(b)) if a == b => " ",
        (Some(_), Some(_)) => "|",
        (Some(_), None) => "<",
        _ => ">",
    }
}

/// The lines of two texts aligned on their longest common subsequence: equal lines side by side,
/// a removed line beside an added one as one changed row, the rest alone.
pub fn diff_rows(was: &str, now: &str) -> Vec<(Option<String>, Option<String>)> {
    let a: Vec<&str> = was.lines().collect();
    let b: Vec<&str> = now.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut rows = Vec::new();
    let (mut removed, mut added): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
    let flush = |rows: &mut Vec<(Option<String>, Option<String>)>,
                 removed: &mut Vec<&str>,
                 added: &mut Vec<&str>| {
        let n = removed.len().max(added.len());
        for k in 0..n {
            rows.push((
                removed.get(k).map(|s| s.to_string()),
                added.get(k).map(|s| s.to_string()),
            ));
        }
        removed.clear();
        added.clear();
    };
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            flush(&mut rows, &mut removed, &mut added);
            rows.push((Some(a[i].to_string()), Some(b[j].to_string())));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            added.push(b[j]);
            j += 1;
        } else {
            removed.push(a[i]);
            i += 1;
        }
    }
    flush(&mut rows, &mut removed, &mut added);
    rows
}

/// `text` in lines of at most `width` characters, broken between words, each line after
/// `indent`.
pub fn fill(text: &str, indent: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty()
            && indent.len() + line.chars().count() + 1 + word.chars().count() > width
        {
            let _ = writeln!(out, "{indent}{line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "{indent}{line}");
    }
    out
}

/// The system the tool runs on, as its users name it: `macOS`, `Windows`, `linux`, ….
pub fn system() -> &'static str {
    match std::env::consts::OS {
        "macos" => "macOS",
        "windows" => "Windows",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The partner's real port is written as the documented one, whole numbers only.
    #[test]
    fn writes_the_documented_port() {
        let text = "Connected to ('127.0.0.1', 43210) on port 43210, not 143210 or 432101";
        assert_eq!(
            with_port(text, 43210, 51423),
            "Connected to ('127.0.0.1', 51423) on port 51423, not 143210 or 432101"
        );
    }

    /// A word a shell would split or expand is quoted; a plain one is not.
    #[test]
    fn quotes_for_the_shell() {
        assert_eq!(shell_word("2.7.18"), "2.7.18");
        assert_eq!(shell_word("/tmp/info.py"), "/tmp/info.py");
        assert_eq!(
            shell_word("env PYENV_VERSION=2.7.18 python2"),
            "'env PYENV_VERSION=2.7.18 python2'"
        );
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }

    /// A diff shows the changed line, not the equal ones around it.
    #[test]
    fn diffs() {
        let diff = diff("page.md", "a\nb\nc\n", "a\nB\nc\n");
        assert!(diff.contains("\n-b\n+B\n"), "{diff}");
        assert!(!diff.contains("-a"), "{diff}");
    }
}
