//! The WebSocket API pipeline (websocket.md), as named phases:
//!
//! | phase | module |
//! |---|---|
//! | addressing: the stage from the first path segment; `@connections` calls apart | here |
//! | handshake checks (an HTTP/1.1 upgrade to `websocket`, version 13, a key) | [`connect`] |
//! | `$connect` authorization: `AWS_IAM`, Lambda REQUEST authorizer | [`authorize`] |
//! | `$connect` integration, before the 101 (non-2xx refuses with that status) | [`connect`], [`integrate`] |
//! | the session: messages, pushes, ping/pong, limits, idle timeout, max duration | [`session`] |
//! | per message: throttle, route selection, integration, two-way answer or error frame | [`message`], [`integrate`] |
//! | `$disconnect`, after the socket closed | [`session`] |
//! | the `@connections` management API (PostToConnection, GetConnection, DeleteConnection) | [`manage`] |
//!
//! Events and `$context` are [`event`]'s. Connections are found through the gateway's
//! [`crate::connections::ConnectionRegistry`].

pub mod answer;
pub mod authorize;
pub mod connect;
pub mod event;
pub mod forward;
pub mod integrate;
pub mod manage;
pub mod message;
pub mod session;

use http::Response;

use super::inbound::{ApiPipeline, Inbound};
use crate::body::GatewayBody;
pub use crate::connections::WebSocketSettings as Settings;
use crate::runtime::ApiEntry;
use crate::Gateway;
use answer::error;

/// WebSocket APIs.
pub struct WebSocketPipeline;

impl ApiPipeline for WebSocketPipeline {
    async fn serve(&self, gw: &Gateway, req: Inbound<'_>) -> Response<GatewayBody> {
        let Some((ApiEntry::WebSocket(api), path_start, mapped)) = req
            .addressed
            .as_ref()
            .and_then(|a| Some((&a.frontend?.api, a.path_start, a.stage)))
        else {
            return error(403, "ForbiddenException", "Forbidden");
        };
        let path = &req.parts.uri.path()[path_start..];
        let trimmed = path.strip_prefix('/').unwrap_or(path);
        // A custom domain's mapping names the stage; otherwise it is the first segment.
        let (stage_name, rest) = match mapped {
            Some(stage) => (stage, trimmed),
            None => trimmed.split_once('/').unwrap_or((trimmed, "")),
        };
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
