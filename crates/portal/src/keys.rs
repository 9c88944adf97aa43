//! A consumer's API keys: created by signed calls to the control plane's CreateApiKey and
//! CreateUsagePlanKey (the same handlers as any client's, so every rule of theirs holds),
//! with `customerId` = the consumer's email; the value is shown once, on the answer to
//! the form.

use std::fmt::Write;

use http::{HeaderMap, Method};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tollgate_console::proxy::{sign_and_send, Keys, Outgoing};
use tollgate_model::ApiKey;
use tollgate_store::State;

use crate::context::Portal;
use crate::page::esc;

/// One control-plane call, signed with the portal's credentials: its status and JSON.
pub async fn call(
    portal: &Portal,
    method: Method,
    path: &str,
    query: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let config = &portal.config;
    let out = Outgoing {
        service: "apigateway",
        method,
        path,
        query,
        headers: HeaderMap::new(),
        body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
    };
    let keys = Keys {
        access_key_id: &config.root.0,
        secret: &config.root.1,
    };
    let answer = sign_and_send(&config.admin, &config.region, keys, "localhost", out).await;
    let status = answer.status().as_u16();
    let bytes = match answer.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return (500, Value::Null),
    };
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Creates a key for `email` and puts it in `plan_id`: the new key, or the control
/// plane's message. A key the plan refuses is deleted again.
pub async fn create(
    portal: &Portal,
    email: &str,
    api_name: &str,
    plan_id: &str,
) -> Result<(String, String), String> {
    let input = json!({
        "name": format!("{email} {api_name}"),
        "description": "Created on the developer portal",
        "customerId": email,
        "enabled": true,
    });
    let (status, key) = call(portal, Method::POST, "/apikeys", None, Some(input)).await;
    let message = |v: &Value| v["message"].as_str().unwrap_or("failed").to_string();
    let (Some(id), Some(value)) = (key["id"].as_str(), key["value"].as_str()) else {
        return Err(format!("CreateApiKey answered {status}: {}", message(&key)));
    };
    let path = format!("/usageplans/{plan_id}/keys");
    let attach = json!({ "keyId": id, "keyType": "API_KEY" });
    let (status, answer) = call(portal, Method::POST, &path, None, Some(attach)).await;
    if status != 201 {
        call(
            portal,
            Method::DELETE,
            &format!("/apikeys/{id}"),
            None,
            None,
        )
        .await;
        return Err(format!(
            "CreateUsagePlanKey answered {status}: {}",
            message(&answer)
        ));
    }
    Ok((id.to_string(), value.to_string()))
}

/// The consumer's keys in plans covering `api_id`/`stage`, with the plan of each.
pub fn owned<'a>(
    state: &'a State,
    email: &'a str,
    api_id: &'a str,
    stage: &'a str,
) -> Vec<(&'a ApiKey, &'a str)> {
    let mut out = Vec::new();
    for plan in state
        .usage_plans
        .values()
        .filter(|p| p.covers(api_id, stage))
    {
        for id in &plan.key_ids {
            if let Some(k) = state.api_keys.get(id) {
                if k.customer_id.as_deref() == Some(email) {
                    out.push((k.as_ref(), plan.name.as_str()));
                }
            }
        }
    }
    out
}

/// The table of the consumer's keys (values never shown again).
pub fn table(keys: &[(&ApiKey, &str)]) -> String {
    if keys.is_empty() {
        return "<p>You have no key for this API yet.</p>".to_string();
    }
    let mut body = String::from(
        "<table class=\"keys\"><tr><th>Key</th><th>Plan</th><th>State</th><th></th></tr>",
    );
    for (k, plan) in keys {
        let _ = write!(
            body,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td><a href=\"/keys/{}/usage\">Usage</a></td></tr>",
            esc(&k.id),
            esc(plan),
            if k.enabled { "enabled" } else { "disabled" },
            esc(&k.id)
        );
    }
    body.push_str("</table>");
    body
}

/// The answer to "Create API key": the value, shown this once.
pub fn created(id: &str, value: &str) -> String {
    format!(
        "<section class=\"created\"><h2>Your new API key</h2>\
         <p>Copy it now: it is not shown again. Send it in the <code>x-api-key</code> header.</p>\
         <p><code id=\"new-key\">{}</code> (id <code>{}</code>)</p></section>",
        esc(value),
        esc(id)
    )
}
