//! Step 9, not in the listing: whether the response kept its own word. [`Watch`] sees every chunk
//! go by on its way to stdout, keeps the head (at most [`HEAD_LIMIT`] bytes, the body never), and
//! at EOF says what was wrong, if anything: no byte at all, a head that never ended or was too
//! long to check, a `Content-Length` that cannot be used, or a body shorter than it.

/// The most of a response head kept to find its end and its `Content-Length`.
pub const HEAD_LIMIT: usize = 16 * 1024;

/// The bookkeeping of one response; see the [module](self).
#[derive(Default)]
pub struct Watch {
    received: u64,
    head: Vec<u8>,
    /// Once the head has ended: its length, and what it says of the body's length.
    declared: Option<(u64, Result<Option<u64>, String>)>,
}

impl Watch {
    /// The next bytes of the response.
    pub fn saw(&mut self, chunk: &[u8]) {
        if self.declared.is_none() && self.head.len() < HEAD_LIMIT {
            // The empty line may straddle two chunks: look again from just before the new bytes.
            let from = self.head.len().saturating_sub(2);
            let room = HEAD_LIMIT - self.head.len();
            self.head.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if let Some(end) = head_end(&self.head, from) {
                self.declared = Some((end as u64, content_length(&self.head[..end])));
                self.head = Vec::new();
            }
        }
        self.received += chunk.len() as u64;
    }

    /// At EOF: `Ok` for a whole response, else why not.
    pub fn verdict(self) -> Result<(), String> {
        let Some((head_len, length)) = self.declared else {
            return Err(match self.received {
                0 => "empty reply from server".into(),
                _ if self.head.len() >= HEAD_LIMIT => "response head longer than 16 KiB".into(),
                _ => "connection closed before the end of the response head".into(),
            });
        };
        let body = self.received - head_len;
        match length? {
            Some(want) if body < want => Err(format!(
                "connection closed after {body} of {want} body bytes"
            )),
            _ => Ok(()),
        }
    }
}

/// Just past the empty line that ends the head, looking from `from` on. Lines end with CRLF, or
/// with a bare LF, which RFC 9112 §2.2 lets a recipient accept: so the empty line is an LF right
/// after the LF that ended the line before, with or without a CR between.
fn head_end(head: &[u8], from: usize) -> Option<usize> {
    (from..head.len()).find_map(|i| match (head[i], head.get(i + 1), head.get(i + 2)) {
        (b'\n', Some(b'\n'), _) => Some(i + 2),
        (b'\n', Some(b'\r'), Some(b'\n')) => Some(i + 3),
        _ => None,
    })
}

/// What a response head says of the body's length: `Ok(None)` without Content-Length. Per RFC
/// 9110 §8.6 a value must be digits only; several headers, or a comma list, are one length when
/// every value is the same, and an error otherwise.
fn content_length(head: &[u8]) -> Result<Option<u64>, String> {
    let head = String::from_utf8_lossy(head);
    let mut length = None;
    for line in head.lines().skip(1) {
        let Some((name, values)) = line.split_once(':') else {
            continue;
        };
        if !name.trim().eq_ignore_ascii_case("content-length") {
            continue;
        }
        for value in values.split(',').map(str::trim) {
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("invalid Content-Length '{value}'"));
            }
            let Ok(value) = value.parse::<u64>() else {
                return Err(format!(
                    "Content-Length {value} is not a number we can hold"
                ));
            };
            match length {
                Some(earlier) if earlier != value => {
                    return Err(format!(
                        "conflicting Content-Length values {earlier} and {value}"
                    ));
                }
                _ => length = Some(value),
            }
        }
    }
    Ok(length)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The verdict on `response` fed in chunks of `size` bytes.
    fn verdict(response: &[u8], size: usize) -> Result<(), String> {
        let mut watch = Watch::default();
        for chunk in response.chunks(size) {
            watch.saw(chunk);
        }
        watch.verdict()
    }

    /// The end of the head is found wherever the chunks split it, CRLF or bare LF.
    #[test]
    fn the_head_ends_at_its_empty_line_however_it_is_split() {
        for response in [
            &b"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nbody"[..],
            b"HTTP/1.0 200 OK\nContent-Length: 4\n\nbody",
            b"HTTP/1.0 200 OK\r\nContent-Length: 4\n\r\nbody",
        ] {
            for size in 1..=response.len() {
                assert_eq!(verdict(response, size), Ok(()), "{response:?} by {size}");
                let short = &response[..response.len() - 1];
                let why = verdict(short, size).unwrap_err();
                assert_eq!(why, "connection closed after 3 of 4 body bytes");
            }
        }
    }

    /// A head of exactly HEAD_LIMIT bytes is read; one byte more is too long to check.
    #[test]
    fn the_head_limit_is_16_kib() {
        let head = |len: usize| {
            let start = "HTTP/1.0 200 OK\r\nContent-Length: 1\r\nX: ";
            let pad = "a".repeat(len - start.len() - 4);
            format!("{start}{pad}\r\n\r\n").into_bytes()
        };
        let fits = [head(HEAD_LIMIT), b"b".to_vec()].concat();
        assert_eq!(verdict(&fits, 4096), Ok(()));
        let over = [head(HEAD_LIMIT + 1), b"b".to_vec()].concat();
        assert_eq!(
            verdict(&over, 4096),
            Err("response head longer than 16 KiB".into())
        );
    }
}
