//! Security schemes and requirements: authorizers (`x-amazon-apigateway-authorizer`),
//! IAM (`x-amazon-apigateway-authtype: awsSigv4`) and API keys (an `apiKey` scheme on the
//! `x-api-key` header), read from a document and written back.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use tollgate_model::{AuthorizationType, Authorizer, AuthorizerType, Method, RestApiDefinition};

use crate::document::{Document, Flavor};
use crate::problems::Problems;
use crate::shared::insert_some;

/// The document's security schemes by name.
pub fn schemes(doc: &Document) -> Option<&Map<String, Value>> {
    match doc.flavor {
        Flavor::Swagger2 => doc.root.get("securityDefinitions")?.as_object(),
        Flavor::Oas3 => doc
            .root
            .get("components")?
            .get("securitySchemes")?
            .as_object(),
    }
}

/// The authorizers the schemes define, without ids (they are named by their scheme).
pub fn authorizers(doc: &Document, p: &mut Problems) -> Vec<Authorizer> {
    let mut out = Vec::new();
    for (name, scheme) in schemes(doc).into_iter().flatten() {
        let Some(ext) = scheme.get("x-amazon-apigateway-authorizer") else {
            continue;
        };
        let kind = ext
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("token")
            .to_ascii_uppercase();
        let Ok(authorizer_type) = kind.parse::<AuthorizerType>() else {
            p.error(format!(
                "Invalid authorizer type '{kind}' of security scheme '{name}'"
            ));
            continue;
        };
        let text = |k: &str| ext.get(k).and_then(Value::as_str).map(str::to_string);
        // A TOKEN authorizer reads the header the scheme names, unless told otherwise.
        let header_source = (scheme.get("in").and_then(Value::as_str) == Some("header"))
            .then(|| scheme.get("name").and_then(Value::as_str))
            .flatten()
            .filter(|_| authorizer_type != AuthorizerType::Request)
            .map(|h| format!("method.request.header.{h}"));
        out.push(Authorizer {
            id: String::new(),
            name: name.clone(),
            authorizer_type,
            auth_type: scheme
                .get("x-amazon-apigateway-authtype")
                .and_then(Value::as_str)
                .map(str::to_string),
            authorizer_uri: text("authorizerUri"),
            authorizer_credentials: text("authorizerCredentials"),
            identity_source: text("identitySource").or(header_source),
            identity_validation_expression: text("identityValidationExpression"),
            // Lambda authorizers get AWS's default TTL when the document gives none.
            authorizer_result_ttl_in_seconds: ext
                .get("authorizerResultTtlInSeconds")
                .and_then(Value::as_i64)
                .or((authorizer_type != AuthorizerType::CognitoUserPools).then_some(300)),
            provider_arns: ext.get("providerARNs").and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            }),
        });
    }
    out
}

/// How a method is protected, as its security requirement says.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodAuth {
    pub authorization_type: AuthorizationType,
    /// The authorizer's scheme name; its id is known once the authorizers are created.
    pub authorizer: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub api_key_required: bool,
}

/// Reads the first requirement of `security` (AWS applies one; alternatives beyond the
/// first are not supported by API Gateway). Also answers the names it requires that no
/// security scheme defines: such a method must not be imported unprotected.
pub fn method_auth<'s>(
    doc: &Document,
    security: Option<&'s Value>,
    authorizers: &BTreeMap<&str, &Authorizer>,
) -> (MethodAuth, Vec<&'s str>) {
    let mut auth = MethodAuth {
        authorization_type: AuthorizationType::None,
        authorizer: None,
        scopes: None,
        api_key_required: false,
    };
    let requirement = security
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_object);
    let schemes = schemes(doc);
    let mut undefined = Vec::new();
    for (name, scopes) in requirement.into_iter().flatten() {
        let scheme = schemes.and_then(|s| s.get(name));
        if scheme.is_none() && !authorizers.contains_key(name.as_str()) {
            undefined.push(name.as_str());
            continue;
        }
        if let Some(a) = authorizers.get(name.as_str()) {
            auth.authorizer = Some(name.clone());
            auth.authorization_type = if a.authorizer_type == AuthorizerType::CognitoUserPools {
                let scopes: Vec<String> = scopes
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect();
                auth.scopes = (!scopes.is_empty()).then_some(scopes);
                AuthorizationType::CognitoUserPools
            } else {
                AuthorizationType::Custom
            };
        } else if scheme
            .and_then(|s| s.get("x-amazon-apigateway-authtype"))
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("awsSigv4"))
        {
            auth.authorization_type = AuthorizationType::AwsIam;
        } else if scheme.is_some_and(is_api_key) {
            auth.api_key_required = true;
        }
    }
    (auth, undefined)
}

