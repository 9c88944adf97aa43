//! Compiling a deployment snapshot into the form the pipeline runs: a router, integrations
//! with pre-parsed URIs, mappings and regexes, and resolved gateway responses. Happens once
//! per deployment, never per request. A method that cannot be compiled is kept with its
//! error, so only requests to that method fail (500), never the whole API.

use std::sync::Arc;
use std::time::Duration;

use http::header::HeaderName;
use regex::Regex;
use tollgate_model::{GatewayResponseType, Integration, Method, RestApiDefinition};

use crate::content_handling::ContentHandling;
use crate::context::Piece;
use crate::integrations::lambda_target::LambdaTarget;
use crate::uri::{compile_uri, UriPiece};

/// A mapping template, parsed once per deployment and shared by every request.
pub type MappingTemplate = Arc<CompiledTemplate>;

/// A parsed template plus what rendering it needs, decided once so requests build only
/// what the template can read.
#[derive(Debug)]
pub struct CompiledTemplate {
    pub engine: tollgate_vtl::Template,
    /// The output, when the template has no VTL at all (no `$`, `#` or `\`): the engine
    /// would only trim it, so it is rendered once here.
    pub literal: Option<bytes::Bytes>,
    /// The source names `context` (`$context`, `${context}`, `#set($c = $context)`...).
    pub reads_context: bool,
    /// The source names `input` (`$input.params()` needs the request's headers).
    pub reads_input: bool,
}

impl CompiledTemplate {
    /// A template whose output is `src` as it is.
    pub fn text(src: &str) -> CompiledTemplate {
        CompiledTemplate {
            engine: tollgate_vtl::Template::parse("").expect("the empty template parses"),
            literal: Some(bytes::Bytes::copy_from_slice(src.as_bytes())),
            reads_context: false,
            reads_input: false,
        }
    }

    pub fn parse(src: &str) -> Result<CompiledTemplate, tollgate_vtl::ParseError> {
        let engine = tollgate_vtl::Template::parse(src)?;
        let literal = (!src.contains(['$', '#', '\\']))
            .then(|| bytes::Bytes::copy_from_slice(src.trim().as_bytes()));
        Ok(CompiledTemplate {
            engine,
            literal,
            reads_context: src.contains("context"),
            reads_input: src.contains("input"),
        })
    }
}
use crate::router::{method_slot, Route, Router};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntegrationKind {
    HttpProxy,
    Http,
    Mock,
    AwsProxy,
    Aws,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Passthrough {
    WhenNoMatch,
    WhenNoTemplates,
    Never,
}

/// Where a mapped value comes from (`method.request.*`, `stageVariables.*`, `context.*`, `'x'`).
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Path(String),
    Query(String),
    MultiQuery(String),
    Header(String),
    MultiHeader(String),
    StageVariable(String),
    Context(String),
    Literal(String),
    Body,
    /// `method.request.body.{JSONPath}`
    BodyPath(tollgate_vtl::jsonpath::JsonPath),
}

