//! The handshake and `$connect` (websocket.md §1): the upgrade request is checked, a
//! connection id is drawn, and the `$connect` route's integration runs while the client
//! waits. A 2xx answer accepts: the connection is registered, the 101 goes out (with the
//! integration's headers such as `Sec-WebSocket-Protocol`) and the session takes the
//! socket over. Any other status refuses the handshake with that status; an integration
//! failure with 500, a timeout with 504.

use std::sync::Arc;

use http::{HeaderValue, Response, StatusCode};
use hyper::upgrade::OnUpgrade;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::answer::error;
use super::authorize;
use super::event::{ConnInfo, Event, EventKind, Shared};
use super::integrate::{self, Call, Failure};
use super::session;
use crate::body::GatewayBody;
use crate::connections::Connection;
use crate::key_binding::KeyBinding;
use crate::metrics;
use crate::pipeline::inbound::{ConnectionSlot, Inbound};
use crate::runtime_ws::WsStageRuntime;
use crate::Gateway;

/// Headers an integration may not set on the 101 (the handshake's own).
const HANDSHAKE_HEADERS: [&str; 5] = [
    "connection",
    "upgrade",
    "sec-websocket-accept",
    "content-length",
    "transfer-encoding",
];

fn header<'h>(h: &'h http::HeaderMap, name: &str) -> &'h str {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// The request is a WebSocket opening handshake (RFC 6455 §4.2.1); its key.
fn handshake_key(parts: &http::request::Parts) -> Option<&str> {
    let h = &parts.headers;
    let upgrade = header(h, "upgrade").eq_ignore_ascii_case("websocket");
    let connection = header(h, "connection")
        .split(',')
        .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
    let ok = parts.method == http::Method::GET
        && upgrade
        && connection
        && header(h, "sec-websocket-version") == "13";
    let key = header(h, "sec-websocket-key");
    (ok && !key.is_empty()).then_some(key)
}

fn status_only(status: u16, body: bytes::Bytes) -> Response<GatewayBody> {
    let mut resp = Response::new(GatewayBody::from_bytes(body));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp
}

