//! Integrations and their integration responses, compiled: the kind, the backend URI,
//! parameter mappings, templates, selection patterns and content handling.

use std::time::Duration;

use http::header::HeaderName;
use regex::Regex;
use tollgate_model::{ContentHandlingStrategy, Integration, IntegrationType, PassthroughBehavior};

use super::error::CompileError;
use super::expression::Source;
use super::template::{templates, MappingTemplate};
use crate::integrations::aws::target::ServiceTarget;
use crate::integrations::lambda_target::LambdaTarget;
use crate::response_case::ResponseSpellings;
use crate::uri::{compile_uri, UriPiece};
use crate::vpc_link::LinkRef;
use tollgate_model::authorizer::function_of_invocation_uri;

#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Header(HeaderName),
    Query(String),
    Path(String),
}

#[derive(Debug)]
pub struct CompiledIntegrationResponse {
    pub status: u16,
    /// `None` for the default response (empty or absent selectionPattern).
    pub pattern: Option<Regex>,
    pub response_parameters: Vec<(HeaderName, Source)>,
    /// The mapped names as the mappings spell them (`method.response.header.X-Id`), which
    /// AWS's responses keep on HTTP/1.1.
    pub spellings: Option<ResponseSpellings>,
    /// (content type, template), sorted by content type.
    pub templates: Vec<(String, MappingTemplate)>,
    /// How the backend's payload is converted for the client (`None`: by the Accept).
    pub content_handling: Option<ContentHandlingStrategy>,
}

#[derive(Debug)]
pub struct CompiledIntegration {
    pub kind: IntegrationType,
    /// The backend verb; `None` means "the client's method" (`ANY`).
    pub http_method: Option<http::Method>,
    pub uri: Vec<UriPiece>,
    /// For Lambda integrations: the function the URI names.
    pub lambda_function: Option<LambdaTarget>,
    /// For `AWS` integrations to another service: the call the URI names.
    pub service: Option<ServiceTarget>,
    /// `connectionType: VPC_LINK`: the link whose targets take the requests.
    pub vpc_link: Option<LinkRef>,
    /// The integration has `credentials` (a role API Gateway assumes): the function's
    /// resource policy is then not consulted.
    pub has_credentials: bool,
    /// The `credentials` role ARN, kept for `--aws-assume-role` (AWS service calls are
    /// then signed as it).
    pub credentials: Option<String>,
    /// `tlsConfig.insecureSkipVerification`: an https backend's certificate is not checked.
    pub insecure_skip_verification: bool,
    pub request_parameters: Vec<(Target, Source)>,
    /// (content type, template), sorted by content type.
    pub request_templates: Vec<(String, MappingTemplate)>,
    pub passthrough: PassthroughBehavior,
    /// How the client's payload is converted for the backend (`None`: left as it is).
    pub content_handling: Option<ContentHandlingStrategy>,
    pub timeout: Duration,
    pub responses: Vec<CompiledIntegrationResponse>,
}

impl CompiledIntegration {
    /// Whether calling it reads the request's parameters (an HTTP_PROXY integration without
    /// parameter mappings passes the query string through untouched).
    pub fn reads_parameters(&self) -> bool {
        self.kind != IntegrationType::HttpProxy || !self.request_parameters.is_empty()
    }
}

/// Integration request headers no mapping may set.
const ILLEGAL_MAPPED_HEADERS: [&str; 2] = ["content-length", "transfer-encoding"];
/// And those toward AWS and AWS_PROXY integrations.
const ILLEGAL_MAPPED_AWS_HEADERS: [&str; 5] = [
    "authorization",
    "connection",
    "expect",
    "proxy-authenticate",
    "te",
];

