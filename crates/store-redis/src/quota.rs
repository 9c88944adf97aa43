//! Quotas exact across nodes: one Redis counter per plan, key and quota period, checked and
//! counted by one script call. A node's concurrent requests of one key share that call:
//! while one call is out, the requests that arrive wait together, and the next call counts
//! up to all of them at once (`n` grows by the batch, or less when less fits), so a busy
//! key costs one round trip per batch, not per request, and the count never passes the
//! limit.
//!
//! Far from the limit a call also takes a few units ahead for this node (its reserve: at
//! most [`RESERVE_MAX`], and a sixteenth of what room is left beyond the batch), which the
//! node's next requests of that key spend with no round trip and no wait. Units taken
//! ahead are counted in Redis, so the limit is still never passed; what is not spent
//! within [`RESERVE_LIFE`] is given back, so another node is refused for at most that long
//! while units it could have had are held here. Within 16 units of the limit nothing is
//! taken ahead and every request is counted by a call, as exactly as without reserves.
//! UpdateUsage first stops units being taken ahead, waits until those taken are spent or
//! given back, then sets the count in a new `epoch` (a unit given back late, from an older
//! epoch, is not in the count it set and is not taken out of it).
//!
//! The counts a node shows (GetUsage) and saves (per day, as increments, so every node's
//! add up in the shared store) stay in the node's [`LocalUsage`], reloaded from the store
//! every second. A period counter missing from Redis (first use, or Redis lost it) starts
//! from what the store and this node know of the period.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::Script;
use tokio::sync::oneshot;
use tollgate_model::usage_plan::quota_period;
use tollgate_store::limit::{Decision, Verdict};
use tollgate_store::usage::{
    KeyCounter, LocalCounter, LocalUsage, Quota, SharedWrite, UsageCounters,
};

use crate::link::Link;
use crate::slots::Queues;

/// Counts up to ARGV[4] requests, and takes up to ARGV[5] units ahead while that leaves
/// more than 16 times as many and UpdateUsage is not under way (`frozen_until`, epoch ms),
/// in the period counter KEYS[1] (a hash: the count `n`, and the `epoch` UpdateUsage
/// moves), never passing ARGV[1]. A missing counter starts at ARGV[2], lives ARGV[3]
/// seconds, and its epoch is Redis's clock in ms: a counter Redis lost and made again is
/// in another epoch than units taken ahead from the lost one. Answers {counted, taken
/// ahead, epoch}.
const CONSUME: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = redis.call('HGET', KEYS[1], 'n')
if n then n = tonumber(n) else
  n = tonumber(ARGV[2])
  redis.call('HSET', KEYS[1], 'n', n, 'epoch', now)
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
local epoch = tonumber(redis.call('HGET', KEYS[1], 'epoch') or 0)
local room = tonumber(ARGV[1]) - n
if room <= 0 then return {0, 0, epoch} end
local take = math.min(room, tonumber(ARGV[4]))
local ahead = 0
if now >= tonumber(redis.call('HGET', KEYS[1], 'frozen_until') or 0) then
  ahead = math.min(tonumber(ARGV[5]), math.floor((room - take) / 16))
end
redis.call('HINCRBY', KEYS[1], 'n', take + ahead)
return {take, ahead, epoch}
";

/// Gives back ARGV[2] units taken ahead in epoch ARGV[1] and not spent, unless UpdateUsage
/// set the count since (the units are not in the count it set) or the counter is gone
/// (expired, or lost by Redis: made again, it is not theirs).
const SETTLE: &str = r"
local unspent = tonumber(ARGV[2])
if unspent > 0 and redis.call('EXISTS', KEYS[1]) == 1
    and tonumber(redis.call('HGET', KEYS[1], 'epoch') or 0) == tonumber(ARGV[1]) then
  redis.call('HINCRBY', KEYS[1], 'n', -unspent)
end
return 0
";

/// UpdateUsage, first: no units are taken ahead for ARGV[1] ms (the counter lives ARGV[2]
/// seconds).
const FREEZE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], 'frozen_until', now + tonumber(ARGV[1]))
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 0
";

/// UpdateUsage, once every unit taken ahead is settled: the count is ARGV[1] from now, in
/// a new epoch; the counter lives ARGV[2] seconds.
const SET_COUNT: &str = r"
redis.call('HSET', KEYS[1], 'n', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'epoch', 1)
redis.call('HDEL', KEYS[1], 'frozen_until')
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 0
";

/// Most units one node takes ahead for one key.
pub const RESERVE_MAX: i64 = 32;

/// How long units taken ahead are kept for this node's requests before they are given back.
pub const RESERVE_LIFE: Duration = Duration::from_millis(500);

/// How long UpdateUsage allows past [`RESERVE_LIFE`] for nodes to give units back.
const SETTLING: Duration = Duration::from_millis(200);

/// The period counter's key and how long it must live (its period and a day).
fn period_key(prefix: &str, plan: &str, key: &str, day: i64, quota: &Quota) -> (String, i64) {
    let (start, next) = quota_period(quota.period, day);
    (
        format!("{prefix}quota-count:{plan}:{key}:{start}"),
        (next - day + 1) * 86_400,
    )
}

/// The counters' scripts, loaded once per node.
struct Scripts {
    consume: Script,
    settle: Script,
    freeze: Script,
    set_count: Script,
}

pub struct RedisUsage {
    local: Arc<LocalUsage>,
    link: Arc<Link>,
    scripts: Arc<Scripts>,
}

