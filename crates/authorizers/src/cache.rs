//! Authorizer result caches (lambda-events.md §5.5): one per authorizer of a stage's
//! deployment, keyed by the identity source values, holding the whole output so its policy
//! is evaluated again against each request's method ARN. Bounded, entries expire after
//! the authorizer's TTL. A cluster adds a tier its nodes share ([`SharedResults`]: the
//! authorizer's raw answers in Redis), consulted before the authorizer is called, so a
//! decision cached through one node is reused by every node.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;

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

/// A boxed future of the shared tier.
pub type SharedFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The tier of one authorizer's cache that a cluster's nodes share: the authorizer's raw
/// answers by identity key, each expiring when it would have on the node that called the
/// authorizer.
pub trait SharedResults: Send + Sync + std::fmt::Debug {
    /// The answer kept under `key` and how long it has left.
    fn get<'a>(&'a self, key: &'a str) -> SharedFuture<'a, Option<(Bytes, Duration)>>;
    /// Keeps `answer` under `key` for `ttl`, in the background.
    fn put(&self, key: &str, answer: Bytes, ttl: Duration);
    /// Empties this tier for every node, and has every node empty its own copies.
    fn clear(&self) -> SharedFuture<'static, ()>;
}

/// Makes the shared tier of the cache `id` (a cluster's; none for one node).
pub type SharedFactory = dyn Fn(&CacheId) -> Arc<dyn SharedResults> + Send + Sync;

/// Each entry lives until the instant it carries.
struct UntilCarried;

impl<T> moka::Expiry<Box<str>, (Arc<T>, Instant)> for UntilCarried {
    fn expire_after_create(
        &self,
        _: &Box<str>,
        (_, until): &(Arc<T>, Instant),
        now: Instant,
    ) -> Option<Duration> {
        Some(until.saturating_duration_since(now))
    }
}

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
    shared: Option<Arc<dyn SharedResults>>,
}

impl<T: Send + Sync + 'static> ResultCache<T> {
    pub fn new(ttl: Duration) -> Self {
        Self::with_shared(ttl, None)
    }

    /// A cache with a tier the cluster's nodes share.
    pub fn with_shared(ttl: Duration, shared: Option<Arc<dyn SharedResults>>) -> Self {
        ResultCache {
            inner: moka::sync::Cache::builder()
                .max_capacity(MAX_BYTES)
                .weigher(|key, _| weigh(key))
                .expire_after(UntilCarried)
                .build(),
            ttl,
            id: NEXT_CACHE_ID.fetch_add(1, Ordering::Relaxed),
            generation: AtomicU64::new(0),
            shared,
        }
    }

    /// Whether a shared tier may hold what this node does not.
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// The answer another node cached (parsed by `parse`), kept here too until it expires
    /// there; `None` without a shared tier or when it holds nothing usable.
    pub async fn get_shared(
        &self,
        key: &str,
        parse: impl FnOnce(&[u8]) -> Option<T>,
    ) -> Option<(Arc<T>, Instant)> {
        let (answer, left) = self.shared.as_ref()?.get(key).await?;
        let output = Arc::new(parse(&answer)?);
        let until = Instant::now() + left.min(self.ttl);
        self.inner.insert(key.into(), (output.clone(), until));
        Some((output, until))
    }

    /// Offers the authorizer's raw `answer` to the other nodes (with a shared tier).
    pub fn share(&self, key: &str, answer: Bytes) {
        if let Some(s) = &self.shared {
            s.put(key, answer, self.ttl);
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

    /// Empties this node's copies (and its per-thread ones).
    pub fn flush(&self) {
        self.generation.fetch_add(1, Ordering::Release);
        self.inner.invalidate_all();
    }

    /// Empties the shared tier for every node (which then flush their own copies).
    pub fn flush_shared(&self) -> Option<SharedFuture<'static, ()>> {
        self.shared.as_ref().map(|s| s.clear())
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
#[derive(Default)]
pub struct ResultCaches {
    caches: Mutex<HashMap<CacheId, Arc<ResultCache>>>,
    shared: Option<Box<SharedFactory>>,
}

impl std::fmt::Debug for ResultCaches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResultCaches")
            .field("shared", &self.shared.is_some())
            .finish_non_exhaustive()
    }
}

impl ResultCaches {
    /// Caches whose shared tier `shared` makes (a cluster's).
    pub fn shared(shared: Box<SharedFactory>) -> Self {
        ResultCaches {
            caches: Mutex::default(),
            shared: Some(shared),
        }
    }

    /// The shared tier of the cache `id`, if the cluster has one.
    pub fn shared_tier(&self, id: &CacheId) -> Option<Arc<dyn SharedResults>> {
        self.shared.as_ref().map(|make| make(id))
    }

    /// The cache for `id`, made on first use.
    pub fn cache_for(&self, id: CacheId, ttl: Duration) -> Arc<ResultCache> {
        let shared = self.shared_tier(&id);
        let mut caches = self.caches.lock().unwrap_or_else(|e| e.into_inner());
        caches
            .entry(id)
            .or_insert_with(|| Arc::new(ResultCache::with_shared(ttl, shared)))
            .clone()
    }

    /// Drops the caches no stage uses any more.
    pub fn retain(&self, used: impl Fn(&CacheId) -> bool) {
        let mut caches = self.caches.lock().unwrap_or_else(|e| e.into_inner());
        caches.retain(|id, _| used(id));
    }

    /// Empties this node's copies of every authorizer cache of one stage; the futures
    /// that empty their shared tiers.
    pub fn flush_stage(&self, api: &str, stage: &str) -> Vec<SharedFuture<'static, ()>> {
        let caches = self.caches.lock().unwrap_or_else(|e| e.into_inner());
        let mut shared = Vec::new();
        for (id, c) in caches.iter() {
            if &*id.api == api && &*id.stage == stage {
                c.flush();
                shared.extend(c.flush_shared());
            }
        }
        shared
    }
}
