//! Authorizer result caches (lambda-events.md §5.5): one per authorizer of a stage's
//! deployment, keyed by the identity source values, holding the whole output so its policy
//! is evaluated again against each request's method ARN. Bounded, entries expire after
//! the authorizer's TTL.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::output::AuthorizerOutput;

/// What one authorizer of one stage keeps at most, in bytes: entries are weighed by their
/// key (the client's identity values, which a client chooses) plus a fixed share for the
/// output, so long identity values cannot make the cache outgrow it.
const MAX_BYTES: u64 = 16 * 1024 * 1024;
/// The share of one cached output in [`MAX_BYTES`] (a policy and a small context).
const OUTPUT_WEIGHT: u32 = 1024;

// moka hands the weigher the key as stored.
#[allow(clippy::borrowed_box)]
fn weigh(key: &Box<str>) -> u32 {
    u32::try_from(key.len())
        .unwrap_or(u32::MAX)
        .saturating_add(OUTPUT_WEIGHT)
}

/// Names caches in the per-thread front tables ([`crate::front`]).
static NEXT_CACHE_ID: AtomicU64 = AtomicU64::new(1);

/// One authorizer's cache on one stage, of REST outputs or (`T`) an HTTP API's. Each entry
/// keeps the instant it expires, so a per-thread copy of it never outlives it.
#[derive(Debug)]
pub struct ResultCache<T: Send + Sync + 'static = AuthorizerOutput> {
    inner: moka::sync::Cache<Box<str>, (Arc<T>, Instant)>,
    ttl: Duration,
    id: u64,
    /// Bumped by every flush, so per-thread entries taken before it no longer match.
    /// Written only by flushes; requests only read it.
    generation: AtomicU64,
}

impl<T: Send + Sync + 'static> ResultCache<T> {
    pub fn new(ttl: Duration) -> Self {
        ResultCache {
            inner: moka::sync::Cache::builder()
                .max_capacity(MAX_BYTES)
                .weigher(|key, _| weigh(key))
                .time_to_live(ttl)
                .build(),
            ttl,
            id: NEXT_CACHE_ID.fetch_add(1, Ordering::Relaxed),
            generation: AtomicU64::new(0),
        }
    }

    pub fn get(&self, key: &str) -> Option<Arc<T>> {
        self.get_until(key).map(|(output, _)| output)
    }

    /// The entry and the instant it expires.
    pub fn get_until(&self, key: &str) -> Option<(Arc<T>, Instant)> {
        self.inner.get(key)
    }

    /// Caches `output` for the TTL; answers when it expires.
    pub fn insert(&self, key: &str, output: Arc<T>) -> Instant {
        let expires = Instant::now() + self.ttl;
        self.inner.insert(key.into(), (output, expires));
        expires
    }

    pub fn flush(&self) {
        self.generation.fetch_add(1, Ordering::Release);
        self.inner.invalidate_all();
    }

    /// This cache's name and generation, for the per-thread front tables.
    pub(crate) fn front_name(&self) -> (u64, u64) {
        (self.id, self.generation.load(Ordering::Acquire))
    }
}

/// Which cache: API, stage, deployment, authorizer. A new deployment is a new cache, so a
/// redeploy starts empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheId {
    pub api: Box<str>,
    pub stage: Box<str>,
    pub deployment: Box<str>,
    pub authorizer: Box<str>,
}

/// Every stage's caches, kept across runtime rebuilds (an unrelated edit must not empty
/// them) and reached by FlushStageAuthorizersCache. Only rebuilds and flushes take its
/// lock; requests hold their cache directly.
#[derive(Debug, Default)]
pub struct ResultCaches {
    caches: Mutex<HashMap<CacheId, Arc<ResultCache>>>,
}

impl ResultCaches {
    /// The cache for `id`, made on first use.
    pub fn cache_for(&self, id: CacheId, ttl: Duration) -> Arc<ResultCache> {
        let mut caches = self.caches.lock().unwrap_or_else(|e| e.into_inner());
        caches
            .entry(id)
            .or_insert_with(|| Arc::new(ResultCache::new(ttl)))
            .clone()
    }

    /// Drops the caches no stage uses any more.
    pub fn retain(&self, used: impl Fn(&CacheId) -> bool) {
        let mut caches = self.caches.lock().unwrap_or_else(|e| e.into_inner());
        caches.retain(|id, _| used(id));
    }

    /// Empties every authorizer cache of one stage.
    pub fn flush_stage(&self, api: &str, stage: &str) {
        let caches = self.caches.lock().unwrap_or_else(|e| e.into_inner());
        for (id, c) in caches.iter() {
            if &*id.api == api && &*id.stage == stage {
                c.flush();
            }
        }
    }
}
