//! HTTP API integrations (API Gateway v2): HTTP_PROXY, and AWS_PROXY to Lambda with the
//! payload 2.0 event (lambda-events.md §2.1) or 1.0 (§2.2), the function's output read by
//! §4.2 or §4.1. They share the REST integrations' pooled HTTP client, Lambda target
//! resolution, permission check and 1.0 output rules.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::SocketAddr;

use base64::Engine;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Response};
use serde_json::{json, Map, Value};
use tollgate_functions::{Functions, InvokeRequest, InvokeResponse};
use tollgate_model::PayloadFormatVersion;

use super::http::HttpClient;
use super::lambda::{permit, proxy_output, string_map, title_case};
use super::lambda_target::LambdaTarget;
use crate::access_log::ContextVars;
use crate::body::GatewayBody;
use crate::compile::http_api::{HttpIntegration, HttpRoute};
use crate::compile::http_mapping::{apply_headers, reads_body, render, Action, Sources, Target};
use crate::error::HttpApiError;
use crate::error::MAX_BODY;
use crate::http_context::{HttpAuthorized, HttpContext};
use crate::invocation::RequestBody;
use crate::pipeline::integration_request::{BackendRequest, DROPPED_ON_ENTRY};
use crate::pipeline::respond;
use crate::uri::UriPiece;

/// What an HTTP API integration knows of one request.
pub struct HttpApiCall<'a> {
    pub parts: &'a http::request::Parts,
    pub remote: SocketAddr,
    pub tls: bool,
    pub api_id: &'a str,
    pub stage: &'a str,
    pub stage_variables: &'a BTreeMap<String, String>,
    pub route: &'a HttpRoute,
    pub path_params: &'a [(&'a str, String)],
    /// The path as the client sent it after the API's address (with `/{stage}` for a
    /// named stage): the event's `rawPath`.
    pub raw_path: &'a str,
    /// The path the route matched (without the stage).
    pub routing_path: &'a str,
    pub request_id: &'a str,
    pub domain_name: &'a str,
    pub time_epoch_ms: i64,
    pub functions: Option<&'a std::sync::Arc<Functions>>,
    pub body_stall: std::time::Duration,
    /// The `$context` so far (parameter mappings read it).
    pub context: &'a HttpContext,
}

/// A mapping's sources: the request, and the backend's response headers once there are;
/// the bodies as JSON when a mapping reads them.
struct MappingSources<'a, 'c> {
    call: &'a HttpApiCall<'c>,
    response: Option<&'a HeaderMap>,
    request_body: Option<Value>,
    response_body: Option<Value>,
}

/// The most of a body `$request.body` / `$response.body` read (request-pipeline.md §8).
const MAX_MAPPED_BODY: usize = 100 * 1024;

/// A body as JSON for body mappings (AWS reads the first 100 KB: a larger body maps to
/// nothing).
fn mapped_body(body: &[u8]) -> Option<Value> {
    serde_json::from_slice(body.get(..MAX_MAPPED_BODY).unwrap_or(body)).ok()
}

pub(crate) fn joined_header<'h>(headers: &'h HeaderMap, name: &str) -> Option<Cow<'h, str>> {
    let mut values = headers.get_all(name).iter().filter_map(|v| v.to_str().ok());
    let first = values.next()?;
    let rest: Vec<&str> = values.collect();
    if rest.is_empty() {
        return Some(Cow::Borrowed(first));
    }
    Some(Cow::Owned(
        std::iter::once(first)
            .chain(rest)
            .collect::<Vec<_>>()
            .join(","),
    ))
}

impl Sources for MappingSources<'_, '_> {
    fn request_header(&self, name: &str) -> Option<Cow<'_, str>> {
        joined_header(&self.call.parts.headers, name)
    }
    fn request_query(&self, name: &str) -> Option<Cow<'_, str>> {
        let values: Vec<String> = query_pairs(self.call.parts.uri.query().unwrap_or_default())
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v)
            .collect();
        (!values.is_empty()).then(|| Cow::Owned(values.join(",")))
    }
    fn request_path(&self) -> &str {
        self.call.routing_path
    }
    fn path_parameter(&self, name: &str) -> Option<&str> {
        self.call
            .path_params
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
    fn context(&self, name: &str) -> Option<Cow<'_, str>> {
        self.call.context.var(name)
    }
    fn stage_variable(&self, name: &str) -> Option<&str> {
        self.call.stage_variables.get(name).map(String::as_str)
    }
    fn response_header(&self, name: &str) -> Option<Cow<'_, str>> {
        joined_header(self.response?, name)
    }
    fn request_body(&self) -> Option<&Value> {
        self.request_body.as_ref()
    }
    fn response_body(&self) -> Option<&Value> {
        self.response_body.as_ref()
    }
}

