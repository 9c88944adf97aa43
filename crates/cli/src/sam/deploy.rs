//! Creating or updating what a plan names, through the gateway's AWS API: Lambda's
//! CreateFunction / UpdateFunctionCode / UpdateFunctionConfiguration / AddPermission, API
//! Gateway's ImportRestApi / PutRestApi / CreateDeployment, and API Gateway v2's
//! ImportApi / ReimportApi / CreateStage. Found again on a rerun by name, so a rerun
//! updates in place; a function whose code and settings did not change is left alone
//! (its warm workers keep running).

use base64::Engine;
use serde_json::{json, Map, Value};

use super::client::{segment, CallError, Client};
use super::intrinsics::Scope;
use super::package::{package, PackageError};
use super::plan::{function_arn, ApiKind, ApiSpec, FunctionSpec};

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(transparent)]
    Call(#[from] CallError),
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error("{0}")]
    Definition(String),
}

/// What happened to a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Created,
    /// What changed: `code`, or configuration members.
    Updated(Vec<String>),
    Unchanged,
}

const LAMBDA: &str = "lambda";
const APIGATEWAY: &str = "apigateway";

fn not_found(e: &CallError) -> bool {
    e.status() == Some(404)
}

/// The configuration members `tollgate sam` sets, as Lambda takes and reports them.
fn configuration(f: &FunctionSpec) -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("Runtime".into(), json!(f.runtime));
    c.insert("Handler".into(), json!(f.handler));
    c.insert("Role".into(), json!(f.role));
    c.insert("Environment".into(), json!({"Variables": f.environment}));
    if let Some(t) = f.timeout {
        c.insert("Timeout".into(), json!(t));
    }
    if let Some(m) = f.memory {
        c.insert("MemorySize".into(), json!(m));
    }
    c
}

/// The members we would set that Lambda's reported configuration does not already have.
fn changed_configuration(want: &Map<String, Value>, have: &Value) -> Vec<String> {
    want.iter()
        .filter(|(k, v)| {
            let had = have.get(k.as_str()).cloned().unwrap_or(Value::Null);
            match k.as_str() {
                // Lambda omits an empty environment.
                "Environment" => {
                    let vars = |x: &Value| x.get("Variables").cloned().unwrap_or(json!({}));
                    vars(v) != vars(&had)
                }
                _ => **v != had,
            }
        })
        .map(|(k, _)| k.clone())
        .collect()
}

pub async fn function(c: &Client, f: &FunctionSpec) -> Result<Outcome, DeployError> {
    let pkg = package(&f.code)?;
    let path = format!("/2015-03-31/functions/{}", segment(&f.name));
    let zip = base64::engine::general_purpose::STANDARD.encode(&pkg.zip);
    let want = configuration(f);
    let current = match c.call(LAMBDA, "GET", &path, None, None).await {
        Ok(v) => Some(v),
        Err(e) if not_found(&e) => None,
        Err(e) => return Err(e.into()),
    };
    let Some(current) = current else {
        let mut body = want.clone();
        body.insert("FunctionName".into(), json!(f.name));
        body.insert("Code".into(), json!({"ZipFile": zip}));
        body.insert(
            "Tags".into(),
            json!({"tollgate:sam:logical-id": f.logical_id}),
        );
        let body = serde_json::to_vec(&body).unwrap_or_default();
        c.call(LAMBDA, "POST", "/2015-03-31/functions", None, Some(body))
            .await?;
        return Ok(Outcome::Created);
    };
    let config = current.get("Configuration").cloned().unwrap_or_default();
    let mut changed = vec![];
    if config.get("CodeSha256").and_then(Value::as_str) != Some(pkg.sha256.as_str()) {
        let body = serde_json::to_vec(&json!({"ZipFile": zip})).unwrap_or_default();
        c.call(LAMBDA, "PUT", &format!("{path}/code"), None, Some(body))
            .await?;
        changed.push("code".to_string());
    }
    let members = changed_configuration(&want, &config);
    if !members.is_empty() {
        let body = serde_json::to_vec(&want).unwrap_or_default();
        c.call(
            LAMBDA,
            "PUT",
            &format!("{path}/configuration"),
            None,
            Some(body),
        )
        .await?;
        changed.extend(members);
    }
    Ok(if changed.is_empty() {
        Outcome::Unchanged
    } else {
        Outcome::Updated(changed)
    })
}

/// The integration of a generated route: Lambda proxy.
fn integration(kind: ApiKind, region: &str, arn: &str) -> Value {
    match kind {
        ApiKind::Rest => json!({
            "type": "aws_proxy",
            "httpMethod": "POST",
            "uri": format!("arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations"),
        }),
        ApiKind::Http => json!({
            "type": "aws_proxy",
            "httpMethod": "POST",
            "uri": arn,
            "payloadFormatVersion": "2.0",
        }),
    }
}

