//! The service call of an `AWS` integration (REST's, and WebSocket routes' through
//! `shape`): the mapped parameters and the rendered body shaped as the service's protocol
//! wants them (request-pipeline.md, AWS rows).

use std::collections::BTreeMap;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, Method};
use percent_encoding::utf8_percent_encode;

use super::protocol::Protocol;
use super::target::{Operation, ServiceTarget};
use super::wire::{push_pair, set_header, ServiceCall, PATH_VALUE};
use crate::compile::CompiledIntegration;
use crate::error::GatewayError;
use crate::integrations::call::Rendered;
use crate::invocation::Invocation;
use crate::pipeline::integration_request::{
    mapped_with_overrides, sends_body, Mapped, RequestOverride,
};
use crate::pipeline::method_request::Params;
use crate::uri::UriPiece;

/// Builds the call: `body` is the client's, `payload` the rendered one.
pub fn build<'t>(
    inv: &Invocation<'_>,
    i: &CompiledIntegration,
    target: &'t ServiceTarget,
    params: &Params<'_>,
    rendered: &Rendered,
) -> Result<ServiceCall<'t>, GatewayError> {
    let overrides = rendered
        .context
        .as_ref()
        .map(RequestOverride::from_context)
        .unwrap_or_default();
    let mapped = mapped_with_overrides(i, params, inv, &rendered.body, &overrides);
    let method = i
        .http_method
        .clone()
        .unwrap_or_else(|| inv.parts.method.clone());
    let request = Request {
        api_id: &inv.ctx.api_id,
        method,
        stage_variables: inv.stage_variables,
        content_type: inv.parts.headers.get(CONTENT_TYPE),
        payload: rendered.payload.clone(),
    };
    let mut call = shape(target, request, &mapped);
    for (k, v) in &overrides.header {
        if let Ok(name) = HeaderName::from_bytes(k.as_bytes()) {
            set_header(&mut call.headers, name, v);
        }
    }
    Ok(call)
}

/// What a service call is made of besides the target and the mapped parameters (REST's
/// request, or a WebSocket message).
pub struct Request<'r> {
    pub api_id: &'r str,
    pub method: Method,
    pub stage_variables: &'r BTreeMap<String, String>,
    /// The client's Content-Type, sent on with a `path/` call's body.
    pub content_type: Option<&'r HeaderValue>,
    /// The rendered request template (or the body passed through).
    pub payload: Bytes,
}

/// The call `target` names, shaped as its protocol wants it: the path or the action's
/// parameters, the mapped parameters, the payload.
pub(crate) fn shape<'t>(
    target: &'t ServiceTarget,
    request: Request<'_>,
    mapped: &Mapped<'_>,
) -> ServiceCall<'t> {
    let Request {
        api_id,
        method,
        stage_variables,
        content_type,
        mut payload,
    } = request;
    let mut headers = HeaderMap::with_capacity(8);
    set_header(
        &mut headers,
        USER_AGENT,
        &format!("AmazonAPIGateway_{api_id}"),
    );
    let mut query = String::new();
    let mut path = String::from("/");
    match &target.operation {
        Operation::Path(pieces) => {
            for piece in pieces {
                match piece {
                    UriPiece::Literal(l) => path.push_str(l),
                    UriPiece::StageVariable(n) => {
                        path.push_str(stage_variables.get(n).map_or("", |v| v.as_str()))
                    }
                    UriPiece::PathParam(n) => {
                        if let Some((_, v)) = mapped.path.iter().find(|(k, _)| k == n) {
                            path.extend(utf8_percent_encode(v, PATH_VALUE));
                        }
                    }
                }
            }
            for (k, v) in &mapped.query {
                push_pair(&mut query, k, v);
            }
            if sends_body(&method) {
                if let Some(ct) = content_type {
                    headers.insert(CONTENT_TYPE, ct.clone());
                }
            }
        }
        Operation::Action {
            name,
            params: fixed,
            protocol,
        } => {
            set_header(&mut headers, CONTENT_TYPE, protocol.content_type());
            match protocol {
                Protocol::Json { target_prefix, .. } => {
                    set_header(
                        &mut headers,
                        HeaderName::from_static("x-amz-target"),
                        &format!("{target_prefix}.{name}"),
                    );
                    for (k, v) in fixed {
                        push_pair(&mut query, k, v);
                    }
                    for (k, v) in &mapped.query {
                        push_pair(&mut query, k, v);
                    }
                    if payload.is_empty() {
                        payload = Bytes::from_static(b"{}");
                    }
                }
                Protocol::Query { version } => {
                    let mut form = String::new();
                    push_pair(&mut form, "Action", name);
                    if !version.is_empty() {
                        push_pair(&mut form, "Version", version);
                    }
                    for (k, v) in fixed {
                        push_pair(&mut form, k, v);
                    }
                    for (k, v) in &mapped.query {
                        push_pair(&mut form, k, v);
                    }
                    // Without a body of its own the parameters are the form body; a
                    // template's body (`Action=...&MessageBody=...`) keeps them in the query.
                    if payload.is_empty() && sends_body(&method) {
                        payload = Bytes::from(form);
                    } else {
                        query = form;
                    }
                }
            }
        }
    }
    for (h, v) in &mapped.headers {
        set_header(&mut headers, (*h).clone(), v);
    }
    if !sends_body(&method) && method != Method::DELETE {
        payload = Bytes::new();
    }
    ServiceCall {
        method,
        region: &target.region,
        service: &target.service,
        subdomain: target.subdomain.as_deref(),
        path,
        query,
        headers,
        body: payload,
    }
}