/// The integration's `responseParameters` for the backend's status: headers appended,
/// overwritten or removed, and the status overwritten.
pub async fn map_response(
    c: &HttpApiCall<'_>,
    i: &HttpIntegration,
    mut resp: Response<GatewayBody>,
) -> Result<Response<GatewayBody>, HttpApiError> {
    let mappings = i.response_mappings(resp.status().as_u16());
    if mappings.is_empty() {
        return Ok(resp);
    }
    let mut response_body = None;
    if reads_body(mappings) {
        // `$response.body` needs the backend's whole answer, bounded like any body in size
        // and by the integration's timeout in time (a backend that stalls after its
        // headers is a timeout, never a request held open).
        let (parts, body) = resp.into_parts();
        let collect =
            http_body_util::BodyExt::collect(http_body_util::Limited::new(body, MAX_BODY));
        let bytes = tokio::time::timeout(i.timeout, collect)
            .await
            .map_err(|_| HttpApiError::ServiceUnavailable)?
            .map_err(|_| HttpApiError::Internal)?
            .to_bytes();
        response_body = mapped_body(&bytes);
        resp = Response::from_parts(parts, GatewayBody::from_bytes(bytes));
    }
    let backend = resp.headers().clone();
    let sources = MappingSources {
        call: c,
        response: Some(&backend),
        request_body: None,
        response_body,
    };
    apply_headers(mappings, &sources, resp.headers_mut());
    for m in mappings.iter().filter(|m| m.target == Target::StatusCode) {
        let status = render(&m.value, &sources);
        match status
            .trim()
            .parse::<u16>()
            .ok()
            .and_then(|s| http::StatusCode::from_u16(s).ok())
        {
            Some(s) => *resp.status_mut() = s,
            None => {
                tracing::info!(api = %c.api_id, status, "overwrite:statuscode maps to no status")
            }
        }
    }
    Ok(resp)
}

/// The backend path and query after `requestParameters` (`overwrite:path`,
/// `…:querystring.x`).
fn mapped_path_and_query(
    c: &HttpApiCall<'_>,
    i: &HttpIntegration,
    sources: &MappingSources<'_, '_>,
) -> (Option<String>, Option<String>) {
    let mut path = None;
    let mut query: Option<Vec<(String, String)>> = None;
    for m in &i.request_mappings {
        match &m.target {
            Target::Path => path = Some(render(&m.value, sources)),
            Target::QueryString(name) => {
                let q = query.get_or_insert_with(|| {
                    query_pairs(c.parts.uri.query().unwrap_or_default()).collect()
                });
                if m.action != Action::Append {
                    q.retain(|(k, _)| k != name);
                }
                if m.action != Action::Remove {
                    q.push((name.clone(), render(&m.value, sources)));
                }
            }
            _ => {}
        }
    }
    let query = query.map(|q| {
        q.iter()
            .map(|(k, v)| {
                let enc =
                    |s: &str| percent_encoding::utf8_percent_encode(s, PATH_SEGMENT).to_string();
                format!("{}={}", enc(k), enc(v))
            })
            .collect::<Vec<_>>()
            .join("&")
    });
    (path, query)
}

pub(crate) fn query_pairs(q: &str) -> impl Iterator<Item = (String, String)> + '_ {
    let decode = |v: &str| {
        percent_encoding::percent_decode_str(&v.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    q.split('&').filter(|p| !p.is_empty()).map(move |p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        (decode(k), decode(v))
    })
}

impl HttpApiCall<'_> {
    fn source_ip(&self) -> String {
        self.remote.ip().to_string()
    }

    fn user_agent(&self) -> &str {
        self.parts
            .headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn protocol(&self) -> &'static str {
        match self.parts.version {
            http::Version::HTTP_2 => "HTTP/2.0",
            http::Version::HTTP_10 => "HTTP/1.0",
            _ => "HTTP/1.1",
        }
    }

    fn domain_prefix(&self) -> &str {
        crate::frontend::domain_prefix(self.domain_name)
    }

    fn path_parameters(&self) -> Value {
        if self.path_params.is_empty() {
            return Value::Null;
        }
        let m: Map<String, Value> = self
            .path_params
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.clone())))
            .collect();
        Value::Object(m)
    }

    fn stage_variables_value(&self) -> Value {
        if self.stage_variables.is_empty() {
            return Value::Null;
        }
        json!(self.stage_variables)
    }

    /// The Lambda permission's `SourceArn` for this route.
    fn source_arn(&self, region: &str) -> String {
        let method = if self.route.method.is_some() || *self.route.arn_path != *"$default" {
            self.parts.method.as_str()
        } else {
            ""
        };
        format!(
            "arn:aws:execute-api:{region}:{}:{}/{}/{method}{}",
            tollgate_model::ACCOUNT_ID,
            self.api_id,
            self.stage,
            self.route.arn_path
        )
    }
}

