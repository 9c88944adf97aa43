//! The members of CreateIntegration and UpdateIntegration (the same set; an update applies
//! only what it names) and the checks an HTTP API integration must pass as a whole.

use std::collections::BTreeMap;

use serde::Deserialize;
use tollgate_model::v2::{lambda_function_of, Integration, TlsConfig};
use tollgate_model::{
    ConnectionType, ContentHandlingStrategy, IntegrationType, PassthroughBehavior,
    PayloadFormatVersion,
};

use crate::apigateway::integrations::aws_uri_violation;
use crate::core::error::{ApiError, ApiResult};

#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationInput {
    pub connection_id: Option<String>,
    pub connection_type: Option<String>,
    pub credentials_arn: Option<String>,
    pub description: Option<String>,
    pub integration_method: Option<String>,
    pub integration_subtype: Option<String>,
    pub integration_type: Option<String>,
    pub integration_uri: Option<String>,
    pub payload_format_version: Option<String>,
    pub request_parameters: Option<BTreeMap<String, String>>,
    pub response_parameters: Option<BTreeMap<String, BTreeMap<String, String>>>,
    pub timeout_in_millis: Option<i64>,
    pub tls_config: Option<TlsConfig>,
    // WebSocket-only members (an HTTP API refuses them).
    pub content_handling_strategy: Option<String>,
    pub passthrough_behavior: Option<String>,
    pub request_templates: Option<BTreeMap<String, String>>,
    pub template_selection_expression: Option<String>,
}

const HTTP_INTEGRATION_TYPES: &str =
    "Integration type must be one of [AWS_PROXY, HTTP_PROXY] for HTTP APIs";

fn integration_type(s: &str, websocket: bool) -> ApiResult<IntegrationType> {
    match s.parse::<IntegrationType>() {
        Ok(t @ (IntegrationType::AwsProxy | IntegrationType::HttpProxy)) => Ok(t),
        Ok(t) if websocket => Ok(t),
        Ok(_) => Err(ApiError::bad_request(HTTP_INTEGRATION_TYPES)),
        Err(_) => Err(ApiError::bad_request(format!(
            "Invalid integration type specified: {s}. Must be one of [AWS, AWS_PROXY, HTTP, HTTP_PROXY, MOCK]"
        ))),
    }
}

fn payload_format_version(s: &str) -> ApiResult<PayloadFormatVersion> {
    s.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "Invalid payload format version specified: {s}. Must be one of [1.0, 2.0]"
        ))
    })
}

impl IntegrationInput {
    /// A new integration from a CreateIntegration body (or a quick create's target), for
    /// an HTTP API or a WebSocket API.
    pub fn create(self, id: String, websocket: bool) -> ApiResult<Integration> {
        let t = self
            .integration_type
            .as_deref()
            .ok_or_else(|| ApiError::bad_request("IntegrationType is required"))?;
        let t = integration_type(t, websocket)?;
        let lambda = t == IntegrationType::AwsProxy && self.integration_subtype.is_none();
        let payload = match self.payload_format_version.as_deref() {
            Some(v) => payload_format_version(v)?,
            None if lambda && !websocket => {
                return Err(ApiError::bad_request(
                    "PayloadFormatVersion is required for AWS_PROXY integrations of HTTP APIs",
                ))
            }
            None => PayloadFormatVersion::V1,
        };
        let mut i = Integration {
            integration_id: id,
            api_gateway_managed: false,
            connection_type: ConnectionType::Internet,
            connection_id: None,
            credentials_arn: None,
            description: None,
            // A Lambda proxy is always called with POST, and AWS reports it so.
            integration_method: lambda.then(|| "POST".to_string()),
            integration_subtype: None,
            integration_type: t,
            integration_uri: None,
            payload_format_version: payload,
            request_parameters: BTreeMap::new(),
            response_parameters: BTreeMap::new(),
            timeout_in_millis: if websocket { 29_000 } else { 30_000 },
            tls_config: None,
            content_handling_strategy: None,
            integration_response_selection_expression: None,
            passthrough_behavior: None,
            request_templates: BTreeMap::new(),
            template_selection_expression: None,
        };
        if websocket {
            // What AWS returns for a new WebSocket integration (control-plane-v2.md §3.3).
            i.passthrough_behavior = Some(PassthroughBehavior::WhenNoMatch);
            if !matches!(t, IntegrationType::AwsProxy | IntegrationType::HttpProxy) {
                i.integration_response_selection_expression =
                    Some("${integration.response.statuscode}".into());
            }
        }
        self.apply(&mut i, websocket)?;
        Ok(i)
    }

