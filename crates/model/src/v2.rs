//! API Gateway v2 (HTTP APIs): Api, Route, Integration, Authorizer, Stage, Deployment.
//!
//! Stored shape = AWS's v2 wire shape (camelCase, ISO-8601 timestamps as strings), like
//! the v1 types beside them. The parts that change only through a deployment (the API's
//! settings, routes, integrations, authorizers) form a [`Definition`]; a [`Deployment`]
//! holds an immutable snapshot of it, and the data plane serves the snapshot a [`Stage`]
//! points to.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::stage::AccessLogSettings;
use crate::vocabulary::{
    AuthorizationType, ConnectionType, ContentHandlingStrategy, DeploymentStatus, IntegrationType,
    IpAddressType, LoggingLevel, PassthroughBehavior, PayloadFormatVersion, ProtocolType,
    V2AuthorizerType,
};

fn is_false(b: &bool) -> bool {
    !*b
}

/// `$default`: the route that catches what no other route matches, and the stage served
/// at the API's root.
pub const DEFAULT: &str = "$default";

/// The only route selection expression of an HTTP API.
pub const HTTP_ROUTE_SELECTION: &str = "$request.method $request.path";

/// The default (and, for HTTP APIs, unused) API key selection expression.
pub const API_KEY_SELECTION: &str = "$request.header.x-api-key";

/// `corsConfiguration`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cors {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_credentials: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_headers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_methods: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_origins: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expose_headers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
}

/// A v2 Api (GetApi's shape without `apiEndpoint`, which depends on where Tollgate
/// listens and is added on the wire).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Api {
    pub api_id: String,
    pub name: String,
    pub protocol_type: ProtocolType,
    pub route_selection_expression: String,
    pub api_key_selection_expression: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cors_configuration: Option<Cors>,
    pub created_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub disable_execute_api_endpoint: bool,
    pub ip_address_type: IpAddressType,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// `requestParameters` values of a route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParameterConstraints {
    #[serde(default)]
    pub required: bool,
}

/// A route: a route key and what serves it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    pub route_id: String,
    pub route_key: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub api_gateway_managed: bool,
    pub api_key_required: bool,
    pub authorization_type: AuthorizationType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_scopes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_name: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_models: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_parameters: BTreeMap<String, ParameterConstraints>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_selection_expression: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_response_selection_expression: Option<String>,
    /// `integrations/{integrationId}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

impl Route {
    /// The integration id `target` names.
    pub fn integration_id(&self) -> Option<&str> {
        self.target.as_deref()?.strip_prefix("integrations/")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name_to_verify: Option<String>,
}

/// An integration of an HTTP API: `AWS_PROXY` (Lambda) or `HTTP_PROXY`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    pub integration_id: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub api_gateway_managed: bool,
    pub connection_type: ConnectionType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integration_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integration_subtype: Option<String>,
    pub integration_type: IntegrationType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integration_uri: Option<String>,
    pub payload_format_version: PayloadFormatVersion,
    /// `append:header.x` → value, as sent.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_parameters: BTreeMap<String, String>,
    /// Status code → (mapping key → value).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub response_parameters: BTreeMap<String, BTreeMap<String, String>>,
    pub timeout_in_millis: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
    // WebSocket APIs only (absent on HTTP APIs' rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_handling_strategy: Option<ContentHandlingStrategy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integration_response_selection_expression: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passthrough_behavior: Option<PassthroughBehavior>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_templates: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_selection_expression: Option<String>,
}

/// A WebSocket route's response (`$default` makes the route two-way).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteResponse {
    pub route_response_id: String,
    pub route_response_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_selection_expression: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub response_models: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub response_parameters: BTreeMap<String, ParameterConstraints>,
}

/// A WebSocket integration's response: selected by its key (`$default` or a `/regex/` of
/// the integration's status), it renders what the client is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationResponse {
    pub integration_response_id: String,
    pub integration_response_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_handling_strategy: Option<ContentHandlingStrategy>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub response_parameters: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub response_templates: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_selection_expression: Option<String>,
}

/// A WebSocket API's model (JSON Schema draft 4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Model {
    pub model_id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub schema: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JwtConfiguration {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audience: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

/// An authorizer: JWT, or a Lambda REQUEST authorizer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Authorizer {
    pub authorizer_id: String,
    pub name: String,
    pub authorizer_type: V2AuthorizerType,
    #[serde(default)]
    pub identity_source: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_credentials_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_payload_format_version: Option<PayloadFormatVersion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_result_ttl_in_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_simple_responses: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_validation_expression: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt_configuration: Option<JwtConfiguration>,
}

