//! The link's random source: SplitMix64, seeded, so that a seed replays the same decisions.
//!
//! Why our own and not the `rand` crate: the link needs a few numbers per packet, never
//! cryptographic ones, and a seed that gives the same numbers on every machine, in every version
//! of the course — the pages' "On a bad link" transcripts are checked against runs with fixed
//! seeds, so a dependency that changed its algorithm would change them. SplitMix64 (Steele, Lea and
//! Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014; the seeder of the xoshiro
//! family) is ten lines, has 64 bits of state, and passes BigCrush. Its outputs are pinned by a
//! test against the reference values.
//!
//! Each layer of each direction draws from a stream of its own ([`Rng::stream`]), so the `n`-th
//! packet's loss decision depends only on the seed and `n`: adding `duplicate=10%` to a spec does
//! not move which packets `loss=30%` drops.

use super::spec::Percent;

/// One stream of SplitMix64 numbers.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

/// The golden-ratio increment of SplitMix64: odd, so the state visits every 64-bit value.
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

impl Rng {
    /// The stream that starts from `seed` (the reference algorithm's seeding: the seed is the
    /// state).
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// The stream for one layer of one direction, named by `label` (`"loss towards the server"`):
    /// the seed and the label hashed together, then mixed, so that no two labels' streams are
    /// shifted copies of one another (two plain SplitMix64 states a multiple of [`GAMMA`] apart
    /// would be).
    pub fn stream(seed: u64, label: &str) -> Rng {
        // FNV-1a: a fixed, well-known string hash (std's hasher is free to change between
        // releases, and its default is randomly keyed).
        let mut hash: u64 = 0xCBF2_9CE4_8422_2325;
        for byte in label.bytes() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01B3);
        }
        Rng::new(mix(seed ^ mix(hash)))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        mix(self.state)
    }

    /// A number from `0` to `n - 1` (0 when `n` is 0), by Lemire's multiply-and-shift: the
    /// product's high half. Its bias is at most `n / 2^64`, far below anything a link could show.
    pub fn below(&mut self, n: u64) -> u64 {
        let wide = u128::from(self.next_u64()) * u128::from(n);
        // The high half of a 128-bit product of two 64-bit numbers fits in 64 bits.
        u64::try_from(wide >> 64).unwrap_or(u64::MAX)
    }

    /// True with probability `p`. Always draws one number, even at 0% or 100%, so that every
    /// packet a layer sees uses exactly one number of its stream.
    pub fn chance(&mut self, p: Percent) -> bool {
        self.below(u64::from(Percent::WHOLE)) < u64::from(p.ppm())
    }
}

/// SplitMix64's output function (a variant of MurmurHash3's finaliser): every bit of the input
/// flips about half of the output's bits.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seed for a run the learner gave none for: from the clock, and below 10,000 so that the
/// printed seed is easy to type back (`--seed 4711`). Whoever calls this prints the seed.
pub fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    let mixed = mix(u64::from(nanos) ^ mix(u64::from(std::process::id())));
    mixed % 10_000
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference SplitMix64 outputs for seed 1234567 (those of the algorithm's published C
    /// code): a change to the generator would change every checked transcript, so it fails here
    /// first.
    #[test]
    fn splitmix64_matches_the_reference() {
        let mut rng = Rng::new(1_234_567);
        let first: Vec<u64> = (0..5).map(|_| rng.next_u64()).collect();
        assert_eq!(
            first,
            [
                6_457_827_717_110_365_317,
                3_203_168_211_198_807_973,
                9_817_491_932_198_370_423,
                4_593_380_528_125_082_431,
                16_408_922_859_458_223_821,
            ]
        );
    }

    /// Two labels under one seed give unrelated streams; one label under one seed, the same.
    #[test]
    fn streams_differ_by_label_and_repeat_by_seed() {
        let draw = |seed, label| {
            let mut rng = Rng::stream(seed, label);
            (0..4).map(|_| rng.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draw(7, "loss"), draw(7, "loss"));
        assert_ne!(draw(7, "loss"), draw(7, "duplicate"));
        assert_ne!(draw(7, "loss"), draw(8, "loss"));
    }

    /// `below(n)` stays below `n`, and covers the range (each of 10 values seen in 1,000 draws).
    #[test]
    fn below_stays_in_range() {
        let mut rng = Rng::new(1);
        let mut seen = [false; 10];
        for _ in 0..1000 {
            let n = rng.below(10);
            assert!(n < 10);
            seen[usize::try_from(n).unwrap()] = true;
        }
        assert!(seen.iter().all(|&s| s), "{seen:?}");
        assert_eq!(rng.below(0), 0);
    }

    /// A fresh seed is short enough to type.
    #[test]
    fn fresh_seeds_are_short() {
        assert!(fresh_seed() < 10_000);
    }
}
