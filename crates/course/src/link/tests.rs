//! The link's decisions, as issue 18 lists them: order, not time, is what each test asserts
//! (the times are made up and no test sleeps).

use std::time::Duration;

use lesson_common::Exit;

use super::layers::{Delay, Duplicate, Layer, Loss, Mtu, Reorder, Stack};
use super::spec::{GRAMMAR, PROFILES, Percent, Spec};
use super::{Direction, Flight, HOLD_LIMIT, Link, Packet, Rng, RouterWould, Verdict, Why};

const TO_SERVER: Direction = Direction::ToServer;
const TO_CLIENT: Direction = Direction::ToClient;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn spec(text: &str) -> Spec {
    match Spec::parse(text) {
        Ok(spec) => spec,
        Err(e) => panic!("{text:?} should parse: {e:?}"),
    }
}

/// A 60-byte packet whose bytes say its number, so a test can see that bytes travel intact.
fn bytes(n: u64) -> Vec<u8> {
    let mut b = vec![0x45; 60];
    b[20..28].copy_from_slice(&n.to_be_bytes());
    b
}

/// An IPv4 header's first bytes with Don't Fragment set or not, padded to `size`.
fn ipv4(size: usize, dont_fragment: bool) -> Vec<u8> {
    let mut b = vec![0; size];
    b[0] = 0x45;
    b[6] = if dont_fragment { 0x40 } else { 0 };
    b
}

fn ipv6(size: usize) -> Vec<u8> {
    let mut b = vec![0; size];
    b[0] = 0x60;
    b
}

/// Run one layer alone over packets 1..=n arriving 1 ms apart; its verdicts in order.
fn through(layer: impl Layer + 'static, n: u64) -> Vec<Verdict> {
    let mut stack = Stack::new(vec![Box::new(layer)]);
    let mut out = Vec::new();
    for number in 1..=n {
        let packet = Packet {
            number,
            bytes: bytes(number),
        };
        stack.pass(Flight::new(packet, ms(number)), &mut out);
    }
    out
}

/// Send `n` packets one way across `link`, 1 ms apart from `start`; the verdicts in order.
fn across(link: &mut Link, direction: Direction, n: u64) -> Vec<Verdict> {
    let mut out = Vec::new();
    for i in 1..=n {
        link.pass(direction, bytes(i), ms(i), &mut out);
    }
    out
}

/// The numbers of the packets sent on, in sending order.
fn sent(verdicts: &[Verdict]) -> Vec<u64> {
    verdicts
        .iter()
        .filter(|v| v.is_sent())
        .map(|v| v.packet().number)
        .collect()
}

fn dropped(verdicts: &[Verdict]) -> Vec<u64> {
    verdicts
        .iter()
        .filter(|v| !v.is_sent())
        .map(|v| v.packet().number)
        .collect()
}

fn words(verdicts: &[Verdict]) -> Vec<String> {
    verdicts.iter().map(ToString::to_string).collect()
}

/// The usage error's text for a spec that must be refused.
fn refused(text: &str) -> String {
    match Spec::parse(text) {
        Err(Exit::Usage(why)) => why,
        other => panic!("{text:?} should be a usage error (exit 2), got {other:?}"),
    }
}

// --- loss ---------------------------------------------------------------------------------

/// loss=0 forwards every packet, in order, intact, at once: the layer alone and the whole link.
#[test]
fn loss_zero_forwards_every_packet_in_order() {
    let out = through(Loss::new(Percent::new(0), Rng::new(1)), 100);
    assert_eq!(sent(&out), (1..=100).collect::<Vec<_>>());
    let mut link = Link::new(&spec("loss=0%"), 7);
    let out = across(&mut link, TO_SERVER, 100);
    assert_eq!(sent(&out), (1..=100).collect::<Vec<_>>());
    for (i, verdict) in (1..).zip(&out) {
        let Verdict::Send(flight) = verdict else {
            panic!("{verdict:?}")
        };
        assert_eq!(flight.packet.bytes, bytes(i));
        assert_eq!(flight.due, flight.arrived, "no delay asked, none given");
        assert_eq!(verdict.to_string(), "sent");
    }
}

