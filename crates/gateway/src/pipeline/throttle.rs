//! Throttling and quota phase: one token from every bucket that applies, in AWS's order
//! (usage plan per method, usage plan, stage method, account), then the key's quota.

use tollgate_model::GatewayResponseType as T;

use crate::error::GatewayError;
use crate::router::method_slot;
use crate::runtime::{KeyBinding, MethodBuckets, StageLimits};
use tollgate_store::limit::Verdict;
use tollgate_store::throttle::{now_ns, TokenBucket};

fn throttled() -> GatewayError {
    GatewayError::new(T::Throttled, "Too Many Requests")
}

/// A shared limit that could not be asked, on a node that fails closed.
fn unavailable() -> GatewayError {
    GatewayError::new(T::Default5xx, "Service Unavailable").with_status(503)
}

/// One token from `bucket` (none set: admitted), waiting only when a shared bucket must
/// be asked.
async fn take(bucket: Option<&dyn TokenBucket>, now: u64) -> Result<(), GatewayError> {
    let Some(b) = bucket else { return Ok(()) };
    match b.take(now).verdict().await {
        Verdict::Admit => Ok(()),
        Verdict::Refuse => Err(throttled()),
        Verdict::Unavailable => Err(unavailable()),
    }
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
    if let Some(k) = key {
        take(method_bucket(&k.method_buckets, resource_path, slot), now).await?;
        take(k.plan_bucket.as_deref(), now).await?;
    }
    take(
        method_bucket(&limits.method_buckets, resource_path, slot),
        now,
    )
    .await?;
    take(Some(limits.account.as_ref()), now).await?;
    if let Some(k) = key {
        let today = tollgate_model::time::now_epoch().div_euclid(86_400);
        match k.counter.consume(today, k.quota.as_ref()).verdict().await {
            Verdict::Admit => {}
            Verdict::Refuse => return Err(GatewayError::new(T::QuotaExceeded, "Limit Exceeded")),
            Verdict::Unavailable => return Err(unavailable()),
        }
    }
    Ok(())
}
