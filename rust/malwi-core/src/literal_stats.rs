//! What the bytes of a file's string literals look like, for the package-unit model: how they
//! spread over byte values, and how many fixed-size windows of them reach each entropy level.
//!
//! Packed payloads (base64, hex, compressed or encrypted bytes) hide in string literals. Their
//! byte mix and entropy differ from prose, identifiers and paths whatever decoder unpacks them,
//! so these figures still speak where no decoder recognised the packing. Only counts are kept:
//! the unit features turn them into shares and counts of high-entropy windows.

use std::sync::OnceLock;

/// Bins of the byte histogram: a byte's high nibble (`byte >> 4`). Coarser histograms are sums
/// of neighbouring bins.
pub const BYTE_BINS: usize = 16;
/// Window sizes, in bytes, over which entropy is measured: the non-overlapping windows of each
/// literal at least that long (a shorter tail is not measured).
pub const ENTROPY_WINDOWS: [usize; 3] = [64, 256, 1024];
/// Entropy levels: buckets of a quarter bit per byte, from 0 to 8 bits.
pub const ENTROPY_BUCKETS: usize = 32;
pub const ENTROPY_BUCKET_BITS: f64 = 0.25;

/// The byte histogram and entropy windows of the string literals seen so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiteralStats {
    /// Literal bytes per high nibble.
    pub bytes: [u64; BYTE_BINS],
    /// Per window size (`ENTROPY_WINDOWS`), the number of windows per entropy bucket.
    pub windows: [[u32; ENTROPY_BUCKETS]; ENTROPY_WINDOWS.len()],
}

impl Default for LiteralStats {
    fn default() -> Self {
        LiteralStats { bytes: [0; BYTE_BINS], windows: [[0; ENTROPY_BUCKETS]; ENTROPY_WINDOWS.len()] }
    }
}

/// `c * log2(c)` for every count a window can hold (the largest window's size).
fn count_log_count() -> &'static [f64] {
    static TABLE: OnceLock<Vec<f64>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let largest = ENTROPY_WINDOWS.iter().copied().max().unwrap_or(0);
        (0..=largest).map(|c| if c == 0 { 0.0 } else { c as f64 * (c as f64).log2() }).collect()
    })
}

/// Shannon entropy, in bits per byte, of `window` (not empty); `counts` is all zeros on entry
/// and on return.
fn window_entropy(window: &[u8], counts: &mut [u16; 256]) -> f64 {
    for &byte in window {
        counts[byte as usize] += 1;
    }
    let table = count_log_count();
    let mut sum = 0.0;
    for &byte in window {
        let count = std::mem::take(&mut counts[byte as usize]);
        sum += table[count as usize];
    }
    let n = window.len() as f64;
    n.log2() - sum / n
}

impl LiteralStats {
    /// Counts the bytes of one literal value.
    pub fn add(&mut self, value: &[u8]) {
        for &byte in value {
            self.bytes[(byte >> 4) as usize] += 1;
        }
        if value.len() < ENTROPY_WINDOWS[0] {
            return;
        }
        let mut counts = [0u16; 256];
        for (size, buckets) in ENTROPY_WINDOWS.iter().zip(self.windows.iter_mut()) {
            for window in value.chunks_exact(*size) {
                let bits = window_entropy(window, &mut counts);
                let bucket = ((bits / ENTROPY_BUCKET_BITS) as usize).min(ENTROPY_BUCKETS - 1);
                buckets[bucket] += 1;
            }
        }
    }

