//! Values kept for a while and shared by every node: the stages' response caches. Each
//! value is one Redis string with its own expiry; a stage's values share a key prefix, so
//! FlushStageCache empties them all for every node at once.
//!
//! A cache is never worth an error: while Redis is unreachable every lookup misses (the
//! request goes to the integration) and nothing is kept.

use std::sync::Arc;
use std::time::Duration;

use crate::link::Link;

#[derive(Debug, Clone)]
pub struct RedisBlobs {
    link: Arc<Link>,
    /// `{prefix}{namespace}`: every key of these values starts with it.
    scope: Arc<str>,
}

impl RedisBlobs {
    /// The values under `namespace` (e.g. `cache:{api}:{stage}:`), below the node's prefix.
    pub fn new(link: Arc<Link>, namespace: &str) -> Self {
        let scope = format!("{}{namespace}", link.prefix()).into();
        RedisBlobs { link, scope }
    }

    fn key(&self, name: &str) -> Vec<u8> {
        let mut key = Vec::with_capacity(self.scope.len() + name.len());
        key.extend_from_slice(self.scope.as_bytes());
        key.extend_from_slice(name.as_bytes());
        key
    }

    /// The value kept under `name`, if any (`None` too while Redis is unreachable).
    pub async fn get(&self, name: &str) -> Option<bytes::Bytes> {
        if !self.link.is_up() {
            return None;
        }
        let mut conn = self.link.conn();
        let cmd = redis::cmd("GET").arg(self.key(name)).clone();
        let got: Option<Vec<u8>> = self.link.run(cmd.query_async(&mut conn)).await?;
        got.map(bytes::Bytes::from)
    }

    /// The value kept under `name` and how long it has left.
    pub async fn get_with_ttl(&self, name: &str) -> Option<(bytes::Bytes, Duration)> {
        if !self.link.is_up() {
            return None;
        }
        let mut conn = self.link.conn();
        let key = self.key(name);
        let mut pipe = redis::pipe();
        pipe.cmd("GET").arg(&key).cmd("PTTL").arg(&key);
        let (value, left): (Option<Vec<u8>>, i64) =
            self.link.run(pipe.query_async(&mut conn)).await?;
        let left = Duration::from_millis(u64::try_from(left).ok()?);
        Some((bytes::Bytes::from(value?), left))
    }

    /// Keeps `value` under `name` for `ttl` (at least a millisecond).
    pub async fn put(&self, name: &str, value: &[u8], ttl: Duration) {
        if !self.link.is_up() {
            return;
        }
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut conn = self.link.conn();
        let cmd = redis::cmd("SET")
            .arg(self.key(name))
            .arg(value)
            .arg("PX")
            .arg(ms)
            .clone();
        let _: Option<()> = self.link.run(cmd.query_async(&mut conn)).await;
    }

    /// Deletes every value of this namespace.
    pub async fn clear(&self) {
        if !self.link.is_up() {
            return;
        }
        let mut conn = self.link.conn();
        let pattern = format!("{}*", escape_glob(&self.scope));
        let mut cursor: u64 = 0;
        loop {
            let scan = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(500)
                .clone();
            let Some((next, keys)) = self
                .link
                .run(scan.query_async::<(u64, Vec<Vec<u8>>)>(&mut conn))
                .await
            else {
                return;
            };
            if !keys.is_empty() {
                let del = redis::cmd("DEL").arg(&keys).clone();
                let _: Option<u64> = self.link.run(del.query_async(&mut conn)).await;
            }
            if next == 0 {
                return;
            }
            cursor = next;
        }
    }
}

/// `prefix` as a literal in a SCAN MATCH pattern.
pub(crate) fn escape_glob(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len());
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
