//! The link spec: one line, as Mininet takes it (`loss=30%`, `delay=80ms,jitter=20ms`,
//! `loss=100%@server`, `satellite`), read into [`Spec`] and printed back as a learner reads it
//! (`loss 30% both ways`). [`GRAMMAR`] is the whole language; every parse error names its problem
//! and ends with it.
//!
//! Decisions the grammar makes, each said in [`GRAMMAR`] too:
//! - `@server` means *towards* the server: the packets the client sends. `loss=100%@server` is
//!   a server nothing reaches, the way a learner says "the server never gets it".
//! - `mtu` is checked against IPv4's least MTU, 68 bytes (RFC 791), and applies to IPv4 packets
//!   as given; IPv6 packets are held to at least 1280 bytes whatever the spec says, since IPv6
//!   requires every link to carry 1280 (RFC 8200 §5) and a host does not shrink below it. So
//!   `mtu=576` is a 576-byte IPv4 link that still carries 1280-byte IPv6 packets.
//! - `jitter` is at most `delay`: it moves each packet's delay up or down by up to that much,
//!   and a packet cannot leave before it came.
//! - A profile stands alone: mixing one with items would raise the question which wins, and the
//!   error shows its items to edit instead.
//! - A key is given once per direction: `loss=10%,loss=50%@server` is refused rather than one
//!   silently overriding the other.

use std::fmt::{self, Display, Write as _};
use std::time::Duration;

use lesson_common::{Exit, usage};

use super::Direction;

/// The language of a link spec, printed under every parse error.
pub const GRAMMAR: &str = "\
A link spec is a profile, or KEY=VALUE items joined by commas. An item applies both ways, or with
@server only to the packets going towards the server (sent by the client), with @client only to
those going towards the client:
  loss=P%          drop P% of the packets (0% to 100%; decimals allowed, as in 0.5%)
  duplicate=P%     send P% of the packets twice
  reorder=P%       hold P% of the packets back and send them after the next one (or alone, late,
                   when none comes within 100 ms)
  delay=T          hold every packet for T (ms or s, at most 10 s), in order
  jitter=T         vary each delay by up to T either way (at most the delay; never reorders)
  mtu=N            the link's MTU, N bytes (68 to 65535; IPv6 keeps 1280): each side's device has
                   it, so a host fragments its datagrams to fit and TCP sends smaller segments;
                   a packet still over it (a raw socket's) is dropped, with no ICMP answer
  dead-after=N     carry N packets, then none: the peer unplugged (both ways counts either way)
Profiles (a profile stands alone):
  wifi             delay=5ms,jitter=3ms,loss=1%
  mobile           delay=50ms,jitter=25ms,loss=2%
  satellite        delay=280ms,jitter=10ms,loss=0.5%
  lossy            loss=20%,duplicate=5%,reorder=10%
Examples: loss=30%  delay=80ms,jitter=20ms  reorder=25%,duplicate=10%  loss=100%@server  satellite";

/// A named link, for a learner who wants "a satellite" rather than its numbers.
#[derive(Debug)]
pub struct Profile {
    pub name: &'static str,
    /// What it stands for, in the spec's own items (listed in [`GRAMMAR`] too).
    pub items: &'static str,
    /// What it is like, in a few words.
    pub about: &'static str,
}

/// The profiles, in the order [`GRAMMAR`] lists them. Their numbers are typical, not measured
/// from any one network: enough to see what such a link does to a lesson.
pub const PROFILES: &[Profile] = &[
    Profile {
        name: "wifi",
        items: "delay=5ms,jitter=3ms,loss=1%",
        about: "a busy home Wi-Fi: a few milliseconds, uneven, the odd packet lost",
    },
    Profile {
        name: "mobile",
        items: "delay=50ms,jitter=25ms,loss=2%",
        about: "a phone on a weak signal: slow, uneven, a few packets lost",
    },
    Profile {
        name: "satellite",
        items: "delay=280ms,jitter=10ms,loss=0.5%",
        about: "a geostationary satellite hop: over half a second for a reply",
    },
    Profile {
        name: "lossy",
        items: "loss=20%,duplicate=5%,reorder=10%",
        about: "a bad cable or an overloaded router: loses, duplicates and reorders",
    },
];

impl Profile {
    /// What the profile means, for the learner who named it:
    /// `wifi — a busy home Wi-Fi: …; delay 5 ms ± 3 ms, loss 1% both ways`.
    pub fn meaning(&self) -> String {
        let settings = read(self.items).map_or_else(|e| e, |spec| spec.to_string());
        format!("{} — {}; {settings}", self.name, self.about)
    }
}

/// The longest delay (and so jitter) a spec may ask for: longer than any lesson's timeout, and a
/// bound on how many packets the wire holds at once.
const MAX_DELAY: Duration = Duration::from_secs(10);
/// IPv4's least MTU (RFC 791: every host can take a 68-byte datagram unfragmented).
pub const IPV4_MIN_MTU: u16 = 68;
/// IPv6's least MTU (RFC 8200 §5): an IPv6 packet up to this size is never refused for size.
pub const IPV6_MIN_MTU: u16 = 1280;

/// A share of the packets, kept in parts per million so that `0.5%` is exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Percent(u32);

impl Percent {
    /// 100%, in parts per million.
    pub const WHOLE: u32 = 1_000_000;

    /// `whole` percent (at most 100).
    pub const fn new(whole: u32) -> Percent {
        Percent(if whole > 100 {
            Percent::WHOLE
        } else {
            whole * 10_000
        })
    }

    /// Parts per million.
    pub fn ppm(self) -> u32 {
        self.0
    }
}

/// `30%`, `0.5%`: as written in a spec, with no trailing zeros.
impl Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, part) = (self.0 / 10_000, self.0 % 10_000);
        if part == 0 {
            write!(f, "{whole}%")
        } else {
            let decimals = format!("{part:04}");
            write!(f, "{whole}.{}%", decimals.trim_end_matches('0'))
        }
    }
}

