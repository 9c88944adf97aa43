//! AWS-shaped control-plane errors: status, `x-amzn-ErrorType` header, `{"message": ...}`.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};
use tollgate_store::StoreError;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub error_type: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, error_type: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            error_type,
            message: message.into(),
        }
    }
    pub fn bad_request(m: impl Into<String>) -> Self {
        Self::new(400, "BadRequestException", m)
    }
    pub fn validation(m: impl Into<String>) -> Self {
        Self::new(400, "ValidationException", m)
    }
    pub fn serialization(m: impl Into<String>) -> Self {
        Self::new(400, "SerializationException", m)
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(404, "NotFoundException", m)
    }
    pub fn conflict(m: impl Into<String>) -> Self {
        Self::new(409, "ConflictException", m)
    }
    pub fn limit_exceeded(m: impl Into<String>) -> Self {
        Self::new(429, "LimitExceededException", m)
    }
    /// `Invalid API identifier specified {account}:{id}`
    pub fn no_api(id: &str) -> Self {
        Self::not_found(format!(
            "Invalid API identifier specified {}:{id}",
            tollgate_model::ACCOUNT_ID
        ))
    }
    pub fn no_resource() -> Self {
        Self::not_found("Invalid Resource identifier specified")
    }
    pub fn no_method() -> Self {
        Self::not_found("Invalid Method identifier specified")
    }
    pub fn no_integration() -> Self {
        Self::not_found("Invalid Integration identifier specified")
    }
    pub fn no_response_status() -> Self {
        Self::not_found("Invalid Response status code specified")
    }
    pub fn no_stage() -> Self {
        Self::not_found("Invalid Stage identifier specified")
    }
    pub fn no_deployment() -> Self {
        Self::not_found("Invalid Deployment identifier specified")
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store write failed");
        ApiError::new(
            500,
            "InternalFailure",
            "An internal error occurred while saving the change",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "message": self.message }).to_string();
        let mut resp = (
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST),
            body,
        )
            .into_response();
        let h = resp.headers_mut();
        h.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.insert(
            "x-amzn-ErrorType",
            HeaderValue::from_static(self.error_type),
        );
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
