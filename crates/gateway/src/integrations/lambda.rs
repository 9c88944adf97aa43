//! Lambda integrations: `AWS_PROXY` (the payload 1.0 proxy event and the proxy response
//! rules of lambda-events.md §1 and §4) and `AWS` (non-proxy: the rendered template is the
//! payload; function errors are selected by their `errorMessage`).

use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::Response;
use serde_json::{json, Map, Value};
use tollgate_functions::{Functions, InvokeError, InvokeRequest, ServicePermission};
use tollgate_model::lambda::FunctionRef;
use tollgate_model::GatewayResponseType as T;

use super::call::{Answer, Call, CallRecord, Integration};
use crate::body::GatewayBody;
use crate::compile::CompiledIntegration;
use crate::content_handling::is_binary;
use crate::context::View;
use crate::error::GatewayError;
use crate::invocation::{IntegrationOutput, Invocation, RequestBody, Selection};
use crate::pipeline::integration_request;
use crate::pipeline::method_request::{Params, Routed};
use crate::response_case::ResponseSpellings;

/// Headers that never reach the function (hop-by-hop and framing).
const DROPPED: [&str; 6] = [
    "connection",
    "content-length",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
];

/// HTTP's standard request headers: AWS's edge shows them capitalised however they were
/// sent (recorded: `user-Agent`, `authorization` and `aUThorization` arrive as
/// `User-Agent` and `Authorization`), other names as sent (`tEsT-HEADeR`, `foobar`).
const STANDARD_NAMES: [&str; 31] = [
    "accept",
    "accept-charset",
    "accept-encoding",
    "accept-language",
    "authorization",
    "cache-control",
    "connection",
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "cookie",
    "date",
    "expect",
    "forwarded",
    "from",
    "host",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "max-forwards",
    "origin",
    "pragma",
    "proxy-authorization",
    "range",
    "referer",
    "user-agent",
    "via",
];

/// `user-agent` → `User-Agent`: a name whose spelling the client's head does not tell
/// (HTTP/2, or a name the gateway added) in the canonical form (as AWS's edge capitalises).
pub(crate) fn title_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut up = true;
    for c in name.chars() {
        out.push(if up { c.to_ascii_uppercase() } else { c });
        up = c == '-';
    }
    out
}

pub(crate) fn string_map(pairs: impl Iterator<Item = (String, String)>) -> (Value, Value) {
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (k, v) in pairs {
        single.insert(k.clone(), Value::String(v.clone()));
        match multi.get_mut(&k) {
            Some(Value::Array(a)) => a.push(Value::String(v)),
            _ => {
                multi.insert(k, Value::Array(vec![Value::String(v)]));
            }
        }
    }
    if single.is_empty() {
        (Value::Null, Value::Null)
    } else {
        (Value::Object(single), Value::Object(multi))
    }
}