/// Which packets an item applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Both,
    /// `@client` or `@server`: only the packets going towards that side.
    Towards(Direction),
}

impl Scope {
    fn covers(self, direction: Direction) -> bool {
        self == Scope::Both || self == Scope::Towards(direction)
    }

    fn overlaps(self, other: Scope) -> bool {
        self == Scope::Both || other == Scope::Both || self == other
    }

    /// The words after a group of settings in [`Spec`]'s display.
    fn words(self) -> &'static str {
        match self {
            Scope::Both => "both ways",
            Scope::Towards(Direction::ToServer) => "towards the server",
            Scope::Towards(Direction::ToClient) => "towards the client",
        }
    }
}

/// One item of a spec, its value read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    Loss(Percent),
    Duplicate(Percent),
    Reorder(Percent),
    Delay(Duration),
    Jitter(Duration),
    Mtu(u16),
    DeadAfter(u64),
}

/// The keys, in the grammar's order, which the display follows (the stack's order is another:
/// see the module `link`).
const KEYS: [&str; 7] = [
    "loss",
    "duplicate",
    "reorder",
    "delay",
    "jitter",
    "mtu",
    "dead-after",
];

impl Setting {
    /// Its key's place in [`KEYS`].
    fn key(self) -> usize {
        match self {
            Setting::Loss(_) => 0,
            Setting::Duplicate(_) => 1,
            Setting::Reorder(_) => 2,
            Setting::Delay(_) => 3,
            Setting::Jitter(_) => 4,
            Setting::Mtu(_) => 5,
            Setting::DeadAfter(_) => 6,
        }
    }
}

/// What one direction's stack of layers is made from: every setting that covers it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Impairments {
    pub loss: Option<Percent>,
    pub duplicate: Option<Percent>,
    pub reorder: Option<Percent>,
    pub delay: Duration,
    pub jitter: Duration,
    pub mtu: Option<u16>,
    pub dead_after: Option<u64>,
}

/// A parsed link spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    /// The profile it was read from, if it was named by one.
    profile: Option<&'static Profile>,
    /// The items, in the order given, each with the packets it covers.
    settings: Vec<(Setting, Scope)>,
}

impl PartialEq for Profile {
    fn eq(&self, other: &Profile) -> bool {
        self.name == other.name
    }
}

impl Eq for Profile {}

impl Spec {
    /// A perfect link: every packet passes at once, as on loopback.
    pub fn none() -> Spec {
        Spec {
            profile: None,
            settings: Vec::new(),
        }
    }

