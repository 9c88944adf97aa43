//! Distributed token buckets: one bucket per scope in Redis, with nodes spending small
//! local leases of its tokens.
//!
//! The bucket itself (capacity `burst`, refilled at `rate` per second, on Redis's clock)
//! lives in Redis and is only ever touched by [`LEASE`], one script call that refills it
//! and hands out up to `want` tokens. A node keeps tokens it was handed beyond what its
//! requests needed as a lease (one atomic: tokens and expiry) and spends it without asking
//! Redis. When the lease is spent or expired, the requests that find it so wait together:
//! while one call is out, those that arrive queue, and the next call asks for all of them
//! at once (plus the next lease) and hands each its token directly. So a busy bucket costs
//! one round trip per batch of concurrent requests, however short its leases live. When
//! Redis has no token, it says when the next one will exist, and the node refuses without
//! asking until then.
//!
//! The bound: a lease may be spent for `life = max(5 / rate, 10 ms)` seconds (at most
//! 1 s) after it was asked for, and a token handed to a waiting request is spent as it
//! arrives. Every admitted request spent a token Redis handed out, and a token handed out
//! before the start of a window and spent inside it was taken from the bucket at most
//! `life` before the window, when the bucket had at most `rate * life` tokens less time to
//! refill. So over any window of `t` seconds the cluster admits at most
//! `burst + rate * t + max(5, rate / 100)` requests ([`overshoot`]), whatever the number
//! of nodes: 5 up to 500 requests/s, 1% of a second's rate above. The 10 ms floor keeps a
//! fast bucket's lease worth having: at 5 / rate alone, a 100,000/s bucket's lease would
//! live 50 µs and nearly every request would wait for Redis.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use redis::Script;
use tokio::sync::oneshot;
use tollgate_store::limit::{Decision, Verdict};
use tollgate_store::throttle::{now_ns, Buckets, Registry, TokenBucket};

use crate::link::Link;
use crate::slots::Queues;