/// The request as the REST proxy event and the REQUEST authorizer event show it
/// (`resource` through `requestContext`), in the events' key order.
pub fn request_members(
    inv: &Invocation<'_>,
    resource_path: &str,
    params: &Params<'_>,
) -> Map<String, Value> {
    let ip = crate::client_ip::ip_string(inv.remote.ip());
    let spellings = inv.raw_head.as_ref().and_then(|h| {
        let sent = match inv.parts.extensions.get::<crate::frontend::SignedUri>() {
            Some(s) => &s.0,
            None => &inv.parts.uri,
        };
        h.spellings(inv.parts.method.as_str(), &sent.to_string())
    });
    let spelled = |n: &str| match spellings.as_ref().and_then(|s| s.get(n)) {
        Some(sent) if !STANDARD_NAMES.contains(&n) => sent.to_string(),
        _ => title_case(n),
    };
    let headers = inv
        .parts
        .headers
        .iter()
        // The trace id is the gateway's (the caller's Root kept), as HTTP backends get it.
        .filter(|(n, _)| {
            !DROPPED.contains(&n.as_str())
                && n.as_str() != "x-forwarded-for"
                && n.as_str() != "x-amzn-trace-id"
        })
        .map(|(n, v)| {
            (
                spelled(n.as_str()),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .chain(
            [
                (
                    "X-Forwarded-For",
                    match inv
                        .parts
                        .headers
                        .get("x-forwarded-for")
                        .and_then(|v| v.to_str().ok())
                    {
                        Some(prev) => format!("{prev}, {ip}"),
                        None => ip.clone(),
                    },
                ),
                ("X-Forwarded-Port", inv.ctx_local_port()),
                ("X-Forwarded-Proto", inv.forwarded_proto().to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v)),
        )
        .chain(std::iter::once((
            "X-Amzn-Trace-Id".to_string(),
            inv.ctx.trace_id.clone(),
        )));
    let (headers, multi_headers) = string_map(headers);
    let (query, multi_query) = string_map(params.query.iter().cloned());
    let path_params = if params.path.is_empty() {
        Value::Null
    } else {
        Value::Object(
            params
                .path
                .iter()
                .map(|(k, v)| (k.to_string(), Value::String(v.clone())))
                .collect(),
        )
    };
    let stage_variables = if inv.stage_variables.is_empty() {
        Value::Null
    } else {
        json!(inv.stage_variables)
    };
    let mut m = Map::with_capacity(12);
    m.insert("resource".into(), resource_path.into());
    m.insert("path".into(), proxy_path(inv.routing_path).into());
    m.insert("httpMethod".into(), inv.parts.method.as_str().into());
    m.insert("headers".into(), headers);
    m.insert("multiValueHeaders".into(), multi_headers);
    m.insert("queryStringParameters".into(), query);
    m.insert("multiValueQueryStringParameters".into(), multi_query);
    m.insert("pathParameters".into(), path_params);
    m.insert("stageVariables".into(), stage_variables);
    m.insert(
        "requestContext".into(),
        Value::Object(inv.ctx.object(View::ProxyEvent)),
    );
    m
}

/// The REST proxy event (payload 1.0).
pub fn proxy_event(
    inv: &Invocation<'_>,
    routed: &Routed,
    params: &Params<'_>,
    body: &[u8],
) -> Vec<u8> {
    let mut event = request_members(inv, &routed.route.resource_path, params);
    let content_type = inv
        .parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let (body, encoded) = if body.is_empty() {
        (Value::Null, false)
    } else if is_binary(&inv.deployment.binary_media_types, content_type) {
        (
            Value::String(base64::engine::general_purpose::STANDARD.encode(body)),
            true,
        )
    } else {
        match std::str::from_utf8(body) {
            Ok(s) => (Value::String(s.to_string()), false),
            Err(_) => (
                Value::String(base64::engine::general_purpose::STANDARD.encode(body)),
                true,
            ),
        }
    };
    event.insert("body".into(), body);
    event.insert("isBase64Encoded".into(), encoded.into());
    serde_json::to_vec(&Value::Object(event)).unwrap_or_default()
}

/// The event's `path`: the request path after the stage, leading `//` collapsed.
fn proxy_path(routing_path: &str) -> String {
    let trimmed = routing_path.trim_start_matches('/');
    format!("/{trimmed}")
}

/// Invokes the integration's function with `payload`.
pub async fn invoke(
    functions: Option<&Arc<Functions>>,
    i: &CompiledIntegration,
    inv: &Invocation<'_>,
    payload: Vec<u8>,
) -> Result<tollgate_functions::InvokeResponse, GatewayError> {
    let functions = functions.ok_or_else(GatewayError::internal)?;
    let target = i
        .lambda_function
        .as_ref()
        .ok_or_else(GatewayError::internal)?
        .resolve(inv.stage_variables, &inv.ctx.api_id)?;
    let name = &target.name;
    if !i.has_credentials {
        check_permission(functions, &target, inv)?;
    }
    let call = functions.invoke(
        name,
        target.qualifier.as_deref(),
        InvokeRequest {
            payload: Bytes::from(payload),
            log_tail: false,
            client_context: None,
            trace_id: Some(inv.ctx.trace_id.clone()),
        },
    );
    match tokio::time::timeout(i.timeout, call).await {
        Err(_) => Err(GatewayError::new(
            T::IntegrationTimeout,
            "Endpoint request timed out",
        )),
        Ok(Ok(out)) => Ok(out),
        Ok(Err(e)) => {
            tracing::info!(api = %inv.ctx.api_id, function = %name, error = %e, "Lambda invocation failed");
            Err(match e {
                // lambda-events.md §4.4: other invoke failures are 502 [LS]; a throttled
                // invoke is Lambda's 429, which API Gateway reports as a 500 [Est].
                InvokeError::TooManyRequests { .. } => GatewayError::internal(),
                _ => bad_gateway(),
            })
        }
    }
}

/// The function's resource policy must let API Gateway invoke it for this method
/// (`SourceArn` `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{verb}{resourcePath}`),
/// unless the integration has credentials.
fn check_permission(
    functions: &Functions,
    target: &FunctionRef,
    inv: &Invocation<'_>,
) -> Result<(), GatewayError> {
    let ctx = &inv.ctx;
    let source_arn = format!(
        "arn:aws:execute-api:{}:{}:{}/{}/{}{}",
        functions.region(),
        tollgate_model::ACCOUNT_ID,
        ctx.api_id,
        ctx.stage,
        ctx.http_method,
        ctx.resource_path.as_deref().unwrap_or("/"),
    );
    permit(functions, target, &ctx.api_id, &ctx.stage, &source_arn)
}

/// Whether the function's resource policy lets API Gateway invoke it for `source_arn`
/// (REST and HTTP APIs alike); denied: 500 and AWS's line in the server log, unless
/// permissions are only warned about.
pub fn permit(
    functions: &Functions,
    target: &FunctionRef,
    api_id: &str,
    stage: &str,
    source_arn: &str,
) -> Result<(), GatewayError> {
    match functions.service_permission(
        &target.name,
        target.qualifier.as_deref(),
        "apigateway.amazonaws.com",
        source_arn,
    ) {
        ServicePermission::Allowed | ServicePermission::NotHosted => Ok(()),
        ServicePermission::Denied { enforced } => {
            tracing::warn!(
                api = %api_id, stage = %stage, function = %target.name,
                source_arn = %source_arn,
                "Execution failed due to configuration error: Invalid permissions on Lambda function"
            );
            if enforced {
                Err(GatewayError::internal())
            } else {
                Ok(())
            }
        }
    }
}

fn bad_gateway() -> GatewayError {
    GatewayError::new(T::Default5xx, "Internal server error").with_status(502)
}

/// Builds the client's response from a proxy function's output (lambda-events.md §4.1).
pub fn proxy_response(
    inv: &Invocation<'_>,
    out: &tollgate_functions::InvokeResponse,
) -> Result<Response<GatewayBody>, GatewayError> {
    // Decoded only when the client accepts a binary media type (AWS-rec).
    let decode = || {
        crate::content_handling::accepts_binary(
            &inv.deployment.binary_media_types,
            &inv.parts.headers,
        )
    };
    proxy_output(&inv.ctx.api_id, out, false, decode)
}

/// The payload 1.0 output rules, for REST and HTTP APIs (`http_api`: unknown keys are
/// ignored and `statusCode` is required, lambda-events.md §4.1); `decode_base64` says
/// whether an `isBase64Encoded` body is decoded.
pub fn proxy_output(
    api_id: &str,
    out: &tollgate_functions::InvokeResponse,
    http_api: bool,
    decode_base64: impl FnOnce() -> bool,
) -> Result<Response<GatewayBody>, GatewayError> {
    if out.function_error {
        tracing::info!(api = %api_id, "Lambda function error in proxy integration");
        return Err(bad_gateway());
    }
    let malformed = |why: &str| {
        tracing::info!(api = %api_id, why, "malformed Lambda proxy response");
        bad_gateway()
    };
    let v: Value = serde_json::from_slice(&out.payload).map_err(|_| malformed("not JSON"))?;
    let Value::Object(obj) = v else {
        return Err(malformed("not a JSON object"));
    };
    const ALLOWED: [&str; 6] = [
        "statusCode",
        "headers",
        "multiValueHeaders",
        "body",
        "isBase64Encoded",
        "base64Encoded",
    ];
    if let Some(k) = obj.keys().find(|k| !ALLOWED.contains(&k.as_str())) {
        if !http_api {
            return Err(malformed(&format!("unknown key {k}")));
        }
    }
    let status = match obj.get("statusCode") {
        None | Some(Value::Null) if http_api => return Err(malformed("no statusCode")),
        None | Some(Value::Null) => 200,
        Some(Value::Number(n)) => n.as_u64().ok_or_else(|| malformed("statusCode"))?,
        Some(Value::String(s)) => s
            .trim()
            .parse::<u64>()
            .map_err(|_| malformed("statusCode"))?,
        Some(_) => return Err(malformed("statusCode")),
    };
    let status =
        http::StatusCode::from_u16(u16::try_from(status).map_err(|_| malformed("statusCode"))?)
            .map_err(|_| malformed("statusCode"))?;
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    // Values per header, in order: multiValueHeaders first, then headers (AWS joins both).
    let mut headers: Vec<(String, Vec<String>)> = Vec::new();
    match obj.get("multiValueHeaders") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                let Value::Array(values) = v else {
                    return Err(malformed("multiValueHeaders value is not a list"));
                };
                headers.push((k.clone(), values.iter().map(text).collect()));
            }
        }
        Some(_) => return Err(malformed("multiValueHeaders")),
    }
    match obj.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                match headers.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(k)) {
                    Some((_, values)) => values.push(text(v)),
                    None => headers.push((k.clone(), vec![text(v)])),
                }
            }
        }
        Some(_) => return Err(malformed("headers")),
    }
    let body = match obj.get("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(v) => Bytes::from(text(v)),
    };
    let encoded = obj
        .get("isBase64Encoded")
        .or_else(|| obj.get("base64Encoded"))
        .is_some_and(|v| v.as_bool() == Some(true));
    let body = if encoded {
        if decode_base64() {
            base64::engine::general_purpose::STANDARD
                .decode(&body)
                .map(Bytes::from)
                .map_err(|_| malformed("body is not base64"))?
        } else {
            body
        }
    } else {
        body
    };
    let mut resp = Response::new(GatewayBody::from_bytes(body));
    *resp.status_mut() = status;
    // Names go out on HTTP/1.1 as the function spelled them (AWS-rec).
    let spellings = ResponseSpellings::of(headers.iter().map(|(n, _)| n.as_str()));
    ResponseSpellings::attach(spellings, &mut resp);
    let h = resp.headers_mut();
    for (name, values) in headers {
        let Ok(n) = HeaderName::from_bytes(name.as_bytes()) else {
            continue;
        };
        let Ok(v) = HeaderValue::from_str(&values.join(", ")) else {
            continue;
        };
        if let Some(n) = crate::pipeline::respond::remapped(&n) {
            h.insert(n, v);
        }
    }
    if !h.contains_key(http::header::CONTENT_TYPE) {
        h.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    Ok(resp)
}

