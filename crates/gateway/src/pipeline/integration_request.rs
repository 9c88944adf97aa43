//! Integration request: parameter mappings, request template selection (passthrough
//! behaviour) and the backend URI, for HTTP and HTTP_PROXY integrations.

use std::borrow::Cow;
use std::net::IpAddr;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Uri};
use tollgate_model::{GatewayResponseType as T, PassthroughBehavior};

use super::method_request::Params;
use crate::body::GatewayBody;
use crate::compile::{CompiledIntegration, MappingTemplate, Source, Target};
use crate::content_handling::{self, Payload, Unset};
use crate::error::GatewayError;
use crate::invocation::{Invocation, RequestBody};
use crate::mapping::render_template;
use crate::uri::UriPiece;

/// A request ready to send to an HTTP backend.
pub struct BackendRequest {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: GatewayBody,
}

/// Headers never forwarded from the client (hop-by-hop and those the gateway regenerates).
pub(crate) const DROPPED_ON_ENTRY: [&str; 12] = [
    "connection",
    "content-length",
    "content-md5",
    "expect",
    "max-forwards",
    "proxy-authenticate",
    "server",
    "te",
    "transfer-encoding",
    "trailer",
    "upgrade",
    "www-authenticate",
];

/// Whether `name` is one of [`DROPPED_ON_ENTRY`].
pub(crate) fn dropped_on_entry(name: &HeaderName) -> bool {
    DROPPED_ON_ENTRY.contains(&name.as_str())
}

/// Whether the client's header `name` goes on to an HTTP backend: not dropped on entry,
/// not `Host` (the backend's), and, as AWS does for HTTP integrations, not
/// `Content-Encoding` or `Via` (request-pipeline.md §5.2).
pub(crate) fn forwarded_to_http(name: &HeaderName) -> bool {
    *name != http::header::HOST
        && *name != http::header::CONTENT_ENCODING
        && *name != http::header::VIA
        && !dropped_on_entry(name)
}

/// Resolves one mapping source against the request.
pub fn resolve<'a>(
    src: &'a Source,
    params: &'a Params<'_>,
    inv: &'a Invocation<'_>,
    body: Option<&'a [u8]>,
) -> Option<Cow<'a, str>> {
    match src {
        Source::Literal(s) => Some(Cow::Borrowed(s)),
        Source::Path(n) => params.path(n).map(Cow::Borrowed),
        Source::Query(n) => params.query(n).map(Cow::Borrowed),
        Source::MultiQuery(n) => Some(params.multi_query(n).join(","))
            .filter(|s| !s.is_empty())
            .map(Cow::Owned),
        Source::Header(n) => params.header(n).map(Cow::Borrowed),
        Source::MultiHeader(n) => Some(params.multi_header(n).join(","))
            .filter(|s| !s.is_empty())
            .map(Cow::Owned),
        Source::StageVariable(n) => inv
            .stage_variables
            .get(n)
            .map(|s| Cow::Borrowed(s.as_str())),
        Source::Context(n) => inv.ctx.var(n),
        Source::Body => body.map(String::from_utf8_lossy),
        Source::BodyPath(p) => crate::mapping::body_path(p, body?).map(Cow::Owned),
        // Compiling refuses these in request mappings.
        Source::IntegrationHeader(_)
        | Source::IntegrationMultiHeader(_)
        | Source::IntegrationBody
        | Source::IntegrationBodyPath(_) => None,
    }
}

/// The integration's parameter mappings resolved for one request.
pub(crate) struct Mapped<'a> {
    pub headers: Vec<(&'a HeaderName, Cow<'a, str>)>,
    pub query: Vec<(&'a str, Cow<'a, str>)>,
    pub path: Vec<(&'a str, Cow<'a, str>)>,
}

