//! A deployed REST API written as a document (GetExport): Swagger 2.0 or OpenAPI 3.0.1,
//! with API Gateway's extensions only where `extensions` asks for them.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};
use tollgate_model::{ApiKeySourceType, Method, MethodResponse, Resource, RestApiDefinition};

use super::{integration, security};
use crate::document::Flavor;
use crate::refs;

/// The `extensions` of GetExport (comma-separated).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extensions {
    pub integrations: bool,
    pub authorizers: bool,
    /// Every API Gateway extension.
    pub apigateway: bool,
    /// Accepted, as AWS accepts it; it adds nothing to the document here.
    pub postman: bool,
    /// `x-amazon-apigateway-documentation`, from the stage's documentation version (the
    /// control plane adds it: the parts are not in the deployed definition).
    pub documentation: bool,
}

impl Extensions {
    /// Reads the list; an unknown member is named in the error.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut e = Extensions::default();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match item {
                "integrations" => e.integrations = true,
                "authorizers" => e.authorizers = true,
                "apigateway" => e.apigateway = true,
                "postman" => e.postman = true,
                "documentation" => e.documentation = true,
                other => return Err(other.to_string()),
            }
        }
        Ok(e)
    }
}

pub struct ExportOptions<'a> {
    pub flavor: Flavor,
    pub api_id: &'a str,
    pub region: &'a str,
    pub stage: &'a str,
    /// `info.version`: the API's version, else the deployment's date.
    pub version: &'a str,
    pub extensions: Extensions,
}

/// Writes `def` as a document.
pub fn export(def: &RestApiDefinition, o: &ExportOptions<'_>) -> Value {
    let ext = o.extensions;
    let host = format!("{}.execute-api.{}.amazonaws.com", o.api_id, o.region);
    let mut root = Map::new();
    let info = info(def, o);
    match o.flavor {
        Flavor::Swagger2 => {
            root.insert("swagger".into(), json!("2.0"));
            root.insert("info".into(), Value::Object(info));
            root.insert("host".into(), json!(host));
            root.insert("basePath".into(), json!(format!("/{}", o.stage)));
            root.insert("schemes".into(), json!(["https"]));
        }
        Flavor::Oas3 => {
            root.insert("openapi".into(), json!("3.0.1"));
            root.insert("info".into(), Value::Object(info));
            root.insert(
                "servers".into(),
                json!([{"url": format!("https://{host}/{{basePath}}"),
                        "variables": {"basePath": {"default": o.stage}}}]),
            );
        }
    }
    let mut resources: Vec<&Resource> = def.resources.values().collect();
    // Paths in path order, as recorded; AWS's OpenAPI 3 export puts the root's last.
    resources.sort_by_key(|r| (o.flavor == Flavor::Oas3 && r.path == "/", r.path.clone()));
    let mut paths = Map::new();
    for r in resources {
        if r.resource_methods.is_empty() {
            continue;
        }
        let mut item = Map::new();
        let mut methods: Vec<_> = r.resource_methods.iter().collect();
        methods.sort_by_key(|(verb, _)| verb_rank(o.flavor, verb));
        for (verb, m) in methods {
            let key = match verb.as_str() {
                "ANY" => "x-amazon-apigateway-any-method".to_string(),
                v => v.to_ascii_lowercase(),
            };
            item.insert(key, operation(def, r, m, o));
        }
        paths.insert(r.path.clone(), Value::Object(item));
    }
    root.insert("paths".into(), Value::Object(paths));
    let schemes = security::write_schemes(def, ext.apigateway || ext.authorizers);
    let models = models(def, o.flavor);
    match o.flavor {
        Flavor::Swagger2 => {
            if !schemes.is_empty() {
                root.insert("securityDefinitions".into(), Value::Object(schemes));
            }
            if !models.is_empty() {
                root.insert("definitions".into(), Value::Object(models));
            }
        }
        Flavor::Oas3 => {
            let mut components = Map::new();
            if !models.is_empty() {
                components.insert("schemas".into(), Value::Object(models));
            }
            if !schemes.is_empty() {
                components.insert("securitySchemes".into(), Value::Object(schemes));
            }
            // Present even when empty (`"components" : { }`), as recorded.
            root.insert("components".into(), Value::Object(components));
        }
    }
    if ext.apigateway {
        api_extensions(def, &mut root);
    } else if ext.integrations && !def.api.binary_media_types.is_empty() {
        // Integrations convert bodies by the binary media types, so they travel together.
        root.insert(
            "x-amazon-apigateway-binary-media-types".into(),
            json!(def.api.binary_media_types),
        );
    }
    Value::Object(root)
}

