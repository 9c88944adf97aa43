//! Usage counters for usage-plan quotas and GetUsage: requests per API key, per plan, per
//! UTC day.
//!
//! [`UsageCounters`] is the seam for a shared backend (Redis, for several gateway nodes).
//! [`LocalUsage`] keeps the counts in memory, with one small lock per key (never a global
//! lock on the request path), and saves what was added since the last save to the store in
//! batches ([`spawn_flusher`], every second): a `kill -9` can lose at most the last second
//! of counts. Saves are increments (`used = used + delta`), so two processes counting the
//! same key add up instead of overwriting each other.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tollgate_model::usage_plan::quota_period;
use tollgate_model::QuotaPeriodType;

use crate::backend::UsageRow;
use crate::error::StoreError;
use crate::limit::Decision;
use crate::store::Store;

/// A quota as enforced: `limit` requests per `period`; `offset` requests are already used
/// in the first period (the one containing `first_day`, when the plan was created).
#[derive(Debug, Clone, PartialEq)]
pub struct Quota {
    pub limit: i64,
    pub offset: i64,
    pub period: QuotaPeriodType,
    pub first_day: i64,
}

impl Quota {
    fn offset_for(&self, period_start: i64) -> i64 {
        let (first_start, _) = quota_period(self.period, self.first_day);
        if period_start == first_start {
            self.offset
        } else {
            0
        }
    }
}

pub trait KeyCounter: Send + Sync {
    /// Counts one request on `day` if the quota (if any) has room; `false` when it has not.
    /// Local state only.
    fn try_consume(&self, day: i64, quota: Option<&Quota>) -> bool;

    /// [`KeyCounter::try_consume`], asking a shared counter when the quota must hold
    /// across nodes. A local counter always decides at once.
    fn consume<'a>(&'a self, day: i64, quota: Option<&'a Quota>) -> Decision<'a> {
        Decision::Ready(self.try_consume(day, quota).into())
    }
}

pub trait UsageCounters: Send + Sync {
    /// The counter of one key under one plan (resolved once, used per request).
    fn counter(&self, plan_id: &str, key_id: &str) -> Arc<dyn KeyCounter>;
    /// `[used, remaining]` per day from `from` to `to` (inclusive).
    fn daily(
        &self,
        plan_id: &str,
        key_id: &str,
        from: i64,
        to: i64,
        quota: Option<&Quota>,
    ) -> Vec<[i64; 2]>;
    /// Keys with recorded usage under a plan.
    fn keys(&self, plan_id: &str) -> Vec<String>;
    /// Makes `remaining` requests left in the period containing `day` (UpdateUsage). The
    /// node's own counts change at once; what is returned, when anything is, writes the
    /// shared counter, so UpdateUsage answers only once every node would see it.
    fn set_remaining(
        &self,
        plan_id: &str,
        key_id: &str,
        day: i64,
        quota: &Quota,
        remaining: i64,
    ) -> Option<SharedWrite>;
}

/// A write to state shared between nodes, awaited before the control-plane call answers.
pub type SharedWrite = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

#[derive(Default)]
struct Days {
    used: BTreeMap<i64, i64>,
    /// What this process added to (or, by UpdateUsage, took from) each day since its last
    /// save.
    unsaved: BTreeMap<i64, i64>,
}

impl Days {
    fn add(&mut self, day: i64, n: i64) {
        *self.used.entry(day).or_insert(0) += n;
        *self.unsaved.entry(day).or_insert(0) += n;
    }

    fn period_used(&self, start: i64, day: i64) -> i64 {
        self.used.range(start..=day).map(|(_, n)| n).sum()
    }
}

pub struct LocalCounter {
    days: Mutex<Days>,
}

impl LocalCounter {
    /// Requests counted in the quota's period containing `day`, the plan's offset included.
    pub fn period_used(&self, day: i64, quota: &Quota) -> i64 {
        let d = self.days.lock().unwrap_or_else(|p| p.into_inner());
        let (start, _) = quota_period(quota.period, day);
        d.period_used(start, day) + quota.offset_for(start)
    }
}

