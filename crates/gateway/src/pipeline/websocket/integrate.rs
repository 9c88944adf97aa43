//! Calling a WebSocket route's integration for one event (websocket.md §3): the request
//! template chosen by the template selection expression (non-proxy kinds), the call
//! (Lambda proxy, Lambda, an AWS service, HTTP proxy, HTTP, MOCK) with its parameter
//! mappings, and for non-proxy kinds the integration response chosen by the integration
//! response selection expression, whose template renders what a two-way route sends back.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use serde_json::{Map, Value};
use tollgate_functions::{Functions, InvokeRequest};
use tollgate_model::selection::{body_value, Expression, Variable};
use tollgate_model::PassthroughBehavior;

use percent_encoding::utf8_percent_encode;

use super::event::{Event, EventKind};
use crate::compile::template::MappingTemplate;
use crate::compile::websocket::{WsIntegration, WsTarget};
use crate::compile::websocket_mapping::WsParamTarget;
use crate::integrations::aws::as_role;
use crate::integrations::aws::config::AwsServices;
use crate::integrations::aws::request::{shape, Request};
use crate::integrations::aws::service::role_arn;
use crate::integrations::aws::target::ServiceTarget;
use crate::integrations::aws::wire::{push_pair, set_header, PATH_VALUE};
use crate::integrations::http::HttpClient;
use crate::integrations::lambda::permit;
use crate::integrations::lambda_target::LambdaTarget;
use crate::pipeline::integration_request::{BackendRequest, Mapped};
use crate::pipeline::method_request::parse_query;
use crate::uri::UriPiece;

/// What an integration answered.
#[derive(Debug, Default)]
pub struct Reply {
    pub status: u16,
    /// Headers to copy into the handshake's answer (`$connect`).
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// Why there is no answer; the client's error frame says which (websocket.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    Internal,
    Timeout,
    /// No request template matched and the passthrough behaviour forbids passing the
    /// body through (REST's `UNSUPPORTED_MEDIA_TYPE`, whose message the frame carries as
    /// the other frames carry their gateway response's).
    UnsupportedMediaType,
}

impl Failure {
    pub fn message(self) -> &'static str {
        match self {
            Failure::Internal => "Internal server error",
            Failure::Timeout => "Endpoint request timed out",
            Failure::UnsupportedMediaType => "Unsupported Media Type",
        }
    }

    /// The status of the event's access log line (and of a refused handshake).
    pub fn status(self) -> u16 {
        match self {
            Failure::Internal => 500,
            Failure::Timeout => 504,
            Failure::UnsupportedMediaType => 415,
        }
    }
}

/// One call: the event, the message body (if any, with its JSON when it is JSON) and the
/// stage it runs on.
pub struct Call<'a> {
    pub event: &'a Event<'a>,
    pub body: &'a [u8],
    pub json: Option<&'a Value>,
    pub stage_variables: &'a BTreeMap<String, String>,
    pub functions: Option<&'a Arc<Functions>>,
    /// Where `AWS` service integrations send their calls, signed with what.
    pub aws: &'a AwsServices,
}

/// Largest backend answer read for a message (a message is at most 128 KB anyway).
const MAX_BACKEND_BODY: usize = 10 * 1024 * 1024;

