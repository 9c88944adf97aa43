//! Identifiers in AWS's formats: random lower-case alphanumerics of fixed lengths.

use rand::RngExt;

const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn random_from(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

/// RestApi ids and root resource ids: 10 chars.
pub fn long_id() -> String {
    random_from(LOWER_ALNUM, 10)
}

/// Child resources, deployments, models, validators, authorizers, usage plans: 6 chars.
pub fn short_id() -> String {
    random_from(LOWER_ALNUM, 6)
}

/// A Lambda function URL's id (its host label): 32 chars.
pub fn url_id() -> String {
    random_from(LOWER_ALNUM, 32)
}

/// Lower-case alphanumerics of any length (`d-{10}` domain targets, `d{13}` distributions).
pub fn lower_alnum(len: usize) -> String {
    random_from(LOWER_ALNUM, len)
}

/// v2 routes and integrations: 7 chars.
pub fn seven_char_id() -> String {
    random_from(LOWER_ALNUM, 7)
}

/// A generated API key value: 40 chars of `[A-Za-z0-9]`.
pub fn api_key_value() -> String {
    random_from(ALNUM, 40)
}

const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// An IAM unique id: a four-letter prefix naming the kind (`AROA` role, `AIDA` user,
/// `ANPA` policy) and 17 upper-case characters, as IAM makes them.
pub fn iam_unique_id(prefix: &str) -> String {
    format!("{prefix}{}", random_from(UPPER_ALNUM, 17))
}

/// An access key id: `AKIA` (long-term) or `ASIA` (temporary) and 16 characters.
pub fn access_key_id(prefix: &str) -> String {
    format!("{prefix}{}", random_from(UPPER_ALNUM, 16))
}

/// A secret access key: 40 characters of base64's alphabet.
pub fn secret_access_key() -> String {
    random_from(SECRET, 40)
}

/// An STS session token (opaque to clients; long, as STS's are).
pub fn session_token() -> String {
    format!("IQoJb3JpZ2luX2Vj{}", random_from(SECRET, 200))
}

/// `$context.extendedRequestId` / `x-amz-apigw-id`: 16 chars ending in `=`.
pub fn extended_request_id() -> String {
    let mut s = random_from(ALNUM, 15);
    s.push('=');
    s
}

/// A fresh id of the given generator that does not collide with `taken`.
pub fn unique(gen: fn() -> String, mut taken: impl FnMut(&str) -> bool) -> String {
    loop {
        let id = gen();
        if !taken(&id) {
            return id;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(long_id().len(), 10);
        assert_eq!(short_id().len(), 6);
        assert_eq!(seven_char_id().len(), 7);
        assert!(short_id().bytes().all(|b| LOWER_ALNUM.contains(&b)));
        let k = api_key_value();
        assert_eq!(k.len(), 40);
        assert!(k.bytes().all(|b| b.is_ascii_alphanumeric()));
        let e = extended_request_id();
        assert_eq!(e.len(), 16);
        assert!(e.ends_with('='));
    }

    #[test]
    fn unique_skips_taken() {
        let mut n = 0;
        let id = unique(short_id, |_| {
            n += 1;
            n < 3
        });
        assert_eq!(id.len(), 6);
    }
}
