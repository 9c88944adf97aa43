//! Execution logs (stages-canary-domains.md §6): REST methods with `logging/loglevel`
//! `INFO` (every request) or `ERROR` (requests that failed) get TestInvokeMethod's lines,
//! each `(requestId) text` as CloudWatch shows them and cut at 1024 bytes as AWS cuts
//! events, in `{execution-logs}/{apiId}-{stage}.log`. `logging/dataTrace` adds the request's
//! parameters and headers and the bodies around the integration. The lines' texts are made
//! here for both: TestInvokeMethod stamps them with a date instead.

use std::path::Path;
use std::sync::Arc;

use tollgate_model::vocabulary::LoggingLevel;
use tollgate_model::{RestApiDefinition, Stage};

use crate::context::{ErrorContext, ExecutionLog, RequestContext};
use crate::method_settings::MethodTable;

/// AWS cuts each log event at this many bytes.
pub const MAX_EVENT: usize = 1024;

/// How one method is logged.
#[derive(Clone, Copy, Debug)]
pub struct MethodLogging {
    /// Every request (`INFO`), or only failed ones (`ERROR`).
    pub info: bool,
    pub data_trace: bool,
}

/// A REST stage's execution logging: its file and its logged methods.
#[derive(Debug)]
pub struct StageExecutionLog {
    file: Arc<Path>,
    methods: MethodTable<MethodLogging>,
}

impl StageExecutionLog {
    /// `None` when no method of the stage logs.
    pub fn build(
        file: impl FnOnce() -> Arc<Path>,
        stage: &Stage,
        definitions: &[&RestApiDefinition],
    ) -> Option<StageExecutionLog> {
        let mut any = false;
        let methods = MethodTable::build(stage, definitions, |_, _, s| {
            let info = match s.logging_level? {
                LoggingLevel::Off => return None,
                LoggingLevel::Error => false,
                LoggingLevel::Info => true,
            };
            any = true;
            Some(MethodLogging {
                info,
                data_trace: s.data_trace_enabled,
            })
        });
        any.then(|| StageExecutionLog {
            file: file(),
            methods,
        })
    }

    pub fn file(&self) -> &Arc<Path> {
        &self.file
    }

    /// How the method a request was routed to is logged, if it is.
    pub fn for_method(&self, resource_path: Option<&str>, verb: &str) -> Option<MethodLogging> {
        self.methods.get(resource_path, verb).copied()
    }
}

/// A map as Java's `toString()` prints it: `{a=1, b=2}`.
pub fn java_map<'a>(entries: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let inner: Vec<String> = entries.map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", inner.join(", "))
}

/// The method request as AWS logs it: the method and path, then (with data trace) its
/// path parameters, query string and headers.
pub fn method_request_lines<'a>(
    verb: &str,
    path: &str,
    params: impl Iterator<Item = (&'a str, &'a str)>,
    query: impl Iterator<Item = (&'a str, &'a str)>,
    headers: impl Iterator<Item = (&'a str, &'a str)>,
) -> Vec<String> {
    vec![
        format!("HTTP Method: {verb}, Resource Path: {path}"),
        format!("Method request path: {}", java_map(params)),
        format!("Method request query string: {}", java_map(query)),
        format!("Method request headers: {}", java_map(headers)),
    ]
}

/// A header's value as an execution log shows it: credentials (`Authorization`, API keys,
/// session tokens, cookies) masked but their last four characters, as AWS masks them,
/// so a log file never holds a usable secret.
pub fn redacted(name: &str, value: &str) -> String {
    const SECRET: [&str; 4] = [
        "authorization",
        "x-api-key",
        "x-amz-security-token",
        "cookie",
    ];
    if !SECRET.iter().any(|s| name.eq_ignore_ascii_case(s)) {
        return value.to_string();
    }
    let n = value.chars().count();
    let keep = if n > 8 { 4 } else { 0 };
    let mut out = "*".repeat(n - keep);
    out.extend(value.chars().skip(n - keep));
    out
}