    /// Read a spec. A bad one is a usage error (exit 2) that names the problem and ends with
    /// [`GRAMMAR`].
    pub fn parse(text: &str) -> Result<Spec, Exit> {
        read(text).map_err(|problem| {
            // A one-item spec's problem quotes the item already: the spec once is enough.
            let quoted = format!("'{}': ", text.trim());
            let problem = problem.strip_prefix(&quoted).unwrap_or(&problem);
            usage(format!("link spec '{text}': {problem}\n{GRAMMAR}"))
        })
    }

    /// The profile the spec names, if it names one.
    pub fn profile(&self) -> Option<&'static Profile> {
        self.profile
    }

    /// What the packets going `direction` meet.
    pub fn towards(&self, direction: Direction) -> Impairments {
        let mut found = Impairments::default();
        for &(setting, scope) in &self.settings {
            if !scope.covers(direction) {
                continue;
            }
            match setting {
                Setting::Loss(p) => found.loss = Some(p),
                Setting::Duplicate(p) => found.duplicate = Some(p),
                Setting::Reorder(p) => found.reorder = Some(p),
                Setting::Delay(t) => found.delay = t,
                Setting::Jitter(t) => found.jitter = t,
                Setting::Mtu(n) => found.mtu = Some(n),
                Setting::DeadAfter(n) => found.dead_after = Some(n),
            }
        }
        found
    }

    /// Whether `dead-after` was given for both ways, so that one count covers both directions:
    /// an unplugged peer is one moment, not one per direction.
    pub fn dead_after_both_ways(&self) -> bool {
        self.settings
            .iter()
            .any(|&(s, scope)| matches!(s, Setting::DeadAfter(_)) && scope == Scope::Both)
    }
}

/// `loss 30% both ways`; `delay 80 ms ± 20 ms both ways; loss 100% towards the server`;
/// `wifi (delay 5 ms ± 3 ms, loss 1% both ways)`; `no impairment`.
impl Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut groups = Vec::new();
        let scopes = [
            Scope::Both,
            Scope::Towards(Direction::ToServer),
            Scope::Towards(Direction::ToClient),
        ];
        for scope in scopes {
            let mut here: Vec<Setting> = self
                .settings
                .iter()
                .filter(|&&(_, s)| s == scope)
                .map(|&(setting, _)| setting)
                // `loss=0%` (the lab's spec when none is given) impairs nothing: not said.
                .filter(|setting| {
                    !matches!(
                        setting,
                        Setting::Loss(p) | Setting::Duplicate(p) | Setting::Reorder(p) if p.ppm() == 0
                    )
                })
                .collect();
            if here.is_empty() {
                continue;
            }
            here.sort_by_key(|s| s.key());
            let jitter = here.iter().find_map(|s| match s {
                Setting::Jitter(t) => Some(*t),
                _ => None,
            });
            let mut words = Vec::new();
            for setting in &here {
                words.push(match *setting {
                    Setting::Loss(p) => format!("loss {p}"),
                    Setting::Duplicate(p) => format!("duplicate {p}"),
                    Setting::Reorder(p) => format!("reorder {p}"),
                    Setting::Delay(t) => match jitter {
                        Some(j) => format!("delay {} ± {}", time(t), time(j)),
                        None => format!("delay {}", time(t)),
                    },
                    // Beside a delay of the same scope, it is part of the delay's words.
                    Setting::Jitter(_) if here.iter().any(|s| matches!(s, Setting::Delay(_))) => {
                        continue;
                    }
                    Setting::Jitter(t) => format!("jitter ± {}", time(t)),
                    Setting::Mtu(n) if n < IPV6_MIN_MTU => {
                        format!("mtu {n} (IPv6 {IPV6_MIN_MTU})")
                    }
                    Setting::Mtu(n) => format!("mtu {n}"),
                    Setting::DeadAfter(1) => "dead after 1 packet".to_string(),
                    Setting::DeadAfter(n) => format!("dead after {n} packets"),
                });
            }
            groups.push(format!("{} {}", words.join(", "), scope.words()));
        }
        let text = if groups.is_empty() {
            "no impairment".to_string()
        } else {
            groups.join("; ")
        };
        match self.profile {
            Some(profile) => write!(f, "{} ({text})", profile.name),
            None => f.write_str(&text),
        }
    }
}

