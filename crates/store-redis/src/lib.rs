//! Redis for a cluster of Tollgate nodes (`tollgate serve --redis URL`): throttle buckets
//! shared by every node ([`RedisBuckets`], leases of a bucket kept in Redis) and quotas
//! exact across nodes ([`RedisUsage`], one counter per plan, key and period, a few units
//! taken ahead per node far from the limit), behind the
//! store's `Buckets` and `UsageCounters` seams, and values every node reads (the response
//! caches: [`RedisBlobs`]), and which node holds each WebSocket connection
//! ([`RedisOwners`]). Only the binary depends on this crate.
//!
//! Every key starts with the node's prefix (`--redis-prefix`), so clusters (and tests)
//! can share one Redis. While Redis is unreachable, limits follow the [`FailureMode`].

mod blobs;
mod bucket;
mod link;
mod owners;
mod quota;
mod slots;
pub mod testing;

pub use blobs::RedisBlobs;
pub use bucket::{overshoot, RedisBucket, RedisBuckets, OVERSHOOT};
pub use link::{FailureMode, Link, ROUND_TRIP};
pub use owners::{RedisOwners, ALIVE_FOR, HEARTBEAT};
pub use quota::{RedisCounter, RedisUsage, RESERVE_LIFE, RESERVE_MAX};

/// Whether `url` names a Redis server we can connect to (`redis://`, or `rediss://` for
/// TLS).
pub fn is_redis_url(url: &str) -> bool {
    url.starts_with("redis://") || url.starts_with("rediss://")
}

/// Deletes every key under `prefix` (SCAN and DEL, never FLUSHALL: the server may be
/// shared). For tests and for retiring a cluster's prefix.
pub async fn delete_prefix(url: &str, prefix: &str) -> redis::RedisResult<u64> {
    let client = redis::Client::open(url)?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let pattern = format!("{}*", blobs::escape_glob(prefix));
    let mut cursor: u64 = 0;
    let mut deleted = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(500)
            .query_async(&mut conn)
            .await?;
        if !keys.is_empty() {
            deleted += redis::cmd("DEL")
                .arg(&keys)
                .query_async::<u64>(&mut conn)
                .await?;
        }
        if next == 0 {
            return Ok(deleted);
        }
        cursor = next;
    }
}
