//! Reading a document into a [`RestImport`]: the API's settings, models, authorizers,
//! validators, gateway responses and one [`Operation`] per path and verb. Ids are given
//! later, by `apply`, against the API the document is laid onto.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use tollgate_model::{
    ApiKeySourceType, Authorizer, EndpointType, GatewayResponse, GatewayResponseType,
    IpAddressType, Method, MethodResponse, RequestValidator,
};

pub use super::inline::ImportedModel;
use super::inline::InlineModels;
use super::integration::{self, Site};
use super::security::{self, MethodAuth};
use crate::document::{self, Document, Flavor};
use crate::documentation::ImportedDocumentation;
use crate::problems::{ImportError, Problems};
use crate::refs;
pub use crate::shared::BasePath;
use crate::shared::{base_segments, full_path, paths, Info, VERBS};

#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    pub basepath: BasePath,
}

/// API-level settings from root extensions; `None` where the document says nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApiSettings {
    pub binary_media_types: Option<Vec<String>>,
    pub minimum_compression_size: Option<i64>,
    pub api_key_source: Option<ApiKeySourceType>,
    pub policy: Option<String>,
    pub endpoint_types: Option<Vec<EndpointType>>,
    pub vpc_endpoint_ids: Option<Vec<String>>,
    pub ip_address_type: Option<IpAddressType>,
    pub disable_execute_api_endpoint: Option<bool>,
}

/// One verb of one path. The method's authorizer and validator are named here
/// (`authorizer`, `validator`) and resolved to ids when applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub path: String,
    pub method: Method,
    pub authorizer: Option<String>,
    pub validator: Option<String>,
}

/// Everything a document defines for a REST API.
#[derive(Debug, Clone, PartialEq)]
pub struct RestImport {
    pub info: Info,
    pub settings: ApiSettings,
    pub models: Vec<ImportedModel>,
    /// Without ids; named by their security scheme.
    pub authorizers: Vec<Authorizer>,
    /// Without ids; named as in `x-amazon-apigateway-request-validators`.
    pub validators: Vec<RequestValidator>,
    pub gateway_responses: Vec<GatewayResponse>,
    pub operations: Vec<Operation>,
    pub warnings: Vec<String>,
    /// `x-amazon-apigateway-documentation`, with its own warnings (not in `warnings`:
    /// the caller may ignore the documentation, `ignore=documentation`).
    pub documentation: ImportedDocumentation,
    pub documentation_warnings: Vec<String>,
}

/// Root extensions that belong to HTTP APIs: ignored here, with a warning.
const HTTP_ONLY: [&str; 4] = ["cors", "importexport-version", "integrations", "tag-value"];

/// Root extensions a REST import reads (the rest are warned about).
const KNOWN: [&str; 11] = [
    "api-key-source",
    "binary-media-types",
    "minimum-compression-size",
    "policy",
    "endpoint-configuration",
    "request-validators",
    "request-validator",
    "gateway-responses",
    "documentation",
    "security-policy",
    "endpoint-access-mode",
];

/// Reads a document for a REST API.
pub fn read(bytes: &[u8], options: ImportOptions) -> Result<RestImport, ImportError> {
    let doc = document::parse(bytes)?;
    let mut p = Problems::default();
    root_extension_warnings(&doc, &mut p);
    let settings = settings(&doc, &mut p);
    let authorizers = security::authorizers(&doc, &mut p);
    let base = base_segments(&doc, options.basepath);
    let mut models = models(&doc);
    let mut inline = InlineModels::new(&models);
    let operations = operations(&doc, &base, &authorizers, &mut inline, &mut p);
    models.extend(inline.into_models());
    let mut doc_problems = Problems::default();
    let documentation = crate::documentation::read(&doc, &mut doc_problems);
    let out = RestImport {
        info: Info::read(&doc),
        settings,
        models,
        authorizers,
        validators: validators(&doc),
        gateway_responses: gateway_responses(&doc, &mut p),
        operations,
        warnings: p.warnings,
        documentation,
        documentation_warnings: doc_problems.warnings,
    };
    if !p.errors.is_empty() {
        return Err(ImportError::Errors(p.errors));
    }
    Ok(out)
}

fn root_extension_warnings(doc: &Document, p: &mut Problems) {
    // Two HTTP API extensions live below the root: on `tags` entries and in `components`.
    let tagged = doc
        .root
        .get("tags")
        .and_then(Value::as_array)
        .is_some_and(|t| {
            t.iter()
                .any(|t| t.get("x-amazon-apigateway-tag-value").is_some())
        });
    if tagged {
        p.warn("Ignoring x-amazon-apigateway-tag-value: it applies to HTTP APIs only");
    }
    let integrations = doc
        .root
        .get("components")
        .is_some_and(|c| c.get("x-amazon-apigateway-integrations").is_some());
    if integrations {
        p.warn("Ignoring x-amazon-apigateway-integrations: it applies to HTTP APIs only");
    }
    for key in doc.root.keys() {
        let Some(ext) = key.strip_prefix(crate::EXT) else {
            continue;
        };
        if HTTP_ONLY.contains(&ext) {
            p.warn(format!("Ignoring {key}: it applies to HTTP APIs only"));
        } else if !KNOWN.contains(&ext) {
            p.warn(format!("Ignoring unsupported extension {key}"));
        }
    }
}

