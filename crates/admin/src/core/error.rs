//! AWS-shaped control-plane errors: status, `x-amzn-ErrorType` header, `{"message": ...}`.

use std::fmt::Display;

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

/// One broken model constraint of a request member, as AWS words it in a
/// ValidationException: `Value '{value}' at '{member}' failed to satisfy constraint: {rule}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub value: String,
    pub member: String,
    pub rule: String,
}

impl Violation {
    pub fn new(value: impl Display, member: impl Into<String>, rule: impl Into<String>) -> Self {
        Violation {
            value: value.to_string(),
            member: member.into(),
            rule: rule.into(),
        }
    }

    /// A value outside an enum: `Member must satisfy enum value set: [{allowed}]`.
    pub fn enum_value(value: impl Display, member: impl Into<String>, allowed: &str) -> Self {
        Self::new(
            value,
            member,
            format!("Member must satisfy enum value set: [{allowed}]"),
        )
    }
}

/// Parses a member of one of AWS's closed vocabularies, or answers AWS's enum violation
/// naming the vocabulary's members.
pub fn parse_enum<T>(value: &str, member: &str) -> ApiResult<T>
where
    T: std::str::FromStr<Err = tollgate_model::UnknownValue>,
{
    value.parse().map_err(|e: tollgate_model::UnknownValue| {
        Violation::enum_value(value, member, &e.allowed.join(", ")).into()
    })
}

/// [`parse_enum`] of an optional member.
pub fn parse_enum_opt<T>(value: Option<&str>, member: &str) -> ApiResult<Option<T>>
where
    T: std::str::FromStr<Err = tollgate_model::UnknownValue>,
{
    value.map(|v| parse_enum(v, member)).transpose()
}

impl Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Value '{}' at '{}' failed to satisfy constraint: {}",
            self.value, self.member, self.rule
        )
    }
}

/// `N validation error(s) detected: a; b`, AWS's one ValidationException for all of a
/// request's violations.
pub fn validation_errors(violations: &[Violation]) -> ApiError {
    let n = violations.len();
    let noun = if n == 1 { "error" } else { "errors" };
    let list: Vec<String> = violations.iter().map(Violation::to_string).collect();
    ApiError::validation(format!(
        "{n} validation {noun} detected: {}",
        list.join("; ")
    ))
}

impl From<Violation> for ApiError {
    fn from(v: Violation) -> Self {
        validation_errors(&[v])
    }
}

/// API Gateway's answer to a call no route serves (also for `/` not signed for STS).
pub fn unknown_operation(method: &str, path: &str) -> ApiError {
    ApiError::not_found(format!("Unknown or unsupported operation: {method} {path}"))
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
