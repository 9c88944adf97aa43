//! The events an HTTP API sends a Lambda function: payload 2.0 (lambda-events.md §2.1) and
//! 1.0 (§2.2).

use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::call::HttpApiCall;
use super::mapping::query_pairs;
use crate::http_context::HttpAuthorized;
use crate::integrations::lambda::{string_map, title_case};

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
    if let (Some(cert), Value::Object(rc)) = (&c.context.client_cert, &mut request_context) {
        rc.insert(
            "authentication".into(),
            json!({ "clientCert": cert.to_json() }),
        );
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
