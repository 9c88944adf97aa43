//! The caller of an `AWS_IAM` method on a REST API (auth-throttle-cache.md §7.1): the
//! request as `crate::iam` checks it, and its refusals as REST gateway responses.

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
    let now = std::time::SystemTime::now();
    // HTTP/2 carries the signed host as `:authority`, which is no header.
    let with_host;
    let headers = match inv.parts.uri.authority() {
        Some(a) if !inv.parts.headers.contains_key(http::header::HOST) => {
            let mut h = inv.parts.headers.clone();
            if let Ok(v) = http::HeaderValue::from_str(a.as_str()) {
                h.insert(http::header::HOST, v);
            }
            with_host = h;
            &with_host
        }
        _ => &inv.parts.headers,
    };
    let incoming = |body| IncomingRequest {
        method: inv.parts.method.as_str(),
        raw_path: inv.parts.uri.path(),
        raw_query: inv.parts.uri.query(),
        headers,
        body,
    };
    let head = gw
        .iam
        .check_head(&incoming(&[]), now)
        .map_err(iam_refused)?;
    let bytes = body
        .take()
        .ok_or_else(GatewayError::internal)?
        .collect(gw.body_stall)
        .await?;
    let caller = gw.iam.finish(head, &incoming(&bytes), now);
    *body = Some(RequestBody::Buffered(bytes));
    caller.map_err(iam_refused)
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
