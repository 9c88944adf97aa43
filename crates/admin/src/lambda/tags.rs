//! ListTags, TagResource, UntagResource on functions (`/2017-03-31/tags/{ARN}`). Tags belong
//! to the function, not to a version or alias, as on AWS.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use tollgate_model::lambda::FunctionRef;

use super::shared::{function, function_mut, function_ref, invalid_parameter};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::util::{empty, json, parse_body, query_values};

/// The function a tag call names; tags are per function, so a qualifier is ignored.
fn resource(arn: &str) -> ApiResult<FunctionRef> {
    let r = function_ref(arn)?;
    Ok(FunctionRef {
        qualifier: None,
        ..r
    })
}

pub async fn list(State(ctx): State<Ctx>, Path(arn): Path<String>) -> ApiResult<Response> {
    let r = resource(&arn)?;
    let state = ctx.store.state();
    let f = function(&state, &ctx.region, &r)?;
    Ok(json(200, &json!({"Tags": f.tags})))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagInput {
    tags: Option<BTreeMap<String, String>>,
}

pub async fn tag(
    State(ctx): State<Ctx>,
    Path(arn): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let r = resource(&arn)?;
    let input: TagInput = parse_body(&body)?;
    let tags = input
        .tags
        .ok_or_else(|| super::shared::constraint("null", "tags", "Member must not be null"))?;
    for (k, v) in &tags {
        tollgate_model::validate::tag(k, v).map_err(invalid_parameter)?;
    }
    ctx.store
        .transact(|s| {
            // The closure may run again (on a conflict): it moves copies.
            let tags = tags.clone();
            function_mut(s, &ctx.region, &r)?.tags.extend(tags);
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(204))
}

pub async fn untag(
    State(ctx): State<Ctx>,
    Path(arn): Path<String>,
    uri: http::Uri,
) -> ApiResult<Response> {
    let r = resource(&arn)?;
    let keys = query_values(&uri, "tagKeys");
    ctx.store
        .transact(|s| {
            let f = function_mut(s, &ctx.region, &r)?;
            for k in &keys {
                f.tags.remove(k);
            }
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(204))
}
