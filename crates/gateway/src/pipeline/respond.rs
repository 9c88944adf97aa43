//! Method response and response enrichment: header remapping, the headers API Gateway adds
//! to every response, and the access log line.

use std::net::SocketAddr;
use std::time::Instant;

use http::header::{HeaderName, HeaderValue};
use http::Response;
use http_body::Body;

use crate::body::GatewayBody;
use crate::compile::CompiledDeployment;
use crate::context::RequestContext;
use crate::runtime::StageRuntime;
use crate::Gateway;

// Names made at compile time: a `&str` name is parsed again on every insert.
const X_AMZN_REQUESTID: HeaderName = HeaderName::from_static("x-amzn-requestid");
const X_AMZ_APIGW_ID: HeaderName = HeaderName::from_static("x-amz-apigw-id");

/// The names API Gateway gives the response headers it renames instead of passing
/// (`x-amzn-Remapped-{name}`, plus a backend's own `x-amzn-RequestId`), made when the
/// binary is compiled (`from_static` at run time would check every byte each call).
static REMAPPED: [HeaderName; 15] = [
    HeaderName::from_static("x-amzn-remapped-authorization"),
    HeaderName::from_static("x-amzn-remapped-connection"),
    HeaderName::from_static("x-amzn-remapped-content-length"),
    HeaderName::from_static("x-amzn-remapped-content-md5"),
    HeaderName::from_static("x-amzn-remapped-date"),
    HeaderName::from_static("x-amzn-remapped-expect"),
    HeaderName::from_static("x-amzn-remapped-host"),
    HeaderName::from_static("x-amzn-remapped-max-forwards"),
    HeaderName::from_static("x-amzn-remapped-proxy-authenticate"),
    HeaderName::from_static("x-amzn-remapped-server"),
    HeaderName::from_static("x-amzn-remapped-trailer"),
    HeaderName::from_static("x-amzn-remapped-upgrade"),
    HeaderName::from_static("x-amzn-remapped-user-agent"),
    HeaderName::from_static("x-amzn-remapped-www-authenticate"),
    HeaderName::from_static("x-amzn-remapped-x-amzn-requestid"),
];

/// Where `name` is in [`REMAPPED`]: a `match`, which compares lengths before bytes (this
/// runs for every header of every proxied response).
fn remapped_index(name: &str) -> Option<usize> {
    Some(match name {
        "authorization" => 0,
        "connection" => 1,
        "content-length" => 2,
        "content-md5" => 3,
        "date" => 4,
        "expect" => 5,
        "host" => 6,
        "max-forwards" => 7,
        "proxy-authenticate" => 8,
        "server" => 9,
        "trailer" => 10,
        "upgrade" => 11,
        "user-agent" => 12,
        "www-authenticate" => 13,
        "x-amzn-requestid" => 14,
        _ => return None,
    })
}

/// Backend response headers dropped by HTTP_PROXY (hop-by-hop).
fn proxy_dropped(name: &str) -> bool {
    matches!(
        name,
        "via" | "transfer-encoding" | "keep-alive" | "proxy-connection" | "te" | "expect"
    ) || name.starts_with("proxy-")
}

/// The name a mapped, proxied or function-set response header goes out under; `None` for
/// `Transfer-Encoding`, which API Gateway never passes (the gateway frames the body
/// itself: passing a mapped value would make an invalid `transfer-encoding: x, chunked`).
pub fn remapped(name: &HeaderName) -> Option<HeaderName> {
    if name == http::header::TRANSFER_ENCODING {
        return None;
    }
    Some(match remapped_index(name.as_str()) {
        Some(i) => REMAPPED[i].clone(),
        None => name.clone(),
    })
}

/// What a backend's response header goes out as on an HTTP API: as it is (a backend's
/// `Server` reaches the client, as seen on AWS), but for the hop-by-hop ones and those the
/// gateway writes itself (`Date`, and `Content-Length` from the body it sends).
pub fn http_api_passed(name: &HeaderName) -> Option<HeaderName> {
    const GATEWAY_OWN: [&str; 6] = [
        "connection",
        "content-length",
        "date",
        "transfer-encoding",
        "upgrade",
        "trailer",
    ];
    (!GATEWAY_OWN.contains(&name.as_str())).then(|| name.clone())
}

/// REST's HTTP_PROXY method response: the backend's status and body as they are, its
/// headers with AWS's remapping.
pub fn proxy_response(resp: Response<GatewayBody>) -> Response<GatewayBody> {
    proxy_response_by(resp, remapped)
}

/// What a proxied response header goes out as (`None`: dropped): REST's [`remapped`] or
/// HTTP APIs' [`http_api_passed`].
pub type NameRule = fn(&HeaderName) -> Option<HeaderName>;

/// The name a proxied backend's header goes out under by `rule`; hop-by-hop ones never.
pub(crate) fn proxied_name(name: &HeaderName, rule: NameRule) -> Option<HeaderName> {
    if proxy_dropped(name.as_str()) {
        return None;
    }
    rule(name)
}