    /// Applies the members this body names to `i`, then checks the result as a whole.
    pub fn apply(self, i: &mut Integration, websocket: bool) -> ApiResult<()> {
        let websocket_only = self.content_handling_strategy.is_some()
            || self.passthrough_behavior.is_some()
            || self.request_templates.is_some()
            || self.template_selection_expression.is_some();
        if websocket_only && !websocket {
            return Err(ApiError::bad_request(
                "contentHandlingStrategy, passthroughBehavior, requestTemplates and templateSelectionExpression are supported only for WebSocket APIs",
            ));
        }
        if let Some(c) = self.content_handling_strategy.as_deref() {
            i.content_handling_strategy = Some(c.parse::<ContentHandlingStrategy>().map_err(|_| {
                ApiError::bad_request(format!(
                    "Invalid content handling strategy specified: {c}. Must be one of [CONVERT_TO_BINARY, CONVERT_TO_TEXT]"
                ))
            })?);
        }
        if let Some(p) = self.passthrough_behavior.as_deref() {
            i.passthrough_behavior = Some(p.parse::<PassthroughBehavior>().map_err(|_| {
                ApiError::bad_request(format!(
                    "Invalid passthrough behavior specified: {p}. Must be one of [WHEN_NO_MATCH, WHEN_NO_TEMPLATES, NEVER]"
                ))
            })?);
        }
        if let Some(t) = self.request_templates {
            i.request_templates = t;
        }
        if let Some(e) = self.template_selection_expression {
            tollgate_model::selection::Expression::parse(&e).map_err(|err| {
                ApiError::bad_request(format!(
                    "Invalid template selection expression specified: {e}. {err}"
                ))
            })?;
            i.template_selection_expression = Some(e);
        }
        if let Some(t) = self.integration_type.as_deref() {
            i.integration_type = integration_type(t, websocket)?;
        }
        if let Some(v) = self.payload_format_version.as_deref() {
            i.payload_format_version = payload_format_version(v)?;
        }
        if let Some(c) = self.connection_type.as_deref() {
            i.connection_type = c.parse().map_err(|_| {
                ApiError::bad_request(format!(
                    "Invalid connection type specified: {c}. Must be one of [INTERNET, VPC_LINK]"
                ))
            })?;
        }
        let strings = [
            (self.connection_id, &mut i.connection_id),
            (self.credentials_arn, &mut i.credentials_arn),
            (self.description, &mut i.description),
            (self.integration_method, &mut i.integration_method),
            (self.integration_subtype, &mut i.integration_subtype),
            (self.integration_uri, &mut i.integration_uri),
        ];
        for (given, field) in strings {
            if given.is_some() {
                *field = given;
            }
        }
        if let Some(t) = self.timeout_in_millis {
            i.timeout_in_millis = t;
        }
        if let Some(p) = self.request_parameters {
            i.request_parameters = p;
        }
        if let Some(p) = self.response_parameters {
            i.response_parameters = p;
        }
        if self.tls_config.is_some() {
            i.tls_config = self.tls_config;
        }
        if websocket {
            check_websocket(i)
        } else {
            check(i)
        }
    }
}

/// What makes a WebSocket API integration valid: a timeout of 50–29000 ms, payload format
/// 1.0, a Lambda function for `AWS_PROXY`, a Lambda function or a service call for `AWS`,
/// a URL and method for the HTTP types, and no URI for MOCK.
fn check_websocket(i: &Integration) -> ApiResult<()> {
    if !(50..=29_000).contains(&i.timeout_in_millis) {
        return Err(ApiError::bad_request(
            "Invalid timeout specified. Timeout must be between 50 and 29000 milliseconds",
        ));
    }
    if i.payload_format_version != PayloadFormatVersion::V1 {
        return Err(ApiError::bad_request(
            "WebSocket APIs support only payload format version 1.0",
        ));
    }
    let uri = i.integration_uri.as_deref();
    match i.integration_type {
        IntegrationType::Mock => Ok(()),
        IntegrationType::Http | IntegrationType::HttpProxy => {
            let method = i.integration_method.as_deref().ok_or_else(|| {
                ApiError::bad_request("IntegrationMethod is required for HTTP integrations")
            })?;
            tollgate_model::validate::http_method(method).map_err(ApiError::bad_request)?;
            let uri = uri.ok_or_else(|| {
                ApiError::bad_request("IntegrationUri is required for HTTP integrations")
            })?;
            let is_url = (uri.starts_with("http://") || uri.starts_with("https://"))
                && uri.parse::<http::Uri>().is_ok_and(|u| u.host().is_some());
            if !is_url {
                return Err(ApiError::bad_request(format!(
                    "Invalid HTTP endpoint specified for URI: {uri}"
                )));
            }
            Ok(())
        }
        IntegrationType::Aws | IntegrationType::AwsProxy => {
            let uri = uri.ok_or_else(|| {
                ApiError::bad_request("IntegrationUri is required for AWS integrations")
            })?;
            // `AWS` may call any service (`arn:aws:apigateway:{region}:{service}:path|action/...`).
            if i.integration_type == IntegrationType::Aws && lambda_function_of(uri).is_none() {
                return match aws_uri_violation(IntegrationType::Aws, uri) {
                    Some(message) => Err(ApiError::bad_request(message)),
                    None => Ok(()),
                };
            }
            let valid = lambda_function_of(uri).is_some_and(|f| {
                f.contains("${") || tollgate_model::lambda::parse_function_ref(f).is_some()
            });
            if !valid {
                return Err(ApiError::bad_request(format!(
                    "Invalid Lambda function ARN specified for URI: {uri}"
                )));
            }
            Ok(())
        }
    }
}

