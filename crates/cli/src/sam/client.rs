//! The gateway's AWS API as `tollgate sam` calls it: JSON requests signed with SigV4
//! (credentials as the aws CLI finds them in the environment, else `test`/`test`).

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as Hyper;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tollgate_sigv4::Credential;

/// No answer of the control plane is larger (an export is the largest).
const MAX_ANSWER: usize = 16 * 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("{method} {path}: {status} {error_type}: {message}")]
    Aws {
        method: &'static str,
        path: String,
        status: u16,
        error_type: String,
        message: String,
    },
    #[error("{0}: cannot reach the gateway: {1}")]
    Unreachable(String, String),
}

impl CallError {
    pub fn status(&self) -> Option<u16> {
        match self {
            CallError::Aws { status, .. } => Some(*status),
            CallError::Unreachable(..) => None,
        }
    }
}

pub struct Client {
    endpoint: http::Uri,
    authority: String,
    region: String,
    access_key_id: String,
    credential: Credential,
    http: Hyper<HttpConnector, Full<Bytes>>,
}

impl Client {
    pub fn new(endpoint: http::Uri, region: String) -> Client {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
        let (key, secret) = match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
            (Some(k), Some(s)) => (k, s),
            _ => ("test".into(), "test".into()),
        };
        let authority = endpoint
            .authority()
            .map(|a| a.as_str().to_string())
            .unwrap_or_default();
        Client {
            endpoint,
            authority,
            region,
            access_key_id: key,
            credential: Credential {
                secret_access_key: secret,
                session_token: var("AWS_SESSION_TOKEN"),
            },
            http: Hyper::builder(TokioExecutor::new()).build_http(),
        }
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// Calls `method path?query` of `service` with `body`; the answer's JSON (`Null` when
    /// empty), or AWS's error.
    pub async fn call(
        &self,
        service: &str,
        method: &'static str,
        path: &str,
        query: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<Value, CallError> {
        let body = body.unwrap_or_default();
        let target = match query {
            Some(q) => format!("{path}?{q}"),
            None => path.to_string(),
        };
        let unreachable = |e: String| CallError::Unreachable(self.endpoint.to_string(), e);
        let mut headers = http::HeaderMap::new();
        let host =
            http::HeaderValue::from_str(&self.authority).map_err(|e| unreachable(e.to_string()))?;
        headers.insert(http::header::HOST, host);
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        tollgate_sigv4::sign(
            method,
            path,
            query,
            &mut headers,
            &body,
            &tollgate_sigv4::Signer {
                access_key_id: &self.access_key_id,
                credential: &self.credential,
                region: &self.region,
                service,
            },
            SystemTime::now(),
        );
        let uri = format!(
            "{}://{}{target}",
            self.endpoint.scheme_str().unwrap_or("http"),
            self.authority
        );
        let mut req = http::Request::builder()
            .method(method)
            .uri(uri)
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| unreachable(e.to_string()))?;
        *req.headers_mut() = headers;
        let answer = async {
            let resp = self.http.request(req).await.map_err(|e| e.to_string())?;
            let status = resp.status().as_u16();
            let error_type = resp
                .headers()
                .get("x-amzn-errortype")
                .and_then(|v| v.to_str().ok())
                .map(|t| t.split(':').next().unwrap_or(t).to_string());
            let bytes = Limited::new(resp.into_body(), MAX_ANSWER)
                .collect()
                .await
                .map_err(|e| e.to_string())?
                .to_bytes();
            Ok::<_, String>((status, error_type, bytes))
        };
        let (status, error_type, bytes) = tokio::time::timeout(TIMEOUT, answer)
            .await
            .map_err(|_| unreachable("no answer within 60 s".into()))?
            .map_err(unreachable)?;
        let json: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        if status >= 300 {
            let message = json
                .get("message")
                .or_else(|| json.get("Message"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            return Err(CallError::Aws {
                method,
                path: path.to_string(),
                status,
                error_type: error_type.unwrap_or_default(),
                message,
            });
        }
        Ok(json)
    }
}

/// A path segment with everything but unreserved characters percent-encoded (`$default`,
/// ARNs).
pub fn segment(s: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}
