//! The cache lookup and cache store phases of REST methods (auth-throttle-cache.md §4):
//! the key, `Cache-Control: max-age=0` invalidation and who may ask for it, answering a
//! hit (a non-proxy output is mapped again, as AWS does), and keeping a response of at
//! most [`MAX_ENTRY`] bytes.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Response};
use http_body::Body as _;
use http_body_util::BodyExt;
use tollgate_model::{
    GatewayResponseType as T, UnauthorizedCacheControlHeaderStrategy as Strategy,
};

use super::authorize::{method_arn, region};
use super::method_request::{parse_query, Params, Routed};
use crate::body::GatewayBody;
use crate::compile::cache_key::{CacheKeySpec, KeyParameter};
use crate::compile::stage_cache::MethodCaching;
use crate::error::GatewayError;
use crate::invocation::{IntegrationOutput, Invocation, Selection};
use crate::response_cache::{CachedResponse, KeptSelection, MAX_ENTRY};
use crate::response_case::ResponseSpellings;
use crate::Gateway;

/// The warning a response carries when its `Cache-Control: max-age=0` was ignored
/// (`SUCCEED_WITH_RESPONSE_HEADER`). AWS's exact text is not recorded.
pub const IGNORED_INVALIDATION: &str =
    "199 - \"Cache invalidation ignored: not authorized for execute-api:InvalidateCache\"";

/// What the lookup decided for the phases after it.
pub struct Pending {
    pub key: Box<str>,
    pub ttl: Duration,
    /// What to keep once the integration answered.
    pub keep: Keep,
    /// The client asked to invalidate and may not: add the warning header.
    pub warn: bool,
}

/// What the store phase keeps.
pub enum Keep {
    /// The proxy response (the integration answered one).
    Response,
    /// The non-proxy output the integration phase set aside.
    Output(Arc<CachedResponse>),
    /// Nothing (an output not worth keeping).
    Nothing,
}

/// The lookup's answer.
pub enum Looked {
    /// The method does not cache.
    Skip,
    /// Answered from the cache.
    Hit(Response<GatewayBody>),
    /// Call the integration, then keep its answer under this key.
    Miss(Pending),
}

/// Whether the client sent `Cache-Control: max-age=0`.
fn wants_invalidation(headers: &http::HeaderMap) -> bool {
    // A pass over a request's few headers costs less than a hashed lookup.
    if headers.len() <= 16
        && !headers
            .keys()
            .any(|name| *name == http::header::CACHE_CONTROL)
    {
        return false;
    }
    headers
        .get_all(http::header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|d| d.trim().eq_ignore_ascii_case("max-age=0"))
}

/// The entry's key: the canary's prefix, the namespace, the method, and each key
/// parameter's value (absent and empty differ).
fn key(
    prefix: Option<&str>,
    spec: &CacheKeySpec,
    verb: &str,
    routed: &Routed,
    query: &[(String, String)],
    headers: &http::HeaderMap,
) -> String {
    let mut k = String::with_capacity(64);
    if let Some(p) = prefix {
        k.push_str(p);
        k.push('\u{0}');
    }
    k.push_str(&spec.namespace);
    k.push('\u{0}');
    k.push_str(verb);
    for p in &spec.parameters {
        let value = match p {
            KeyParameter::Path(n) => routed
                .path_params
                .iter()
                .find(|(name, _)| **name == **n)
                .map(|(_, v)| v.as_str()),
            KeyParameter::Query(n) => query
                .iter()
                .rev()
                .find(|(name, _)| name == &**n)
                .map(|(_, v)| v.as_str()),
            KeyParameter::Header(h) => headers.get(h).and_then(|v| v.to_str().ok()),
        };
        k.push('\u{0}');
        if let Some(v) = value {
            k.push('=');
            k.push_str(v);
        }
    }
    k
}

