//! Reading an HTTP API document, and laying it onto a definition (ImportApi creates one,
//! ReimportApi replaces the routes, integrations, authorizers and CORS of one).

use std::collections::BTreeMap;

use serde_json::Value;
use tollgate_model::v2::{self, Authorizer, Cors, Definition, Integration, JwtConfiguration};
use tollgate_model::{
    ids, AuthorizationType, ConnectionType, IntegrationType, PayloadFormatVersion, V2AuthorizerType,
};

use crate::document::{self, Document, Flavor};
use crate::problems::{ImportError, Problems};
use crate::refs;
use crate::shared::{base_segments, full_path, paths, BasePath, Info, VERBS};

/// One route: its key, integration (without id) and how it is authorized.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedRoute {
    pub route_key: String,
    pub operation_name: Option<String>,
    pub integration: Option<Integration>,
    pub authorization_type: AuthorizationType,
    /// The authorizer's scheme name.
    pub authorizer: Option<String>,
    pub scopes: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpImport {
    pub info: Info,
    pub cors: Option<Cors>,
    pub disable_execute_api_endpoint: Option<bool>,
    pub tags: BTreeMap<String, String>,
    /// Without ids; named by their security scheme.
    pub authorizers: Vec<Authorizer>,
    pub routes: Vec<ImportedRoute>,
    pub warnings: Vec<String>,
}

/// Root extensions of REST APIs only: ignored with a warning.
const REST_ONLY: [&str; 8] = [
    "api-key-source",
    "binary-media-types",
    "minimum-compression-size",
    "policy",
    "request-validators",
    "request-validator",
    "gateway-responses",
    "documentation",
];

/// Reads an OpenAPI 3 document for an HTTP API (Swagger 2.0 is refused, as AWS does).
pub fn read(bytes: &[u8], basepath: BasePath) -> Result<HttpImport, ImportError> {
    let doc = document::parse(bytes)?;
    if doc.flavor != Flavor::Oas3 {
        return Err(ImportError::Errors(vec![
            "HTTP APIs can be imported from OpenAPI 3.0 definitions only".into(),
        ]));
    }
    // WebSocket APIs have no OpenAPI form on AWS: their definitions are refused.
    if doc
        .root
        .contains_key("x-amazon-apigateway-route-selection-expression")
    {
        return Err(ImportError::Errors(vec![
            "WebSocket APIs cannot be imported from OpenAPI definitions".into(),
        ]));
    }
    let mut p = Problems::default();
    let root = Value::Object(doc.root.clone());
    for key in doc.root.keys() {
        if let Some(ext) = key.strip_prefix(crate::EXT) {
            if REST_ONLY.contains(&ext) {
                p.warn(format!("Ignoring {key}: it applies to REST APIs only"));
            }
        }
    }
    let authorizers = authorizers(&doc, &mut p);
    let routes = routes(&doc, &root, basepath, &authorizers, &mut p);
    let out = HttpImport {
        info: Info::read(&doc),
        cors: doc.root.get("x-amazon-apigateway-cors").map(cors),
        disable_execute_api_endpoint: doc
            .root
            .get("x-amazon-apigateway-endpoint-configuration")
            .and_then(|e| e.get("disableExecuteApiEndpoint"))
            .and_then(Value::as_bool),
        tags: tags(&doc),
        authorizers,
        routes,
        warnings: p.warnings,
    };
    if !p.errors.is_empty() {
        return Err(ImportError::Errors(p.errors));
    }
    Ok(out)
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    Some(
        v?.as_array()?
            .iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect(),
    )
}

fn cors(v: &Value) -> Cors {
    Cors {
        allow_credentials: v.get("allowCredentials").and_then(Value::as_bool),
        allow_headers: strings(v.get("allowHeaders")),
        allow_methods: strings(v.get("allowMethods")),
        allow_origins: strings(v.get("allowOrigins")),
        expose_headers: strings(v.get("exposeHeaders")),
        max_age: v.get("maxAge").and_then(Value::as_i64),
    }
}

fn tags(doc: &Document) -> BTreeMap<String, String> {
    doc.root
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| {
            Some((
                t.get("name")?.as_str()?.to_string(),
                t.get("x-amazon-apigateway-tag-value")?
                    .as_str()?
                    .to_string(),
            ))
        })
        .collect()
}

/// An identity source written as one string (comma-separated) or a list.
fn identity_source(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        other => strings(other).unwrap_or_default(),
    }
}

