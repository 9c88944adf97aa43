//! Quotas exact across nodes: one Redis counter per plan, key and quota period, checked and
//! counted by one script call. A node's concurrent requests of one key share that call:
//! while one call is out, the requests that arrive wait together, and the next call counts
//! up to all of them at once (`INCRBY n`, or fewer when fewer fit), so a busy key costs one
//! round trip per batch, not per request, and the count never passes the limit.
//!
//! The counts a node shows (GetUsage) and saves (per day, as increments, so every node's
//! add up in the shared store) stay in the node's [`LocalUsage`], reloaded from the store
//! every second. A period counter missing from Redis (first use, or Redis lost it) starts
//! from what the store and this node know of the period.

use std::sync::Arc;

use redis::Script;
use tokio::sync::oneshot;
use tollgate_model::usage_plan::quota_period;
use tollgate_store::limit::{Decision, Verdict};
use tollgate_store::usage::{
    KeyCounter, LocalCounter, LocalUsage, Quota, SharedWrite, UsageCounters,
};

use crate::link::Link;
use crate::slots::Queues;

/// Counts up to ARGV[4] requests in the period counter KEYS[1] without passing ARGV[1]; a
/// missing counter starts at ARGV[2] and lives ARGV[3] seconds. Answers how many it counted.
const CONSUME: &str = r"
local n = redis.call('GET', KEYS[1])
if n then n = tonumber(n) else
  n = tonumber(ARGV[2])
  redis.call('SET', KEYS[1], n, 'EX', ARGV[3])
end
local room = tonumber(ARGV[1]) - n
if room <= 0 then return 0 end
local take = math.min(room, tonumber(ARGV[4]))
redis.call('INCRBY', KEYS[1], take)
return take
";

/// The period counter's key and how long it must live (its period and a day).
fn period_key(prefix: &str, plan: &str, key: &str, day: i64, quota: &Quota) -> (String, i64) {
    let (start, next) = quota_period(quota.period, day);
    (
        format!("{prefix}quota:{plan}:{key}:{start}"),
        (next - day + 1) * 86_400,
    )
}

pub struct RedisUsage {
    local: Arc<LocalUsage>,
    link: Arc<Link>,
    script: Arc<Script>,
}

impl RedisUsage {
    pub fn new(local: Arc<LocalUsage>, link: Arc<Link>) -> Self {
        RedisUsage {
            local,
            link,
            script: Arc::new(Script::new(CONSUME)),
        }
    }
}

pub struct RedisCounter {
    batch: Arc<Batch>,
}

/// What one key's requests share on this node: the counter's identity, and the requests
/// waiting for the next call.
struct Batch {
    local: Arc<LocalCounter>,
    link: Arc<Link>,
    script: Arc<Script>,
    plan_id: String,
    key_id: String,
    waiting: Queues<Waiter>,
}

/// A request not yet counted: its day, its quota, and where its verdict goes.
type Waiter = (i64, Quota, oneshot::Sender<Verdict>);

impl Batch {
    /// Counts waiting requests, a batch per call, until none waits.
    async fn drain(self: Arc<Self>, slot: usize) {
        while let Some(mut waiting) = self.waiting.take(slot) {
            // One call counts one period: requests of another day get a call of their own.
            while let Some((day, quota, _)) = waiting.first() {
                let (day, quota) = (*day, quota.clone());
                let (same, later): (Vec<_>, Vec<_>) = waiting
                    .into_iter()
                    .partition(|(d, q, _)| *d == day && *q == quota);
                waiting = later;
                self.count((day, quota, same)).await;
            }
        }
    }

