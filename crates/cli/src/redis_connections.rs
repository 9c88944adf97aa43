//! WebSocket connections of a cluster (`--redis`): each node keeps its own sockets (the
//! in-process registry) and records in Redis which node holds which connection, so an
//! `@connections` call reaching any node is passed to the one holding the socket.

use std::sync::Arc;
use std::time::Duration;

use tollgate_gateway::connections::{
    Connection, ConnectionRegistry, LocalConnections, OwnerFuture,
};
use tollgate_store_redis::RedisOwners;

pub struct ClusterConnections {
    local: LocalConnections,
    owners: Arc<RedisOwners>,
    /// How long an entry may outlive a connection whose close was never recorded: the
    /// longest a connection lasts (`--websocket-max-duration`) and a minute.
    ttl: Duration,
}

impl ClusterConnections {
    pub fn new(owners: Arc<RedisOwners>, max_duration: Duration) -> Self {
        ClusterConnections {
            local: LocalConnections::default(),
            owners,
            ttl: max_duration + Duration::from_secs(60),
        }
    }
}

impl ConnectionRegistry for ClusterConnections {
    fn insert(&self, c: Arc<Connection>) {
        let (owners, id, ttl) = (self.owners.clone(), c.id.clone(), self.ttl);
        self.local.insert(c);
        tokio::spawn(async move { owners.claim(&id, ttl).await });
    }

    fn remove(&self, id: &str) {
        self.local.remove(id);
        let (owners, id) = (self.owners.clone(), id.to_string());
        tokio::spawn(async move { owners.release(&id).await });
    }

    fn get(&self, id: &str) -> Option<Arc<Connection>> {
        self.local.get(id)
    }

    fn close_all(&self, code: u16, reason: &'static str) {
        self.local.close_all(code, reason);
    }

    fn len(&self) -> usize {
        self.local.len()
    }

    fn owner(&self, id: &str) -> OwnerFuture<'_> {
        let id = id.to_string();
        Box::pin(async move { self.owners.owner(&id).await })
    }
}

/// The WebSocket connection registry: in process, or with Redis one that tells the
/// cluster's nodes which of them holds each connection.
pub fn registry(
    node: NodeAddress<'_>,
    max_duration: std::time::Duration,
    limits: &crate::limits::Limits,
    sockets: &[(tokio::net::TcpListener, crate::Role)],
) -> Arc<dyn tollgate_gateway::connections::ConnectionRegistry> {
    let Some(link) = &limits.link else {
        return Arc::new(tollgate_gateway::connections::LocalConnections::default());
    };
    let url = node.url.unwrap_or_else(|| {
        let scheme = if node.tls { "https" } else { "http" };
        let main = sockets.first().and_then(|(l, _)| l.local_addr().ok());
        let host = match main {
            Some(a) if a.ip().is_unspecified() => {
                let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
                    .map(|h| h.trim().to_string())
                    .unwrap_or_else(|_| "localhost".into());
                format!("{name}:{}", a.port())
            }
            Some(a) => a.to_string(),
            None => node.listen.to_string(),
        };
        format!("{scheme}://{host}")
    });
    tracing::info!(node_url = %url, "WebSocket connections are shared through Redis");
    let owners = tollgate_store_redis::RedisOwners::start(link.clone(), &url);
    Arc::new(ClusterConnections::new(owners, max_duration))
}

/// What `--node-url` defaults from.
pub struct NodeAddress<'a> {
    pub url: Option<String>,
    pub tls: bool,
    pub listen: &'a str,
}
