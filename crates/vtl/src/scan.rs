//! Finding the first byte of a kind eight bytes at a time (plain `u64` arithmetic), for
//! the scans a render spends most of its bytes in: JSON string text and escaping.
//!
//! A mask has the high bit of each byte of a little-endian word that is of the kind,
//! exact up to the first such byte: `x - 0x01…01 & !x & 0x80…80` marks the zero bytes of
//! `x`, and with `n` repeated instead of 0x01 the bytes below `n` (n ≤ 0x80); a borrow can
//! mark bytes after a marked one, never before. So the lowest marked byte is the first.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Bytes of `w` below `n`.
#[inline(always)]
pub fn below(w: u64, n: u8) -> u64 {
    w.wrapping_sub(ONES * n as u64) & !w & HIGH
}

/// Bytes of `w` equal to `b`.
#[inline(always)]
pub fn equal(w: u64, b: u8) -> u64 {
    below(w ^ (ONES * b as u64), 1)
}

/// Bytes of `w` from 0x80 up (exact for every byte).
#[inline(always)]
pub fn high(w: u64) -> u64 {
    w & HIGH
}

/// The position of the first byte of `b` from `from` on that `mask` marks (words) and
/// `is` accepts (the tail shorter than a word), or `b.len()`.
#[inline(always)]
pub fn find(
    b: &[u8],
    mut from: usize,
    mask: impl Fn(u64) -> u64,
    is: impl Fn(u8) -> bool,
) -> usize {
    while let Some(word) = b.get(from..from + 8) {
        let m = mask(u64::from_le_bytes(word.try_into().unwrap_or([0; 8])));
        if m != 0 {
            return from + m.trailing_zeros() as usize / 8;
        }
        from += 8;
    }
    b.get(from..)
        .and_then(|rest| rest.iter().position(|&c| is(c)))
        .map_or(b.len(), |i| from + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn masks_find_the_first_byte_of_their_kind(w: u64, pos in 0usize..8, b: u8, n in 1u8..=0x80, e: u8) {
            let mut bytes = w.to_le_bytes();
            bytes[pos] = b;
            let w = u64::from_le_bytes(bytes);
            let first = |m: u64| (m != 0).then(|| m.trailing_zeros() as usize / 8);
            proptest::prop_assert_eq!(first(below(w, n)), bytes.iter().position(|&c| c < n));
            proptest::prop_assert_eq!(first(equal(w, e)), bytes.iter().position(|&c| c == e));
            proptest::prop_assert_eq!(first(high(w)), bytes.iter().position(|&c| c >= 0x80));
            let mixed = below(w, 0x20) | equal(w, b'"') | high(w);
            let is = |c: u8| c < 0x20 || c == b'"' || c >= 0x80;
            proptest::prop_assert_eq!(first(mixed), bytes.iter().position(|&c| is(c)));
            // `find` over a buffer longer than a word, from every start.
            let buf: Vec<u8> = bytes.iter().chain(bytes.iter().rev()).chain(&bytes[..pos]).copied().collect();
            for from in 0..buf.len() {
                let expect = buf[from..].iter().position(|&c| is(c)).map_or(buf.len(), |i| from + i);
                proptest::prop_assert_eq!(find(&buf, from, |w| below(w, 0x20) | equal(w, b'"') | high(w), is), expect);
            }
        }
    }
}