impl KeyCounter for LocalCounter {
    fn try_consume(&self, day: i64, quota: Option<&Quota>) -> bool {
        let mut d = self.days.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(q) = quota {
            let (start, _) = quota_period(q.period, day);
            if d.period_used(start, day) + q.offset_for(start) >= q.limit {
                return false;
            }
        }
        d.add(day, 1);
        true
    }
}

type Key = (String, String);

/// In-memory counters of this process, persisted through the store.
#[derive(Default)]
pub struct LocalUsage {
    counters: RwLock<HashMap<Key, Arc<LocalCounter>>>,
}

impl LocalUsage {
    /// Counters as last saved in the store.
    pub async fn load(store: &Store) -> Result<Self, StoreError> {
        let usage = LocalUsage::default();
        for r in store.load_usage().await? {
            let c = usage.local(&r.plan_id, &r.key_id);
            c.days
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .used
                .insert(r.day, r.used);
        }
        Ok(usage)
    }

    /// The in-memory counter of one key under one plan.
    pub fn local(&self, plan_id: &str, key_id: &str) -> Arc<LocalCounter> {
        let key = (plan_id.to_string(), key_id.to_string());
        if let Some(c) = self
            .counters
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return c.clone();
        }
        let mut w = self.counters.write().unwrap_or_else(|p| p.into_inner());
        w.entry(key)
            .or_insert_with(|| {
                Arc::new(LocalCounter {
                    days: Mutex::new(Days::default()),
                })
            })
            .clone()
    }

    /// What was counted since the last call, as increments to save.
    pub fn take_unsaved(&self) -> Vec<UsageRow> {
        let counters = self.counters.read().unwrap_or_else(|p| p.into_inner());
        let mut rows = vec![];
        for ((plan, key), c) in counters.iter() {
            let mut d = c.days.lock().unwrap_or_else(|p| p.into_inner());
            for (day, used) in std::mem::take(&mut d.unsaved) {
                if used == 0 {
                    continue;
                }
                rows.push(UsageRow {
                    plan_id: plan.clone(),
                    key_id: key.clone(),
                    day,
                    used,
                });
            }
        }
        rows
    }

    /// Replaces the counts with the store's (`rows`, what every node saved) plus what this
    /// process counted and has not saved yet: how a cluster node sees the others' usage.
    pub fn reload(&self, rows: Vec<UsageRow>) {
        let mut saved: HashMap<Key, BTreeMap<i64, i64>> = HashMap::new();
        for r in rows {
            saved
                .entry((r.plan_id, r.key_id))
                .or_default()
                .insert(r.day, r.used);
        }
        for (plan, key) in saved.keys() {
            self.local(plan, key);
        }
        let counters = self.counters.read().unwrap_or_else(|p| p.into_inner());
        for (key, c) in counters.iter() {
            let mut used = saved.remove(key).unwrap_or_default();
            let mut d = c.days.lock().unwrap_or_else(|p| p.into_inner());
            for (day, n) in &d.unsaved {
                *used.entry(*day).or_insert(0) += n;
            }
            d.used = used;
        }
    }

    /// Saves what was counted since the last save (also called on shutdown).
    pub async fn flush(&self, store: &Store) {
        let rows = self.take_unsaved();
        let n = rows.len();
        if let Err(e) = store.add_usage(rows.clone()).await {
            tracing::error!(error = %e, rows = n, "could not save usage counts; will retry");
            // Keep the increments so the next flush retries them.
            for r in rows {
                let c = self.local(&r.plan_id, &r.key_id);
                let mut d = c.days.lock().unwrap_or_else(|p| p.into_inner());
                *d.unsaved.entry(r.day).or_insert(0) += r.used;
            }
        }
    }
}

