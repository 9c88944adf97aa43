//! The WebSocket connections this gateway knows, behind [`ConnectionRegistry`] (in process:
//! [`LocalConnections`]; a cluster with Redis wraps it to record which node holds each
//! connection, so `@connections` on any node is passed to the node holding the socket).
//!
//! A connection's socket belongs to its session task; everyone else talks to it through
//! its [`Connection`] handle: a bounded queue of [`Outbound`] commands, plus what
//! GetConnection reports. The registry is touched on connect, on close and by the
//! `@connections` API, never per message.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

/// The flags that shape every connection.
#[derive(Debug, Clone, Copy)]
pub struct WebSocketSettings {
    /// `--websocket-idle-timeout`: no frame either way for this long closes with 1001.
    pub idle_timeout: Duration,
    /// `--websocket-max-duration`: a connection is closed with 1001 after this long.
    pub max_duration: Duration,
    /// `--websocket-connect-rate`: new connections per second for the whole account
    /// (AWS: 500), refused with 429 beyond.
    pub connect_rate: u32,
    /// `--connections-allow-unsigned`: `@connections` calls need no SigV4 signature
    /// (a development convenience, off by default).
    pub allow_unsigned: bool,
}

impl Default for WebSocketSettings {
    /// AWS's quotas: 10 minutes idle, 2 hours in all.
    fn default() -> Self {
        WebSocketSettings {
            idle_timeout: Duration::from_secs(600),
            max_duration: Duration::from_secs(7200),
            connect_rate: 500,
            allow_unsigned: false,
        }
    }
}

/// What a connection's session is asked to do.
#[derive(Debug)]
pub enum Outbound {
    /// Send one message (text when `text`).
    Message { data: Bytes, text: bool },
    /// Close the socket with this code and reason.
    Close { code: u16, reason: &'static str },
}

/// Why a command could not be handed to a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// The connection is closed (or closing).
    Gone,
    /// Its outbound queue is full (the client reads too slowly): AWS's 429.
    Full,
}

/// How many commands may wait for one connection's socket.
pub const OUTBOUND_QUEUE: usize = 64;

/// One open connection as the rest of the gateway sees it.
#[derive(Debug)]
pub struct Connection {
    pub id: Box<str>,
    pub api_id: Box<str>,
    pub stage: Box<str>,
    pub connected_at_ms: i64,
    /// Last frame received from, or delivered to, the client (epoch ms). Written only by
    /// this connection's session and its callers, never shared between connections.
    pub last_active_ms: AtomicI64,
    pub source_ip: Box<str>,
    pub user_agent: Box<str>,
    outbound: mpsc::Sender<Outbound>,
}

impl Connection {
    /// A handle and the queue its session reads.
    pub fn new(
        id: Box<str>,
        api_id: Box<str>,
        stage: Box<str>,
        source_ip: Box<str>,
        user_agent: Box<str>,
    ) -> (Arc<Connection>, mpsc::Receiver<Outbound>) {
        let (tx, rx) = mpsc::channel(OUTBOUND_QUEUE);
        let now = tollgate_model::time::now_epoch_millis();
        let c = Connection {
            id,
            api_id,
            stage,
            connected_at_ms: now,
            last_active_ms: AtomicI64::new(now),
            source_ip,
            user_agent,
            outbound: tx,
        };
        (Arc::new(c), rx)
    }

    /// Hands `cmd` to the session without waiting.
    pub fn send(&self, cmd: Outbound) -> Result<(), SendError> {
        self.outbound.try_send(cmd).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => SendError::Full,
            mpsc::error::TrySendError::Closed(_) => SendError::Gone,
        })
    }

    /// Hands `cmd` to the session, waiting for room in its queue.
    pub async fn send_wait(&self, cmd: Outbound) -> Result<(), SendError> {
        self.outbound.send(cmd).await.map_err(|_| SendError::Gone)
    }

    pub fn touch(&self) {
        self.last_active_ms
            .store(tollgate_model::time::now_epoch_millis(), Ordering::Relaxed);
    }

    pub fn last_active(&self) -> i64 {
        self.last_active_ms.load(Ordering::Relaxed)
    }

    /// Whether the session still reads its queue.
    pub fn is_open(&self) -> bool {
        !self.outbound.is_closed()
    }
}

