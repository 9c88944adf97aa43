//! Compiling an HTTP API deployment (API Gateway v2): its routes in v2's priority order and
//! its integrations with their URIs parsed, once per deployment.
//!
//! Priority (request-pipeline.md §8): a route whose path is all literal before one with
//! path variables before a greedy `{name+}` one; among those of one class, a literal
//! segment beats a variable at the first position they differ (and, for greedy routes, a
//! longer literal prefix wins); then a route for the method before `ANY`; `$default` last.
//! The routes are sorted by that order when compiled, so a request takes the first route
//! that matches.

use std::cmp::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tollgate_model::v2::{parse_http_route_key, Definition, RouteKey, DEFAULT};
use tollgate_model::{AuthorizationType, IntegrationType, PayloadFormatVersion};

use super::http_authorizer::{HttpAuthorizers, RouteAuthorizer};
use super::http_mapping::{compile_mappings, parse_value, reads_body, Mapping, Piece};
use crate::cors::CompiledCors;
use crate::integrations::aws::subtype::Subtype;
use crate::integrations::lambda_target::LambdaTarget;
use crate::uri::{compile_uri, UriPiece};
use crate::vpc_link::LinkRef;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Literal(Box<str>),
    Variable(Box<str>),
}

#[derive(Debug)]
pub struct HttpRoute {
    /// Position among the API's routes (`$default` last): indexes per-route state kept
    /// with a stage, such as its throttle buckets.
    pub index: usize,
    /// The route key, as events and `$context.routeKey` show it.
    pub key: Arc<str>,
    /// `None`: `ANY`.
    pub method: Option<http::Method>,
    pub segments: Vec<Segment>,
    /// The greedy last variable's name (`proxy` for `{proxy+}`).
    pub greedy: Option<Box<str>>,
    /// What follows the method in the Lambda permission's source ARN: the route path, or
    /// `$default`.
    pub arn_path: Box<str>,
    pub authorization_type: AuthorizationType,
    pub authorizer: RouteAuthorizer,
    /// Index into [`CompiledHttpApi::integrations`]; `None`: no target (500).
    pub integration: Option<usize>,
}

#[derive(Debug)]
pub enum HttpTarget {
    /// `HTTP_PROXY`: the URI as pieces (`{proxy}` path variables, `${stageVariables.x}`).
    HttpProxy {
        uri: Vec<UriPiece>,
        /// `None`: `ANY` (the client's method).
        method: Option<http::Method>,
        /// `connectionType: VPC_LINK`: the request path goes to the link's targets.
        vpc_link: Option<LinkRef>,
    },
    /// `AWS_PROXY` to a Lambda function.
    Lambda(LambdaTarget),
    /// `AWS_PROXY` with an `integrationSubtype`: a call to an AWS service.
    AwsService(FirstClass),
    /// What Tollgate cannot call (service integrations, VPC links, a bad URI): 500.
    Unsupported(&'static str),
}

/// A first-class integration: its subtype and its `requestParameters`, parsed.
#[derive(Debug)]
pub struct FirstClass {
    pub subtype: &'static Subtype,
    /// The `Region` parameter (else `--region`).
    pub region: Option<Vec<Piece>>,
    /// The subtype's parameters the integration sets.
    pub parameters: Vec<(&'static str, Vec<Piece>)>,
}

impl FirstClass {
    fn compile(i: &tollgate_model::v2::Integration, subtype: &str) -> Option<FirstClass> {
        let subtype = Subtype::named(subtype)?;
        let parameters = subtype
            .parameters
            .iter()
            .filter_map(|(name, _)| Some((*name, parse_value(i.request_parameters.get(*name)?))))
            .collect();
        Some(FirstClass {
            subtype,
            region: i.request_parameters.get("Region").map(|v| parse_value(v)),
            parameters,
        })
    }

