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
