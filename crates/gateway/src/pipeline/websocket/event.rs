//! What a WebSocket integration is told: the connection's facts, the `requestContext` of
//! each event (lambda-events.md §3, in the key order of AWS's own events), which is also
//! the `$context` of templates, and the Lambda proxy events for `$connect`, messages and
//! `$disconnect`.

use std::sync::Arc;

use base64::Engine;
use serde_json::{Map, Value};

use crate::connections::Connection;
use crate::runtime_ws::WsStageRuntime;

/// What a connection's tasks share.
pub struct Shared {
    pub conn: Arc<Connection>,
    pub info: ConnInfo,
    /// The API key the connection was admitted with: its plan meters every message.
    pub key: Option<Arc<crate::key_binding::KeyBinding>>,
    pub stage: Arc<WsStageRuntime>,
    pub functions: Option<Arc<tollgate_functions::Functions>>,
    pub aws: Arc<crate::integrations::aws::config::AwsServices>,
    pub logs: crate::access_log::AccessLogWriter,
}

/// An event's `$context` for its access log line: the event's `requestContext` (dotted
/// names such as `identity.sourceIp` reach into it) plus how it ended.
pub struct LogVars {
    pub context: Map<String, Value>,
    pub status: u16,
    pub error: Option<&'static str>,
}

impl crate::access_log::ContextVars for LogVars {
    fn var(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        use std::borrow::Cow;
        match name {
            "status" => return Some(Cow::Owned(self.status.to_string())),
            "error.message" => return self.error.map(Cow::Borrowed),
            _ => {}
        }
        let mut at = self.context.get(name.split('.').next()?)?;
        for part in name.split('.').skip(1) {
            at = at.get(part)?;
        }
        Some(match at {
            Value::String(s) => Cow::Borrowed(s.as_str()),
            other => Cow::Owned(other.to_string()),
        })
    }
}

impl Shared {
    /// Writes the event's access log line, when the stage keeps one.
    pub fn log(&self, event: &Event<'_>, status: u16, error: Option<&'static str>) {
        if let Some(log) = &self.stage.access_log {
            let vars = LogVars {
                context: event.request_context(),
                status,
                error,
            };
            self.logs.write(log, &vars, &self.stage.variables);
        }
    }
}

/// A connection's facts, fixed at `$connect`.
#[derive(Debug)]
pub struct ConnInfo {
    pub api_id: Arc<str>,
    pub stage: Arc<str>,
    pub connection_id: Box<str>,
    pub connected_at: i64,
    pub domain_name: Box<str>,
    pub source_ip: Box<str>,
    pub user_agent: Box<str>,
    /// `Host` as the client sent it (the `$disconnect` event repeats it).
    pub host: Box<str>,
    /// `x-api-key` as the client sent it on `$connect`.
    pub api_key: Box<str>,
    /// What `$connect`'s authorizer returned (`requestContext.authorizer` of every event).
    pub authorizer: Option<Value>,
}

/// Which event, with what only that event has.
pub enum EventKind<'a> {
    Connect {
        headers: &'a http::HeaderMap,
        query: Option<&'a str>,
    },
    Message {
        message_id: &'a str,
        body: &'a [u8],
        binary: bool,
    },
    Disconnect {
        status_code: u16,
        reason: &'a str,
    },
}

impl EventKind<'_> {
    pub fn event_type(&self) -> &'static str {
        match self {
            EventKind::Connect { .. } => "CONNECT",
            EventKind::Message { .. } => "MESSAGE",
            EventKind::Disconnect { .. } => "DISCONNECT",
        }
    }
}

/// One event of one connection.
pub struct Event<'a> {
    pub conn: &'a ConnInfo,
    pub route_key: &'a str,
    pub request_id: &'a str,
    pub time_ms: i64,
    pub kind: EventKind<'a>,
}