impl Call<'_> {
    /// A selection expression's value for this event: the message body's JSON, the
    /// `$context`, stage variables, and the integration's status and headers once known.
    fn select(
        &self,
        e: &Expression,
        json: Option<&Value>,
        context: &Map<String, Value>,
        answered: Option<(u16, &http::HeaderMap)>,
    ) -> String {
        e.evaluate(|v| self.read(v, json, context, answered))
    }

    /// One variable's value; `route.request.header`/`querystring` are the handshake's,
    /// so only `$connect` has them.
    fn read(
        &self,
        v: &Variable,
        json: Option<&Value>,
        context: &Map<String, Value>,
        answered: Option<(u16, &http::HeaderMap)>,
    ) -> Option<String> {
        match v {
            Variable::Body(steps) => json.and_then(|j| body_value(j, steps)),
            Variable::Context(name) => context.get(name).map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
            Variable::StageVariable(n) => self.stage_variables.get(n).cloned(),
            Variable::IntegrationStatusCode => answered.map(|(s, _)| s.to_string()),
            Variable::IntegrationHeader(h) => answered
                .and_then(|(_, hs)| hs.get(h.as_str()))
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            Variable::Header(name) => match &self.event.kind {
                EventKind::Connect { headers, .. } => headers
                    .get(name.as_str())
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
                _ => None,
            },
            Variable::QueryString(name) => match &self.event.kind {
                EventKind::Connect { query, .. } => parse_query(*query)
                    .into_iter()
                    .rev()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v),
                _ => None,
            },
        }
    }

    /// The integration's `requestParameters` for this event (a value that evaluates to
    /// nothing adds nothing).
    fn mapped<'i>(
        &self,
        i: &'i WsIntegration,
        json: Option<&Value>,
        context: &Map<String, Value>,
    ) -> Mapped<'i> {
        let mut m = Mapped {
            headers: Vec::new(),
            query: Vec::new(),
            path: Vec::new(),
        };
        for p in &i.request_parameters {
            let mut missing = false;
            let value = p.source.evaluate(|v| {
                let r = self.read(v, json, context, None);
                missing |= r.is_none();
                r
            });
            if missing {
                continue;
            }
            let value = Cow::Owned(value);
            match &p.target {
                WsParamTarget::Header(h) => m.headers.push((h, value)),
                WsParamTarget::Query(q) => m.query.push((q, value)),
                WsParamTarget::Path(n) => m.path.push((n, value)),
            }
        }
        m
    }

    fn render(
        &self,
        t: &MappingTemplate,
        body: &[u8],
        context: &mut Map<String, Value>,
    ) -> Result<Bytes, Failure> {
        if let Some(out) = &t.literal {
            return Ok(out.clone());
        }
        let text = String::from_utf8_lossy(body);
        let vars = crate::mapping::stage_variable_pairs(self.stage_variables);
        let input = tollgate_vtl::Input {
            body: &text,
            path: &[],
            querystring: &[],
            header: &[],
            stage_variables: &vars,
        };
        t.engine
            .render(&input, context, &tollgate_vtl::Limits::default())
            .map(Bytes::from)
            .map_err(|e| {
                tracing::info!(api = %self.event.conn.api_id, error = %e, "WebSocket template failed");
                Failure::Internal
            })
    }
}

fn pick<'t>(
    templates: &'t HashMap<Box<str>, MappingTemplate>,
    key: &str,
) -> Option<&'t MappingTemplate> {
    templates
        .get(key)
        .or_else(|| templates.get(tollgate_model::v2::DEFAULT))
}

/// Runs the integration for `call`, counted in `series` (websocket.md §7): its failures,
/// and its IntegrationLatency unless it is a MOCK.
pub async fn run_counted(
    call: &Call<'_>,
    i: &WsIntegration,
    series: &tollgate_metrics::Series,
) -> Result<Reply, Failure> {
    let latency = !matches!(i.target, WsTarget::Mock);
    crate::metrics::timed_ws_integration(series, latency, run(call, i), |r| r.status).await
}

