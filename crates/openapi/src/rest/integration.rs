//! `x-amazon-apigateway-integration` of a REST method, read into an [`Integration`] and
//! written back from one. The extension spells enum members in lower case
//! (`type: http_proxy`, `passthroughBehavior: when_no_match`); both cases are read.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use tollgate_model::{
    ConnectionType, ContentHandlingStrategy, Integration, IntegrationResponse, IntegrationType,
    PassthroughBehavior, TlsConfig,
};

use crate::document::Flavor;
use crate::problems::Problems;

/// AWS's default integration timeout.
pub const DEFAULT_TIMEOUT: i64 = 29_000;

/// Where an integration is, for messages: `resource '/pets' and method 'GET'`.
pub struct Site<'a> {
    pub path: &'a str,
    pub method: &'a str,
}

impl Site<'_> {
    fn describe(&self) -> String {
        format!("resource '{}' and method '{}'", self.path, self.method)
    }
}

fn upper(v: &Value) -> Option<String> {
    v.as_str().map(|s| s.to_ascii_uppercase())
}

/// A string-valued member; a number or boolean is a warning, as AWS reports it.
fn string_map(
    v: Option<&Value>,
    member: &str,
    site: &Site<'_>,
    p: &mut Problems,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, v) in v.and_then(Value::as_object).into_iter().flatten() {
        match v {
            Value::String(s) => {
                out.insert(k.clone(), s.clone());
            }
            other => p.warn(format!(
                "Invalid format for '{member}'. Expected type string for property '{k}' of {} but got '{}'",
                site.describe(),
                scalar_text(other)
            )),
        }
    }
    out
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `statusCode` may be written as a number in YAML and JSON alike.
fn status_code(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn content_handling(v: Option<&Value>, p: &mut Problems) -> Option<ContentHandlingStrategy> {
    let s = upper(v?)?;
    match s.parse() {
        Ok(c) => Some(c),
        Err(_) => {
            p.error(format!("Invalid content handling specified: {s}"));
            None
        }
    }
}

/// Reads the extension of the method at `site`, whose resource id is `resource_id`.
pub fn read(
    ext: &Value,
    resource_id: &str,
    site: &Site<'_>,
    p: &mut Problems,
) -> Option<Integration> {
    let Some(obj) = ext.as_object() else {
        p.error(format!(
            "Invalid integration of {}: not an object",
            site.describe()
        ));
        return None;
    };
    let type_text = obj.get("type").and_then(upper).unwrap_or_default();
    let Ok(integration_type) = type_text.parse::<IntegrationType>() else {
        p.error(format!(
            "Invalid integration type '{type_text}' of {}",
            site.describe()
        ));
        return None;
    };
    let passthrough = obj
        .get("passthroughBehavior")
        .and_then(upper)
        .unwrap_or_else(|| PassthroughBehavior::WhenNoMatch.as_str().into());
    let Ok(passthrough_behavior) = passthrough.parse() else {
        p.error(format!(
            "Invalid passthrough behavior specified: {passthrough}"
        ));
        return None;
    };
    let connection_type = match obj.get("connectionType").and_then(upper) {
        Some(c) => match c.parse::<ConnectionType>() {
            Ok(c) => Some(c),
            Err(_) => {
                p.error(format!("Invalid connection type specified: {c}"));
                return None;
            }
        },
        // AWS reports INTERNET for HTTP integrations only (recorded).
        None if integration_type.is_http() => Some(ConnectionType::Internet),
        None => None,
    };
    let mut responses = BTreeMap::new();
    for (pattern, r) in obj
        .get("responses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let Some(status) = status_code(r.get("statusCode")) else {
            p.error(format!(
                "Invalid integration response of {}: statusCode is required",
                site.describe()
            ));
            continue;
        };
        let templates = r
            .get("responseTemplates")
            .and_then(Value::as_object)
            .map(|t| {
                t.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string)))
                    .collect()
            });
        let params = r
            .get("responseParameters")
            .map(|_| string_map(r.get("responseParameters"), "responseParameters", site, p));
        responses.insert(
            status.clone(),
            IntegrationResponse {
                status_code: status,
                selection_pattern: (pattern != "default").then(|| pattern.clone()),
                response_parameters: params,
                response_templates: templates,
                content_handling: content_handling(r.get("contentHandling"), p),
            },
        );
    }
    Some(Integration {
        integration_type,
        http_method: obj.get("httpMethod").and_then(upper),
        uri: obj.get("uri").and_then(Value::as_str).map(str::to_string),
        connection_type,
        connection_id: obj
            .get("connectionId")
            .and_then(Value::as_str)
            .map(str::to_string),
        credentials: obj
            .get("credentials")
            .and_then(Value::as_str)
            .map(str::to_string),
        request_parameters: string_map(obj.get("requestParameters"), "requestParameters", site, p),
        request_templates: string_map(obj.get("requestTemplates"), "requestTemplates", site, p),
        passthrough_behavior,
        content_handling: content_handling(obj.get("contentHandling"), p),
        timeout_in_millis: obj
            .get("timeoutInMillis")
            .and_then(Value::as_i64)
            .unwrap_or(DEFAULT_TIMEOUT),
        cache_namespace: obj
            .get("cacheNamespace")
            .and_then(Value::as_str)
            .unwrap_or(resource_id)
            .to_string(),
        cache_key_parameters: obj
            .get("cacheKeyParameters")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        tls_config: obj.get("tlsConfig").map(|t| TlsConfig {
            insecure_skip_verification: t
                .get("insecureSkipVerification")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        }),
        integration_responses: responses,
        response_transfer_mode: None,
        integration_target: None,
    })
}

