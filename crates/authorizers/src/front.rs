//! A per-thread front for the REST authorizer result caches (lambda-events.md §5.5): the
//! decision a cached authorizer output gave one identity for one method and path, kept in
//! the worker thread's own small table, so a repeated caller costs a hash and a compare:
//! no shared cache (moka's atomics, shared by every worker), no method ARN formatted, no
//! policy evaluated again. Only decisions that depend on nothing but the identity and the
//! method ARN are kept (policies without conditions). An entry expires with the shared
//! entry it came from, and a flush of the shared cache (a new generation) or a redeploy (a
//! new cache) leaves it unmatched.

use std::cell::RefCell;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Instant;

use tollgate_policy::Decision;

use crate::output::AuthorizerOutput;

/// Entries per worker thread (direct-mapped: a new entry replaces the slot's old one).
const SLOTS: usize = 256;
/// Identities and paths longer than this together are not kept, which bounds a thread's
/// table (SLOTS × this) whatever clients send.
const MAX_KEY_BYTES: usize = 1024;

/// What a decision is about. `cache` and `generation` name the shared cache (one per
/// authorizer, stage and deployment, so the API and stage of the method ARN are fixed).
pub(crate) struct Key<'a> {
    pub cache: u64,
    pub generation: u64,
    pub identity: &'a str,
    pub method: &'a str,
    pub path: &'a str,
}

struct Slot {
    cache: u64,
    generation: u64,
    identity: Box<str>,
    method: Box<str>,
    path: Box<str>,
    expires: Instant,
    decision: Decision,
    output: Arc<AuthorizerOutput>,
}

impl Slot {
    fn is(&self, k: &Key<'_>) -> bool {
        self.cache == k.cache
            && self.generation == k.generation
            && *self.identity == *k.identity
            && *self.method == *k.method
            && *self.path == *k.path
    }
}

struct Table {
    hasher: foldhash::fast::RandomState,
    slots: Vec<Option<Slot>>,
}

impl Table {
    fn index(&self, k: &Key<'_>) -> usize {
        let mut h = self.hasher.build_hasher();
        h.write_u64(k.cache);
        h.write(k.identity.as_bytes());
        h.write_u8(0xff);
        h.write(k.method.as_bytes());
        h.write_u8(0xff);
        h.write(k.path.as_bytes());
        (h.finish() as usize) % SLOTS
    }
}

thread_local! {
    static TABLE: RefCell<Table> = RefCell::new(Table {
        hasher: foldhash::fast::RandomState::default(),
        slots: Vec::new(),
    });
}

/// The decision kept for `k`, if it has not expired.
pub(crate) fn get(k: &Key<'_>) -> Option<(Decision, Arc<AuthorizerOutput>)> {
    TABLE.with_borrow(|t| {
        let slot = t.slots.get(t.index(k))?.as_ref()?;
        (slot.is(k) && Instant::now() < slot.expires).then(|| (slot.decision, slot.output.clone()))
    })
}

/// Keeps `decision` for `k` until `expires`. The output is copied, so the Arc a hit
/// hands out is this thread's own (its count is not a cache line all workers share).
pub(crate) fn put(
    k: &Key<'_>,
    expires: Instant,
    decision: Decision,
    output: &Arc<AuthorizerOutput>,
) {
    if k.identity.len() + k.path.len() > MAX_KEY_BYTES {
        return;
    }
    TABLE.with_borrow_mut(|t| {
        if t.slots.is_empty() {
            t.slots.resize_with(SLOTS, || None);
        }
        let i = t.index(k);
        t.slots[i] = Some(Slot {
            cache: k.cache,
            generation: k.generation,
            identity: k.identity.into(),
            method: k.method.into(),
            path: k.path.into(),
            expires,
            decision,
            output: Arc::new(AuthorizerOutput::clone(output)),
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn output() -> Arc<AuthorizerOutput> {
        Arc::new(
            AuthorizerOutput::parse(
                br#"{"principalId":"u","policyDocument":{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}}"#,
            )
            .unwrap(),
        )
    }

    fn key<'a>(generation: u64, identity: &'a str, path: &'a str) -> Key<'a> {
        Key {
            cache: 7,
            generation,
            identity,
            method: "GET",
            path,
        }
    }

    #[test]
    fn kept_per_identity_method_path_and_generation_until_expiry() {
        let later = Instant::now() + Duration::from_secs(60);
        put(&key(0, "alice", "pets"), later, Decision::Allow, &output());
        assert!(matches!(
            get(&key(0, "alice", "pets")),
            Some((Decision::Allow, _))
        ));
        assert!(get(&key(0, "bob", "pets")).is_none());
        assert!(get(&key(0, "alice", "pets/1")).is_none());
        assert!(get(&key(1, "alice", "pets")).is_none(), "flushed");
        let other_method = Key {
            method: "POST",
            ..key(0, "alice", "pets")
        };
        assert!(get(&other_method).is_none());

        put(
            &key(0, "carol", "pets"),
            Instant::now(),
            Decision::Allow,
            &output(),
        );
        assert!(get(&key(0, "carol", "pets")).is_none(), "expired");

        let long = "x".repeat(MAX_KEY_BYTES);
        put(&key(0, &long, "pets"), later, Decision::Allow, &output());
        assert!(get(&key(0, &long, "pets")).is_none(), "too long to keep");
    }
}