/// Refills the bucket at KEYS[1] (fields `m`: micro-tokens, `t`: Redis time in µs of the
/// last refill) with ARGV[1] tokens per second up to ARGV[2], takes up to ARGV[3] whole
/// tokens and answers how many it took; none: minus one minus the µs until the next whole
/// token. An unknown bucket starts full; an idle one expires once it would be full again.
const LEASE: &str = r"
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000000 + tonumber(now[2])
local rate, burst, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local cap = burst * 1000000
local s = redis.call('HMGET', KEYS[1], 'm', 't')
local m, t = tonumber(s[1]), tonumber(s[2])
if m == nil or t == nil then m, t = cap, now end
if now > t then m = math.min(cap, m + math.floor((now - t) * rate)) end
local got = math.min(want, math.floor(m / 1000000))
m = m - got * 1000000
redis.call('HSET', KEYS[1], 'm', m, 't', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
if got > 0 then return got end
return -1 - math.floor((1000000 - m) / rate)
";

/// Lease tokens are packed with their expiry in one word: the low bits count tokens.
const TOKEN_BITS: u32 = 16;
const TOKEN_MASK: u64 = (1 << TOKEN_BITS) - 1;
/// The fewest tokens a lease may hold beyond what the rate refills (see the module doc).
pub const OVERSHOOT: f64 = 5.0;
/// The shortest a lease lives, in seconds.
const LEASE_FLOOR: f64 = 0.01;

/// How long a lease of a bucket refilled at `rate` may be spent, in seconds.
fn lease_life(rate: f64) -> f64 {
    (OVERSHOOT / rate).clamp(LEASE_FLOOR, 1.0)
}

/// How many requests beyond `burst + rate × t` a cluster may admit over any `t` seconds
/// through one bucket refilled at `rate` per second: `max(5, rate / 100)`.
pub fn overshoot(rate: f64) -> f64 {
    rate * lease_life(rate)
}

fn pack(expiry_us: u64, tokens: u64) -> u64 {
    (expiry_us << TOKEN_BITS) | tokens.min(TOKEN_MASK)
}

fn unpack(word: u64) -> (u64, u64) {
    (word >> TOKEN_BITS, word & TOKEN_MASK)
}

/// One scope's bucket on this node (the data plane holds it; the state is shared with the
/// task that makes its calls).
#[derive(Debug)]
pub struct RedisBucket {
    state: Arc<State>,
}

#[derive(Debug)]
struct State {
    link: Arc<Link>,
    key: String,
    rate: f64,
    burst: i64,
    /// How long a lease may be spent, in µs ([`lease_life`]).
    lease_life: u64,
    /// The most tokens one lease holds: what the rate refills in `lease_life`.
    max_lease: u32,
    /// Tokens of this node's lease and their expiry (µs on `now_ns`'s clock).
    lease: AtomicU64,
    /// Until when (µs) the bucket is known to be empty: no node can get a token before
    /// then, so requests are refused without asking.
    empty_until: AtomicU64,
    /// How many tokens the next lease asks for (grows while leases run out, shrinks when
    /// they expire unspent, so idle nodes do not hold tokens the others need).
    next_size: AtomicU32,
    script: Arc<Script>,
    /// Requests waiting for the next call.
    waiting: Queues<oneshot::Sender<Verdict>>,
}

impl RedisBucket {
    fn new(link: Arc<Link>, script: Arc<Script>, scope: &str, rate: f64, burst: i64) -> Self {
        let valid = rate.is_finite() && rate > 0.0 && burst > 0;
        let life_s = if valid { lease_life(rate) } else { 0.0 };
        let state = State {
            key: format!(
                "{}bucket:{}:{rate}:{burst}",
                link.prefix(),
                scope.replace('\u{0}', ":")
            ),
            link,
            rate: if valid { rate } else { 0.0 },
            burst: burst.max(0),
            lease_life: (life_s * 1e6) as u64,
            max_lease: ((rate * life_s).floor() as i64).clamp(1, burst.max(1)) as u32,
            lease: AtomicU64::new(0),
            empty_until: AtomicU64::new(0),
            next_size: AtomicU32::new(1),
            script,
            waiting: Queues::default(),
        };
        RedisBucket {
            state: Arc::new(state),
        }
    }

    /// Queues this request for the next call (starting one if none is out).
    async fn wait(&self) -> Verdict {
        let state = &self.state;
        let (tx, rx) = oneshot::channel();
        if let Some(slot) = state.waiting.push(tx) {
            tokio::spawn(state.clone().drain(slot));
        }
        rx.await.unwrap_or_else(|_| state.link.unreachable())
    }
}

impl State {
    /// Serves waiting requests, one call per batch, until none waits.
    async fn drain(self: Arc<Self>, slot: usize) {
        while let Some(mut batch) = self.waiting.take(slot) {
            // The lease the last call brought serves those it can first, and a bucket
            // Redis just called empty refuses without asking again.
            let now = now_ns();
            let mut leased = 0;
            while leased < batch.len() && self.try_take(now) {
                leased += 1;
            }
            for tx in batch.drain(..leased) {
                let _ = tx.send(Verdict::Admit);
            }
            if now / 1000 < self.empty_until.load(Ordering::Relaxed) {
                for tx in batch.drain(..) {
                    let _ = tx.send(Verdict::Refuse);
                }
            }
            if !batch.is_empty() {
                self.call(now, batch).await;
            }
        }
    }

    /// One `LEASE` call for every request of `batch` and the next lease.
    async fn call(&self, now: u64, batch: Vec<oneshot::Sender<Verdict>>) {
        let now_us = now / 1000;
        let lease = self.next_lease(now_us);
        let want = batch.len() as u64 + u64::from(lease);
        let mut conn = self.link.conn();
        let mut invocation = self.script.key(&self.key);
        invocation.arg(self.rate).arg(self.burst).arg(want);
        let call = invocation.invoke_async::<i64>(&mut conn);
        let got = match self.link.run(call).await {
            None => {
                let verdict = self.link.unreachable();
                for tx in batch {
                    let _ = tx.send(verdict);
                }
                return;
            }
            Some(got) if got <= 0 => {
                let wait = got.unsigned_abs().saturating_sub(1);
                self.empty_until.store(now_us + wait, Ordering::Relaxed);
                0
            }
            Some(got) => got as u64,
        };
        let served = batch.len() as u64;
        for (i, tx) in batch.into_iter().enumerate() {
            // Past what Redis gave, a token another thread's call kept in the lease while
            // this one was out still admits (else it would expire unspent).
            let verdict = if (i as u64) < got || self.try_take(now_ns()) {
                Verdict::Admit
            } else {
                Verdict::Refuse
            };
            let _ = tx.send(verdict);
        }
        if got > served {
            self.keep(now_us + self.lease_life, got - served);
        }
    }

    /// How many tokens the next lease asks for: twice the last while leases run out
    /// before they expire, half (at least one) while they expire unspent. A lease with
    /// tokens that has not expired was just renewed by another thread's call (each worker
    /// thread's waiting requests make their own): no reason to change the size.
    fn next_lease(&self, now_us: u64) -> u32 {
        let (expiry, left) = unpack(self.lease.load(Ordering::Relaxed));
        let size = self.next_size.load(Ordering::Relaxed);
        let size = resize(size, left > 0, now_us < expiry, self.max_lease);
        self.next_size.store(size, Ordering::Relaxed);
        size
    }

    /// Adds `tokens` expiring at `expiry` to the lease. Tokens still valid keep their
    /// (earlier) expiry, so no token outlives its own.
    fn keep(&self, expiry: u64, tokens: u64) {
        let now_us = now_ns() / 1000;
        let mut cur = self.lease.load(Ordering::Relaxed);
        loop {
            let (e, n) = unpack(cur);
            let next = if n > 0 && now_us < e {
                pack(e, n + tokens)
            } else {
                pack(expiry, tokens)
            };
            match self
                .lease
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
    }

    fn try_take(&self, now: u64) -> bool {
        let now_us = now / 1000;
        let mut cur = self.lease.load(Ordering::Relaxed);
        loop {
            let (expiry, n) = unpack(cur);
            if n == 0 || now_us >= expiry {
                return false;
            }
            match self.lease.compare_exchange_weak(
                cur,
                pack(expiry, n - 1),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => cur = actual,
            }
        }
    }
}

/// The next lease's size after one of `size`, which has tokens `left` or not and is `live`
/// (not expired) or not (see [`State::next_lease`]).
fn resize(size: u32, left: bool, live: bool, max: u32) -> u32 {
    match (left, live) {
        // Never none: with no lease kept, none could be seen running out, and the size
        // would stay at nothing (every request a call).
        (true, false) => (size / 2).max(1),
        (false, true) => (size * 2).clamp(1, max),
        _ => size,
    }
}

impl TokenBucket for RedisBucket {
    fn try_take(&self, now: u64) -> bool {
        self.state.try_take(now)
    }

    fn take(&self, now: u64) -> Decision<'_> {
        let state = &self.state;
        if state.try_take(now) {
            return Decision::Ready(Verdict::Admit);
        }
        if state.rate == 0.0 || state.burst == 0 {
            return Decision::Ready(Verdict::Refuse);
        }
        // A throttled flood costs Redis nothing until a token can exist again.
        if now / 1000 < state.empty_until.load(Ordering::Relaxed) {
            return Decision::Ready(Verdict::Refuse);
        }
        if !state.link.is_up() {
            return Decision::Ready(state.link.unreachable());
        }
        Decision::Wait(Box::pin(self.wait()))
    }
}

/// The node's distributed buckets by scope (same rules as the local registry: a bucket
/// keeps its lease across recompiles while its limits stay the same).
pub struct RedisBuckets {
    link: Arc<Link>,
    script: Arc<Script>,
    registry: Registry<RedisBucket>,
}

impl RedisBuckets {
    pub fn new(link: Arc<Link>) -> Self {
        RedisBuckets {
            link,
            script: Arc::new(Script::new(LEASE)),
            registry: Registry::default(),
        }
    }
}

impl Buckets for RedisBuckets {
    fn bucket(&self, scope: String, rate: f64, burst: i64) -> Arc<dyn TokenBucket> {
        self.registry.get_or(scope, rate, burst, |scope| {
            RedisBucket::new(self.link.clone(), self.script.clone(), scope, rate, burst)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_grows_when_spent_early_shrinks_when_left_and_stays_when_just_renewed() {
        assert_eq!(resize(8, false, true, 100), 16, "spent before it expired");
        assert_eq!(resize(64, false, true, 100), 100, "never past the most");
        assert_eq!(resize(8, true, false, 100), 4, "expired unspent");
        assert_eq!(resize(1, true, false, 100), 1, "at least one");
        assert_eq!(
            resize(8, true, true, 100),
            8,
            "another thread's call renewed it"
        );
        assert_eq!(resize(8, false, false, 100), 8, "spent as it expired");
        assert_eq!(resize(0, false, true, 100), 1);
    }

    #[test]
    fn lease_word_round_trips() {
        let w = pack(123_456_789, 5);
        assert_eq!(unpack(w), (123_456_789, 5));
        assert_eq!(unpack(pack(7, TOKEN_MASK + 10)), (7, TOKEN_MASK));
    }
}