/// A time as a learner reads it: `80 ms`, `2.5 ms`, `1 s`.
pub fn time(t: Duration) -> String {
    let micros = t.as_micros();
    if micros >= 1_000_000 && micros % 1_000_000 == 0 {
        return format!("{} s", micros / 1_000_000);
    }
    let (ms, part) = (micros / 1000, micros % 1000);
    if part == 0 {
        format!("{ms} ms")
    } else {
        let decimals = format!("{part:03}");
        format!("{ms}.{} ms", decimals.trim_end_matches('0'))
    }
}

/// Read a spec, or say in words what is wrong with it.
fn read(text: &str) -> Result<Spec, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the spec is empty: give a profile or KEY=VALUE items".into());
    }
    let items: Vec<&str> = text.split(',').map(str::trim).collect();
    if items.iter().any(|item| item.is_empty()) {
        return Err("an item is empty: items are joined by single commas".into());
    }
    if let [word] = items[..] {
        if let Some(profile) = PROFILES.iter().find(|p| p.name == word) {
            let mut spec = read(profile.items)?;
            spec.profile = Some(profile);
            return Ok(spec);
        }
    }
    let mut settings: Vec<(Setting, Scope)> = Vec::new();
    for item in items {
        let (setting, scope) = item_of(item)?;
        let given = settings
            .iter()
            .find(|&&(s, sc)| s.key() == setting.key() && sc.overlaps(scope));
        if given.is_some() {
            let key = KEYS[setting.key()];
            return Err(format!(
                "{key} is given twice: give each key once (once for both ways, or once for each \
                 of @client and @server)"
            ));
        }
        settings.push((setting, scope));
    }
    let spec = Spec {
        profile: None,
        settings,
    };
    let too_much = |d: Direction| {
        let i = spec.towards(d);
        (i.jitter > i.delay).then_some((i.jitter, i.delay))
    };
    let failing = (too_much(Direction::ToServer), too_much(Direction::ToClient));
    let (which, (jitter, delay)) = match failing {
        (Some(s), Some(c)) if s == c => ("", s),
        (Some(s), _) => (" towards the server", s),
        (None, Some(c)) => (" towards the client", c),
        (None, None) => return Ok(spec),
    };
    Err(format!(
        "a jitter of {} is more than the delay{which} ({}): a packet cannot leave before it \
         came; give a delay at least as long as the jitter",
        time(jitter),
        time(delay),
    ))
}

/// One `KEY=VALUE[@SIDE]` item.
fn item_of(item: &str) -> Result<(Setting, Scope), String> {
    let Some((key, value)) = item.split_once('=') else {
        return Err(not_an_item(item));
    };
    let (value, scope) = match value.split_once('@') {
        Some((value, "server")) => (value, Scope::Towards(Direction::ToServer)),
        Some((value, "client")) => (value, Scope::Towards(Direction::ToClient)),
        Some((_, side)) => {
            return Err(format!(
                "'{item}': '@{side}' is no side; the sides are @client and @server"
            ));
        }
        None => (value, Scope::Both),
    };
    let bad = |why: String| format!("'{item}': {why}");
    let setting = match key {
        "loss" => Setting::Loss(percent(value).map_err(bad)?),
        "duplicate" => Setting::Duplicate(percent(value).map_err(bad)?),
        "reorder" => Setting::Reorder(percent(value).map_err(bad)?),
        "delay" => Setting::Delay(duration(value).map_err(bad)?),
        "jitter" => Setting::Jitter(duration(value).map_err(bad)?),
        "mtu" => Setting::Mtu(mtu(value).map_err(bad)?),
        "dead-after" => Setting::DeadAfter(count(value).map_err(bad)?),
        _ => {
            return Err(format!(
                "unknown key '{key}' (the keys are {})",
                KEYS.join(", ")
            ));
        }
    };
    Ok((setting, scope))
}

/// The words for an item with no `=`: a profile among other items, a key without its value, or
/// a name that is neither.
fn not_an_item(item: &str) -> String {
    let (word, side) = item.split_once('@').unwrap_or((item, ""));
    if let Some(profile) = PROFILES.iter().find(|p| p.name == word) {
        if !side.is_empty() {
            return format!(
                "the profile {word} covers both ways, so it takes no @{side}; write its items \
                 with @{side} instead: {}",
                profile.items
            );
        }
        return format!(
            "a profile stands alone, so {word} cannot be combined with other items; write its \
             items beside yours instead: {}",
            profile.items
        );
    }
    if KEYS.contains(&word) {
        return format!("{word} needs a value, as in {word}={}", example(word));
    }
    let names: Vec<&str> = PROFILES.iter().map(|p| p.name).collect();
    format!(
        "unknown profile '{item}' (the profiles are {}; an item is KEY=VALUE)",
        names.join(", ")
    )
}