fn authorizers(doc: &Document, p: &mut Problems) -> Vec<Authorizer> {
    let schemes = doc
        .root
        .get("components")
        .and_then(|c| c.get("securitySchemes"))
        .and_then(Value::as_object);
    let mut out = Vec::new();
    for (name, scheme) in schemes.into_iter().flatten() {
        let Some(ext) = scheme.get("x-amazon-apigateway-authorizer") else {
            continue;
        };
        let kind = ext
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_uppercase();
        let Ok(authorizer_type) = kind.parse::<V2AuthorizerType>() else {
            p.error(format!(
                "Invalid authorizer type '{kind}' of security scheme '{name}'"
            ));
            continue;
        };
        let text = |k: &str| ext.get(k).and_then(Value::as_str).map(str::to_string);
        let payload = match ext
            .get("authorizerPayloadFormatVersion")
            .and_then(Value::as_str)
        {
            Some(v) => match v.parse::<PayloadFormatVersion>() {
                Ok(v) => Some(v),
                Err(_) => {
                    p.error(format!("Invalid authorizer payload format version '{v}'"));
                    continue;
                }
            },
            None if authorizer_type == V2AuthorizerType::Request => Some(PayloadFormatVersion::V2),
            None => None,
        };
        let jwt = ext.get("jwtConfiguration").map(|j| JwtConfiguration {
            audience: strings(j.get("audience")).unwrap_or_default(),
            issuer: j.get("issuer").and_then(Value::as_str).map(str::to_string),
        });
        out.push(Authorizer {
            authorizer_id: String::new(),
            name: name.clone(),
            authorizer_type,
            identity_source: identity_source(ext.get("identitySource")),
            authorizer_credentials_arn: text("authorizerCredentials"),
            authorizer_payload_format_version: payload,
            authorizer_result_ttl_in_seconds: ext
                .get("authorizerResultTtlInSeconds")
                .and_then(Value::as_i64),
            authorizer_uri: text("authorizerUri"),
            enable_simple_responses: ext.get("enableSimpleResponses").and_then(Value::as_bool),
            identity_validation_expression: text("identityValidationExpression"),
            jwt_configuration: jwt,
        });
    }
    out
}

fn routes(
    doc: &Document,
    root: &Value,
    basepath: BasePath,
    authorizers: &[Authorizer],
    p: &mut Problems,
) -> Vec<ImportedRoute> {
    let base = base_segments(doc, basepath);
    let by_name: BTreeMap<&str, &Authorizer> =
        authorizers.iter().map(|a| (a.name.as_str(), a)).collect();
    let mut out = Vec::new();
    for (path, item) in paths(doc) {
        let item = refs::resolve(root, item);
        for (key, verb) in VERBS {
            let Some(op) = item.get(key) else { continue };
            let op = refs::resolve(root, op);
            let default_route = path == "/$default"
                || op.get("isDefaultRoute").and_then(Value::as_bool) == Some(true);
            let route_key = if default_route {
                v2::DEFAULT.to_string()
            } else {
                format!("{verb} {}", full_path(&base, path))
            };
            let security = op.get("security").or_else(|| doc.root.get("security"));
            let (authorization_type, authorizer, scopes) = route_auth(doc, security, &by_name);
            let integration = op
                .get("x-amazon-apigateway-integration")
                .map(|i| refs::resolve(root, i))
                .and_then(|i| integration(i, &route_key, p));
            out.push(ImportedRoute {
                route_key,
                operation_name: op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                integration,
                authorization_type,
                authorizer,
                scopes,
            });
        }
    }
    out
}

type RouteAuth = (AuthorizationType, Option<String>, Option<Vec<String>>);

fn route_auth(
    doc: &Document,
    security: Option<&Value>,
    authorizers: &BTreeMap<&str, &Authorizer>,
) -> RouteAuth {
    let requirement = security
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_object);
    let schemes = doc
        .root
        .get("components")
        .and_then(|c| c.get("securitySchemes"));
    for (name, scopes) in requirement.into_iter().flatten() {
        if let Some(a) = authorizers.get(name.as_str()) {
            if a.authorizer_type == V2AuthorizerType::Jwt {
                let scopes = strings(Some(scopes)).filter(|s| !s.is_empty());
                return (AuthorizationType::Jwt, Some(name.clone()), scopes);
            }
            return (AuthorizationType::Custom, Some(name.clone()), None);
        }
        let sigv4 = schemes
            .and_then(|s| s.get(name))
            .and_then(|s| s.get("x-amazon-apigateway-authtype"))
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("awsSigv4"));
        if sigv4 {
            return (AuthorizationType::AwsIam, None, None);
        }
    }
    (AuthorizationType::None, None, None)
}