    async fn count(&self, (day, quota, batch): (i64, Quota, Vec<Waiter>)) {
        let (key, ttl) = period_key(self.link.prefix(), &self.plan_id, &self.key_id, day, &quota);
        let mut conn = self.link.conn();
        let mut invocation = self.script.key(key);
        invocation
            .arg(quota.limit)
            .arg(self.local.period_used(day, &quota))
            .arg(ttl)
            .arg(batch.len());
        let call = invocation.invoke_async::<i64>(&mut conn);
        let counted = self.link.run(call).await;
        for (i, (_, _, verdict)) in batch.into_iter().enumerate() {
            let v = match counted {
                Some(n) if (i as i64) < n => Verdict::Admit,
                Some(_) => Verdict::Refuse,
                None => self.link.unreachable(),
            };
            if v == Verdict::Admit {
                self.local.try_consume(day, None);
            }
            let _ = verdict.send(v);
        }
    }
}

impl RedisCounter {
    async fn consume_shared(&self, day: i64, quota: &Quota) -> Verdict {
        let (tx, rx) = oneshot::channel();
        if let Some(slot) = self.batch.waiting.push((day, quota.clone(), tx)) {
            tokio::spawn(self.batch.clone().drain(slot));
        }
        rx.await.unwrap_or_else(|_| self.batch.link.unreachable())
    }
}

impl KeyCounter for RedisCounter {
    /// Local state only (what a node would do alone); requests go through `consume`.
    fn try_consume(&self, day: i64, quota: Option<&Quota>) -> bool {
        self.batch.local.try_consume(day, quota)
    }

    fn consume<'a>(&'a self, day: i64, quota: Option<&'a Quota>) -> Decision<'a> {
        let Some(quota) = quota else {
            // No quota: only counted, for GetUsage.
            return Decision::Ready(self.batch.local.try_consume(day, None).into());
        };
        let link = &self.batch.link;
        if !link.is_up() {
            let verdict = link.unreachable();
            if verdict == Verdict::Admit {
                self.batch.local.try_consume(day, None);
            }
            return Decision::Ready(verdict);
        }
        Decision::Wait(Box::pin(self.consume_shared(day, quota)))
    }
}

impl UsageCounters for RedisUsage {
    fn counter(&self, plan_id: &str, key_id: &str) -> Arc<dyn KeyCounter> {
        Arc::new(RedisCounter {
            batch: Arc::new(Batch {
                local: self.local.local(plan_id, key_id),
                link: self.link.clone(),
                script: self.script.clone(),
                plan_id: plan_id.to_string(),
                key_id: key_id.to_string(),
                waiting: Queues::default(),
            }),
        })
    }

    fn daily(
        &self,
        plan_id: &str,
        key_id: &str,
        from: i64,
        to: i64,
        quota: Option<&Quota>,
    ) -> Vec<[i64; 2]> {
        self.local.daily(plan_id, key_id, from, to, quota)
    }

    fn keys(&self, plan_id: &str) -> Vec<String> {
        self.local.keys(plan_id)
    }

    /// UpdateUsage: the node's counts change at once (and are saved as increments); the
    /// period counter in Redis is set to match by the returned write, which UpdateUsage
    /// awaits before it answers.
    fn set_remaining(
        &self,
        plan_id: &str,
        key_id: &str,
        day: i64,
        quota: &Quota,
        remaining: i64,
    ) -> Option<SharedWrite> {
        self.local
            .set_remaining(plan_id, key_id, day, quota, remaining);
        let used = self.local.local(plan_id, key_id).period_used(day, quota);
        let (key, ttl) = period_key(self.link.prefix(), plan_id, key_id, day, quota);
        let link = self.link.clone();
        Some(Box::pin(async move {
            let mut conn = link.conn();
            let mut cmd = redis::cmd("SET");
            cmd.arg(key).arg(used).arg("EX").arg(ttl);
            if link.run(cmd.query_async::<()>(&mut conn)).await.is_none() {
                // This node counts from the new figure; the others keep the old one
                // until the counter is next set or expires.
                tracing::error!(
                    "UpdateUsage could not set the shared quota counter in Redis; \
                     other nodes still count from the previous figure"
                );
            }
        }))
    }
}