impl UsageCounters for LocalUsage {
    fn counter(&self, plan_id: &str, key_id: &str) -> Arc<dyn KeyCounter> {
        self.local(plan_id, key_id)
    }

    fn daily(
        &self,
        plan_id: &str,
        key_id: &str,
        from: i64,
        to: i64,
        quota: Option<&Quota>,
    ) -> Vec<[i64; 2]> {
        let c = self.local(plan_id, key_id);
        let d = c.days.lock().unwrap_or_else(|p| p.into_inner());
        (from..=to)
            .map(|day| {
                let used = d.used.get(&day).copied().unwrap_or(0);
                let remaining = quota.map_or(0, |q| {
                    let (start, _) = quota_period(q.period, day);
                    (q.limit - q.offset_for(start) - d.period_used(start, day)).max(0)
                });
                [used, remaining]
            })
            .collect()
    }

    fn keys(&self, plan_id: &str) -> Vec<String> {
        let counters = self.counters.read().unwrap_or_else(|p| p.into_inner());
        let mut keys: Vec<String> = counters
            .keys()
            .filter(|(p, _)| p == plan_id)
            .map(|(_, k)| k.clone())
            .collect();
        keys.sort();
        keys
    }

    fn set_remaining(
        &self,
        plan_id: &str,
        key_id: &str,
        day: i64,
        quota: &Quota,
        remaining: i64,
    ) -> Option<SharedWrite> {
        let c = self.local(plan_id, key_id);
        let mut d = c.days.lock().unwrap_or_else(|p| p.into_inner());
        let (start, _) = quota_period(quota.period, day);
        let target = (quota.limit - quota.offset_for(start) - remaining).max(0);
        let mut delta = target - d.period_used(start, day);
        // Add to today; take away from the latest days first.
        if delta > 0 {
            d.add(day, delta);
        } else {
            let mut taken = vec![];
            for (dd, n) in d.used.range(start..=day).rev() {
                if delta == 0 {
                    break;
                }
                let take = (-delta).min(*n);
                delta += take;
                taken.push((*dd, take));
            }
            for (dd, take) in taken {
                d.add(dd, -take);
            }
        }
        None
    }
}

