//! The packets: a capture on the loopback interface of a private network namespace, read with an
//! AF_PACKET socket (the course tool is root there, with no other traffic in the picture), and
//! each frame decoded into a [`Packet`] the ladder can draw.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use super::resolver;

/// One frame seen on `lo`, as taken off the wire.
#[derive(Clone, Debug)]
pub struct Frame {
    pub time: f64,
    pub bytes: Vec<u8>,
}

/// A packet, decoded.
#[derive(Clone, Debug, PartialEq)]
pub struct Packet {
    pub time: f64,
    pub src: (IpAddr, u16),
    pub dst: (IpAddr, u16),
    /// SYN, SYN-ACK, ACK, FIN, RST, `data 42`, `datagram 5`, `ICMP port unreachable`; a DNS
    /// message in a few words (`A? www.example.com`, `A 192.0.2.10`, `NXDOMAIN`).
    pub label: String,
    /// It carries a program's bytes (TCP data, a UDP datagram): a send made it, a receive reads it.
    pub payload: bool,
    /// A pure ACK after the handshake: shown only where it matters.
    pub bare_ack: bool,
    /// What the lab link did to it (`trace --link`); `None` on loopback.
    pub link: Option<OnLink>,
}

/// A packet's passage across the lab link, as the wire told it.
#[derive(Clone, Debug, PartialEq)]
pub struct OnLink {
    /// The server's side sent it (the wire knows the direction; no port needs to tell).
    pub from_server: bool,
    /// When it reached the other side, in seconds since the epoch; `None`: it died on the link.
    pub left: Option<f64>,
    /// What to write under its arrow: `retransmission`, `dropped by loss`, `duplicated`.
    pub marks: Vec<String>,
}

/// A capture running on a thread until [`Capture::stop`].
pub struct Capture {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Vec<Frame>>,
}

impl Capture {
    /// Stop, and hand back the frames, each loopback packet once.
    pub fn stop(self) -> Vec<Frame> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap_or_default()
    }
}

/// The capture socket itself: AF_PACKET, the kernel's timestamps and packet types, all Linux's.
#[cfg(target_os = "linux")]
mod packet_socket {
    use std::io::{self, IoSliceMut};
    use std::os::fd::AsRawFd;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::thread;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use nix::sys::socket::{ControlMessageOwned, LinkAddr, MsgFlags, recvmsg, setsockopt, sockopt};
    use socket2::{Domain, Protocol, Socket, Type};

    use super::{Capture, Frame};

    /// Seconds since the epoch, as strace's `-ttt` prints them.
    fn now() -> f64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    }

    /// The protocol number for "every protocol" (ETH_P_ALL, 3), in network byte order as AF_PACKET
    /// wants it; AF_PACKET itself is 17 on Linux.
    const ETH_P_ALL_BE: i32 = 0x0300;
    const AF_PACKET: i32 = 17;
    /// SOCK_RAW (socket2 names it only with its "all" feature, which would reach the lessons too).
    const SOCK_RAW: i32 = 3;

    impl Capture {
        /// Start capturing every frame on every interface of this network namespace (only `lo`).
        pub fn start() -> io::Result<Capture> {
            let socket = Socket::new(
                Domain::from(AF_PACKET),
                Type::from(SOCK_RAW),
                Some(Protocol::from(ETH_P_ALL_BE)),
            )?;
            // Stamp each frame with the kernel's clock when it was taken off the wire.
            setsockopt(&socket, sockopt::ReceiveTimestampns, &true).map_err(io::Error::from)?;
            // A short timeout, so the thread notices when it is asked to stop.
            socket.set_read_timeout(Some(Duration::from_millis(50)))?;
            let stop = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&stop);
            let thread = thread::spawn(move || {
                let mut frames = Vec::new();
                let mut buf = vec![0u8; 65_536 + 64];
                while !flag.load(Ordering::SeqCst) {
                    match receive(&socket, &mut buf) {
                        // Each loopback packet passes twice, going out and coming in: the copy going
                        // out stands for it. (Matching twins by their bytes fails when two packets
                        // cross, as both FINs of a simultaneous close do: the ladder drew four.)
                        Ok((_, _, Some(PACKET_INCOMING))) => {}
                        Ok((n, time, _)) => frames.push(Frame {
                            time,
                            bytes: buf[..n].to_vec(),
                        }),
                        Err(e)
                            if matches!(
                                e.kind(),
                                io::ErrorKind::WouldBlock
                                    | io::ErrorKind::TimedOut
                                    | io::ErrorKind::Interrupted
                            ) => {}
                        Err(_) => break,
                    }
                }
                frames
            });
            Ok(Capture { stop, thread })
        }
    }

    /// `sll_pkttype` of a frame addressed to this host (PACKET_HOST); on `lo`, a packet coming in.
    const PACKET_INCOMING: u8 = 0;

    /// One frame into `buf`: its length, the kernel's timestamp for it in seconds since the epoch (the
    /// clock strace's `-ttt` prints, or the time now if the kernel gave none), and its packet type
    /// (`sll_pkttype`: 0 coming in, 4 going out).
    fn receive(socket: &Socket, buf: &mut [u8]) -> io::Result<(usize, f64, Option<u8>)> {
        let mut space = nix::cmsg_space!(nix::sys::time::TimeSpec);
        let mut iov = [IoSliceMut::new(buf)];
        let message = recvmsg::<LinkAddr>(
            socket.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::empty(),
        )
        .map_err(io::Error::from)?;
        let mut time = None;
        for control in message.cmsgs().map_err(io::Error::from)? {
            if let ControlMessageOwned::ScmTimestampns(stamp) = control {
                time = Some(stamp.tv_sec() as f64 + stamp.tv_nsec() as f64 * 1e-9);
            }
        }
        let kind = message.address.map(|from| from.pkttype());
        Ok((message.bytes, time.unwrap_or_else(now), kind))
    }
}