impl Event<'_> {
    /// `requestContext` (and a template's `$context`).
    pub fn request_context(&self) -> Map<String, Value> {
        let c = self.conn;
        let mut m = Map::new();
        m.insert("routeKey".into(), self.route_key.into());
        if let EventKind::Message { message_id, .. } = &self.kind {
            m.insert("messageId".into(), (*message_id).into());
        }
        if let EventKind::Disconnect { status_code, .. } = &self.kind {
            m.insert("disconnectStatusCode".into(), (*status_code).into());
        }
        m.insert("eventType".into(), self.kind.event_type().into());
        m.insert("extendedRequestId".into(), self.request_id.into());
        m.insert(
            "requestTime".into(),
            tollgate_model::time::clf_time(self.time_ms).into(),
        );
        m.insert("messageDirection".into(), "IN".into());
        if let EventKind::Disconnect { reason, .. } = &self.kind {
            m.insert("disconnectReason".into(), (*reason).into());
        }
        m.insert("stage".into(), (*c.stage).into());
        m.insert("connectedAt".into(), c.connected_at.into());
        m.insert("requestTimeEpoch".into(), self.time_ms.into());
        let mut identity = Map::new();
        identity.insert("userAgent".into(), (*c.user_agent).into());
        identity.insert("sourceIp".into(), (*c.source_ip).into());
        m.insert("identity".into(), Value::Object(identity));
        m.insert("requestId".into(), self.request_id.into());
        m.insert("domainName".into(), (*c.domain_name).into());
        m.insert("connectionId".into(), (*c.connection_id).into());
        m.insert("apiId".into(), (*c.api_id).into());
        if let Some(a) = &c.authorizer {
            m.insert("authorizer".into(), a.clone());
        }
        m
    }

    /// The Lambda proxy event (lambda-events.md §3).
    pub fn lambda_event(&self) -> Vec<u8> {
        let mut e = Map::new();
        match &self.kind {
            EventKind::Connect { headers, query } => {
                let (single, multi) = header_maps(headers, self.conn);
                e.insert("headers".into(), Value::Object(single));
                e.insert("multiValueHeaders".into(), Value::Object(multi));
                if let Some((single, multi)) = query_maps(*query) {
                    e.insert("queryStringParameters".into(), Value::Object(single));
                    e.insert(
                        "multiValueQueryStringParameters".into(),
                        Value::Object(multi),
                    );
                }
            }
            EventKind::Disconnect { .. } => {
                // AWS's `$disconnect` carries this small fixed set.
                let c = self.conn;
                let pairs = [
                    ("Host", &*c.host),
                    ("x-api-key", &*c.api_key),
                    ("X-Forwarded-For", &*c.source_ip),
                    ("x-restapi", ""),
                ];
                let mut single = Map::new();
                let mut multi = Map::new();
                for (k, v) in pairs {
                    single.insert(k.into(), v.into());
                    multi.insert(k.into(), Value::Array(vec![v.into()]));
                }
                e.insert("headers".into(), Value::Object(single));
                e.insert("multiValueHeaders".into(), Value::Object(multi));
            }
            EventKind::Message { .. } => {}
        }
        e.insert(
            "requestContext".into(),
            Value::Object(self.request_context()),
        );
        let mut base64 = false;
        if let EventKind::Message { body, binary, .. } = &self.kind {
            let text = if *binary {
                base64 = true;
                base64::engine::general_purpose::STANDARD.encode(body)
            } else {
                String::from_utf8_lossy(body).into_owned()
            };
            e.insert("body".into(), text.into());
        }
        e.insert("isBase64Encoded".into(), base64.into());
        serde_json::to_vec(&Value::Object(e)).unwrap_or_default()
    }
}

/// The handshake's headers plus those API Gateway adds, as `headers` and
/// `multiValueHeaders` (the last value wins in `headers`).
fn header_maps(
    headers: &http::HeaderMap,
    c: &ConnInfo,
) -> (Map<String, Value>, Map<String, Value>) {
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    let mut add = |k: &str, v: &str| {
        single.insert(k.to_string(), v.into());
        match multi.get_mut(k) {
            Some(Value::Array(a)) => a.push(v.into()),
            _ => {
                multi.insert(k.to_string(), Value::Array(vec![v.into()]));
            }
        }
    };
    for (k, v) in headers {
        // Hop-by-hop headers of the handshake are not shown to the integration.
        if matches!(k.as_str(), "connection" | "upgrade") {
            continue;
        }
        if let Ok(v) = v.to_str() {
            add(&canonical(k.as_str()), v);
        }
    }
    add(
        "X-Amzn-Trace-Id",
        &format!("Root=1-{:08x}-{}", c.connected_at / 1000, &*c.connection_id),
    );
    add("X-Forwarded-For", &c.source_ip);
    add("X-Forwarded-Proto", "http");
    (single, multi)
}

/// `sec-websocket-key` → `Sec-WebSocket-Key`, as AWS shows handshake headers.
fn canonical(name: &str) -> String {
    match name {
        "sec-websocket-key" => "Sec-WebSocket-Key".into(),
        "sec-websocket-version" => "Sec-WebSocket-Version".into(),
        "sec-websocket-extensions" => "Sec-WebSocket-Extensions".into(),
        "sec-websocket-protocol" => "Sec-WebSocket-Protocol".into(),
        _ => name
            .split('-')
            .map(|p| {
                let mut c = p.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("-"),
    }
}

/// The query string's parameters, decoded, in order.
pub fn query_pairs(q: Option<&str>) -> Vec<(String, String)> {
    q.unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let d = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (d(k), d(v))
        })
        .collect()
}

/// The query string as `queryStringParameters` and its multi-value twin; `None` without one.
fn query_maps(query: Option<&str>) -> Option<(Map<String, Value>, Map<String, Value>)> {
    let pairs = query_pairs(query);
    if pairs.is_empty() {
        return None;
    }
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (k, v) in pairs {
        single.insert(k.clone(), v.clone().into());
        match multi.get_mut(&k) {
            Some(Value::Array(a)) => a.push(v.into()),
            _ => {
                multi.insert(k, Value::Array(vec![v.into()]));
            }
        }
    }
    Some((single, multi))
}