/// `defaultRouteSettings` and the values of `routeSettings`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_trace_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detailed_metrics_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging_level: Option<LoggingLevel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throttling_burst_limit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throttling_rate_limit: Option<f64>,
}

impl RouteSettings {
    /// Members set in `over` replace those here (UpdateStage's merge).
    pub fn merge(&mut self, over: &RouteSettings) {
        let RouteSettings {
            data_trace_enabled,
            detailed_metrics_enabled,
            logging_level,
            throttling_burst_limit,
            throttling_rate_limit,
        } = over.clone();
        self.data_trace_enabled = data_trace_enabled.or(self.data_trace_enabled);
        self.detailed_metrics_enabled = detailed_metrics_enabled.or(self.detailed_metrics_enabled);
        self.logging_level = logging_level.or(self.logging_level);
        self.throttling_burst_limit = throttling_burst_limit.or(self.throttling_burst_limit);
        self.throttling_rate_limit = throttling_rate_limit.or(self.throttling_rate_limit);
    }
}

/// A stage: a name (or `$default`) pointing at a deployment, with its live settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    pub stage_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_log_settings: Option<AccessLogSettings>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub api_gateway_managed: bool,
    pub auto_deploy: bool,
    pub created_date: String,
    pub default_route_settings: RouteSettings,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_deployment_status_message: Option<String>,
    pub last_updated_date: String,
    #[serde(default)]
    pub route_settings: BTreeMap<String, RouteSettings>,
    #[serde(default)]
    pub stage_variables: BTreeMap<String, String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// What a deployment freezes: the API's settings and its routes, integrations and
/// authorizers, each keyed by id; for WebSocket APIs also route responses (keyed
/// `{routeId}/{routeResponseId}`), integration responses (`{integrationId}/{id}`) and
/// models. The WebSocket maps are left out when empty, so an HTTP API's snapshot is the
/// same JSON it always was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Definition {
    pub api: Api,
    #[serde(default)]
    pub routes: BTreeMap<String, Route>,
    #[serde(default)]
    pub integrations: BTreeMap<String, Integration>,
    #[serde(default)]
    pub authorizers: BTreeMap<String, Authorizer>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub route_responses: BTreeMap<String, RouteResponse>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub integration_responses: BTreeMap<String, IntegrationResponse>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub models: BTreeMap<String, Model>,
}

/// The entries of a map keyed `{parent}/{id}` that belong to `parent`.
pub fn children<'a, T>(
    map: &'a BTreeMap<String, T>,
    parent: &'a str,
) -> impl Iterator<Item = (&'a str, &'a T)> + 'a {
    map.iter().filter_map(move |(k, v)| {
        let (p, id) = k.split_once('/')?;
        (p == parent).then_some((id, v))
    })
}

impl Definition {
    pub fn new(api: Api) -> Self {
        Definition {
            api,
            routes: BTreeMap::new(),
            integrations: BTreeMap::new(),
            authorizers: BTreeMap::new(),
            route_responses: BTreeMap::new(),
            integration_responses: BTreeMap::new(),
            models: BTreeMap::new(),
        }
    }

    pub fn is_websocket(&self) -> bool {
        self.api.protocol_type == ProtocolType::Websocket
    }

    /// Why this definition cannot be deployed as a WebSocket API: a route with no
    /// integration has nothing to run a message through (control-plane-v2.md §3.7).
    /// HTTP APIs may deploy such routes.
    pub fn undeployable_route(&self) -> Option<&str> {
        if !self.is_websocket() {
            return None;
        }
        self.routes
            .values()
            .find(|r| r.target.is_none())
            .map(|r| r.route_key.as_str())
    }
}

/// A deployment. `snapshot` is never shown on the wire and never changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    pub deployment_id: String,
    pub auto_deployed: bool,
    pub created_date: String,
    pub deployment_status: DeploymentStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment_status_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub snapshot: Arc<Definition>,
}

/// The function ARN an `AWS_PROXY` integration URI names: a Lambda function ARN as it is
/// (HTTP APIs' usual form), or the function ARN inside an invocation ARN
/// (`arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations`).
/// Not checked further: it may hold `${stageVariables.x}`.
pub fn lambda_function_of(uri: &str) -> Option<&str> {
    if uri.starts_with("arn:aws:lambda:") {
        return Some(uri);
    }
    let rest = uri.strip_prefix("arn:aws:apigateway:")?;
    let (_region, rest) = rest.split_once(':')?;
    let f = rest
        .strip_prefix("lambda:path/2015-03-31/functions/")?
        .strip_suffix("/invocations")?;
    f.starts_with("arn:aws:lambda:").then_some(f)
}

