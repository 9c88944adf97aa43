//! SAM's `Auth` of an API and of its events, written into the OpenAPI document `tollgate
//! sam` generates, as SAM writes it: one security scheme per authorizer (with
//! `x-amazon-apigateway-authorizer`), `AWS_IAM` and `api_key` schemes when used, and each
//! operation's security requirement (the event's `Auth.Authorizer`, else the API's
//! `DefaultAuthorizer`; `NONE` for none).

use serde_json::{json, Map, Value};

use super::plan::ApiKind;

/// The API's `Auth`, intrinsics resolved.
pub struct ApiAuth<'a> {
    pub kind: ApiKind,
    pub auth: &'a Value,
    pub region: &'a str,
}

const IAM: &str = "AWS_IAM";
const API_KEY: &str = "api_key";

fn text<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => vec![],
    }
}

fn lambda_uri(region: &str, function_arn: &str) -> String {
    format!(
        "arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
    )
}

/// `Identity` lists of a REQUEST authorizer as an identity source (`prefix` + name, joined).
fn identity_source(identity: &Value, forms: &[(&str, &str)]) -> Option<String> {
    let parts: Vec<String> = forms
        .iter()
        .flat_map(|(key, prefix)| {
            strings(identity.get(*key))
                .into_iter()
                .map(move |n| format!("{prefix}{n}"))
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

impl ApiAuth<'_> {
    /// The security schemes: every declared authorizer, and `AWS_IAM` / `api_key` when
    /// `uses_iam` / `uses_key`.
    pub fn schemes(&self, uses_iam: bool, uses_key: bool) -> Result<Map<String, Value>, String> {
        let mut out = Map::new();
        if let Some(Value::Object(list)) = self.auth.get("Authorizers") {
            for (name, a) in list {
                let scheme = match self.kind {
                    ApiKind::Rest => self.rest_scheme(name, a)?,
                    ApiKind::Http => self.http_scheme(name, a)?,
                };
                out.insert(name.clone(), scheme);
            }
        }
        if uses_iam {
            out.insert(
                IAM.into(),
                json!({"type": "apiKey", "name": "Authorization", "in": "header",
                       "x-amazon-apigateway-authtype": "awsSigv4"}),
            );
        }
        if uses_key {
            out.insert(
                API_KEY.into(),
                json!({"type": "apiKey", "name": "x-api-key", "in": "header"}),
            );
        }
        Ok(out)
    }

    fn rest_scheme(&self, name: &str, a: &Value) -> Result<Value, String> {
        let identity = a.get("Identity").cloned().unwrap_or(json!({}));
        let header = text(&identity, "Header").unwrap_or("Authorization");
        let ttl = identity.get("ReauthorizeEvery").and_then(Value::as_i64);
        if let Some(arn) = text(a, "FunctionArn") {
            let mut ext = Map::new();
            ext.insert("authorizerUri".into(), json!(lambda_uri(self.region, arn)));
            ext.insert(
                "authorizerResultTtlInSeconds".into(),
                json!(ttl.unwrap_or(300)),
            );
            let request =
                text(a, "FunctionPayloadType").is_some_and(|t| t.eq_ignore_ascii_case("REQUEST"));
            if request {
                ext.insert("type".into(), json!("request"));
                let forms = [
                    ("Headers", "method.request.header."),
                    ("QueryStrings", "method.request.querystring."),
                    ("StageVariables", "stageVariables."),
                    ("Context", "context."),
                ];
                if let Some(source) = identity_source(&identity, &forms) {
                    ext.insert("identitySource".into(), json!(source));
                }
            } else {
                ext.insert("type".into(), json!("token"));
                if let Some(v) = text(&identity, "ValidationExpression") {
                    ext.insert("identityValidationExpression".into(), json!(v));
                }
            }
            return Ok(json!({"type": "apiKey", "name": header, "in": "header",
                             "x-amazon-apigateway-authtype": "custom",
                             "x-amazon-apigateway-authorizer": ext}));
        }
        let pools = strings(a.get("UserPoolArn"));
        if !pools.is_empty() {
            let mut ext = json!({"type": "cognito_user_pools", "providerARNs": pools});
            if let Some(v) = text(&identity, "ValidationExpression") {
                ext["identityValidationExpression"] = json!(v);
            }
            return Ok(json!({"type": "apiKey", "name": header, "in": "header",
                             "x-amazon-apigateway-authtype": "cognito_user_pools",
                             "x-amazon-apigateway-authorizer": ext}));
        }
        Err(format!(
            "Auth authorizer {name}: FunctionArn or UserPoolArn is required"
        ))
    }

    fn http_scheme(&self, name: &str, a: &Value) -> Result<Value, String> {
        if let Some(jwt) = a.get("JwtConfiguration") {
            let source = text(a, "IdentitySource").unwrap_or("$request.header.Authorization");
            let mut config = Map::new();
            if let Some(issuer) = text(jwt, "issuer").or(text(jwt, "Issuer")) {
                config.insert("issuer".into(), json!(issuer));
            }
            let audience = strings(jwt.get("audience").or(jwt.get("Audience")));
            config.insert("audience".into(), json!(audience));
            return Ok(json!({"type": "oauth2", "flows": {},
                             "x-amazon-apigateway-authorizer": {
                                 "type": "jwt", "jwtConfiguration": config,
                                 "identitySource": source}}));
        }
        if let Some(arn) = text(a, "FunctionArn") {
            let identity = a.get("Identity").cloned().unwrap_or(json!({}));
            let forms = [
                ("Headers", "$request.header."),
                ("QueryStrings", "$request.querystring."),
                ("StageVariables", "$stageVariables."),
                ("Context", "$context."),
            ];
            let mut ext = Map::new();
            ext.insert("type".into(), json!("request"));
            ext.insert("authorizerUri".into(), json!(lambda_uri(self.region, arn)));
            ext.insert(
                "authorizerPayloadFormatVersion".into(),
                json!(text(a, "AuthorizerPayloadFormatVersion").unwrap_or("2.0")),
            );
            if let Some(simple) = a.get("EnableSimpleResponses").and_then(Value::as_bool) {
                ext.insert("enableSimpleResponses".into(), json!(simple));
            }
            if let Some(source) = identity_source(&identity, &forms) {
                ext.insert("identitySource".into(), json!(source));
            }
            if let Some(ttl) = identity.get("ReauthorizeEvery").and_then(Value::as_i64) {
                ext.insert("authorizerResultTtlInSeconds".into(), json!(ttl));
            }
            return Ok(
                json!({"type": "apiKey", "name": "Authorization", "in": "header",
                             "x-amazon-apigateway-authorizer": ext}),
            );
        }
        Err(format!(
            "Auth authorizer {name}: JwtConfiguration or FunctionArn is required"
        ))
    }

    /// The authorizer an operation uses: the event's, else the API's default; `None` for
    /// `NONE` or no default.
    pub fn authorizer<'v>(&'v self, event: Option<&'v Value>) -> Option<&'v str> {
        let chosen = event
            .and_then(|e| text(e, "Authorizer"))
            .or_else(|| text(self.auth, "DefaultAuthorizer"));
        chosen.filter(|a| *a != "NONE")
    }

    /// Whether an operation requires an API key (REST): the event's `ApiKeyRequired`, else
    /// the API's.
    pub fn api_key_required(&self, event: Option<&Value>) -> bool {
        let flag = |v: &Value| v.get("ApiKeyRequired").and_then(Value::as_bool);
        event
            .and_then(flag)
            .or_else(|| flag(self.auth))
            .unwrap_or(false)
    }

    /// An operation's security requirement, or `None` when it is open.
    pub fn requirement(&self, event: Option<&Value>) -> Option<Value> {
        let mut req = Map::new();
        if let Some(name) = self.authorizer(event) {
            let scopes = strings(event.and_then(|e| e.get("AuthorizationScopes")));
            req.insert(name.to_string(), json!(scopes));
        }
        if self.kind == ApiKind::Rest && self.api_key_required(event) {
            req.insert(API_KEY.into(), json!([]));
        }
        (!req.is_empty()).then(|| json!([req]))
    }

    /// Whether the CORS preflight of a REST API carries the default authorizer (SAM's
    /// `AddDefaultAuthorizerToCorsPreflight`, on unless set false).
    pub fn preflight_requirement(&self) -> Option<Value> {
        let add = self
            .auth
            .get("AddDefaultAuthorizerToCorsPreflight")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let name = text(self.auth, "DefaultAuthorizer").filter(|a| *a != "NONE");
        match (add, name) {
            (true, Some(n)) => Some(json!([{ n: [] }])),
            _ => None,
        }
    }
}

/// Whether an authorizer name is IAM's.
pub fn is_iam(name: &str) -> bool {
    name == IAM
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_lambda_and_cognito_authorizers_with_default_and_event_override() {
        let auth = json!({
            "DefaultAuthorizer": "Tok",
            "ApiKeyRequired": true,
            "Authorizers": {
                "Tok": {"FunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:a",
                        "Identity": {"Header": "X-Token", "ReauthorizeEvery": 0}},
                "Req": {"FunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:b",
                        "FunctionPayloadType": "REQUEST",
                        "Identity": {"Headers": ["X-A"], "QueryStrings": ["q"]}},
                "Pool": {"UserPoolArn": "arn:aws:cognito-idp:us-east-1:000000000000:userpool/p"}
            }
        });
        let a = ApiAuth {
            kind: ApiKind::Rest,
            auth: &auth,
            region: "us-east-1",
        };
        let s = a.schemes(false, true).unwrap();
        assert_eq!(s["Tok"]["name"], "X-Token");
        assert_eq!(s["Tok"]["x-amazon-apigateway-authorizer"]["type"], "token");
        assert_eq!(
            s["Tok"]["x-amazon-apigateway-authorizer"]["authorizerResultTtlInSeconds"],
            0
        );
        assert_eq!(
            s["Req"]["x-amazon-apigateway-authorizer"]["identitySource"],
            "method.request.header.X-A, method.request.querystring.q"
        );
        assert_eq!(
            s["Pool"]["x-amazon-apigateway-authtype"],
            "cognito_user_pools"
        );
        assert_eq!(s[API_KEY]["name"], "x-api-key");
        assert_eq!(
            a.requirement(None),
            Some(json!([{"Tok": [], "api_key": []}]))
        );
        let open = json!({"Authorizer": "NONE", "ApiKeyRequired": false});
        assert_eq!(a.requirement(Some(&open)), None);
        let pool = json!({"Authorizer": "Pool", "AuthorizationScopes": ["read"]});
        assert_eq!(
            a.requirement(Some(&pool)),
            Some(json!([{"Pool": ["read"], "api_key": []}]))
        );
    }

    #[test]
    fn http_jwt_authorizer_and_missing_configuration() {
        let auth = json!({"Authorizers": {"Jwt": {
            "JwtConfiguration": {"issuer": "http://127.0.0.1:9/", "audience": ["app"]},
            "IdentitySource": "$request.header.Authorization"}}});
        let a = ApiAuth {
            kind: ApiKind::Http,
            auth: &auth,
            region: "us-east-1",
        };
        let s = a.schemes(false, false).unwrap();
        let ext = &s["Jwt"]["x-amazon-apigateway-authorizer"];
        assert_eq!(ext["type"], "jwt");
        assert_eq!(ext["jwtConfiguration"]["audience"], json!(["app"]));
        let bad = json!({"Authorizers": {"X": {}}});
        let a = ApiAuth {
            kind: ApiKind::Http,
            auth: &bad,
            region: "us-east-1",
        };
        assert!(a.schemes(false, false).is_err());
    }
}