pub async fn serve(
    gw: &Gateway,
    req: Inbound<'_>,
    stage: Arc<WsStageRuntime>,
) -> Response<GatewayBody> {
    let Inbound {
        mut parts,
        remote,
        body,
        ..
    } = req;
    let Some(key) = handshake_key(&parts).map(derive_accept_key_of) else {
        // A plain request to a WebSocket endpoint.
        return error(426, "UpgradeRequired", "Upgrade Required");
    };
    let Some(upgrade) = parts.extensions.remove::<OnUpgrade>() else {
        return error(426, "UpgradeRequired", "Upgrade Required");
    };
    let series = stage.metrics.series(Some("$connect"));
    series.add(metrics::WS_CONNECT, 1);
    // New connections of the account (websocket.md §5: 500 per second).
    let now = tollgate_store::throttle::now_ns();
    if gw.websocket_connects.take(now).verdict().await != tollgate_store::limit::Verdict::Admit {
        series.add(metrics::WS_CLIENT_ERRORS, 1);
        return error(429, "LimitExceededException", "Too Many Requests");
    }
    // The `$connect` route's own throttle (stage route settings).
    if let Some(bucket) = stage.route_buckets.get("$connect") {
        if bucket.take(now).verdict().await != tollgate_store::limit::Verdict::Admit {
            return error(429, "LimitExceededException", "Too Many Requests");
        }
    }
    let host = header(&parts.headers, "host");
    let info = ConnInfo {
        api_id: stage.deployment.api_id.clone(),
        stage: stage.name.clone(),
        connection_id: tollgate_model::ids::extended_request_id().into(),
        connected_at: tollgate_model::time::now_epoch_millis(),
        domain_name: crate::frontend::host_of(&parts)
            .map(|h| h.rsplit_once(':').map_or(h, |(n, _)| n))
            .unwrap_or_default()
            .into(),
        source_ip: remote.ip().to_string().into(),
        user_agent: header(&parts.headers, "user-agent").into(),
        host: host.into(),
        api_key: header(&parts.headers, "x-api-key").into(),
        authorizer: None,
    };
    let authorized = {
        let event = Event {
            conn: &info,
            route_key: "$connect",
            request_id: "",
            time_ms: info.connected_at,
            kind: EventKind::Connect {
                headers: &parts.headers,
                query: parts.uri.query(),
            },
        };
        authorize::connect(gw, &parts, body, &stage, &event).await
    };
    let mut info = info;
    match authorized {
        Ok(a) => info.authorizer = a,
        Err(r) => {
            if (400..500).contains(&r.status) {
                series.add(metrics::WS_CLIENT_ERRORS, 1);
            }
            return error(r.status, refusal_type(r.status), r.message);
        }
    }
    let api_key = match api_key_binding(&stage, &info) {
        Ok(key) => key,
        Err(()) => {
            series.add(metrics::WS_CLIENT_ERRORS, 1);
            return error(403, "ForbiddenException", "Forbidden");
        }
    };
    if let Err(message) = required_parameters(&stage, &parts) {
        series.add(metrics::WS_CLIENT_ERRORS, 1);
        return error(400, "BadRequestException", &message);
    }
    if let Some(key) = &api_key {
        if let Err(e) = crate::pipeline::throttle::spend_plan(key).await {
            series.add(metrics::WS_CLIENT_ERRORS, 1);
            let status = e.status.or(e.kind.default_status()).unwrap_or(429);
            return error(status, "LimitExceededException", &e.message);
        }
    }
    let mut accepted_headers = Vec::new();
    let functions = gw.functions.clone();
    let connect = stage.deployment.connect.as_ref();
    if let Some(integration) = connect.and_then(|r| r.integration.as_ref()) {
        let request_id = tollgate_model::ids::extended_request_id();
        let event = Event {
            conn: &info,
            route_key: "$connect",
            request_id: &request_id,
            time_ms: info.connected_at,
            kind: EventKind::Connect {
                headers: &parts.headers,
                query: parts.uri.query(),
            },
        };
        let call = Call {
            event: &event,
            body: &[],
            json: None,
            stage_variables: &stage.variables,
            functions: functions.as_ref(),
            aws: &gw.aws,
        };
        let result = integrate::run_counted(&call, integration, series).await;
        match result {
            Ok(reply) if (200..300).contains(&reply.status) => accepted_headers = reply.headers,
            Ok(reply) => return status_only(reply.status, reply.body),
            Err(f) => {
                let error_type = match f {
                    Failure::Internal => "InternalServerErrorException",
                    Failure::Timeout => "IntegrationTimeout",
                    Failure::UnsupportedMediaType => "UnsupportedMediaTypeException",
                };
                return error(f.status(), error_type, f.message());
            }
        }
    }
    let (conn, outbound) = Connection::new(
        info.connection_id.clone(),
        (*info.api_id).into(),
        (*info.stage).into(),
        info.source_ip.clone(),
        info.user_agent.clone(),
    );
    gw.connections.insert(conn.clone());
    let shared = Arc::new(Shared {
        conn,
        info,
        key: api_key,
        stage,
        functions,
        aws: gw.aws.clone(),
        logs: gw.logs.clone(),
    });
    shared.log(
        &Event {
            conn: &shared.info,
            route_key: "$connect",
            request_id: &tollgate_model::ids::extended_request_id(),
            time_ms: shared.info.connected_at,
            kind: EventKind::Connect {
                headers: &parts.headers,
                query: parts.uri.query(),
            },
        },
        200,
        None,
    );
    // The socket keeps its place under `--max-connections` for as long as it is open.
    let slot = parts.extensions.remove::<ConnectionSlot>();
    let (registry, settings) = (gw.connections.clone(), gw.websocket);
    tokio::spawn(async move {
        session::run(shared, upgrade, outbound, registry, settings).await;
        drop(slot);
    });
    let mut resp = Response::new(GatewayBody::empty());
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    for (k, v) in accepted_headers {
        if HANDSHAKE_HEADERS.contains(&k.to_ascii_lowercase().as_str()) {
            continue;
        }
        if let (Ok(k), Ok(v)) = (http::HeaderName::try_from(k), HeaderValue::from_str(&v)) {
            h.insert(k, v);
        }
    }
    h.insert(http::header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(
        http::header::CONNECTION,
        HeaderValue::from_static("Upgrade"),
    );
    if let Ok(v) = HeaderValue::from_str(&key) {
        h.insert(http::header::SEC_WEBSOCKET_ACCEPT, v);
    }
    resp
}

/// `$connect` with `apiKeyRequired`: the key chosen by the API key selection expression
/// (`x-api-key`, or the authorizer's `usageIdentifierKey`) must be an enabled key of a
/// usage plan that includes this stage. Its binding meters the connection; `Err` refuses it.
fn api_key_binding(stage: &WsStageRuntime, info: &ConnInfo) -> Result<Option<Arc<KeyBinding>>, ()> {
    let required = stage
        .deployment
        .connect
        .as_ref()
        .is_some_and(|r| r.api_key_required);
    if !required {
        return Ok(None);
    }
    let key = if stage.deployment.api_key_from_authorizer {
        info.authorizer
            .as_ref()
            .and_then(|a| a.get("usageIdentifierKey"))
            .and_then(|k| k.as_str())
            .unwrap_or_default()
    } else {
        &info.api_key
    };
    stage.keys.get(key).cloned().map(Some).ok_or(())
}

/// `$connect`'s route request parameters marked `required` must be in the handshake
/// (present and not blank, as REST's validator has them); `Err` is the 400's message.
fn required_parameters(stage: &WsStageRuntime, parts: &http::request::Parts) -> Result<(), String> {
    let Some(v) = stage
        .deployment
        .connect
        .as_ref()
        .and_then(|r| r.parameter_validation.as_ref())
    else {
        return Ok(());
    };
    let query = crate::pipeline::method_request::parse_query(parts.uri.query());
    let params = crate::pipeline::method_request::Params {
        path: &[],
        query: &query,
        headers: &parts.headers,
    };
    crate::pipeline::request_validation::check_parameters(v, &params)
        .map_err(|e| e.message.into_owned())
}

/// The `x-amzn-ErrorType` of a refused handshake.
fn refusal_type(status: u16) -> &'static str {
    match status {
        401 => "UnauthorizedException",
        403 => "ForbiddenException",
        _ => "InternalServerErrorException",
    }
}

fn derive_accept_key_of(key: &str) -> String {
    derive_accept_key(key.as_bytes())
}
