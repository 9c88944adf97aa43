//! Authorization of `$connect` (websocket.md §1), before its integration: `AWS_IAM` (the
//! handshake signed for `execute-api`, usually as a presigned URL, by a caller allowed
//! `execute-api:Invoke` on `{api}/{stage}/$connect`) or `CUSTOM` (a Lambda REQUEST
//! authorizer whose identity sources are `route.request.header.X`,
//! `route.request.querystring.X`, `stageVariables.X`, `context.X`). A missing identity
//! source is 401, a denying policy 403, an authorizer failure 500; the refusal is the
//! handshake's answer. What an authorizer returns is `requestContext.authorizer` of every
//! later event of the connection.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::{Map, Value};
use tollgate_authorizers::{ConditionKeys, MethodArn, Outcome, RequestView};
use tollgate_model::AuthorizationType;
use tollgate_policy::Decision;

use super::event::{query_pairs, Event};
use crate::invocation::RequestBody;
use crate::pipeline::authorize::{header_value, last_query_value, FunctionInvoker};
use crate::pipeline::iam_caller::{caller, Refused};
use crate::runtime_ws::WsStageRuntime;
use crate::Gateway;

/// Why the handshake is refused: its status and message.
pub struct Refusal {
    pub status: u16,
    pub message: &'static str,
}

fn refuse(status: u16, message: &'static str) -> Refusal {
    Refusal { status, message }
}

/// The handshake as an authorizer reads it.
struct Handshake<'a> {
    parts: &'a http::request::Parts,
    query: Vec<(String, String)>,
    stage: &'a WsStageRuntime,
    event: &'a Event<'a>,
}

impl ConditionKeys for Handshake<'_> {
    fn values(&self, key: &str) -> Vec<String> {
        match key {
            "aws:sourceip" => vec![self.event.conn.source_ip.to_string()],
            _ => Vec::new(),
        }
    }
}

impl RequestView for Handshake<'_> {
    fn header(&self, name: &str) -> Option<Cow<'_, str>> {
        header_value(&self.parts.headers, name)
    }

    fn query(&self, name: &str) -> Option<Cow<'_, str>> {
        last_query_value(&self.query, name)
    }

    fn stage_variables(&self) -> &BTreeMap<String, String> {
        &self.stage.variables
    }

    fn context(&self, name: &str) -> Option<Cow<'_, str>> {
        match self.event.request_context().get(name)? {
            Value::String(s) => Some(Cow::Owned(s.clone())),
            other => Some(Cow::Owned(other.to_string())),
        }
    }

    /// The `$connect` event's members, as AWS sends a WebSocket REQUEST authorizer.
    fn request_members(&self) -> Map<String, Value> {
        let mut m: Map<String, Value> =
            serde_json::from_slice(&self.event.lambda_event()).unwrap_or_default();
        m.remove("isBase64Encoded");
        let vars = self
            .stage
            .variables
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        m.insert("stageVariables".into(), Value::Object(vars));
        m
    }
}

/// Every identity source has a non-empty value.
fn identity_present(view: &Handshake<'_>, sources: &[String]) -> bool {
    sources.iter().all(|s| {
        let value = if let Some(h) = s.strip_prefix("route.request.header.") {
            view.header(h)
        } else if let Some(q) = s.strip_prefix("route.request.querystring.") {
            view.query(q)
        } else if let Some(v) = s.strip_prefix("stageVariables.") {
            view.stage_variables()
                .get(v)
                .map(|v| Cow::Borrowed(v.as_str()))
        } else if let Some(c) = s.strip_prefix("context.") {
            view.context(c)
        } else {
            None
        };
        value.is_some_and(|v| !v.is_empty())
    })
}

/// Authorizes the handshake of `event` (a CONNECT event); `Ok` holds what becomes
/// `requestContext.authorizer` (nothing for `NONE`).
pub async fn connect(
    gw: &Gateway,
    parts: &http::request::Parts,
    body: RequestBody,
    stage: &WsStageRuntime,
    event: &Event<'_>,
) -> Result<Option<Value>, Refusal> {
    let Some(route) = stage.deployment.connect.as_ref() else {
        return Ok(None);
    };
    let c = event.conn;
    let region = gw
        .functions
        .as_ref()
        .map_or_else(|| "us-east-1".to_string(), |f| f.region().to_string());
    let arn = format!(
        "arn:aws:execute-api:{region}:{}:{}/{}/$connect",
        tollgate_model::ACCOUNT_ID,
        c.api_id,
        c.stage
    );
    match route.authorization_type {
        AuthorizationType::AwsIam => {
            let mut body = Some(body);
            let who = match caller(gw, parts, &mut body).await {
                Ok(who) => who,
                Err(Refused::Iam(_) | Refused::Body(_)) => return Err(refuse(403, "Forbidden")),
            };
            if who.decide("execute-api:Invoke", &arn, &()) != Decision::Allow {
                return Err(refuse(403, "Forbidden"));
            }
            Ok(Some(serde_json::json!({
                "principalId": who.arn,
                "accountId": who.account,
                "userArn": who.arn,
                "accessKey": who.access_key,
            })))
        }
        AuthorizationType::Custom => {
            let authorizer = match stage.deployment.connect_authorizer.as_ref() {
                Some(Ok(a)) => a,
                _ => return Err(refuse(500, "Internal server error")),
            };
            let functions = gw
                .functions
                .as_deref()
                .ok_or_else(|| refuse(500, "Internal server error"))?;
            let invoker = FunctionInvoker {
                functions,
                api_id: &c.api_id,
                authorizer_id: &authorizer.id,
                trace_id: None,
            };
            let view = Handshake {
                parts,
                query: query_pairs(parts.uri.query()),
                stage,
                event,
            };
            if !identity_present(&view, &stage.deployment.connect_identity_sources) {
                return Err(refuse(401, "Unauthorized"));
            }
            let method_arn = MethodArn::formatted(arn, "$connect");
            match authorizer
                .authorize(&view, &method_arn, None, &invoker)
                .await
            {
                Outcome::Allow(out) => {
                    let mut m = Map::new();
                    m.insert("principalId".into(), out.principal_id.clone().into());
                    for (k, v) in &out.context {
                        m.insert(k.clone(), v.clone().into());
                    }
                    if let Some(key) = &out.usage_identifier_key {
                        m.insert("usageIdentifierKey".into(), key.clone().into());
                    }
                    Ok(Some(Value::Object(m)))
                }
                Outcome::Unauthorized => Err(refuse(401, "Unauthorized")),
                Outcome::Denied { .. } => Err(refuse(403, "Forbidden")),
                Outcome::ConfigurationError => Err(refuse(500, "Internal server error")),
            }
        }
        _ => Ok(None),
    }
}
