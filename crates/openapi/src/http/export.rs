//! An HTTP API written as an OpenAPI 3.0.1 document (ExportApi), with its
//! `x-amazon-apigateway-*` extensions when `include_extensions` is set.

use serde_json::{json, Map, Value};
use tollgate_model::v2::{self, Authorizer, Definition, Integration};
use tollgate_model::{AuthorizationType, ConnectionType, V2AuthorizerType};

use crate::shared::insert_some;

pub struct HttpExportOptions<'a> {
    /// The API's endpoint (`apiEndpoint`).
    pub endpoint: &'a str,
    /// The exported stage, if a stage's deployment is exported.
    pub stage: Option<&'a str>,
    /// `info.version` when the API has none.
    pub default_version: &'a str,
    pub include_extensions: bool,
}

/// Writes `def` as a document.
pub fn export(def: &Definition, o: &HttpExportOptions<'_>) -> Value {
    let api = &def.api;
    let mut root = Map::new();
    root.insert("openapi".into(), json!("3.0.1"));
    let mut info = Map::new();
    info.insert("title".into(), json!(api.name));
    if let Some(d) = &api.description {
        info.insert("description".into(), json!(d));
    }
    info.insert(
        "version".into(),
        json!(api.version.as_deref().unwrap_or(o.default_version)),
    );
    root.insert("info".into(), Value::Object(info));
    let server = match o.stage {
        Some(stage) if stage != v2::DEFAULT => json!({
            "url": format!("{}/{{basePath}}", o.endpoint),
            "variables": {"basePath": {"default": stage}}
        }),
        _ => json!({"url": o.endpoint}),
    };
    root.insert("servers".into(), json!([server]));
    if !api.tags.is_empty() && o.include_extensions {
        let tags: Vec<Value> = api
            .tags
            .iter()
            .map(|(k, v)| json!({"name": k, "x-amazon-apigateway-tag-value": v}))
            .collect();
        root.insert("tags".into(), Value::Array(tags));
    }
    let mut routes: Vec<&v2::Route> = def.routes.values().collect();
    routes.sort_by(|a, b| a.route_key.cmp(&b.route_key));
    let mut paths = Map::new();
    for r in routes {
        let (verb, path) = match v2::parse_http_route_key(&r.route_key) {
            Some(v2::RouteKey::Path { method, path }) => (method, path),
            _ => ("ANY", "/$default"),
        };
        let key = match verb {
            "ANY" => "x-amazon-apigateway-any-method".to_string(),
            v => v.to_ascii_lowercase(),
        };
        let item = paths
            .entry(path.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(item) = item.as_object_mut() {
            item.insert(key, operation(def, r, path, o.include_extensions));
        }
    }
    root.insert("paths".into(), Value::Object(paths));
    let schemes = schemes(def, o.include_extensions);
    if !schemes.is_empty() {
        root.insert("components".into(), json!({"securitySchemes": schemes}));
    }
    if o.include_extensions {
        if let Some(c) = &api.cors_configuration {
            root.insert("x-amazon-apigateway-cors".into(), json!(c));
        }
        if api.disable_execute_api_endpoint {
            root.insert(
                "x-amazon-apigateway-endpoint-configuration".into(),
                json!({"disableExecuteApiEndpoint": true}),
            );
        }
        root.insert(
            "x-amazon-apigateway-importexport-version".into(),
            json!("1.0"),
        );
    }
    Value::Object(root)
}

fn operation(def: &Definition, r: &v2::Route, path: &str, extensions: bool) -> Value {
    let mut op = Map::new();
    if let Some(n) = &r.operation_name {
        op.insert("operationId".into(), json!(n));
    }
    let params: Vec<Value> = path
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            json!({"name": name.trim_end_matches('+'), "in": "path", "required": true,
                   "schema": {"type": "string"}})
        })
        .collect();
    if !params.is_empty() {
        op.insert("parameters".into(), Value::Array(params));
    }
    op.insert(
        "responses".into(),
        json!({"default": {"description": format!("Default response for {}", r.route_key)}}),
    );
    let authorizer = r
        .authorizer_id
        .as_ref()
        .and_then(|id| def.authorizers.get(id));
    match (r.authorization_type, authorizer) {
        (AuthorizationType::Jwt | AuthorizationType::Custom, Some(a)) => {
            let scopes = r.authorization_scopes.clone().unwrap_or_default();
            op.insert("security".into(), json!([{ a.name.clone(): scopes }]));
        }
        (AuthorizationType::AwsIam, _) => {
            op.insert("security".into(), json!([{"sigv4": []}]));
        }
        _ => {}
    }
    if extensions {
        if r.route_key == v2::DEFAULT {
            op.insert("isDefaultRoute".into(), json!(true));
        }
        if let Some(i) = r.integration_id().and_then(|id| def.integrations.get(id)) {
            op.insert("x-amazon-apigateway-integration".into(), integration(i));
        }
    }
    Value::Object(op)
}