/// loss=100% drops every packet, and says so.
#[test]
fn loss_hundred_drops_every_packet() {
    let out = through(Loss::new(Percent::new(100), Rng::new(1)), 100);
    assert_eq!(dropped(&out), (1..=100).collect::<Vec<_>>());
    let mut link = Link::new(&spec("loss=100%"), 7);
    let out = across(&mut link, TO_CLIENT, 50);
    assert!(sent(&out).is_empty());
    assert!(out.iter().all(|v| v.to_string() == "dropped by loss"));
    assert_eq!(link.total().lost, 50);
}

/// A fixed seed drops the same packets on every run (pinned: a change to the generator or the
/// streams would change the pages' checked transcripts), another seed different ones, and about
/// the share asked for.
#[test]
fn a_fixed_seed_gives_the_same_drops() {
    let drops = |seed| {
        let mut link = Link::new(&spec("loss=30%"), seed);
        dropped(&across(&mut link, TO_SERVER, 1000))
    };
    let seven = drops(7);
    assert_eq!(seven, drops(7));
    assert_ne!(seven, drops(8));
    assert_eq!(seven[..8], [1, 4, 6, 10, 14, 18, 20, 21]);
    assert!((250..350).contains(&seven.len()), "{} of 1000", seven.len());
}

/// The loss draws depend on the seed and the packet alone: adding other impairments does not
/// move which packets are lost.
#[test]
fn other_layers_do_not_move_the_loss_draws() {
    let drops = |text| {
        let mut link = Link::new(&spec(text), 7);
        dropped(&across(&mut link, TO_SERVER, 200))
    };
    assert_eq!(
        drops("loss=30%"),
        drops("loss=30%,duplicate=50%,jitter=1ms,delay=1ms")
    );
}

// --- duplicate, reorder, delay ---------------------------------------------------------------

/// duplicate=100% sends each packet twice, the original then the copy, with the same bytes;
/// 0% sends each once.
#[test]
fn duplicate_doubles() {
    let out = through(Duplicate::new(Percent::new(100), Rng::new(1)), 3);
    assert_eq!(sent(&out), [1, 1, 2, 2, 3, 3]);
    assert_eq!(
        words(&out),
        [
            "sent",
            "duplicated",
            "sent",
            "duplicated",
            "sent",
            "duplicated"
        ]
    );
    let (Verdict::Send(a), Verdict::Send(b)) = (&out[0], &out[1]) else {
        panic!("{out:?}")
    };
    assert_eq!(a.packet, b.packet);
    assert_eq!(a.due, b.due);
    let out = through(Duplicate::new(Percent::new(0), Rng::new(1)), 3);
    assert_eq!(sent(&out), [1, 2, 3]);
    let mut link = Link::new(&spec("duplicate=100%"), 1);
    across(&mut link, TO_SERVER, 4);
    assert_eq!((link.total().sent, link.total().duplicated), (8, 4));
}

/// reorder=100% swaps each pair: a packet is held back and sent right after the next one (which
/// is not itself held), so 1..6 go 2 1 4 3 6 5; nothing is lost or made up.
#[test]
fn reorder_swaps_each_pair() {
    let out = through(Reorder::new(Percent::new(100), Rng::new(1)), 6);
    assert_eq!(sent(&out), [2, 1, 4, 3, 6, 5]);
    assert_eq!(words(&out)[..2], ["sent", "held back, delayed 1 ms"]);
    // The held packet leaves at the moment the one that overtook it does.
    let (Verdict::Send(overtaker), Verdict::Send(held)) = (&out[0], &out[1]) else {
        panic!("{out:?}")
    };
    assert_eq!(held.due, overtaker.due);
    let out = through(Reorder::new(Percent::new(0), Rng::new(1)), 6);
    assert_eq!(sent(&out), [1, 2, 3, 4, 5, 6]);
}

/// A held packet that nothing overtakes goes on alone after HOLD_LIMIT, when the wire ticks (not
/// before), or before the next packet if that comes later still: never lost, never stuck.
#[test]
fn a_lone_held_packet_goes_on_after_the_hold() {
    let mut stack = Stack::new(vec![Box::new(Reorder::new(Percent::new(100), Rng::new(1)))]);
    let mut out = Vec::new();
    let packet = |number| Packet {
        number,
        bytes: bytes(number),
    };
    stack.pass(Flight::new(packet(1), ms(0)), &mut out);
    assert!(out.is_empty());
    assert_eq!(stack.wake(), Some(HOLD_LIMIT));
    stack.tick(HOLD_LIMIT - ms(1), &mut out);
    assert!(out.is_empty(), "released early: {out:?}");
    stack.tick(HOLD_LIMIT + ms(5), &mut out);
    assert_eq!(sent(&out), [1]);
    let Verdict::Send(flight) = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(
        flight.due, HOLD_LIMIT,
        "due when its hold ended, not when ticked"
    );
    assert_eq!(stack.wake(), None);
    // No tick at all: the next packet, coming after the hold ended, finds it gone on first.
    out.clear();
    stack.pass(Flight::new(packet(2), ms(1000)), &mut out);
    stack.pass(Flight::new(packet(3), ms(1000) + HOLD_LIMIT * 2), &mut out);
    assert_eq!(sent(&out), [2]);
}

