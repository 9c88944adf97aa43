//! `HTTP_PROXY` on an HTTP API: the request streamed to the integration URI (mapped by
//! `requestParameters`), with a `Forwarded` header, the backend's answer streamed back
//! with its headers as they are (HTTP APIs do not remap them as REST APIs do).

use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Response};

use super::call::{HttpApiCall, PATH_SEGMENT};
use super::mapping::{mapped_body, mapped_path_and_query, MappingSources};
use crate::body::GatewayBody;
use crate::compile::http_api::HttpIntegration;
use crate::compile::http_mapping::apply_headers;
use crate::error::HttpApiError;
use crate::integrations::http::{with_timeout, HttpClient};
use crate::integrations::private::{self, Via};
use crate::invocation::RequestBody;
use crate::pipeline::integration_request::{dropped_on_entry, BackendRequest};
use crate::pipeline::respond;
use crate::uri::UriPiece;
use crate::vpc_link::LinkRef;

/// Where an `HTTP_PROXY` goes: the URI's pieces and method, or a VPC link's targets
/// (which then get the request's own path).
pub struct ProxyTarget<'a> {
    pub uri: &'a [UriPiece],
    /// `None`: the client's.
    pub method: Option<&'a http::Method>,
    pub vpc_link: Option<&'a LinkRef>,
}

/// `HTTP_PROXY`: the client's request streams to the integration URI (with the request
/// path appended for the `$default` route), the backend's answer streams back.
pub async fn http_proxy(
    c: &HttpApiCall<'_>,
    i: &HttpIntegration,
    target: ProxyTarget<'_>,
    body: RequestBody,
) -> Result<Response<GatewayBody>, HttpApiError> {
    let ProxyTarget {
        uri,
        method,
        vpc_link,
    } = target;
    let mut url = String::with_capacity(128);
    for piece in uri {
        match piece {
            UriPiece::Literal(l) => url.push_str(l),
            UriPiece::StageVariable(n) => {
                url.push_str(c.stage_variables.get(n).map_or("", String::as_str))
            }
            UriPiece::PathParam(n) => {
                let v = c.path_params.iter().find(|(k, _)| k == n).map(|(_, v)| v);
                let encoded =
                    v.map(|v| percent_encoding::utf8_percent_encode(v, PATH_SEGMENT).to_string());
                // A greedy value keeps its slashes.
                url.push_str(&encoded.unwrap_or_default().replace("%2F", "/"));
            }
        }
    }
    // `$request.body` needs the whole body before the call (then sent as read).
    let (body, request_body) = if i.request_reads_body {
        let bytes = body.collect(c.body_stall).await?;
        let json = mapped_body(&bytes);
        (RequestBody::Buffered(bytes), json)
    } else {
        (body, None)
    };
    let sources = MappingSources {
        call: c,
        response: None,
        request_body,
        response_body: None,
    };
    let (mapped_path, mapped_query) = mapped_path_and_query(c, i, &sources);
    if let Some(p) = mapped_path {
        // `overwrite:path` replaces the URI's path (its scheme and authority stay).
        let authority_end = url
            .find("://")
            .and_then(|s| url[s + 3..].find('/').map(|e| s + 3 + e))
            .unwrap_or(url.len());
        url.truncate(authority_end);
        if !p.starts_with('/') {
            url.push('/');
        }
        url.push_str(&p);
    } else if *c.route.arn_path == *"$default" || vpc_link.is_some() {
        url.truncate(url.trim_end_matches('/').len());
        url.push_str(c.routing_path);
    }
    if let Some(q) = mapped_query.as_deref().or(c.parts.uri.query()) {
        if !q.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(q);
        }
    }
    let uri: http::Uri = url.parse().map_err(|_| {
        tracing::info!(api = %c.api_id, url, "HTTP_PROXY integration URI is not a valid URL");
        HttpApiError::Internal
    })?;
    let method = method.unwrap_or(&c.parts.method).clone();
    let mut headers = HeaderMap::with_capacity(c.parts.headers.len() + 2);
    for (k, v) in &c.parts.headers {
        if k != http::header::HOST && !dropped_on_entry(k) {
            headers.append(k.clone(), v.clone());
        }
    }
    if let Some(len) = c.parts.headers.get(http::header::CONTENT_LENGTH) {
        headers.insert(http::header::CONTENT_LENGTH, len.clone());
    }
    // HTTP APIs tell the backend who called in one standard `Forwarded` header.
    let host = c
        .parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or(c.domain_name);
    let proto = if c.tls { "https" } else { "http" };
    let forwarded = format!("for={};host={host};proto={proto}", c.source_ip());
    let forwarded = match headers.get("forwarded").and_then(|v| v.to_str().ok()) {
        Some(prev) => format!("{prev}, {forwarded}"),
        None => forwarded,
    };
    if let Ok(v) = HeaderValue::from_str(&forwarded) {
        headers.insert(HeaderName::from_static("forwarded"), v);
    }
    // A traced request's backend joins its trace; otherwise the caller's headers pass as
    // they are (a caller's `traceparent` is answered with the gateway's span as parent).
    if let Some(trace) = &c.context.trace {
        let traced = c.context.spans.is_some();
        if traced {
            if let Ok(v) = HeaderValue::from_str(&trace.amzn_header(true)) {
                headers.insert(HeaderName::from_static("x-amzn-trace-id"), v);
            }
        }
        use tollgate_traces::context::TRACEPARENT;
        if traced || headers.contains_key(&TRACEPARENT) {
            if let Ok(v) = HeaderValue::from_str(&trace.traceparent(c.context.sampled)) {
                headers.insert(TRACEPARENT, v);
            }
        }
    }
    apply_headers(&i.request_mappings, &sources, &mut headers);
    let req = BackendRequest {
        method,
        uri,
        headers,
        body: body.into_stream(),
    };
    let client = HttpClient::current();
    let resp = match vpc_link {
        // Renamed as it is read: the answer's headers go into one map, not two.
        None => {
            return Ok(client
                .send_proxied(req, i.timeout, respond::http_api_passed)
                .await?)
        }
        Some(link) => {
            let via = Via {
                links: c.vpc_links,
                link,
                stage_variables: c.stage_variables,
                api_id: c.api_id,
            };
            // Boxed: a VPC link's retries make a large future, which inline would size
            // every HTTP API request's.
            let sent = private::send(&client, via, req, c.body_stall);
            Box::pin(with_timeout(i.timeout, sent)).await?
        }
    };
    Ok(respond::proxy_response_by(resp, respond::http_api_passed))
}