fn integration(i: &Integration) -> Value {
    let mut o = Map::new();
    o.insert(
        "type".into(),
        json!(i.integration_type.as_str().to_ascii_lowercase()),
    );
    let mut put = |k: &str, v: Option<Value>| insert_some(&mut o, k, v);
    put(
        "httpMethod",
        i.integration_method.as_ref().map(|v| json!(v)),
    );
    put("uri", i.integration_uri.as_ref().map(|v| json!(v)));
    put(
        "integrationSubtype",
        i.integration_subtype.as_ref().map(|v| json!(v)),
    );
    put("credentials", i.credentials_arn.as_ref().map(|v| json!(v)));
    put("description", i.description.as_ref().map(|v| json!(v)));
    put(
        "connectionType",
        (i.connection_type == ConnectionType::VpcLink).then(|| json!("VPC_LINK")),
    );
    put("connectionId", i.connection_id.as_ref().map(|v| json!(v)));
    put(
        "requestParameters",
        (!i.request_parameters.is_empty()).then(|| json!(i.request_parameters)),
    );
    put(
        "responseParameters",
        (!i.response_parameters.is_empty()).then(|| json!(i.response_parameters)),
    );
    put(
        "tlsConfig",
        i.tls_config
            .as_ref()
            .map(|t| json!({"serverNameToVerify": t.server_name_to_verify})),
    );
    put(
        "payloadFormatVersion",
        Some(json!(i.payload_format_version.as_str())),
    );
    put("timeoutInMillis", Some(json!(i.timeout_in_millis)));
    Value::Object(o)
}

fn schemes(def: &Definition, extensions: bool) -> Map<String, Value> {
    let mut out = Map::new();
    if def
        .routes
        .values()
        .any(|r| r.authorization_type == AuthorizationType::AwsIam)
    {
        out.insert(
            "sigv4".into(),
            json!({"type": "apiKey", "name": "Authorization", "in": "header",
                   "x-amazon-apigateway-authtype": "awsSigv4"}),
        );
    }
    for a in def.authorizers.values() {
        out.insert(a.name.clone(), scheme(a, extensions));
    }
    out
}

fn scheme(a: &Authorizer, extensions: bool) -> Value {
    let mut s = match a.authorizer_type {
        V2AuthorizerType::Jwt => json!({"type": "oauth2", "flows": {}}),
        V2AuthorizerType::Request => json!({"type": "apiKey", "name": "Unused", "in": "header"}),
    };
    if !extensions {
        return s;
    }
    let mut e = Map::new();
    e.insert(
        "type".into(),
        json!(a.authorizer_type.as_str().to_ascii_lowercase()),
    );
    if !a.identity_source.is_empty() {
        e.insert("identitySource".into(), json!(a.identity_source.join(",")));
    }
    if let Some(j) = &a.jwt_configuration {
        e.insert("jwtConfiguration".into(), json!(j));
    }
    let mut put = |k: &str, v: Option<Value>| insert_some(&mut e, k, v);
    put("authorizerUri", a.authorizer_uri.as_ref().map(|v| json!(v)));
    put(
        "authorizerCredentials",
        a.authorizer_credentials_arn.as_ref().map(|v| json!(v)),
    );
    put(
        "authorizerPayloadFormatVersion",
        a.authorizer_payload_format_version
            .map(|v| json!(v.as_str())),
    );
    put(
        "authorizerResultTtlInSeconds",
        a.authorizer_result_ttl_in_seconds.map(|v| json!(v)),
    );
    put(
        "enableSimpleResponses",
        a.enable_simple_responses.map(|v| json!(v)),
    );
    put(
        "identityValidationExpression",
        a.identity_validation_expression.as_ref().map(|v| json!(v)),
    );
    if let Some(o) = s.as_object_mut() {
        o.insert("x-amazon-apigateway-authorizer".into(), Value::Object(e));
    }
    s
}
