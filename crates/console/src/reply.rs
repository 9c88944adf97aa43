//! The console's answers: JSON errors shaped as AWS's (`__type`, `message`, and the
//! `x-amzn-ErrorType` header), and the headers every console answer carries.

use axum::body::Body;
use http::{HeaderValue, Response, StatusCode};

/// Scripts, styles and calls from the console's own origin only; never framed.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub fn json(status: u16, value: &serde_json::Value) -> Response<Body> {
    let mut r = Response::new(Body::from(value.to_string()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

pub fn error(status: u16, error_type: &'static str, message: &str) -> Response<Body> {
    let mut r = json(
        status,
        &serde_json::json!({ "__type": error_type, "message": message }),
    );
    r.headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_static(error_type));
    r
}

pub fn redirect(to: &'static str) -> Response<Body> {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::PERMANENT_REDIRECT;
    r.headers_mut()
        .insert(http::header::LOCATION, HeaderValue::from_static(to));
    r
}

/// The headers every console answer carries; answers that say nothing about caching are
/// not cached (they hold the caller's data).
pub fn harden(mut r: Response<Body>) -> Response<Body> {
    let h = r.headers_mut();
    h.insert(
        http::header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        http::header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        http::header::X_FRAME_OPTIONS,
        HeaderValue::from_static("DENY"),
    );
    h.insert(
        http::header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.entry(http::header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    r
}