fn lower(s: &str) -> Value {
    Value::String(s.to_ascii_lowercase())
}

fn strings(m: &BTreeMap<String, String>) -> Value {
    Value::Object(m.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

/// The extension of a stored integration, members left out where they hold AWS's
/// defaults (as GetExport writes them). `resource_id` tells a default cache namespace.
pub fn write(i: &Integration, resource_id: &str, flavor: Flavor) -> Value {
    // Member order as AWS exports it: Swagger puts `type` first, OpenAPI 3 last (both
    // recorded, and AWS's own documentation shows the same); the rest in one order.
    let mut out = Map::new();
    if flavor == Flavor::Swagger2 {
        out.insert("type".into(), lower(i.integration_type.as_str()));
    }
    if let Some(c) = &i.credentials {
        out.insert("credentials".into(), json!(c));
    }
    if let Some(m) = &i.http_method {
        out.insert("httpMethod".into(), json!(m));
    }
    if let Some(u) = &i.uri {
        out.insert("uri".into(), json!(u));
    }
    if !i.integration_responses.is_empty() {
        let responses = i
            .integration_responses
            .values()
            .map(|r| {
                let mut o = Map::new();
                o.insert("statusCode".into(), json!(r.status_code));
                if let Some(p) = &r.response_parameters {
                    o.insert("responseParameters".into(), strings(p));
                }
                if let Some(t) = &r.response_templates {
                    o.insert("responseTemplates".into(), json!(t));
                }
                if let Some(c) = r.content_handling {
                    o.insert("contentHandling".into(), json!(c.as_str()));
                }
                let key = r
                    .selection_pattern
                    .clone()
                    .unwrap_or_else(|| "default".into());
                (key, Value::Object(o))
            })
            .collect();
        out.insert("responses".into(), Value::Object(responses));
    }
    if !i.request_parameters.is_empty() {
        out.insert("requestParameters".into(), strings(&i.request_parameters));
    }
    if !i.request_templates.is_empty() {
        out.insert("requestTemplates".into(), strings(&i.request_templates));
    }
    out.insert(
        "passthroughBehavior".into(),
        lower(i.passthrough_behavior.as_str()),
    );
    if i.cache_namespace != resource_id {
        out.insert("cacheNamespace".into(), json!(i.cache_namespace));
    }
    if i.timeout_in_millis != DEFAULT_TIMEOUT {
        out.insert("timeoutInMillis".into(), json!(i.timeout_in_millis));
    }
    if !i.cache_key_parameters.is_empty() {
        out.insert("cacheKeyParameters".into(), json!(i.cache_key_parameters));
    }
    if let Some(c) = i.content_handling {
        out.insert("contentHandling".into(), json!(c.as_str()));
    }
    if i.connection_type == Some(ConnectionType::VpcLink) {
        out.insert("connectionType".into(), json!("VPC_LINK"));
    }
    if let Some(c) = &i.connection_id {
        out.insert("connectionId".into(), json!(c));
    }
    if let Some(t) = &i.tls_config {
        out.insert(
            "tlsConfig".into(),
            json!({"insecureSkipVerification": t.insecure_skip_verification}),
        );
    }
    if flavor == Flavor::Oas3 {
        out.insert("type".into(), lower(i.integration_type.as_str()));
    }
    Value::Object(out)
}