/// Runs the integration for `call`.
pub async fn run(call: &Call<'_>, i: &WsIntegration) -> Result<Reply, Failure> {
    let mut context = call.event.request_context();
    let json = call.json;
    // Non-proxy kinds send the rendered request template (or the body passed through).
    let request = || -> Result<Bytes, Failure> {
        let key = i
            .template_selection
            .as_ref()
            .map(|e| call.select(e, json, &context, None))
            .unwrap_or_else(|| tollgate_model::v2::DEFAULT.to_string());
        match pick(&i.request_templates, &key) {
            Some(t) => call.render(t, call.body, &mut context.clone()),
            None => match i.passthrough {
                PassthroughBehavior::WhenNoMatch => Ok(Bytes::copy_from_slice(call.body)),
                PassthroughBehavior::WhenNoTemplates if i.request_templates.is_empty() => {
                    Ok(Bytes::copy_from_slice(call.body))
                }
                _ => Err(Failure::UnsupportedMediaType),
            },
        }
    };
    let (status, headers, body, error_message) = match &i.target {
        WsTarget::LambdaProxy(target) => {
            let out = invoke(call, i, target, call.event.lambda_event()).await?;
            return proxy_reply(call, out);
        }
        WsTarget::HttpProxy { uri, method } => {
            let out = http(call, i, uri, method, Bytes::copy_from_slice(call.body)).await?;
            return Ok(Reply {
                status: out.0,
                headers: Vec::new(),
                body: out.2,
            });
        }
        WsTarget::Lambda(target) => {
            let payload = request()?;
            let out = invoke(call, i, target, payload.to_vec()).await?;
            let error = out
                .function_error
                .then(|| serde_json::from_slice::<Value>(&out.payload).ok())
                .flatten()
                .and_then(|v| {
                    v.get("errorMessage")
                        .and_then(|m| m.as_str())
                        .map(str::to_string)
                });
            (200, http::HeaderMap::new(), out.payload, error)
        }
        WsTarget::Http { uri, method } => {
            let payload = request()?;
            let (s, h, b) = http(call, i, uri, method, payload).await?;
            (s, h, b, None)
        }
        WsTarget::Service { target, method } => {
            let payload = request()?;
            let mapped = call.mapped(i, json, &context);
            let (s, h, b) = service(call, i, target, method, &mapped, payload).await?;
            (s, h, b, None)
        }
        WsTarget::Mock => {
            let rendered = request()?;
            let status = if i.request_templates.is_empty() {
                200
            } else {
                crate::integrations::mock::status_code(&String::from_utf8_lossy(&rendered))
                    .ok_or(Failure::Internal)?
            };
            (status, http::HeaderMap::new(), Bytes::new(), None)
        }
        WsTarget::Unsupported(why) => {
            tracing::warn!(api = %call.event.conn.api_id, route = call.event.route_key, why, "WebSocket integration cannot be called");
            return Err(Failure::Internal);
        }
    };
    // The integration response: a Lambda error is selected by its message, anything else
    // by the integration response selection expression (the status by default).
    let value = error_message.unwrap_or_else(|| {
        call.select(
            &i.response_selection,
            json,
            &context,
            Some((status, &headers)),
        )
    });
    let chosen = i
        .responses
        .iter()
        .find(|r| r.pattern.as_ref().is_none_or(|p| p.is_match(&value)));
    let Some(r) = chosen else {
        return Ok(Reply {
            status,
            headers: Vec::new(),
            body,
        });
    };
    let key = r
        .template_selection
        .as_ref()
        .map(|e| call.select(e, json, &context, Some((status, &headers))))
        .unwrap_or_else(|| tollgate_model::v2::DEFAULT.to_string());
    let body = match pick(&r.templates, &key) {
        Some(t) => call.render(t, &body, &mut context)?,
        None => body,
    };
    Ok(Reply {
        status,
        headers: Vec::new(),
        body,
    })
}

async fn invoke(
    call: &Call<'_>,
    i: &WsIntegration,
    target: &LambdaTarget,
    payload: Vec<u8>,
) -> Result<tollgate_functions::InvokeResponse, Failure> {
    let functions = call.functions.ok_or(Failure::Internal)?;
    let c = call.event.conn;
    let f = target
        .resolve(call.stage_variables, &c.api_id)
        .map_err(|_| Failure::Internal)?;
    if !i.has_credentials {
        let source_arn = format!(
            "arn:aws:execute-api:{}:{}:{}/{}/{}",
            functions.region(),
            tollgate_model::ACCOUNT_ID,
            c.api_id,
            c.stage,
            call.event.route_key
        );
        permit(functions, &f, &c.api_id, &c.stage, &source_arn).map_err(|_| Failure::Internal)?;
    }
    let invoked = functions.invoke(
        &f.name,
        f.qualifier.as_deref(),
        InvokeRequest {
            payload: Bytes::from(payload),
            log_tail: false,
            client_context: None,
            trace_id: None,
        },
    );
    match tokio::time::timeout(i.timeout, invoked).await {
        Err(_) => Err(Failure::Timeout),
        Ok(Err(e)) => {
            tracing::info!(api = %c.api_id, function = %f.name, error = %e, "Lambda invocation failed");
            Err(Failure::Internal)
        }
        Ok(Ok(out)) => Ok(out),
    }
}

