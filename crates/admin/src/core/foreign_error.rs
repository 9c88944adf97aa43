//! The front door's own answers (refusals, an endpoint that does not answer) in the error
//! shape of the service the caller addressed, which its SDK parses.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue};

use crate::core::error::ApiError;
use crate::core::query::{escape, query_protocol_code, xml};

/// The error shape the caller's SDK parses for the service it called.
pub(crate) enum Shape {
    /// S3's `<Error>`.
    S3,
    /// The query protocol's `<ErrorResponse>` (a form-encoded call).
    Query,
    /// The JSON protocols: `__type` in the body and `x-amzn-ErrorType`.
    Json,
}

impl Shape {
    pub(crate) fn of(service: &str, headers: &HeaderMap) -> Shape {
        let form = headers.get(http::header::CONTENT_TYPE).is_some_and(|v| {
            v.as_bytes()
                .starts_with(b"application/x-www-form-urlencoded")
        });
        match service {
            "s3" => Shape::S3,
            _ if form => Shape::Query,
            _ => Shape::Json,
        }
    }

    pub(crate) fn render(&self, service: &str, e: ApiError, request_id: &str) -> Response {
        match self {
            Shape::S3 => {
                let body = format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code>\
                     <Message>{}</Message><RequestId>{request_id}</RequestId></Error>",
                    query_protocol_code(e.error_type),
                    escape(&e.message)
                );
                xml(e.status, body, request_id)
            }
            Shape::Query => crate::core::query::error(
                &format!("http://{service}.amazonaws.com/doc/"),
                &e,
                request_id,
            ),
            Shape::Json => {
                let body = serde_json::json!({ "__type": e.error_type, "message": e.message });
                let mut resp = e.into_response();
                *resp.body_mut() = Body::from(body.to_string());
                if let Ok(v) = HeaderValue::from_str(request_id) {
                    resp.headers_mut().insert("x-amzn-RequestId", v);
                }
                resp
            }
        }
    }
}
