//! What a template asks for, in the terms `tollgate sam` deploys: functions with their
//! events, and APIs (declared, or the implicit `ServerlessRestApi` / `ServerlessHttpApi`
//! SAM makes for events that name none). Resource types it does not run are listed.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};

use super::cloudformation;
use super::intrinsics::{IntrinsicError, Scope};
use super::package::Code;
use super::template::Template;

/// The resource types that are functions: SAM's, and CloudFormation's own.
const FUNCTION_TYPES: [&str; 2] = ["AWS::Serverless::Function", "AWS::Lambda::Function"];

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
    /// The event's `Auth`, intrinsics unresolved.
    pub auth: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionSpec {
    pub logical_id: String,
    pub name: String,
    pub code: Code,
    pub runtime: String,
    pub handler: String,
    pub role: String,
    pub environment: Map<String, Value>,
    pub timeout: Option<i64>,
    pub memory: Option<i64>,
    /// `AutoPublishAlias`: each change publishes a version the alias then names, and the
    /// function's events invoke the alias.
    pub alias: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiSpec {
    pub logical_id: String,
    pub kind: ApiKind,
    pub name: String,
    /// Empty for a CloudFormation RestApi no Deployment or Stage names: not deployed.
    pub stage: String,
    /// `DefinitionBody` (or the `DefinitionUri` file's document), intrinsics unresolved
    /// (they may name functions' ARNs).
    pub definition: Option<Value>,
    /// `Auth` and `Cors` / `CorsConfiguration`, written into a generated definition.
    pub auth: Option<Value>,
    pub cors: Option<Value>,
    /// A SAM API: SAM grants API Gateway the invoke permissions its functions need (a
    /// plain CloudFormation RestApi needs its own `AWS::Lambda::Permission`s).
    pub grants_invoke: bool,
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
    /// `AWS::Lambda::Permission`s, granted once the APIs exist.
    pub permissions: Vec<super::cloudformation::Permission>,
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

/// Whether a resource is in this deployment: it names no `Condition`, or a true one.
pub fn active(r: &Value, scope: &Scope) -> Result<bool, String> {
    match r.get("Condition") {
        None => Ok(true),
        Some(Value::String(c)) => scope.condition(c).map_err(|e| e.to_string()),
        Some(_) => Err("Condition must name a condition".into()),
    }
}

/// The functions' `Ref` and `Arn`, known before anything is created (names are chosen
/// here), so APIs' definitions and other functions can name them.
pub fn add_functions_to_scope(t: &Template, ctx: &Context<'_>, scope: &mut Scope) {
    for (id, r) in &t.resources {
        let ty = r.get("Type").and_then(Value::as_str).unwrap_or_default();
        if !FUNCTION_TYPES.contains(&ty) || active(r, scope) != Ok(true) {
            continue;
        }
        let props = r.get("Properties").cloned().unwrap_or_default();
        let resolved = scope.resolve(&props).unwrap_or(props.clone());
        let name = function_name(ctx, id, &resolved);
        let arn = function_arn(ctx.region, &name);
        let mut attributes = BTreeMap::from([(String::new(), name), ("Arn".to_string(), arn)]);
        if let Some(alias) = text(resolved.get("AutoPublishAlias")) {
            let alias_arn = format!("{}:{alias}", attributes["Arn"]);
            attributes.insert("Alias".to_string(), alias_arn);
        }
        scope.resources.insert(id.clone(), attributes);
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An API's definition: `DefinitionBody`, or the local file `DefinitionUri` names (an S3
/// location cannot be read here).
fn definition(ctx: &Context<'_>, raw: &Value) -> Result<Option<Value>, String> {
    if let Some(body) = raw.get("DefinitionBody") {
        return Ok(Some(body.clone()));
    }
    match raw.get("DefinitionUri") {
        None => Ok(None),
        Some(Value::String(file)) => {
            let path = ctx.template_dir.join(file);
            let bytes = std::fs::read(&path)
                .map_err(|e| format!("DefinitionUri {}: {e}", path.display()))?;
            super::template::parse_document(&bytes)
                .map(Some)
                .map_err(|e| format!("DefinitionUri {}: {e}", path.display()))
        }
        Some(_) => {
            Err("DefinitionUri must be a local file (an S3 location is not supported)".into())
        }
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
        match active(r, scope) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(why) => {
                skip(&mut p, id, why);
                continue;
            }
        }
        let ty = r.get("Type").and_then(Value::as_str).unwrap_or_default();
        let raw = r
            .get("Properties")
            .cloned()
            .unwrap_or(Value::Object(Map::new()));
        match ty {
            "AWS::Serverless::Function" | "AWS::Lambda::Function" => {
                match function(ctx, id, &raw, scope) {
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
                }
            }
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
                let cors_key = match kind {
                    ApiKind::Rest => "Cors",
                    ApiKind::Http => "CorsConfiguration",
                };
                let definition = match definition(ctx, &raw) {
                    Ok(d) => d,
                    Err(why) => {
                        skip(&mut p, id, format!("{ty}: {why}"));
                        continue;
                    }
                };
                let (mut auth, mut cors) = (raw.get("Auth").cloned(), raw.get(cors_key).cloned());
                if definition.is_some() {
                    // SAM merges these into a given definition; here they apply to the
                    // definitions `tollgate sam` generates.
                    for (prop, v) in [("Auth", &mut auth), (cors_key, &mut cors)] {
                        if v.take().is_some() {
                            skip(
                                &mut p,
                                id,
                                format!(
                                    "{ty} property {prop} beside a definition (not supported yet)"
                                ),
                            );
                        }
                    }
                }
                if raw.get("Domain").is_some() {
                    skip(
                        &mut p,
                        id,
                        format!("{ty} property Domain (not supported yet)"),
                    );
                }
                p.apis.push(ApiSpec {
                    logical_id: id.clone(),
                    kind,
                    name: text(raw.get("Name")).unwrap_or_else(|| format!("{}-{id}", ctx.stack)),
                    stage,
                    definition,
                    auth,
                    cors,
                    grants_invoke: true,
                    variables: match raw.get("Variables").or(raw.get("StageVariables")) {
                        Some(Value::Object(m)) => m.clone(),
                        _ => Map::new(),
                    },
                    routes: vec![],
                });
            }
            "AWS::ApiGateway::RestApi" => match cloudformation::rest_api(t, id, &raw, scope) {
                Ok(api) => p.apis.push(ApiSpec {
                    logical_id: id.clone(),
                    kind: ApiKind::Rest,
                    name: api.name.unwrap_or_else(|| format!("{}-{id}", ctx.stack)),
                    stage: api.stage,
                    definition: Some(api.body),
                    auth: None,
                    cors: None,
                    grants_invoke: false,
                    variables: api.variables,
                    routes: vec![],
                }),
                Err(why) => skip(&mut p, id, format!("{ty}: {why}")),
            },
            "AWS::Lambda::Permission" => p.permissions.push(cloudformation::Permission {
                logical_id: id.clone(),
                properties: raw,
            }),
            other if cloudformation::read_with_rest_api(other) => {}
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
            auth: None,
            cors: None,
            grants_invoke: true,
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
    let runtime = need("Runtime")?;
    let code = match (props.get("CodeUri"), props.get("Code")) {
        (Some(Value::String(s)), _) => Code::Path(ctx.template_dir.join(s)),
        (Some(_), _) => return Err("CodeUri must be a local directory".into()),
        // `AWS::Lambda::Function`: a local path (as `aws cloudformation package` takes it),
        // or the source inline, written where Lambda writes it (`index.py` / `index.js`).
        (None, Some(Value::String(s))) => Code::Path(ctx.template_dir.join(s)),
        (None, Some(Value::Object(c))) => match c.get("ZipFile").and_then(Value::as_str) {
            Some(source) => Code::Inline {
                file: if runtime.starts_with("nodejs") {
                    "index.js"
                } else {
                    "index.py"
                }
                .into(),
                source: source.to_string(),
            },
            None => {
                return Err(
                    "Code must be a local path or ZipFile (S3 locations are not supported)".into(),
                )
            }
        },
        (None, Some(_)) => return Err("Code must be a local path or ZipFile".into()),
        (None, None) => Code::Path(ctx.template_dir.to_path_buf()),
    };
    let spec = FunctionSpec {
        logical_id: id.to_string(),
        name: function_name(ctx, id, &props),
        code,
        runtime,
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
        alias: text(props.get("AutoPublishAlias")),
    };
    let mut events = vec![];
    let mut ignored = vec![];
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
                auth: ep.get("Auth").cloned(),
            };
            events.push((api.unwrap_or_else(|| kind_default.to_string()), route));
        }
    }
    Ok((spec, events, ignored))
}
