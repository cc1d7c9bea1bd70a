//! The captured frames as a pcap file (`trace --pcap FILE`), the format tcpdump and Wireshark
//! read: a 24-byte file header, then each frame behind a 16-byte record header, little-endian.
//! Frames from `lo` carry an Ethernet header (zero addresses), so the link type is Ethernet; the lab
//! wire's packets (`trace --link`) are IP packets with no link header, LINKTYPE_RAW. Small
//! enough to write here rather than add a crate (the `pcap-file` crate would do it too).

use std::fs;
use std::io;
use std::path::Path;

use super::capture::Frame;

/// The classic pcap magic number, microsecond timestamps (written little-endian, as d4 c3 b2 a1).
const MAGIC: u32 = 0xa1b2_c3d4;
/// Format version 2.4, the one every reader knows.
const VERSION: (u16, u16) = (2, 4);
/// The largest frame a record may hold: libpcap's own maximum, above `lo`'s 65,536-byte MTU.
const SNAPLEN: u32 = 262_144;
/// LINKTYPE_ETHERNET.
pub const ETHERNET: u32 = 1;
/// LINKTYPE_RAW: each record an IPv4 or IPv6 packet, told apart by its version.
pub const RAW: u32 = 101;

/// `frames` as the bytes of a pcap file of link type `link` ([`ETHERNET`] or [`RAW`]).
pub fn bytes(frames: &[Frame], link: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(24 + frames.iter().map(|f| 16 + f.bytes.len()).sum::<usize>());
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.extend_from_slice(&VERSION.0.to_le_bytes());
    out.extend_from_slice(&VERSION.1.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes()); // thiszone: the stamps are UTC
    out.extend_from_slice(&0u32.to_le_bytes()); // sigfigs: always 0
    out.extend_from_slice(&SNAPLEN.to_le_bytes());
    out.extend_from_slice(&link.to_le_bytes());
    for frame in frames {
        let (seconds, micros) = stamp(frame.time);
        let bytes = &frame.bytes[..frame.bytes.len().min(SNAPLEN as usize)];
        // Whole frames: the capture's buffer holds the largest `lo` can carry.
        let length = u32::try_from(bytes.len()).unwrap_or(SNAPLEN);
        out.extend_from_slice(&seconds.to_le_bytes());
        out.extend_from_slice(&micros.to_le_bytes());
        out.extend_from_slice(&length.to_le_bytes());
        out.extend_from_slice(&length.to_le_bytes());
        out.extend_from_slice(bytes);
    }
    out
}

/// Write `frames` to `path` as a pcap file of link type `link`.
pub fn write(path: &Path, frames: &[Frame], link: u32) -> io::Result<()> {
    fs::write(path, bytes(frames, link))
}

/// Seconds since the epoch as pcap's (seconds, microseconds), rounded to the microsecond.
fn stamp(time: f64) -> (u32, u32) {
    let time = time.max(0.0);
    let mut seconds = time.floor();
    let mut micros = ((time - seconds) * 1e6).round();
    if micros >= 1e6 {
        seconds += 1.0;
        micros -= 1e6;
    }
    // Until 2106 a u32 holds the seconds; `as` saturates past it.
    (seconds as u32, micros as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pcap file read back: its link type, and each record's stamp and bytes.
    fn read(file: &[u8]) -> (u32, Vec<(u32, u32, Vec<u8>)>) {
        let word = |at: usize| u32::from_le_bytes(file[at..at + 4].try_into().unwrap());
        assert_eq!(word(0), MAGIC);
        assert_eq!(&file[4..8], &[2, 0, 4, 0], "version 2.4");
        let mut records = Vec::new();
        let mut at = 24;
        while at < file.len() {
            let (length, original) = (word(at + 8) as usize, word(at + 12) as usize);
            assert_eq!(length, original, "whole frames");
            records.push((
                word(at),
                word(at + 4),
                file[at + 16..at + 16 + length].to_vec(),
            ));
            at += 16 + length;
        }
        assert_eq!(at, file.len(), "nothing after the last record");
        (word(20), records)
    }

    /// The frames come back from the file as they went in, each with its stamp to the
    /// microsecond (a stamp just short of a whole second rounds up into the next); no frames is
    /// a file with a header alone.
    #[test]
    fn writes_frames_that_read_back() {
        let frames = [
            Frame {
                time: 1_795_584_000.250_000_4,
                bytes: vec![1, 2, 3],
            },
            Frame {
                time: 1_795_584_001.999_999_9,
                bytes: vec![0; 9042],
            },
        ];
        let (link, records) = read(&bytes(&frames, ETHERNET));
        assert_eq!(link, ETHERNET);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0], (1_795_584_000, 250_000, vec![1, 2, 3]));
        assert_eq!((records[1].0, records[1].1), (1_795_584_002, 0));
        assert_eq!(records[1].2.len(), 9042);
        assert_eq!(read(&bytes(&[], ETHERNET)), (ETHERNET, Vec::new()));
        assert_eq!(
            read(&bytes(&frames[..1], RAW)).0,
            101,
            "the lab wire's raw IP"
        );
    }
}
