//! The stage response cache of REST APIs (auth-throttle-cache.md §4): what is kept
//! ([`CachedResponse`], as bytes in [`wire`]), the seam a store implements
//! ([`ResponseCache`]: in process by default, Redis for a cluster) and every stage's cache
//! ([`ResponseCaches`]), kept across runtime rebuilds and reached by FlushStageCache.

pub mod wire;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderMap;
use tollgate_model::CacheClusterSize;

use crate::response_case::ResponseSpellings;

/// The largest response AWS caches (1 MB); a larger one is served but not kept.
pub const MAX_ENTRY: usize = 1_048_576;

/// What a kept non-proxy output's integration response is selected by: the pipeline's
/// `Selection` (a function's error is never kept), held here so an entry is plain data a
/// remote store can hold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KeptSelection {
    Status,
    Default,
}

/// What one cache entry holds: the endpoint's answer, before integration response
/// mapping when there is one (AWS maps on every hit), else the proxy response as sent.
#[derive(Debug, Clone)]
pub enum CachedResponse {
    /// A non-proxy integration's output; mapped again on each hit.
    Output {
        status: u16,
        headers: HeaderMap,
        body: Bytes,
        selection: KeptSelection,
        overrides: Option<Box<serde_json::Map<String, serde_json::Value>>>,
    },
    /// A proxy integration's response, status, headers and body as the client got them,
    /// with the integration's spelling of its header names (HTTP/1.1 writes them so).
    Response {
        status: u16,
        headers: HeaderMap,
        body: Bytes,
        spellings: Option<ResponseSpellings>,
    },
}

impl CachedResponse {
    /// Bytes the entry costs: its body and headers (what the size budget counts).
    pub fn weight(&self) -> usize {
        let (headers, body) = match self {
            CachedResponse::Output { headers, body, .. }
            | CachedResponse::Response { headers, body, .. } => (headers, body),
        };
        body.len()
            + headers
                .iter()
                .map(|(k, v)| k.as_str().len() + v.len())
                .sum::<usize>()
    }
}

/// A boxed future of the cache seam (only a remote store needs one).
pub type CacheFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a lookup answers: at once (in process), or after a round trip (a remote store).
pub enum Lookup<'a> {
    Ready(Option<Arc<CachedResponse>>),
    Wait(CacheFuture<'a, Option<Arc<CachedResponse>>>),
}

impl Lookup<'_> {
    pub async fn resolve(self) -> Option<Arc<CachedResponse>> {
        match self {
            Lookup::Ready(found) => found,
            Lookup::Wait(f) => f.await,
        }
    }
}

/// One stage's response cache. Keys are whole (namespace, method, key parameters, and the
/// canary's deployment when it keeps apart); entries expire after the TTL they were put
/// with.
pub trait ResponseCache: Send + Sync + std::fmt::Debug {
    fn get(&self, key: &str) -> Lookup<'_>;
    /// Keeps `entry` for `ttl`. A remote store sends it in the background: the client's
    /// response never waits for a cache write.
    fn put(&self, key: Box<str>, entry: Arc<CachedResponse>, ttl: Duration);
    /// FlushStageCache: done when the future is (a shared cache is emptied for every
    /// node before the call answers).
    fn flush(&self) -> CacheFuture<'static, ()>;
}

/// Makes the cache of a stage (API id, stage name) with a budget in bytes.
pub type CacheFactory = dyn Fn(&str, &str, u64) -> Arc<dyn ResponseCache> + Send + Sync;

/// The in-process cache: moka, weighed by entry size against the stage's
/// `cacheClusterSize`, evicting the least recently used first, each entry expiring after
/// its method's TTL.
#[derive(Debug)]
pub struct LocalResponseCache {
    /// Keys hashed with foldhash (seeded per process), not moka's default SipHash: a
    /// lookup is on every cached request's path.
    inner: moka::sync::Cache<Box<str>, Entry, foldhash::fast::RandomState>,
}

#[derive(Debug, Clone)]
struct Entry {
    response: Arc<CachedResponse>,
    ttl: Duration,
}

/// Each entry lives for its own TTL (methods of one stage set different ones).
struct PerEntryTtl;

impl moka::Expiry<Box<str>, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _: &Box<str>, e: &Entry, _: Instant) -> Option<Duration> {
        Some(e.ttl)
    }
    fn expire_after_update(
        &self,
        _: &Box<str>,
        e: &Entry,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(e.ttl)
    }
}

impl LocalResponseCache {
    pub fn new(budget_bytes: u64) -> Self {
        LocalResponseCache {
            inner: moka::sync::Cache::<Box<str>, Entry>::builder()
                .max_capacity(budget_bytes)
                .weigher(|k, e| u32::try_from(k.len() + e.response.weight()).unwrap_or(u32::MAX))
                .expire_after(PerEntryTtl)
                .build_with_hasher(foldhash::fast::RandomState::default()),
        }
    }
}

impl ResponseCache for LocalResponseCache {
    fn get(&self, key: &str) -> Lookup<'_> {
        Lookup::Ready(self.inner.get(key).map(|e| e.response))
    }

    fn put(&self, key: Box<str>, response: Arc<CachedResponse>, ttl: Duration) {
        self.inner.insert(key, Entry { response, ttl });
    }

    fn flush(&self) -> CacheFuture<'static, ()> {
        self.inner.invalidate_all();
        Box::pin(std::future::ready(()))
    }
}