/// The grammar says how long reorder holds a packet at most: HOLD_LIMIT.
#[test]
fn the_grammar_gives_the_hold_limit() {
    let limit = format!("within {} ms", HOLD_LIMIT.as_millis());
    assert!(GRAMMAR.contains(&limit), "{GRAMMAR}");
}

/// A link going down with a packet held (reorder) flushes it, sent and counted: every packet
/// offered is then accounted for, sent or dropped, whatever the layers held.
#[test]
fn flushing_accounts_for_every_packet_offered() {
    let mut link = Link::new(&spec("reorder=100%,loss=30%,duplicate=20%"), 5);
    let mut out = Vec::new();
    for n in 1..=7 {
        link.pass(TO_SERVER, bytes(n), ms(n), &mut out);
    }
    let held = link.counters(TO_SERVER);
    assert!(
        link.wake(TO_SERVER).is_some(),
        "the seventh is held: {out:?}"
    );
    assert!(held.accounted() < held.offered);
    link.flush(TO_SERVER, ms(8), &mut out);
    assert_eq!(link.wake(TO_SERVER), None);
    let c = link.counters(TO_SERVER);
    assert_eq!(c.offered, 7);
    assert_eq!(c.accounted(), c.offered, "{c:?}");
    let mut numbers: Vec<u64> = out
        .iter()
        .filter(|v| !matches!(v, Verdict::Send(f) if f.marks.copy))
        .map(|v| v.packet().number)
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, [1, 2, 3, 4, 5, 6, 7]);
}

/// delay=80ms delays every packet by 80 ms, in order; with jitter=20ms each delay is within
/// 60..=100 ms, and still no packet overtakes another.
#[test]
fn delay_and_jitter_keep_the_order() {
    let out = through(Delay::new(ms(80), Duration::ZERO, Rng::new(1)), 5);
    assert_eq!(sent(&out), [1, 2, 3, 4, 5]);
    assert_eq!(words(&out), ["delayed 80 ms"; 5]);
    let out = through(Delay::new(ms(80), ms(20), Rng::new(3)), 200);
    assert_eq!(sent(&out), (1..=200).collect::<Vec<_>>());
    let mut last = Duration::ZERO;
    let mut below_80 = false;
    for verdict in &out {
        let Verdict::Send(flight) = verdict else {
            panic!("{verdict:?}")
        };
        let delay = flight.due - flight.arrived;
        // A packet may wait behind a slower one ahead of it: more than 100 ms then, never less
        // than 60.
        assert!(delay >= ms(60), "{delay:?}");
        below_80 |= delay < ms(80);
        assert!(flight.due >= last, "overtook the packet ahead");
        last = flight.due;
    }
    assert!(below_80, "jitter never made a packet earlier");
    // The layer alone, without the stack's own guard: it keeps the queue's order itself.
    let mut delay = Delay::new(ms(80), ms(20), Rng::new(3));
    let (mut out, mut last) = (Vec::new(), Duration::ZERO);
    for number in 1..=200 {
        let packet = Packet {
            number,
            bytes: bytes(number),
        };
        delay.pass(Flight::new(packet, ms(number)), &mut out);
        let Some(Verdict::Send(flight)) = out.pop() else {
            panic!("no verdict for {number}")
        };
        assert!(flight.due >= last, "packet {number} overtook the one ahead");
        last = flight.due;
    }
}

