//! Compiling a WebSocket API deployment (websocket.md): its route selection expression,
//! its routes by key (`$connect`, `$disconnect`, `$default` apart), and per route the
//! integration with its request templates, template selection, integration responses and
//! whether the route is two-way, all parsed once per deployment.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tollgate_model::selection::Expression;
use tollgate_model::v2::{children, Definition, DEFAULT};
use tollgate_model::{AuthorizationType, IntegrationType, PassthroughBehavior};

use super::template::{CompiledTemplate, MappingTemplate};
use super::validation::RequestValidation;
use super::websocket_mapping::{request_parameters, WsParameter};
pub use super::websocket_validation::WsBodyValidation;
use super::websocket_validation::{body_validation, model_compiler, parameter_validation};
use crate::integrations::aws::target::ServiceTarget;
use crate::integrations::lambda_target::LambdaTarget;
use crate::uri::{compile_uri, UriPiece};
use tollgate_authorizers::{CompileError, LambdaAuthorizer};

/// What a WebSocket integration calls.
#[derive(Debug)]
pub enum WsTarget {
    /// `AWS_PROXY`: a Lambda function with the WebSocket proxy event.
    LambdaProxy(LambdaTarget),
    /// `AWS`: a Lambda function with the rendered request template.
    Lambda(LambdaTarget),
    /// `AWS` to another service (`arn:aws:apigateway:{region}:{service}:path|action/...`):
    /// the rendered request template sent in the service's protocol, SigV4-signed.
    Service {
        target: ServiceTarget,
        method: http::Method,
    },
    /// `HTTP_PROXY`: the message body is posted as it is.
    HttpProxy {
        uri: Vec<UriPiece>,
        method: http::Method,
    },
    /// `HTTP`: the rendered request template is sent.
    Http {
        uri: Vec<UriPiece>,
        method: http::Method,
    },
    /// `MOCK`: the request template's `statusCode` is the answer.
    Mock,
    /// Something Tollgate cannot call (said in the log; the client gets an error frame).
    Unsupported(&'static str),
}

/// An integration response: `pattern` `None` is `$default`.
#[derive(Debug)]
pub struct WsIntegrationResponse {
    pub pattern: Option<regex::Regex>,
    pub template_selection: Option<Expression>,
    /// By template key (the value of the template selection expression, or `$default`).
    pub templates: HashMap<Box<str>, MappingTemplate>,
}

#[derive(Debug)]
pub struct WsIntegration {
    pub target: WsTarget,
    pub timeout: Duration,
    pub has_credentials: bool,
    /// `credentialsArn`: the role a service call is signed as (`--aws-assume-role`).
    pub credentials: Option<Box<str>>,
    /// `requestParameters` (HTTP and service calls).
    pub request_parameters: Vec<WsParameter>,
    pub template_selection: Option<Expression>,
    /// By template key; a template that does not parse is left out (its messages fail).
    pub request_templates: HashMap<Box<str>, MappingTemplate>,
    pub passthrough: PassthroughBehavior,
    /// Evaluated over the integration's answer to pick an integration response.
    pub response_selection: Expression,
    /// Pattern responses in key order, then `$default`.
    pub responses: Vec<WsIntegrationResponse>,
}

#[derive(Debug)]
pub struct WsRoute {
    pub key: Arc<str>,
    pub integration: Option<Arc<WsIntegration>>,
    /// The route has `routeResponseSelectionExpression` `$default` and a `$default` route
    /// response: the integration's answer is sent to the client.
    pub two_way: bool,
    pub authorization_type: AuthorizationType,
    pub api_key_required: bool,
    /// Message bodies checked against the route's request models before the integration.
    pub body_validation: Option<WsBodyValidation>,
    /// `$connect`: the handshake parameters that must be present (else 400).
    pub parameter_validation: Option<RequestValidation>,
}

/// A WebSocket API deployment as the data plane serves it.
#[derive(Debug)]
pub struct CompiledWebSocketApi {
    pub api_id: Arc<str>,
    pub route_selection: Expression,
    /// Custom route keys.
    pub routes: HashMap<Box<str>, Arc<WsRoute>>,
    pub connect: Option<Arc<WsRoute>>,
    pub disconnect: Option<Arc<WsRoute>>,
    pub default: Option<Arc<WsRoute>>,
    /// `$connect`'s Lambda REQUEST authorizer (`CUSTOM`); `Err`: it cannot run (500).
    pub connect_authorizer: Option<Result<LambdaAuthorizer, CompileError>>,
    /// `apiKeySelectionExpression` is `$context.authorizer.usageIdentifierKey`.
    pub api_key_from_authorizer: bool,
    /// Its identity sources as configured (`route.request.header.X`...): each must be
    /// present, else 401 without a call (websocket.md §1).
    pub connect_identity_sources: Vec<String>,
}

/// A WebSocket API's REQUEST authorizer in the engine's (REST) terms: its identity sources
/// `route.request.*` read as `method.request.*`; no result cache (WebSocket authorizers
/// have no TTL).
fn connect_authorizer(
    a: &tollgate_model::v2::Authorizer,
) -> Result<LambdaAuthorizer, CompileError> {
    let sources: Vec<String> = a
        .identity_source
        .iter()
        .map(|s| match s.strip_prefix("route.request.") {
            Some(rest) => format!("method.request.{rest}"),
            None => s.clone(),
        })
        .collect();
    let rest = tollgate_model::Authorizer {
        id: a.authorizer_id.clone(),
        name: a.name.clone(),
        authorizer_type: tollgate_model::AuthorizerType::Request,
        auth_type: None,
        authorizer_uri: a.authorizer_uri.clone(),
        authorizer_credentials: a.authorizer_credentials_arn.clone(),
        identity_source: (!sources.is_empty()).then(|| sources.join(", ")),
        identity_validation_expression: None,
        authorizer_result_ttl_in_seconds: Some(0),
        provider_arns: None,
    };
    LambdaAuthorizer::compile(&rest)
}

impl CompiledWebSocketApi {
    /// The route for a selected key: exactly that key, else `$default`.
    pub fn route(&self, key: &str) -> Option<&Arc<WsRoute>> {
        self.routes.get(key).or(self.default.as_ref())
    }
}

fn templates<'a>(
    api: &str,
    map: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> HashMap<Box<str>, MappingTemplate> {
    map.into_iter()
        .filter_map(|(k, src)| match CompiledTemplate::parse(src) {
            Ok(t) => Some((k.as_str().into(), Arc::new(t))),
            Err(e) => {
                tracing::warn!(api, key = %k, error = %e, "WebSocket template does not parse");
                None
            }
        })
        .collect()
}

fn expression(api: &str, e: Option<&str>) -> Option<Expression> {
    let e = e?;
    Expression::parse(e)
        .map_err(|err| tracing::warn!(api, expression = e, error = %err, "selection expression"))
        .ok()
}

fn lambda(uri: &str) -> Result<LambdaTarget, &'static str> {
    let invocation;
    let uri = if uri.starts_with("arn:aws:lambda:") {
        invocation =
            format!("arn:aws:apigateway:local:lambda:path/2015-03-31/functions/{uri}/invocations");
        invocation.as_str()
    } else {
        uri
    };
    LambdaTarget::compile(uri).map_err(|_| "integration URI names no Lambda function")
}