pub(crate) fn map_parameters<'a>(
    i: &'a CompiledIntegration,
    params: &'a Params<'_>,
    inv: &'a Invocation<'_>,
    body: Option<&'a [u8]>,
) -> Mapped<'a> {
    let mut m = Mapped {
        headers: vec![],
        query: vec![],
        path: vec![],
    };
    for (target, src) in &i.request_parameters {
        // A source that resolves to nothing adds nothing.
        let Some(v) = resolve(src, params, inv, body) else {
            continue;
        };
        match target {
            Target::Header(h) => m.headers.push((h, v)),
            Target::Query(q) => m.query.push((q.as_str(), v)),
            Target::Path(p) => m.path.push((p.as_str(), v)),
        }
    }
    m
}

const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Renders the backend URI: `{name}` from path mappings, `${stageVariables.x}`, then the
/// mapped query parameters and (for proxies) the client's own query string.
fn render_uri(
    i: &CompiledIntegration,
    mapped: &Mapped<'_>,
    inv: &Invocation<'_>,
    client_query: Option<&str>,
) -> Result<Uri, GatewayError> {
    let s = uri_text(i, mapped, inv, client_query);
    s.parse::<Uri>().map_err(|_| {
        tracing::warn!(uri = %s, "integration URI does not parse");
        GatewayError::internal()
    })
}

/// [`render_uri`]'s text, not yet parsed.
pub(crate) fn uri_text(
    i: &CompiledIntegration,
    mapped: &Mapped<'_>,
    inv: &Invocation<'_>,
    client_query: Option<&str>,
) -> String {
    let mut s = String::with_capacity(128);
    for piece in &i.uri {
        match piece {
            UriPiece::Literal(l) => s.push_str(l),
            UriPiece::StageVariable(n) => {
                s.push_str(inv.stage_variables.get(n).map_or("", |v| v.as_str()))
            }
            UriPiece::PathParam(n) => {
                if let Some((_, v)) = mapped.path.iter().find(|(k, _)| k == n) {
                    s.push_str(v);
                }
            }
        }
    }
    let mut sep = if s.contains('?') { '&' } else { '?' };
    for (k, v) in &mapped.query {
        s.push(sep);
        s.extend(percent_encoding::utf8_percent_encode(k, QUERY_VALUE));
        s.push('=');
        s.extend(percent_encoding::utf8_percent_encode(v, QUERY_VALUE));
        sep = '&';
    }
    if let Some(q) = client_query.filter(|q| !q.is_empty()) {
        s.push(sep);
        s.push_str(q);
    }
    s
}

pub(crate) fn backend_method(i: &CompiledIntegration, inv: &Invocation<'_>) -> Method {
    i.http_method
        .clone()
        .unwrap_or_else(|| inv.parts.method.clone())
}

