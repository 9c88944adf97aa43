//! What a template asks for, in the terms `tollgate sam` deploys: functions with their
//! events, and APIs (declared, or the implicit `ServerlessRestApi` / `ServerlessHttpApi`
//! SAM makes for events that name none). Resource types it does not run are listed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::intrinsics::{IntrinsicError, Scope};
use super::template::Template;

/// The implicit APIs' logical ids, as SAM names them.
pub const IMPLICIT_REST: &str = "ServerlessRestApi";
pub const IMPLICIT_HTTP: &str = "ServerlessHttpApi";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKind {
    Rest,
    Http,
}

/// One route of an API to a function.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub path: String,
    /// Lower case, `any` for every method.
    pub method: String,
    pub function: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionSpec {
    pub logical_id: String,
    pub name: String,
    pub code: PathBuf,
    pub runtime: String,
    pub handler: String,
    pub role: String,
    pub environment: Map<String, Value>,
    pub timeout: Option<i64>,
    pub memory: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiSpec {
    pub logical_id: String,
    pub kind: ApiKind,
    pub name: String,
    pub stage: String,
    /// `DefinitionBody`, intrinsics unresolved (they may name functions' ARNs).
    pub definition: Option<Value>,
    pub variables: Map<String, Value>,
    pub routes: Vec<Route>,
}

/// A resource, or a part of one, that is not run.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    pub logical_id: String,
    pub what: String,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub functions: Vec<FunctionSpec>,
    pub apis: Vec<ApiSpec>,
    pub skipped: Vec<Skipped>,
    /// Functions not created: what names them is skipped too.
    pub skipped_functions: Vec<String>,
}

pub struct Context<'a> {
    pub stack: &'a str,
    pub stage: &'a str,
    pub region: &'a str,
    pub template_dir: &'a Path,
}

/// The physical name of a function: its `FunctionName`, else `{stack}-{LogicalId}`.
fn function_name(ctx: &Context<'_>, id: &str, props: &Value) -> String {
    match props.get("FunctionName").and_then(Value::as_str) {
        Some(n) => n.to_string(),
        None => {
            let mut n = format!("{}-{id}", ctx.stack);
            n.truncate(64);
            n
        }
    }
}

pub fn function_arn(region: &str, name: &str) -> String {
    format!(
        "arn:aws:lambda:{region}:{}:function:{name}",
        tollgate_model::ACCOUNT_ID
    )
}