/// Where a verb goes in a path item: the member order of swagger-core's `Path` (Swagger)
/// and `PathItem` (OpenAPI 3), which AWS's exports follow (recorded: get, post, options);
/// the any-method extension comes after the verbs, as extensions do.
fn verb_rank(flavor: Flavor, verb: &str) -> usize {
    const SWAGGER: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"];
    const OAS3: [&str; 7] = ["GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH"];
    let order = match flavor {
        Flavor::Swagger2 => SWAGGER,
        Flavor::Oas3 => OAS3,
    };
    order.iter().position(|v| *v == verb).unwrap_or(order.len())
}

/// `info`: AWS writes Swagger's as description, version, title and OpenAPI 3's as
/// title, description, version (both recorded).
fn info(def: &RestApiDefinition, o: &ExportOptions<'_>) -> Map<String, Value> {
    let mut info = Map::new();
    if o.flavor == Flavor::Oas3 {
        info.insert("title".into(), json!(def.api.name));
    }
    if let Some(d) = &def.api.description {
        info.insert("description".into(), json!(d));
    }
    info.insert("version".into(), json!(o.version));
    if o.flavor == Flavor::Swagger2 {
        info.insert("title".into(), json!(def.api.name));
    }
    info
}

fn api_extensions(def: &RestApiDefinition, root: &mut Map<String, Value>) {
    let api = &def.api;
    if !api.binary_media_types.is_empty() {
        root.insert(
            "x-amazon-apigateway-binary-media-types".into(),
            json!(api.binary_media_types),
        );
    }
    if let Some(n) = api.minimum_compression_size {
        root.insert(
            "x-amazon-apigateway-minimum-compression-size".into(),
            json!(n),
        );
    }
    if api.api_key_source != ApiKeySourceType::Header {
        root.insert(
            "x-amazon-apigateway-api-key-source".into(),
            json!(api.api_key_source.as_str()),
        );
    }
    if let Some(p) = &api.policy {
        let policy = serde_json::from_str(p).unwrap_or_else(|_| json!(p));
        root.insert("x-amazon-apigateway-policy".into(), policy);
    }
    if !def.request_validators.is_empty() {
        let validators: Map<String, Value> = def
            .request_validators
            .values()
            .map(|v| {
                (
                    v.name.clone().unwrap_or_else(|| v.id.clone()),
                    json!({"validateRequestBody": v.validate_request_body,
                           "validateRequestParameters": v.validate_request_parameters}),
                )
            })
            .collect();
        root.insert(
            "x-amazon-apigateway-request-validators".into(),
            Value::Object(validators),
        );
    }
    if !def.gateway_responses.is_empty() {
        let responses: Map<String, Value> = def
            .gateway_responses
            .values()
            .map(|g| {
                let mut o = Map::new();
                if let Some(s) = &g.status_code {
                    o.insert("statusCode".into(), json!(s));
                }
                o.insert("responseParameters".into(), json!(g.response_parameters));
                o.insert("responseTemplates".into(), json!(g.response_templates));
                (g.response_type.as_str().to_string(), Value::Object(o))
            })
            .collect();
        root.insert(
            "x-amazon-apigateway-gateway-responses".into(),
            Value::Object(responses),
        );
    }
}

fn model_ref(flavor: Flavor, name: &str) -> Value {
    match flavor {
        Flavor::Swagger2 => json!({"$ref": format!("#/definitions/{name}")}),
        Flavor::Oas3 => json!({"$ref": format!("#/components/schemas/{name}")}),
    }
}