pub(crate) fn sends_body(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn insert(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

/// [`insert`] of a value made for this request: its bytes become the header's, uncopied.
fn insert_owned(headers: &mut HeaderMap, name: HeaderName, value: impl Into<Bytes>) {
    if let Ok(v) = HeaderValue::from_maybe_shared(value.into()) {
        headers.insert(name, v);
    }
}

// Names made at compile time: a name made from a `&str` is parsed on every request.
pub(crate) const X_AMZN_APIGATEWAY_API_ID: HeaderName =
    HeaderName::from_static("x-amzn-apigateway-api-id");
pub(crate) const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
pub(crate) const X_FORWARDED_PORT: HeaderName = HeaderName::from_static("x-forwarded-port");
pub(crate) const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

fn gateway_headers(headers: &mut HeaderMap, inv: &Invocation<'_>) {
    insert(headers, X_AMZN_APIGATEWAY_API_ID, &inv.ctx.api_id);
    insert(
        headers,
        tollgate_traces::context::X_AMZN_TRACE_ID,
        &inv.ctx.trace_id,
    );
    // W3C trace context when the caller sent one (answered with the gateway's span as the
    // parent) or the request is traced; otherwise none, as API Gateway sends none.
    use tollgate_traces::context::TRACEPARENT;
    if inv.ctx.spans.is_some() || inv.parts.headers.contains_key(&TRACEPARENT) {
        let tp = inv.ctx.trace.traceparent(inv.ctx.sampled);
        insert_owned(headers, TRACEPARENT, tp);
    }
}

/// Appends `X-Forwarded-For`'s value: the client's address after the value sent (if it is
/// text).
pub(crate) fn push_forwarded_for(out: &mut Vec<u8>, sent: Option<&HeaderValue>, remote: IpAddr) {
    if let Some(prev) = sent.and_then(|v| v.to_str().ok()) {
        out.extend_from_slice(prev.as_bytes());
        out.extend_from_slice(b", ");
    }
    crate::client_ip::push_ip(out, remote);
}

/// HTTP_PROXY: the client's request with hop-by-hop headers dropped (and, as AWS does for
/// HTTP integrations, `Content-Encoding` and `Via`: request-pipeline.md §5.2), mappings
/// applied, the body streamed.
pub fn http_proxy(
    inv: &Invocation<'_>,
    i: &CompiledIntegration,
    params: &Params<'_>,
    body: RequestBody,
) -> Result<BackendRequest, GatewayError> {
    let mapped = map_parameters(i, params, inv, None);
    let uri = render_uri(i, &mapped, inv, inv.parts.uri.query())?;
    let method = backend_method(i, inv);
    let mut headers = HeaderMap::with_capacity(inv.parts.headers.len() + 6);
    for (k, v) in &inv.parts.headers {
        if forwarded_to_http(k) {
            headers.append(k.clone(), v.clone());
        }
    }
    if let Some(len) = inv.parts.headers.get(http::header::CONTENT_LENGTH) {
        if sends_body(&method) {
            headers.insert(http::header::CONTENT_LENGTH, len.clone());
        }
    }
    for (h, v) in &mapped.headers {
        insert(&mut headers, (*h).clone(), v);
    }
    gateway_headers(&mut headers, inv);
    let mut xff = Vec::with_capacity(64);
    push_forwarded_for(&mut xff, headers.get(X_FORWARDED_FOR), inv.remote.ip());
    insert_owned(&mut headers, X_FORWARDED_FOR, xff);
    headers.insert(X_FORWARDED_PORT, inv.local_port_value());
    headers.insert(
        X_FORWARDED_PROTO,
        HeaderValue::from_static(inv.forwarded_proto()),
    );
    let body = if sends_body(&method) {
        body.into_stream()
    } else {
        GatewayBody::empty()
    };
    Ok(BackendRequest {
        method,
        uri,
        headers,
        body,
    })
}

/// Picks the request template for the client's Content-Type, or decides passthrough, or
/// refuses with 415 as the passthrough behaviour says.
pub fn select_template<'i>(
    i: &'i CompiledIntegration,
    headers: &HeaderMap,
) -> Result<Option<&'i MappingTemplate>, GatewayError> {
    let ct = crate::mapping::media_type(
        headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    );
    if let Some((_, t)) = i
        .request_templates
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(&ct))
    {
        return Ok(Some(t));
    }
    let passthrough = match i.passthrough {
        PassthroughBehavior::WhenNoMatch => true,
        PassthroughBehavior::WhenNoTemplates => i.request_templates.is_empty(),
        PassthroughBehavior::Never => false,
    };
    if passthrough {
        Ok(None)
    } else {
        Err(GatewayError::new(
            T::UnsupportedMediaType,
            "Unsupported Media Type",
        ))
    }
}

/// `$context.requestOverride.{path,querystring,header}` values a request template set.
#[derive(Debug, Default)]
pub struct RequestOverride {
    pub path: Vec<(String, String)>,
    pub querystring: Vec<(String, String)>,
    pub header: Vec<(String, String)>,
}