impl Source {
    pub fn parse(expr: &str) -> Option<Source> {
        if let Some(lit) = expr.strip_prefix('\'').and_then(|e| e.strip_suffix('\'')) {
            return Some(Source::Literal(lit.to_string()));
        }
        if let Some(n) = expr.strip_prefix("stageVariables.") {
            return Some(Source::StageVariable(n.to_string()));
        }
        if let Some(n) = expr.strip_prefix("context.") {
            return Some(Source::Context(n.to_string()));
        }
        if expr == "method.request.body" {
            return Some(Source::Body);
        }
        if let Some(path) = expr.strip_prefix("method.request.body.") {
            return tollgate_vtl::jsonpath::JsonPath::parse(path)
                .ok()
                .map(Source::BodyPath);
        }
        let rest = expr.strip_prefix("method.request.")?;
        let (loc, name) = rest.split_once('.')?;
        let name = name.to_string();
        Some(match loc {
            "path" => Source::Path(name),
            "querystring" => Source::Query(name),
            "multivaluequerystring" => Source::MultiQuery(name),
            "header" => Source::Header(name),
            "multivalueheader" => Source::MultiHeader(name),
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Header(HeaderName),
    Query(String),
    Path(String),
}

/// Where a method response header comes from (`integration.response.*`, `'x'`, ...).
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseSource {
    Header(String),
    MultiHeader(String),
    Body,
    /// `integration.response.body.{JSONPath}`
    BodyPath(tollgate_vtl::jsonpath::JsonPath),
    StageVariable(String),
    Context(String),
    Literal(String),
}

impl ResponseSource {
    fn parse(expr: &str) -> Option<ResponseSource> {
        if let Some(lit) = expr.strip_prefix('\'').and_then(|e| e.strip_suffix('\'')) {
            return Some(ResponseSource::Literal(lit.to_string()));
        }
        if let Some(n) = expr.strip_prefix("stageVariables.") {
            return Some(ResponseSource::StageVariable(n.to_string()));
        }
        if let Some(n) = expr.strip_prefix("context.") {
            return Some(ResponseSource::Context(n.to_string()));
        }
        if expr == "integration.response.body" {
            return Some(ResponseSource::Body);
        }
        if let Some(path) = expr.strip_prefix("integration.response.body.") {
            return tollgate_vtl::jsonpath::JsonPath::parse(path)
                .ok()
                .map(ResponseSource::BodyPath);
        }
        if let Some(n) = expr.strip_prefix("integration.response.header.") {
            return Some(ResponseSource::Header(n.to_string()));
        }
        if let Some(n) = expr.strip_prefix("integration.response.multivalueheader.") {
            return Some(ResponseSource::MultiHeader(n.to_string()));
        }
        None
    }
}

#[derive(Debug)]
pub struct CompiledIntegrationResponse {
    pub status: u16,
    /// `None` for the default response (empty or absent selectionPattern).
    pub pattern: Option<Regex>,
    pub response_parameters: Vec<(HeaderName, ResponseSource)>,
    /// (content type, template), sorted by content type.
    pub templates: Vec<(String, MappingTemplate)>,
    /// How the backend's payload is converted for the client (`None`: by the Accept).
    pub content_handling: Option<ContentHandling>,
}

#[derive(Debug)]
pub struct CompiledIntegration {
    pub kind: IntegrationKind,
    /// The backend verb; `None` means "the client's method" (`ANY`).
    pub http_method: Option<http::Method>,
    pub uri: Vec<UriPiece>,
    /// For Lambda integrations: the function the URI names.
    pub lambda_function: Option<LambdaTarget>,
    /// The integration has `credentials` (a role API Gateway assumes): the function's
    /// resource policy is then not consulted.
    pub has_credentials: bool,
    pub request_parameters: Vec<(Target, Source)>,
    /// (content type, template), sorted by content type.
    pub request_templates: Vec<(String, MappingTemplate)>,
    pub passthrough: Passthrough,
    /// How the client's payload is converted for the backend (`None`: left as it is).
    pub content_handling: Option<ContentHandling>,
    pub timeout: Duration,
    pub responses: Vec<CompiledIntegrationResponse>,
}

/// Where a required method request parameter must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterLocation {
    Path,
    Query,
    Header,
}

/// A request model's JSON Schema, compiled once per deployment and shared by every method
/// that uses the model; `Err` holds why the schema (or a model it refers to) cannot be used.
pub type ModelSchema = Result<Arc<jsonschema::Validator>, Arc<str>>;

/// What the method's request validator checks, resolved at compile time.
#[derive(Debug, Default)]
pub struct RequestValidation {
    /// Required `method.request.*` parameters (when the validator checks parameters), in
    /// AWS's report order: sorted by the whole parameter key.
    pub required: Vec<(ParameterLocation, Box<str>)>,
    /// (content type as stored, schema) of the method's request models (when the
    /// validator checks bodies).
    pub models: Vec<(String, ModelSchema)>,
}

#[derive(Debug)]
pub struct CompiledMethod {
    pub http_method: Arc<str>,
    pub authorization_type: Arc<str>,
    pub api_key_required: bool,
    /// `None` when the method has no request validator or it checks nothing.
    pub validation: Option<RequestValidation>,
    /// The integration, or why requests to this method answer 500.
    pub integration: Result<CompiledIntegration, String>,
}

/// A gateway response with the resolution order already applied.
#[derive(Debug, Clone)]
pub struct CompiledGatewayResponse {
    pub status: u16,
    pub headers: Vec<(HeaderName, Vec<Piece>)>,
    /// (content type, template), sorted by content type; rendered by the VTL engine.
    pub templates: Vec<(String, MappingTemplate)>,
}

#[derive(Debug)]
pub struct CompiledDeployment {
    pub api_id: Arc<str>,
    pub deployment_id: Arc<str>,
    pub router: Router<CompiledMethod>,
    gateway_responses: Vec<CompiledGatewayResponse>,
    pub binary_media_types: Vec<String>,
    /// `HEADER` or `AUTHORIZER`: where API keys come from.
    pub api_key_source: Box<str>,
}

impl CompiledDeployment {
    pub fn gateway_response(&self, t: GatewayResponseType) -> &CompiledGatewayResponse {
        let i = GatewayResponseType::ALL
            .iter()
            .position(|x| *x == t)
            .unwrap_or(0);
        &self.gateway_responses[i]
    }
}

pub fn compile(def: &RestApiDefinition, deployment_id: &str) -> CompiledDeployment {
    let mut router = Router::default();
    let mut models = ModelCompiler::new(def);
    for r in def.resources.values() {
        let mut methods: [Option<Arc<CompiledMethod>>; 8] = Default::default();
        for (verb, m) in &r.resource_methods {
            if let Some(slot) = method_slot(verb) {
                let mut compiled = compile_method(m, &r.id);
                compiled.validation = compile_validation(def, m, &mut models);
                methods[slot] = Some(Arc::new(compiled));
            }
        }
        router.insert(
            &r.path,
            Route {
                resource_id: r.id.as_str().into(),
                resource_path: r.path.as_str().into(),
                methods,
            },
        );
    }
    CompiledDeployment {
        api_id: def.api.id.as_str().into(),
        deployment_id: deployment_id.into(),
        router,
        gateway_responses: GatewayResponseType::ALL
            .iter()
            .map(|t| compile_gateway_response(def, *t))
            .collect(),
        binary_media_types: def.api.binary_media_types.clone(),
        api_key_source: def.api.api_key_source.as_str().into(),
    }
}

fn compile_method(m: &Method, resource_id: &str) -> CompiledMethod {
    let integration = match &m.method_integration {
        None => Err("No integration defined for method".to_string()),
        Some(i) => compile_integration(i, resource_id),
    };
    if let Err(e) = &integration {
        tracing::warn!(resource_id, method = %m.http_method, error = %e, "method will answer 500");
    }
    CompiledMethod {
        http_method: m.http_method.as_str().into(),
        authorization_type: m.authorization_type.as_str().into(),
        api_key_required: m.api_key_required,
        validation: None,
        integration,
    }
}

/// The checks of the method's request validator. A validator id the snapshot does not hold
/// (the control plane refuses to create one) validates nothing.
fn compile_validation(
    def: &RestApiDefinition,
    m: &Method,
    models: &mut ModelCompiler,
) -> Option<RequestValidation> {
    let v = def
        .request_validators
        .get(m.request_validator_id.as_deref()?)?;
    let mut out = RequestValidation::default();
    if v.validate_request_parameters {
        // BTreeMap order is the whole key's order, which is the order AWS lists them in.
        for (key, _) in m.request_parameters.iter().filter(|(_, req)| **req) {
            let Some((loc, name)) = tollgate_model::validate::method_request_parameter(key) else {
                continue;
            };
            let loc = match loc {
                "path" => ParameterLocation::Path,
                "querystring" | "multivaluequerystring" => ParameterLocation::Query,
                _ => ParameterLocation::Header,
            };
            out.required.push((loc, name.into()));
        }
    }
    if v.validate_request_body {
        out.models = m
            .request_models
            .iter()
            .map(|(ct, name)| (ct.clone(), models.schema(name)))
            .collect();
    }
    (!out.required.is_empty() || !out.models.is_empty()).then_some(out)
}

/// Compiles the API's models as JSON Schema draft 4, each at most once per deployment.
/// A `$ref` to `https://apigateway.amazonaws.com/restapis/{api}/models/{name}` (any host)
/// resolves to that model of this API, cycles included; nothing is ever fetched.
struct ModelCompiler {
    api_id: String,
    retriever: ApiModels,
    compiled: std::collections::HashMap<String, ModelSchema>,
}

/// The API's model schemas, parsed, for `$ref` resolution.
#[derive(Clone)]
struct ApiModels {
    api_id: Arc<str>,
    schemas: Arc<std::collections::HashMap<String, serde_json::Value>>,
}

impl ApiModels {
    /// The model a canonical model URI path (`/restapis/{api}/models/{name}`) names.
    fn lookup(&self, path: &str) -> Option<&serde_json::Value> {
        let rest = path.strip_prefix("/restapis/")?;
        let (api, name) = rest.split_once("/models/")?;
        (api == &*self.api_id).then(|| self.schemas.get(name))?
    }
}

impl jsonschema::Retrieve for ApiModels {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<serde_json::Value, Box<dyn std::error::Error + Send + Sync>> {
        self.lookup(uri.path().as_str())
            .cloned()
            .ok_or_else(|| format!("{uri} is not a model of this API").into())
    }
}

impl ModelCompiler {
    fn new(def: &RestApiDefinition) -> ModelCompiler {
        let schemas = def
            .models
            .iter()
            .filter_map(|(name, m)| {
                let doc = serde_json::from_str(m.schema.as_deref()?).ok()?;
                Some((name.clone(), doc))
            })
            .collect();
        ModelCompiler {
            api_id: def.api.id.clone(),
            retriever: ApiModels {
                api_id: def.api.id.as_str().into(),
                schemas: Arc::new(schemas),
            },
            compiled: Default::default(),
        }
    }

    fn schema(&mut self, name: &str) -> ModelSchema {
        if let Some(done) = self.compiled.get(name) {
            return done.clone();
        }
        let result = self.build(name);
        if let Err(e) = &result {
            tracing::warn!(api = %self.api_id, model = name, error = %e, "model cannot validate request bodies; requests that need it answer 500");
        }
        self.compiled.insert(name.to_string(), result.clone());
        result
    }

    fn build(&self, name: &str) -> ModelSchema {
        let schema = self
            .retriever
            .schemas
            .get(name)
            .ok_or_else(|| Arc::<str>::from(format!("model {name} has no JSON schema")))?;
        jsonschema::draft4::options()
            .with_base_uri(format!(
                "https://apigateway.amazonaws.com/restapis/{}/models/{name}",
                self.api_id
            ))
            .with_retriever(self.retriever.clone())
            .build(schema)
            .map(Arc::new)
            .map_err(|e| format!("model {name}: {e}").into())
    }
}

/// A JSONPath mapping over a body: nothing unless the body is JSON (it must start like
/// JSON), a string value as itself, anything else as JSON text.
pub fn body_path(path: &tollgate_vtl::jsonpath::JsonPath, body: &[u8]) -> Option<String> {
    use tollgate_vtl::jsonpath::Selection;
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    if !matches!(first, b'{' | b'[' | b'"') {
        return None;
    }
    let root: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match path.select(&root) {
        Selection::Definite(v) => v.map(text),
        Selection::List(vs) if vs.is_empty() => None,
        Selection::List(vs) => {
            Some(serde_json::Value::Array(vs.into_iter().cloned().collect()).to_string())
        }
    }
}

/// Parses a template map (sorted by content type); a template that does not parse makes
/// the method answer 500 rather than render something AWS would not.
fn templates(
    map: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<(String, MappingTemplate)>, String> {
    map.iter()
        .map(|(ct, src)| {
            CompiledTemplate::parse(src)
                .map(|t| (ct.clone(), Arc::new(t)))
                .map_err(|e| format!("mapping template for {ct} does not parse: {e}"))
        })
        .collect()
}

pub(crate) fn compile_integration(
    i: &Integration,
    _resource_id: &str,
) -> Result<CompiledIntegration, String> {
    let kind = match i.integration_type.as_str() {
        "HTTP_PROXY" => IntegrationKind::HttpProxy,
        "HTTP" => IntegrationKind::Http,
        "MOCK" => IntegrationKind::Mock,
        "AWS_PROXY" => IntegrationKind::AwsProxy,
        "AWS" => IntegrationKind::Aws,
        other => return Err(format!("unknown integration type {other}")),
    };
    let http_method = match i.http_method.as_deref() {
        None | Some("") | Some("ANY") => None,
        Some(m) => Some(
            http::Method::from_bytes(m.as_bytes())
                .map_err(|_| format!("invalid integration method {m}"))?,
        ),
    };
    let mut request_parameters = Vec::new();
    for (target, source) in &i.request_parameters {
        let src =
            Source::parse(source).ok_or_else(|| format!("invalid mapping expression {source}"))?;
        let t = if let Some(n) = target.strip_prefix("integration.request.header.") {
            Target::Header(
                HeaderName::from_bytes(n.as_bytes())
                    .map_err(|_| format!("invalid header name {n}"))?,
            )
        } else if let Some(n) = target.strip_prefix("integration.request.querystring.") {
            Target::Query(n.to_string())
        } else if let Some(n) = target.strip_prefix("integration.request.path.") {
            Target::Path(n.to_string())
        } else {
            return Err(format!("invalid mapping target {target}"));
        };
        if let Target::Header(h) = &t {
            // AWS refuses these mappings at request time with a 500.
            if matches!(h.as_str(), "content-length" | "transfer-encoding") {
                return Err(format!("illegal header mapping {h}"));
            }
        }
        request_parameters.push((t, src));
    }
    let lambda_function = match kind {
        IntegrationKind::AwsProxy | IntegrationKind::Aws => {
            Some(LambdaTarget::compile(i.uri.as_deref().unwrap_or_default())?)
        }
        _ => None,
    };
    let mut responses = Vec::new();
    for ir in i.integration_responses.values() {
        let status: u16 = ir
            .status_code
            .parse()
            .map_err(|_| format!("invalid status {}", ir.status_code))?;
        let pattern = match ir.selection_pattern.as_deref() {
            None | Some("") => None,
            // Java's String.matches: the whole value must match.
            Some(p) => Some(
                Regex::new(&format!("^(?:{p})$"))
                    .map_err(|e| format!("invalid selectionPattern {p}: {e}"))?,
            ),
        };
        let mut response_parameters = Vec::new();
        for (target, source) in &ir.response_parameters {
            let Some(name) = target.strip_prefix("method.response.header.") else {
                continue;
            };
            let h = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("invalid header name {name}"))?;
            let src = ResponseSource::parse(source)
                .ok_or_else(|| format!("invalid mapping expression {source}"))?;
            response_parameters.push((h, src));
        }
        responses.push(CompiledIntegrationResponse {
            status,
            pattern,
            response_parameters,
            templates: templates(&ir.response_templates)?,
            content_handling: ContentHandling::parse(ir.content_handling.as_deref())?,
        });
    }
    Ok(CompiledIntegration {
        kind,
        http_method,
        uri: compile_uri(i.uri.as_deref().unwrap_or_default()),
        lambda_function,
        has_credentials: i.credentials.as_deref().is_some_and(|c| !c.is_empty()),
        request_parameters,
        request_templates: templates(&i.request_templates)?,
        passthrough: match i.passthrough_behavior.as_str() {
            "NEVER" => Passthrough::Never,
            "WHEN_NO_TEMPLATES" => Passthrough::WhenNoTemplates,
            _ => Passthrough::WhenNoMatch,
        },
        content_handling: ContentHandling::parse(i.content_handling.as_deref())?,
        timeout: Duration::from_millis(i.timeout_in_millis.clamp(50, 29_000) as u64),
        responses,
    })
}

/// Applies AWS's resolution order: the type's own customisation, else the DEFAULT_4XX /
/// DEFAULT_5XX customisation of its family, else the built-in default.
fn compile_gateway_response(
    def: &RestApiDefinition,
    t: GatewayResponseType,
) -> CompiledGatewayResponse {
    let default_status = t
        .default_status()
        .unwrap_or(if t == GatewayResponseType::Default5xx {
            500
        } else {
            400
        });
    let configured = def.gateway_responses.get(t.as_str()).or_else(|| {
        t.family()
            .and_then(|f| def.gateway_responses.get(f.as_str()))
    });
    let chosen = configured.cloned().unwrap_or_else(|| t.default_response());
    let status = chosen
        .status_code
        .as_deref()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default_status);
    let headers = chosen
        .response_parameters
        .iter()
        .filter_map(|(k, v)| {
            let name = k.strip_prefix("gatewayresponse.header.")?;
            let h = HeaderName::from_bytes(name.as_bytes()).ok()?;
            let pieces = match v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
                Some(lit) => vec![Piece::Literal(lit.to_string())],
                None => match v.strip_prefix("context.") {
                    Some(c) => vec![Piece::Context(c.to_string())],
                    None => match v.strip_prefix("stageVariables.") {
                        Some(s) => vec![Piece::StageVariable(s.to_string())],
                        None => vec![Piece::Context(format!("__method.{v}"))],
                    },
                },
            };
            Some((h, pieces))
        })
        .collect();
    let templates = chosen
        .response_templates
        .iter()
        .map(|(ct, tpl)| {
            // A template that does not parse is answered as its text (AWS refuses it when
            // it is saved; stored ones from before must not break every error response).
            let t = CompiledTemplate::parse(tpl).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "gateway response template does not parse; sent as text");
                CompiledTemplate::text(tpl)
            });
            (ct.clone(), Arc::new(t))
        })
        .collect();
    CompiledGatewayResponse {
        status,
        headers,
        templates,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_templates() {
        assert_eq!(
            compile_uri("http://${stageVariables.host}:8080/pets/{petId}?q={q}"),
            vec![
                UriPiece::Literal("http://".into()),
                UriPiece::StageVariable("host".into()),
                UriPiece::Literal(":8080/pets/".into()),
                UriPiece::PathParam("petId".into()),
                UriPiece::Literal("?q=".into()),
                UriPiece::PathParam("q".into()),
            ]
        );
        assert_eq!(
            compile_uri("http://x/{proxy}"),
            vec![
                UriPiece::Literal("http://x/".into()),
                UriPiece::PathParam("proxy".into())
            ]
        );
        assert_eq!(
            compile_uri("http://x/{}"),
            vec![UriPiece::Literal("http://x/{}".into())]
        );
    }

    #[test]
    fn sources() {
        assert_eq!(
            Source::parse("method.request.path.id"),
            Some(Source::Path("id".into()))
        );
        assert_eq!(Source::parse("'a b'"), Some(Source::Literal("a b".into())));
        assert_eq!(
            Source::parse("context.identity.sourceIp"),
            Some(Source::Context("identity.sourceIp".into()))
        );
        assert_eq!(Source::parse("method.request.nope.x"), None);
        let Some(Source::BodyPath(p)) = Source::parse("method.request.body.order.items[0].sku")
        else {
            panic!()
        };
        assert_eq!(
            body_path(&p, br#"{"order": {"items": [{"sku": "A1"}]}}"#).as_deref(),
            Some("A1")
        );
        assert_eq!(body_path(&p, b"not json").as_deref(), None);
        let Some(Source::BodyPath(all)) = Source::parse("method.request.body.order") else {
            panic!()
        };
        assert_eq!(
            body_path(&all, br#"{"order": {"n": 1}}"#).as_deref(),
            Some("{\"n\":1}")
        );
        assert_eq!(
            ResponseSource::parse("integration.response.header.X-A"),
            Some(ResponseSource::Header("X-A".into()))
        );
    }
}

#[cfg(test)]
pub(crate) mod gateway_response_tests {
    use std::collections::BTreeMap;

    use tollgate_model::{EndpointConfiguration, GatewayResponse, RestApi};

    use super::*;

    /// A new API (root resource `root`, the default models) for compile tests.
    pub(crate) fn empty_api(id: &str) -> RestApiDefinition {
        RestApiDefinition::new(RestApi {
            id: id.into(),
            name: "n".into(),
            description: None,
            version: None,
            created_date: 0,
            binary_media_types: vec![],
            minimum_compression_size: None,
            api_key_source: "HEADER".into(),
            endpoint_configuration: EndpointConfiguration::default(),
            policy: None,
            tags: BTreeMap::new(),
            disable_execute_api_endpoint: false,
            root_resource_id: "root".into(),
            security_policy: None,
            endpoint_access_mode: None,
        })
    }

    fn def_with(responses: &[(&str, Option<&str>)]) -> RestApiDefinition {
        let mut def = empty_api("api");
        for (t, status) in responses {
            def.gateway_responses.insert(
                t.to_string(),
                GatewayResponse {
                    response_type: t.to_string(),
                    status_code: status.map(str::to_string),
                    response_parameters: BTreeMap::from([(
                        "gatewayresponse.header.x-a".to_string(),
                        "'b'".to_string(),
                    )]),
                    response_templates: BTreeMap::from([(
                        "application/json".to_string(),
                        "{}".to_string(),
                    )]),
                    default_response: false,
                },
            );
        }
        def
    }

    #[test]
    fn resolution_order() {
        // DEFAULT_5XX with 599 changes the 5xx types that are not configured themselves.
        let def = def_with(&[("DEFAULT_5XX", Some("599")), ("AUTHORIZER_FAILURE", None)]);
        let c = compile(&def, "d");
        assert_eq!(
            c.gateway_response(GatewayResponseType::IntegrationTimeout)
                .status,
            599
        );
        assert_eq!(
            c.gateway_response(GatewayResponseType::ApiConfigurationError)
                .status,
            599
        );
        // Configured without a status: the type's own default status.
        assert_eq!(
            c.gateway_response(GatewayResponseType::AuthorizerFailure)
                .status,
            500
        );
        // 4xx types keep AWS's defaults.
        let mat = c.gateway_response(GatewayResponseType::MissingAuthenticationToken);
        assert_eq!(mat.status, 403);
        assert!(mat.headers.is_empty());
        assert_eq!(
            c.gateway_response(GatewayResponseType::IntegrationTimeout)
                .headers
                .len(),
            1
        );
    }
}

#[cfg(test)]
mod template_tests {
    use super::CompiledTemplate;

    #[test]
    fn literal_templates_render_like_the_engine() {
        for src in [
            "  {\"statusCode\": 200}\n",
            "[{\"id\": 1}]",
            "plain text, no markup",
            "",
        ] {
            let t = CompiledTemplate::parse(src).unwrap();
            let engine = t
                .engine
                .render_simple(&tollgate_vtl::Input::default())
                .unwrap();
            assert_eq!(t.literal.as_deref(), Some(engine.as_bytes()), "{src:?}");
        }
        for src in ["$input.body", "#set($a = 1)$a", "a\\$b"] {
            assert!(
                CompiledTemplate::parse(src).unwrap().literal.is_none(),
                "{src:?}"
            );
        }
        let t = CompiledTemplate::parse("$input.params('x') $context.stage").unwrap();
        assert!(t.reads_context && t.reads_input);
        let t = CompiledTemplate::parse("#set($x = 1)$x").unwrap();
        assert!(!t.reads_context && !t.reads_input);
    }
}