/// The API's OpenAPI document: its `DefinitionBody` resolved, else one generated from
/// its routes (Swagger 2.0 for REST, OpenAPI 3.0 for HTTP, as SAM generates them).
fn document(api: &ApiSpec, scope: &Scope, region: &str) -> Result<Value, DeployError> {
    if let Some(body) = &api.definition {
        return scope
            .resolve(body)
            .map_err(|e| DeployError::Definition(format!("DefinitionBody: {e}")));
    }
    let mut paths = Map::new();
    for r in &api.routes {
        let arn = scope
            .resources
            .get(&r.function)
            .and_then(|a| a.get("Arn"))
            .ok_or_else(|| DeployError::Definition(format!("no function {}", r.function)))?;
        let key = match r.method.as_str() {
            "any" => "x-amazon-apigateway-any-method".to_string(),
            m => m.to_string(),
        };
        let op = json!({
            "responses": {},
            "x-amazon-apigateway-integration": integration(api.kind, region, arn),
        });
        let item = paths
            .entry(r.path.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(item) = item.as_object_mut() {
            item.insert(key, op);
        }
    }
    let info = json!({"title": api.name, "version": "1.0"});
    Ok(match api.kind {
        ApiKind::Rest => json!({"swagger": "2.0", "info": info, "paths": paths}),
        ApiKind::Http => json!({"openapi": "3.0.1", "info": info, "paths": paths}),
    })
}

/// The id of the API named `name`, if one exists (every page of the list is read).
async fn find_api(c: &Client, kind: ApiKind, name: &str) -> Result<Option<String>, CallError> {
    let (path, key, id, token, limit) = match kind {
        ApiKind::Rest => ("/restapis", "item", "id", "position", "limit=500"),
        ApiKind::Http => ("/v2/apis", "items", "apiId", "nextToken", "maxResults=500"),
    };
    let mut next: Option<String> = None;
    loop {
        let query = match &next {
            Some(t) => format!("{limit}&{token}={}", segment(t)),
            None => limit.to_string(),
        };
        let list = c.call(APIGATEWAY, "GET", path, Some(&query), None).await?;
        let found = list
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|a| a.get("name").and_then(Value::as_str) == Some(name))
            .and_then(|a| a.get(id).and_then(Value::as_str).map(String::from));
        if found.is_some() {
            return Ok(found);
        }
        match list.get(token).and_then(Value::as_str) {
            Some(t) => next = Some(t.to_string()),
            None => return Ok(None),
        }
    }
}

/// Creates or updates the API and deploys it to its stage; answers its id.
pub async fn api(c: &Client, api: &ApiSpec, scope: &Scope) -> Result<String, DeployError> {
    let mut doc = document(api, scope, c.region())?;
    // The API keeps the name `tollgate sam` finds it by.
    if let Some(info) = doc.get_mut("info").and_then(Value::as_object_mut) {
        info.insert("title".into(), json!(api.name));
    }
    let existing = find_api(c, api.kind, &api.name).await?;
    let id = match api.kind {
        ApiKind::Rest => {
            let body = serde_json::to_vec(&doc).unwrap_or_default();
            let out = match &existing {
                Some(id) => {
                    let path = format!("/restapis/{}", segment(id));
                    c.call(APIGATEWAY, "PUT", &path, Some("mode=overwrite"), Some(body))
                        .await?
                }
                None => {
                    c.call(
                        APIGATEWAY,
                        "POST",
                        "/restapis",
                        Some("mode=import"),
                        Some(body),
                    )
                    .await?
                }
            };
            let id = out["id"].as_str().unwrap_or_default().to_string();
            let deployment = json!({"stageName": api.stage, "variables": api.variables});
            let path = format!("/restapis/{}/deployments", segment(&id));
            let body = serde_json::to_vec(&deployment).unwrap_or_default();
            c.call(APIGATEWAY, "POST", &path, None, Some(body)).await?;
            id
        }
        ApiKind::Http => {
            let body = serde_json::to_vec(&json!({"body": doc.to_string()})).unwrap_or_default();
            let out = match &existing {
                Some(id) => {
                    let path = format!("/v2/apis/{}", segment(id));
                    c.call(APIGATEWAY, "PUT", &path, None, Some(body)).await?
                }
                None => {
                    c.call(APIGATEWAY, "PUT", "/v2/apis", None, Some(body))
                        .await?
                }
            };
            let id = out["apiId"].as_str().unwrap_or_default().to_string();
            // An auto-deployed stage follows every reimport.
            let stage = json!({"stageName": api.stage, "autoDeploy": true,
                               "stageVariables": api.variables});
            let path = format!("/v2/apis/{}/stages", segment(&id));
            let body = serde_json::to_vec(&stage).unwrap_or_default();
            match c.call(APIGATEWAY, "POST", &path, None, Some(body)).await {
                Ok(_) => {}
                Err(e) if e.status() == Some(409) => {}
                Err(e) => return Err(e.into()),
            }
            id
        }
    };
    Ok(id)
}

/// Lets the API invoke every template function its document names (SAM adds these
/// permissions itself). One already there is kept.
pub async fn permissions(
    c: &Client,
    api: &ApiSpec,
    api_id: &str,
    functions: &[FunctionSpec],
    scope: &Scope,
) -> Result<(), DeployError> {
    let text = document(api, scope, c.region())?.to_string();
    for f in functions {
        let arn = function_arn(c.region(), &f.name);
        if !text.contains(&arn) {
            continue;
        }
        let body = json!({
            "StatementId": format!("tollgate-sam-{}", api.logical_id),
            "Action": "lambda:InvokeFunction",
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": format!("arn:aws:execute-api:{}:{}:{api_id}/*", c.region(), tollgate_model::ACCOUNT_ID),
        });
        let path = format!("/2015-03-31/functions/{}/policy", segment(&f.name));
        let body = serde_json::to_vec(&body).unwrap_or_default();
        match c.call(LAMBDA, "POST", &path, None, Some(body)).await {
            Ok(_) => {}
            Err(e) if e.status() == Some(409) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
