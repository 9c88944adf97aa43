//! Token buckets for throttling, as AWS defines them (capacity `burstLimit`, refilled at
//! `rateLimit` tokens per second, starting full), implemented as GCRA: the bucket is one
//! atomic "theoretical arrival time", so taking a token is a compare-and-swap, never a lock.
//!
//! Buckets live in a [`BucketRegistry`] keyed by scope and limits, so recompiling a stage
//! (a redeploy, an unrelated plan change) keeps their state; changing a limit starts a new,
//! full bucket.
//!
//! The data plane sees buckets through [`Buckets`] and [`TokenBucket`], the same kind of
//! seam as the usage counters (`crate::usage`): a bucket is resolved when a stage is
//! compiled, and taking a token is a synchronous decision from local state (no lock, no
//! allocation, no future). A shared implementation for several nodes (Redis) answers from
//! its local lease the same way and, when the lease is spent, through [`TokenBucket::take`]
//! with one round trip.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Instant;

use crate::limit::Decision;

/// Nanoseconds on a process-wide monotonic clock.
pub fn now_ns() -> u64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    BASE.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

#[derive(Debug)]
pub struct Bucket {
    /// Nanoseconds per token; 0 means the bucket never admits (no rate or no burst).
    interval: u64,
    /// `burst * interval`: how far ahead of now the arrival time may run.
    tolerance: u64,
    tat: AtomicU64,
}

impl Bucket {
    pub fn new(rate_per_sec: f64, burst: i64) -> Self {
        // NaN, zero or negative rates admit nothing, like a zero burst.
        if rate_per_sec.is_nan() || rate_per_sec <= 0.0 || burst <= 0 {
            return Bucket {
                interval: 0,
                tolerance: 0,
                tat: AtomicU64::new(0),
            };
        }
        let interval = ((1e9 / rate_per_sec).round() as u64).max(1);
        Bucket {
            interval,
            tolerance: interval.saturating_mul(burst as u64),
            tat: AtomicU64::new(0),
        }
    }

    /// Takes one token at time `now` (ns), if there is one.
    pub fn try_take(&self, now: u64) -> bool {
        if self.interval == 0 {
            return false;
        }
        let mut tat = self.tat.load(Ordering::Relaxed);
        loop {
            let next = tat.max(now).saturating_add(self.interval);
            if next - now > self.tolerance {
                return false;
            }
            match self
                .tat
                .compare_exchange_weak(tat, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(actual) => tat = actual,
            }
        }
    }
}

/// One bucket as the data plane takes from it.
pub trait TokenBucket: Send + Sync + std::fmt::Debug {
    /// Takes one token at time `now` (ns on [`now_ns`]'s clock), if there is one, from
    /// local state only.
    fn try_take(&self, now: u64) -> bool;

    /// Takes one token, asking a shared bucket when local state cannot decide. A local
    /// bucket always decides at once.
    fn take(&self, now: u64) -> Decision<'_> {
        Decision::Ready(self.try_take(now).into())
    }
}

/// Where the data plane's buckets come from (asked while compiling, never per request).
pub trait Buckets: Send + Sync {
    /// The bucket of `scope` with these limits: the same one while the limits stay the
    /// same (its tokens carry over a recompile), a new full one when they change.
    fn bucket(&self, scope: String, rate: f64, burst: i64) -> Arc<dyn TokenBucket>;
}

impl TokenBucket for Bucket {
    fn try_take(&self, now: u64) -> bool {
        Bucket::try_take(self, now)
    }
}

/// A registered bucket: its rate (as bits), its burst, and the bucket while in use.
type Entry<B> = (u64, i64, Weak<B>);

/// This process's buckets by scope, shared across runtime rebuilds. Only touched while
/// compiling. Generic over the bucket, so a shared implementation keeps the same rules.
pub struct Registry<B> {
    buckets: Mutex<HashMap<String, Entry<B>>>,
}

impl<B> Default for Registry<B> {
    fn default() -> Self {
        Registry {
            buckets: Mutex::new(HashMap::new()),
        }
    }
}

impl<B> Registry<B> {
    /// The bucket for `scope` with these limits: the existing one if the limits are the
    /// same and it is still in use, else a new one from `make`.
    pub fn get_or(
        &self,
        scope: String,
        rate: f64,
        burst: i64,
        make: impl FnOnce(&str) -> B,
    ) -> Arc<B> {
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((r, b, weak)) = map.get(&scope) {
            if *r == rate.to_bits() && *b == burst {
                if let Some(bucket) = weak.upgrade() {
                    return bucket;
                }
            }
        }
        let bucket = Arc::new(make(&scope));
        map.insert(scope, (rate.to_bits(), burst, Arc::downgrade(&bucket)));
        if map.len() > 4096 {
            map.retain(|_, (_, _, w)| w.strong_count() > 0);
        }
        bucket
    }
}

/// This process's local GCRA buckets.
pub type BucketRegistry = Registry<Bucket>;

impl Registry<Bucket> {
    /// The bucket for `scope` with these limits: the existing one if the limits are the
    /// same and it is still in use, else a new full one.
    pub fn get(&self, scope: String, rate: f64, burst: i64) -> Arc<Bucket> {
        self.get_or(scope, rate, burst, |_| Bucket::new(rate, burst))
    }
}

impl Buckets for BucketRegistry {
    fn bucket(&self, scope: String, rate: f64, burst: i64) -> Arc<dyn TokenBucket> {
        self.get(scope, rate, burst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn burst_then_rate() {
        let b = Bucket::new(2.0, 3);
        let t0 = 10 * S;
        assert!((0..3).all(|_| b.try_take(t0)));
        assert!(!b.try_take(t0));
        // Half a second later one token (rate 2/s) has come back.
        assert!(b.try_take(t0 + S / 2));
        assert!(!b.try_take(t0 + S / 2));
        // A long idle refills to the burst, not beyond.
        let t1 = t0 + 100 * S;
        assert_eq!((0..10).filter(|_| b.try_take(t1)).count(), 3);
    }

    #[test]
    fn fractional_rate() {
        let b = Bucket::new(0.5, 1);
        assert!(b.try_take(0));
        assert!(!b.try_take(S));
        assert!(b.try_take(2 * S));
    }

    #[test]
    fn zero_limits_admit_nothing() {
        assert!(!Bucket::new(0.0, 10).try_take(S));
        assert!(!Bucket::new(10.0, 0).try_take(S));
        assert!(!Bucket::new(f64::NAN, 10).try_take(S));
    }

    #[test]
    fn never_above_burst_plus_rate_times_elapsed_under_concurrency() {
        let (rate, burst) = (1000.0, 50);
        let b = Arc::new(Bucket::new(rate, burst));
        let start = now_ns();
        let admitted: usize = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|_| {
                    let b = b.clone();
                    s.spawn(move || (0..20_000).filter(|_| b.try_take(now_ns())).count())
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        });
        let elapsed = (now_ns() - start) as f64 / 1e9;
        let bound = burst as f64 + rate * elapsed;
        assert!(
            admitted as f64 <= bound + 1.0,
            "admitted {admitted} > bound {bound}"
        );
        assert!(admitted >= burst as usize);
    }

    #[test]
    fn registry_keeps_state_unless_limits_change() {
        let r = BucketRegistry::default();
        let a = r.get("s".into(), 1.0, 1);
        assert!(a.try_take(S));
        let same = r.get("s".into(), 1.0, 1);
        assert!(Arc::ptr_eq(&a, &same));
        let changed = r.get("s".into(), 2.0, 1);
        assert!(!Arc::ptr_eq(&a, &changed));
        assert!(changed.try_take(S));
    }
}