/// A Lambda proxy's output (lambda-events.md §4.3): `statusCode` (200 when absent),
/// `headers`, `body`, `isBase64Encoded`. A function error or output that is not a JSON
/// object (or `null`) is an integration failure.
fn proxy_reply(call: &Call<'_>, out: tollgate_functions::InvokeResponse) -> Result<Reply, Failure> {
    let api = &call.event.conn.api_id;
    if out.function_error {
        tracing::info!(api = %api, route = call.event.route_key, "Lambda function error in WebSocket proxy integration");
        return Err(Failure::Internal);
    }
    let v: Value = serde_json::from_slice(&out.payload).map_err(|_| Failure::Internal)?;
    let obj = match v {
        Value::Object(o) => o,
        Value::Null => Map::new(),
        _ => return Err(Failure::Internal),
    };
    let status = match obj.get("statusCode") {
        None | Some(Value::Null) => Some(200),
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Some(Value::String(s)) => s.parse().ok(),
        Some(_) => None,
    }
    .filter(|s| (100..=599).contains(s))
    .ok_or(Failure::Internal)?;
    let headers = match obj.get("headers") {
        Some(Value::Object(h)) => h
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), v)
            })
            .collect(),
        _ => Vec::new(),
    };
    let text = match obj.get("body") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let body = if obj.get("isBase64Encoded") == Some(&Value::Bool(true)) {
        Bytes::from(
            base64::engine::general_purpose::STANDARD
                .decode(text.as_bytes())
                .map_err(|_| Failure::Internal)?,
        )
    } else {
        Bytes::from(text)
    };
    Ok(Reply {
        status,
        headers,
        body,
    })
}

async fn http(
    call: &Call<'_>,
    i: &WsIntegration,
    uri: &[UriPiece],
    method: &http::Method,
    body: Bytes,
) -> Result<(u16, http::HeaderMap, Bytes), Failure> {
    let context = call.event.request_context();
    let mapped = call.mapped(i, call.json, &context);
    let mut url = String::with_capacity(128);
    for piece in uri {
        match piece {
            UriPiece::Literal(l) => url.push_str(l),
            UriPiece::StageVariable(n) => {
                url.push_str(call.stage_variables.get(n).map_or("", String::as_str))
            }
            UriPiece::PathParam(n) => {
                if let Some((_, v)) = mapped.path.iter().find(|(k, _)| k == n) {
                    url.extend(utf8_percent_encode(v, PATH_VALUE));
                }
            }
        }
    }
    let mut query = String::new();
    for (k, v) in &mapped.query {
        push_pair(&mut query, k, v);
    }
    if !query.is_empty() {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&query);
    }
    let uri: http::Uri = url.parse().map_err(|_| Failure::Internal)?;
    let mut headers = http::HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, JSON.clone());
    for (h, v) in &mapped.headers {
        set_header(&mut headers, (*h).clone(), v);
    }
    let req = BackendRequest {
        method: method.clone(),
        uri,
        headers,
        body: crate::body::GatewayBody::from_bytes(body),
    };
    send(i, req).await
}

const JSON: http::HeaderValue = http::HeaderValue::from_static("application/json");

/// `AWS` to a service: the payload sent as the target's protocol wants it (REST's
/// [`shape`]), signed with the `--aws-*` credentials or the integration's role.
async fn service(
    call: &Call<'_>,
    i: &WsIntegration,
    target: &ServiceTarget,
    method: &http::Method,
    mapped: &Mapped<'_>,
    payload: Bytes,
) -> Result<(u16, http::HeaderMap, Bytes), Failure> {
    let request = Request {
        api_id: &call.event.conn.api_id,
        method: method.clone(),
        stage_variables: call.stage_variables,
        content_type: Some(&JSON),
        payload,
    };
    let service_call = shape(target, request, mapped);
    let role = i
        .credentials
        .as_deref()
        .map(|r| role_arn(r, call.stage_variables));
    let req = as_role::prepare(call.aws, service_call, role.as_deref())
        .await
        .map_err(|_| Failure::Internal)?;
    send(i, req).await
}

/// Sends a backend request within the integration's timeout, its answer read whole.
async fn send(
    i: &WsIntegration,
    req: BackendRequest,
) -> Result<(u16, http::HeaderMap, Bytes), Failure> {
    let out = HttpClient::current()
        .send_buffered(req, i.timeout, MAX_BACKEND_BODY)
        .await
        .map_err(|e| {
            if e.kind == tollgate_model::GatewayResponseType::IntegrationTimeout {
                Failure::Timeout
            } else {
                Failure::Internal
            }
        })?;
    Ok((out.status, out.headers, out.body))
}
