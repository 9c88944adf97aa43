//! Compiled deployments kept across rebuilds: a deployment never changes, so one compiled
//! for an earlier runtime serves as long as the stage points at the same deployment.

use std::collections::HashMap;
use std::sync::Arc;

/// Compiled deployments by id, each with the deployment it came from.
pub type Compiled<D, C> = HashMap<String, (Arc<D>, Arc<C>)>;

/// The compiled form of deployment `id` (`d`): already compiled in this rebuild, else the
/// previous runtime's when it came from the same deployment, else `compile`d now.
pub fn compiled_for<D, C>(
    id: &str,
    d: &Arc<D>,
    now: &mut Compiled<D, C>,
    prev: Option<&Compiled<D, C>>,
    compile: impl FnOnce(&D) -> C,
) -> Arc<C> {
    if let Some((_, c)) = now.get(id) {
        return c.clone();
    }
    let reused = prev
        .and_then(|p| p.get(id))
        .filter(|(src, _)| Arc::ptr_eq(src, d))
        .map(|(_, c)| c.clone());
    let c = reused.unwrap_or_else(|| Arc::new(compile(d)));
    now.insert(id.to_string(), (d.clone(), c.clone()));
    c
}

/// The stages of an HTTP or WebSocket API that serve a deployment, each with its
/// deployment's id and the deployment. A stage not deployed yet serves nothing; one
/// pointing to a missing deployment is logged and skipped.
pub fn served_v2_stages(
    api: &tollgate_store::V2ApiState,
) -> impl Iterator<
    Item = (
        &String,
        &Arc<tollgate_model::v2::Stage>,
        &str,
        &Arc<tollgate_model::v2::Deployment>,
    ),
> {
    api.stages.iter().filter_map(|(name, st)| {
        let dep_id = st.deployment_id.as_deref()?;
        let Some(d) = api.deployments.get(dep_id) else {
            tracing::warn!(api = %api.definition.api.api_id, stage = %name, "stage points to a missing deployment; not served");
            return None;
        };
        Some((name, st, dep_id, d))
    })
}

/// The bucket of one route of an HTTP or WebSocket API stage: `routeSettings[key]` over
/// `defaultRouteSettings`, a limit neither sets taken from the account's; `None` when
/// neither sets a limit (only the account bucket applies).
pub fn route_bucket(
    api_id: &str,
    st: &tollgate_model::v2::Stage,
    route_key: &str,
    account: &tollgate_model::ThrottleSettings,
    buckets: &dyn tollgate_store::throttle::Buckets,
) -> Option<Arc<dyn tollgate_store::throttle::TokenBucket>> {
    let mut s = st.default_route_settings.clone();
    if let Some(own) = st.route_settings.get(route_key) {
        s.merge(own);
    }
    if s.throttling_burst_limit.is_none() && s.throttling_rate_limit.is_none() {
        return None;
    }
    let rate = s.throttling_rate_limit.unwrap_or(account.rate_limit);
    let burst = s.throttling_burst_limit.unwrap_or(account.burst_limit);
    let scope = format!(
        "httproute\u{0}{api_id}\u{0}{}\u{0}{route_key}",
        st.stage_name
    );
    Some(buckets.bucket(scope, rate, burst))
}