/// Whether the caller may invalidate: an IAM caller (an `AWS_IAM` method) whose policies
/// allow `execute-api:InvalidateCache` on the method.
fn may_invalidate(gw: &Gateway, inv: &Invocation<'_>) -> bool {
    let Some(caller) = inv.ctx.iam.as_deref() else {
        return false;
    };
    let arn = method_arn(region(gw), inv);
    let keys = super::resource_policy::Conditions(inv, Some(caller));
    caller.decide("execute-api:InvalidateCache", arn.as_str(), &keys)
        == tollgate_policy::Decision::Allow
}

/// The cache lookup phase.
pub async fn lookup(
    gw: &Gateway,
    inv: &mut Invocation<'_>,
    routed: &Routed,
    query: &mut Vec<(String, String)>,
) -> Result<Looked, GatewayError> {
    let Some(scope) = inv.cache else {
        return Ok(Looked::Skip);
    };
    let method = &routed.method;
    let (Some(spec), Ok(integration)) = (&method.cache_key, &method.integration) else {
        return Ok(Looked::Skip);
    };
    let Some(MethodCaching {
        ttl,
        require_authorization,
        unauthorized,
    }) = scope.cache.method(
        &routed.route.resource_path,
        &method.http_method,
        &inv.parts.method,
    )
    else {
        return Ok(Looked::Skip);
    };
    let reads_query = spec
        .parameters
        .iter()
        .any(|p| matches!(p, KeyParameter::Query(_)));
    if reads_query && query.is_empty() {
        *query = parse_query(inv.parts.uri.query());
    }
    // Kept as built until a miss keeps it (a `Box<str>` would reallocate it on every hit).
    let key = key(
        scope.prefix,
        spec,
        inv.parts.method.as_str(),
        routed,
        query.as_slice(),
        &inv.parts.headers,
    );
    let mut warn = false;
    if wants_invalidation(&inv.parts.headers) {
        if !require_authorization || may_invalidate(gw, inv) {
            // Skip the lookup: the backend's answer replaces the entry.
            inv.ctx.response_cache = Some(crate::context::CacheOutcome::Miss);
            return Ok(Looked::Miss(Pending {
                key: key.into(),
                ttl,
                keep: Keep::Response,
                warn,
            }));
        }
        match unauthorized {
            Strategy::FailWith403 => {
                let who = inv.ctx.iam.as_deref().map_or("anonymous", |c| &*c.arn);
                let arn = method_arn(region(gw), inv);
                return Err(GatewayError::new(
                    T::AccessDenied,
                    format!(
                        "User: {who} is not authorized to perform: execute-api:InvalidateCache on resource: {}",
                        arn.as_str()
                    ),
                ));
            }
            Strategy::SucceedWithResponseHeader => warn = true,
            Strategy::SucceedWithoutResponseHeader => {}
        }
    }
    match scope.cache.store.get(&key).resolve().await {
        Some(hit) => {
            inv.ctx.response_cache = Some(crate::context::CacheOutcome::Hit);
            let mut resp = match &*hit {
                CachedResponse::Output {
                    status,
                    headers,
                    body,
                    selection,
                    overrides,
                } => {
                    let out = IntegrationOutput {
                        status: *status,
                        headers: headers.clone(),
                        body: body.clone(),
                        selection: match selection {
                            KeptSelection::Status => Selection::Status,
                            KeptSelection::Default => Selection::Default,
                        },
                        overrides: overrides.clone(),
                    };
                    let params = Params {
                        path: &routed.path_params,
                        query: query.as_slice(),
                        headers: &inv.parts.headers,
                    };
                    super::integration_response::apply(inv, integration, &params, out)?
                }
                CachedResponse::Response {
                    status,
                    headers,
                    body,
                    spellings,
                } => {
                    let mut r = Response::new(GatewayBody::from_bytes(body.clone()));
                    *r.status_mut() = http::StatusCode::from_u16(*status)
                        .map_err(|_| GatewayError::internal())?;
                    *r.headers_mut() = headers.clone();
                    ResponseSpellings::attach(spellings.clone(), &mut r);
                    r
                }
            };
            if warn {
                warn_ignored(&mut resp);
            }
            Ok(Looked::Hit(resp))
        }
        None => {
            inv.ctx.response_cache = Some(crate::context::CacheOutcome::Miss);
            Ok(Looked::Miss(Pending {
                key: key.into(),
                ttl,
                keep: Keep::Response,
                warn,
            }))
        }
    }
}

