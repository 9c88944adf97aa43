//! Method response and response enrichment: header remapping, the headers API Gateway adds
//! to every response, and the access log line.

use std::net::SocketAddr;
use std::time::Instant;

use http::header::{HeaderName, HeaderValue};
use http::Response;
use http_body::Body;
use hyper::body::Incoming;

use crate::body::GatewayBody;
use crate::compile::CompiledDeployment;
use crate::context::RequestContext;
use crate::runtime::StageRuntime;
use crate::Gateway;

/// Response headers API Gateway renames to `x-amzn-Remapped-{name}` instead of passing
/// (plus a backend's own `x-amzn-RequestId`), with their new names, made once.
const REMAPPED: [(&str, &str); 15] = [
    ("authorization", "x-amzn-remapped-authorization"),
    ("connection", "x-amzn-remapped-connection"),
    ("content-length", "x-amzn-remapped-content-length"),
    ("content-md5", "x-amzn-remapped-content-md5"),
    ("date", "x-amzn-remapped-date"),
    ("expect", "x-amzn-remapped-expect"),
    ("host", "x-amzn-remapped-host"),
    ("max-forwards", "x-amzn-remapped-max-forwards"),
    ("proxy-authenticate", "x-amzn-remapped-proxy-authenticate"),
    ("server", "x-amzn-remapped-server"),
    ("trailer", "x-amzn-remapped-trailer"),
    ("upgrade", "x-amzn-remapped-upgrade"),
    ("user-agent", "x-amzn-remapped-user-agent"),
    ("www-authenticate", "x-amzn-remapped-www-authenticate"),
    ("x-amzn-requestid", "x-amzn-remapped-x-amzn-requestid"),
];

/// Backend response headers dropped by HTTP_PROXY (hop-by-hop).
const PROXY_DROPPED: [&str; 6] = [
    "via",
    "transfer-encoding",
    "keep-alive",
    "proxy-connection",
    "te",
    "expect",
];

/// The name a mapped or proxied response header goes out under.
pub fn remapped(name: &HeaderName) -> HeaderName {
    match REMAPPED.iter().find(|(from, _)| *from == name.as_str()) {
        Some((_, to)) => HeaderName::from_static(to),
        None => name.clone(),
    }
}

/// HTTP_PROXY method response: the backend's status and body as they are, its headers with
/// AWS's remapping.
pub fn proxy_response(resp: Response<Incoming>) -> Response<GatewayBody> {
    let (parts, body) = resp.into_parts();
    let mut out = Response::new(GatewayBody::Stream(body));
    *out.status_mut() = parts.status;
    let h = out.headers_mut();
    h.reserve(parts.headers.len() + 3);
    let mut last: Option<HeaderName> = None;
    for (name, value) in parts.headers {
        let name = match name {
            Some(n) => {
                last = Some(n.clone());
                n
            }
            None => match &last {
                Some(n) => n.clone(),
                None => continue,
            },
        };
        if PROXY_DROPPED.contains(&name.as_str()) || name.as_str().starts_with("proxy-") {
            continue;
        }
        h.append(remapped(&name), value);
    }
    out
}

/// The `$context` of a request entering the pipeline; `stage_path` is `/{stage}/...` as
/// the client sent it and `domain_name` the host it was sent to.
pub fn new_context(
    parts: &http::request::Parts,
    stage_path: &str,
    domain_name: &str,
    stage: &std::sync::Arc<str>,
    deployment: &CompiledDeployment,
    is_canary: Option<bool>,
    remote: SocketAddr,
) -> RequestContext {
    let now = tollgate_model::time::now_epoch_millis();
    let user_agent = parts
        .headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let trace_id = trace_id(
        parts
            .headers
            .get("x-amzn-trace-id")
            .and_then(|v| v.to_str().ok()),
        now,
    );
    RequestContext {
        request_id: uuid::Uuid::new_v4().to_string(),
        extended_request_id: tollgate_model::ids::extended_request_id(),
        api_id: deployment.api_id.clone(),
        stage: stage.clone(),
        deployment_id: deployment.deployment_id.clone(),
        resource_id: None,
        resource_path: None,
        http_method: parts.method.clone(),
        path: stage_path.to_string(),
        protocol: match parts.version {
            http::Version::HTTP_2 => "HTTP/2.0",
            http::Version::HTTP_10 => "HTTP/1.0",
            _ => "HTTP/1.1",
        },
        request_time_epoch: now,
        source_ip: remote.ip().to_string(),
        user_agent,
        domain_name: domain_name.to_string(),
        domain_prefix: domain_name
            .split('.')
            .next()
            .unwrap_or_default()
            .to_string(),
        is_canary,
        trace_id,
        status: 0,
        response_length: 0,
        response_latency_ms: 0,
        integration_latency_ms: None,
        integration_status: None,
        error: None,
        api_key: None,
        authorizer: None,
        execution_log: None,
    }
}

