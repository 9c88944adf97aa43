//! The `@connections` management API (connections-api.md; botocore's
//! `apigatewaymanagementapi`): PostToConnection, GetConnection and DeleteConnection at
//! `/{stage}/@connections/{id}` of the API's endpoint. Calls are SigV4-signed for
//! `execute-api` by a caller allowed `execute-api:ManageConnections` on
//! `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/@connections/{id}`
//! (the control plane's keys, or `--principals` identities), unless unsigned calls are
//! allowed. It runs in the data plane because the sockets live here.

use std::sync::Arc;

use http::Response;
use tollgate_policy::{ConditionKeys, Decision};
use tollgate_store::limit::Verdict;

use super::answer::error;
use super::forward;
use crate::body::GatewayBody;
use crate::connections::{iso8601_millis, Connection, Outbound, SendError};
use crate::iam::{CallerIdentity, IamRejection};
use crate::invocation::RequestBody;
use crate::pipeline::iam_caller::{caller, Refused};
use crate::pipeline::inbound::Inbound;
use crate::runtime_ws::WsStageRuntime;
use crate::Gateway;

/// PostToConnection's `Data` limit (connections-api.md §3).
pub const MAX_DATA: usize = 131_072;

fn gone() -> Response<GatewayBody> {
    error(410, "GoneException", "410")
}

fn empty(status: http::StatusCode) -> Response<GatewayBody> {
    let mut resp = Response::new(GatewayBody::empty());
    *resp.status_mut() = status;
    resp
}

/// A signature refusal as the 403 of sigv4.md.
fn refused(r: IamRejection) -> Response<GatewayBody> {
    match r {
        IamRejection::Expired => error(
            403,
            "ExpiredTokenException",
            "The security token included in the request is expired",
        ),
        IamRejection::Signature(e) => error(e.status, e.error_type, &e.message),
    }
}

/// The caller's condition keys: who it is and the time.
struct Keys<'a>(&'a CallerIdentity);

impl ConditionKeys for Keys<'_> {
    fn values(&self, key: &str) -> Vec<String> {
        let now = tollgate_model::time::now_epoch();
        match key {
            "aws:currenttime" => vec![tollgate_model::time::iso8601(now)],
            "aws:epochtime" => vec![now.to_string()],
            "aws:principalaccount" => vec![self.0.account.clone()],
            "aws:principalarn" => vec![self.0.arn.clone()],
            "aws:userid" => vec![self.0.user_id.clone()],
            _ => Vec::new(),
        }
    }
}

pub async fn serve(
    gw: &Gateway,
    req: Inbound<'_>,
    stage: &Arc<WsStageRuntime>,
    connection_id: &str,
) -> Response<GatewayBody> {
    let Inbound { parts, body, .. } = req;
    let method = parts.method.clone();
    if ![http::Method::POST, http::Method::GET, http::Method::DELETE].contains(&method) {
        return error(
            403,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        );
    }
    let mut body = Some(body);
    if !gw.websocket.allow_unsigned {
        let who = match caller(gw, &parts, &mut body).await {
            Ok(c) => c,
            Err(Refused::Iam(r)) => return refused(r),
            Err(Refused::Body(_)) => {
                return error(400, "BadRequestException", "Invalid request body")
            }
        };
        let functions_region = gw
            .functions
            .as_ref()
            .map_or_else(|| "us-east-1".to_string(), |f| f.region().to_string());
        let arn = format!(
            "arn:aws:execute-api:{functions_region}:{}:{}/{}/{method}/@connections/{connection_id}",
            tollgate_model::ACCOUNT_ID,
            stage.deployment.api_id,
            stage.name,
        );
        if who.decide("execute-api:ManageConnections", &arn, &Keys(&who)) != Decision::Allow {
            return error(403, "ForbiddenException", "Forbidden");
        }
    }
    // Callbacks spend from the account's bucket like messages (websocket.md §4).
    let now = tollgate_store::throttle::now_ns();
    if stage.account.take(now).verdict().await != Verdict::Admit {
        return error(429, "LimitExceededException", "Rate exceeded");
    }
    let found = gw.connections.get(connection_id).filter(|c| {
        *c.api_id == *stage.deployment.api_id && *c.stage == *stage.name && c.is_open()
    });
    let Some(conn) = found else {
        return elsewhere(gw, &parts, body, connection_id).await;
    };
    match method {
        http::Method::POST => post(gw, stage, &conn, body).await,
        http::Method::GET => get(&conn),
        _ => match conn.send(Outbound::Close {
            code: DELETE_CLOSE_CODE,
            reason: "",
        }) {
            Ok(()) => {
                // Gone at once: later calls answer 410 even before the socket is closed.
                gw.connections.remove(connection_id);
                empty(http::StatusCode::NO_CONTENT)
            }
            Err(SendError::Full) => error(429, "LimitExceededException", "Rate exceeded"),
            Err(SendError::Gone) => gone(),
        },
    }
}

