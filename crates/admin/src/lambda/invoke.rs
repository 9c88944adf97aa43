//! Invoke: `RequestResponse` (the default), `Event` (queued durably, answered 202) and
//! `DryRun` (checks the function exists, 204).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use http::{HeaderMap, HeaderValue, StatusCode};
use tollgate_functions::{InvokeError, InvokeRequest};

use super::shared::{engine, function_ref, invalid_parameter, qualifier};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::util::Query as Q;

/// Lambda's error for an invocation it did not run.
pub fn invoke_error(e: InvokeError) -> ApiError {
    match e {
        InvokeError::NotFound(arn) => {
            super::shared::not_found(format!("Function not found: {arn}"))
        }
        InvokeError::TooManyRequests { reason } => {
            tracing::info!(reason, "invocation throttled");
            ApiError::new(429, "TooManyRequestsException", "Rate Exceeded.")
        }
        InvokeError::Upstream(why) => {
            tracing::warn!(error = %why, "remote Lambda invocation failed");
            ApiError::new(502, "ServiceException", why.to_string())
        }
        e @ InvokeError::RequestTooLarge { .. } => {
            ApiError::new(413, "RequestEntityTooLargeException", e.to_string())
        }
    }
}

pub async fn invoke(
    State(ctx): State<Ctx>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let r = function_ref(&raw)?;
    let qual = qualifier(&r, &q)?;
    let functions = engine(&ctx)?;
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    if !body.is_empty() && serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err() {
        return Err(ApiError::new(
            400,
            "InvalidRequestContentException",
            "Could not parse request body into json: Could not parse payload into json: Unexpected character: was expecting a JSON value",
        ));
    }
    let log_tail = match header("x-amz-log-type") {
        None | Some("None") => false,
        Some("Tail") => true,
        Some(other) => {
            return Err(super::shared::constraint(
                other,
                "logType",
                "Member must satisfy enum value set: [Tail, None]",
            ))
        }
    };
    match header("x-amz-invocation-type").unwrap_or("RequestResponse") {
        "RequestResponse" => {}
        "Event" => {
            let _id = functions
                .invoke_async(&r.name, qual.as_deref(), body)
                .await
                .map_err(invoke_error)?;
            return Ok(StatusCode::ACCEPTED.into_response());
        }
        "DryRun" => {
            functions
                .exists(&r.name, qual.as_deref())
                .map_err(invoke_error)?;
            return Ok(StatusCode::NO_CONTENT.into_response());
        }
        other => {
            return Err(super::shared::constraint(
                other,
                "invocationType",
                "Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
            ))
        }
    }
    let client_context = match header("x-amz-client-context") {
        None => None,
        Some(b64) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    invalid_parameter("Client context must be a valid Base64-encoded JSON object.")
                })?,
        ),
    };
    let out = functions
        .invoke(
            &r.name,
            qual.as_deref(),
            InvokeRequest {
                payload: if body.is_empty() {
                    Bytes::from_static(b"{}")
                } else {
                    body
                },
                log_tail,
                client_context,
                trace_id: header("x-amzn-trace-id").map(str::to_string),
            },
        )
        .await
        .map_err(invoke_error)?;
    let mut resp = (StatusCode::OK, out.payload).into_response();
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&out.executed_version) {
        h.insert("x-amz-executed-version", v);
    }
    if out.function_error {
        h.insert(
            "x-amz-function-error",
            HeaderValue::from_static("Unhandled"),
        );
    }
    if let Some(log) = out.log {
        // The last 4 KB, as Lambda returns it.
        let bytes = log.as_bytes();
        let tail = &bytes[bytes.len().saturating_sub(4096)..];
        if let Ok(v) =
            HeaderValue::from_str(&base64::engine::general_purpose::STANDARD.encode(tail))
        {
            h.insert("x-amz-log-result", v);
        }
    }
    Ok(resp)
}