fn target(i: &tollgate_model::v2::Integration) -> WsTarget {
    let uri = i.integration_uri.as_deref().unwrap_or_default();
    let method = || {
        i.integration_method
            .as_deref()
            .and_then(|m| m.parse().ok())
            .unwrap_or(http::Method::POST)
    };
    let compiled = match i.integration_type {
        _ if i.connection_type == tollgate_model::ConnectionType::VpcLink => {
            Err("VPC link integrations are not supported")
        }
        IntegrationType::Mock => Ok(WsTarget::Mock),
        IntegrationType::AwsProxy => lambda(uri).map(WsTarget::LambdaProxy),
        IntegrationType::Aws if tollgate_model::v2::lambda_function_of(uri).is_some() => {
            lambda(uri).map(WsTarget::Lambda)
        }
        IntegrationType::Aws => ServiceTarget::compile(uri)
            .map(|target| WsTarget::Service {
                target,
                method: method(),
            })
            .map_err(|_| "integration URI names no AWS service call"),
        IntegrationType::HttpProxy => Ok(WsTarget::HttpProxy {
            uri: compile_uri(uri),
            method: method(),
        }),
        IntegrationType::Http => Ok(WsTarget::Http {
            uri: compile_uri(uri),
            method: method(),
        }),
    };
    compiled.unwrap_or_else(WsTarget::Unsupported)
}