fn integration(v: &Value, route_key: &str, p: &mut Problems) -> Option<Integration> {
    let kind = v
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_uppercase();
    let integration_type = match kind.parse::<IntegrationType>() {
        Ok(t @ (IntegrationType::AwsProxy | IntegrationType::HttpProxy)) => t,
        _ => {
            p.error(format!(
                "Unsupported integration type '{kind}' of route '{route_key}': HTTP APIs take aws_proxy or http_proxy"
            ));
            return None;
        }
    };
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let payload = match text("payloadFormatVersion") {
        Some(s) => match s.parse() {
            Ok(v) => v,
            Err(_) => {
                p.error(format!(
                    "Invalid payload format version '{s}' of route '{route_key}'"
                ));
                return None;
            }
        },
        // A Lambda function gets the HTTP API's own event unless the document says 1.0.
        None if integration_type == IntegrationType::AwsProxy => PayloadFormatVersion::V2,
        None => PayloadFormatVersion::V1,
    };
    let connection_type = match text("connectionType").map(|c| c.to_ascii_uppercase()) {
        Some(c) => match c.parse() {
            Ok(c) => c,
            Err(_) => {
                p.error(format!("Invalid connection type specified: {c}"));
                return None;
            }
        },
        None => ConnectionType::Internet,
    };
    let string_map = |m: Option<&Value>| -> BTreeMap<String, String> {
        m.and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect()
    };
    let lambda = integration_type == IntegrationType::AwsProxy;
    Some(Integration {
        integration_id: String::new(),
        api_gateway_managed: false,
        connection_type,
        connection_id: text("connectionId"),
        credentials_arn: text("credentials"),
        description: text("description"),
        integration_method: if lambda {
            Some("POST".into())
        } else {
            text("httpMethod").map(|m| m.to_ascii_uppercase())
        },
        integration_subtype: text("integrationSubtype"),
        integration_type,
        integration_uri: text("uri"),
        payload_format_version: payload,
        request_parameters: string_map(v.get("requestParameters")),
        response_parameters: v
            .get("responseParameters")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(status, m)| (status.clone(), string_map(Some(m))))
            .collect(),
        timeout_in_millis: v
            .get("timeoutInMillis")
            .and_then(Value::as_i64)
            .unwrap_or(30_000),
        tls_config: v.get("tlsConfig").map(|t| v2::TlsConfig {
            server_name_to_verify: t
                .get("serverNameToVerify")
                .and_then(Value::as_str)
                .map(str::to_string),
        }),
        // WebSocket APIs' members; HTTP API documents carry none.
        content_handling_strategy: None,
        integration_response_selection_expression: None,
        passthrough_behavior: None,
        request_templates: BTreeMap::new(),
        template_selection_expression: None,
    })
}

/// Lays `import` onto `def`: its routes, integrations and authorizers replace the API's,
/// its CORS configuration replaces the API's, and its info and settings update the API.
pub fn apply(def: &mut Definition, import: &HttpImport) -> Result<(), ImportError> {
    let api = &mut def.api;
    import
        .info
        .apply(&mut api.name, &mut api.description, &mut api.version);
    api.cors_configuration = import.cors.clone();
    if let Some(d) = import.disable_execute_api_endpoint {
        api.disable_execute_api_endpoint = d;
    }
    for (k, v) in &import.tags {
        api.tags.insert(k.clone(), v.clone());
    }
    def.routes.clear();
    def.integrations.clear();
    def.authorizers.clear();
    let mut authorizer_ids = BTreeMap::new();
    for a in &import.authorizers {
        let id = ids::unique(ids::short_id, |id| def.authorizers.contains_key(id));
        let mut a = a.clone();
        a.authorizer_id = id.clone();
        authorizer_ids.insert(a.name.clone(), id.clone());
        def.authorizers.insert(id, a);
    }
    let mut errors = Vec::new();
    let mut keys = std::collections::HashSet::new();
    for r in &import.routes {
        if !keys.insert(r.route_key.as_str()) {
            errors.push(format!("Duplicate route key '{}'", r.route_key));
            continue;
        }
        let route_id = ids::unique(ids::seven_char_id, |id| def.routes.contains_key(id));
        let mut route = v2::Route {
            route_id: route_id.clone(),
            route_key: r.route_key.clone(),
            api_gateway_managed: false,
            api_key_required: false,
            authorization_type: r.authorization_type,
            authorizer_id: r
                .authorizer
                .as_ref()
                .and_then(|n| authorizer_ids.get(n).cloned()),
            authorization_scopes: r.scopes.clone(),
            operation_name: r.operation_name.clone(),
            request_models: BTreeMap::new(),
            request_parameters: BTreeMap::new(),
            model_selection_expression: None,
            route_response_selection_expression: None,
            target: None,
        };
        if let Some(i) = &r.integration {
            let id = ids::unique(ids::seven_char_id, |id| def.integrations.contains_key(id));
            let mut i = i.clone();
            i.integration_id = id.clone();
            def.integrations.insert(id.clone(), i);
            route.target = Some(format!("integrations/{id}"));
        }
        def.routes.insert(route_id, route);
    }
    if !errors.is_empty() {
        return Err(ImportError::Errors(errors));
    }
    Ok(())
}