/// The close code DeleteConnection sends (websocket.md Q-W2; our answer: a normal closure).
pub const DELETE_CLOSE_CODE: u16 = 1000;

/// A connection this node does not hold: passed to the cluster's node that does, unless
/// this call was passed on already; else gone.
async fn elsewhere(
    gw: &Gateway,
    parts: &http::request::Parts,
    body: Option<RequestBody>,
    connection_id: &str,
) -> Response<GatewayBody> {
    if forward::is_forwarded(parts) {
        return gone();
    }
    let Some(owner) = gw.connections.owner(connection_id).await else {
        return gone();
    };
    let data = match read_data(gw, body).await {
        Ok(d) => d,
        Err(resp) => return resp,
    };
    forward::to_owner(&owner, parts, data, MAX_DATA)
        .await
        .unwrap_or_else(gone)
}

/// PostToConnection's data, at most [`MAX_DATA`] bytes.
async fn read_data(
    gw: &Gateway,
    body: Option<RequestBody>,
) -> Result<bytes::Bytes, Response<GatewayBody>> {
    let declared = match &body {
        Some(RequestBody::Stream(s)) => http_body::Body::size_hint(s).lower() as usize,
        Some(RequestBody::Buffered(b)) => b.len(),
        None => 0,
    };
    if declared > MAX_DATA {
        return Err(too_large());
    }
    let data = match body {
        Some(b) => b.collect(gw.body_stall).await.map_err(|_| too_large())?,
        None => bytes::Bytes::new(),
    };
    if data.len() > MAX_DATA {
        return Err(too_large());
    }
    Ok(data)
}

/// Hands the data to the connection's writer; a message delivered this way counts in the
/// stage's MessageCount (both directions count, websocket.md §7).
async fn post(
    gw: &Gateway,
    stage: &WsStageRuntime,
    conn: &Connection,
    body: Option<RequestBody>,
) -> Response<GatewayBody> {
    let data = match read_data(gw, body).await {
        Ok(d) => d,
        Err(resp) => return resp,
    };
    let text = std::str::from_utf8(&data).is_ok();
    match conn.send(Outbound::Message { data, text }) {
        Ok(()) => {
            conn.touch();
            stage
                .metrics
                .series(None)
                .add(crate::metrics::WS_MESSAGES, 1);
            empty(http::StatusCode::OK)
        }
        Err(SendError::Full) => error(429, "LimitExceededException", "Rate exceeded"),
        Err(SendError::Gone) => gone(),
    }
}

fn too_large() -> Response<GatewayBody> {
    error(
        413,
        "PayloadTooLargeException",
        "Request entity too large: the message must be at most 131072 bytes",
    )
}

fn get(conn: &Connection) -> Response<GatewayBody> {
    let body = serde_json::json!({
        "connectedAt": iso8601_millis(conn.connected_at_ms),
        "identity": {
            "sourceIp": &*conn.source_ip,
            "userAgent": &*conn.user_agent,
        },
        "lastActiveAt": iso8601_millis(conn.last_active()),
    });
    let mut resp = Response::new(GatewayBody::from_bytes(body.to_string()));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp
}