/// What makes an HTTP API integration valid (messages approximate AWS's; the exception
/// type is what clients act on).
pub(crate) fn check(i: &Integration) -> ApiResult<()> {
    if !(50..=30_000).contains(&i.timeout_in_millis) {
        return Err(ApiError::bad_request(
            "Invalid timeout specified. Timeout must be between 50 and 30000 milliseconds",
        ));
    }
    let uri = i.integration_uri.as_deref();
    match i.integration_type {
        IntegrationType::HttpProxy => {
            if i.payload_format_version != PayloadFormatVersion::V1 {
                return Err(ApiError::bad_request(
                    "HTTP_PROXY integrations support only payload format version 1.0",
                ));
            }
            let method = i.integration_method.as_deref().ok_or_else(|| {
                ApiError::bad_request("IntegrationMethod is required for HTTP_PROXY integrations")
            })?;
            tollgate_model::validate::http_method(method).map_err(ApiError::bad_request)?;
            let uri = uri.ok_or_else(|| {
                ApiError::bad_request("IntegrationUri is required for HTTP_PROXY integrations")
            })?;
            let is_url = (uri.starts_with("http://") || uri.starts_with("https://"))
                && uri.parse::<http::Uri>().is_ok_and(|u| u.host().is_some());
            if i.connection_type == ConnectionType::Internet && !is_url {
                return Err(ApiError::bad_request(format!(
                    "Invalid HTTP endpoint specified for URI: {uri}"
                )));
            }
        }
        _ if i.integration_subtype.is_some() => {}
        _ => {
            let uri = uri.ok_or_else(|| {
                ApiError::bad_request("IntegrationUri is required for AWS_PROXY integrations")
            })?;
            let function = lambda_function_of(uri);
            let valid = function.is_some_and(|f| {
                f.contains("${") || tollgate_model::lambda::parse_function_ref(f).is_some()
            });
            if !valid {
                return Err(ApiError::bad_request(format!(
                    "Invalid Lambda function ARN specified for URI: {uri}"
                )));
            }
        }
    }
    if i.integration_subtype.is_none() {
        for key in i.request_parameters.keys() {
            check_request_mapping(key)?;
        }
    }
    for (status, mappings) in &i.response_parameters {
        let code_ok = status.len() == 3
            && status
                .parse::<u16>()
                .is_ok_and(|c| (200..=599).contains(&c));
        if !code_ok {
            return Err(ApiError::bad_request(format!(
                "Invalid status code {status} in responseParameters. Status codes must be between 200 and 599"
            )));
        }
        for key in mappings.keys() {
            check_response_mapping(key)?;
        }
    }
    Ok(())
}

/// Headers parameter mappings may not touch.
fn reserved_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    const RESERVED: [&str; 17] = [
        "authorization",
        "connection",
        "content-encoding",
        "content-length",
        "content-location",
        "forwarded",
        "host",
        "keep-alive",
        "origin",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "via",
        "server",
    ];
    RESERVED.contains(&n.as_str())
        || [
            "x-amz-",
            "x-amzn-",
            "apigw-",
            "access-control-",
            "x-forwarded-",
        ]
        .iter()
        .any(|p| n.starts_with(p))
}

fn bad_mapping_key(key: &str) -> ApiError {
    ApiError::bad_request(format!("Invalid mapping expression specified: {key}"))
}