/// AWS's lines around the integration call, for integrations that have an endpoint.
pub fn endpoint_lines(endpoint: &ExecutionLog) -> Vec<String> {
    let mut out = Vec::new();
    let exchange = endpoint.exchange.as_ref();
    if let Some(x) = exchange {
        out.push(format!("Endpoint request URI: {}", x.uri));
        if let Some(h) = &x.request_headers {
            out.push(format!("Endpoint request headers: {h}"));
        }
    }
    if let Some(sent) = &endpoint.endpoint_request_body {
        out.push(format!(
            "Endpoint request body after transformations: {}",
            String::from_utf8_lossy(sent)
        ));
    }
    if let Some(x) = exchange {
        out.push(format!("Sending request to {}", x.uri));
        out.push(format!(
            "Received response. Status: {}, Integration latency: {} ms",
            x.status, x.latency_ms
        ));
        out.push(format!("Endpoint response headers: {}", x.response_headers));
    }
    if let Some(received) = &endpoint.endpoint_response_body {
        out.push(format!(
            "Endpoint response body before transformations: {}",
            String::from_utf8_lossy(received)
        ));
    }
    out
}

/// How the request ended. `response` (body, headers) is shown when known: TestInvokeMethod
/// has the whole answer, a live request streams it.
pub fn outcome_lines(
    error: Option<&ErrorContext>,
    status: u16,
    response: Option<(&str, &str)>,
) -> Vec<String> {
    let mut out = Vec::new();
    match error {
        Some(e) if status >= 500 => out.push(format!(
            "Execution failed due to configuration error: {}",
            e.log_detail.unwrap_or(&e.message)
        )),
        Some(e) => {
            out.push(format!(
                "Gateway response type: {} with status code: {status}",
                e.response_type.as_str()
            ));
            if let Some((body, _)) = response {
                out.push(format!("Gateway response body: {body}"));
            }
        }
        None => {
            if let Some((body, headers)) = response {
                out.push(format!(
                    "Method response body after transformations: {body}"
                ));
                out.push(format!("Method response headers: {headers}"));
            }
            out.push("Successfully completed execution".into());
        }
    }
    out.push(format!("Method completed with status: {status}"));
    out
}

/// The log lines of one live request (`None` when its level leaves it out), one per line.
pub fn render(ctx: &RequestContext, logging: MethodLogging) -> Option<String> {
    let failed = ctx.error.is_some() || ctx.status >= 400;
    if !logging.info && !failed {
        return None;
    }
    let mut texts = vec![
        format!("Extended Request Id: {}", ctx.extended_request_id),
        format!("Starting execution for request: {}", ctx.request_id),
    ];
    if let Some(log) = &ctx.execution_log {
        texts.extend(log.method_request.iter().cloned());
        if logging.data_trace {
            texts.extend(endpoint_lines(log));
        }
    }
    texts.extend(outcome_lines(ctx.error.as_ref(), ctx.status, None));
    let mut out = String::with_capacity(texts.len() * 80);
    for (i, text) in texts.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let start = out.len();
        out.push('(');
        out.push_str(&ctx.request_id);
        out.push_str(") ");
        out.push_str(text);
        truncate_event(&mut out, start);
    }
    Some(out)
}

/// Cuts the event that starts at `start` to [`MAX_EVENT`] bytes (on a character boundary;
/// a newline inside it would start a false event, so it is escaped).
fn truncate_event(out: &mut String, start: usize) {
    if out[start..].contains('\n') {
        let escaped = out[start..].replace('\n', "\\n");
        out.truncate(start);
        out.push_str(&escaped);
    }
    if out.len() - start > MAX_EVENT {
        let mut end = start + MAX_EVENT;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_masked_but_their_last_four_characters() {
        assert_eq!(
            redacted("X-API-Key", "wsapikey0123456789abcdef"),
            "********************cdef"
        );
        assert_eq!(redacted("authorization", "short"), "*****");
        assert_eq!(redacted("accept", "text/plain"), "text/plain");
    }

    #[test]
    fn events_are_cut_at_1024_bytes_on_a_character_boundary() {
        let mut s = String::from("first\n");
        let start = s.len();
        s.push_str(&"é".repeat(600));
        truncate_event(&mut s, start);
        assert!(s.len() - start <= MAX_EVENT);
        assert!(s.len() - start >= MAX_EVENT - 1);
        let mut s = String::from("a\nb");
        truncate_event(&mut s, 0);
        assert_eq!(s, "a\\nb");
    }
}