fn ext<'a>(doc: &'a Document, name: &str) -> Option<&'a Value> {
    doc.root.get(&format!("{}{name}", crate::EXT))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

fn settings(doc: &Document, p: &mut Problems) -> ApiSettings {
    let mut s = ApiSettings {
        binary_media_types: ext(doc, "binary-media-types").map(strings),
        ..ApiSettings::default()
    };
    if let Some(v) = ext(doc, "minimum-compression-size") {
        match v.as_i64().filter(|n| (0..=10_485_760).contains(n)) {
            Some(n) => s.minimum_compression_size = Some(n),
            None => p.error("Invalid minimum compression size, must be between 0 and 10485760"),
        }
    }
    if let Some(v) = ext(doc, "api-key-source").and_then(Value::as_str) {
        match v.to_ascii_uppercase().parse() {
            Ok(k) => s.api_key_source = Some(k),
            Err(_) => p.error(format!("Invalid API key source specified: {v}")),
        }
    }
    s.policy = ext(doc, "policy").map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    // OpenAPI 3 may put the endpoint configuration on the first server instead.
    let endpoint = ext(doc, "endpoint-configuration").or_else(|| {
        doc.root
            .get("servers")?
            .get(0)?
            .get("x-amazon-apigateway-endpoint-configuration")
    });
    if let Some(e) = endpoint {
        if let Some(types) = e.get("types") {
            let parsed: Result<Vec<EndpointType>, _> =
                strings(types).iter().map(|t| t.parse()).collect();
            match parsed {
                Ok(t) => s.endpoint_types = Some(t),
                Err(_) => p.error(
                    "Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE",
                ),
            }
        }
        s.vpc_endpoint_ids = e.get("vpcEndpointIds").map(strings);
        s.disable_execute_api_endpoint =
            e.get("disableExecuteApiEndpoint").and_then(Value::as_bool);
        if let Some(ip) = e.get("ipAddressType").and_then(Value::as_str) {
            match ip.parse() {
                Ok(ip) => s.ip_address_type = Some(ip),
                Err(_) => p.error("ipAddressType must be either ipv4 or dualstack."),
            }
        }
    }
    s
}

fn schemas(doc: &Document) -> Option<&Map<String, Value>> {
    match doc.flavor {
        Flavor::Swagger2 => doc.root.get("definitions")?.as_object(),
        Flavor::Oas3 => doc.root.get("components")?.get("schemas")?.as_object(),
    }
}

fn models(doc: &Document) -> Vec<ImportedModel> {
    schemas(doc)
        .into_iter()
        .flatten()
        .map(|(name, schema)| ImportedModel {
            name: name.clone(),
            description: schema
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
            schema: schema.clone(),
        })
        .collect()
}

fn validators(doc: &Document) -> Vec<RequestValidator> {
    ext(doc, "request-validators")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, v)| RequestValidator {
            id: String::new(),
            name: Some(name.clone()),
            validate_request_body: v
                .get("validateRequestBody")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            validate_request_parameters: v
                .get("validateRequestParameters")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
        .collect()
}

fn gateway_responses(doc: &Document, p: &mut Problems) -> Vec<GatewayResponse> {
    let mut out = Vec::new();
    for (kind, v) in ext(doc, "gateway-responses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let Some(response_type) = GatewayResponseType::parse(kind) else {
            p.warn(format!("Ignoring unknown gateway response type {kind}"));
            continue;
        };
        let map = |k: &str| -> BTreeMap<String, String> {
            v.get(k)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        };
        out.push(GatewayResponse {
            response_type,
            status_code: match v.get("statusCode") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            },
            response_parameters: map("responseParameters"),
            response_templates: map("responseTemplates"),
            default_response: false,
        });
    }
    out
}

fn operations(
    doc: &Document,
    base: &[String],
    authorizers: &[Authorizer],
    inline: &mut InlineModels,
    p: &mut Problems,
) -> Vec<Operation> {
    let root = Value::Object(doc.root.clone());
    let default_validator = ext(doc, "request-validator")
        .and_then(Value::as_str)
        .map(str::to_string);
    let by_name: BTreeMap<&str, &Authorizer> =
        authorizers.iter().map(|a| (a.name.as_str(), a)).collect();
    let mut out = Vec::new();
    for (path, item) in paths(doc) {
        if !path.starts_with('/') {
            p.error(format!(
                "Unable to create resource at path '{path}': A path must start with '/'"
            ));
            continue;
        }
        let item = refs::resolve(&root, item);
        let full = full_path(base, path);
        let shared = item.get("parameters");
        for (key, verb) in VERBS {
            let Some(op) = item.get(key) else { continue };
            let op = refs::resolve(&root, op);
            let security = op.get("security").or_else(|| doc.root.get("security"));
            let (auth, undefined) = security::method_auth(doc, security, &by_name);
            for name in undefined {
                p.error(format!(
                    "Unable to put method '{verb}' on resource at path '{full}': security scheme '{name}' is not defined"
                ));
            }
            let site = OperationSite {
                doc,
                root: &root,
                shared,
                verb,
                path: &full,
            };
            let method = method(&site, op, auth.clone(), inline, p);
            out.push(Operation {
                path: full.clone(),
                method,
                authorizer: auth.authorizer,
                validator: op
                    .get("x-amazon-apigateway-request-validator")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .or_else(|| default_validator.clone()),
            });
        }
    }
    out
}

