//! Throttling and quota phase: one token from every bucket that applies, in AWS's order
//! (usage plan per method, usage plan, stage method, account), then the key's quota. In a
//! cluster, the buckets that must ask Redis share one round trip and the quota takes
//! another, only once every bucket admitted (a throttled request never counts).

use tollgate_model::GatewayResponseType as T;

use crate::error::GatewayError;
use crate::router::method_slot;
use crate::runtime::{KeyBinding, MethodBuckets, StageLimits};
use tollgate_store::limit::{Decision, Pending, Verdict};
use tollgate_store::throttle::{now_ns, TokenBucket};

fn throttled() -> GatewayError {
    GatewayError::new(T::Throttled, "Too Many Requests")
}

/// A shared limit that could not be asked, on a node that fails closed.
fn unavailable() -> GatewayError {
    GatewayError::new(T::Default5xx, "Service Unavailable").with_status(503)
}

fn answer(verdict: Verdict) -> Result<(), GatewayError> {
    match verdict {
        Verdict::Admit => Ok(()),
        Verdict::Refuse => Err(throttled()),
        Verdict::Unavailable => Err(unavailable()),
    }
}

/// A shared bucket's pending round trip, or nothing to wait for.
async fn pending(wait: Option<Pending<'_>>) -> Verdict {
    match wait {
        Some(f) => f.await,
        None => Verdict::Admit,
    }
}

/// One token from each bucket, in order. Local buckets answer at once (the first refusal
/// ends the check, before any later bucket is touched); the shared buckets that must ask
/// Redis are asked together, so their calls share one round trip.
async fn take_all(buckets: [Option<&dyn TokenBucket>; 4], now: u64) -> Result<(), GatewayError> {
    let mut waits: [Option<Pending<'_>>; 4] = Default::default();
    for (slot, bucket) in waits.iter_mut().zip(buckets) {
        match bucket.map(|b| b.take(now)) {
            None => {}
            Some(Decision::Ready(v)) => answer(v)?,
            Some(Decision::Wait(f)) => *slot = Some(f),
        }
    }
    if waits.iter().all(Option::is_none) {
        return Ok(());
    }
    let [a, b, c, d] = waits;
    let (a, b, c, d) = tokio::join!(pending(a), pending(b), pending(c), pending(d));
    [a, b, c, d].into_iter().try_for_each(answer)
}

fn method_bucket<'b>(
    buckets: &'b MethodBuckets,
    resource_path: &str,
    slot: usize,
) -> Option<&'b dyn TokenBucket> {
    buckets.get(resource_path).and_then(|m| m[slot].as_deref())
}

pub async fn check(
    limits: &StageLimits,
    key: Option<&KeyBinding>,
    resource_path: &str,
    http_method: &str,
) -> Result<(), GatewayError> {
    let now = now_ns();
    let slot = method_slot(http_method).unwrap_or(0);
    take_all(
        [
            key.and_then(|k| method_bucket(&k.method_buckets, resource_path, slot)),
            key.and_then(|k| k.plan_bucket.as_deref()),
            method_bucket(&limits.method_buckets, resource_path, slot),
            Some(limits.account.as_ref()),
        ],
        now,
    )
    .await?;
    match key {
        Some(k) => consume_quota(k).await,
        None => Ok(()),
    }
}

/// One request against the key's quota (counted only once every bucket admitted it).
async fn consume_quota(k: &KeyBinding) -> Result<(), GatewayError> {
    let today = tollgate_model::time::now_epoch().div_euclid(86_400);
    match k.counter.consume(today, k.quota.as_ref()).verdict().await {
        Verdict::Admit => Ok(()),
        Verdict::Refuse => Err(GatewayError::new(T::QuotaExceeded, "Limit Exceeded")),
        Verdict::Unavailable => Err(unavailable()),
    }
}

/// A WebSocket `$connect` or message of a connection admitted with an API key: the key's
/// usage-plan throttle, then its quota (a WebSocket API has no per-method plan limits).
pub async fn spend_plan(key: &KeyBinding) -> Result<(), GatewayError> {
    take_all([key.plan_bucket.as_deref(), None, None, None], now_ns()).await?;
    consume_quota(key).await
}