fn models(def: &RestApiDefinition, flavor: Flavor) -> Map<String, Value> {
    let mut out = Map::new();
    for m in def.models.values() {
        let Some(mut schema) = m
            .schema
            .as_deref()
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
        else {
            continue;
        };
        if let Some(o) = schema.as_object_mut() {
            o.remove("$schema");
        }
        refs::rewrite(&mut schema, &|n| {
            model_ref(flavor, n)["$ref"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        });
        out.insert(m.name.clone(), schema);
    }
    out
}

/// `method.request.{location}.{name}` as an OpenAPI parameter location.
fn parameter_location(key: &str) -> Option<(&'static str, &str)> {
    let rest = key.strip_prefix("method.request.")?;
    let (loc, name) = rest.split_once('.')?;
    let loc = match loc {
        "path" => "path",
        "querystring" | "multivaluequerystring" => "query",
        "header" | "multivalueheader" => "header",
        _ => return None,
    };
    Some((loc, name))
}

fn operation(def: &RestApiDefinition, r: &Resource, m: &Method, o: &ExportOptions<'_>) -> Value {
    let swagger = o.flavor == Flavor::Swagger2;
    let mut op = Map::new();
    if let Some(name) = &m.operation_name {
        op.insert("operationId".into(), json!(name));
    }
    let integration = m.method_integration.as_ref();
    if swagger {
        let consumes: BTreeSet<&String> = m
            .request_models
            .keys()
            .chain(
                integration
                    .into_iter()
                    .flat_map(|i| i.request_templates.keys()),
            )
            .collect();
        let produces: BTreeSet<&String> = m
            .method_responses
            .values()
            .flat_map(|r| r.response_models.iter().flatten().map(|(k, _)| k))
            .chain(integration.into_iter().flat_map(|i| {
                i.integration_responses
                    .values()
                    .flat_map(|r| r.response_templates.iter().flatten().map(|(k, _)| k))
            }))
            .collect();
        if !consumes.is_empty() {
            op.insert("consumes".into(), json!(consumes));
        }
        if !produces.is_empty() {
            op.insert("produces".into(), json!(produces));
        }
    }
    let mut params = Vec::new();
    for (key, required) in &m.request_parameters {
        let Some((loc, name)) = parameter_location(key) else {
            continue;
        };
        let mut p = Map::new();
        p.insert("name".into(), json!(name));
        p.insert("in".into(), json!(loc));
        if swagger {
            p.insert("required".into(), json!(required));
            p.insert("type".into(), json!("string"));
        } else {
            if *required {
                p.insert("required".into(), json!(true));
            }
            p.insert("schema".into(), json!({"type": "string"}));
        }
        params.push(Value::Object(p));
    }
    let body_model = m
        .request_models
        .get("application/json")
        .or_else(|| m.request_models.values().next());
    if let (true, Some(model)) = (swagger, body_model) {
        params.push(json!({"in": "body", "name": model, "required": true,
                           "schema": model_ref(o.flavor, model)}));
    }
    if !params.is_empty() {
        op.insert("parameters".into(), Value::Array(params));
    }
    if !swagger && !m.request_models.is_empty() {
        let content: Map<String, Value> = m
            .request_models
            .iter()
            .map(|(ct, model)| (ct.clone(), json!({"schema": model_ref(o.flavor, model)})))
            .collect();
        op.insert(
            "requestBody".into(),
            json!({"content": content, "required": true}),
        );
    }
    let responses: Map<String, Value> = m
        .method_responses
        .iter()
        .map(|(status, r)| (status.clone(), response(r, o.flavor)))
        .collect();
    op.insert("responses".into(), Value::Object(responses));
    if let Some(s) = security::requirement(def, m) {
        op.insert("security".into(), s);
    }
    let ext = o.extensions;
    if ext.apigateway {
        if let Some(v) = m
            .request_validator_id
            .as_ref()
            .and_then(|id| def.request_validators.get(id))
        {
            let name = v.name.clone().unwrap_or_else(|| v.id.clone());
            op.insert("x-amazon-apigateway-request-validator".into(), json!(name));
        }
    }
    if ext.apigateway || ext.integrations {
        if let Some(i) = integration {
            op.insert(
                "x-amazon-apigateway-integration".into(),
                integration::write(i, &r.id, o.flavor),
            );
        }
    }
    Value::Object(op)
}

fn response(r: &MethodResponse, flavor: Flavor) -> Value {
    let mut out = Map::new();
    out.insert(
        "description".into(),
        json!(format!("{} response", r.status_code)),
    );
    let headers: Map<String, Value> = r
        .response_parameters
        .iter()
        .flatten()
        .filter_map(|(k, _)| k.strip_prefix("method.response.header."))
        .map(|h| {
            let schema = match flavor {
                Flavor::Swagger2 => json!({"type": "string"}),
                Flavor::Oas3 => json!({"schema": {"type": "string"}}),
            };
            (h.to_string(), schema)
        })
        .collect();
    let models = r.response_models.iter().flatten();
    match flavor {
        Flavor::Swagger2 => {
            let model = r
                .response_models
                .as_ref()
                .and_then(|m| m.get("application/json").or_else(|| m.values().next()));
            if let Some(model) = model {
                out.insert("schema".into(), model_ref(flavor, model));
            }
            if !headers.is_empty() {
                out.insert("headers".into(), Value::Object(headers));
            }
        }
        Flavor::Oas3 => {
            if !headers.is_empty() {
                out.insert("headers".into(), Value::Object(headers));
            }
            let content: Map<String, Value> = models
                .map(|(ct, model)| (ct.clone(), json!({"schema": model_ref(flavor, model)})))
                .collect();
            out.insert("content".into(), Value::Object(content));
        }
    }
    Value::Object(out)
}