/// `cacheClusterSize` (GB) as a budget in bytes.
pub fn budget_bytes(size: Option<CacheClusterSize>) -> u64 {
    let gb: f64 = size
        .unwrap_or(CacheClusterSize::Half)
        .as_str()
        .parse()
        .unwrap_or(0.5);
    (gb * 1024.0 * 1024.0 * 1024.0) as u64
}

/// Makes in-process caches (one node, or a cluster without Redis).
pub fn local_factory() -> Box<CacheFactory> {
    Box::new(|_, _, budget| Arc::new(LocalResponseCache::new(budget)) as Arc<dyn ResponseCache>)
}

/// (API id, stage name).
type StageKey = (Box<str>, Box<str>);
/// A stage's cache with the budget it was made with.
type Budgeted = (u64, Arc<dyn ResponseCache>);

/// Every stage's cache by (API id, stage name), kept across runtime rebuilds (an unrelated
/// edit must not empty them) and new when the stage's size changes. Only rebuilds and the
/// control plane take its lock; requests hold their stage's cache directly.
pub struct ResponseCaches {
    caches: Mutex<HashMap<StageKey, Budgeted>>,
    factory: Box<CacheFactory>,
}

impl std::fmt::Debug for ResponseCaches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCaches").finish_non_exhaustive()
    }
}

impl Default for ResponseCaches {
    fn default() -> Self {
        ResponseCaches::new(local_factory())
    }
}

impl ResponseCaches {
    /// Caches made by `factory` (the in-process one by default).
    pub fn new(factory: Box<CacheFactory>) -> Self {
        ResponseCaches {
            caches: Mutex::default(),
            factory,
        }
    }

    /// The stage's cache, made on first use or when its budget changed.
    pub fn cache_for(&self, api: &str, stage: &str, budget: u64) -> Arc<dyn ResponseCache> {
        let mut caches = self.caches.lock().unwrap_or_else(|e| e.into_inner());
        let slot = caches
            .entry((api.into(), stage.into()))
            .or_insert_with(|| (budget, (self.factory)(api, stage, budget)));
        if slot.0 != budget {
            *slot = (budget, (self.factory)(api, stage, budget));
        }
        slot.1.clone()
    }

    /// Drops the caches of stages that no longer have one.
    pub fn retain(&self, used: impl Fn(&str, &str) -> bool) {
        let mut caches = self.caches.lock().unwrap_or_else(|e| e.into_inner());
        caches.retain(|(api, stage), _| used(api, stage));
    }

    /// Whether the stage's cache exists (`cacheClusterStatus` `AVAILABLE`).
    pub fn exists(&self, api: &str, stage: &str) -> bool {
        let caches = self.caches.lock().unwrap_or_else(|e| e.into_inner());
        caches.contains_key(&(api.into(), stage.into()))
    }

    /// FlushStageCache: empties the stage's cache.
    pub async fn flush_stage(&self, api: &str, stage: &str) {
        let cache = {
            let caches = self.caches.lock().unwrap_or_else(|e| e.into_inner());
            caches
                .get(&(api.into(), stage.into()))
                .map(|(_, c)| c.clone())
        };
        if let Some(c) = cache {
            c.flush().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(body: &'static str) -> Arc<CachedResponse> {
        Arc::new(CachedResponse::Response {
            status: 200,
            headers: HeaderMap::new(),
            body: Bytes::from_static(body.as_bytes()),
            spellings: None,
        })
    }

    #[test]
    fn keeps_flushes_and_bounds() {
        let c = LocalResponseCache::new(1024);
        c.put("a".into(), entry("one"), Duration::from_secs(60));
        let got = c.get("a");
        assert!(matches!(got, Lookup::Ready(Some(_))));
        drop(c.flush()); // the in-process flush is done when it returns
        c.inner.run_pending_tasks();
        assert!(matches!(c.get("a"), Lookup::Ready(None)));
        // Entries beyond the budget are evicted, never kept over it.
        let big: &'static str = Box::leak("x".repeat(400).into_boxed_str());
        for i in 0..10 {
            c.put(format!("k{i}").into(), entry(big), Duration::from_secs(60));
        }
        c.inner.run_pending_tasks();
        assert!(c.inner.weighted_size() <= 1024);
    }

    #[test]
    fn budgets_follow_the_size() {
        assert_eq!(budget_bytes(None), 512 * 1024 * 1024);
        assert_eq!(
            budget_bytes(Some(CacheClusterSize::TwoThirtySeven)),
            237 * 1024 * 1024 * 1024
        );
    }

    #[tokio::test]
    async fn registry_reuses_until_the_size_changes() {
        let r = ResponseCaches::default();
        let a = r.cache_for("api", "dev", 10);
        a.put("k".into(), entry("v"), Duration::from_secs(60));
        let b = r.cache_for("api", "dev", 10);
        assert!(matches!(b.get("k"), Lookup::Ready(Some(_))));
        r.flush_stage("api", "dev").await;
        assert!(r.exists("api", "dev"));
        let c = r.cache_for("api", "dev", 20);
        assert!(matches!(c.get("k"), Lookup::Ready(None)));
        r.retain(|_, _| false);
        assert!(!r.exists("api", "dev"));
    }
}