/// Whatever the stack does, what comes out of one direction is due in the order it is to be
/// sent: the wire needs one queue per direction, not a heap.
#[test]
fn due_times_never_decrease() {
    let mut link = Link::new(
        &spec("reorder=30%,duplicate=30%,delay=50ms,jitter=50ms,loss=10%"),
        11,
    );
    let mut out = Vec::new();
    let mut now = Duration::ZERO;
    for i in 0..500u64 {
        now += Duration::from_micros(i * 7919 % 3000);
        if link.wake(TO_SERVER).is_some_and(|at| at <= now) {
            link.tick(TO_SERVER, now, &mut out);
        }
        link.pass(TO_SERVER, bytes(i), now, &mut out);
    }
    link.tick(TO_SERVER, now + ms(1000), &mut out);
    let dues: Vec<Duration> = out
        .iter()
        .filter_map(|v| match v {
            Verdict::Send(flight) => Some(flight.due),
            Verdict::Dropped(..) => None,
        })
        .collect();
    assert!(dues.windows(2).all(|w| w[0] <= w[1]));
    let total = link.total();
    assert_eq!(total.offered, 500);
    assert_eq!(total.sent, 500 - total.lost + total.duplicated, "{total:?}");
}

/// The stack itself keeps that promise, whatever a layer does: a layer that dates every other
/// packet back has it sent no earlier than the one before.
#[test]
fn the_stack_never_dates_a_packet_before_the_last() {
    struct Rewind;
    impl Layer for Rewind {
        fn pass(&mut self, mut flight: Flight, out: &mut Vec<Verdict>) {
            if flight.packet.number % 2 == 0 {
                flight.due = Duration::ZERO;
            }
            out.push(Verdict::Send(flight));
        }
    }
    let out = through(Rewind, 4);
    let dues: Vec<Duration> = out
        .iter()
        .map(|v| match v {
            Verdict::Send(flight) => flight.due,
            Verdict::Dropped(..) => panic!("{v:?}"),
        })
        .collect();
    assert_eq!(dues, [ms(1), ms(1), ms(3), ms(3)]);
}

// --- mtu, dead-after, one direction ---------------------------------------------------------

/// mtu=576: a longer IPv4 packet is dropped and counted, with what a router would answer (ICMP
/// "fragmentation needed" with Don't Fragment, fragments without); 576 bytes pass. IPv6 keeps
/// its 1280: 1000 bytes pass, 1300 are "packet too big" at 1280.
#[test]
fn mtu_drops_what_is_too_big_and_says_what_a_router_would_answer() {
    let mut link = Link::new(&spec("mtu=576"), 1);
    let mut out = Vec::new();
    for packet in [
        ipv4(576, true),
        ipv4(577, true),
        ipv4(600, false),
        ipv6(1000),
        ipv6(1300),
    ] {
        link.pass(TO_SERVER, packet, ms(1), &mut out);
    }
    assert_eq!(sent(&out), [1, 4]);
    let whys: Vec<Why> = out
        .iter()
        .filter_map(|v| match v {
            Verdict::Dropped(_, why) => Some(*why),
            Verdict::Send(_) => None,
        })
        .collect();
    assert_eq!(
        whys,
        [
            Why::TooBig {
                size: 577,
                mtu: 576,
                reply: RouterWould::SendFragmentationNeeded
            },
            Why::TooBig {
                size: 600,
                mtu: 576,
                reply: RouterWould::Fragment
            },
            Why::TooBig {
                size: 1300,
                mtu: 1280,
                reply: RouterWould::SendPacketTooBig
            },
        ]
    );
    assert_eq!(
        out[1].to_string(),
        "dropped: 577 bytes, over the MTU of 576; a router would answer ICMP \"fragmentation \
         needed\" with the MTU"
    );
    assert_eq!(link.total().too_big, 3);
    // The layer alone, at the boundary: a 60-byte packet passes an MTU of 60, not of 59.
    assert_eq!(sent(&through(Mtu::new(60), 1)), [1]);
    assert_eq!(dropped(&through(Mtu::new(59), 1)), [1]);
}

/// dead-after=3 carries three packets, counted both ways together (one moment of unplugging),
/// then nothing either way.
#[test]
fn dead_after_carries_n_packets_then_none() {
    let mut link = Link::new(&spec("dead-after=3"), 1);
    let mut out = Vec::new();
    for i in 0..4 {
        link.pass(TO_SERVER, bytes(i), ms(i), &mut out);
        link.pass(TO_CLIENT, bytes(i), ms(i), &mut out);
    }
    let fates: Vec<bool> = out.iter().map(Verdict::is_sent).collect();
    assert_eq!(fates, [true, true, true, false, false, false, false, false]);
    assert_eq!(out[3].to_string(), "dropped: the link died after 3 packets");
    assert_eq!(link.total().dead, 5);
    // One way only: the other way is not counted, and not cut.
    let mut link = Link::new(&spec("dead-after=2@server"), 1);
    assert_eq!(sent(&across(&mut link, TO_CLIENT, 5)), [1, 2, 3, 4, 5]);
    assert_eq!(sent(&across(&mut link, TO_SERVER, 5)), [1, 2]);
}