/// Where an operation is: its document, path item parameters, verb and full path.
struct OperationSite<'a> {
    doc: &'a Document,
    root: &'a Value,
    /// The path item's own `parameters`, shared by its operations.
    shared: Option<&'a Value>,
    verb: &'a str,
    path: &'a str,
}

fn method(
    site: &OperationSite<'_>,
    op: &Value,
    auth: MethodAuth,
    inline: &mut InlineModels,
    p: &mut Problems,
) -> Method {
    let OperationSite {
        doc,
        root,
        shared,
        verb,
        path,
    } = *site;
    let mut m = Method {
        http_method: verb.to_string(),
        authorization_type: auth.authorization_type,
        authorizer_id: None,
        api_key_required: auth.api_key_required,
        request_validator_id: None,
        operation_name: op
            .get("operationId")
            .and_then(Value::as_str)
            .map(str::to_string),
        request_parameters: BTreeMap::new(),
        request_models: BTreeMap::new(),
        authorization_scopes: auth.scopes,
        method_responses: BTreeMap::new(),
        method_integration: None,
    };
    if let Some(a) = op
        .get("x-amazon-apigateway-auth")
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str)
    {
        match a.to_ascii_uppercase().parse() {
            Ok(t) => m.authorization_type = t,
            Err(_) => p.error(format!(
                "Invalid authorization type '{a}' of resource '{path}' and method '{verb}'"
            )),
        }
    }
    let params = shared
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(
            op.get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
    let consumes = media_types(doc, op, "consumes");
    for param in params {
        let param = refs::resolve(root, param);
        let name = param.get("name").and_then(Value::as_str).unwrap_or("");
        let location = match param.get("in").and_then(Value::as_str) {
            Some("path") => "path",
            Some("query") => "querystring",
            Some("header") => "header",
            Some("body") => {
                if let Some(model) = param.get("schema").and_then(|s| inline.model_for(s)) {
                    for ct in &consumes {
                        m.request_models.insert(ct.clone(), model.clone());
                    }
                }
                continue;
            }
            _ => continue,
        };
        if name.is_empty() {
            continue;
        }
        let required = param
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(location == "path");
        m.request_parameters
            .insert(format!("method.request.{location}.{name}"), required);
    }
    // The path's own variables are required path parameters, declared or not (recorded).
    for var in path
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
    {
        let name = var.trim_end_matches('+');
        m.request_parameters
            .entry(format!("method.request.path.{name}"))
            .or_insert(true);
    }
    if let Some(body) = op.get("requestBody") {
        let body = refs::resolve(root, body);
        for (ct, media) in body
            .get("content")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if let Some(model) = media.get("schema").and_then(|s| inline.model_for(s)) {
                m.request_models.insert(ct.clone(), model);
            }
        }
    }
    let produces = media_types(doc, op, "produces");
    for (status, response) in op
        .get("responses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if !(status.len() == 3 && status.bytes().all(|b| b.is_ascii_digit())) {
            continue;
        }
        let response = refs::resolve(root, response);
        m.method_responses.insert(
            status.clone(),
            method_response(status, response, &produces, inline),
        );
    }
    if let Some(ext) = op.get("x-amazon-apigateway-integration") {
        // The resource id is not known yet: the cache namespace is filled in when applied.
        m.method_integration = integration::read(ext, "", &Site { path, method: verb }, p);
    }
    m
}

/// `consumes` / `produces` of a Swagger operation (or the document's), else JSON.
fn media_types(doc: &Document, op: &Value, key: &str) -> Vec<String> {
    let listed = op
        .get(key)
        .or_else(|| doc.root.get(key))
        .map(strings)
        .unwrap_or_default();
    if listed.is_empty() {
        vec!["application/json".into()]
    } else {
        listed
    }
}

fn method_response(
    status: &str,
    r: &Value,
    produces: &[String],
    inline: &mut InlineModels,
) -> MethodResponse {
    let headers: BTreeMap<String, bool> = r
        .get("headers")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(h, _)| (format!("method.response.header.{h}"), false))
        .collect();
    let mut models = BTreeMap::new();
    if let Some(model) = r.get("schema").and_then(|s| inline.model_for(s)) {
        for ct in produces {
            models.insert(ct.clone(), model.clone());
        }
    }
    for (ct, media) in r
        .get("content")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(model) = media.get("schema").and_then(|s| inline.model_for(s)) {
            models.insert(ct.clone(), model);
        }
    }
    MethodResponse {
        status_code: status.to_string(),
        response_parameters: (!headers.is_empty()).then_some(headers),
        response_models: (!models.is_empty()).then_some(models),
    }
}
