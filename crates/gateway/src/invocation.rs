//! What the phases and integrations share about one request: the [`Invocation`], the
//! client's [`RequestBody`] and a non-proxy integration's [`IntegrationOutput`].

use std::collections::BTreeMap;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tollgate_model::GatewayResponseType as T;

use crate::body::GatewayBody;
use crate::compile::stage_cache::CacheScope;
use crate::compile::CompiledDeployment;
use crate::context::RequestContext;
use crate::error::{GatewayError, MAX_BODY};
use crate::runtime::StageLimits;

/// The client's body, streamed, or already in memory (a small body the edge read whole
/// with its head, TestInvokeMethod's, one read for a signature or to decompress).
pub enum RequestBody {
    Stream(Incoming),
    Buffered(Bytes),
}

impl From<Incoming> for RequestBody {
    fn from(body: Incoming) -> Self {
        RequestBody::Stream(body)
    }
}

impl From<Bytes> for RequestBody {
    fn from(body: Bytes) -> Self {
        RequestBody::Buffered(body)
    }
}

impl RequestBody {
    /// Reads the whole body, refusing more than [`MAX_BODY`] and a body that stops arriving
    /// for `stall` (else a client could hold up to 10 MB per connection forever).
    pub async fn collect(self, stall: std::time::Duration) -> Result<Bytes, GatewayError> {
        let mut s = match self {
            RequestBody::Buffered(b) => return Ok(b),
            RequestBody::Stream(s) => s,
        };
        // A declared length is a claim, not bytes: reserve at most 64 KiB up front and grow
        // with what arrives, so a head that declares 10 MB and sends nothing holds little.
        let declared = usize::try_from(http_body::Body::size_hint(&s).lower()).unwrap_or(0);
        let mut buf = bytes::BytesMut::with_capacity(declared.min(64 * 1024));
        loop {
            let frame = match tokio::time::timeout(stall, s.frame()).await {
                Ok(Some(Ok(frame))) => frame,
                Ok(None) => return Ok(buf.freeze()),
                Ok(Some(Err(_))) => {
                    return Err(GatewayError::new(T::BadRequestBody, "Invalid request body"))
                }
                Err(_) => {
                    return Err(GatewayError::new(
                        T::Default4xx,
                        "Request body not received in time",
                    )
                    .with_status(408))
                }
            };
            if let Ok(data) = frame.into_data() {
                if buf.len() + data.len() > MAX_BODY {
                    return Err(GatewayError::too_large());
                }
                buf.extend_from_slice(&data);
            }
        }
    }

    /// The body to stream to a backend, still limited to [`MAX_BODY`].
    pub fn into_stream(self) -> GatewayBody {
        match self {
            RequestBody::Buffered(b) => GatewayBody::from_bytes(b),
            RequestBody::Stream(s) => {
                GatewayBody::Limited(http_body_util::Limited::new(s, MAX_BODY))
            }
        }
    }
}

/// Everything the phases share about one request.
pub struct Invocation<'a> {
    pub parts: http::request::Parts,
    pub deployment: &'a CompiledDeployment,
    pub stage_variables: &'a BTreeMap<String, String>,
    pub routing_path: &'a str,
    pub ctx: RequestContext,
    pub remote: SocketAddr,
    /// API keys and throttles of the stage; `None` for TestInvokeMethod, which skips them.
    pub limits: Option<&'a StageLimits>,
    /// The stage's response cache as this request may use it; `None` without one (and
    /// for TestInvokeMethod, which AWS never answers from the cache).
    pub cache: Option<CacheScope<'a>>,
    /// The client came over TLS (`X-Forwarded-Proto: https`, default port 443).
    pub tls: bool,
    /// The stage's execution logging, if any of its methods log.
    pub logging: Option<&'a crate::execution_log::StageExecutionLog>,
    /// The stage's client certificate for HTTP backends (`clientCertificateId`).
    pub backend_tls: Option<&'a crate::integrations::backend_tls::StageBackendTls>,
    /// The head as an HTTP/1 client sent it: proxy events show its header names' case.
    pub raw_head: Option<crate::header_case::RawHead>,
}

impl Invocation<'_> {
    /// `X-Forwarded-Proto` as backends and functions see it.
    pub fn forwarded_proto(&self) -> &'static str {
        if self.tls {
            "https"
        } else {
            "http"
        }
    }
}

/// What a non-proxy integration returned, before integration response mapping.
pub struct IntegrationOutput {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
    pub selection: Selection,
    /// `$context.requestOverride` and `responseOverride` as the request template left
    /// them: the response template reads them, and a response override applies even
    /// without one (recorded for MOCK integrations).
    pub overrides: Option<Box<serde_json::Map<String, serde_json::Value>>>,
}

/// The `$context` override objects a request template set something in.
pub fn overrides_of(
    context: &serde_json::Map<String, serde_json::Value>,
) -> Option<Box<serde_json::Map<String, serde_json::Value>>> {
    let set = |v: &serde_json::Value| {
        v.as_object().is_some_and(|o| {
            o.values()
                .any(|x| x.as_object().is_none_or(|m| !m.is_empty()))
        })
    };
    let kept: serde_json::Map<String, serde_json::Value> = ["requestOverride", "responseOverride"]
        .into_iter()
        .filter_map(|k| Some((k.to_string(), context.get(k).filter(|v| set(v))?.clone())))
        .collect();
    (!kept.is_empty()).then(|| Box::new(kept))
}

/// What an integration response's `selectionPattern` is matched against.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// The backend's status code (HTTP, MOCK).
    Status,
    /// A Lambda function's `errorMessage`: patterns are matched only against a function
    /// error (lambda-events.md; recorded).
    ErrorMessage(String),
    /// A Lambda function that returned normally: always the default response.
    Default,
}