fn is_api_key(scheme: &Value) -> bool {
    scheme.get("type").and_then(Value::as_str) == Some("apiKey")
        && scheme.get("in").and_then(Value::as_str) == Some("header")
        && scheme
            .get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| n.eq_ignore_ascii_case("x-api-key"))
}

pub const API_KEY: &str = "api_key";
pub const SIGV4: &str = "sigv4";

/// The requirement a method's export carries, if it is protected.
pub fn requirement(def: &RestApiDefinition, m: &Method) -> Option<Value> {
    let mut req = Map::new();
    if m.api_key_required {
        req.insert(API_KEY.into(), json!([]));
    }
    match m.authorization_type {
        AuthorizationType::AwsIam => {
            req.insert(SIGV4.into(), json!([]));
        }
        AuthorizationType::Custom | AuthorizationType::CognitoUserPools => {
            if let Some(a) = m
                .authorizer_id
                .as_ref()
                .and_then(|id| def.authorizers.get(id))
            {
                let scopes = m.authorization_scopes.clone().unwrap_or_default();
                req.insert(a.name.clone(), json!(scopes));
            }
        }
        AuthorizationType::None | AuthorizationType::Jwt => {}
    }
    (!req.is_empty()).then(|| json!([req]))
}

/// The schemes the exported methods use; authorizer details only with `extensions`.
pub fn write_schemes(def: &RestApiDefinition, with_authorizers: bool) -> Map<String, Value> {
    let methods = || {
        def.resources
            .values()
            .flat_map(|r| r.resource_methods.values())
    };
    let mut out = Map::new();
    if methods().any(|m| m.api_key_required) {
        out.insert(
            API_KEY.into(),
            json!({"type": "apiKey", "name": "x-api-key", "in": "header"}),
        );
    }
    if methods().any(|m| m.authorization_type == AuthorizationType::AwsIam) {
        let mut s = json!({"type": "apiKey", "name": "Authorization", "in": "header"});
        if with_authorizers {
            s["x-amazon-apigateway-authtype"] = json!("awsSigv4");
        }
        out.insert(SIGV4.into(), s);
    }
    let used: BTreeMap<&str, ()> = methods()
        .filter_map(|m| m.authorizer_id.as_deref())
        .map(|id| (id, ()))
        .collect();
    for a in def.authorizers.values() {
        if !used.contains_key(a.id.as_str()) && !with_authorizers {
            continue;
        }
        out.insert(a.name.clone(), authorizer_scheme(a, with_authorizers));
    }
    out
}

fn authorizer_scheme(a: &Authorizer, with_extension: bool) -> Value {
    let header = a
        .identity_source
        .as_deref()
        .and_then(|s| s.strip_prefix("method.request.header."))
        .filter(|h| !h.contains(','))
        .unwrap_or("Unused");
    let mut s = Map::new();
    s.insert("type".into(), json!("apiKey"));
    s.insert("name".into(), json!(header));
    s.insert("in".into(), json!("header"));
    if with_extension {
        if let Some(t) = &a.auth_type {
            s.insert("x-amazon-apigateway-authtype".into(), json!(t));
        }
        let mut e = Map::new();
        e.insert(
            "type".into(),
            json!(a.authorizer_type.as_str().to_ascii_lowercase()),
        );
        let mut put = |k: &str, v: Option<Value>| insert_some(&mut e, k, v);
        put("authorizerUri", a.authorizer_uri.as_ref().map(|v| json!(v)));
        put(
            "authorizerCredentials",
            a.authorizer_credentials.as_ref().map(|v| json!(v)),
        );
        put(
            "identitySource",
            a.identity_source.as_ref().map(|v| json!(v)),
        );
        put(
            "identityValidationExpression",
            a.identity_validation_expression.as_ref().map(|v| json!(v)),
        );
        put(
            "authorizerResultTtlInSeconds",
            a.authorizer_result_ttl_in_seconds.map(|v| json!(v)),
        );
        put("providerARNs", a.provider_arns.as_ref().map(|v| json!(v)));
        s.insert("x-amazon-apigateway-authorizer".into(), Value::Object(e));
    }
    Value::Object(s)
}
