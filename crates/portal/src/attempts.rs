//! Sign-in and sign-up attempts, limited per email and per client address within a
//! window, so a password cannot be guessed at speed nor argon2 be used to load the host.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The window attempts are counted in.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failed sign-ins one email may have per window.
const PER_EMAIL: u32 = 5;
/// Sign-ins and sign-ups one client address may make per window.
const PER_ADDRESS: u32 = 30;
/// Entries kept at once (expired ones are dropped first; past it, new names are refused
/// rather than the map grown).
const CAPACITY: usize = 65_536;

#[derive(Hash, PartialEq, Eq)]
enum Key {
    Email(String),
    Address(IpAddr),
}

struct Count {
    since: Instant,
    n: u32,
}

#[derive(Default)]
pub struct Attempts {
    counts: Mutex<HashMap<Key, Count>>,
}

impl Attempts {
    /// Counts an attempt from `address` (a sign-in or a sign-up); false once the address
    /// has made too many this window.
    pub fn address_allowed(&self, address: IpAddr) -> bool {
        self.bump(Key::Address(address), PER_ADDRESS)
    }

    /// Whether `email` may try to sign in (fewer failures than the limit this window).
    pub fn email_allowed(&self, email: &str) -> bool {
        let map = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&Key::Email(email.to_string()))
            .is_none_or(|c| c.since.elapsed() >= WINDOW || c.n < PER_EMAIL)
    }

    /// Counts a failed sign-in for `email`.
    pub fn failed(&self, email: &str) {
        self.bump(Key::Email(email.to_string()), u32::MAX);
    }

    /// Counts one for `key`; whether it is within `limit`.
    fn bump(&self, key: Key, limit: u32) -> bool {
        let now = Instant::now();
        let mut map = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= CAPACITY {
            map.retain(|_, c| now.duration_since(c.since) < WINDOW);
        }
        if !map.contains_key(&key) && map.len() >= CAPACITY {
            return false;
        }
        let c = map.entry(key).or_insert(Count { since: now, n: 0 });
        if now.duration_since(c.since) >= WINDOW {
            *c = Count { since: now, n: 0 };
        }
        c.n = c.n.saturating_add(1);
        c.n <= limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_refused_after_its_failures() {
        let a = Attempts::default();
        for _ in 0..PER_EMAIL {
            assert!(a.email_allowed("a@example.com"));
            a.failed("a@example.com");
        }
        assert!(!a.email_allowed("a@example.com"));
        assert!(a.email_allowed("b@example.com"));
    }

    #[test]
    fn an_address_is_refused_past_its_limit() {
        let a = Attempts::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..PER_ADDRESS {
            assert!(a.address_allowed(ip));
        }
        assert!(!a.address_allowed(ip));
        assert!(a.address_allowed("192.0.2.2".parse().unwrap()));
    }
}
