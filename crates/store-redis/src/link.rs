//! The node's connection to Redis and what it does while Redis is unreachable.
//!
//! Every call is bounded by [`ROUND_TRIP`]. The first failure marks the link down (one
//! loud log line, not one per request); while it is down no request touches Redis, each
//! limit answers [`Link::unreachable`] at once, and a probe pings every second, so limits
//! apply again about a second after Redis returns.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::RedisResult;
use tollgate_store::limit::Verdict;

/// The longest a request waits on Redis.
pub const ROUND_TRIP: Duration = Duration::from_millis(250);

/// How often a down link is probed.
const PROBE: Duration = Duration::from_secs(1);

/// What limits do while Redis is unreachable (`--redis-failure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureMode {
    /// Requests flow; distributed limits are not enforced.
    Open,
    /// Requests limited through Redis are answered 503.
    Closed,
}

pub struct Link {
    /// For connections of their own (subscriptions).
    client: redis::Client,
    conn: ConnectionManager,
    prefix: String,
    failure: FailureMode,
    /// Written only when Redis goes away or comes back; read by requests.
    healthy: AtomicBool,
    /// Times the link went down (the metric behind the log line).
    outages: AtomicU64,
}

impl Link {
    /// Opens the link (the connection is made lazily and re-made after a failure) and
    /// pings once, so a node started while Redis is down says so at once.
    pub async fn open(url: &str, prefix: &str, failure: FailureMode) -> RedisResult<Arc<Link>> {
        if url.starts_with("rediss://") {
            // The process's TLS provider is ring, as everywhere in Tollgate; installed once
            // (a second install is refused, which is fine).
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(ROUND_TRIP))
            .set_response_timeout(Some(ROUND_TRIP))
            .set_number_of_retries(1)
            .set_max_delay(PROBE);
        let link = Arc::new(Link {
            conn: client.get_connection_manager_lazy(config)?,
            client: client.clone(),
            prefix: prefix.to_string(),
            failure,
            healthy: AtomicBool::new(true),
            outages: AtomicU64::new(0),
        });
        if !link.ping().await {
            link.mark_down("no answer at start");
        }
        tokio::spawn(probe(Arc::downgrade(&link)));
        Ok(link)
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A connection handle for one call (a clone of the shared multiplexed connection).
    pub fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// A connection of its own subscribed to `channel` (under the prefix): a stream of
    /// its messages' payloads, ending when the connection breaks.
    pub async fn subscribe(
        &self,
        channel: &str,
    ) -> RedisResult<impl futures_util::Stream<Item = Vec<u8>> + Send + 'static> {
        let mut pubsub = self.client.get_async_pubsub().await?;
        pubsub
            .subscribe(format!("{}{channel}", self.prefix))
            .await?;
        Ok(futures_util::StreamExt::map(
            pubsub.into_on_message(),
            |m| m.get_payload_bytes().to_vec(),
        ))
    }

    /// Sends `payload` to every subscriber of `channel` (under the prefix).
    pub async fn publish(&self, channel: &str, payload: &[u8]) {
        let mut conn = self.conn();
        let cmd = redis::cmd("PUBLISH")
            .arg(format!("{}{channel}", self.prefix))
            .arg(payload)
            .clone();
        let _: Option<u64> = self.run(cmd.query_async(&mut conn)).await;
    }

    /// Whether requests may ask Redis now.
    pub fn is_up(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// Times Redis became unreachable since the node started.
    pub fn outages(&self) -> u64 {
        self.outages.load(Ordering::Relaxed)
    }

    /// The verdict of a limit that cannot ask Redis.
    pub fn unreachable(&self) -> Verdict {
        match self.failure {
            FailureMode::Open => Verdict::Admit,
            FailureMode::Closed => Verdict::Unavailable,
        }
    }

    /// Runs one call within [`ROUND_TRIP`]; `None` (and the link marked down) when it
    /// fails or takes longer.
    pub async fn run<T>(&self, call: impl Future<Output = RedisResult<T>>) -> Option<T> {
        match tokio::time::timeout(ROUND_TRIP, call).await {
            Ok(Ok(v)) => Some(v),
            Ok(Err(e)) => {
                self.mark_down(&e.to_string());
                None
            }
            Err(_) => {
                self.mark_down("no answer within the timeout");
                None
            }
        }
    }

    fn mark_down(&self, why: &str) {
        if self.healthy.swap(false, Ordering::Relaxed) {
            self.outages.fetch_add(1, Ordering::Relaxed);
            match self.failure {
                FailureMode::Open => tracing::error!(
                    reason = why,
                    "Redis is unreachable: throttling and quotas are NOT enforced until it \
                     returns (--redis-failure open)"
                ),
                FailureMode::Closed => tracing::error!(
                    reason = why,
                    "Redis is unreachable: requests under throttling or quotas are answered \
                     503 until it returns (--redis-failure closed)"
                ),
            }
        }
    }

    async fn ping(&self) -> bool {
        let mut conn = self.conn();
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut conn);
        matches!(tokio::time::timeout(ROUND_TRIP, ping).await, Ok(Ok(_)))
    }
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// Pings a down link every second until the node stops; marks it up when Redis answers.
async fn probe(link: Weak<Link>) {
    let mut tick = tokio::time::interval(PROBE);
    loop {
        tick.tick().await;
        let Some(link) = link.upgrade() else { return };
        if !link.is_up() && link.ping().await {
            link.healthy.store(true, Ordering::Relaxed);
            tracing::warn!("Redis is reachable again: throttling and quotas are enforced");
        }
    }
}
