//! Which node holds what (a WebSocket connection's socket), for a cluster: each entry
//! names the holder by the URL its listener answers on, and each node says it is alive
//! with a heartbeat key that expires when it stops. An entry whose holder's heartbeat
//! expired is gone: a node that dies has its connections reported gone within
//! [`ALIVE_FOR`].

use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::link::Link;

/// How often a node says it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// How long one heartbeat keeps a node alive.
pub const ALIVE_FOR: Duration = Duration::from_secs(6);

#[derive(Debug)]
pub struct RedisOwners {
    link: Arc<Link>,
    /// This node's URL.
    node: Arc<str>,
}

impl RedisOwners {
    /// Entries held by `node` (this node's URL); starts its heartbeat.
    pub fn start(link: Arc<Link>, node: &str) -> Arc<Self> {
        let owners = Arc::new(RedisOwners {
            link,
            node: node.into(),
        });
        tokio::spawn(heartbeat(Arc::downgrade(&owners)));
        owners
    }

    fn entry_key(&self, id: &str) -> String {
        format!("{}ws:conn:{id}", self.link.prefix())
    }

    fn alive_key(&self, node: &str) -> String {
        format!("{}ws:node:{node}", self.link.prefix())
    }

    /// Records that this node holds `id`, for at most `ttl`.
    pub async fn claim(&self, id: &str, ttl: Duration) {
        if !self.link.is_up() {
            return;
        }
        let mut conn = self.link.conn();
        let cmd = redis::cmd("SET")
            .arg(self.entry_key(id))
            .arg(&*self.node)
            .arg("EX")
            .arg(ttl.as_secs().max(1))
            .clone();
        let _: Option<()> = self.link.run(cmd.query_async(&mut conn)).await;
    }

    /// Forgets `id` (this node no longer holds it).
    pub async fn release(&self, id: &str) {
        if !self.link.is_up() {
            return;
        }
        let mut conn = self.link.conn();
        let cmd = redis::cmd("DEL").arg(self.entry_key(id)).clone();
        let _: Option<u64> = self.link.run(cmd.query_async(&mut conn)).await;
    }

    /// The URL of the other live node holding `id`; `None` when none does (or when it is
    /// this node). An entry whose holder stopped is deleted.
    pub async fn owner(&self, id: &str) -> Option<String> {
        if !self.link.is_up() {
            return None;
        }
        let mut conn = self.link.conn();
        let get = redis::cmd("GET").arg(self.entry_key(id)).clone();
        let holder: Option<String> = self.link.run(get.query_async(&mut conn)).await?;
        let holder = holder.filter(|h| **h != *self.node)?;
        let exists = redis::cmd("EXISTS").arg(self.alive_key(&holder)).clone();
        let alive: u64 = self.link.run(exists.query_async(&mut conn)).await?;
        if alive == 0 {
            let del = redis::cmd("DEL").arg(self.entry_key(id)).clone();
            let _: Option<u64> = self.link.run(del.query_async(&mut conn)).await;
            return None;
        }
        Some(holder)
    }

    async fn beat(&self) {
        if !self.link.is_up() {
            return;
        }
        let mut conn = self.link.conn();
        let ms = u64::try_from(ALIVE_FOR.as_millis()).unwrap_or(u64::MAX);
        let cmd = redis::cmd("SET")
            .arg(self.alive_key(&self.node))
            .arg(1)
            .arg("PX")
            .arg(ms)
            .clone();
        let _: Option<()> = self.link.run(cmd.query_async(&mut conn)).await;
    }
}

/// Says the node is alive every [`HEARTBEAT`] until it stops.
async fn heartbeat(owners: Weak<RedisOwners>) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    loop {
        tick.tick().await;
        let Some(owners) = owners.upgrade() else {
            return;
        };
        owners.beat().await;
    }
}
