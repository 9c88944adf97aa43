//! TagResource, UntagResource and GetTags, as API Gateway v1 and v2 both answer them; each
//! service says how its ARNs name a tag map ([`Tagging`]).

use std::collections::BTreeMap;

use axum::response::Response;
use serde::Deserialize;
use tollgate_store::State;

use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::util::{empty, json, parse_body, query_values};

pub type Tags = BTreeMap<String, String>;

/// An edit of one tag map.
pub type TagEdit<'a> = &'a mut dyn FnMut(&mut Tags);

/// How one service reaches the tags an ARN names.
pub struct Tagging {
    /// The tags of the resource `arn` names (AWS's not-found errors otherwise).
    pub read: fn(&State, &str) -> ApiResult<Tags>,
    /// Edits the tags of the resource `arn` names, inside a write.
    pub edit: fn(&mut State, &str, TagEdit<'_>) -> ApiResult<()>,
    /// TagResource's answer: v1 `204` and no body, v2 `201` and `{}`.
    pub tagged: fn() -> Response,
}

#[derive(Clone, Deserialize)]
struct TagInput {
    #[serde(default)]
    tags: Tags,
}

pub async fn get(ctx: &Ctx, arn: &str, t: &Tagging) -> ApiResult<Response> {
    let tags = (t.read)(&ctx.store.state(), arn)?;
    Ok(json(200, &serde_json::json!({ "tags": tags })))
}

pub async fn tag(ctx: &Ctx, arn: &str, body: &[u8], t: &Tagging) -> ApiResult<Response> {
    let input: TagInput = parse_body(body)?;
    for (k, v) in &input.tags {
        tollgate_model::validate::tag(k, v).map_err(ApiError::bad_request)?;
    }
    ctx.store
        .transact(|s| (t.edit)(s, arn, &mut |tags| tags.extend(input.tags.clone())))
        .await?;
    Ok((t.tagged)())
}

pub async fn untag(ctx: &Ctx, arn: &str, uri: &http::Uri, t: &Tagging) -> ApiResult<Response> {
    let keys = query_values(uri, "tagKeys");
    ctx.store
        .transact(|s| {
            (t.edit)(s, arn, &mut |tags| {
                for k in &keys {
                    tags.remove(k);
                }
            })
        })
        .await?;
    Ok(empty(204))
}

/// The tag LocalStack users set on CreateRestApi / CreateApi to choose the API's id, so
/// local URLs stay the same across re-creations.
pub const CUSTOM_ID_TAG: &str = "_custom_id_";

/// A new API's id: the `_custom_id_` tag's value when given (a clash with any REST or
/// HTTP API is a conflict; upper case is refused, as LocalStack does, because ids are
/// matched case-insensitively in `{id}.execute-api` host names), else a fresh one.
/// `noun` names the id in messages (`RestApiId`, `ApiId`).
pub fn new_api_id(state: &State, tags: &Tags, noun: &str) -> ApiResult<String> {
    let Some(id) = tags.get(CUSTOM_ID_TAG) else {
        return Ok(tollgate_model::ids::unique(
            tollgate_model::ids::long_id,
            |id| state.api_id_taken(id),
        ));
    };
    if id.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(ApiError::bad_request(format!(
            "The {noun} '{id}' cannot contain uppercase characters"
        )));
    }
    if state.api_id_taken(id) {
        return Err(ApiError::conflict(format!(
            "API with id {id} already exists"
        )));
    }
    Ok(id.clone())
}