/// loss=100%@server drops everything going to the server and nothing coming back; @client the
/// other way round.
#[test]
fn one_direction_only() {
    let mut link = Link::new(&spec("loss=100%@server"), 1);
    assert!(sent(&across(&mut link, TO_SERVER, 10)).is_empty());
    assert_eq!(sent(&across(&mut link, TO_CLIENT, 10)).len(), 10);
    assert_eq!(link.counters(TO_SERVER).lost, 10);
    assert_eq!(link.counters(TO_CLIENT).lost, 0);
    let mut link = Link::new(&spec("loss=100%@client,delay=10ms"), 1);
    assert_eq!(sent(&across(&mut link, TO_SERVER, 10)).len(), 10);
    assert!(sent(&across(&mut link, TO_CLIENT, 10)).is_empty());
}

/// The wire may give each direction a thread of its own: a link can move to one.
#[test]
fn a_link_can_move_to_another_thread() {
    fn sendable<T: Send>(_: &T) {}
    sendable(&Link::new(&spec("lossy"), 1));
}

// --- the spec -------------------------------------------------------------------------------

/// The examples print back as a learner reads them.
#[test]
fn specs_print_as_a_learner_reads_them() {
    let cases = [
        ("loss=30%", "loss 30% both ways"),
        ("delay=80ms,jitter=20ms", "delay 80 ms ± 20 ms both ways"),
        (
            "reorder=25%,duplicate=10%",
            "duplicate 10%, reorder 25% both ways",
        ),
        ("mtu=576", "mtu 576 (IPv6 1280) both ways"),
        ("mtu=1500", "mtu 1500 both ways"),
        ("loss=100%@server", "loss 100% towards the server"),
        ("dead-after=3", "dead after 3 packets both ways"),
        (
            "delay=1.5s,loss=0.5%@client, jitter=250ms",
            "delay 1500 ms ± 250 ms both ways; loss 0.5% towards the client",
        ),
        (
            "loss=10%@server,loss=20%@client",
            "loss 10% towards the server; loss 20% towards the client",
        ),
        ("delay=2s", "delay 2 s both ways"),
    ];
    for (text, shown) in cases {
        assert_eq!(spec(text).to_string(), shown, "{text}");
    }
    assert_eq!(Spec::none().to_string(), "no impairment");
}

/// The lab's closing line, as the issue shows it.
#[test]
fn the_summary_line() {
    let mut link = Link::new(&spec("loss=30%"), 7);
    across(&mut link, TO_SERVER, 6);
    across(&mut link, TO_CLIENT, 5);
    assert_eq!(
        link.summary(),
        "link: loss 30% both ways, seed 7 — 6 of 11 packets dropped, 0 duplicated"
    );
    let mut link = Link::new(&spec("mtu=576,reorder=100%"), 7);
    link.pass(TO_SERVER, ipv4(1000, true), ms(1), &mut Vec::new());
    across(&mut link, TO_CLIENT, 2);
    assert_eq!(
        link.summary(),
        "link: reorder 100%, mtu 576 (IPv6 1280) both ways, seed 7 — 1 of 3 packets dropped \
         (1 over the MTU), 0 duplicated, 1 held back"
    );
}