/// `Root=1-{epoch hex}-{24 hex};Parent={16 hex};Sampled=0`, keeping an incoming Root.
fn trace_id(incoming: Option<&str>, now_ms: i64) -> String {
    let parent = format!("{:016x}", rand::random::<u64>());
    let root = incoming
        .and_then(|t| {
            t.split(';')
                .find_map(|p| p.trim().strip_prefix("Root="))
                .map(str::to_string)
        })
        .unwrap_or_else(|| {
            let r: u128 = rand::random();
            format!("1-{:08x}-{:024x}", now_ms / 1000, r & ((1u128 << 96) - 1))
        });
    let sampled = incoming
        .and_then(|t| t.split(';').find_map(|p| p.trim().strip_prefix("Sampled=")))
        .unwrap_or("0");
    format!("Root={root};Parent={parent};Sampled={sampled}")
}

/// The request id headers for responses sent before a request has a `$context` (unknown
/// API or stage, oversized head).
pub fn bare(mut resp: Response<GatewayBody>) -> Response<GatewayBody> {
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        h.insert("x-amzn-requestid", v);
    }
    if let Ok(v) = HeaderValue::from_str(&tollgate_model::ids::extended_request_id()) {
        h.insert("x-amz-apigw-id", v);
    }
    resp
}

/// Adds the headers every REST response carries, records the outcome in `$context`, and
/// writes the access log line.
pub fn finish(
    gw: &Gateway,
    mut resp: Response<GatewayBody>,
    mut ctx: RequestContext,
    stage: &StageRuntime,
    variables: &std::collections::BTreeMap<String, String>,
    started: Instant,
) -> Response<GatewayBody> {
    let h = resp.headers_mut();
    if !h.contains_key(http::header::CONTENT_TYPE) {
        h.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
        h.insert("x-amzn-requestid", v);
    }
    if let Ok(v) = HeaderValue::from_str(&ctx.extended_request_id) {
        h.insert("x-amz-apigw-id", v);
    }
    ctx.status = resp.status().as_u16();
    ctx.response_length = resp.body().size_hint().exact().unwrap_or(0);
    ctx.response_latency_ms = started.elapsed().as_millis() as u64;
    if let Some(log) = &stage.access_log {
        gw.logs.write(log, log.render(&ctx, variables));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remapping() {
        assert_eq!(
            remapped(&HeaderName::from_static("date")).as_str(),
            "x-amzn-remapped-date"
        );
        assert_eq!(
            remapped(&HeaderName::from_static("x-amzn-requestid")).as_str(),
            "x-amzn-remapped-x-amzn-requestid"
        );
        assert_eq!(
            remapped(&HeaderName::from_static("x-custom")).as_str(),
            "x-custom"
        );
    }

    #[test]
    fn trace_ids() {
        let t = trace_id(None, 1_700_000_000_000);
        assert!(t.starts_with("Root=1-6553f100-"), "{t}");
        assert!(t.ends_with(";Sampled=0"));
        let t = trace_id(Some("Root=1-abc-def;Sampled=1"), 0);
        assert!(
            t.starts_with("Root=1-abc-def;Parent=") && t.ends_with("Sampled=1"),
            "{t}"
        );
    }
}