/// A proxied backend's response: status and body as they are, each header renamed (or
/// dropped) by `rule`, hop-by-hop headers dropped. (The `http://` client does this as it
/// parses the answer: [`crate::integrations::http::HttpClient::send_proxied`].)
pub fn proxy_response_by(resp: Response<GatewayBody>, rule: NameRule) -> Response<GatewayBody> {
    let (parts, body) = resp.into_parts();
    let mut out = Response::new(body);
    *out.status_mut() = parts.status;
    // Names go out on HTTP/1.1 as the backend spelled them (AWS-rec): both clients answer
    // with the spellings as the response's only extension, passed on as it is.
    *out.extensions_mut() = parts.extensions;
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
        if let Some(name) = proxied_name(&name, rule) {
            h.append(name, value);
        }
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
    let now_secs = (now / 1000) as u64;
    let (amzn, w3c) = tollgate_traces::context::caller_headers(&parts.headers);
    let trace = tollgate_traces::TraceContext::incoming(amzn, w3c, now_secs);
    // The caller's decision; a stage that traces may sample the rest ([`RequestContext::sample`]).
    let sampled = trace.caller_sampled == Some(true);
    let trace_id = trace.amzn_header(sampled);
    RequestContext {
        request_id: crate::request_ids::request_id(),
        extended_request_id: crate::request_ids::extended_request_id(),
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
        source_ip: crate::client_ip::ip_string(remote.ip()),
        user_agent,
        domain_name: domain_name.to_string(),
        domain_prefix: crate::frontend::domain_prefix(domain_name).to_string(),
        is_canary,
        response_cache: None,
        trace,
        sampled,
        trace_id,
        spans: None,
        status: 0,
        response_length: 0,
        response_latency_ms: 0,
        integration_latency_ms: None,
        integration_status: None,
        error: None,
        api_key: None,
        authorizer: None,
        iam: None,
        execution_log: None,
        base_path_matched: None,
        client_cert: None,
    }
}

/// The request id headers for responses sent before a request has a `$context` (unknown
/// API or stage, oversized head).
pub fn bare(mut resp: Response<GatewayBody>) -> Response<GatewayBody> {
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&crate::request_ids::request_id()) {
        h.insert(X_AMZN_REQUESTID, v);
    }
    if let Ok(v) = HeaderValue::from_str(&crate::request_ids::extended_request_id()) {
        h.insert(X_AMZ_APIGW_ID, v);
    }
    resp
}

/// Room for the headers [`finish`] adds to an answer (`Content-Type`, the two request ids,
/// one more): a map made for a backend's headers leaves it, so adding them does not grow
/// it (a grow reallocates and re-places every entry: ~900 instructions).
pub const ADDED_HEADERS: usize = 4;

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
        h.insert(X_AMZN_REQUESTID, v);
    }
    if let Ok(v) = HeaderValue::from_str(&ctx.extended_request_id) {
        h.insert(X_AMZ_APIGW_ID, v);
    }
    ctx.status = resp.status().as_u16();
    ctx.response_length = resp.body().size_hint().exact().unwrap_or(0);
    let latency = started.elapsed();
    ctx.response_latency_ms = latency.as_millis() as u64;
    let series = stage.metrics.series(
        ctx.resource_path.as_deref(),
        ctx.http_method.as_str(),
        ctx.is_canary == Some(true),
    );
    crate::metrics::count_request(series, ctx.status, latency, ctx.integration_latency_ms);
    if let Some(outcome) = ctx.response_cache {
        crate::metrics::count_cache(series, outcome == crate::context::CacheOutcome::Hit);
    }
    gw.finish_rest_trace(&mut ctx);
    if let Some(el) = &stage.execution_log {
        let logging = el.for_method(ctx.resource_path.as_deref(), ctx.http_method.as_str());
        if let Some(text) = logging.and_then(|l| crate::execution_log::render(&ctx, l)) {
            gw.logs.write_to(el.file(), &text);
        }
    }
    // Canary requests are logged apart, as AWS keeps the canary's logs apart.
    let log = match ctx.is_canary {
        Some(true) => &stage.canary_access_log,
        _ => &stage.access_log,
    };
    if let Some(log) = log {
        gw.logs.write(log, &ctx, variables);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remapping() {
        let out = |n: &'static str| remapped(&HeaderName::from_static(n)).map(|h| h.to_string());
        assert_eq!(out("date").as_deref(), Some("x-amzn-remapped-date"));
        assert_eq!(
            out("x-amzn-requestid").as_deref(),
            Some("x-amzn-remapped-x-amzn-requestid")
        );
        assert_eq!(out("x-custom").as_deref(), Some("x-custom"));
        assert_eq!(out("te").as_deref(), Some("te"));
        assert_eq!(out("transfer-encoding"), None);
    }
}