/// A body as an event carries it: text, or base64 when it is not UTF-8.
fn event_body(body: &Bytes) -> (Value, bool) {
    if body.is_empty() {
        return (Value::Null, false);
    }
    match std::str::from_utf8(body) {
        Ok(s) => (Value::String(s.to_string()), false),
        Err(_) => (
            Value::String(base64::engine::general_purpose::STANDARD.encode(body)),
            true,
        ),
    }
}

/// Inserts `v` unless it is `null` (absent members are omitted from events).
fn put(m: &mut Map<String, Value>, k: &str, v: Value) {
    if !v.is_null() {
        m.insert(k.into(), v);
    }
}

/// The payload 2.0 event (lambda-events.md §2.1).
pub fn event_v2(c: &HttpApiCall<'_>, body: &Bytes) -> Vec<u8> {
    let mut m = request_v2(c);
    let (body_value, encoded) = event_body(body);
    put(&mut m, "body", body_value);
    m.insert("isBase64Encoded".into(), json!(encoded));
    serde_json::to_vec(&Value::Object(m)).unwrap_or_default()
}

/// A payload 2.0 event's members but the body: what a 2.0 Lambda authorizer's event
/// carries too.
pub fn request_v2(c: &HttpApiCall<'_>) -> Map<String, Value> {
    let mut headers: Map<String, Value> = Map::new();
    let mut cookies: Vec<Value> = Vec::new();
    for (k, v) in &c.parts.headers {
        let v = String::from_utf8_lossy(v.as_bytes());
        if k == http::header::COOKIE {
            cookies.extend(
                v.split(';')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.to_string())),
            );
            continue;
        }
        match headers.get_mut(k.as_str()) {
            Some(Value::String(prev)) => {
                prev.push(',');
                prev.push_str(&v);
            }
            _ => {
                headers.insert(k.as_str().to_string(), Value::String(v.into_owned()));
            }
        }
    }
    let raw_query = c.parts.uri.query().unwrap_or_default();
    let mut query: Map<String, Value> = Map::new();
    for (k, v) in query_pairs(raw_query) {
        match query.get_mut(&k) {
            Some(Value::String(prev)) => {
                prev.push(',');
                prev.push_str(&v);
            }
            _ => {
                query.insert(k, Value::String(v));
            }
        }
    }
    let mut m = Map::new();
    m.insert("version".into(), json!("2.0"));
    m.insert("routeKey".into(), json!(&*c.route.key));
    m.insert("rawPath".into(), json!(c.raw_path));
    m.insert("rawQueryString".into(), json!(raw_query));
    if !cookies.is_empty() {
        m.insert("cookies".into(), Value::Array(cookies));
    }
    m.insert("headers".into(), Value::Object(headers));
    if !query.is_empty() {
        m.insert("queryStringParameters".into(), Value::Object(query));
    }
    let mut request_context = json!({
        "accountId": tollgate_model::ACCOUNT_ID,
        "apiId": c.api_id,
        "domainName": c.domain_name,
        "domainPrefix": c.domain_prefix(),
        "http": {
            "method": c.parts.method.as_str(),
            "path": c.raw_path,
            "protocol": c.protocol(),
            "sourceIp": c.source_ip(),
            "userAgent": c.user_agent(),
        },
        "requestId": c.request_id,
        "routeKey": &*c.route.key,
        "stage": c.stage,
        "time": tollgate_model::time::clf_time(c.time_epoch_ms),
        "timeEpoch": c.time_epoch_ms,
    });
    if let (Some(a), Value::Object(rc)) = (&c.context.authorizer, &mut request_context) {
        rc.insert("authorizer".into(), a.event_v2());
    }
    m.insert("requestContext".into(), request_context);
    put(&mut m, "pathParameters", c.path_parameters());
    put(&mut m, "stageVariables", c.stage_variables_value());
    m
}

