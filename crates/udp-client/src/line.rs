//! Step 3's line, as the listing's `raw_input()` and `strip()` make it, but in bytes and with a
//! limit: any input is sent as typed, UTF-8 or not, and a line longer than any datagram can carry
//! is an error, where Python reads the whole line however long (`< /dev/zero` fills memory).

use std::io::BufRead;

use lesson_common::{Exit, fail};

/// The most one UDP datagram can carry (IPv6: 65,535 less the UDP header; IPv4 has 65,507).
pub const LINE_LIMIT: usize = 65_527;
/// What Python 2's `str.strip()` removes from both ends: C's isspace() in the "C" locale. Rust's
/// `trim_ascii` leaves out the vertical tab (\x0b).
const PYTHON_WHITESPACE: &[u8] = b" \t\n\x0b\x0c\r";

/// One line of `input` with its newline, reading no more than [`LINE_LIMIT`] bytes and the
/// newline; empty at EOF, as Python's `readline()` gives `''`.
pub fn read(input: impl BufRead) -> Result<Vec<u8>, Exit> {
    let mut line = Vec::new();
    input
        .take(LINE_LIMIT as u64 + 1)
        .read_until(b'\n', &mut line)?;
    if line.len() - usize::from(line.ends_with(b"\n")) > LINE_LIMIT {
        return Err(fail(format!(
            "the line is longer than {LINE_LIMIT} bytes, more than any UDP datagram can carry"
        )));
    }
    Ok(line)
}

/// `line` without what Python 2's `strip()` removes from both ends.
pub fn strip(line: &[u8]) -> &[u8] {
    let start = line
        .iter()
        .position(|b| !PYTHON_WHITESPACE.contains(b))
        .unwrap_or(line.len());
    let end = line
        .iter()
        .rposition(|b| !PYTHON_WHITESPACE.contains(b))
        .map_or(start, |i| i + 1);
    &line[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Python 2's six whitespace bytes go from both ends, and only from the ends.
    #[test]
    fn strips_what_python_strips() {
        assert_eq!(
            strip(b"\x0b\x0c hello \t world \x0b\r\n"),
            b"hello \t world"
        );
        assert_eq!(strip(b" \t\n\x0b\x0c\r"), b"");
        assert_eq!(strip(b""), b"");
        assert_eq!(strip(b"\xa0x\x85"), b"\xa0x\x85"); // not whitespace to Python 2's str
    }

    /// A line of exactly LINE_LIMIT bytes is read whole, newline or not; one byte more is refused.
    #[test]
    fn a_line_may_fill_one_datagram() {
        let fits = [vec![b'x'; LINE_LIMIT], b"\nnext".to_vec()].concat();
        assert!(matches!(read(&fits[..]), Ok(line) if line.len() == LINE_LIMIT + 1));
        assert!(matches!(read(&fits[..LINE_LIMIT]), Ok(line) if line.len() == LINE_LIMIT));
        let over = vec![b'x'; LINE_LIMIT + 1];
        assert!(matches!(read(&over[..]), Err(Exit::Failed(_))));
        assert!(matches!(read(&b""[..]), Ok(line) if line.is_empty()));
    }
}