/// An example value for a key, for the error that says it needs one.
fn example(key: &str) -> &'static str {
    match key {
        "delay" | "jitter" => "20ms",
        "mtu" => "576",
        "dead-after" => "3",
        _ => "10%",
    }
}

/// `30%`, `0.5%`: a share from 0% to 100%, to four decimals (one in a million).
fn percent(value: &str) -> Result<Percent, String> {
    let Some(number) = value.strip_suffix('%') else {
        let shown = if decimal(value, 4).is_ok() {
            value
        } else {
            "10"
        };
        return Err(format!("a share needs its percent sign, as in {shown}%"));
    };
    if number.starts_with('-') {
        return Err("a share cannot be negative: 0% to 100%".into());
    }
    let ppm = decimal(number, 4)?;
    match u32::try_from(ppm) {
        Ok(ppm) if ppm <= Percent::WHOLE => Ok(Percent(ppm)),
        _ => Err(format!("{value} is more than all the packets: 0% to 100%")),
    }
}

/// `80ms`, `1.5s`: a time from 0 to [`MAX_DELAY`], to the microsecond.
fn duration(value: &str) -> Result<Duration, String> {
    if value.starts_with('-') {
        return Err("a time cannot be negative".into());
    }
    let micros = if let Some(number) = value.strip_suffix("ms") {
        decimal(number, 3)?
    } else if let Some(number) = value.strip_suffix('s') {
        decimal(number, 6)?
    } else {
        let shown = if decimal(value, 3).is_ok() {
            value
        } else {
            "20"
        };
        return Err(format!("a time needs its unit, ms or s, as in {shown}ms"));
    };
    let t = Duration::from_micros(micros);
    if t > MAX_DELAY {
        return Err(format!("{value} is longer than {}", time(MAX_DELAY)));
    }
    Ok(t)
}

/// `576`: an MTU in bytes, from IPv4's least to the largest IP packet.
fn mtu(value: &str) -> Result<u16, String> {
    let n = count(value)?;
    if n < u64::from(IPV4_MIN_MTU) {
        return Err(format!(
            "{n} bytes is below {IPV4_MIN_MTU}, the least MTU IPv4 allows (RFC 791); IPv6 \
             packets are held to {IPV6_MIN_MTU} whatever the mtu"
        ));
    }
    u16::try_from(n).map_err(|_| format!("{n} bytes is more than the largest IP packet, 65535"))
}

/// `3`: a whole number.
fn count(value: &str) -> Result<u64, String> {
    if value.starts_with('-') {
        return Err("a count cannot be negative".into());
    }
    decimal(value, 0)
}

/// A plain decimal number (`12`, `2.5`) with at most `places` decimals, scaled by `10^places`:
/// `decimal("2.5", 4)` is 25000. No sign, no exponent, nothing else.
fn decimal(text: &str, places: u32) -> Result<u64, String> {
    let (whole, part) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !digits(whole)
        || !digits(part)
        || (text.contains('.') && part.is_empty())
    {
        return Err(format!("'{text}' is not a number"));
    }
    if part.len() > usize::try_from(places).unwrap_or(0) {
        let mut words = String::new();
        match places {
            0 => words.push_str("a whole number"),
            1 => words.push_str("at most 1 decimal"),
            n => {
                let _ = write!(words, "at most {n} decimals");
            }
        }
        return Err(format!("'{text}': give {words}"));
    }
    let too_big = || format!("'{text}' is too large");
    let mut scaled: u64 = whole.parse().map_err(|_| too_big())?;
    for i in 0..places {
        let digit = part
            .as_bytes()
            .get(usize::try_from(i).unwrap_or(usize::MAX));
        let digit = digit.map_or(0, |b| u64::from(b - b'0'));
        scaled = scaled
            .checked_mul(10)
            .and_then(|s| s.checked_add(digit))
            .ok_or_else(too_big)?;
    }
    Ok(scaled)
}
