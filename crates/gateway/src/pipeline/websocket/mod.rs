//! The WebSocket API pipeline (websocket.md), as named phases:
//!
//! | phase | module |
//! |---|---|
//! | addressing: the stage from the first path segment; `@connections` calls apart | here |
//! | handshake checks (an HTTP/1.1 upgrade to `websocket`, version 13, a key) | [`connect`] |
//! | `$connect` integration, before the 101 (non-2xx refuses with that status) | [`connect`], [`integrate`] |
//! | the session: messages, pushes, ping/pong, limits, idle timeout, max duration | [`session`] |
//! | per message: throttle, route selection, integration, two-way answer or error frame | [`message`], [`integrate`] |
//! | `$disconnect`, after the socket closed | [`session`] |
//! | the `@connections` management API (PostToConnection, GetConnection, DeleteConnection) | [`manage`] |
//!
//! Events and `$context` are [`event`]'s. Connections are found through the gateway's
//! [`crate::connections::ConnectionRegistry`].

pub mod connect;
pub mod event;
pub mod integrate;
pub mod manage;
pub mod message;
pub mod session;

use std::time::Duration;

use http::Response;

use super::inbound::{ApiPipeline, Inbound};
use crate::body::GatewayBody;
use crate::runtime::ApiEntry;
use crate::Gateway;

/// The flags that shape every connection.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// `--websocket-idle-timeout`: no frame either way for this long closes with 1001.
    pub idle_timeout: Duration,
    /// `--websocket-max-duration`: a connection is closed with 1001 after this long.
    pub max_duration: Duration,
    /// `--connections-allow-unsigned`: `@connections` calls need no SigV4 signature
    /// (a development convenience, off by default).
    pub allow_unsigned: bool,
}

impl Default for Settings {
    /// AWS's quotas: 10 minutes idle, 2 hours in all.
    fn default() -> Self {
        Settings {
            idle_timeout: Duration::from_secs(600),
            max_duration: Duration::from_secs(7200),
            allow_unsigned: false,
        }
    }
}

/// WebSocket APIs.
pub struct WebSocketPipeline;

/// A JSON error answer with AWS's `x-amzn-ErrorType`.
pub(crate) fn error(status: u16, error_type: &str, message: &str) -> Response<GatewayBody> {
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

impl ApiPipeline for WebSocketPipeline {
    async fn serve(&self, gw: &Gateway, req: Inbound<'_>) -> Response<GatewayBody> {
        let Some((ApiEntry::WebSocket(api), path_start)) = req
            .addressed
            .as_ref()
            .and_then(|a| Some((&a.frontend?.api, a.path_start)))
        else {
            return error(403, "ForbiddenException", "Forbidden");
        };
        let path = &req.parts.uri.path()[path_start..];
        let trimmed = path.strip_prefix('/').unwrap_or(path);
        let (stage_name, rest) = trimmed.split_once('/').unwrap_or((trimmed, ""));
        let Some(stage) = api.stages.get(stage_name).cloned() else {
            return error(403, "ForbiddenException", "Forbidden");
        };
        if let Some(id) = rest.strip_prefix("@connections/") {
            let id = percent_encoding::percent_decode_str(id)
                .decode_utf8_lossy()
                .into_owned();
            return manage::serve(gw, req, &stage, &id).await;
        }
        // No further path segments are meaningful (websocket.md §1).
        if !rest.is_empty() {
            return error(403, "ForbiddenException", "Forbidden");
        }
        connect::serve(gw, req, stage).await
    }
}
