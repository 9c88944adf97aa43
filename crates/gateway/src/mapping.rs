//! What mapping templates see and which one runs: the `$context` map, rendering a template
//! over a request or response body, and the media-type rules that choose a template.

use bytes::Bytes;

use crate::compile::MappingTemplate;
use crate::context::{RequestContext, View};
use crate::error::GatewayError;
use crate::invocation::Invocation;
use crate::pipeline::method_request::Params;

/// `$context` as a mapping template sees it, with AWS's recorded key order (vtl.md §5:
/// `$context.keySet()` and `identity.keySet()` in a request template, no authorizer).
pub fn context_map(ctx: &RequestContext) -> serde_json::Map<String, serde_json::Value> {
    ctx.object(View::Template)
}

/// Renders a mapping template against the request (`$input.params`, `$stageVariables`,
/// `$context`) and `body` (`$input.body`: the client's body for request templates, the
/// backend's for response templates). The `$context` map is returned too, so callers can
/// read `responseOverride` values the template set. Any render failure is a 500.
pub fn render_template(
    template: &MappingTemplate,
    inv: &Invocation<'_>,
    params: &Params<'_>,
    body: &[u8],
) -> Result<(Bytes, serde_json::Map<String, serde_json::Value>), GatewayError> {
    render_template_seeded(template, inv, params, body, None)
}

/// [`render_template`] with `$context` members a request template set before (`seed`:
/// its `requestOverride` and `responseOverride`), which a response template reads.
pub fn render_template_seeded(
    template: &MappingTemplate,
    inv: &Invocation<'_>,
    params: &Params<'_>,
    body: &[u8],
    seed: Option<&serde_json::Map<String, serde_json::Value>>,
) -> Result<(Bytes, serde_json::Map<String, serde_json::Value>), GatewayError> {
    if let Some(out) = &template.literal {
        let mut context = serde_json::Map::new();
        if let Some(seed) = seed {
            context.extend(seed.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        return Ok((out.clone(), context));
    }
    let text = String::from_utf8_lossy(body);
    let path: Vec<(String, String)> = params
        .path
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let header: Vec<(String, String)> = if template.reads_input {
        params
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect()
    } else {
        Vec::new()
    };
    let stage_variables = stage_variable_pairs(inv.stage_variables);
    let input = tollgate_vtl::Input {
        body: &text,
        path: &path,
        querystring: params.query,
        header: &header,
        stage_variables: &stage_variables,
    };
    let mut context = if template.reads_context {
        context_map(&inv.ctx)
    } else {
        serde_json::Map::new()
    };
    if let Some(seed) = seed {
        context.extend(seed.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    let out = template
        .engine
        .render(&input, &mut context, &tollgate_vtl::Limits::default())
        .map_err(|e| {
            tracing::info!(api = %inv.ctx.api_id, error = %e, "mapping template failed");
            GatewayError::internal()
        })?;
    Ok((Bytes::from(out), context))
}

/// Stage variables as the template engine's `$stageVariables` takes them.
pub fn stage_variable_pairs(
    vars: &std::collections::BTreeMap<String, String>,
) -> Vec<(String, String)> {
    vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// AWS's response template choice: the template for the client's Accept (first media type,
/// parameters dropped; absent means application/json), else the first defined template.
pub fn choose_template<'r, T>(
    templates: &'r [(String, T)],
    accept: Option<&str>,
) -> Option<&'r (String, T)> {
    let wanted = media_type(accept.and_then(|a| a.split(',').next()));
    templates
        .iter()
        .find(|(ct, _)| ct.eq_ignore_ascii_case(&wanted))
        .or_else(|| templates.first())
}

/// The media type of a Content-Type or Accept entry, parameters dropped and lower-cased;
/// absent or empty means `application/json`, as API Gateway assumes.
pub fn media_type(value: Option<&str>) -> String {
    value
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "application/json".into())
}

/// A JSONPath mapping over a body: nothing unless the body is JSON (it must start like
/// JSON), a string value as itself, anything else as JSON text.
pub fn body_path(path: &tollgate_vtl::jsonpath::JsonPath, body: &[u8]) -> Option<String> {
    use tollgate_vtl::jsonpath::Selection;
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    if !matches!(first, b'{' | b'[' | b'"') {
        return None;
    }
    let root: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match path.select(&root) {
        Selection::Definite(v) => v.map(text),
        Selection::List(vs) if vs.is_empty() => None,
        Selection::List(vs) => {
            Some(serde_json::Value::Array(vs.into_iter().cloned().collect()).to_string())
        }
    }
}

#[cfg(test)]
mod context_tests {
    #[test]
    fn keys_in_aws_order() {
        let parts = http::Request::get("/dev/x")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        let dep = crate::compile::compile(
            &tollgate_model::RestApiDefinition::new(serde_json::from_value(serde_json::json!({
                "id": "a", "name": "n", "createdDate": 0, "apiKeySource": "HEADER",
                "endpointConfiguration": {"types": ["EDGE"]}, "disableExecuteApiEndpoint": false,
                "rootResourceId": "r"
            })).unwrap()),
            "d",
        );
        let ctx = crate::pipeline::respond::new_context(
            &parts,
            "/dev/x",
            "h",
            &"dev".into(),
            &dep,
            None,
            ([127, 0, 0, 1], 1).into(),
        );
        let m = super::context_map(&ctx);
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        assert_eq!(keys.join(", "), "resourceId, resourcePath, httpMethod, extendedRequestId, requestTime, path, accountId, protocol, requestOverride, stage, domainPrefix, requestTimeEpoch, requestId, identity, domainName, deploymentId, responseOverride, apiId");
        let id: Vec<&str> = m["identity"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(id.join(", "), "cognitoIdentityPoolId, accountId, cognitoIdentityId, caller, sourceIp, principalOrgId, accessKey, cognitoAuthenticationType, cognitoAuthenticationProvider, userArn, userAgent, user");
        assert_eq!(m["stage"], "dev");
        assert_eq!(m["identity"]["sourceIp"], "127.0.0.1");
    }
}
