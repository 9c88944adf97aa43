//! API Gateway's calls (v1 and v2) as IAM sees them: `apigateway:{VERB}` on
//! `arn:aws:apigateway:{region}::{path}`, where a v2 path loses its `/v2` (`/v2/apis/abc`
//! is `arn:aws:apigateway:{region}::/apis/abc`, as AWS names HTTP and WebSocket APIs), and
//! the condition keys AWS documents for these calls that a request or the state can
//! answer: `aws:RequestTag/*`, `aws:TagKeys`, `aws:ResourceTag/*` (a stage's tags over its
//! API's, as API Gateway's tag inheritance has it), `apigateway:Request/*` from the body
//! and `apigateway:Resource/*` from the API the call names.

use serde_json::Value;
use tollgate_store::State;

use crate::core::registry::{IamAction, IamCall};
use crate::core::tags::Tags;
use crate::core::util::query_values;

/// The IAM view of one API Gateway call.
pub fn apigateway_action(c: &IamCall<'_>) -> Option<IamAction> {
    let path = arn_path(c.path);
    let body: Value = serde_json::from_slice(c.body).unwrap_or(Value::Null);
    let mut keys = Vec::new();
    request_tags(&body, &c.parts.uri, &mut keys);
    request_members(&body, &mut keys);
    if let Some(tags) = resource_tags(c.state, path) {
        for (k, v) in tags {
            keys.push((format!("aws:resourcetag/{}", k.to_ascii_lowercase()), v));
        }
    }
    resource_members(c.state, path, &mut keys);
    Some(IamAction {
        action: format!("apigateway:{}", c.parts.method),
        resource: format!("arn:aws:apigateway:{}::{}", c.region, path),
        keys,
    })
}

/// The path IAM names: v2's `/v2/...` routes are the same resources without the prefix.
fn arn_path(path: &str) -> &str {
    match path.strip_prefix("/v2") {
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    }
}

/// `aws:RequestTag/{key}` and `aws:TagKeys`: the `tags` a create call or TagResource sends,
/// and the `tagKeys` UntagResource names.
fn request_tags(body: &Value, uri: &http::Uri, keys: &mut Vec<(String, String)>) {
    if let Some(tags) = body.get("tags").and_then(Value::as_object) {
        for (k, v) in tags {
            let value = v.as_str().unwrap_or_default().to_string();
            keys.push((format!("aws:requesttag/{}", k.to_ascii_lowercase()), value));
            keys.push(("aws:tagkeys".into(), k.clone()));
        }
    }
    let untagged = query_values(uri, "tagKeys");
    keys.extend(untagged.into_iter().map(|k| ("aws:tagkeys".to_string(), k)));
}

/// `apigateway:Request/*`: the members of the body AWS names keys after.
fn request_members(body: &Value, keys: &mut Vec<(String, String)>) {
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let mut add = |key: &str, v: Option<&Value>| {
        if let Some(s) = v.and_then(text) {
            keys.push((format!("apigateway:request/{key}"), s));
        }
    };
    add("apiname", body.get("name"));
    add("apikeyrequired", body.get("apiKeyRequired"));
    add(
        "authorizertype",
        body.get("authorizerType").or(body.get("type")),
    );
    add("authorizeruri", body.get("authorizerUri"));
    add(
        "disableexecuteapiendpoint",
        body.get("disableExecuteApiEndpoint"),
    );
    add("routeauthorizationtype", body.get("authorizationType"));
    add("stagename", body.get("stageName"));
    add("securitypolicy", body.get("securityPolicy"));
    let logs = body.get("accessLogSettings");
    add(
        "accessloggingdestination",
        logs.and_then(|l| l.get("destinationArn")),
    );
    add("accessloggingformat", logs.and_then(|l| l.get("format")));
    let types = body.pointer("/endpointConfiguration/types");
    for t in types.and_then(Value::as_array).into_iter().flatten() {
        add("endpointtype", Some(t));
    }
}

