//! TagResource, UntagResource, GetTags for RestApis and Stages.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use tollgate_store::State as StoreState;

use super::shared::{api_mut, def_mut};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::util::{empty, json, parse_body, query_values};

/// What an ARN names: `arn:aws:apigateway:{region}::/restapis/{id}[/stages/{stage}]`.
enum Target {
    RestApi(String),
    Stage(String, String),
}

fn target(arn: &str) -> ApiResult<Target> {
    let bad = || ApiError::not_found(format!("Invalid resource ARN specified: {arn}"));
    let path = arn
        .strip_prefix("arn:aws:apigateway:")
        .and_then(|r| r.split_once("::"))
        .map(|(_, p)| p)
        .ok_or_else(bad)?;
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segs.as_slice() {
        ["restapis", id] => Ok(Target::RestApi(id.to_string())),
        ["restapis", id, "stages", stage] => Ok(Target::Stage(id.to_string(), stage.to_string())),
        _ => Err(bad()),
    }
}

fn with_tags<R>(
    s: &mut StoreState,
    arn: &str,
    f: impl FnOnce(&mut BTreeMap<String, String>) -> ApiResult<R>,
) -> ApiResult<R> {
    match target(arn)? {
        Target::RestApi(id) => f(&mut def_mut(api_mut(s, &id)?).api.tags),
        Target::Stage(id, stage) => {
            let a = api_mut(s, &id)?;
            let st = a.stages.get_mut(&stage).ok_or_else(ApiError::no_stage)?;
            f(&mut Arc::make_mut(st).tags)
        }
    }
}

#[derive(Clone, Deserialize)]
struct TagInput {
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

pub async fn get(State(ctx): State<Ctx>, Path(arn): Path<String>) -> ApiResult<Response> {
    let st = ctx.store.state();
    let tags = match target(&arn)? {
        Target::RestApi(id) => super::shared::api(&st, &id)?.definition.api.tags.clone(),
        Target::Stage(id, stage) => super::shared::api(&st, &id)?
            .stages
            .get(&stage)
            .ok_or_else(ApiError::no_stage)?
            .tags
            .clone(),
    };
    Ok(json(200, &serde_json::json!({ "tags": tags })))
}

pub async fn tag(
    State(ctx): State<Ctx>,
    Path(arn): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: TagInput = parse_body(&body)?;
    for (k, v) in &input.tags {
        tollgate_model::validate::tag(k, v).map_err(ApiError::bad_request)?;
    }
    ctx.store
        .transact(|s| {
            // The closure may run again (on a conflict): it moves copies.
            let input = input.clone();
            with_tags(s, &arn, |tags| {
                tags.extend(input.tags);
                Ok(())
            })
        })
        .await?;
    Ok(empty(204))
}

pub async fn untag(
    State(ctx): State<Ctx>,
    Path(arn): Path<String>,
    uri: http::Uri,
) -> ApiResult<Response> {
    let keys = query_values(&uri, "tagKeys");
    ctx.store
        .transact(|s| {
            with_tags(s, &arn, |tags| {
                for k in &keys {
                    tags.remove(k);
                }
                Ok(())
            })
        })
        .await?;
    Ok(empty(204))
}