    /// Adds another text's counts (decoded code, the windows of a large file).
    pub fn merge(&mut self, other: &LiteralStats) {
        for (mine, theirs) in self.bytes.iter_mut().zip(other.bytes) {
            *mine += theirs;
        }
        for (mine, theirs) in self.windows.iter_mut().zip(&other.windows) {
            for (count, more) in mine.iter_mut().zip(theirs) {
                *count += more;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket_of(stats: &LiteralStats, size_index: usize) -> Vec<usize> {
        stats.windows[size_index].iter().enumerate().filter(|(_, &n)| n > 0).map(|(b, _)| b).collect()
    }

    #[test]
    fn bytes_are_counted_by_high_nibble() {
        let mut stats = LiteralStats::default();
        stats.add(b"AZ\x01\xff");
        assert_eq!(stats.bytes[4], 1); // 'A' = 0x41
        assert_eq!(stats.bytes[5], 1); // 'Z' = 0x5a
        assert_eq!(stats.bytes[0], 1);
        assert_eq!(stats.bytes[15], 1);
        assert_eq!(stats.bytes.iter().sum::<u64>(), 4);
        // Shorter than the smallest window: no entropy window.
        assert!(stats.windows.iter().all(|w| w.iter().all(|&n| n == 0)));
    }

    #[test]
    fn entropy_levels_of_known_texts() {
        // One repeated byte: 0 bits.
        let mut flat = LiteralStats::default();
        flat.add(&[b'a'; 64]);
        assert_eq!(bucket_of(&flat, 0), vec![0]);
        // 64 distinct bytes in a 64-byte window: exactly 6 bits, bucket 24.
        let distinct: Vec<u8> = (0u8..64).collect();
        let mut spread = LiteralStats::default();
        spread.add(&distinct);
        assert_eq!(bucket_of(&spread, 0), vec![24]);
        // Two symbols, evenly: 1 bit, bucket 4.
        let two: Vec<u8> = (0..256).map(|i| if i % 2 == 0 { b'0' } else { b'1' }).collect();
        let mut binary = LiteralStats::default();
        binary.add(&two);
        assert_eq!(bucket_of(&binary, 0), vec![4]);
        assert_eq!(binary.windows[0][4], 4);
        assert_eq!(binary.windows[1][4], 1);
        assert_eq!(binary.windows[2].iter().sum::<u32>(), 0);
    }

    #[test]
    fn only_whole_windows_are_measured() {
        let mut stats = LiteralStats::default();
        stats.add(&[b'x'; 64 * 3 + 63]);
        assert_eq!(stats.windows[0].iter().sum::<u32>(), 3);
        assert_eq!(stats.windows[1].iter().sum::<u32>(), 0);
    }

    #[test]
    fn packed_bytes_score_higher_than_prose() {
        let prose = "the quick brown fox jumps over the lazy dog and keeps on running ".repeat(16);
        // A deterministic stand-in for encrypted bytes: every byte value, scrambled.
        let packed: Vec<u8> = (0..1024u32).map(|i| (i.wrapping_mul(167).wrapping_add(i >> 3) % 256) as u8).collect();
        let (mut low, mut high) = (LiteralStats::default(), LiteralStats::default());
        low.add(prose.as_bytes());
        high.add(&packed);
        let top = |s: &LiteralStats| bucket_of(s, 1).into_iter().max().unwrap();
        assert!(top(&low) <= 17, "prose at {} quarter bits", top(&low));
        assert!(top(&high) >= 28, "packed bytes at {} quarter bits", top(&high));
    }

    proptest::proptest! {
        /// Every byte is counted once, every whole window once, and no window exceeds the
        /// entropy its size allows (log2 of the size).
        #[test]
        fn counts_are_complete_and_entropy_bounded(value in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3000)) {
            let mut stats = LiteralStats::default();
            stats.add(&value);
            proptest::prop_assert_eq!(stats.bytes.iter().sum::<u64>(), value.len() as u64);
            for (size, buckets) in ENTROPY_WINDOWS.iter().zip(&stats.windows) {
                proptest::prop_assert_eq!(buckets.iter().sum::<u32>() as usize, value.len() / size);
                let ceiling = ((*size as f64).log2() / ENTROPY_BUCKET_BITS) as usize;
                proptest::prop_assert!(buckets.iter().enumerate().all(|(b, &n)| n == 0 || b <= ceiling));
            }
        }
    }

    #[test]
    fn merging_adds_counts() {
        let (mut a, mut b) = (LiteralStats::default(), LiteralStats::default());
        a.add(&[b'a'; 100]);
        b.add(&[b'b'; 300]);
        let mut both = a.clone();
        both.merge(&b);
        let mut direct = LiteralStats::default();
        direct.add(&[b'a'; 100]);
        direct.add(&[b'b'; 300]);
        assert_eq!(both, direct);
    }
}
