//! Functions Tollgate does not host, forwarded to a Lambda-compatible endpoint (real AWS
//! Lambda, or another Tollgate) as SigV4-signed `Invoke` calls, so a self-hosted gateway
//! can front remote functions.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tollgate_sigv4::Credential;

use crate::error::StartError;
use crate::invoke::{InvokeError, InvokeResponse, UpstreamError, MAX_REQUEST};
use crate::worker::MAX_RESPONSE;

/// Where and as whom remote functions are invoked.
pub struct RemoteConfig {
    /// e.g. `https://lambda.eu-west-1.amazonaws.com`
    pub endpoint: http::Uri,
    pub region: String,
    pub access_key_id: String,
    pub credential: Credential,
    /// The whole remote call, answer included, must end within this.
    pub timeout: Duration,
}

type Connector = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

pub struct RemoteLambda {
    config: RemoteConfig,
    client: Client<Connector, Full<Bytes>>,
}

/// Characters kept as they are in a path segment (Lambda names and ARNs: `:` is escaped,
/// as the SDKs do).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

impl RemoteLambda {
    pub fn new(config: RemoteConfig) -> Result<RemoteLambda, StartError> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(StartError::RootCertificates)?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(RemoteLambda {
            config,
            client: Client::builder(TokioExecutor::new()).build(https),
        })
    }

    /// Invokes `function` (name or ARN) synchronously on the remote endpoint.
    pub async fn invoke(
        &self,
        function: &str,
        qualifier: Option<&str>,
        payload: Bytes,
        trace_id: Option<&str>,
    ) -> Result<InvokeResponse, InvokeError> {
        if payload.len() > MAX_REQUEST {
            return Err(InvokeError::RequestTooLarge { limit: MAX_REQUEST });
        }
        let path = format!(
            "/2015-03-31/functions/{}/invocations",
            percent_encoding::utf8_percent_encode(function, SEGMENT)
        );
        let query = qualifier.map(|q| {
            format!(
                "Qualifier={}",
                percent_encoding::utf8_percent_encode(q, SEGMENT)
            )
        });
        let base = &self.config.endpoint;
        let authority = base
            .authority()
            .map(|a| a.as_str().to_string())
            .unwrap_or_default();
        let uri = format!(
            "{}://{authority}{path}{}",
            base.scheme_str().unwrap_or("https"),
            query
                .as_deref()
                .map(|q| format!("?{q}"))
                .unwrap_or_default()
        );
        let mut headers = http::HeaderMap::new();
        let value = |s: &str| {
            http::HeaderValue::from_str(s).map_err(|e| UpstreamError::InvalidRequest(e.to_string()))
        };
        headers.insert(http::header::HOST, value(&authority)?);
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        tollgate_sigv4::sign(
            "POST",
            &path,
            query.as_deref(),
            &mut headers,
            &payload,
            &tollgate_sigv4::Signer {
                access_key_id: &self.config.access_key_id,
                credential: &self.config.credential,
                region: &self.config.region,
                service: "lambda",
            },
            SystemTime::now(),
        );
        // Never signed (SDKs leave it out of `SignedHeaders`), so added after signing.
        if let Some(v) = trace_id.and_then(|t| http::HeaderValue::from_str(t).ok()) {
            headers.insert("x-amzn-trace-id", v);
        }
        let mut req = http::Request::post(uri)
            .body(Full::new(payload))
            .map_err(|e| UpstreamError::InvalidRequest(e.to_string()))?;
        *req.headers_mut() = headers;
        let timeout = self.config.timeout;
        let too_slow = || UpstreamError::Timeout { timeout };
        let deadline = tokio::time::Instant::now() + timeout;
        let resp = tokio::time::timeout_at(deadline, self.client.request(req))
            .await
            .map_err(|_| too_slow())?
            .map_err(|e| UpstreamError::Unreachable(e.to_string()))?;
        let status = resp.status();
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let function_error = header("x-amz-function-error").is_some();
        let executed_version = header("x-amz-executed-version").unwrap_or_else(|| "$LATEST".into());
        let request_id = header("x-amzn-requestid").unwrap_or_default();
        let error_type = header("x-amzn-errortype").unwrap_or_default();
        // No Lambda answer is larger than a response payload; a larger one is not collected.
        let body = tokio::time::timeout_at(
            deadline,
            Limited::new(resp.into_body(), MAX_RESPONSE).collect(),
        )
        .await
        .map_err(|_| too_slow())?
        .map_err(|e| UpstreamError::Unreadable {
            limit: MAX_RESPONSE,
            detail: e.to_string(),
        })?
        .to_bytes();
        match status.as_u16() {
            200 => Ok(InvokeResponse {
                payload: body,
                function_error,
                log: None,
                executed_version,
                request_id,
            }),
            404 => Err(InvokeError::NotFound(function.to_string())),
            429 => Err(InvokeError::TooManyRequests {
                reason: "RemoteThrottled",
            }),
            s => Err(UpstreamError::Status {
                status: s,
                error_type,
                body: String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned(),
            }
            .into()),
        }
    }
}