/// The functions' `Ref` and `Arn`, known before anything is created (names are chosen
/// here), so APIs' definitions and other functions can name them.
pub fn add_functions_to_scope(t: &Template, ctx: &Context<'_>, scope: &mut Scope) {
    for (id, r) in &t.resources {
        if r.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
            continue;
        }
        let props = r.get("Properties").cloned().unwrap_or_default();
        let name = function_name(ctx, id, &scope.resolve(&props).unwrap_or(props.clone()));
        let arn = function_arn(ctx.region, &name);
        scope.resources.insert(
            id.clone(),
            BTreeMap::from([(String::new(), name), ("Arn".to_string(), arn)]),
        );
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The logical id an event's `RestApiId` / `ApiId` names (`!Ref X`).
fn api_ref(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Object(m) => m.get("Ref").and_then(Value::as_str).map(String::from),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// Reads the template into a plan. Intrinsics in function properties are resolved now;
/// a function whose properties cannot be is skipped, with the reason.
pub fn plan(t: &Template, ctx: &Context<'_>, scope: &Scope) -> Plan {
    let mut p = Plan::default();
    let mut routes: BTreeMap<String, Vec<Route>> = BTreeMap::new();
    let skip = |p: &mut Plan, id: &str, what: String| {
        p.skipped.push(Skipped {
            logical_id: id.to_string(),
            what,
        })
    };
    for (id, r) in &t.resources {
        let ty = r.get("Type").and_then(Value::as_str).unwrap_or_default();
        let raw = r
            .get("Properties")
            .cloned()
            .unwrap_or(Value::Object(Map::new()));
        match ty {
            "AWS::Serverless::Function" => match function(ctx, id, &raw, scope) {
                Ok((f, events, ignored)) => {
                    for e in events {
                        routes.entry(e.0).or_default().push(e.1);
                    }
                    for what in ignored {
                        skip(&mut p, id, what);
                    }
                    p.functions.push(f);
                }
                Err(why) => {
                    skip(&mut p, id, format!("{ty}: {why}"));
                    p.skipped_functions.push(id.clone());
                }
            },
            "AWS::Serverless::Api" | "AWS::Serverless::HttpApi" => {
                let kind = if ty == "AWS::Serverless::Api" {
                    ApiKind::Rest
                } else {
                    ApiKind::Http
                };
                let stage_name = raw
                    .get("StageName")
                    .map(|v| scope.resolve(v).unwrap_or(v.clone()));
                let stage = match (kind, text(stage_name.as_ref())) {
                    (_, Some(s)) => s,
                    (ApiKind::Rest, None) => ctx.stage.to_string(),
                    (ApiKind::Http, None) => "$default".to_string(),
                };
                for prop in [
                    "Auth",
                    "Cors",
                    "CorsConfiguration",
                    "DefinitionUri",
                    "Domain",
                ] {
                    if raw.get(prop).is_some() {
                        skip(
                            &mut p,
                            id,
                            format!("{ty} property {prop} (not supported yet)"),
                        );
                    }
                }
                p.apis.push(ApiSpec {
                    logical_id: id.clone(),
                    kind,
                    name: text(raw.get("Name")).unwrap_or_else(|| format!("{}-{id}", ctx.stack)),
                    stage,
                    definition: raw.get("DefinitionBody").cloned(),
                    variables: match raw.get("Variables") {
                        Some(Value::Object(m)) => m.clone(),
                        _ => Map::new(),
                    },
                    routes: vec![],
                });
            }
            other => skip(
                &mut p,
                id,
                format!("resource type {other} (not supported yet)"),
            ),
        }
    }
    for (api, list) in routes {
        if let Some(a) = p.apis.iter_mut().find(|a| a.logical_id == api) {
            a.routes.extend(list);
            continue;
        }
        let kind = if api == IMPLICIT_HTTP {
            ApiKind::Http
        } else if api == IMPLICIT_REST {
            ApiKind::Rest
        } else {
            for r in list {
                skip(
                    &mut p,
                    &r.function,
                    format!(
                        "event on {} {}: its API {api} is not in the template",
                        r.method, r.path
                    ),
                );
            }
            continue;
        };
        p.apis.push(ApiSpec {
            logical_id: api.clone(),
            kind,
            name: format!("{}-{api}", ctx.stack),
            stage: match kind {
                ApiKind::Rest => ctx.stage.to_string(),
                ApiKind::Http => "$default".to_string(),
            },
            definition: None,
            variables: Map::new(),
            routes: list,
        });
    }
    p
}

type Events = Vec<(String, Route)>;

/// A function's spec, its events (by API logical id) and what of it is ignored.
fn function(
    ctx: &Context<'_>,
    id: &str,
    raw: &Value,
    scope: &Scope,
) -> Result<(FunctionSpec, Events, Vec<String>), String> {
    // Events name APIs (`RestApiId: !Ref MyApi`) that do not exist yet: read as written.
    let mut without_events = raw.clone();
    let events_raw = without_events
        .as_object_mut()
        .and_then(|m| m.remove("Events"));
    let props = scope
        .resolve(&without_events)
        .map_err(|e: IntrinsicError| e.to_string())?;
    let need = |k: &str| text(props.get(k)).ok_or_else(|| format!("{k} is required"));
    let code = match props.get("CodeUri") {
        Some(Value::String(s)) => ctx.template_dir.join(s),
        None => ctx.template_dir.to_path_buf(),
        Some(_) => return Err("CodeUri must be a local directory".into()),
    };
    let spec = FunctionSpec {
        logical_id: id.to_string(),
        name: function_name(ctx, id, &props),
        code,
        runtime: need("Runtime")?,
        handler: need("Handler")?,
        role: text(props.get("Role")).unwrap_or_else(|| {
            format!(
                "arn:aws:iam::{}:role/{}-{id}Role",
                tollgate_model::ACCOUNT_ID,
                ctx.stack
            )
        }),
        environment: match props.pointer("/Environment/Variables") {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        },
        timeout: props.get("Timeout").and_then(Value::as_i64),
        memory: props.get("MemorySize").and_then(Value::as_i64),
    };
    let mut events = vec![];
    let mut ignored = vec![];
    if props.get("AutoPublishAlias").is_some() {
        ignored.push("AutoPublishAlias (not supported yet: $LATEST is invoked)".to_string());
    }
    if let Some(Value::Object(evs)) = &events_raw {
        for (name, e) in evs {
            let ty = e.get("Type").and_then(Value::as_str).unwrap_or_default();
            let ep = e.get("Properties").cloned().unwrap_or_default();
            let resolved = |k: &str| ep.get(k).map(|v| scope.resolve(v).unwrap_or(v.clone()));
            let (api, kind_default) = match ty {
                "Api" => (api_ref(ep.get("RestApiId")), IMPLICIT_REST),
                "HttpApi" => (api_ref(ep.get("ApiId")), IMPLICIT_HTTP),
                other => {
                    ignored.push(format!("event {name} of type {other} (not supported yet)"));
                    continue;
                }
            };
            let path = text(resolved("Path").as_ref());
            let method = text(resolved("Method").as_ref());
            let (path, method) = match (path, method) {
                (Some(p), Some(m)) => (p, m.to_ascii_lowercase()),
                // An HttpApi event without a path is the `$default` route.
                (None, None) if ty == "HttpApi" => ("/$default".to_string(), "any".to_string()),
                _ => {
                    ignored.push(format!("event {name}: Path and Method are required"));
                    continue;
                }
            };
            let route = Route {
                path,
                method,
                function: id.to_string(),
            };
            events.push((api.unwrap_or_else(|| kind_default.to_string()), route));
        }
    }
    Ok((spec, events, ignored))
}
