//! The WebSocket pipeline's HTTP answers: AWS's JSON error shape with `x-amzn-ErrorType`.

use http::Response;

use crate::body::GatewayBody;

/// A JSON error answer with AWS's `x-amzn-ErrorType`.
pub fn error(status: u16, error_type: &str, message: &str) -> Response<GatewayBody> {
    let body = serde_json::json!({ "message": message }).to_string();
    let mut resp = Response::new(GatewayBody::from_bytes(body));
    *resp.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = http::HeaderValue::from_str(error_type) {
        h.insert("x-amzn-ErrorType", v);
    }
    if let Ok(v) = http::HeaderValue::from_str(&tollgate_model::ids::long_id()) {
        h.insert("x-amzn-RequestId", v);
    }
    resp
}
