//! The caller of an `AWS_IAM` method or route (auth-throttle-cache.md §7.1): the request
//! as `crate::iam` checks it (REST and HTTP APIs alike), and its refusals as REST gateway
//! responses.

use std::sync::Arc;

use tollgate_model::GatewayResponseType as T;
use tollgate_sigv4::IncomingRequest;

use crate::error::GatewayError;
use crate::iam::{CallerIdentity, IamRejection};
use crate::invocation::{Invocation, RequestBody};
use crate::Gateway;

/// The SigV4 caller of an `AWS_IAM` method (§7.1). The head is checked first, so an
/// unsigned request is refused without reading its body; the body is then read (the
/// signature covers its hash) and kept for the phases after.
pub async fn authenticate(
    gw: &Gateway,
    inv: &Invocation<'_>,
    body: &mut Option<RequestBody>,
) -> Result<Arc<CallerIdentity>, GatewayError> {
    match caller(gw, &inv.parts, body).await {
        Ok(c) => Ok(c),
        Err(Refused::Iam(r)) => Err(iam_refused(r)),
        Err(Refused::Body(e)) => Err(e),
    }
}

/// Why [`caller`] found no caller.
pub enum Refused {
    Iam(IamRejection),
    /// The body could not be read.
    Body(GatewayError),
}

/// The SigV4 caller of a request to `parts`, reading `body` (kept, buffered, for what
/// follows) only once the head checks out.
pub async fn caller(
    gw: &Gateway,
    parts: &http::request::Parts,
    body: &mut Option<RequestBody>,
) -> Result<Arc<CallerIdentity>, Refused> {
    caller_for(gw, parts, body, "execute-api").await
}

/// [`caller`] of a request signed for `service` (`lambda` for function URLs).
pub async fn caller_for(
    gw: &Gateway,
    parts: &http::request::Parts,
    body: &mut Option<RequestBody>,
    service: &str,
) -> Result<Arc<CallerIdentity>, Refused> {
    let now = std::time::SystemTime::now();
    // HTTP/2 carries the signed host as `:authority`, which is no header.
    let with_host;
    let headers = match parts.uri.authority() {
        Some(a) if !parts.headers.contains_key(http::header::HOST) => {
            let mut h = parts.headers.clone();
            if let Ok(v) = http::HeaderValue::from_str(a.as_str()) {
                h.insert(http::header::HOST, v);
            }
            with_host = h;
            &with_host
        }
        _ => &parts.headers,
    };
    let signed = parts
        .extensions
        .get::<crate::frontend::SignedUri>()
        .map_or(&parts.uri, |s| &s.0);
    let incoming = |body| IncomingRequest {
        method: parts.method.as_str(),
        raw_path: signed.path(),
        raw_query: signed.query(),
        headers,
        body,
    };
    // One load for the whole check: the key table the head was checked against is the one
    // the signature is.
    let iam = gw.iam.load();
    let head = iam
        .check_head_for(&incoming(&[]), now, service)
        .map_err(Refused::Iam)?;
    let bytes = body
        .take()
        .ok_or_else(GatewayError::internal)
        .map_err(Refused::Body)?
        .collect(gw.body_stall)
        .await
        .map_err(Refused::Body)?;
    let caller = iam.finish(head, &incoming(&bytes), now);
    *body = Some(RequestBody::Buffered(bytes));
    caller.map_err(Refused::Iam)
}

/// The SigV4 headers of an `AWS_IAM` request, removed once it is authenticated: AWS
/// never hands the caller's signature on to the integration.
pub const SIGNING_HEADERS: [&str; 4] = [
    "authorization",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

/// The request head without an IAM caller's SigV4 headers.
pub fn without_signature(parts: &http::request::Parts) -> http::request::Parts {
    let (mut out, ()) = http::Request::new(()).into_parts();
    out.method = parts.method.clone();
    out.uri = parts.uri.clone();
    out.version = parts.version;
    out.headers = parts.headers.clone();
    for h in SIGNING_HEADERS {
        out.headers.remove(h);
    }
    out
}

/// A refused signature as its gateway response: MISSING_AUTHENTICATION_TOKEN without auth
/// data, EXPIRED_TOKEN for expired temporary credentials, INVALID_SIGNATURE for every other
/// signature failure (with the verifier's exact exception in `x-amzn-ErrorType`).
fn iam_refused(r: IamRejection) -> GatewayError {
    match r {
        IamRejection::Expired => GatewayError::new(
            T::ExpiredToken,
            "The security token included in the request is expired",
        ),
        IamRejection::Signature(e) if e.error_type == "MissingAuthenticationTokenException" => {
            GatewayError::missing_token()
        }
        IamRejection::Signature(e) => {
            let err =
                GatewayError::new(T::InvalidSignature, e.message).with_error_type(e.error_type);
            if e.status == 403 {
                err
            } else {
                err.with_status(e.status)
            }
        }
    }
}