pub fn compile_integration(
    i: &Integration,
    _resource_id: &str,
) -> Result<CompiledIntegration, CompileError> {
    let kind = i.integration_type;
    let http_method = match i.http_method.as_deref() {
        None | Some("") | Some("ANY") => None,
        Some(m) => Some(
            http::Method::from_bytes(m.as_bytes())
                .map_err(|_| CompileError::IntegrationMethod(m.into()))?,
        ),
    };
    let mut request_parameters = Vec::new();
    for (target, source) in &i.request_parameters {
        let src = Source::parse(source)
            .filter(|s| !s.reads_integration_response())
            .ok_or_else(|| CompileError::MappingExpression(source.clone()))?;
        let t = if let Some(n) = target.strip_prefix("integration.request.header.") {
            Target::Header(
                HeaderName::from_bytes(n.as_bytes())
                    .map_err(|_| CompileError::HeaderName(n.into()))?,
            )
        } else if let Some(n) = target.strip_prefix("integration.request.querystring.") {
            Target::Query(n.to_string())
        } else if let Some(n) = target.strip_prefix("integration.request.path.") {
            Target::Path(n.to_string())
        } else {
            return Err(CompileError::MappingTarget(target.clone()));
        };
        if let Target::Header(h) = &t {
            // AWS refuses these mappings at request time with a 500 (request-pipeline.md
            // §5.3), more of them toward AWS services, which sign their own requests.
            let aws = matches!(kind, IntegrationType::Aws | IntegrationType::AwsProxy);
            if ILLEGAL_MAPPED_HEADERS.contains(&h.as_str())
                || (aws && ILLEGAL_MAPPED_AWS_HEADERS.contains(&h.as_str()))
            {
                return Err(CompileError::IllegalHeaderMapping(h.as_str().into()));
            }
        }
        request_parameters.push((t, src));
    }
    if kind == IntegrationType::AwsProxy {
        if let Some(m) = i.http_method.as_deref().filter(|m| *m != "POST") {
            return Err(CompileError::LambdaProxyMethod(m.into()));
        }
    }
    let uri = i.uri.as_deref().unwrap_or_default();
    let (lambda_function, service) = match kind {
        IntegrationType::Aws if function_of_invocation_uri(uri).is_none() => {
            (None, Some(ServiceTarget::compile(uri)?))
        }
        IntegrationType::AwsProxy | IntegrationType::Aws => {
            (Some(LambdaTarget::compile(uri)?), None)
        }
        _ => (None, None),
    };
    let mut responses = Vec::new();
    for ir in i.integration_responses.values() {
        let status: u16 = ir
            .status_code
            .parse()
            .map_err(|_| CompileError::Status(ir.status_code.clone()))?;
        let pattern = match ir.selection_pattern.as_deref() {
            None | Some("") => None,
            // Java's String.matches: the whole value must match.
            Some(p) => Some(Regex::new(&format!("^(?:{p})$")).map_err(|source| {
                CompileError::SelectionPattern {
                    pattern: p.into(),
                    source,
                }
            })?),
        };
        let mut response_parameters = Vec::new();
        let mut names = Vec::new();
        for (target, source) in ir.parameters() {
            let Some(name) = target.strip_prefix("method.response.header.") else {
                continue;
            };
            names.push(name);
            let h = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| CompileError::HeaderName(name.into()))?;
            let src = Source::parse(source)
                .filter(|s| !s.reads_method_request())
                .ok_or_else(|| CompileError::MappingExpression(source.clone()))?;
            response_parameters.push((h, src));
        }
        responses.push(CompiledIntegrationResponse {
            status,
            pattern,
            response_parameters,
            spellings: ResponseSpellings::of(names),
            templates: templates(ir.templates())?,
            content_handling: ir.content_handling,
        });
    }
    Ok(CompiledIntegration {
        kind,
        http_method,
        uri: compile_uri(i.uri.as_deref().unwrap_or_default()),
        lambda_function,
        service,
        vpc_link: (i.connection_type == Some(tollgate_model::ConnectionType::VpcLink))
            .then(|| LinkRef::parse(i.connection_id.as_deref().unwrap_or_default())),
        has_credentials: i.credentials.as_deref().is_some_and(|c| !c.is_empty()),
        credentials: i.credentials.clone().filter(|c| !c.is_empty()),
        insecure_skip_verification: i
            .tls_config
            .as_ref()
            .is_some_and(|t| t.insecure_skip_verification),
        request_parameters,
        request_templates: templates(&i.request_templates)?,
        passthrough: i.passthrough_behavior,
        content_handling: i.content_handling,
        timeout: Duration::from_millis(i.timeout_in_millis.clamp(50, 29_000) as u64),
        responses,
    })
}