/// Saves changed usage every `every` until the process ends; with `reload` (a store shared
/// by several nodes), then reloads every node's saved counts, so this node's GetUsage shows
/// the others' requests.
pub fn spawn_flusher(store: Arc<Store>, usage: Arc<LocalUsage>, every: Duration, reload: bool) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            usage.flush(&store).await;
            if !reload {
                continue;
            }
            match store.load_usage().await {
                Ok(rows) => usage.reload(rows),
                Err(e) => tracing::warn!(error = %e, "could not reload usage counts"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(limit: i64, offset: i64, period: QuotaPeriodType) -> Quota {
        Quota {
            limit,
            offset,
            period,
            first_day: 100,
        }
    }

    #[test]
    fn quota_stops_at_limit_and_resets_next_period() {
        let u = LocalUsage::default();
        let c = u.counter("p", "k");
        let q = quota(3, 0, QuotaPeriodType::Day);
        assert!((0..3).all(|_| c.try_consume(100, Some(&q))));
        assert!(!c.try_consume(100, Some(&q)));
        assert!(c.try_consume(101, Some(&q)));
        assert_eq!(
            u.daily("p", "k", 100, 102, Some(&q)),
            vec![[3, 0], [1, 2], [0, 3]]
        );
    }

    #[test]
    fn reload_shows_saved_counts_plus_unsaved_ones() {
        let u = LocalUsage::default();
        let c = u.counter("p", "k");
        assert!(c.try_consume(100, None));
        let saved = |day, used| UsageRow {
            plan_id: "p".into(),
            key_id: "k".into(),
            day,
            used,
        };
        // Another node saved 7 on day 100 and 2 on day 99; this one has 1 unsaved.
        u.reload(vec![saved(100, 7), saved(99, 2)]);
        assert_eq!(u.daily("p", "k", 99, 100, None), vec![[2, 0], [8, 0]]);
        assert_eq!(u.take_unsaved().iter().map(|r| r.used).sum::<i64>(), 1);
        // A reload after the save no longer adds it.
        u.reload(vec![saved(100, 8)]);
        assert_eq!(u.daily("p", "k", 99, 100, None), vec![[0, 0], [8, 0]]);
    }

    #[test]
    fn offset_applies_to_the_first_period_only() {
        let u = LocalUsage::default();
        let c = u.counter("p", "k");
        let q = quota(3, 2, QuotaPeriodType::Day);
        assert!(c.try_consume(100, Some(&q)));
        assert!(!c.try_consume(100, Some(&q)));
        assert!((0..3).all(|_| c.try_consume(101, Some(&q))));
    }

    #[test]
    fn weekly_quota_spans_days() {
        let u = LocalUsage::default();
        let c = u.counter("p", "k");
        // Day 4 (1970-01-05) is a Monday.
        let q = Quota {
            limit: 2,
            offset: 0,
            period: QuotaPeriodType::Week,
            first_day: 0,
        };
        assert!(c.try_consume(4, Some(&q)) && c.try_consume(6, Some(&q)));
        assert!(!c.try_consume(10, Some(&q)));
        assert!(c.try_consume(11, Some(&q)));
    }

    #[test]
    fn update_usage_sets_remaining() {
        let u = LocalUsage::default();
        let c = u.counter("p", "k");
        let q = quota(10, 0, QuotaPeriodType::Month);
        for _ in 0..4 {
            c.try_consume(100, Some(&q));
        }
        u.set_remaining("p", "k", 100, &q, 9);
        assert_eq!(u.daily("p", "k", 100, 100, Some(&q)), vec![[1, 9]]);
        u.set_remaining("p", "k", 100, &q, 0);
        assert_eq!(u.daily("p", "k", 100, 100, Some(&q)), vec![[10, 0]]);
        assert!(!c.try_consume(100, Some(&q)));
    }

    #[tokio::test]
    async fn counts_survive_a_flush_and_reload() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let u = LocalUsage::load(&store).await.unwrap();
        let c = u.counter("p", "k");
        for _ in 0..5 {
            c.try_consume(100, None);
        }
        u.flush(&store).await;
        assert!(u.take_unsaved().is_empty());
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        let u2 = LocalUsage::load(&store).await.unwrap();
        assert_eq!(u2.daily("p", "k", 100, 100, None), vec![[5, 0]]);
        assert_eq!(u2.keys("p"), vec!["k".to_string()]);
    }

    #[tokio::test]
    async fn two_processes_add_up_instead_of_overwriting() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        // Two counters that started from the same saved count, as two nodes would.
        let a = LocalUsage::load(&store).await.unwrap();
        let b = LocalUsage::load(&store).await.unwrap();
        for _ in 0..3 {
            a.counter("p", "k").try_consume(100, None);
        }
        for _ in 0..4 {
            b.counter("p", "k").try_consume(100, None);
        }
        a.flush(&store).await;
        b.flush(&store).await;
        // UpdateUsage on one of them is an increment too (here: -2).
        let q = quota(100, 0, QuotaPeriodType::Day);
        a.set_remaining("p", "k", 100, &q, 99);
        a.flush(&store).await;
        let reloaded = LocalUsage::load(&store).await.unwrap();
        assert_eq!(reloaded.daily("p", "k", 100, 100, None), vec![[5, 0]]);
    }

    #[test]
    fn concurrent_consumers_never_exceed_the_quota() {
        let u = Arc::new(LocalUsage::default());
        let q = quota(1000, 0, QuotaPeriodType::Day);
        let admitted: usize = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|_| {
                    let c = u.counter("p", "k");
                    let q = q.clone();
                    s.spawn(move || (0..500).filter(|_| c.try_consume(100, Some(&q))).count())
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(admitted, 1000);
    }
}
