//! Rendering a [`GatewayError`] with the deployment's gateway response for its type.

use http::header::HeaderValue;
use http::{Response, StatusCode};

use crate::body::GatewayBody;
use crate::compile::Source;
use crate::error::GatewayError;
use crate::invocation::Invocation;

/// Requests for an unknown API or stage: `403 {"message":"Forbidden"}`.
pub fn forbidden() -> Response<GatewayBody> {
    let mut r = Response::new(GatewayBody::from_bytes(&b"{\"message\":\"Forbidden\"}"[..]));
    *r.status_mut() = StatusCode::FORBIDDEN;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r.headers_mut().insert(
        "x-amzn-ErrorType",
        HeaderValue::from_static("ForbiddenException"),
    );
    r
}

/// A request whose line and headers exceed 10240 bytes.
pub fn header_too_large() -> Response<GatewayBody> {
    let mut r = Response::new(GatewayBody::from_bytes(
        &b"{\"message\":\"Request Header Fields Too Large\"}"[..],
    ));
    *r.status_mut() = StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Renders a gateway response template with the VTL engine (`$context`, including
/// `$context.error.*`, `$stageVariables`, `$input.params()`); a template that fails at run
/// time gives an empty body rather than a second error.
fn render_template(
    template: &crate::compile::MappingTemplate,
    inv: &Invocation<'_>,
) -> bytes::Bytes {
    let query = if template.reads_input {
        super::method_request::parse_query(inv.parts.uri.query())
    } else {
        Vec::new()
    };
    let params = super::method_request::Params {
        path: &[],
        query: &query,
        headers: &inv.parts.headers,
    };
    crate::mapping::render_template(template, inv, &params, b"")
        .map(|(body, _)| body)
        .unwrap_or_default()
}

/// A gateway response header's value (the sources compiling keeps for them).
fn header_value(source: &Source, inv: &Invocation<'_>) -> String {
    match source {
        Source::Literal(l) => l.clone(),
        Source::StageVariable(n) => inv.stage_variables.get(n).cloned().unwrap_or_default(),
        Source::Context(n) => inv.ctx.var(n).map(|v| v.into_owned()).unwrap_or_default(),
        Source::Header(h) => inv
            .parts
            .headers
            .get(h.as_str())
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string(),
        Source::Query(q) => super::method_request::parse_query(inv.parts.uri.query())
            .into_iter()
            .rev()
            .find(|(k, _)| k == q)
            .map(|(_, v)| v)
            .unwrap_or_default(),
        _ => String::new(),
    }
}

pub fn render(inv: &Invocation<'_>, err: &GatewayError) -> Response<GatewayBody> {
    let gr = inv.deployment.gateway_response(err.kind);
    let accept = inv
        .parts
        .headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    // Chosen by Accept like method response templates (request-pipeline.md §9.3).
    let chosen = crate::mapping::choose_template(&gr.templates, accept);
    let default_body = err.default_body.as_ref().filter(|_| !gr.customised);
    let (ct, body) = match (chosen, default_body) {
        (_, Some(body)) => (
            "application/json",
            match body {
                std::borrow::Cow::Borrowed(b) => bytes::Bytes::from_static(b.as_bytes()),
                std::borrow::Cow::Owned(b) => bytes::Bytes::from(b.clone()),
            },
        ),
        (Some((ct, template)), None) => (ct.as_str(), render_template(template, inv)),
        (None, None) => ("application/json", bytes::Bytes::new()),
    };
    let mut r = Response::new(GatewayBody::from_bytes(body));
    *r.status_mut() = StatusCode::from_u16(err.status.unwrap_or(gr.status))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    crate::response_case::ResponseSpellings::attach(gr.spellings.clone(), &mut r);
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(ct) {
        h.insert(http::header::CONTENT_TYPE, v);
    }
    h.insert(
        "x-amzn-ErrorType",
        HeaderValue::from_static(err.error_type.unwrap_or(err.kind.error_type())),
    );
    for (name, source) in &gr.headers {
        if let Ok(v) = HeaderValue::from_str(&header_value(source, inv)) {
            h.insert(name.clone(), v);
        }
    }
    r
}
