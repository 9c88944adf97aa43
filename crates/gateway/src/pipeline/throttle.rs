//! Throttling and quota phase: one token from every bucket that applies, in AWS's order
//! (usage plan per method, usage plan, stage method, account), then the key's quota.

use tollgate_model::GatewayResponseType as T;

use crate::error::GatewayError;
use crate::router::method_slot;
use crate::runtime::{KeyBinding, MethodBuckets, StageLimits};
use tollgate_store::throttle::{now_ns, TokenBucket};

fn throttled() -> GatewayError {
    GatewayError::new(T::Throttled, "Too Many Requests")
}

fn method_bucket<'b>(
    buckets: &'b MethodBuckets,
    resource_path: &str,
    slot: usize,
) -> Option<&'b dyn TokenBucket> {
    buckets.get(resource_path).and_then(|m| m[slot].as_deref())
}

pub fn check(
    limits: &StageLimits,
    key: Option<&KeyBinding>,
    resource_path: &str,
    http_method: &str,
) -> Result<(), GatewayError> {
    let now = now_ns();
    let slot = method_slot(http_method).unwrap_or(0);
    let take = |b: Option<&dyn TokenBucket>| b.is_none_or(|b| b.try_take(now));
    if let Some(k) = key {
        if !take(method_bucket(&k.method_buckets, resource_path, slot))
            || !take(k.plan_bucket.as_deref())
        {
            return Err(throttled());
        }
    }
    if !take(method_bucket(&limits.method_buckets, resource_path, slot))
        || !take(Some(limits.account.as_ref()))
    {
        return Err(throttled());
    }
    if let Some(k) = key {
        let today = tollgate_model::time::now_epoch().div_euclid(86_400);
        if !k.counter.try_consume(today, k.quota.as_ref()) {
            return Err(GatewayError::new(T::QuotaExceeded, "Limit Exceeded"));
        }
    }
    Ok(())
}