/// Elsewhere there is no AF_PACKET socket to capture with (and no private network namespace to
/// capture in): `trace` says it needs Linux before it gets here.
#[cfg(not(target_os = "linux"))]
impl Capture {
    pub fn start() -> std::io::Result<Capture> {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "a packet capture needs Linux (AF_PACKET)",
        ))
    }
}

/// Decode a frame from `lo` (Ethernet framing with zero addresses on Linux); `None` for what is
/// not IP.
pub fn decode(frame: &Frame) -> Option<Packet> {
    decode_ip(frame.time, ip_packet(&frame.bytes)?)
}

/// Decode an IP packet without link framing (what the lab's wire carries); `None` for what is not
/// IP.
pub fn decode_raw(time: f64, bytes: &[u8]) -> Option<Packet> {
    decode_ip(time, ip_layer(bytes)?)
}

fn decode_ip(time: f64, ip: IpPacket<'_>) -> Option<Packet> {
    let mut packet = Packet {
        time,
        src: (ip.src, 0),
        dst: (ip.dst, 0),
        label: String::new(),
        payload: false,
        bare_ack: false,
        link: None,
    };
    let ports = |t: &[u8]| -> Option<(u16, u16)> {
        Some((
            u16::from_be_bytes([*t.first()?, *t.get(1)?]),
            u16::from_be_bytes([*t.get(2)?, *t.get(3)?]),
        ))
    };
    let t = ip.transport;
    match ip.protocol {
        TCP => {
            (packet.src.1, packet.dst.1) = ports(t)?;
            let header = usize::from(t.get(12)? >> 4) * 4;
            let flags = *t.get(13)?;
            let data = t.len().checked_sub(header)?;
            let flag = |bit: u8| flags & bit != 0;
            let mut label = match (flag(0x02), flag(0x10), flag(0x01), flag(0x04)) {
                (true, false, _, _) => "SYN".to_string(),
                (true, true, _, _) => "SYN-ACK".to_string(),
                (_, _, _, true) => "RST".to_string(),
                (_, _, true, _) => "FIN".to_string(),
                _ if data > 0 => String::new(),
                _ => {
                    packet.bare_ack = true;
                    "ACK".to_string()
                }
            };
            if data > 0 {
                packet.payload = true;
                label = if label.is_empty() {
                    format!("data {data}")
                } else {
                    format!("data {data} + {label}")
                };
            }
            packet.label = label;
        }
        UDP => {
            (packet.src.1, packet.dst.1) = ports(t)?;
            packet.payload = true;
            let data = t.get(8..)?;
            let dns = [packet.src.1, packet.dst.1].contains(&resolver::PORT);
            packet.label = match dns.then(|| resolver::describe(data)).flatten() {
                Some(said) => said,
                None => format!("datagram {}", data.len()),
            };
        }
        ICMP => {
            let (kind, code) = (*t.first()?, *t.get(1)?);
            packet.label = if (kind, code) == (3, 3) {
                "ICMP port unreachable".into()
            } else {
                format!("ICMP {kind}/{code}")
            };
            // The datagram that drew it rides inside: its ports say who the ICMP is about.
            if let Some((src, dst)) = t.get(8..).and_then(inner_udp_ports) {
                packet.src.1 = dst;
                packet.dst.1 = src;
            }
        }
        ICMPV6 => {
            let (kind, code) = (*t.first()?, *t.get(1)?);
            packet.label = if (kind, code) == (1, 4) {
                "ICMPv6 port unreachable".into()
            } else {
                format!("ICMPv6 {kind}/{code}")
            };
        }
        _ => return None,
    }
    Some(packet)
}