fn integration(def: &Definition, id: &str) -> Option<WsIntegration> {
    let api = def.api.api_id.as_str();
    let i = def.integrations.get(id)?;
    let mut responses: Vec<(bool, &str, WsIntegrationResponse)> =
        children(&def.integration_responses, id)
            .filter_map(|(_, r)| {
                let key = r.integration_response_key.as_str();
                let pattern = match key {
                    DEFAULT => None,
                    k => {
                        let inner = k.strip_prefix('/')?.strip_suffix('/')?;
                        Some(regex::Regex::new(&format!("^(?:{inner})$")).ok()?)
                    }
                };
                let compiled = WsIntegrationResponse {
                    pattern,
                    template_selection: expression(api, r.template_selection_expression.as_deref()),
                    templates: templates(api, &r.response_templates),
                };
                Some((key == DEFAULT, key, compiled))
            })
            .collect();
    responses.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let selection = i
        .integration_response_selection_expression
        .as_deref()
        .unwrap_or("${integration.response.statuscode}");
    Some(WsIntegration {
        target: target(i),
        timeout: Duration::from_millis(i.timeout_in_millis.clamp(50, 29_000) as u64),
        has_credentials: i.credentials_arn.is_some(),
        credentials: i.credentials_arn.as_deref().map(Into::into),
        request_parameters: request_parameters(api, &i.request_parameters),
        template_selection: expression(api, i.template_selection_expression.as_deref()),
        request_templates: templates(api, &i.request_templates),
        passthrough: i
            .passthrough_behavior
            .unwrap_or(PassthroughBehavior::WhenNoMatch),
        response_selection: Expression::parse(selection)
            .unwrap_or_else(|_| Expression { pieces: Vec::new() }),
        responses: responses.into_iter().map(|(_, _, r)| r).collect(),
    })
}

/// Compiles a WebSocket API deployment's snapshot.
pub fn compile_websocket_api(def: &Definition) -> CompiledWebSocketApi {
    let api_id: Arc<str> = def.api.api_id.as_str().into();
    let route_selection = Expression::parse(&def.api.route_selection_expression)
        .unwrap_or_else(|_| Expression { pieces: Vec::new() });
    let mut out = CompiledWebSocketApi {
        api_id,
        route_selection,
        routes: HashMap::new(),
        connect: None,
        disconnect: None,
        default: None,
        connect_authorizer: None,
        connect_identity_sources: Vec::new(),
        api_key_from_authorizer: def.api.api_key_selection_expression
            == "$context.authorizer.usageIdentifierKey",
    };
    let mut compiled: HashMap<&str, Arc<WsIntegration>> = HashMap::new();
    let mut models = model_compiler(def);
    for r in def.routes.values() {
        let integration = r.integration_id().and_then(|id| {
            if let Some(i) = compiled.get(id) {
                return Some(i.clone());
            }
            let i = Arc::new(integration(def, id)?);
            compiled.insert(id, i.clone());
            Some(i)
        });
        let two_way = r.route_response_selection_expression.as_deref() == Some(DEFAULT)
            && children(&def.route_responses, &r.route_id)
                .any(|(_, rr)| rr.route_response_key == DEFAULT);
        let route = Arc::new(WsRoute {
            key: r.route_key.as_str().into(),
            integration,
            two_way,
            authorization_type: r.authorization_type,
            api_key_required: r.api_key_required,
            body_validation: body_validation(r, &mut models),
            parameter_validation: parameter_validation(r),
        });
        match r.route_key.as_str() {
            "$connect" => {
                let authorizer = r
                    .authorizer_id
                    .as_deref()
                    .filter(|_| r.authorization_type == AuthorizationType::Custom)
                    .and_then(|id| def.authorizers.get(id));
                out.connect_authorizer = authorizer.map(connect_authorizer);
                out.connect_identity_sources = authorizer
                    .map(|a| a.identity_source.clone())
                    .unwrap_or_default();
                out.connect = Some(route);
            }
            "$disconnect" => out.disconnect = Some(route),
            DEFAULT => out.default = Some(route),
            k => {
                out.routes.insert(k.into(), route);
            }
        }
    }
    out
}
