//! Integration response (non-proxy integrations): choose the integration response by
//! `selectionPattern`, map its headers, pick the response template by the client's Accept,
//! convert the payload by the response's `contentHandling` and the Accept.

use bytes::Bytes;
use http::header::HeaderValue;
use http::Response;

use super::method_request::Params;
use crate::body::GatewayBody;
use crate::compile::{CompiledIntegration, CompiledIntegrationResponse, Source};
use crate::content_handling::{self, Payload, Unset};
use crate::error::GatewayError;
use crate::invocation::{IntegrationOutput, Invocation, Selection};
use crate::mapping::choose_template;
use crate::response_case::ResponseSpellings;

/// The response whose pattern fully matches `value`, else the default one.
pub fn select<'i>(
    i: &'i CompiledIntegration,
    value: &str,
) -> Option<&'i CompiledIntegrationResponse> {
    i.responses
        .iter()
        .find(|r| r.pattern.as_ref().is_some_and(|p| p.is_match(value)))
        .or_else(|| i.responses.iter().find(|r| r.pattern.is_none()))
}

fn resolve_response(src: &Source, out: &IntegrationOutput, inv: &Invocation<'_>) -> Option<String> {
    match src {
        Source::Literal(s) => Some(s.clone()),
        Source::IntegrationHeader(n) => out
            .headers
            .get(n.as_str())
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        Source::IntegrationMultiHeader(n) => {
            let all: Vec<&str> = out
                .headers
                .get_all(n.as_str())
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            (!all.is_empty()).then(|| all.join(","))
        }
        Source::IntegrationBody => Some(String::from_utf8_lossy(&out.body).into_owned()),
        Source::IntegrationBodyPath(p) => crate::mapping::body_path(p, &out.body),
        Source::StageVariable(n) => inv.stage_variables.get(n).cloned(),
        Source::Context(n) => inv.ctx.var(n).map(|v| v.into_owned()),
        // Compiling refuses `method.request.*` in response mappings.
        _ => None,
    }
}

pub fn apply(
    inv: &Invocation<'_>,
    i: &CompiledIntegration,
    params: &Params<'_>,
    out: IntegrationOutput,
) -> Result<Response<GatewayBody>, GatewayError> {
    let chosen = match &out.selection {
        Selection::Status => select(i, &out.status.to_string()),
        Selection::ErrorMessage(message) => select(i, message),
        Selection::Default => i.responses.iter().find(|r| r.pattern.is_none()),
    };
    let chosen = chosen.ok_or_else(|| {
        tracing::info!(api = %inv.ctx.api_id, status = out.status, "no integration response matches");
        GatewayError::internal()
    })?;
    let accept = inv
        .parts
        .headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let types = &inv.deployment.binary_media_types;
    let binary = content_handling::has_binary_content_type(types, &out.headers);
    let converted =
        content_handling::before_template(out.body.clone(), binary, chosen.content_handling);
    let seed = out.overrides.as_deref();
    let mut overrides = seed.and_then(|s| s.get("responseOverride")).cloned();
    let (content_type, payload) = match choose_template(&chosen.templates, accept) {
        Some((ct, t)) => {
            let (body, context) = crate::mapping::render_template_seeded(
                t,
                inv,
                params,
                converted.template_input()?,
                seed,
            )?;
            overrides = context.get("responseOverride").cloned();
            (ct.clone(), Payload::Text(body))
        }
        None => ("application/json".to_string(), converted),
    };
    // Binary output only when the client's Accept asks for it (or CONVERT_TO_BINARY).
    let unset = if content_handling::accepts_binary(types, &inv.parts.headers) {
        Unset::Binary
    } else {
        Unset::Text
    };
    let body = content_handling::after_template(payload, chosen.content_handling, unset)?;
    let mut resp = Response::new(GatewayBody::from_bytes(body));
    // `$context.responseOverride.status` from the template wins when it is 100..=599.
    let status = overrides
        .as_ref()
        .and_then(|o| o.get("status"))
        .and_then(|s| {
            s.as_u64()
                .or_else(|| s.as_str().and_then(|x| x.parse().ok()))
        })
        .filter(|s| (100..=599).contains(s))
        .map_or(chosen.status, |s| s as u16);
    *resp.status_mut() =
        http::StatusCode::from_u16(status).map_err(|_| GatewayError::internal())?;
    ResponseSpellings::attach(chosen.spellings.clone(), &mut resp);
    let headers = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&content_type) {
        headers.insert(http::header::CONTENT_TYPE, v);
    }
    for (name, src) in &chosen.response_parameters {
        if let Some(v) =
            resolve_response(src, &out, inv).and_then(|v| HeaderValue::from_str(&v).ok())
        {
            if let Some(name) = super::respond::remapped(name) {
                headers.insert(name, v);
            }
        }
    }
    if let Some(serde_json::Value::Object(h)) = overrides.as_ref().and_then(|o| o.get("header")) {
        for (k, v) in h {
            let value = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if let (Ok(name), Ok(value)) = (
                http::header::HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                if let Some(name) = super::respond::remapped(&name) {
                    headers.insert(name, value);
                }
            }
        }
    }
    Ok(resp)
}

/// Convenience for integrations that produce no body.
pub fn empty_output(status: u16) -> IntegrationOutput {
    IntegrationOutput {
        selection: Selection::Status,
        overrides: None,
        status,
        headers: http::HeaderMap::new(),
        body: Bytes::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_choice() {
        let t = vec![
            ("application/json".to_string(), "j".to_string()),
            ("application/xml".to_string(), "x".to_string()),
        ];
        assert_eq!(choose_template(&t, None).unwrap().1, "j");
        assert_eq!(
            choose_template(&t, Some("application/xml; q=1, text/html"))
                .unwrap()
                .1,
            "x"
        );
        assert_eq!(choose_template(&t, Some("text/html")).unwrap().1, "j");
        assert!(choose_template::<String>(&[], Some("text/html")).is_none());
    }
}
