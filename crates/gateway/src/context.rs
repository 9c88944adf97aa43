//! `$context`: what API Gateway knows about one request, filled in as the pipeline runs.
//! Used by parameter mappings, gateway response templates and access logs.

use std::borrow::Cow;
use std::sync::Arc;

use tollgate_model::GatewayResponseType;

/// The error being answered, for `$context.error.*`.
#[derive(Debug, Clone)]
pub struct ErrorContext {
    pub response_type: GatewayResponseType,
    pub message: Cow<'static, str>,
    pub validation_error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub extended_request_id: String,
    pub api_id: Arc<str>,
    pub stage: Arc<str>,
    pub deployment_id: Arc<str>,
    pub resource_id: Option<Arc<str>>,
    pub resource_path: Option<Arc<str>>,
    pub http_method: http::Method,
    /// `/{stage}/...` as the client sent it (AWS's `$context.path`).
    pub path: String,
    pub protocol: &'static str,
    pub request_time_epoch: i64,
    pub source_ip: String,
    pub user_agent: Option<String>,
    pub domain_name: String,
    pub domain_prefix: String,
    pub is_canary: Option<bool>,
    pub trace_id: String,
    pub status: u16,
    pub response_length: u64,
    pub response_latency_ms: u64,
    pub integration_latency_ms: Option<u64>,
    pub integration_status: Option<u16>,
    pub error: Option<ErrorContext>,
    /// (key id, key value) once the API key phase accepted a key.
    pub api_key: Option<(Arc<str>, Box<str>)>,
    /// TestInvokeMethod's record of what went to and came from the endpoint; `None` for
    /// live requests, which never pay for copying bodies.
    pub execution_log: Option<Box<ExecutionLog>>,
}

/// The bodies TestInvokeMethod's log shows around the integration call.
#[derive(Debug, Clone, Default)]
pub struct ExecutionLog {
    /// "Endpoint request body after transformations".
    pub endpoint_request_body: Option<bytes::Bytes>,
    /// "Endpoint response body before transformations".
    pub endpoint_response_body: Option<bytes::Bytes>,
}

impl RequestContext {
    /// Records the endpoint request body when an execution log is kept.
    pub fn log_endpoint_request(&mut self, body: &bytes::Bytes) {
        if let Some(log) = &mut self.execution_log {
            log.endpoint_request_body = Some(body.clone());
        }
    }

    /// Records the endpoint response body when an execution log is kept.
    pub fn log_endpoint_response(&mut self, body: &bytes::Bytes) {
        if let Some(log) = &mut self.execution_log {
            log.endpoint_response_body = Some(body.clone());
        }
    }
}

impl RequestContext {
    /// `$context.{name}` as text, or `None` when it has no value.
    pub fn var(&self, name: &str) -> Option<Cow<'_, str>> {
        let b = |s: &str| Some(Cow::Owned(s.to_string()));
        Some(match name {
            "requestId" | "awsEndpointRequestId" => Cow::Borrowed(self.request_id.as_str()),
            "extendedRequestId" => Cow::Borrowed(self.extended_request_id.as_str()),
            "apiId" => Cow::Borrowed(&*self.api_id),
            "stage" => Cow::Borrowed(&*self.stage),
            "deploymentId" => Cow::Borrowed(&*self.deployment_id),
            "resourceId" => Cow::Borrowed(self.resource_id.as_deref()?),
            "resourcePath" => Cow::Borrowed(self.resource_path.as_deref()?),
            "httpMethod" => Cow::Borrowed(self.http_method.as_str()),
            "path" => Cow::Borrowed(self.path.as_str()),
            "protocol" => Cow::Borrowed(self.protocol),
            "requestTime" => Cow::Owned(tollgate_model::time::clf_time(self.request_time_epoch)),
            "requestTimeEpoch" => Cow::Owned(self.request_time_epoch.to_string()),
            "identity.sourceIp" => Cow::Borrowed(self.source_ip.as_str()),
            "identity.apiKeyId" => Cow::Borrowed(&*self.api_key.as_ref()?.0),
            "identity.apiKey" => Cow::Borrowed(&*self.api_key.as_ref()?.1),
            "identity.userAgent" => Cow::Borrowed(self.user_agent.as_deref()?),
            "domainName" => Cow::Borrowed(self.domain_name.as_str()),
            "domainPrefix" => Cow::Borrowed(self.domain_prefix.as_str()),
            "accountId" => Cow::Borrowed(tollgate_model::ACCOUNT_ID),
            "isCanaryRequest" => Cow::Borrowed(if self.is_canary? { "true" } else { "false" }),
            "xrayTraceId" => Cow::Borrowed(self.trace_id.as_str()),
            "status" => Cow::Owned(self.status.to_string()),
            "responseLength" => Cow::Owned(self.response_length.to_string()),
            "responseLatency" => Cow::Owned(self.response_latency_ms.to_string()),
            "integrationLatency" | "integration.latency" => {
                Cow::Owned(self.integration_latency_ms?.to_string())
            }
            "integrationStatus" | "integration.status" => {
                Cow::Owned(self.integration_status?.to_string())
            }
            "error.message" => Cow::Borrowed(&*self.error.as_ref()?.message),
            "error.messageString" => {
                Cow::Owned(serde_json::to_string(&*self.error.as_ref()?.message).ok()?)
            }
            "error.responseType" => Cow::Borrowed(self.error.as_ref()?.response_type.as_str()),
            "error.validationErrorString" => {
                b(self.error.as_ref()?.validation_error.as_deref()?)?
            }
            _ => return None,
        })
    }
}

