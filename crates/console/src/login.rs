//! Logging in (an access key and secret, proven by a signed STS GetCallerIdentity through
//! the control plane), describing the caller to the pages, and logging out.

use axum::body::Body;
use http::{HeaderValue, Method, Request, Response};
use http_body_util::{BodyExt, Limited};
use serde::Deserialize;
use serde_json::json;

use crate::context::Console;
use crate::guard::{self, Caller};
use crate::proxy::{self, Keys, Outgoing};
use crate::{reply, session};

const MAX_LOGIN: usize = 4096;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Login {
    access_key_id: String,
    secret_access_key: String,
}

/// Whether a login may be sent over this connection: the secret travels in the request
/// body, so beyond loopback only over TLS (a TLS-terminating proxy on the same host
/// reaches the gateway over loopback).
fn private_channel(loopback: bool, tls: bool) -> bool {
    loopback || tls
}

pub async fn login(console: &Console, req: Request<Body>, loopback: bool) -> Response<Body> {
    if !private_channel(loopback, console.config.tls) {
        return reply::error(
            403,
            "AccessDeniedException",
            "Log in over HTTPS (tollgate serve --tls-cert) or from loopback: the secret would cross the network in clear.",
        );
    }
    // A cross-site form cannot send JSON without a preflight: no login CSRF.
    let json_body = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !guard::same_origin(&req) {
        return reply::error(
            403,
            "AccessDeniedException",
            "The request is not from the console's own pages.",
        );
    }
    if !json_body {
        return reply::error(415, "UnsupportedMediaTypeException", "Send JSON.");
    }
    let host = guard::host(&req).unwrap_or("localhost").to_string();
    let body = match Limited::new(req.into_body(), MAX_LOGIN).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return reply::error(413, "PayloadTooLargeException", "The login is too large."),
    };
    let Ok(login) = serde_json::from_slice::<Login>(&body) else {
        return reply::error(
            400,
            "BadRequestException",
            "Give accessKeyId and secretAccessKey.",
        );
    };
    if login.access_key_id.is_empty() || login.secret_access_key.is_empty() {
        return reply::error(
            400,
            "BadRequestException",
            "Give accessKeyId and secretAccessKey.",
        );
    }
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
    );
    let proof = proxy::send(
        console,
        Keys {
            access_key_id: &login.access_key_id,
            secret: &login.secret_access_key,
        },
        &host,
        Outgoing {
            service: "sts",
            method: Method::POST,
            path: "/",
            query: None,
            headers,
            body: b"Action=GetCallerIdentity&Version=2011-06-15".to_vec(),
        },
    )
    .await;
    if !proof.status().is_success() {
        // Neither which half was wrong nor the control plane's words.
        return reply::error(
            401,
            "UnrecognizedClientException",
            "The access key or the secret is not valid.",
        );
    }
    let token = console.sessions.open(session::Credentials {
        access_key_id: login.access_key_id.clone(),
        secret: login.secret_access_key,
    });
    let mut r = reply::json(200, &json!({ "accessKeyId": login.access_key_id }));
    if let Ok(v) = HeaderValue::from_str(&session::CONSOLE.set(
        Some(&token),
        session::LIFETIME,
        console.config.tls,
    )) {
        r.headers_mut().insert(http::header::SET_COOKIE, v);
    }
    r
}

/// `GET /_tollgate/session`: who the pages act as, and the CSRF token their calls carry
/// (readable by the console's own origin only). The secret is never in it.
pub fn describe(caller: &Caller) -> Response<Body> {
    let mode = match caller {
        Caller::Root { .. } => "loopback",
        Caller::Session(_) => "session",
    };
    reply::json(
        200,
        &json!({ "mode": mode, "accessKeyId": caller.access_key_id(), "csrf": caller.csrf() }),
    )
}

pub fn logout(console: &Console, req: &Request<Body>) -> Response<Body> {
    if let Some(token) = session::CONSOLE.read(req) {
        console.sessions.close(&token);
    }
    let mut r = Response::new(Body::empty());
    *r.status_mut() = http::StatusCode::NO_CONTENT;
    if let Ok(v) =
        HeaderValue::from_str(&session::CONSOLE.set(None, session::LIFETIME, console.config.tls))
    {
        r.headers_mut().insert(http::header::SET_COOKIE, v);
    }
    r
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_secret_is_sent_over_loopback_or_tls_only() {
        assert!(super::private_channel(true, false));
        assert!(super::private_channel(false, true));
        assert!(!super::private_channel(false, false));
    }
}
