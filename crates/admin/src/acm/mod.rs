//! AWS Certificate Manager's import subset (JSON 1.1, `X-Amz-Target:
//! CertificateManager.{Action}`, signed for `acm`) on the control-plane endpoint:
//! ImportCertificate, DescribeCertificate, GetCertificate, ListCertificates and
//! DeleteCertificate. Imported certificates are kept in the store with their private keys
//! (custom domain names are served with them); no answer ever contains a key.

mod certificates;

use axum::response::IntoResponse;
use http::HeaderValue;

use crate::core::context::Ctx;
use crate::core::error::ApiError;
use crate::core::query::{QueryCall, QueryFuture};
use crate::core::registry::{ErrorShape, IamAction, IamCall, Recognition, ServiceSpec};

/// ACM on the control-plane endpoint: `/`, signed for `acm`.
pub static SERVICE: ServiceSpec<Ctx> = ServiceSpec {
    signing_name: "acm",
    recognition: Recognition::RootScoped,
    routes: axum::Router::new,
    // A certificate with its chain and key is a few kilobytes, base64-encoded in JSON.
    max_body: 256 * 1024,
    error_shape: ErrorShape::Json,
    unknown_operation: crate::core::error::unknown_operation,
    query: Some(handle),
    iam_action,
};

fn handle(ctx: Ctx, call: QueryCall) -> QueryFuture {
    Box::pin(async move {
        let result = match call.action.as_str() {
            "ImportCertificate" => certificates::import(&ctx, &call.body).await,
            "DescribeCertificate" => certificates::describe(&ctx, &call.body),
            "GetCertificate" => certificates::get(&ctx, &call.body),
            "ListCertificates" => certificates::list(&ctx, &call.body),
            "DeleteCertificate" => certificates::delete(&ctx, &call.body).await,
            other => Err(ApiError::new(
                400,
                "UnknownOperationException",
                format!("Operation {other} is not supported."),
            )),
        };
        let mut resp = match result {
            Ok(v) => (http::StatusCode::OK, v.to_string()).into_response(),
            Err(e) => json_error(e),
        };
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-amz-json-1.1"),
        );
        resp
    })
}

/// JSON 1.1's error shape: the code in the body's `__type` (botocore reads it there), as
/// well as in `x-amzn-ErrorType`.
fn json_error(e: ApiError) -> axum::response::Response {
    let body = serde_json::json!({ "__type": e.error_type, "message": e.message }).to_string();
    let mut resp = e.into_response();
    *resp.body_mut() = axum::body::Body::from(body);
    resp
}

/// `acm:{Action}` on the certificate named in the body (`*` for imports and lists).
fn iam_action(call: &IamCall<'_>) -> Option<IamAction> {
    let target = call.parts.headers.get("x-amz-target")?.to_str().ok()?;
    let action = target.rsplit_once('.').map_or(target, |(_, a)| a);
    let arn = serde_json::from_slice::<serde_json::Value>(call.body)
        .ok()
        .and_then(|v| v.get("CertificateArn")?.as_str().map(str::to_string));
    Some(IamAction {
        action: format!("acm:{action}"),
        resource: arn.unwrap_or_else(|| "*".into()),
        keys: Vec::new(),
    })
}