/// A `$context` reference found in a template, for templates compiled once per deployment.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Literal(String),
    Context(String),
    StageVariable(String),
}

/// Splits a simple substitution template into literals and `$context.x` / `$stageVariables.x`
/// references (also `${context.x}` forms). Used for access-log formats and gateway
/// response templates, which AWS renders by substitution, not full VTL.
pub fn compile_substitution(template: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let bytes = template.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let (braced, start) = if bytes.get(i + 1) == Some(&b'{') {
                (true, i + 2)
            } else {
                (false, i + 1)
            };
            let rest = &template[start..];
            let kind = if rest.starts_with("context.") {
                Some(("context.".len(), true))
            } else if rest.starts_with("stageVariables.") {
                Some(("stageVariables.".len(), false))
            } else {
                None
            };
            if let Some((plen, is_ctx)) = kind {
                let name_start = start + plen;
                let mut j = name_start;
                while j < bytes.len()
                    && (bytes[j].is_ascii_alphanumeric()
                        || bytes[j] == b'_'
                        || (is_ctx && bytes[j] == b'.'))
                {
                    j += 1;
                }
                // A trailing dot belongs to the text, not the name.
                while j > name_start && bytes[j - 1] == b'.' {
                    j -= 1;
                }
                let closed = !braced || bytes.get(j) == Some(&b'}');
                if j > name_start && closed {
                    if !lit.is_empty() {
                        out.push(Piece::Literal(std::mem::take(&mut lit)));
                    }
                    let name = template[name_start..j].to_string();
                    out.push(if is_ctx {
                        Piece::Context(name)
                    } else {
                        Piece::StageVariable(name)
                    });
                    i = if braced { j + 1 } else { j };
                    continue;
                }
            }
        }
        let ch_len = template[i..].chars().next().map_or(1, char::len_utf8);
        lit.push_str(&template[i..i + ch_len]);
        i += ch_len;
    }
    if !lit.is_empty() {
        out.push(Piece::Literal(lit));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitution_pieces() {
        let p = compile_substitution(
            "{\"message\":$context.error.messageString, \"s\":\"${stageVariables.v}\"}.",
        );
        assert_eq!(
            p,
            vec![
                Piece::Literal("{\"message\":".into()),
                Piece::Context("error.messageString".into()),
                Piece::Literal(", \"s\":\"".into()),
                Piece::StageVariable("v".into()),
                Piece::Literal("\"}.".into()),
            ]
        );
        assert_eq!(
            compile_substitution("$context.requestId."),
            vec![
                Piece::Context("requestId".into()),
                Piece::Literal(".".into())
            ]
        );
        assert_eq!(
            compile_substitution("$x ${nope} $"),
            vec![Piece::Literal("$x ${nope} $".into())]
        );
        assert_eq!(
            compile_substitution("héllo $context.stage"),
            vec![
                Piece::Literal("héllo ".into()),
                Piece::Context("stage".into())
            ]
        );
    }
}