pub(super) const TCP: u8 = 6;
const UDP: u8 = 17;
const ICMP: u8 = 1;
const ICMPV6: u8 = 58;

/// The IP layer of a frame: its addresses, the protocol it carries, and that protocol's bytes
/// (as long as the IP header says, not as the frame is: a short frame may be padded).
pub(super) struct IpPacket<'a> {
    pub(super) src: IpAddr,
    pub(super) dst: IpAddr,
    pub(super) protocol: u8,
    pub(super) transport: &'a [u8],
}

/// The IPv4 or IPv6 packet in an Ethernet frame (on `lo`, the addresses are zero), or `None` for
/// anything else, or a packet cut short.
fn ip_packet(frame: &[u8]) -> Option<IpPacket<'_>> {
    let ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
    ip_of(ethertype, frame.get(14..)?)
}

/// An IP packet without link framing, told apart by its version.
pub(super) fn ip_layer(ip: &[u8]) -> Option<IpPacket<'_>> {
    match ip.first()? >> 4 {
        4 => ip_of(0x0800, ip),
        6 => ip_of(0x86DD, ip),
        _ => None,
    }
}

/// The IP packet `ip`, of the Ethernet type `ethertype`.
fn ip_of(ethertype: u16, ip: &[u8]) -> Option<IpPacket<'_>> {
    let octets = |at: usize| -> Option<[u8; 4]> { ip.get(at..at + 4)?.try_into().ok() };
    let sixteen = |at: usize| -> Option<[u8; 16]> { ip.get(at..at + 16)?.try_into().ok() };
    match ethertype {
        0x0800 => {
            let header = usize::from(ip.first()? & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
            Some(IpPacket {
                src: IpAddr::from(octets(12)?),
                dst: IpAddr::from(octets(16)?),
                protocol: *ip.get(9)?,
                transport: ip.get(header..total)?,
            })
        }
        0x86DD => {
            let payload = usize::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?]));
            Some(IpPacket {
                src: IpAddr::from(sixteen(8)?),
                dst: IpAddr::from(sixteen(24)?),
                protocol: *ip.get(6)?,
                transport: ip.get(40..40 + payload)?,
            })
        }
        _ => None,
    }
}

