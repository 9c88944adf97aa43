//! What an invocation takes and gives back, and why it may not run.

use bytes::Bytes;

/// Largest synchronous request payload (Lambda: 6 MB).
pub const MAX_REQUEST: usize = 6 * 1024 * 1024;
/// Largest asynchronous (`Event`) payload (Lambda: 1 MB).
pub const MAX_EVENT_REQUEST: usize = 1024 * 1024;

/// An invocation request as Invoke and the integrations make it.
pub struct InvokeRequest {
    pub payload: Bytes,
    pub log_tail: bool,
    pub client_context: Option<String>,
    /// The caller's `X-Amzn-Trace-Id`: the invocation's trace (`Lambda-Runtime-Trace-Id`,
    /// so the function's `_X_AMZN_TRACE_ID`); `None` starts a new one.
    pub trace_id: Option<String>,
}

/// A synchronous invocation's result.
#[derive(Debug)]
pub struct InvokeResponse {
    pub payload: Bytes,
    /// `X-Amz-Function-Error: Unhandled`
    pub function_error: bool,
    pub log: Option<String>,
    pub executed_version: String,
    pub request_id: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvokeError {
    /// The function or qualifier does not exist; carries the ARN Lambda names.
    #[error("Function not found: {0}")]
    NotFound(String),
    /// Reserved concurrency is used up, or no worker freed up in time.
    #[error("Rate Exceeded.")]
    TooManyRequests { reason: &'static str },
    #[error("Request must be smaller than {limit} bytes for the InvokeFunction operation")]
    RequestTooLarge { limit: usize },
    /// A remote Lambda endpoint failed.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
}

/// Why a remote Lambda endpoint gave no usable answer (`remote`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UpstreamError {
    /// The endpoint, function name or qualifier cannot form a valid request.
    #[error("{0}")]
    InvalidRequest(String),
    #[error("remote Lambda endpoint did not answer within {} s", .timeout.as_secs())]
    Timeout { timeout: std::time::Duration },
    #[error("remote Lambda endpoint unreachable: {0}")]
    Unreachable(String),
    #[error("remote Lambda answer unreadable or larger than {limit} bytes: {detail}")]
    Unreadable { limit: usize, detail: String },
    /// An answer other than 200, 404 and 429; `body` is its start.
    #[error("remote Lambda answered {status} {error_type}: {body}")]
    Status {
        status: u16,
        error_type: String,
        body: String,
    },
}