/// An HTTP API route key, parsed: `$default` or `{METHOD} {path}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteKey<'a> {
    Default,
    Path { method: &'a str, path: &'a str },
}

/// The methods an HTTP API route key may name.
pub const ROUTE_METHODS: [&str; 8] = [
    "ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS",
];

/// Parses an HTTP API route key as API Gateway accepts it: one space between a known
/// method and a path that starts with `/`, whose segments are literal or `{name}`, with a
/// greedy `{name+}` only as the last one.
pub fn parse_http_route_key(key: &str) -> Option<RouteKey<'_>> {
    if key == DEFAULT {
        return Some(RouteKey::Default);
    }
    let (method, path) = key.split_once(' ')?;
    if !ROUTE_METHODS.contains(&method) || !path.starts_with('/') {
        return None;
    }
    if path == "/" {
        return Some(RouteKey::Path { method, path });
    }
    let segments: Vec<&str> = path[1..].split('/').collect();
    for (i, seg) in segments.iter().enumerate() {
        if seg.is_empty() || seg.contains(' ') {
            return None;
        }
        let variable = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}'));
        match variable {
            Some(name) => {
                let (name, greedy) = match name.strip_suffix('+') {
                    Some(n) => (n, true),
                    None => (name, false),
                };
                let valid = !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if !valid || (greedy && i + 1 != segments.len()) {
                    return None;
                }
            }
            None if seg.contains(['{', '}']) => return None,
            None => {}
        }
    }
    Some(RouteKey::Path { method, path })
}

/// Where keys may come from: `https://` with a host, or `http://` on a loopback address
/// (identity providers on this machine only), for issuers and the `jwks_uri` their
/// discovery documents name alike.
pub fn key_url_allowed(url: &str) -> bool {
    let (https, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        (None, None) => return false,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    !host.is_empty()
        && (https
            || host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_urls_are_https_or_loopback_http() {
        assert!(key_url_allowed("https://idp.example.com/x"));
        assert!(key_url_allowed("http://127.0.0.1:8080"));
        assert!(key_url_allowed("http://localhost:9/realms/a"));
        assert!(key_url_allowed("http://[::1]:9"));
        assert!(!key_url_allowed("http://idp.example.com"));
        assert!(!key_url_allowed("http://10.0.0.1"));
        assert!(!key_url_allowed("ftp://localhost"));
        assert!(!key_url_allowed("https://"));
        assert!(!key_url_allowed("https:///path"));
        assert!(!key_url_allowed("issuer.example"));
    }

    #[test]
    fn route_keys_as_api_gateway_accepts_them() {
        assert_eq!(parse_http_route_key("$default"), Some(RouteKey::Default));
        for ok in [
            "GET /pets/{id}",
            "ANY /{proxy+}",
            "POST /",
            "GET /pets/{id}/toys/{toy+}",
            "DELETE /a-b/c_d",
        ] {
            assert!(parse_http_route_key(ok).is_some(), "{ok}");
        }
        for bad in [
            "GET",
            "get /pets",
            "GET  /pets",
            "GET pets",
            "FETCH /pets",
            "GET /{proxy+}/x",
            "GET /pets//x",
            "GET /pets/{}",
            "GET /pe{ts",
            "$connect",
        ] {
            assert!(parse_http_route_key(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn lambda_uris_in_both_forms() {
        let f = "arn:aws:lambda:us-east-1:000000000000:function:f";
        assert_eq!(lambda_function_of(f), Some(f));
        let inv = format!(
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{f}/invocations"
        );
        assert_eq!(lambda_function_of(&inv), Some(f));
        assert_eq!(lambda_function_of("http://example.com"), None);
        assert_eq!(
            lambda_function_of("arn:aws:apigateway:us-east-1:s3:path/b"),
            None
        );
    }

    #[test]
    fn route_settings_merge_keeps_unset_members() {
        let mut s = RouteSettings {
            throttling_burst_limit: Some(5),
            throttling_rate_limit: Some(1.0),
            ..RouteSettings::default()
        };
        s.merge(&RouteSettings {
            throttling_rate_limit: Some(2.0),
            ..RouteSettings::default()
        });
        assert_eq!(s.throttling_burst_limit, Some(5));
        assert_eq!(s.throttling_rate_limit, Some(2.0));
    }
}