/// The tags of the resource `path` names: an API's, a stage's over its API's, an API key's,
/// a usage plan's or a domain name's; TagResource's `/tags/{arn}` names the ARN's resource.
fn resource_tags(state: &State, path: &str) -> Option<Vec<(String, String)>> {
    if let Some(arn) = path.strip_prefix("/tags/") {
        let (_, inner) = arn.split_once("::")?;
        return resource_tags(state, arn_path(inner));
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let pairs = |m: &std::collections::BTreeMap<String, String>| {
        m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    };
    match segments.as_slice() {
        ["restapis", id, rest @ ..] => {
            let api = state.apis.get(*id)?;
            let stage = stage_of(rest).and_then(|n| api.stages.get(n));
            Some(inherited(&api.definition.api.tags, stage.map(|s| &s.tags)))
        }
        ["apis", id, rest @ ..] => {
            let api = state.v2_apis.get(*id)?;
            let stage = stage_of(rest).and_then(|n| api.stages.get(n));
            Some(inherited(&api.definition.api.tags, stage.map(|s| &s.tags)))
        }
        ["apikeys", id, ..] => state.api_keys.get(*id).map(|k| pairs(&k.tags)),
        ["usageplans", id, ..] => state.usage_plans.get(*id).map(|p| pairs(&p.tags)),
        ["domainnames", name, ..] => {
            let domain = state.domains.domain_names.get(&name.to_ascii_lowercase())?;
            Some(pairs(&domain.tags))
        }
        _ => None,
    }
}

/// The stage a path under an API names (`stages/{name}/...`).
fn stage_of<'p>(rest: &[&'p str]) -> Option<&'p str> {
    match rest {
        ["stages", name, ..] => Some(name),
        _ => None,
    }
}

/// An API's tags, a stage's winning over its API's of the same key.
fn inherited(api: &Tags, stage: Option<&Tags>) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = api.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    for (k, v) in stage.into_iter().flatten() {
        match tags.iter_mut().find(|(t, _)| t == k) {
            Some(slot) => slot.1 = v.clone(),
            None => tags.push((k.clone(), v.clone())),
        }
    }
    tags
}

/// `apigateway:Resource/*`: what the API a call names already is.
fn resource_members(state: &State, path: &str, keys: &mut Vec<(String, String)>) {
    let mut segments = path.trim_start_matches('/').split('/');
    let (kind, id) = (segments.next(), segments.next());
    let mut add = |key: &str, v: String| keys.push((format!("apigateway:resource/{key}"), v));
    match (kind, id) {
        (Some("restapis"), Some(id)) => {
            let Some(api) = state.apis.get(id) else {
                return;
            };
            let api = &api.definition.api;
            add("apiname", api.name.clone());
            let disabled = api.disable_execute_api_endpoint.to_string();
            add("disableexecuteapiendpoint", disabled);
            for t in &api.endpoint_configuration.types {
                add("endpointtype", t.as_str().to_string());
            }
        }
        (Some("apis"), Some(id)) => {
            let Some(api) = state.v2_apis.get(id) else {
                return;
            };
            let api = &api.definition.api;
            add("apiname", api.name.clone());
            let disabled = api.disable_execute_api_endpoint.to_string();
            add("disableexecuteapiendpoint", disabled);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::registry::call_for_test;

    fn action(method: &str, uri: &str, body: &[u8]) -> IamAction {
        call_for_test(method, uri, body, |c| apigateway_action(c).unwrap())
    }

    #[test]
    fn v2_paths_name_the_resources_aws_names() {
        let cases = [
            ("/v2/apis/abc/routes/r1", "/apis/abc/routes/r1"),
            (
                "/v2/domainnames/x.example.com",
                "/domainnames/x.example.com",
            ),
            ("/restapis/ab%63", "/restapis/abc"),
            ("/v2", "/v2"),
        ];
        for (uri, path) in cases {
            let a = action("GET", uri, b"");
            assert_eq!(a.resource, format!("arn:aws:apigateway:us-east-1::{path}"));
        }
    }

    #[test]
    fn request_keys_come_from_the_body_and_query() {
        let body = br#"{"name":"pets","tags":{"Team":"blue"},"endpointConfiguration":{"types":["REGIONAL"]},"apiKeyRequired":true}"#;
        let a = action("POST", "/restapis", body);
        for want in [
            ("aws:requesttag/team", "blue"),
            ("aws:tagkeys", "Team"),
            ("apigateway:request/apiname", "pets"),
            ("apigateway:request/endpointtype", "REGIONAL"),
            ("apigateway:request/apikeyrequired", "true"),
        ] {
            assert!(
                a.keys.iter().any(|(k, v)| (k.as_str(), v.as_str()) == want),
                "{want:?} in {:?}",
                a.keys
            );
        }
        let a = action("DELETE", "/v2/tags/arn?tagKeys=a&tagKeys=b", b"");
        let tag_keys: Vec<&str> = a.keys.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(tag_keys, ["a", "b"]);
        // A body that is not JSON has no keys (the service answers it).
        assert!(action("POST", "/restapis", b"{").keys.is_empty());
    }
}
