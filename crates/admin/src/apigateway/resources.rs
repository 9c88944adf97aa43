//! GetResources, GetResource, CreateResource, UpdateResource, DeleteResource.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;
use tollgate_model::validate::{path_part, PathPart};
use tollgate_model::{ids, Resource, RestApiDefinition};

use super::shared::{api, api_mut, def_mut, resource};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::pagination::page;
use crate::core::patch::PatchBody;
use crate::core::patch_table::{NoMatch, PatchRule, PatchTable};
use crate::core::util::{empty, json, parse_body, Query as Q};

pub(super) const MAX_RESOURCES: usize = 300;

/// A resource as AWS shows it: without `?embed=methods` each method is `{}`.
pub fn view(r: &Resource, embed_methods: bool) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    if !embed_methods {
        if let Some(Value::Object(methods)) = v.get_mut("resourceMethods") {
            for m in methods.values_mut() {
                *m = Value::Object(Default::default());
            }
        }
    }
    v
}

fn embeds_methods(q: &Q) -> bool {
    q.get("embed")
        .is_some_and(|e| e.split(',').any(|x| x == "methods"))
}

pub async fn list(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    let a = api(&st, &api_id)?;
    let embed = embeds_methods(&q);
    // Sorted by path so that the root comes first and children follow their parents.
    let items: Vec<(String, Value)> = a
        .definition
        .resources
        .values()
        .map(|r| (format!("{}\u{0}{}", r.path, r.id), view(r, embed)))
        .collect();
    page(items, &q)
}

pub async fn get(
    State(ctx): State<Ctx>,
    Path((api_id, res)): Path<(String, String)>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    Ok(json(
        200,
        &view(resource(&st, &api_id, &res)?, embeds_methods(&q)),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateResourceInput {
    path_part: Option<String>,
}

/// Checks that `part` may be a child of `parent_id` (ignoring `self_id` when moving).
fn check_placement(
    def: &RestApiDefinition,
    parent_id: &str,
    part: &str,
    self_id: Option<&str>,
) -> ApiResult<()> {
    let kind = path_part(part).map_err(ApiError::bad_request)?;
    let parent = def
        .resources
        .get(parent_id)
        .ok_or_else(ApiError::no_resource)?;
    if let Some(pp) = &parent.path_part {
        if matches!(path_part(pp), Ok(PathPart::Greedy(_))) {
            return Err(ApiError::bad_request(format!(
                "Cannot create a child of a resource with a greedy path variable: {pp}"
            )));
        }
    }
    for sib in def.resources.values() {
        if sib.parent_id.as_deref() != Some(parent_id) || Some(sib.id.as_str()) == self_id {
            continue;
        }
        let sib_part = sib.path_part.as_deref().unwrap_or_default();
        if sib_part == part {
            return Err(ApiError::conflict(format!(
                "Another resource with the same parent already has this name: {part}"
            )));
        }
        let sib_is_var = !matches!(path_part(sib_part), Ok(PathPart::Static(_)));
        if sib_is_var && !matches!(kind, PathPart::Static(_)) {
            return Err(ApiError::bad_request(format!(
                "A sibling ({sib_part}) of this resource already has a variable path part -- only one is allowed"
            )));
        }
    }
    Ok(())
}

pub async fn create(
    State(ctx): State<Ctx>,
    Path((api_id, parent)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: CreateResourceInput = parse_body(&body)?;
    let part = input.path_part.unwrap_or_default();
    let out = ctx
        .store
        .transact(|s| {
            let a = s.apis.get(&api_id).ok_or_else(ApiError::no_resource)?;
            let def = &a.definition;
            check_placement(def, &parent, &part, None)?;
            if def.resources.len() >= MAX_RESOURCES {
                return Err(ApiError::limit_exceeded(format!(
                    "Maximum number of Resources for this API has been reached: {MAX_RESOURCES}"
                )));
            }
            let id = ids::unique(ids::short_id, |id| def.resources.contains_key(id));
            let def = def_mut(api_mut(s, &api_id)?);
            def.resources.insert(
                id.clone(),
                Resource {
                    id: id.clone(),
                    parent_id: Some(parent.clone()),
                    path_part: Some(part.clone()),
                    path: String::new(),
                    resource_methods: BTreeMap::new(),
                },
            );
            def.recompute_paths(&id);
            Ok::<_, ApiError>(view(&def.resources[&id], false))
        })
        .await?;
    Ok(json(201, &out))
}

/// UpdateResource's paths: both move the resource, the definition is the target and the
/// resource id the context.
static RESOURCE_PATCH: PatchTable<RestApiDefinition, String> = PatchTable {
    rules: &[
        PatchRule {
            ops: &["replace"],
            path: "/pathPart",
            apply: |def, c| {
                let current = placed(def, c.ctx, "Root resource cannot update its pathPart.")?;
                let parent = current.parent_id.unwrap_or_default();
                move_resource(def, c.ctx, parent, c.value.unwrap_or_default().to_string())
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/parentId",
            apply: |def, c| {
                let current = placed(def, c.ctx, "Root resource cannot update its parentId.")?;
                let parent = c.value.unwrap_or_default().to_string();
                if def.subtree(c.ctx).contains(&parent) {
                    return Err(ApiError::bad_request("Resources cannot be cyclical."));
                }
                move_resource(def, c.ctx, parent, current.path_part.unwrap_or_default())
            },
        },
    ],
    replace_only: &[],
    no_match: NoMatch::OpsOfPaths(&["/parentId", "/pathPart"]),
};

/// The resource, unless it is the root (which has no place to change).
fn placed(def: &RestApiDefinition, res: &str, root_error: &str) -> ApiResult<Resource> {
    let current = def.resources[res].clone();
    if current.parent_id.is_none() {
        return Err(ApiError::bad_request(root_error));
    }
    Ok(current)
}

/// Puts the resource under `parent` as `part`, after AWS's placement checks.
fn move_resource(
    def: &mut RestApiDefinition,
    res: &str,
    parent: String,
    part: String,
) -> ApiResult<()> {
    check_placement(def, &parent, &part, Some(res))?;
    let r = def
        .resources
        .get_mut(res)
        .ok_or_else(ApiError::no_resource)?;
    r.parent_id = Some(parent);
    r.path_part = Some(part);
    def.recompute_paths(res);
    Ok(())
}

pub async fn update(
    State(ctx): State<Ctx>,
    Path((api_id, res)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    let ops = PatchBody::parse(&body, "updateResourceInput")?;
    let out = ctx
        .store
        .transact(|s| {
            resource(s, &api_id, &res)?;
            let def = def_mut(api_mut(s, &api_id)?);
            RESOURCE_PATCH.apply(def, &res, &ops)?;
            Ok::<_, ApiError>(view(&def.resources[&res], false))
        })
        .await?;
    Ok(json(200, &out))
}

pub async fn delete(
    State(ctx): State<Ctx>,
    Path((api_id, res)): Path<(String, String)>,
) -> ApiResult<Response> {
    ctx.store
        .transact(|s| {
            let r = resource(s, &api_id, &res)?;
            if r.parent_id.is_none() {
                return Err(ApiError::bad_request("Cannot delete root resource"));
            }
            let def = def_mut(api_mut(s, &api_id)?);
            for id in def.subtree(&res) {
                def.resources.remove(&id);
            }
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(202))
}
