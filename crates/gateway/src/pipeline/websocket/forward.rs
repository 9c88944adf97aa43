//! `@connections` calls for a socket another node of the cluster holds: passed on whole
//! (method, path, headers with the caller's signature, data) to the node the registry
//! names, whose answer is the caller's. That node checks the signature and the caller's
//! permission again, so passing a call on grants nothing.
//!
//! A passed-on call carries [`FORWARDED`]; a node never passes one on again, so a stale
//! registry entry costs one hop and a 410, never a loop.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Response};

use crate::body::GatewayBody;
use crate::integrations::http::HttpClient;
use crate::pipeline::integration_request::BackendRequest;

/// Marks a call one node passed to another.
pub const FORWARDED: &str = "x-tollgate-forwarded";

/// How long the other node may take (it answers from memory).
const TIMEOUT: Duration = Duration::from_secs(5);

/// Whether `parts` came from another node.
pub fn is_forwarded(parts: &http::request::Parts) -> bool {
    parts.headers.contains_key(FORWARDED)
}

/// Passes the call to the node at `owner` (`http://host:port`), reading at most
/// `max_answer` bytes of its answer; `None` when that node cannot be reached (it stopped:
/// its connections are gone).
pub async fn to_owner(
    owner: &str,
    parts: &http::request::Parts,
    data: Bytes,
    max_answer: usize,
) -> Option<Response<GatewayBody>> {
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let uri: http::Uri = format!("{}{path}", owner.trim_end_matches('/'))
        .parse()
        .ok()?;
    let mut headers = parts.headers.clone();
    for hop in [
        "connection",
        "transfer-encoding",
        "keep-alive",
        "te",
        "upgrade",
    ] {
        headers.remove(hop);
    }
    headers.insert(FORWARDED, HeaderValue::from_static("1"));
    headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(data.len()));
    let req = BackendRequest {
        method: parts.method.clone(),
        uri,
        headers,
        body: GatewayBody::from_bytes(data),
    };
    let out = HttpClient::current()
        .send_buffered(req, TIMEOUT, max_answer)
        .await;
    match out {
        Ok(out) => {
            let mut resp = Response::new(GatewayBody::from_bytes(out.body));
            *resp.status_mut() =
                http::StatusCode::from_u16(out.status).unwrap_or(http::StatusCode::BAD_GATEWAY);
            for name in [
                http::header::CONTENT_TYPE,
                http::HeaderName::from_static("x-amzn-requestid"),
                http::HeaderName::from_static("x-amzn-errortype"),
            ] {
                if let Some(v) = out.headers.get(&name) {
                    resp.headers_mut().insert(name, v.clone());
                }
            }
            Some(resp)
        }
        Err(e) => {
            tracing::warn!(owner, error = ?e, "the node holding a connection did not answer");
            None
        }
    }
}