/// The answer of [`ConnectionRegistry::owner`].
pub type OwnerFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Option<String>> + Send + 'a>>;

/// Where connections are found by id.
pub trait ConnectionRegistry: Send + Sync {
    /// An established connection (after `$connect` succeeded).
    fn insert(&self, c: Arc<Connection>);
    /// The connection is gone (closed by either side).
    fn remove(&self, id: &str);
    fn get(&self, id: &str) -> Option<Arc<Connection>>;
    /// Asks every open connection to close (the gateway is shutting down).
    fn close_all(&self, code: u16, reason: &'static str);
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Where another live node of a cluster holds `id` (the URL its listener answers on),
    /// so an `@connections` call is passed to it; `None` when no other node does (a
    /// registry of one node never knows of others).
    fn owner(&self, _id: &str) -> OwnerFuture<'_> {
        Box::pin(std::future::ready(None))
    }
}

const SHARDS: usize = 16;

/// The in-process registry: a map split in shards, each behind its own small lock, so
/// connects on different threads rarely meet.
pub struct LocalConnections {
    shards: [Mutex<HashMap<Box<str>, Arc<Connection>>>; SHARDS],
    hasher: std::collections::hash_map::RandomState,
}

impl Default for LocalConnections {
    fn default() -> Self {
        LocalConnections {
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
            hasher: Default::default(),
        }
    }
}

impl LocalConnections {
    fn shard(&self, id: &str) -> &Mutex<HashMap<Box<str>, Arc<Connection>>> {
        &self.shards[(self.hasher.hash_one(id) as usize) % SHARDS]
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves a map that is still consistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ConnectionRegistry for LocalConnections {
    fn insert(&self, c: Arc<Connection>) {
        lock(self.shard(&c.id)).insert(c.id.clone(), c);
    }

    fn remove(&self, id: &str) {
        lock(self.shard(id)).remove(id);
    }

    fn get(&self, id: &str) -> Option<Arc<Connection>> {
        lock(self.shard(id)).get(id).cloned()
    }

    fn close_all(&self, code: u16, reason: &'static str) {
        for shard in &self.shards {
            let all: Vec<Arc<Connection>> = lock(shard).values().cloned().collect();
            for c in all {
                let _ = c.send(Outbound::Close { code, reason });
            }
        }
    }

    fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }
}

/// A connection's time as the `@connections` API writes it: ISO-8601 with milliseconds.
pub fn iso8601_millis(epoch_ms: i64) -> String {
    let secs = tollgate_model::time::iso8601(epoch_ms.div_euclid(1000));
    let base = secs.strip_suffix('Z').unwrap_or(&secs);
    format!("{base}.{:03}Z", epoch_ms.rem_euclid(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_finds_and_forgets() {
        let r = LocalConnections::default();
        let (c, mut rx) = Connection::new(
            "abc=".into(),
            "api".into(),
            "prod".into(),
            "127.0.0.1".into(),
            "".into(),
        );
        r.insert(c.clone());
        assert_eq!(r.len(), 1);
        let found = r.get("abc=").unwrap();
        found
            .send(Outbound::Message {
                data: Bytes::from_static(b"hi"),
                text: true,
            })
            .unwrap();
        assert!(matches!(rx.try_recv(), Ok(Outbound::Message { .. })));
        r.close_all(1001, "Going away");
        assert!(matches!(
            rx.try_recv(),
            Ok(Outbound::Close { code: 1001, .. })
        ));
        r.remove("abc=");
        assert!(r.get("abc=").is_none());
        drop(rx);
        assert_eq!(
            c.send(Outbound::Close {
                code: 1000,
                reason: ""
            }),
            Err(SendError::Gone)
        );
    }

    #[test]
    fn millisecond_timestamps() {
        assert_eq!(
            iso8601_millis(1_704_164_645_123),
            "2024-01-02T03:04:05.123Z"
        );
    }
}
