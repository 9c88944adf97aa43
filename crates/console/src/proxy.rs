//! `POST /_tollgate/aws`: one AWS API call of the console's pages, signed here with the
//! caller's credentials and handed to the control plane's router, which verifies the
//! signature and applies the caller's policies as for any client.

use std::collections::BTreeMap;
use std::time::SystemTime;

use axum::body::Body;
use http::{HeaderMap, HeaderValue, Method, Request, Response};
use http_body_util::{BodyExt, Limited};
use serde::Deserialize;
use tower::ServiceExt;

use crate::context::Console;
use crate::guard::Caller;
use crate::reply;

/// A console call's JSON (a Lambda payload is at most 6 MB, base64 and JSON add a third).
const MAX_CALL: usize = 8 * 1024 * 1024;

/// The services the control plane serves, by signing name.
const SERVICES: &[&str] = &["apigateway", "lambda", "sts", "iam", "acm"];

/// Request headers a page may set; everything else is the signer's.
const FORWARDED: &[&str] = &[
    "content-type",
    "accept",
    "x-amz-target",
    "x-amz-invocation-type",
    "x-amz-log-type",
];

/// Answer headers a page may read.
const RETURNED: &[&str] = &[
    "content-type",
    "x-amzn-errortype",
    "x-amzn-requestid",
    "x-amz-log-result",
    "x-amz-function-error",
    "x-amz-executed-version",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Call {
    service: String,
    method: String,
    path: String,
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

/// Credentials a call is signed with.
pub struct Keys<'a> {
    pub access_key_id: &'a str,
    pub secret: &'a str,
}

impl<'a> From<&'a Caller> for Keys<'a> {
    fn from(c: &'a Caller) -> Keys<'a> {
        Keys {
            access_key_id: c.access_key_id(),
            secret: c.secret(),
        }
    }
}

/// One call to the control plane, as a page describes it.
pub struct Outgoing<'a> {
    pub service: &'a str,
    pub method: Method,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

pub async fn forward(console: &Console, caller: &Caller, req: Request<Body>) -> Response<Body> {
    let host = crate::guard::host(&req).unwrap_or("localhost").to_string();
    let bytes = match Limited::new(req.into_body(), MAX_CALL).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return reply::error(413, "PayloadTooLargeException", "The call is too large."),
    };
    let call: Call = match serde_json::from_slice(&bytes) {
        Ok(c) => c,
        Err(e) => return reply::error(400, "BadRequestException", &format!("Invalid call: {e}")),
    };
    let Some(service) = SERVICES.iter().copied().find(|s| *s == call.service) else {
        return reply::error(400, "BadRequestException", "Unknown service.");
    };
    let method = match call.method.as_str() {
        "GET" => Method::GET,
        "POST" => Method::POST,
        "PUT" => Method::PUT,
        "PATCH" => Method::PATCH,
        "DELETE" => Method::DELETE,
        _ => return reply::error(400, "BadRequestException", "Unsupported method."),
    };
    let plain = |s: &str| !s.contains(['#', ' ']) && !s.chars().any(char::is_control);
    let query = call.query.as_deref().filter(|q| !q.is_empty());
    if !call.path.starts_with('/')
        || call.path.contains('?')
        || !plain(&call.path)
        || !query.is_none_or(plain)
    {
        return reply::error(400, "BadRequestException", "Invalid path or query.");
    }
    let mut headers = HeaderMap::new();
    for (name, value) in &call.headers {
        let name = name.to_ascii_lowercase();
        let Some(known) = FORWARDED.iter().find(|f| **f == name) else {
            return reply::error(400, "BadRequestException", "Unsupported header.");
        };
        let Ok(value) = HeaderValue::from_str(value) else {
            return reply::error(400, "BadRequestException", "Invalid header value.");
        };
        headers.insert(*known, value);
    }
    let out = Outgoing {
        service,
        method,
        path: &call.path,
        query,
        headers,
        body: call.body.unwrap_or_default().into_bytes(),
    };
    let answer = send(console, Keys::from(caller), &host, out).await;
    let (parts, body) = answer.into_parts();
    let mut r = Response::new(body);
    *r.status_mut() = parts.status;
    for name in RETURNED {
        if let Some(v) = parts.headers.get(*name) {
            r.headers_mut().insert(*name, v.clone());
        }
    }
    r
}

/// Signs `out` with `keys` (as the CLI would, for `host`) and runs it through the control
/// plane's router.
pub async fn send(
    console: &Console,
    keys: Keys<'_>,
    host: &str,
    out: Outgoing<'_>,
) -> Response<Body> {
    let config = &console.config;
    sign_and_send(&config.admin, &config.region, keys, host, out).await
}

/// Signs `out` with `keys` for `region` (as the CLI would, for `host`) and runs it through
/// `admin`, the control plane's router: the developer portal creates API keys this way,
/// through the same handlers as any client.
pub async fn sign_and_send(
    admin: &axum::Router,
    region: &str,
    keys: Keys<'_>,
    host: &str,
    out: Outgoing<'_>,
) -> Response<Body> {
    let mut headers = out.headers;
    let Ok(host_value) = HeaderValue::from_str(host) else {
        return reply::error(400, "BadRequestException", "Invalid Host.");
    };
    headers.insert(http::header::HOST, host_value);
    if !out.body.is_empty() && !headers.contains_key(http::header::CONTENT_TYPE) {
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    let credential = tollgate_sigv4::Credential {
        secret_access_key: keys.secret.to_string(),
        session_token: None,
    };
    tollgate_sigv4::sign(
        out.method.as_str(),
        out.path,
        out.query,
        &mut headers,
        &out.body,
        &tollgate_sigv4::Signer {
            access_key_id: keys.access_key_id,
            credential: &credential,
            region,
            service: out.service,
        },
        SystemTime::now(),
    );
    let target = match out.query {
        Some(q) => format!("{}?{q}", out.path),
        None => out.path.to_string(),
    };
    let mut req = Request::new(Body::from(out.body));
    *req.method_mut() = out.method;
    *req.headers_mut() = headers;
    match target.parse() {
        Ok(uri) => *req.uri_mut() = uri,
        Err(_) => return reply::error(400, "BadRequestException", "Invalid path or query."),
    }
    match admin.clone().oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}
