//! The OpenAPI document an API is imported from: its `DefinitionBody` (or `DefinitionUri`
//! file), intrinsics resolved, else one generated from the events that name it, as SAM
//! generates it (Swagger 2.0 for REST, OpenAPI 3.0 for HTTP) with the API's `Auth` and
//! CORS settings written in.

use serde_json::{json, Map, Value};

use super::auth::{is_iam, ApiAuth};
use super::cors::{http_cors, RestCors};
use super::intrinsics::Scope;
use super::plan::{ApiKind, ApiSpec};

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

fn definition_error(what: &str) -> impl Fn(super::intrinsics::IntrinsicError) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// Why a document cannot be made is the reason the API is skipped.
pub fn document(api: &ApiSpec, scope: &Scope, region: &str) -> Result<Value, String> {
    if let Some(body) = &api.definition {
        return scope
            .resolve(body)
            .map_err(definition_error("DefinitionBody"));
    }
    let auth_value = match &api.auth {
        Some(a) => scope.resolve(a).map_err(definition_error("Auth"))?,
        None => json!({}),
    };
    let auth = ApiAuth {
        kind: api.kind,
        auth: &auth_value,
        region,
    };
    let mut paths = Map::new();
    let (mut uses_iam, mut uses_key) = (false, false);
    for r in &api.routes {
        let target = scope
            .resources
            .get(&r.function)
            .and_then(|a| a.get("Alias").or(a.get("Arn")))
            .ok_or_else(|| format!("no function {}", r.function))?;
        let key = match r.method.as_str() {
            "any" => "x-amazon-apigateway-any-method".to_string(),
            m => m.to_string(),
        };
        let event_auth = match &r.auth {
            Some(a) => Some(scope.resolve(a).map_err(definition_error("event Auth"))?),
            None => None,
        };
        uses_iam |= auth.authorizer(event_auth.as_ref()).is_some_and(is_iam);
        uses_key |= api.kind == ApiKind::Rest && auth.api_key_required(event_auth.as_ref());
        let mut op = json!({
            "responses": {},
            "x-amazon-apigateway-integration": integration(api.kind, region, target),
        });
        if let Some(s) = auth.requirement(event_auth.as_ref()) {
            op["security"] = s;
        }
        let item = paths
            .entry(r.path.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(item) = item.as_object_mut() {
            item.insert(key, op);
        }
    }
    let schemes = auth.schemes(uses_iam, uses_key)?;
    let info = json!({"title": api.name, "version": "1.0"});
    let cors = match &api.cors {
        Some(c) => Some(scope.resolve(c).map_err(definition_error("Cors"))?),
        None => None,
    };
    Ok(match api.kind {
        ApiKind::Rest => {
            if let Some(c) = &cors {
                let c = RestCors::parse(c)?;
                for item in paths.values_mut().filter_map(Value::as_object_mut) {
                    if item.contains_key("options") {
                        continue;
                    }
                    let methods: Vec<&str> = item.keys().map(String::as_str).collect();
                    let op = c.preflight(&methods, auth.preflight_requirement());
                    item.insert("options".into(), op);
                }
            }
            let mut doc = json!({"swagger": "2.0", "info": info, "paths": paths});
            if !schemes.is_empty() {
                doc["securityDefinitions"] = Value::Object(schemes);
            }
            doc
        }
        ApiKind::Http => {
            let mut doc = json!({"openapi": "3.0.1", "info": info, "paths": paths});
            if !schemes.is_empty() {
                doc["components"] = json!({"securitySchemes": schemes});
            }
            if let Some(c) = &cors {
                doc["x-amazon-apigateway-cors"] = http_cors(c)?;
            }
            doc
        }
    })
}