    fn reads_body(&self) -> bool {
        self.parameters
            .iter()
            .map(|(_, p)| p)
            .chain(&self.region)
            .flatten()
            .any(|p| matches!(p, Piece::RequestBody(_)))
    }
}

#[derive(Debug)]
pub struct HttpIntegration {
    pub target: HttpTarget,
    pub payload: PayloadFormatVersion,
    pub timeout: Duration,
    /// The Lambda permission check is skipped for an integration with credentials.
    pub has_credentials: bool,
    /// The `credentialsArn` role, kept for `--aws-assume-role` (AWS service calls are then
    /// signed as it).
    pub credentials: Option<String>,
    /// `requestParameters` (HTTP_PROXY).
    pub request_mappings: Vec<Mapping>,
    /// `responseParameters` by backend status code.
    pub response_mappings: Vec<(u16, Vec<Mapping>)>,
    /// A request mapping reads `$request.body`: the body is read whole before the call.
    pub request_reads_body: bool,
}

impl HttpIntegration {
    /// The response mappings for a backend status.
    pub fn response_mappings(&self, status: u16) -> &[Mapping] {
        self.response_mappings
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(&[], |(_, m)| m.as_slice())
    }

    /// Whether a backend status has response mappings to apply.
    pub fn maps(&self, status: u16) -> bool {
        !self.response_mappings(status).is_empty()
    }
}

#[derive(Debug)]
pub struct CompiledHttpApi {
    pub api_id: Arc<str>,
    pub deployment_id: Arc<str>,
    /// Every route but `$default`, in priority order.
    routes: Vec<HttpRoute>,
    default_route: Option<HttpRoute>,
    pub integrations: Vec<HttpIntegration>,
    /// `corsConfiguration`, when set.
    pub cors: Option<CompiledCors>,
    pub authorizers: HttpAuthorizers,
}

/// A request's route and its path parameters (decoded).
pub struct RouteMatch<'a> {
    pub route: &'a HttpRoute,
    pub params: Vec<(&'a str, String)>,
}

fn method_of(m: &str) -> Option<http::Method> {
    (m != "ANY").then(|| m.parse().ok()).flatten()
}

fn compile_integration(i: &tollgate_model::v2::Integration) -> HttpIntegration {
    let uri = i.integration_uri.as_deref().unwrap_or_default();
    let target = match i.integration_type {
        IntegrationType::HttpProxy
            if i.connection_type == tollgate_model::ConnectionType::VpcLink =>
        {
            // The URI names a listener or a Cloud Map service: the link decides where.
            HttpTarget::HttpProxy {
                uri: vec![UriPiece::Literal("http://vpc-link".into())],
                method: i.integration_method.as_deref().and_then(method_of),
                vpc_link: Some(LinkRef::parse(
                    i.connection_id.as_deref().unwrap_or_default(),
                )),
            }
        }
        _ if i.connection_type == tollgate_model::ConnectionType::VpcLink => {
            HttpTarget::Unsupported("VPC link integrations are HTTP_PROXY")
        }
        IntegrationType::HttpProxy => HttpTarget::HttpProxy {
            uri: compile_uri(uri),
            method: i.integration_method.as_deref().and_then(method_of),
            vpc_link: None,
        },
        IntegrationType::AwsProxy if i.integration_subtype.is_some() => {
            let subtype = i.integration_subtype.as_deref().unwrap_or_default();
            FirstClass::compile(i, subtype).map_or(
                HttpTarget::Unsupported("integration subtype not supported"),
                HttpTarget::AwsService,
            )
        }
        IntegrationType::AwsProxy => {
            // The gateway's Lambda target reads the invocation-ARN form.
            let invocation;
            let uri = if uri.starts_with("arn:aws:lambda:") {
                invocation = format!(
                    "arn:aws:apigateway:local:lambda:path/2015-03-31/functions/{uri}/invocations"
                );
                invocation.as_str()
            } else {
                uri
            };
            match LambdaTarget::compile(uri) {
                Ok(t) => HttpTarget::Lambda(t),
                Err(_) => HttpTarget::Unsupported("integration URI names no Lambda function"),
            }
        }
        _ => HttpTarget::Unsupported("integration type not supported for HTTP APIs"),
    };
    let request_mappings = compile_mappings(&i.request_parameters);
    let request_reads_body = reads_body(&request_mappings)
        || matches!(&target, HttpTarget::AwsService(f) if f.reads_body());
    HttpIntegration {
        target,
        payload: i.payload_format_version,
        timeout: Duration::from_millis(i.timeout_in_millis.clamp(50, 30_000) as u64),
        has_credentials: i.credentials_arn.is_some(),
        credentials: i.credentials_arn.clone(),
        request_reads_body,
        request_mappings,
        response_mappings: i
            .response_parameters
            .iter()
            .filter_map(|(status, m)| Some((status.parse().ok()?, compile_mappings(m))))
            .collect(),
    }
}

/// Class of a route: 0 all literal, 1 with variables, 2 greedy.
fn class(r: &HttpRoute) -> u8 {
    if r.greedy.is_some() {
        2
    } else if r.segments.iter().any(|s| matches!(s, Segment::Variable(_))) {
        1
    } else {
        0
    }
}

fn priority(a: &HttpRoute, b: &HttpRoute) -> Ordering {
    let literal_first = || {
        for (x, y) in a.segments.iter().zip(&b.segments) {
            match (x, y) {
                (Segment::Literal(_), Segment::Variable(_)) => return Ordering::Less,
                (Segment::Variable(_), Segment::Literal(_)) => return Ordering::Greater,
                _ => {}
            }
        }
        // Greedy routes: the longer prefix is the more specific.
        b.segments.len().cmp(&a.segments.len())
    };
    class(a)
        .cmp(&class(b))
        .then_with(literal_first)
        .then_with(|| a.method.is_none().cmp(&b.method.is_none()))
}

pub fn compile_http_api(def: &Definition, deployment_id: &str) -> CompiledHttpApi {
    let mut ids: Vec<&str> = Vec::new();
    let mut integrations = Vec::new();
    for (id, i) in &def.integrations {
        ids.push(id);
        integrations.push(compile_integration(i));
    }
    let authorizers = HttpAuthorizers::compile(def);
    let mut routes = Vec::new();
    let mut default_route = None;
    for r in def.routes.values() {
        let Some(key) = parse_http_route_key(&r.route_key) else {
            continue;
        };
        let integration = r
            .integration_id()
            .and_then(|t| ids.iter().position(|id| *id == t));
        let mut route = HttpRoute {
            index: 0,
            key: r.route_key.as_str().into(),
            method: None,
            segments: vec![],
            greedy: None,
            arn_path: DEFAULT.into(),
            authorization_type: r.authorization_type,
            authorizer: authorizers.for_route(r),
            integration,
        };
        match key {
            RouteKey::Default => {
                default_route = Some(route);
                continue;
            }
            RouteKey::Path { method, path } => {
                route.method = method_of(method);
                route.arn_path = path.into();
                for seg in path.split('/').filter(|s| !s.is_empty()) {
                    match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                        Some(name) => match name.strip_suffix('+') {
                            Some(g) => route.greedy = Some(g.into()),
                            None => route.segments.push(Segment::Variable(name.into())),
                        },
                        None => route.segments.push(Segment::Literal(seg.into())),
                    }
                }
            }
        }
        routes.push(route);
    }
    routes.sort_by(priority);
    for (i, r) in routes.iter_mut().chain(default_route.as_mut()).enumerate() {
        r.index = i;
    }
    CompiledHttpApi {
        api_id: def.api.api_id.as_str().into(),
        deployment_id: deployment_id.into(),
        routes,
        default_route,
        integrations,
        cors: def
            .api
            .cors_configuration
            .as_ref()
            .map(CompiledCors::compile),
        authorizers,
    }
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

impl HttpRoute {
    fn matches(&self, method: &http::Method, segs: &[&str]) -> Option<Vec<(&str, String)>> {
        if self.method.as_ref().is_some_and(|m| m != method) {
            return None;
        }
        let fixed = self.segments.len();
        let fits = match self.greedy {
            Some(_) => segs.len() > fixed,
            None => segs.len() == fixed,
        };
        if !fits {
            return None;
        }
        let mut params = Vec::new();
        for (seg, got) in self.segments.iter().zip(segs) {
            match seg {
                Segment::Literal(l) if **l == **got => {}
                Segment::Literal(_) => return None,
                Segment::Variable(_) if got.is_empty() => return None,
                Segment::Variable(name) => params.push((&**name, decode(got))),
            }
        }
        if let Some(name) = &self.greedy {
            params.push((&**name, decode(&segs[fixed..].join("/"))));
        }
        Some(params)
    }
}

impl CompiledHttpApi {
    /// Every route, `$default` last, in [`HttpRoute::index`] order.
    pub fn routes(&self) -> impl Iterator<Item = &HttpRoute> {
        self.routes.iter().chain(self.default_route.as_ref())
    }

