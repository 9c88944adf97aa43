//! What left the template leaves the gateway: functions and APIs `tollgate sam` made carry
//! the tags `tollgate:sam:stack` and `tollgate:sam:logical-id`, and a rerun deletes those of
//! this stack whose logical id the template no longer has (CloudFormation's update does
//! the same). Resources it did not make (no tags) are never touched.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::client::{segment, CallError, Client};
use super::plan::ApiKind;

pub const STACK_TAG: &str = "tollgate:sam:stack";
pub const LOGICAL_ID_TAG: &str = "tollgate:sam:logical-id";

/// The tags `tollgate sam` puts on what it makes.
pub fn tags(stack: &str, logical_id: &str) -> Value {
    json!({ STACK_TAG: stack, LOGICAL_ID_TAG: logical_id })
}

/// Whether `tags` say this stack made it under a logical id the template no longer has.
fn orphan(tags: Option<&Value>, stack: &str, keep: &BTreeSet<String>) -> bool {
    let tag = |k: &str| tags.and_then(|t| t.get(k)).and_then(Value::as_str);
    tag(STACK_TAG) == Some(stack) && tag(LOGICAL_ID_TAG).is_some_and(|id| !keep.contains(id))
}

/// Tags an API `tollgate sam` made (ImportRestApi / ImportApi take no tags).
pub async fn tag_api(
    c: &Client,
    kind: ApiKind,
    id: &str,
    stack: &str,
    logical_id: &str,
) -> Result<(), CallError> {
    let arn = format!(
        "arn:aws:apigateway:{}::/{}/{id}",
        c.region(),
        match kind {
            ApiKind::Rest => "restapis",
            ApiKind::Http => "apis",
        }
    );
    let (method, path, body) = match kind {
        ApiKind::Rest => (
            "PUT",
            format!("/tags/{}", segment(&arn)),
            json!({"tags": tags(stack, logical_id)}),
        ),
        ApiKind::Http => (
            "POST",
            format!("/v2/tags/{}", segment(&arn)),
            json!({"tags": tags(stack, logical_id)}),
        ),
    };
    let body = serde_json::to_vec(&body).unwrap_or_default();
    c.call("apigateway", method, &path, None, Some(body))
        .await?;
    Ok(())
}

/// Deletes this stack's functions and APIs whose logical ids are not in `keep`; answers
/// what it deleted, as `kind name`.
pub async fn prune(
    c: &Client,
    stack: &str,
    keep: &BTreeSet<String>,
) -> Result<Vec<String>, CallError> {
    let mut deleted = vec![];
    let mut marker: Option<String> = None;
    let mut names = vec![];
    loop {
        let query = match &marker {
            Some(m) => format!("MaxItems=50&Marker={}", segment(m)),
            None => "MaxItems=50".to_string(),
        };
        let page = c
            .call("lambda", "GET", "/2015-03-31/functions", Some(&query), None)
            .await?;
        for f in page["Functions"].as_array().into_iter().flatten() {
            if let Some(n) = f["FunctionName"].as_str() {
                names.push(n.to_string());
            }
        }
        match page["NextMarker"].as_str() {
            Some(m) => marker = Some(m.to_string()),
            None => break,
        }
    }
    for name in names {
        let path = format!("/2015-03-31/functions/{}", segment(&name));
        let f = c.call("lambda", "GET", &path, None, None).await?;
        if orphan(f.get("Tags"), stack, keep) {
            c.call("lambda", "DELETE", &path, None, None).await?;
            deleted.push(format!("function {name}"));
        }
    }
    for (list, key, id_key, token, limit, base) in [
        (
            "/restapis",
            "item",
            "id",
            "position",
            "limit=500",
            "/restapis",
        ),
        (
            "/v2/apis",
            "items",
            "apiId",
            "nextToken",
            "maxResults=500",
            "/v2/apis",
        ),
    ] {
        let mut next: Option<String> = None;
        let mut doomed = vec![];
        loop {
            let query = match &next {
                Some(t) => format!("{limit}&{token}={}", segment(t)),
                None => limit.to_string(),
            };
            let page = c
                .call("apigateway", "GET", list, Some(&query), None)
                .await?;
            for a in page[key].as_array().into_iter().flatten() {
                if orphan(a.get("tags"), stack, keep) {
                    let id = a[id_key].as_str().unwrap_or_default().to_string();
                    let name = a["name"].as_str().unwrap_or_default().to_string();
                    doomed.push((id, name));
                }
            }
            match page[token].as_str() {
                Some(t) => next = Some(t.to_string()),
                None => break,
            }
        }
        for (id, name) in doomed {
            let path = format!("{base}/{}", segment(&id));
            c.call("apigateway", "DELETE", &path, None, None).await?;
            deleted.push(format!("API {name} ({id})"));
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_stacks_resources_that_left_the_template_are_orphans() {
        let keep = BTreeSet::from(["Kept".to_string()]);
        assert!(orphan(Some(&tags("app", "Gone")), "app", &keep));
        assert!(!orphan(Some(&tags("app", "Kept")), "app", &keep));
        assert!(!orphan(Some(&tags("other", "Gone")), "app", &keep));
        assert!(!orphan(Some(&json!({})), "app", &keep));
        assert!(!orphan(None, "app", &keep));
    }
}
