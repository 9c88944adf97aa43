//! Creating or updating what a plan names, through the gateway's AWS API: Lambda's
//! CreateFunction / UpdateFunctionCode / UpdateFunctionConfiguration / AddPermission, API
//! Gateway's ImportRestApi / PutRestApi / CreateDeployment, and API Gateway v2's
//! ImportApi / ReimportApi / CreateStage. Found again on a rerun by name, so a rerun
//! updates in place; a function whose code and settings did not change is left alone
//! (its warm workers keep running).

use base64::Engine;
use serde_json::{json, Map, Value};

use super::client::{segment, CallError, Client};
use super::document::document;
use super::intrinsics::Scope;
use super::package::{package, PackageError};
use super::plan::{function_arn, ApiKind, ApiSpec, FunctionSpec};
use super::prune;

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

pub async fn function(c: &Client, f: &FunctionSpec, stack: &str) -> Result<Outcome, DeployError> {
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
        body.insert("Tags".into(), prune::tags(stack, &f.logical_id));
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

/// `AutoPublishAlias`: when the function changed (or the alias does not exist yet) a new
/// version is published and the alias pointed at it; answers the version published.
pub async fn alias(
    c: &Client,
    f: &FunctionSpec,
    outcome: &Outcome,
) -> Result<Option<String>, DeployError> {
    let Some(alias) = &f.alias else {
        return Ok(None);
    };
    let base = format!("/2015-03-31/functions/{}", segment(&f.name));
    let alias_path = format!("{base}/aliases/{}", segment(alias));
    let exists = match c.call(LAMBDA, "GET", &alias_path, None, None).await {
        Ok(_) => true,
        Err(e) if not_found(&e) => false,
        Err(e) => return Err(e.into()),
    };
    if exists && *outcome == Outcome::Unchanged {
        return Ok(None);
    }
    let published = c
        .call(
            LAMBDA,
            "POST",
            &format!("{base}/versions"),
            None,
            Some(b"{}".to_vec()),
        )
        .await?;
    let version = published["Version"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if exists {
        let body = serde_json::to_vec(&json!({"FunctionVersion": version})).unwrap_or_default();
        c.call(LAMBDA, "PUT", &alias_path, None, Some(body)).await?;
    } else {
        let body = serde_json::to_vec(&json!({"Name": alias, "FunctionVersion": version}))
            .unwrap_or_default();
        c.call(LAMBDA, "POST", &format!("{base}/aliases"), None, Some(body))
            .await?;
    }
    Ok(Some(version))
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
pub async fn api(
    c: &Client,
    api: &ApiSpec,
    scope: &Scope,
    stack: &str,
) -> Result<String, DeployError> {
    let mut doc = document(api, scope, c.region()).map_err(DeployError::Definition)?;
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
            if !api.stage.is_empty() {
                let deployment = json!({"stageName": api.stage, "variables": api.variables});
                let path = format!("/restapis/{}/deployments", segment(&id));
                let body = serde_json::to_vec(&deployment).unwrap_or_default();
                c.call(APIGATEWAY, "POST", &path, None, Some(body)).await?;
            }
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
    prune::tag_api(c, api.kind, &id, stack, &api.logical_id).await?;
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
    if !api.grants_invoke {
        return Ok(());
    }
    let text = document(api, scope, c.region())
        .map_err(DeployError::Definition)?
        .to_string();
    let body = json!({
        "StatementId": format!("tollgate-sam-{}", api.logical_id),
        "Action": "lambda:InvokeFunction",
        "Principal": "apigateway.amazonaws.com",
        "SourceArn": format!("arn:aws:execute-api:{}:{}:{api_id}/*", c.region(), tollgate_model::ACCOUNT_ID),
    });
    let body = serde_json::to_vec(&body).unwrap_or_default();
    for f in functions {
        // Lambda keeps one policy per qualifier: the unqualified function's for a document
        // naming its ARN, the alias's for one naming the alias (generated events of an
        // `AutoPublishAlias` function do).
        let arn = function_arn(c.region(), &f.name);
        let named = |suffix: &str| {
            text.match_indices(&arn)
                .any(|(at, _)| text[at + arn.len()..].starts_with(suffix))
        };
        let mut qualifiers = vec![];
        if named("/") || named("\"") {
            qualifiers.push(None);
        }
        if let Some(a) = f.alias.as_ref().filter(|a| named(&format!(":{a}"))) {
            qualifiers.push(Some(format!("Qualifier={}", segment(a))));
        }
        let path = format!("/2015-03-31/functions/{}/policy", segment(&f.name));
        for query in qualifiers {
            match c
                .call(LAMBDA, "POST", &path, query.as_deref(), Some(body.clone()))
                .await
            {
                Ok(_) => {}
                Err(e) if e.status() == Some(409) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}