pub fn warn_ignored(resp: &mut Response<GatewayBody>) {
    resp.headers_mut().insert(
        http::header::WARNING,
        HeaderValue::from_static(IGNORED_INVALIDATION),
    );
}

/// What to keep of a non-proxy output: a success of at most [`MAX_ENTRY`] bytes.
pub fn keep_output(out: &IntegrationOutput) -> Keep {
    let selection = match &out.selection {
        Selection::Status => KeptSelection::Status,
        Selection::Default => KeptSelection::Default,
        // A function's error is not kept.
        Selection::ErrorMessage(_) => return Keep::Nothing,
    };
    if !(200..300).contains(&out.status) || out.body.len() > MAX_ENTRY {
        return Keep::Nothing;
    }
    Keep::Output(Arc::new(CachedResponse::Output {
        status: out.status,
        headers: out.headers.clone(),
        body: out.body.clone(),
        selection,
        overrides: out.overrides.clone(),
    }))
}

/// The cache store phase: keeps the non-proxy output the integration phase set aside, or
/// a proxy response of a known size of at most [`MAX_ENTRY`] bytes (read into memory to
/// keep it, then sent from there); anything larger or of unknown size streams through
/// untouched and is not kept.
pub async fn store(
    inv: &Invocation<'_>,
    pending: Pending,
    resp: Response<GatewayBody>,
    stall: Duration,
) -> Result<Response<GatewayBody>, GatewayError> {
    let Some(scope) = inv.cache else {
        return Ok(resp);
    };
    let mut resp = match pending.keep {
        Keep::Output(entry) => {
            scope.cache.store.put(pending.key, entry, pending.ttl);
            resp
        }
        Keep::Response => keep_proxy(scope, pending.key, pending.ttl, resp, stall).await?,
        Keep::Nothing => resp,
    };
    if pending.warn {
        warn_ignored(&mut resp);
    }
    Ok(resp)
}

async fn keep_proxy(
    scope: crate::compile::stage_cache::CacheScope<'_>,
    key: Box<str>,
    ttl: Duration,
    resp: Response<GatewayBody>,
    stall: Duration,
) -> Result<Response<GatewayBody>, GatewayError> {
    let small = resp
        .body()
        .size_hint()
        .exact()
        .is_some_and(|n| n <= MAX_ENTRY as u64);
    if !resp.status().is_success() || !small {
        return Ok(resp);
    }
    let (parts, body) = resp.into_parts();
    let bytes: Bytes = match tokio::time::timeout(stall, body.collect()).await {
        Ok(Ok(c)) => c.to_bytes(),
        _ => return Err(GatewayError::internal()),
    };
    let entry = CachedResponse::Response {
        status: parts.status.as_u16(),
        headers: parts.headers.clone(),
        body: bytes.clone(),
        spellings: parts.extensions.get::<ResponseSpellings>().cloned(),
    };
    scope.cache.store.put(key, Arc::new(entry), ttl);
    Ok(Response::from_parts(parts, GatewayBody::from_bytes(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalidation_is_max_age_zero_only() {
        let h = |v: &'static str| {
            let mut m = http::HeaderMap::new();
            m.insert(http::header::CACHE_CONTROL, HeaderValue::from_static(v));
            m
        };
        assert!(wants_invalidation(&h("max-age=0")));
        assert!(wants_invalidation(&h("no-store, MAX-AGE=0")));
        assert!(!wants_invalidation(&h("max-age=10")));
        assert!(!wants_invalidation(&http::HeaderMap::new()));
    }
}