/// A non-proxy (`AWS`) invocation's result as the integration response phase sees it:
/// status 200, the function's payload, and its `errorMessage` as the selection value when
/// the function failed (a normal return always takes the default response).
pub fn non_proxy_output(out: tollgate_functions::InvokeResponse) -> IntegrationOutput {
    let selection = if out.function_error {
        Selection::ErrorMessage(
            serde_json::from_slice::<Value>(&out.payload)
                .ok()
                .and_then(|v| {
                    v.get("errorMessage").map(|m| match m {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                })
                .unwrap_or_default(),
        )
    } else {
        Selection::Default
    };
    IntegrationOutput {
        status: 200,
        headers: http::HeaderMap::new(),
        body: out.payload,
        selection,
        overrides: None,
    }
}

/// Invokes the integration's function, recording the call.
async fn call_function(
    call: &Call<'_, '_>,
    inv: &Invocation<'_>,
    rec: &mut CallRecord,
    payload: Vec<u8>,
) -> Result<tollgate_functions::InvokeResponse, GatewayError> {
    let out = rec
        .timed(invoke(call.functions, call.integration, inv, payload))
        .await?;
    rec.status = Some(200);
    rec.endpoint_response(inv, &out.payload);
    rec.exchange(
        inv,
        || invocation_url(call, inv),
        || (None, invoke_response_headers(&out, inv)),
    );
    Ok(out)
}

/// The Invoke API URL of the integration's function, as AWS's execution log names it.
fn invocation_url(call: &Call<'_, '_>, inv: &Invocation<'_>) -> String {
    let region = call.functions.map_or("us-east-1", |f| f.region());
    let target = call
        .integration
        .lambda_function
        .as_ref()
        .and_then(|t| t.resolve(inv.stage_variables, &inv.ctx.api_id).ok());
    let Some(target) = target else {
        return String::new();
    };
    let mut arn = tollgate_model::lambda::function_arn(region, &target.name);
    if let Some(q) = &target.qualifier {
        arn.push(':');
        arn.push_str(q);
    }
    format!("https://lambda.{region}.amazonaws.com/2015-03-31/functions/{arn}/invocations")
}

/// The headers of Lambda's Invoke answer, as AWS's execution log shows them.
fn invoke_response_headers(
    out: &tollgate_functions::InvokeResponse,
    inv: &Invocation<'_>,
) -> String {
    let length = out.payload.len().to_string();
    let mut headers = vec![
        ("Content-Type", "application/json"),
        ("Content-Length", length.as_str()),
        ("x-amzn-RequestId", out.request_id.as_str()),
        ("X-Amz-Executed-Version", out.executed_version.as_str()),
    ];
    if out.function_error {
        headers.push(("X-Amz-Function-Error", "Unhandled"));
    }
    headers.push(("X-Amzn-Trace-Id", inv.ctx.trace_id.as_str()));
    crate::execution_log::java_map(headers.into_iter())
}

/// `AWS_PROXY` to a Lambda function: the proxy event in, the function's output is the
/// response.
pub struct LambdaProxy;

impl Integration for LambdaProxy {
    async fn call(
        &self,
        call: &Call<'_, '_>,
        inv: &Invocation<'_>,
        rec: &mut CallRecord,
        body: RequestBody,
    ) -> Result<Answer, GatewayError> {
        let body = body.collect(call.body_stall).await?;
        // AWS logs the client's body here, not the event built from it.
        rec.endpoint_request(inv, &body);
        let event = proxy_event(inv, call.routed, call.params, &body);
        let out = call_function(call, inv, rec, event).await?;
        proxy_response(inv, &out).map(Answer::Response)
    }
}

/// `AWS` to a Lambda function: the rendered template is the payload, and the function's
/// output (or error) goes through the integration response.
pub struct Lambda;

impl Integration for Lambda {
    async fn call(
        &self,
        call: &Call<'_, '_>,
        inv: &Invocation<'_>,
        rec: &mut CallRecord,
        body: RequestBody,
    ) -> Result<Answer, GatewayError> {
        let body = body.collect(call.body_stall).await?;
        let (payload, _) = integration_request::payload(inv, call.integration, call.params, &body)?;
        rec.endpoint_request(inv, &payload);
        let out = call_function(call, inv, rec, payload.to_vec()).await?;
        Ok(Answer::Output(non_proxy_output(out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_are_title_cased() {
        assert_eq!(title_case("user-agent"), "User-Agent");
        assert_eq!(title_case("x-amzn-trace-id"), "X-Amzn-Trace-Id");
        assert_eq!(title_case("accept"), "Accept");
    }

    #[test]
    fn proxy_paths_collapse_leading_slashes() {
        assert_eq!(proxy_path("/a/b/"), "/a/b/");
        assert_eq!(proxy_path("//a"), "/a");
        assert_eq!(proxy_path(""), "/");
    }
}