/// The UDP ports of the IPv4 datagram quoted in an ICMP error.
fn inner_udp_ports(quoted: &[u8]) -> Option<(u16, u16)> {
    let header_len = usize::from(quoted.first()? & 0x0f) * 4;
    let udp = quoted.get(header_len..header_len + 4)?;
    Some((
        u16::from_be_bytes([udp[0], udp[1]]),
        u16::from_be_bytes([udp[2], udp[3]]),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Ethernet frame (zero addresses, as on `lo`) around an IPv4 packet of `protocol`.
    pub fn frame(protocol: u8, transport: &[u8]) -> Frame {
        let mut bytes = vec![0u8; 12];
        bytes.extend_from_slice(&[0x08, 0x00]);
        let total = (20 + transport.len()) as u16;
        let mut ip = vec![
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            0,
            0x40,
            0,
            64,
            protocol,
            0,
            0,
            127,
            0,
            0,
            1,
            127,
            0,
            0,
            1,
        ];
        let sum = checksum(&ip);
        ip[10] = (sum >> 8) as u8;
        ip[11] = sum as u8;
        bytes.extend_from_slice(&ip);
        bytes.extend_from_slice(transport);
        Frame { time: 1.0, bytes }
    }

    fn checksum(bytes: &[u8]) -> u16 {
        let mut sum: u32 = bytes
            .chunks(2)
            .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
            .sum();
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    /// A TCP header from port 41234 to 51423 with `flags` and `data`.
    pub fn tcp(flags: u8, data: &[u8]) -> Vec<u8> {
        let mut header = vec![
            0xa1, 0x12, 0xc8, 0xdf, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0,
        ];
        header.extend_from_slice(data);
        header
    }

    /// TCP flags, payload lengths and UDP datagrams decode into the ladder's words.
    #[test]
    fn decodes_tcp_and_udp() {
        let cases: [(u8, &[u8], &str); 6] = [
            (0x02, b"", "SYN"),
            (0x12, b"", "SYN-ACK"),
            (0x10, b"", "ACK"),
            (0x18, b"GET / HTTP/1.0\r\n\r\n", "data 18"),
            (0x11, b"", "FIN"),
            (0x14, b"", "RST"),
        ];
        for (flags, data, label) in cases {
            let packet = decode(&frame(6, &tcp(flags, data))).unwrap();
            assert_eq!(packet.label, label);
            assert_eq!((packet.src.1, packet.dst.1), (41234, 51423));
        }
        let udp = [
            0xc8, 0xdf, 0xa1, 0x12, 0, 13, 0, 0, b'h', b'e', b'l', b'l', b'o',
        ];
        let packet = decode(&frame(17, &udp)).unwrap();
        assert_eq!(
            (packet.label.as_str(), packet.src.1, packet.dst.1),
            ("datagram 5", 51423, 41234)
        );
    }

    /// An IPv6 datagram on `lo`: the addresses and ports from its headers, the length from the
    /// IP header, not from padding after it.
    #[test]
    fn decodes_ipv6_and_ignores_padding() {
        let mut bytes = vec![0u8; 12];
        bytes.extend_from_slice(&[0x86, 0xdd]);
        let mut ip = vec![0x60, 0, 0, 0, 0, 10, UDP, 64];
        ip.extend_from_slice(&std::net::Ipv6Addr::LOCALHOST.octets());
        ip.extend_from_slice(&std::net::Ipv6Addr::LOCALHOST.octets());
        ip.extend_from_slice(&[0xa1, 0x12, 0xc8, 0xdf, 0, 10, 0, 0, b'h', b'i']);
        bytes.extend_from_slice(&ip);
        bytes.extend_from_slice(&[0; 6]);
        let packet = decode(&Frame { bytes, time: 0.0 }).unwrap();
        assert_eq!(packet.label, "datagram 2");
        assert_eq!(packet.src, ("::1".parse().unwrap(), 41234));
        assert_eq!(packet.dst, ("::1".parse().unwrap(), 51423));
        let cut = Frame {
            bytes: frame(TCP, &tcp(0x02, b"")).bytes[..30].to_vec(),
            time: 0.0,
        };
        assert!(decode(&cut).is_none(), "a packet cut short is not drawn");
    }

    /// A datagram to or from port 53 is labelled with the DNS message it carries; one that does
    /// not read as DNS stays a datagram.
    #[test]
    fn labels_dns_messages() {
        let mut query = vec![0xa1, 0x12, 0, 53, 0, 0, 0, 0];
        let dns = [
            0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, b'w', b'w', b'w', 7, b'e', b'x', b'a',
            b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0, 0, 1, 0, 1,
        ];
        query.extend_from_slice(&dns);
        query[5] = query.len() as u8;
        let packet = decode(&frame(UDP, &query)).unwrap();
        assert_eq!(packet.label, "A? www.example.com");
        assert!(packet.payload);
        let mut noise = vec![0xa1, 0x12, 0, 53, 0, 11, 0, 0];
        noise.extend_from_slice(b"abc");
        assert_eq!(decode(&frame(UDP, &noise)).unwrap().label, "datagram 3");
    }

    /// An ICMP port unreachable names the datagram it answers, by that datagram's ports.
    #[test]
    fn decodes_icmp_port_unreachable() {
        let mut icmp = vec![3, 3, 0, 0, 0, 0, 0, 0];
        let quoted_ip = [
            0x45, 0, 0, 30, 0, 0, 0, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
        ];
        icmp.extend_from_slice(&quoted_ip);
        icmp.extend_from_slice(&[0xa1, 0x12, 0x00, 0x09, 0, 10, 0, 0]);
        let packet = decode(&frame(1, &icmp)).unwrap();
        assert_eq!(packet.label, "ICMP port unreachable");
        assert_eq!(
            (packet.src.1, packet.dst.1),
            (9, 41234),
            "from the closed port back to the sender"
        );
    }
}
