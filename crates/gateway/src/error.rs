//! Why a request is answered by API Gateway itself, and the size limits behind some of
//! those answers. The lowest module of the data plane: every phase and integration uses it.

use std::borrow::Cow;

use tollgate_model::GatewayResponseType as T;

/// Largest request body API Gateway accepts (10 MB).
pub const MAX_BODY: usize = 10 * 1024 * 1024;

/// Largest request line plus headers API Gateway accepts.
pub const MAX_HEAD: usize = 10_240;

/// Why a request is answered by API Gateway itself.
#[derive(Debug, Clone)]
pub struct GatewayError {
    pub kind: T,
    pub message: Cow<'static, str>,
    /// A status other than the gateway response's own (AWS answers Lambda proxy failures
    /// with DEFAULT_5XX's body but status 502).
    pub status: Option<u16>,
    /// `$context.error.validationErrorString` (request body validation only).
    pub validation_error: Option<String>,
    /// AWS's body when the API has not customised this response type (or its family):
    /// authorizer denials answer `{"Message": ...}` and configuration errors
    /// `{"message": null}`, which the type's default template cannot produce.
    pub default_body: Option<Cow<'static, str>>,
    /// `x-amzn-ErrorType` when it is not the response type's own (a SigV4 failure names
    /// its exact exception, e.g. `UnrecognizedClientException`).
    pub error_type: Option<&'static str>,
    /// What an execution log says failed when it is not `message` (which the client sees):
    /// a backend that cannot be reached is "Invalid endpoint address".
    pub log_detail: Option<&'static str>,
}

impl GatewayError {
    pub fn new(kind: T, message: impl Into<Cow<'static, str>>) -> Self {
        GatewayError {
            kind,
            message: message.into(),
            status: None,
            validation_error: None,
            default_body: None,
            error_type: None,
            log_detail: None,
        }
    }
    pub fn with_log_detail(mut self, detail: &'static str) -> Self {
        self.log_detail = Some(detail);
        self
    }
    pub fn with_error_type(mut self, error_type: &'static str) -> Self {
        self.error_type = Some(error_type);
        self
    }
    pub fn with_default_body(mut self, body: impl Into<Cow<'static, str>>) -> Self {
        self.default_body = Some(body.into());
        self
    }
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }
    pub fn with_validation_error(mut self, details: String) -> Self {
        self.validation_error = Some(details);
        self
    }
    pub fn missing_token() -> Self {
        Self::new(
            T::MissingAuthenticationToken,
            "Missing Authentication Token",
        )
    }
    pub fn internal() -> Self {
        Self::new(T::ApiConfigurationError, "Internal server error")
    }
    pub fn too_large() -> Self {
        Self::new(
            T::RequestTooLarge,
            format!("HTTP content length exceeded {MAX_BODY} bytes."),
        )
    }
}

/// An HTTP API's own answers (request-pipeline.md §9.4): fixed bodies, no customisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpApiError {
    NotFound,
    TooLarge,
    TooManyRequests,
    /// The route's authorizer refused the caller's identity (or found none).
    Unauthorized,
    /// The route's authorizer refused this caller the route.
    Forbidden,
    Internal,
    /// The integration did not answer within its timeout.
    ServiceUnavailable,
}

impl HttpApiError {
    pub fn status(self) -> u16 {
        match self {
            HttpApiError::NotFound => 404,
            HttpApiError::TooLarge => 413,
            HttpApiError::TooManyRequests => 429,
            HttpApiError::Unauthorized => 401,
            HttpApiError::Forbidden => 403,
            HttpApiError::Internal => 500,
            HttpApiError::ServiceUnavailable => 503,
        }
    }

    /// The message of the body (`$context.error.message`).
    pub fn message(self) -> &'static str {
        match self {
            HttpApiError::NotFound => "Not Found",
            HttpApiError::TooLarge => "Request Entity Too Large",
            HttpApiError::TooManyRequests => "Too Many Requests",
            HttpApiError::Unauthorized => "Unauthorized",
            HttpApiError::Forbidden => "Forbidden",
            HttpApiError::Internal => "Internal Server Error",
            HttpApiError::ServiceUnavailable => "Service Unavailable",
        }
    }

    /// The whole body, `{"message":"..."}`.
    pub fn body(self) -> &'static str {
        match self {
            HttpApiError::NotFound => r#"{"message":"Not Found"}"#,
            HttpApiError::TooLarge => r#"{"message":"Request Entity Too Large"}"#,
            HttpApiError::TooManyRequests => r#"{"message":"Too Many Requests"}"#,
            HttpApiError::Unauthorized => r#"{"message":"Unauthorized"}"#,
            HttpApiError::Forbidden => r#"{"message":"Forbidden"}"#,
            HttpApiError::Internal => r#"{"message":"Internal Server Error"}"#,
            HttpApiError::ServiceUnavailable => r#"{"message":"Service Unavailable"}"#,
        }
    }
}

impl From<GatewayError> for HttpApiError {
    /// What a shared helper's failure becomes on an HTTP API.
    fn from(e: GatewayError) -> Self {
        match e.kind {
            T::IntegrationTimeout => HttpApiError::ServiceUnavailable,
            T::RequestTooLarge => HttpApiError::TooLarge,
            _ => HttpApiError::Internal,
        }
    }
}
