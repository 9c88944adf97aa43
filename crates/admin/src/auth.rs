//! The envelope every control-plane call passes through: request id, body limit, SigV4.

use std::collections::HashMap;
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::HeaderValue;
use tollgate_sigv4::{Credential, CredentialProvider, IncomingRequest};

use crate::error::ApiError;
use crate::service::Service;
use crate::Ctx;

/// Largest control-plane body (imports are limited to 6 MB by AWS; leave headroom).
const MAX_BODY: usize = 8 * 1024 * 1024;

/// Largest Lambda call: a 50 MB zip, base64-encoded in JSON.
const MAX_LAMBDA_BODY: usize = 72 * 1024 * 1024;

/// The access keys the control plane accepts.
#[derive(Clone, Default)]
pub struct StaticCredentials {
    keys: HashMap<String, Credential>,
}

impl StaticCredentials {
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        StaticCredentials {
            keys: pairs
                .into_iter()
                .map(|(id, secret)| {
                    (
                        id,
                        Credential {
                            secret_access_key: secret,
                            session_token: None,
                        },
                    )
                })
                .collect(),
        }
    }
}

impl CredentialProvider for StaticCredentials {
    fn lookup(&self, access_key_id: &str) -> Option<Credential> {
        self.keys.get(access_key_id).cloned()
    }
}

pub async fn envelope(State(ctx): State<Ctx>, req: Request, next: Next) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let sts = Service::of(req.uri(), req.headers()) == Service::Sts;
    let mut resp = match authenticate(&ctx, req).await {
        Ok(req) => {
            let resp = next.run(req).await;
            wait_until_live(&ctx).await;
            resp
        }
        Err(e) if sts => crate::sts::error(&e, &request_id),
        Err(e) => e.into_response(),
    };
    // A handler that names its request id in the body (STS) has set the header already.
    if !resp.headers().contains_key("x-amzn-RequestId") {
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            resp.headers_mut().insert("x-amzn-RequestId", v);
        }
    }
    resp
}

/// A successful write returns only once the data plane serves it (bounded), so a client that
/// deploys and then calls its API sees the new deployment.
async fn wait_until_live(ctx: &Ctx) {
    let Some(rx) = &ctx.data_plane_version else {
        return;
    };
    let target = ctx.store.state().version;
    let mut rx = rx.clone();
    let wait = rx.wait_for(|v| *v >= target);
    if tokio::time::timeout(std::time::Duration::from_secs(5), wait)
        .await
        .is_err()
    {
        tracing::warn!(
            version = target,
            "data plane did not apply the change within 5 s"
        );
    }
}

async fn authenticate(ctx: &Ctx, req: Request) -> Result<Request, ApiError> {
    let (parts, body) = req.into_parts();
    let service = Service::of(&parts.uri, &parts.headers);
    let limit = if service == Service::Lambda {
        MAX_LAMBDA_BODY
    } else {
        MAX_BODY
    };
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::new(413, "RequestTooLargeException", "Request body too large"))?;
    let incoming = IncomingRequest {
        method: parts.method.as_str(),
        raw_path: parts.uri.path(),
        raw_query: parts.uri.query(),
        headers: &parts.headers,
        body: &bytes,
    };
    match ctx
        .verifier
        .verify_for(&incoming, SystemTime::now(), service.signing_name())
    {
        Ok(v) => {
            tracing::debug!(access_key = %v.access_key_id, method = %parts.method, path = parts.uri.path(), "control-plane call");
        }
        Err(e) => {
            tracing::info!(
                error_type = e.error_type,
                path = parts.uri.path(),
                "control-plane call refused"
            );
            let status = e.status;
            return Err(ApiError::new(status, e.error_type, e.message));
        }
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}