impl RedisUsage {
    pub fn new(local: Arc<LocalUsage>, link: Arc<Link>) -> Self {
        RedisUsage {
            local,
            link,
            scripts: Arc::new(Scripts {
                consume: Script::new(CONSUME),
                settle: Script::new(SETTLE),
                freeze: Script::new(FREEZE),
                set_count: Script::new(SET_COUNT),
            }),
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
    scripts: Arc<Scripts>,
    plan_id: String,
    key_id: String,
    waiting: Queues<Waiter>,
    reserve: Mutex<Option<Reserve>>,
}

/// Units this node took ahead for one key's period.
struct Reserve {
    day: i64,
    quota: Quota,
    /// The counter's epoch they were taken in, and how many are not spent yet.
    epoch: i64,
    left: i64,
    /// Which taking last extended it (its expiry settles it only if none did since).
    id: u64,
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

    async fn count(self: &Arc<Self>, (day, quota, batch): (i64, Quota, Vec<Waiter>)) {
        let (key, ttl) = period_key(self.link.prefix(), &self.plan_id, &self.key_id, day, &quota);
        let mut conn = self.link.conn();
        let mut invocation = self.scripts.consume.key(key);
        invocation
            .arg(quota.limit)
            .arg(self.local.period_used(day, &quota))
            .arg(ttl)
            .arg(batch.len())
            .arg(RESERVE_MAX);
        let call = invocation.invoke_async::<(i64, i64, i64)>(&mut conn);
        let counted = self.link.run(call).await;
        if let Some((_, ahead, epoch)) = counted.filter(|(_, ahead, _)| *ahead > 0) {
            self.keep_ahead(day, &quota, ahead, epoch);
        }
        for (i, (_, _, verdict)) in batch.into_iter().enumerate() {
            let v = match counted {
                Some((n, _, _)) if (i as i64) < n => Verdict::Admit,
                Some(_) => Verdict::Refuse,
                None => self.link.unreachable(),
            };
            if v == Verdict::Admit {
                self.local.try_consume(day, None);
            }
            let _ = verdict.send(v);
        }
    }

    fn lock_reserve(&self) -> std::sync::MutexGuard<'_, Option<Reserve>> {
        self.reserve.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Spends a unit taken ahead for this period, if one is left.
    fn spend_ahead(&self, day: i64, quota: &Quota) -> bool {
        let mut reserve = self.lock_reserve();
        match reserve.as_mut() {
            Some(r) if r.left > 0 && r.day == day && r.quota == *quota => {
                r.left -= 1;
                true
            }
            _ => false,
        }
    }

    /// Keeps `ahead` units for this node's next requests, settled after [`RESERVE_LIFE`].
    fn keep_ahead(self: &Arc<Self>, day: i64, quota: &Quota, ahead: i64, epoch: i64) {
        static TAKINGS: AtomicU64 = AtomicU64::new(0);
        let id = TAKINGS.fetch_add(1, Ordering::Relaxed);
        let replaced = {
            let mut reserve = self.lock_reserve();
            match reserve.as_mut() {
                Some(r) if r.day == day && r.quota == *quota && r.epoch == epoch => {
                    r.left += ahead;
                    r.id = id;
                    None
                }
                _ => reserve.replace(Reserve {
                    day,
                    quota: quota.clone(),
                    epoch,
                    left: ahead,
                    id,
                }),
            }
        };
        if let Some(old) = replaced {
            tokio::spawn(self.clone().settle(old));
        }
        let batch = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(RESERVE_LIFE).await;
            let expired = batch.lock_reserve().take_if(|r| r.id == id);
            if let Some(r) = expired {
                batch.settle(r).await;
            }
        });
    }

    /// Gives back what `r` did not spend.
    async fn settle(self: Arc<Self>, r: Reserve) {
        let (key, _) = period_key(
            self.link.prefix(),
            &self.plan_id,
            &self.key_id,
            r.day,
            &r.quota,
        );
        let mut conn = self.link.conn();
        let mut invocation = self.scripts.settle.key(key);
        invocation.arg(r.epoch).arg(r.left);
        // Unreachable: the units stay counted (never more admitted than the limit).
        let _ = self
            .link
            .run(invocation.invoke_async::<i64>(&mut conn))
            .await;
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
        if self.batch.spend_ahead(day, quota) {
            self.batch.local.try_consume(day, None);
            return Decision::Ready(Verdict::Admit);
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
                scripts: self.scripts.clone(),
                plan_id: plan_id.to_string(),
                key_id: key_id.to_string(),
                waiting: Queues::default(),
                reserve: Mutex::new(None),
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
        let (link, scripts) = (self.link.clone(), self.scripts.clone());
        Some(Box::pin(async move {
            let mut conn = link.conn();
            // Units taken ahead before the freeze are spent or given back within their
            // life; the count is set once they are.
            let mut freeze = scripts.freeze.key(&key);
            let frozen_for = RESERVE_LIFE + SETTLING;
            freeze.arg(frozen_for.as_millis() as u64 * 2).arg(ttl);
            let frozen = link.run(freeze.invoke_async::<i64>(&mut conn)).await;
            if frozen.is_some() {
                tokio::time::sleep(frozen_for).await;
            }
            let mut invocation = scripts.set_count.key(&key);
            invocation.arg(used).arg(ttl);
            let call = invocation.invoke_async::<i64>(&mut conn);
            if link.run(call).await.is_none() {
                tracing::error!(
                    "UpdateUsage could not set the shared quota counter in Redis; \
                     other nodes still count from the previous figure"
                );
            }
        }))
    }
}
