//! What the owner published: stages tagged `tollgate:portal=true` (the catalogue, the
//! portal's landing page) and usage plans tagged `tollgate:portal-plan=true` (offered on
//! the pages of the stages they cover). Read from the current state on every page, so a
//! tag takes effect at once.

use std::fmt::Write;
use std::sync::Arc;

use tollgate_model::{DocumentationPartType, Stage, UsagePlan};
use tollgate_store::{ApiState, State};

use crate::page::esc;

pub const STAGE_TAG: &str = "tollgate:portal";
pub const PLAN_TAG: &str = "tollgate:portal-plan";

fn tagged(tags: &std::collections::BTreeMap<String, String>, tag: &str) -> bool {
    tags.get(tag).is_some_and(|v| v == "true")
}

/// A published stage.
pub struct Published<'a> {
    pub api_id: &'a str,
    pub api: &'a ApiState,
    pub stage: &'a Stage,
}

impl Published<'_> {
    pub fn href(&self) -> String {
        format!("/apis/{}/{}", self.api_id, self.stage.stage_name)
    }

    pub fn name(&self) -> &str {
        &self.api.definition.api.name
    }

    pub fn description(&self) -> Option<&str> {
        self.api.definition.api.description.as_deref()
    }
}

pub fn published(state: &State) -> impl Iterator<Item = Published<'_>> {
    state.apis.iter().flat_map(|(api_id, api)| {
        api.stages
            .values()
            .filter(|s| tagged(&s.tags, STAGE_TAG))
            .map(move |stage| Published { api_id, api, stage })
    })
}

/// The published stage `api_id`/`stage`, if it is one.
pub fn find<'a>(state: &'a State, api_id: &str, stage: &str) -> Option<Published<'a>> {
    let (api_id, api) = state.apis.get_key_value(api_id)?;
    let stage = api
        .stages
        .get(stage)
        .filter(|s| tagged(&s.tags, STAGE_TAG))?;
    Some(Published { api_id, api, stage })
}

/// The published plans covering `api_id`/`stage`.
pub fn plans<'a>(
    state: &'a State,
    api_id: &'a str,
    stage: &'a str,
) -> impl Iterator<Item = &'a Arc<UsagePlan>> {
    state
        .usage_plans
        .values()
        .filter(move |p| tagged(&p.tags, PLAN_TAG) && p.covers(api_id, stage))
}

/// The landing page's body.
pub fn landing(state: &State) -> String {
    let mut body = String::from("<ul class=\"catalogue\">");
    let mut any = false;
    for p in published(state) {
        any = true;
        let _ = write!(
            body,
            "<li><a href=\"{}\">{}</a> <span class=\"stage\">{}</span><p>{}</p></li>",
            esc(&p.href()),
            esc(p.name()),
            esc(&p.stage.stage_name),
            esc(p.description().unwrap_or(""))
        );
    }
    body.push_str("</ul>");
    if !any {
        body = "<p>No API is published yet.</p>".to_string();
    }
    body
}

/// A plan's limits in words.
pub fn limits(plan: &UsagePlan) -> String {
    let throttle = plan.throttle.map_or("no throttle".to_string(), |t| {
        format!(
            "throttle {} requests/s, burst {}",
            t.rate_limit, t.burst_limit
        )
    });
    let quota = plan.quota.as_ref().map_or("no quota".to_string(), |q| {
        format!(
            "quota {} requests per {}",
            q.limit,
            q.period.as_str().to_ascii_lowercase()
        )
    });
    format!("{throttle}; {quota}")
}

/// The text the owner documented for a location: its documentation part's `description`
/// (else `summary`), for the API (`path` `None`) or one method.
pub fn documented(
    p: &Published<'_>,
    kind: DocumentationPartType,
    at: Option<(&str, &str)>,
) -> Option<String> {
    let part = p.api.documentation_parts.values().find(|d| {
        let l = &d.location;
        l.part_type == kind
            && at.is_none_or(|(path, method)| {
                l.path.as_deref() == Some(path) && l.method.as_deref() == Some(method)
            })
    })?;
    let props: serde_json::Value = serde_json::from_str(&part.properties).ok()?;
    let text = props.get("description").or_else(|| props.get("summary"))?;
    text.as_str().map(str::to_string)
}

/// The operations of the stage's deployment: method and path, whether a key is needed,
/// and what the owner documented.
pub fn operations(p: &Published<'_>) -> String {
    let Some(deployment) = p.api.deployments.get(&p.stage.deployment_id) else {
        return String::new();
    };
    let mut body = String::from("<h2>Operations</h2><table class=\"operations\"><tr><th>Method</th><th>Path</th><th>API key</th><th>About</th></tr>");
    for (path, methods) in deployment.api_summary() {
        for (method, entry) in methods {
            let about = documented(p, DocumentationPartType::Method, Some((&path, &method)));
            let _ = write!(
                body,
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                esc(&method),
                esc(&path),
                if entry.api_key_required {
                    "required"
                } else {
                    "not required"
                },
                esc(about.as_deref().unwrap_or(""))
            );
        }
    }
    body.push_str("</table>");
    body
}