impl RequestOverride {
    pub fn from_context(context: &serde_json::Map<String, serde_json::Value>) -> Self {
        let section = |name: &str| -> Vec<(String, String)> {
            context
                .get("requestOverride")
                .and_then(|o| o.get(name))
                .and_then(|m| m.as_object())
                .map(|m| {
                    m.iter()
                        .filter(|(_, v)| !v.is_null())
                        .map(|(k, v)| {
                            (
                                k.clone(),
                                v.as_str().map_or_else(|| v.to_string(), str::to_string),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        RequestOverride {
            path: section("path"),
            querystring: section("querystring"),
            header: section("header"),
        }
    }
}

/// The selected request template rendered over the client's body (first converted to
/// text when `contentHandling` says so; a still-binary body makes a template fail), or the
/// converted body itself when it passes through. The template's `$context` is returned when
/// a template ran.
pub fn render_request(
    inv: &Invocation<'_>,
    i: &CompiledIntegration,
    params: &Params<'_>,
    body: &Bytes,
) -> Result<(Payload, Option<serde_json::Map<String, serde_json::Value>>), GatewayError> {
    let template = select_template(i, &inv.parts.headers)?;
    let binary = content_handling::has_binary_content_type(
        &inv.deployment.binary_media_types,
        &inv.parts.headers,
    );
    let converted = content_handling::before_template(body.clone(), binary, i.content_handling);
    match template {
        Some(t) => {
            let (out, context) = render_template(t, inv, params, converted.template_input()?)?;
            Ok((Payload::Text(out), Some(context)))
        }
        None => Ok((converted, None)),
    }
}

/// The body a non-proxy integration sends ("endpoint request body after transformations"):
/// [`render_request`], then the conversion to binary `CONVERT_TO_BINARY` asks for.
pub fn payload(
    inv: &Invocation<'_>,
    i: &CompiledIntegration,
    params: &Params<'_>,
    body: &Bytes,
) -> Result<(Bytes, Option<serde_json::Map<String, serde_json::Value>>), GatewayError> {
    let (rendered, context) = render_request(inv, i, params, body)?;
    let payload = content_handling::after_template(rendered, i.content_handling, Unset::AsIs)?;
    Ok((payload, context))
}

/// The mapped parameters of a non-proxy request, the path and query string values a
/// request template's `$context.requestOverride` set replacing them.
pub(crate) fn mapped_with_overrides<'a>(
    i: &'a CompiledIntegration,
    params: &'a Params<'_>,
    inv: &'a Invocation<'_>,
    body: &'a Bytes,
    overrides: &'a RequestOverride,
) -> Mapped<'a> {
    let mut mapped = map_parameters(i, params, inv, Some(body));
    for (k, v) in &overrides.path {
        mapped.path.retain(|(n, _)| *n != k.as_str());
        mapped.path.push((k.as_str(), Cow::Borrowed(v.as_str())));
    }
    for (k, v) in &overrides.querystring {
        mapped.query.retain(|(n, _)| *n != k.as_str());
        mapped.query.push((k.as_str(), Cow::Borrowed(v.as_str())));
    }
    mapped
}

/// HTTP (non-proxy): only mapped parameters and the gateway's own headers reach the
/// backend; the body is `payload` (from [`payload`]), and the template's `$context`
/// `requestOverride` values replace the mapped path, query and header values.
pub fn http(
    inv: &Invocation<'_>,
    i: &CompiledIntegration,
    params: &Params<'_>,
    body: &Bytes,
    payload: Bytes,
    context: Option<&serde_json::Map<String, serde_json::Value>>,
) -> Result<BackendRequest, GatewayError> {
    let overrides = context
        .map(RequestOverride::from_context)
        .unwrap_or_default();
    let mapped = mapped_with_overrides(i, params, inv, body, &overrides);
    let uri = render_uri(i, &mapped, inv, None)?;
    let method = backend_method(i, inv);
    let mut headers = HeaderMap::with_capacity(8);
    insert(&mut headers, http::header::ACCEPT, "application/json");
    insert(
        &mut headers,
        http::header::USER_AGENT,
        &format!("AmazonAPIGateway_{}", inv.ctx.api_id),
    );
    if sends_body(&method) {
        if let Some(ct) = inv.parts.headers.get(http::header::CONTENT_TYPE) {
            headers.insert(http::header::CONTENT_TYPE, ct.clone());
        }
    }
    for (h, v) in &mapped.headers {
        insert(&mut headers, (*h).clone(), v);
    }
    gateway_headers(&mut headers, inv);
    for (k, v) in &overrides.header {
        if let Ok(name) = HeaderName::from_bytes(k.as_bytes()) {
            insert(&mut headers, name, v);
        }
    }
    let body = if sends_body(&method) {
        GatewayBody::from_bytes(payload)
    } else {
        GatewayBody::empty()
    };
    Ok(BackendRequest {
        method,
        uri,
        headers,
        body,
    })
}

impl Invocation<'_> {
    /// The port the client addressed: the `Host` header's, else the scheme's default.
    fn local_port(&self) -> Option<&str> {
        port_in_host(self.parts.headers.get(http::header::HOST))
    }

    /// The scheme's default port.
    pub(crate) fn default_port(&self) -> &'static str {
        if self.tls {
            "443"
        } else {
            "80"
        }
    }

    pub(crate) fn ctx_local_port(&self) -> String {
        self.local_port().unwrap_or(self.default_port()).to_string()
    }

    /// [`Self::ctx_local_port`] as a header value (the defaults without an allocation).
    fn local_port_value(&self) -> HeaderValue {
        match self.local_port() {
            Some(port) => HeaderValue::from_str(port).unwrap_or(HeaderValue::from_static("")),
            None => HeaderValue::from_static(self.default_port()),
        }
    }
}

/// The port a `Host` header's value names, if any.
pub(crate) fn port_in_host(host: Option<&HeaderValue>) -> Option<&str> {
    crate::frontend::port_of(host?.to_str().ok()?)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tollgate_model::Integration;

    use super::*;
    use crate::compile::compile_integration;

    fn integration(passthrough: &str, templates: &[(&str, &str)]) -> CompiledIntegration {
        let i = Integration {
            integration_type: tollgate_model::IntegrationType::Mock,
            http_method: None,
            uri: None,
            connection_type: None,
            connection_id: None,
            credentials: None,
            request_parameters: BTreeMap::new(),
            request_templates: templates
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            passthrough_behavior: passthrough.parse().unwrap(),
            content_handling: None,
            timeout_in_millis: 29_000,
            cache_namespace: "x".into(),
            cache_key_parameters: vec![],
            tls_config: None,
            integration_responses: BTreeMap::new(),
            response_transfer_mode: None,
            integration_target: None,
        };
        compile_integration(&i, "x").unwrap()
    }

    /// The chosen template's output for an empty request, or `None` for passthrough.
    fn chosen(i: &CompiledIntegration, h: &HeaderMap) -> Result<Option<String>, GatewayError> {
        Ok(select_template(i, h)?.map(|t| {
            t.engine
                .render_simple(&tollgate_vtl::Input::default())
                .unwrap()
        }))
    }

    fn with_ct(ct: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(ct) = ct {
            h.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_str(ct).unwrap(),
            );
        }
        h
    }

    #[test]
    fn template_by_content_type_ignoring_parameters() {
        let i = integration(
            "WHEN_NO_MATCH",
            &[("application/json", "J"), ("text/plain", "T")],
        );
        assert_eq!(
            chosen(&i, &with_ct(Some("text/plain; charset=utf-8"))).unwrap(),
            Some("T".to_string())
        );
        // No Content-Type means application/json.
        assert_eq!(chosen(&i, &with_ct(None)).unwrap(), Some("J".to_string()));
    }

    #[test]
    fn passthrough_behaviours() {
        let xml = with_ct(Some("application/xml"));
        let templated = |p| integration(p, &[("application/json", "J")]);
        assert_eq!(chosen(&templated("WHEN_NO_MATCH"), &xml).unwrap(), None);
        assert_eq!(
            chosen(&templated("WHEN_NO_TEMPLATES"), &xml)
                .unwrap_err()
                .kind,
            T::UnsupportedMediaType
        );
        assert_eq!(
            chosen(&templated("NEVER"), &xml).unwrap_err().kind,
            T::UnsupportedMediaType
        );
        assert_eq!(
            chosen(&integration("WHEN_NO_TEMPLATES", &[]), &xml).unwrap(),
            None
        );
        assert_eq!(
            chosen(&integration("NEVER", &[]), &xml).unwrap_err().kind,
            T::UnsupportedMediaType
        );
    }
}
