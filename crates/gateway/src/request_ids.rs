//! Identifiers made for every request: `$context.requestId` (a version 4 UUID, lower case,
//! hyphenated) and `$context.extendedRequestId` (15 letters and digits then `=`), as API
//! Gateway shows them. They must be unique, not secret, so they come from a generator per
//! worker thread (wyrand, seeded from the operating system's randomness) rather than a
//! cryptographic one: the ChaCha draws cost ~1,200 instructions a request (issue 18).
//! Identifiers that guard something (API keys, secrets) stay with `tollgate_model::ids`.

use std::cell::Cell;

thread_local! {
    static STATE: Cell<u64> = Cell::new(rand::random());
}

/// The next 64 random bits of this thread's sequence (wyrand: the state counts, so one
/// thread never repeats a state; threads start at independent random points).
fn next() -> u64 {
    STATE.with(|s| {
        let state = s.get().wrapping_add(0xa076_1d64_78bd_642f);
        s.set(state);
        let t = u128::from(state) * u128::from(state ^ 0xe703_7ed1_a0b4_28db);
        ((t >> 64) as u64) ^ (t as u64)
    })
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Where each byte's two hex digits go in the hyphenated form.
const DIGITS_AT: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/// A random version 4 UUID: `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`.
pub fn request_id() -> String {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&next().to_le_bytes());
    bytes[8..].copy_from_slice(&next().to_le_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut out = *b"00000000-0000-0000-0000-000000000000";
    for (b, at) in bytes.iter().zip(DIGITS_AT) {
        out[at] = HEX[usize::from(b >> 4)];
        out[at + 1] = HEX[usize::from(b & 0x0f)];
    }
    // Only ASCII was written.
    String::from_utf8(out.to_vec()).unwrap_or_default()
}

const ALNUM: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// 15 random letters and digits, then `=`.
pub fn extended_request_id() -> String {
    let mut out = [b'='; 16];
    for half in out[..15].chunks_mut(8) {
        // Each character is the integer part of 62 × the word as a fraction, whose
        // fractional part feeds the next: 8 characters use 48 of its 64 bits.
        let mut r = next();
        for c in half {
            let x = u128::from(r) * 62;
            *c = ALNUM[(x >> 64) as usize];
            r = x as u64;
        }
    }
    String::from_utf8(out.to_vec()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_hyphenated_lower_case_v4_uuids() {
        let id = request_id();
        let parsed = uuid::Uuid::parse_str(&id).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122);
        assert_eq!(id, parsed.hyphenated().to_string());
        assert_ne!(request_id(), id);
    }

    #[test]
    fn extended_ids_are_fifteen_alphanumerics_and_an_equals_sign() {
        let ids: Vec<String> = (0..1000).map(|_| extended_request_id()).collect();
        for id in &ids {
            assert_eq!(id.len(), 16, "{id}");
            assert!(id[..15].bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
            assert!(id.ends_with('='), "{id}");
        }
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
        // Every character of the alphabet turns up (15,000 draws of 62).
        let seen: std::collections::HashSet<u8> =
            ids.iter().flat_map(|id| id[..15].bytes()).collect();
        assert_eq!(seen.len(), 62);
    }
}
