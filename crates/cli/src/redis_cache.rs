//! Caches in Redis (`--redis`): stage response caches (a response cached through one node
//! is served by every node, and FlushStageCache through any node empties it for all), and
//! the shared tier of Lambda authorizer result caches (an answer cached through one node
//! is reused by every node; a flush through any node empties every node's copies).
//!
//! Bounds: an entry is at most 1 MB (the pipeline keeps nothing larger) and lives at most
//! its method's TTL (≤ 3600 s); Redis's own `maxmemory` bounds the whole. The stage's
//! `cacheClusterSize` budgets the in-process cache only.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tollgate_authorizers::{CacheId, SharedFactory, SharedFuture, SharedResults};
use tollgate_gateway::response_cache::{
    wire, CacheFactory, CacheFuture, CachedResponse, Lookup, ResponseCache,
};
use tollgate_gateway::Gateway;
use tollgate_store_redis::{Link, RedisBlobs};

/// One stage's cache: values under `cache:{api}:{stage}:` in the cluster's prefix.
#[derive(Debug)]
struct RedisResponseCache {
    blobs: RedisBlobs,
}

impl ResponseCache for RedisResponseCache {
    fn get(&self, key: &str) -> Lookup<'_> {
        // The key outlives this call in the future (a round trip costs far more).
        let key = key.to_string();
        Lookup::Wait(Box::pin(async move {
            let bytes = self.blobs.get(&key).await?;
            wire::decode(bytes).map(Arc::new)
        }))
    }

    fn put(&self, key: Box<str>, entry: Arc<CachedResponse>, ttl: Duration) {
        let blobs = self.blobs.clone();
        // The client's response never waits for the write.
        tokio::spawn(async move { blobs.put(&key, &wire::encode(&entry), ttl).await });
    }

    fn flush(&self) -> CacheFuture<'static, ()> {
        let blobs = self.blobs.clone();
        Box::pin(async move { blobs.clear().await })
    }
}

/// Makes every stage's cache in Redis, over `link`.
pub fn factory(link: Arc<Link>) -> Box<CacheFactory> {
    Box::new(move |api, stage, _budget| {
        let namespace = format!("cache:{api}:{stage}:");
        Arc::new(RedisResponseCache {
            blobs: RedisBlobs::new(link.clone(), &namespace),
        }) as Arc<dyn ResponseCache>
    })
}

/// The channel on which a node that flushed a stage's authorizer caches tells the others
/// (payload `{api}\n{stage}`).
const AUTHORIZER_FLUSHES: &str = "authorizer-flushes";

/// One Lambda authorizer's shared results on one stage and deployment: its raw answers
/// under `authorizer:{api}:{stage}:{deployment}:{authorizer}:` in the cluster's prefix.
#[derive(Debug)]
struct RedisAuthorizerResults {
    blobs: RedisBlobs,
    link: Arc<Link>,
    /// `{api}\n{stage}`: what a flush tells the other nodes.
    stage: Arc<str>,
}

impl SharedResults for RedisAuthorizerResults {
    fn get<'a>(&'a self, key: &'a str) -> SharedFuture<'a, Option<(bytes::Bytes, Duration)>> {
        Box::pin(self.blobs.get_with_ttl(key))
    }

    fn put(&self, key: &str, answer: bytes::Bytes, ttl: Duration) {
        let (blobs, key) = (self.blobs.clone(), key.to_string());
        tokio::spawn(async move { blobs.put(&key, &answer, ttl).await });
    }

    fn clear(&self) -> SharedFuture<'static, ()> {
        let (blobs, link, stage) = (self.blobs.clone(), self.link.clone(), self.stage.clone());
        Box::pin(async move {
            blobs.clear().await;
            // After the values are gone: a node that flushes on this message cannot take
            // an old answer back from Redis.
            link.publish(AUTHORIZER_FLUSHES, stage.as_bytes()).await;
        })
    }
}

/// Makes every Lambda authorizer cache's shared tier in Redis, over `link`.
pub fn authorizer_results(link: Arc<Link>) -> Box<SharedFactory> {
    Box::new(move |id: &CacheId| {
        let namespace = format!(
            "authorizer:{}:{}:{}:{}:",
            id.api, id.stage, id.deployment, id.authorizer
        );
        Arc::new(RedisAuthorizerResults {
            blobs: RedisBlobs::new(link.clone(), &namespace),
            link: link.clone(),
            stage: format!("{}\n{}", id.api, id.stage).into(),
        }) as Arc<dyn SharedResults>
    })
}

/// Empties this node's authorizer caches of every stage another node flushed, for as
/// long as the gateway runs (resubscribing a second after Redis drops the subscription).
pub fn follow_authorizer_flushes(link: Arc<Link>, gateway: std::sync::Weak<Gateway>) {
    tokio::spawn(async move {
        loop {
            match link.subscribe(AUTHORIZER_FLUSHES).await {
                Ok(mut flushes) => {
                    while let Some(payload) = flushes.next().await {
                        let Some(gw) = gateway.upgrade() else { return };
                        let text = String::from_utf8_lossy(&payload);
                        if let Some((api, stage)) = text.split_once('\n') {
                            // The shared tier is already empty: only this node's copies.
                            drop(gw.flush_authorizer_cache_here(api, stage));
                        }
                    }
                }
                Err(e) => tracing::debug!(error = %e, "cannot follow authorizer flushes"),
            }
            if gateway.strong_count() == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}
