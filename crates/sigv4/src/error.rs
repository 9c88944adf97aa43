//! The authentication failure and its AWS codes and messages.

use std::fmt;

/// Error messages echo client input; keep them bounded.
const ECHO_LIMIT: usize = 512;

const MISMATCH_MESSAGE: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// An authentication failure, ready to be rendered as
/// `x-amzn-ErrorType: {error_type}` with body `{"message": message}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthError {
    /// AWS error code, e.g. `InvalidSignatureException`.
    pub error_type: &'static str,
    /// HTTP status: 403, or 400 when `x-amz-content-sha256` does not match the body.
    pub status: u16,
    /// AWS message text.
    pub message: String,
}

impl AuthError {
    pub(crate) fn new(error_type: &'static str, status: u16, message: impl Into<String>) -> Self {
        AuthError {
            error_type,
            status,
            message: message.into(),
        }
    }
    pub(crate) fn missing() -> Self {
        Self::new(
            "MissingAuthenticationTokenException",
            403,
            "Missing Authentication Token",
        )
    }
    pub(crate) fn incomplete(message: impl Into<String>) -> Self {
        Self::new("IncompleteSignatureException", 403, message)
    }
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new("InvalidSignatureException", 403, message)
    }
    pub(crate) fn mismatch() -> Self {
        Self::invalid(MISMATCH_MESSAGE)
    }
    pub(crate) fn unrecognized() -> Self {
        Self::new(
            "UnrecognizedClientException",
            403,
            "The security token included in the request is invalid.",
        )
    }
    pub(crate) fn payload_mismatch() -> Self {
        Self::new(
            "XAmzContentSHA256Mismatch",
            400,
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

impl std::error::Error for AuthError {}

/// Client input echoed in messages, cut at a char boundary.
pub(crate) fn clip(s: &str) -> &str {
    if s.len() <= ECHO_LIMIT {
        return s;
    }
    let mut end = ECHO_LIMIT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
