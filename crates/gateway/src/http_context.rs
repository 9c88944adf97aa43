//! An HTTP API's `$context` (API Gateway v2): its own table of variables, apart from REST's
//! (`context.rs`), for access logs ([`ContextVars`]). Filled as the request goes through the HTTP pipeline.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::{json, Map, Value};
use tollgate_authorizers::http_lambda::HttpAuthorizerOutput;
use tollgate_authorizers::Claims;

use crate::access_log::ContextVars;

/// What a route's authorizer let through.
#[derive(Debug, Clone)]
pub enum HttpAuthorized {
    /// A JWT's claims as text; the token's scopes when the route asks for some.
    Jwt {
        claims: Claims,
        scopes: Option<Vec<String>>,
    },
    Lambda(Arc<HttpAuthorizerOutput>),
    /// An `AWS_IAM` route's SigV4 caller.
    Iam(Arc<crate::iam::CallerIdentity>),
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl HttpAuthorized {
    fn claims_object(claims: &Claims) -> Value {
        Value::Object(
            claims
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    }

    /// `requestContext.authorizer` of a payload 2.0 event (lambda-events.md §2.1).
    pub fn event_v2(&self) -> Value {
        match self {
            HttpAuthorized::Jwt { claims, scopes } => {
                json!({"jwt": {"claims": Self::claims_object(claims), "scopes": scopes}})
            }
            HttpAuthorized::Lambda(out) => json!({"lambda": out.context}),
            HttpAuthorized::Iam(c) => json!({"iam": {
                "accessKey": c.access_key,
                "accountId": c.account,
                "callerId": c.user_id,
                "cognitoIdentity": null,
                "principalOrgId": null,
                "userArn": c.arn,
                "userId": c.user_id,
            }}),
        }
    }

    /// The IAM caller, for `requestContext.identity` and `$context.identity.*`.
    pub fn iam(this: Option<&Self>) -> Option<&crate::iam::CallerIdentity> {
        match this {
            Some(HttpAuthorized::Iam(c)) => Some(c),
            _ => None,
        }
    }

    /// `requestContext.authorizer` of a payload 1.0 event: REST's shape (`claims` and
    /// `scopes`, or the Lambda authorizer's `principalId` and context values).
    pub fn event_v1(this: Option<&Self>) -> Value {
        match this {
            None => json!({"claims": null, "scopes": null}),
            Some(HttpAuthorized::Jwt { claims, scopes }) => {
                json!({"claims": Self::claims_object(claims), "scopes": scopes})
            }
            // An IAM caller is `requestContext.identity`'s, not an authorizer's.
            Some(HttpAuthorized::Iam(_)) => json!({"claims": null, "scopes": null}),
            Some(HttpAuthorized::Lambda(out)) => {
                let mut m = Map::new();
                if let Some(p) = &out.principal_id {
                    m.insert("principalId".into(), Value::String(p.clone()));
                }
                m.extend(out.context.iter().map(|(k, v)| (k.clone(), v.clone())));
                Value::Object(m)
            }
        }
    }

    /// `$context.authorizer.{name}`: `claims.x` of a JWT, `principalId` or a context
    /// value of a Lambda authorizer.
    fn var(&self, name: &str) -> Option<Cow<'_, str>> {
        match self {
            HttpAuthorized::Jwt { claims, .. } => {
                let claim = name.strip_prefix("claims.")?;
                claims
                    .iter()
                    .find(|(k, _)| k == claim)
                    .map(|(_, v)| Cow::Borrowed(v.as_str()))
            }
            HttpAuthorized::Lambda(out) => match name {
                "principalId" => out.principal_id.as_deref().map(Cow::Borrowed),
                _ => out.context.get(name).map(|v| Cow::Owned(value_text(v))),
            },
            HttpAuthorized::Iam(c) => match name {
                "iam.accessKey" => Some(Cow::Borrowed(&c.access_key)),
                "iam.accountId" => Some(Cow::Borrowed(&c.account)),
                "iam.callerId" | "iam.userId" => Some(Cow::Borrowed(&c.user_id)),
                "iam.userArn" => Some(Cow::Borrowed(&c.arn)),
                _ => None,
            },
        }
    }
}

/// An integration's AWS request id, carried from the integration to the access log as a
/// response extension (taken off before the response leaves).
#[derive(Clone, Debug)]
pub struct IntegrationRequestId(pub String);

/// What `$context.x` reads on an HTTP API.
#[derive(Debug, Default)]
pub struct HttpContext {
    pub request_id: String,
    pub api_id: String,
    pub stage: String,
    pub route_key: Option<String>,
    /// The matched route's index in the deployment (its metrics series).
    pub route_index: Option<usize>,
    pub http_method: String,
    /// The path as the client sent it after the API's address.
    pub path: String,
    pub protocol: &'static str,
    pub source_ip: String,
    pub user_agent: String,
    pub domain_name: String,
    pub request_time_epoch_ms: i64,
    pub status: u16,
    pub response_length: u64,
    pub response_latency_ms: u64,
    /// What the integration answered: a Lambda proxy's function's own status
    /// (`$context.integration.status`).
    pub integration_status: Option<u16>,
    /// What the call to the integration answered: Lambda's invoke status (200), else the
    /// backend's (`$context.integrationStatus`, `$context.integration.integrationStatus`).
    pub integration_call_status: Option<u16>,
    pub integration_latency_ms: Option<u64>,
    /// The AWS endpoint's request id: the Lambda invocation's, or an AWS service's
    /// (`$context.integration.requestId`, `$context.awsEndpointRequestId`).
    pub integration_request_id: Option<String>,
    /// Request and response body bytes known when the request was answered
    /// (`$context.dataProcessed`).
    pub data_processed: u64,
    /// The API mapping key a custom domain matched, `(none)` for the root mapping.
    pub base_path_matched: Option<Box<str>>,
    /// Why the gateway answered itself (`$context.error.message`), or the integration's
    /// error (`$context.integration.error`).
    pub error_message: Option<&'static str>,
    pub integration_error: Option<&'static str>,
    /// What the route's authorizer let through.
    pub authorizer: Option<HttpAuthorized>,
    /// Why the authorizer refused (`$context.authorizer.error`).
    pub authorizer_error: Option<&'static str>,
    /// The `www-authenticate` challenge of a JWT refusal.
    pub challenge: Option<String>,
    /// A mutual TLS client's certificate (custom domains with a truststore): payload 2.0
    /// events' `requestContext.authentication.clientCert`.
    pub client_cert: Option<std::sync::Arc<crate::domains::ClientCert>>,
    /// The trace of a caller that sent one. HTTP APIs sample no request themselves: a
    /// caller's `Sampled=1` (or `traceparent` flag) is honoured.
    pub trace: Option<tollgate_traces::TraceContext>,
    pub sampled: bool,
    /// The spans of a sampled request while an OTLP endpoint is configured.
    pub spans: Option<Box<tollgate_traces::Recorder>>,
}

impl HttpContext {
    /// `X-Amzn-Trace-Id` for a function invoked for this request.
    pub fn trace_header(&self) -> Option<String> {
        self.trace.map(|t| t.amzn_header(self.sampled))
    }
}

impl ContextVars for HttpContext {
    fn var(&self, name: &str) -> Option<Cow<'_, str>> {
        let s = |v: &str| Some(Cow::Owned(v.to_string()));
        let n = |v: Option<u64>| v.map(|v| Cow::Owned(v.to_string()));
        match name {
            "requestId" | "extendedRequestId" => Some(Cow::Borrowed(&self.request_id)),
            "apiId" => Some(Cow::Borrowed(&self.api_id)),
            "stage" => Some(Cow::Borrowed(&self.stage)),
            "routeKey" => self.route_key.as_deref().map(Cow::Borrowed),
            "httpMethod" => Some(Cow::Borrowed(&self.http_method)),
            "path" => Some(Cow::Borrowed(&self.path)),
            "protocol" => s(self.protocol),
            "identity.sourceIp" => Some(Cow::Borrowed(&self.source_ip)),
            "identity.userAgent" => Some(Cow::Borrowed(&self.user_agent)),
            "identity.accessKey" | "identity.accountId" | "identity.caller" | "identity.user"
            | "identity.userArn" => {
                let c = HttpAuthorized::iam(self.authorizer.as_ref())?;
                Some(Cow::Borrowed(match name {
                    "identity.accessKey" => &c.access_key,
                    "identity.accountId" => &c.account,
                    "identity.userArn" => &c.arn,
                    _ => &c.user_id,
                }))
            }
            "domainName" => Some(Cow::Borrowed(&self.domain_name)),
            "domainPrefix" => Some(Cow::Borrowed(crate::frontend::domain_prefix(
                &self.domain_name,
            ))),
            "accountId" => s(tollgate_model::ACCOUNT_ID),
            "requestTime" => Some(Cow::Owned(tollgate_model::time::clf_time(
                self.request_time_epoch_ms,
            ))),
            "requestTimeEpoch" => n(u64::try_from(self.request_time_epoch_ms).ok()),
            "status" => n(Some(u64::from(self.status))),
            "responseLength" => n(Some(self.response_length)),
            "responseLatency" => n(Some(self.response_latency_ms)),
            "integration.status" => n(self.integration_status.map(u64::from)),
            "integrationStatus" | "integration.integrationStatus" => {
                n(self.integration_call_status.map(u64::from))
            }
            "integration.requestId" | "awsEndpointRequestId" => {
                self.integration_request_id.as_deref().map(Cow::Borrowed)
            }
            "dataProcessed" => n(Some(self.data_processed)),
            "customDomain.basePathMatched" => self.base_path_matched.as_deref().map(Cow::Borrowed),
            "integrationLatency" | "integration.latency" => n(self.integration_latency_ms),
            "integrationErrorMessage" | "integration.error" => {
                self.integration_error.map(Cow::Borrowed)
            }
            "error.message" => self.error_message.map(Cow::Borrowed),
            // The message as a JSON string, quotes included (AWS: `"$context.error.message"`).
            "error.messageString" => self.error_message.map(|m| Cow::Owned(format!("\"{m}\""))),
            "authorizer.error" => self.authorizer_error.map(Cow::Borrowed),
            _ => match name.strip_prefix("authorizer.") {
                Some(rest) => self.authorizer.as_ref()?.var(rest),
                None => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_variables() {
        let c = HttpContext {
            request_id: "r=".into(),
            route_key: Some("GET /pets".into()),
            domain_name: "abc.execute-api.localhost".into(),
            status: 503,
            integration_error: Some("timeout"),
            ..HttpContext::default()
        };
        assert_eq!(c.var("routeKey").as_deref(), Some("GET /pets"));
        assert_eq!(c.var("status").as_deref(), Some("503"));
        assert_eq!(c.var("domainPrefix").as_deref(), Some("abc"));
        assert_eq!(c.var("integration.error").as_deref(), Some("timeout"));
        assert_eq!(c.var("integrationStatus"), None);
        assert_eq!(c.var("integration.requestId"), None);
        assert_eq!(c.var("nope"), None);
        // A Lambda proxy: the invoke answered 200, the function chose 201.
        let c = HttpContext {
            integration_status: Some(201),
            integration_call_status: Some(200),
            integration_request_id: Some("7e1d".into()),
            error_message: Some("Not Found"),
            data_processed: 42,
            base_path_matched: Some("v1".into()),
            ..HttpContext::default()
        };
        assert_eq!(c.var("integration.status").as_deref(), Some("201"));
        assert_eq!(c.var("integrationStatus").as_deref(), Some("200"));
        assert_eq!(
            c.var("integration.integrationStatus").as_deref(),
            Some("200")
        );
        assert_eq!(c.var("integration.requestId").as_deref(), Some("7e1d"));
        assert_eq!(c.var("awsEndpointRequestId").as_deref(), Some("7e1d"));
        assert_eq!(
            c.var("error.messageString").as_deref(),
            Some("\"Not Found\"")
        );
        assert_eq!(c.var("dataProcessed").as_deref(), Some("42"));
        assert_eq!(c.var("customDomain.basePathMatched").as_deref(), Some("v1"));
    }
}
