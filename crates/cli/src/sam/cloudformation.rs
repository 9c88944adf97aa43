//! CloudFormation's own API Gateway and Lambda resources beside SAM's: an
//! `AWS::ApiGateway::RestApi` with its OpenAPI `Body`, deployed to the stage an
//! `AWS::ApiGateway::Deployment` (`StageName`) or `AWS::ApiGateway::Stage` names for it, and
//! `AWS::Lambda::Permission`s, granted once the APIs exist (their `SourceArn` usually names
//! the API's id).

use serde_json::{json, Map, Value};

use super::client::{segment, CallError, Client};
use super::intrinsics::{IntrinsicError, Scope};
use super::template::Template;

/// The logical id `v` names with `Ref` (or a plain string).
fn reference(v: Option<&Value>) -> Option<&str> {
    match v? {
        Value::Object(m) => m.get("Ref").and_then(Value::as_str),
        Value::String(s) => Some(s),
        _ => None,
    }
}

/// The stage and variables the template deploys the REST API `id` to: a Deployment's
/// `StageName`, or a Stage's `StageName` and `Variables`. `None`: created, not deployed.
fn stage_of(t: &Template, id: &str, scope: &Scope) -> Option<(String, Map<String, Value>)> {
    let mut found = None;
    for (_, r) in &t.resources {
        let ty = r.get("Type").and_then(Value::as_str).unwrap_or_default();
        let props = r.get("Properties").cloned().unwrap_or_default();
        if reference(props.get("RestApiId")) != Some(id) {
            continue;
        }
        let name = props
            .get("StageName")
            .and_then(|v| scope.resolve(v).ok())
            .and_then(|v| v.as_str().map(str::to_string));
        match (ty, name) {
            ("AWS::ApiGateway::Stage", Some(n)) => {
                let vars = match props.get("Variables").map(|v| scope.resolve(v)) {
                    Some(Ok(Value::Object(m))) => m,
                    _ => Map::new(),
                };
                return Some((n, vars));
            }
            ("AWS::ApiGateway::Deployment", Some(n)) => found = Some((n, Map::new())),
            _ => {}
        }
    }
    found
}

/// What an `AWS::ApiGateway::RestApi` asks for.
pub struct RestApi {
    pub name: Option<String>,
    pub body: Value,
    /// Empty: no Deployment or Stage names it (created, not deployed).
    pub stage: String,
    pub variables: Map<String, Value>,
}

/// An `AWS::ApiGateway::RestApi`, its `Body` required (a `BodyS3Location` cannot be read
/// here).
pub fn rest_api(t: &Template, id: &str, raw: &Value, scope: &Scope) -> Result<RestApi, String> {
    let body = raw
        .get("Body")
        .cloned()
        .ok_or("Body is required (BodyS3Location is not supported)")?;
    let (stage, variables) = stage_of(t, id, scope).unwrap_or_default();
    let name = raw
        .get("Name")
        .and_then(|v| scope.resolve(v).ok())
        .and_then(|v| v.as_str().map(str::to_string));
    Ok(RestApi {
        name,
        body,
        stage,
        variables,
    })
}

/// The resources this module reads as part of another (a RestApi's stage).
pub fn read_with_rest_api(ty: &str) -> bool {
    matches!(ty, "AWS::ApiGateway::Deployment" | "AWS::ApiGateway::Stage")
}

/// An `AWS::Lambda::Permission`, intrinsics unresolved until the APIs exist.
#[derive(Debug, Clone, PartialEq)]
pub struct Permission {
    pub logical_id: String,
    pub properties: Value,
}

/// Grants `p` (AddPermission, its logical id as the statement id; one already there is
/// kept).
pub async fn grant(c: &Client, p: &Permission, scope: &Scope) -> Result<(), String> {
    let props = scope
        .resolve(&p.properties)
        .map_err(|e: IntrinsicError| e.to_string())?;
    let text = |k: &str| props.get(k).and_then(Value::as_str).map(str::to_string);
    let function = text("FunctionName").ok_or("FunctionName is required")?;
    let mut body = json!({
        "StatementId": p.logical_id,
        "Action": text("Action").ok_or("Action is required")?,
        "Principal": text("Principal").ok_or("Principal is required")?,
    });
    for k in ["SourceArn", "SourceAccount"] {
        if let Some(v) = text(k) {
            body[k] = json!(v);
        }
    }
    // FunctionName may be a name, an ARN, or an ARN with a qualifier.
    let (name, qualifier) = match function.strip_prefix("arn:") {
        Some(_) => {
            let parts: Vec<&str> = function.split(':').collect();
            (
                parts.get(6).copied().unwrap_or_default().to_string(),
                parts.get(7).map(|q| format!("Qualifier={}", segment(q))),
            )
        }
        None => (function.clone(), None),
    };
    let path = format!("/2015-03-31/functions/{}/policy", segment(&name));
    let body = serde_json::to_vec(&body).unwrap_or_default();
    match c
        .call("lambda", "POST", &path, qualifier.as_deref(), Some(body))
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.status() == Some(409) => Ok(()),
        Err(e) => Err(CallError::to_string(&e)),
    }
}