/// The payload 1.0 event on an HTTP API (lambda-events.md §2.2): REST's shape plus
/// `version`, with `resourceId` null and the route path as the resource.
pub fn event_v1(c: &HttpApiCall<'_>, body: &Bytes) -> Vec<u8> {
    let mut m = request_v1(c);
    let (body_value, encoded) = event_body(body);
    m.insert("body".into(), body_value);
    m.insert("isBase64Encoded".into(), json!(encoded));
    serde_json::to_vec(&Value::Object(m)).unwrap_or_default()
}

/// A payload 1.0 event's members but the body: what a 1.0 Lambda authorizer's event
/// carries too.
pub fn request_v1(c: &HttpApiCall<'_>) -> Map<String, Value> {
    let (headers, multi_headers) = string_map(c.parts.headers.iter().map(|(k, v)| {
        (
            title_case(k.as_str()),
            String::from_utf8_lossy(v.as_bytes()).into_owned(),
        )
    }));
    let (query, multi_query) = string_map(query_pairs(c.parts.uri.query().unwrap_or_default()));
    let resource = &*c.route.arn_path;
    let request_context = json!({
        "accountId": tollgate_model::ACCOUNT_ID,
        "apiId": c.api_id,
        "domainName": c.domain_name,
        "domainPrefix": c.domain_prefix(),
        "extendedRequestId": c.request_id,
        "httpMethod": c.parts.method.as_str(),
        "identity": identity_v1(c),
        "path": c.raw_path,
        "protocol": c.protocol(),
        "requestId": c.request_id,
        "requestTime": tollgate_model::time::clf_time(c.time_epoch_ms),
        "requestTimeEpoch": c.time_epoch_ms,
        "resourceId": null,
        "resourcePath": resource,
        "stage": c.stage,
        "authorizer": HttpAuthorized::event_v1(c.context.authorizer.as_ref()),
    });
    let event = json!({
        "version": "1.0",
        "resource": resource,
        "path": c.raw_path,
        "httpMethod": c.parts.method.as_str(),
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "requestContext": request_context,
        "pathParameters": c.path_parameters(),
        "stageVariables": c.stage_variables_value(),
    });
    match event {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn malformed(api_id: &str, why: &str) -> HttpApiError {
    tracing::info!(api = %api_id, why, "malformed Lambda response (payload 2.0)");
    HttpApiError::Internal
}

/// The client's response from a payload 2.0 function's output (lambda-events.md §4.2): a
/// JSON object with `statusCode` is structured; any other JSON is the body of a 200.
pub fn output_v2(
    api_id: &str,
    out: &InvokeResponse,
) -> Result<Response<GatewayBody>, HttpApiError> {
    if out.function_error {
        tracing::info!(api = %api_id, "Lambda function error (payload 2.0)");
        return Err(HttpApiError::Internal);
    }
    let v: Value =
        serde_json::from_slice(&out.payload).map_err(|_| malformed(api_id, "not JSON"))?;
    let structured = match &v {
        Value::Object(o) if o.contains_key("statusCode") => Some(o),
        _ => None,
    };
    let Some(obj) = structured else {
        // Inferred: a JSON string is the body as text, anything else its JSON text.
        let body = match v {
            Value::String(s) => Bytes::from(s),
            _ => out.payload.clone(),
        };
        let mut resp = Response::new(GatewayBody::from_bytes(body));
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return Ok(resp);
    };
    let status = match &obj["statusCode"] {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .and_then(|n| u16::try_from(n).ok())
    .and_then(|n| http::StatusCode::from_u16(n).ok())
    .ok_or_else(|| malformed(api_id, "statusCode"))?;
    let mut headers = HeaderMap::new();
    if let Some(Value::Object(h)) = obj.get("headers") {
        for (k, v) in h {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(&text(v)),
            ) {
                headers.insert(n, v);
            }
        }
    }
    if let Some(Value::Array(cookies)) = obj.get("cookies") {
        for c in cookies {
            if let Ok(v) = HeaderValue::from_str(&text(c)) {
                headers.append(http::header::SET_COOKIE, v);
            }
        }
    }
    let body = match obj.get("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(v) => Bytes::from(text(v)),
    };
    let body = if obj.get("isBase64Encoded") == Some(&Value::Bool(true)) {
        base64::engine::general_purpose::STANDARD
            .decode(&body)
            .map(Bytes::from)
            .map_err(|_| malformed(api_id, "body is not base64"))?
    } else {
        body
    };
    if !headers.contains_key(http::header::CONTENT_TYPE) {
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    let mut resp = Response::new(GatewayBody::from_bytes(body));
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    Ok(resp)
}

/// `AWS_PROXY` to a Lambda function.
pub async fn lambda(
    c: &HttpApiCall<'_>,
    i: &HttpIntegration,
    target: &LambdaTarget,
    body: RequestBody,
) -> Result<Response<GatewayBody>, HttpApiError> {
    let functions = c.functions.ok_or(HttpApiError::Internal)?;
    let body = body.collect(c.body_stall).await?;
    let event = match i.payload {
        PayloadFormatVersion::V2 => event_v2(c, &body),
        PayloadFormatVersion::V1 => event_v1(c, &body),
    };
    let f = target.resolve(c.stage_variables, c.api_id)?;
    if !i.has_credentials {
        permit(
            functions,
            &f,
            c.api_id,
            c.stage,
            &c.source_arn(functions.region()),
        )?;
    }
    let call = functions.invoke(
        &f.name,
        f.qualifier.as_deref(),
        InvokeRequest {
            payload: Bytes::from(event),
            log_tail: false,
            client_context: None,
        },
    );
    let out = match tokio::time::timeout(i.timeout, call).await {
        Err(_) => return Err(HttpApiError::ServiceUnavailable),
        Ok(Err(e)) => {
            tracing::info!(api = %c.api_id, function = %f.name, error = %e, "Lambda invocation failed");
            return Err(HttpApiError::Internal);
        }
        Ok(Ok(out)) => out,
    };
    match i.payload {
        PayloadFormatVersion::V2 => output_v2(c.api_id, &out),
        // HTTP APIs decode an `isBase64Encoded` body whatever the client accepts.
        PayloadFormatVersion::V1 => Ok(proxy_output(c.api_id, &out, true, || true)?),
    }
}

/// `HTTP_PROXY`: the client's request streams to the integration URI (with the request
/// path appended for the `$default` route), the backend's answer streams back.
pub async fn http_proxy(
    c: &HttpApiCall<'_>,
    i: &HttpIntegration,
    uri: &[UriPiece],
    method: Option<&http::Method>,
    body: RequestBody,
) -> Result<Response<GatewayBody>, HttpApiError> {
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
    } else if *c.route.arn_path == *"$default" {
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
        if k != http::header::HOST && !DROPPED_ON_ENTRY.contains(&k.as_str()) {
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
    apply_headers(&i.request_mappings, &sources, &mut headers);
    let req = BackendRequest {
        method,
        uri,
        headers,
        body: body.into_stream(),
    };
    let resp = HttpClient::current().send(req, i.timeout).await?;
    Ok(respond::proxy_response(resp))
}

/// What a path parameter's value is encoded with in a backend URL.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A payload 1.0 event's `requestContext.identity`: the client, and an `AWS_IAM` route's
/// caller.
fn identity_v1(c: &HttpApiCall<'_>) -> Value {
    let mut identity = json!({"sourceIp": c.source_ip(), "userAgent": c.user_agent()});
    if let Some(caller) = HttpAuthorized::iam(c.context.authorizer.as_ref()) {
        identity["accessKey"] = json!(caller.access_key);
        identity["accountId"] = json!(caller.account);
        identity["caller"] = json!(caller.user_id);
        identity["user"] = json!(caller.user_id);
        identity["userArn"] = json!(caller.arn);
    }
    identity
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(payload: &str, error: bool) -> InvokeResponse {
        InvokeResponse {
            payload: Bytes::from(payload.to_string()),
            function_error: error,
            log: None,
            executed_version: "$LATEST".into(),
            request_id: "r".into(),
        }
    }

    #[test]
    fn v2_output_inference_and_structure() {
        let r = output_v2("a", &out(r#""hello""#, false)).unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/json");
        let r = output_v2("a", &out(r#"{"a":1}"#, false)).unwrap();
        assert_eq!(r.status(), 200);
        let r = output_v2(
            "a",
            &out(
                r#"{"statusCode":"201","headers":{"x-a":"1"},"cookies":["a=1","b=2"],"body":"aGk=","isBase64Encoded":true,"extra":1}"#,
                false,
            ),
        )
        .unwrap();
        assert_eq!(r.status(), 201);
        assert_eq!(r.headers()["x-a"], "1");
        assert_eq!(r.headers().get_all("set-cookie").iter().count(), 2);
        for (payload, error) in [
            ("nope", false),
            ("{}", true),
            (r#"{"statusCode":"x"}"#, false),
        ] {
            assert_eq!(
                output_v2("a", &out(payload, error)).err(),
                Some(HttpApiError::Internal),
                "{payload}"
            );
        }
    }
}