/// `append|overwrite|remove:header.{n}`, `…:querystring.{n}`, `overwrite:path`.
fn check_request_mapping(key: &str) -> ApiResult<()> {
    let (action, target) = key.split_once(':').ok_or_else(|| bad_mapping_key(key))?;
    if !["append", "overwrite", "remove"].contains(&action) {
        return Err(bad_mapping_key(key));
    }
    if target == "path" {
        return if action == "overwrite" {
            Ok(())
        } else {
            Err(bad_mapping_key(key))
        };
    }
    match target.split_once('.') {
        Some(("header", name)) if !name.is_empty() => {
            if reserved_header(name) {
                return Err(ApiError::bad_request(format!(
                    "Invalid mapping expression specified: {key}. Header {name} is reserved"
                )));
            }
            Ok(())
        }
        Some(("querystring", name)) if !name.is_empty() => Ok(()),
        _ => Err(bad_mapping_key(key)),
    }
}

/// `append|overwrite|remove:header.{n}`, `overwrite:statuscode`.
fn check_response_mapping(key: &str) -> ApiResult<()> {
    let (action, target) = key.split_once(':').ok_or_else(|| bad_mapping_key(key))?;
    match (action, target.split_once('.')) {
        ("overwrite", None) if target == "statuscode" => Ok(()),
        ("append" | "overwrite" | "remove", Some(("header", name))) if !name.is_empty() => {
            if reserved_header(name) {
                return Err(bad_mapping_key(key));
            }
            Ok(())
        }
        _ => Err(bad_mapping_key(key)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(v: serde_json::Value) -> IntegrationInput {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn lambda_and_http_proxies() {
        let l = input(serde_json::json!({
            "integrationType": "AWS_PROXY",
            "integrationUri": "arn:aws:lambda:us-east-1:000000000000:function:f",
            "payloadFormatVersion": "2.0"
        }))
        .create("i".into(), false)
        .unwrap();
        assert_eq!(l.integration_method.as_deref(), Some("POST"));
        assert_eq!(l.timeout_in_millis, 30_000);
        let h = input(serde_json::json!({
            "integrationType": "HTTP_PROXY",
            "integrationUri": "https://example.com/x",
            "integrationMethod": "ANY"
        }))
        .create("i".into(), false)
        .unwrap();
        assert_eq!(h.payload_format_version, PayloadFormatVersion::V1);
    }

    #[test]
    fn refusals() {
        let bad = [
            serde_json::json!({"integrationType": "MOCK"}),
            serde_json::json!({"integrationType": "AWS_PROXY", "integrationUri": "arn:aws:lambda:us-east-1:000000000000:function:f"}),
            serde_json::json!({"integrationType": "HTTP_PROXY", "integrationUri": "example.com", "integrationMethod": "GET"}),
            serde_json::json!({"integrationType": "HTTP_PROXY", "integrationUri": "http://e.com", "integrationMethod": "GET", "payloadFormatVersion": "2.0"}),
            serde_json::json!({"integrationType": "HTTP_PROXY", "integrationUri": "http://e.com", "integrationMethod": "GET", "timeoutInMillis": 49}),
            serde_json::json!({"integrationType": "HTTP_PROXY", "integrationUri": "http://e.com", "integrationMethod": "GET", "requestParameters": {"append:header.host": "x"}}),
            serde_json::json!({"integrationType": "HTTP_PROXY", "integrationUri": "http://e.com", "integrationMethod": "GET", "requestParameters": {"replace:header.a": "x"}}),
            serde_json::json!({"integrationType": "HTTP_PROXY", "integrationUri": "http://e.com", "integrationMethod": "GET", "responseParameters": {"600": {"overwrite:statuscode": "200"}}}),
            serde_json::json!({"integrationType": "HTTP_PROXY", "integrationUri": "http://e.com", "integrationMethod": "GET", "requestTemplates": {}}),
        ];
        for b in bad {
            let e = input(b.clone()).create("i".into(), false).unwrap_err();
            assert_eq!(e.error_type, "BadRequestException", "{b}");
        }
        let ok = input(serde_json::json!({
            "integrationType": "HTTP_PROXY", "integrationUri": "http://e.com", "integrationMethod": "GET",
            "requestParameters": {"append:header.x-a": "$request.header.b", "overwrite:path": "/p", "remove:querystring.q": "''"},
            "responseParameters": {"200": {"overwrite:statuscode": "204", "append:header.x-b": "v"}},
            "timeoutInMillis": 50
        }));
        assert!(ok.create("i".into(), false).is_ok());
    }
}
