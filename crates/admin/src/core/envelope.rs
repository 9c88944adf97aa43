//! The envelope every control-plane call passes through: request id, SigV4, body limits;
//! a call for a service Tollgate does not serve leaves through the front door once
//! authenticated.

use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use http::HeaderValue;
use http_body_util::BodyExt;
use tollgate_sigv4::IncomingRequest;

use crate::core::authorize;
use crate::core::budget::Reservation;
use crate::core::context::Ctx;
use crate::core::error::ApiError;
use crate::core::foreign_error::Shape;
use crate::core::front_door::{self, FrontDoor, Target};
use crate::core::query::SignedBy;
use crate::core::registry::{service_of, IamAction, IamCall, ServiceSpec};

/// Largest control-plane body unless a service sets its own (imports are limited to 6 MB by
/// AWS; leave headroom).
pub const MAX_BODY: usize = 8 * 1024 * 1024;

pub async fn envelope(State(ctx): State<Ctx>, req: Request, next: Next) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    if let Some(door) = &ctx.front_door {
        if let Some(target) = door.addressed(ctx.services, req.uri(), req.headers()) {
            return forward(&ctx, door, target, req, &request_id).await;
        }
    }
    let service = service_of(ctx.services, req.uri(), req.headers());
    let mut resp = match authenticate(&ctx, Gate::from(service), req).await {
        Ok((req, reservation)) => {
            let resp = next.run(req).await;
            // The handler is done with the body: its room goes back to the budget.
            drop(reservation);
            wait_until_live(&ctx).await;
            resp
        }
        Err(e) => service.error_response(e, &request_id),
    };
    // A handler that names its request id in the body (STS) has set the header already.
    if !resp.headers().contains_key("x-amzn-RequestId") {
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            resp.headers_mut().insert("x-amzn-RequestId", v);
        }
    }
    resp
}

/// A call for a service Tollgate does not serve: authenticated as every call, then sent on
/// by the front door.
async fn forward(
    ctx: &Ctx,
    door: &FrontDoor,
    target: Target,
    req: Request,
    request_id: &str,
) -> Response {
    let headers = req.headers().clone();
    let answer = async {
        front_door::refuse_streaming(req.headers())?;
        let gate = Gate {
            signing_name: target.service(),
            max_body: MAX_BODY,
            iam_action: front_door::forwarded_action,
        };
        let (req, reservation) = authenticate(ctx, gate, req).await?;
        door.send(&target, req, reservation).await
    };
    answer.await.unwrap_or_else(|e| {
        let service = target.service();
        Shape::of(service, &headers).render(service, e, request_id)
    })
}

/// A successful write returns only once every follower of the store's change feed (the
/// data plane, the function engine) has applied it (bounded), so a client that deploys and
/// then calls its API, or creates a function and then invokes it, sees the change.
async fn wait_until_live(ctx: &Ctx) {
    let target = ctx.store.state().version;
    let followers = ctx
        .data_plane_version
        .iter()
        .cloned()
        .chain(ctx.functions.as_ref().map(|f| f.applied_version()));
    let all = async {
        for mut rx in followers {
            let _ = rx.wait_for(|v| *v >= target).await;
        }
    };
    if tokio::time::timeout(std::time::Duration::from_secs(5), all)
        .await
        .is_err()
    {
        tracing::warn!(
            version = target,
            "a follower of the store did not apply the change within 5 s"
        );
    }
}

/// What a call is authenticated for: the service its signature must be scoped to, its body
/// limit and the IAM action it is.
struct Gate<'a> {
    signing_name: &'a str,
    max_body: usize,
    iam_action: fn(&IamCall<'_>) -> Option<IamAction>,
}

impl From<&ServiceSpec<Ctx>> for Gate<'static> {
    fn from(s: &ServiceSpec<Ctx>) -> Self {
        Gate {
            signing_name: s.signing_name,
            max_body: s.max_body,
            iam_action: s.iam_action,
        }
    }
}

/// Checks the signature: everything the head can prove before a byte of the body is read
/// (a hostile client gets its 403 at once, whatever length it declares), then, with the
/// body in (within its limit and the budget of bodies in flight), the signature itself.
async fn authenticate(
    ctx: &Ctx,
    service: Gate<'_>,
    req: Request,
) -> Result<(Request, Reservation), ApiError> {
    let (parts, body) = req.into_parts();
    let incoming = |body| IncomingRequest {
        method: parts.method.as_str(),
        raw_path: parts.uri.path(),
        raw_query: parts.uri.query(),
        headers: &parts.headers,
        body,
    };
    let refused = |e: tollgate_sigv4::AuthError| {
        tracing::info!(
            error_type = e.error_type,
            path = parts.uri.path(),
            "control-plane call refused"
        );
        ApiError::new(e.status, e.error_type, e.message)
    };
    let head = ctx
        .verifier
        .check_head(&incoming(&[]), SystemTime::now(), service.signing_name)
        .map_err(refused)?;

    let limit = service.max_body;
    // Content-Length, or zero for a request without a body; unknown when chunked.
    let declared = axum::body::HttpBody::size_hint(&body)
        .upper()
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut reservation = ctx.body_budget.reserve(declared.unwrap_or(limit)).await?;
    let bytes = read_body(body, declared.unwrap_or(limit), ctx.body_stall).await?;
    reservation.shrink_to(bytes.len());

    let v = head.verify_signature(&incoming(&bytes)).map_err(refused)?;
    tracing::debug!(access_key = %v.access_key_id, method = %parts.method, path = parts.uri.path(), "control-plane call");
    // The root's keys may do everything; IAM's and STS's as their policies allow. A key
    // that verified but owns nothing now (deleted, deactivated or expired while the body
    // arrived) is refused, never treated as the root.
    let owner = ctx.keys.owner(&v.access_key_id).ok_or_else(|| {
        ApiError::new(
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
    })?;
    let state = ctx.store.state();
    authorize::check(
        &state,
        &owner,
        service.iam_action,
        &parts,
        &bytes,
        &ctx.region,
    )?;
    let mut parts = parts;
    parts.extensions.insert(SignedBy(v.access_key_id));
    Ok((Request::from_parts(parts, Body::from(bytes)), reservation))
}

/// The whole body, at most `limit` bytes. A body that stops arriving for `stall` is
/// abandoned, so a client cannot keep its share of the budget by never sending.
async fn read_body(mut body: Body, limit: usize, stall: Duration) -> Result<Bytes, ApiError> {
    // A declared length is allocated once (no doubling past what was reserved).
    let declared = usize::try_from(axum::body::HttpBody::size_hint(&body).lower()).unwrap_or(0);
    let mut buf = BytesMut::with_capacity(declared.min(limit));
    loop {
        let frame = match tokio::time::timeout(stall, body.frame()).await {
            Ok(Some(Ok(frame))) => frame,
            Ok(None) => return Ok(buf.freeze()),
            Ok(Some(Err(_))) => {
                return Err(ApiError::bad_request("The request body could not be read"))
            }
            Err(_) => {
                return Err(ApiError::new(
                    408,
                    "RequestTimeoutException",
                    format!("Request body not received within {} s", stall.as_secs()),
                ))
            }
        };
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(too_large());
            }
            buf.extend_from_slice(&data);
        }
    }
}

fn too_large() -> ApiError {
    ApiError::new(413, "RequestTooLargeException", "Request body too large")
}