/// Each bad spec the issue names, and the other ways to get one wrong, is a usage error (exit
/// 2) that quotes the spec, says what is wrong in its own words, and ends with the grammar.
#[test]
fn bad_specs_are_usage_errors_with_the_grammar() {
    let cases = [
        ("loss=150%", "150% is more than all the packets"),
        ("delay=-1ms", "a time cannot be negative"),
        ("mtu=10", "below 68, the least MTU IPv4 allows"),
        ("mtu=70000", "more than the largest IP packet, 65535"),
        (
            "lag=10ms",
            "unknown key 'lag' (the keys are loss, duplicate",
        ),
        (
            "wi-fi",
            "unknown profile 'wi-fi' (the profiles are wifi, mobile",
        ),
        ("loss=10%,loss=20%", "loss is given twice"),
        ("loss=10%,loss=20%@server", "loss is given twice"),
        ("loss=30", "a share needs its percent sign, as in 30%"),
        ("loss=-5%", "a share cannot be negative"),
        ("loss=abc%", "'abc' is not a number"),
        ("loss=0.00001%", "at most 4 decimals"),
        ("delay=80", "a time needs its unit, ms or s, as in 80ms"),
        ("delay=20s", "longer than 10 s"),
        (
            "delay=20ms,jitter=30ms",
            "a jitter of 30 ms is more than the delay (20 ms)",
        ),
        (
            "delay=40ms,jitter=30ms,delay=10ms@client",
            "delay is given twice",
        ),
        (
            "delay=40ms@server,jitter=30ms",
            "a jitter of 30 ms is more than the delay towards the client (0 ms)",
        ),
        ("dead-after=x", "'x' is not a number"),
        ("dead-after=1.5", "give a whole number"),
        (
            "loss=10%@router",
            "'@router' is no side; the sides are @client and @server",
        ),
        ("wifi,loss=5%", "a profile stands alone"),
        ("satellite@server", "covers both ways"),
        ("loss", "loss needs a value, as in loss=10%"),
        ("", "the spec is empty"),
        ("loss=1%,,mtu=576", "an item is empty"),
    ];
    for (text, problem) in cases {
        let why = refused(text);
        assert!(
            why.starts_with(&format!("link spec '{text}': ")),
            "{text}: {why}"
        );
        assert!(
            why.contains(problem),
            "{text}: wanted {problem:?} in\n{why}"
        );
        assert!(
            why.ends_with(GRAMMAR),
            "{text}: no grammar at the end of\n{why}"
        );
    }
}

/// The limits themselves are accepted: a spec refuses only what is out of range.
#[test]
fn the_limits_are_accepted() {
    for text in [
        "loss=0%",
        "loss=100%",
        "loss=0.0001%",
        "mtu=68",
        "mtu=65535",
        "delay=10s",
        "delay=10ms,jitter=10ms",
        "dead-after=0",
        "loss=10%@server,loss=20%@client",
    ] {
        spec(text);
    }
}

/// Each profile parses, prints its name and its settings, says what it is like, and is listed
/// in the grammar with its items; its items alone give the same link.
#[test]
fn profiles_parse_and_print_their_meaning() {
    for profile in PROFILES {
        let named = spec(profile.name);
        let items = spec(profile.items);
        assert_eq!(named.profile().map(|p| p.name), Some(profile.name));
        assert_eq!(named.towards(TO_SERVER), items.towards(TO_SERVER));
        assert_eq!(named.to_string(), format!("{} ({items})", profile.name));
        let meaning = profile.meaning();
        assert!(meaning.starts_with(&format!("{} — {}; ", profile.name, profile.about)));
        assert!(meaning.ends_with(&items.to_string()), "{meaning}");
        let line = format!("  {:<17}{}", profile.name, profile.items);
        assert!(GRAMMAR.lines().any(|l| l == line), "GRAMMAR lacks {line:?}");
    }
    assert_eq!(
        spec("satellite").to_string(),
        "satellite (loss 0.5%, delay 280 ms ± 10 ms both ways)"
    );
}

/// The ladder's words for each fate, delays rounded as the ladder shows them.
#[test]
fn verdicts_read_as_the_ladder_will_write_them() {
    let mut flight = Flight::new(
        Packet {
            number: 5,
            bytes: bytes(5),
        },
        ms(10),
    );
    flight.due = ms(10) + Duration::from_micros(83_417);
    assert_eq!(Verdict::Send(flight.clone()).to_string(), "delayed 83 ms");
    flight.marks.copy = true;
    flight.marks.held_back = true;
    assert_eq!(
        Verdict::Send(flight.clone()).to_string(),
        "duplicated, held back, delayed 83 ms"
    );
    flight.due = ms(10) + Duration::from_micros(2_460);
    flight.marks = Default::default();
    assert_eq!(Verdict::Send(flight.clone()).to_string(), "delayed 2.5 ms");
    assert_eq!(
        Verdict::Dropped(flight, Why::Loss).to_string(),
        "dropped by loss"
    );
}