    /// The route for a request (path without the stage), by v2's priorities.
    pub fn route(&self, method: &http::Method, path: &str) -> Option<RouteMatch<'_>> {
        let trimmed = path.strip_prefix('/').unwrap_or(path);
        let segs: Vec<&str> = if trimmed.is_empty() {
            vec![]
        } else {
            trimmed.split('/').collect()
        };
        for r in &self.routes {
            if let Some(params) = r.matches(method, &segs) {
                return Some(RouteMatch { route: r, params });
            }
        }
        self.default_route.as_ref().map(|route| RouteMatch {
            route,
            params: vec![],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use tollgate_model::v2;

    fn api(keys: &[&str]) -> CompiledHttpApi {
        let mut def = v2::Definition::new(v2::Api {
            api_id: "a".into(),
            name: "a".into(),
            protocol_type: tollgate_model::ProtocolType::Http,
            route_selection_expression: v2::HTTP_ROUTE_SELECTION.into(),
            api_key_selection_expression: v2::API_KEY_SELECTION.into(),
            cors_configuration: None,
            created_date: String::new(),
            description: None,
            version: None,
            disable_execute_api_endpoint: false,
            ip_address_type: tollgate_model::IpAddressType::Ipv4,
            tags: BTreeMap::new(),
        });
        for (n, k) in keys.iter().enumerate() {
            def.routes.insert(
                format!("r{n}"),
                v2::Route {
                    route_id: format!("r{n}"),
                    route_key: k.to_string(),
                    api_gateway_managed: false,
                    api_key_required: false,
                    authorization_type: AuthorizationType::None,
                    authorizer_id: None,
                    authorization_scopes: None,
                    operation_name: None,
                    request_models: BTreeMap::new(),
                    request_parameters: BTreeMap::new(),
                    model_selection_expression: None,
                    route_response_selection_expression: None,
                    target: None,
                },
            );
        }
        compile_http_api(&def, "d")
    }

    fn key(a: &CompiledHttpApi, m: &str, p: &str) -> Option<String> {
        a.route(&m.parse().unwrap(), p)
            .map(|r| r.route.key.to_string())
    }

    #[test]
    fn aws_documented_routing_examples() {
        let a = api(&[
            "ANY /{proxy+}",
            "GET /pets/{proxy+}",
            "GET /pets/dog/{id}",
            "GET /pets/dog/1",
            "$default",
        ]);
        assert_eq!(key(&a, "GET", "/pets/dog/1").unwrap(), "GET /pets/dog/1");
        assert_eq!(key(&a, "GET", "/pets/dog/2").unwrap(), "GET /pets/dog/{id}");
        assert_eq!(key(&a, "GET", "/pets/cat/1").unwrap(), "GET /pets/{proxy+}");
        assert_eq!(key(&a, "POST", "/test/5").unwrap(), "ANY /{proxy+}");
        assert_eq!(key(&a, "GET", "/").unwrap(), "$default");
    }

    #[test]
    fn method_before_any_and_parameters() {
        let a = api(&[
            "ANY /pets/{id}",
            "GET /pets/{id}",
            "GET /a/{x}/c",
            "GET /{y}/b/c",
        ]);
        assert_eq!(key(&a, "GET", "/pets/7").unwrap(), "GET /pets/{id}");
        assert_eq!(key(&a, "DELETE", "/pets/7").unwrap(), "ANY /pets/{id}");
        assert_eq!(key(&a, "GET", "/a/b/c").unwrap(), "GET /a/{x}/c");
        let m = a.route(&http::Method::GET, "/pets/a%20b").unwrap();
        assert_eq!(m.params, vec![("id", "a b".to_string())]);
        assert!(key(&a, "GET", "/pets").is_none());
        assert!(
            key(&a, "GET", "/pets/").is_none(),
            "a variable is never empty"
        );
        let g = api(&["GET /files/{path+}"]);
        let m = g.route(&http::Method::GET, "/files/a/b.txt").unwrap();
        assert_eq!(m.params, vec![("path", "a/b.txt".to_string())]);
        assert!(key(&g, "GET", "/files").is_none());
    }
}
