//! GetModels and GetModel (the default `Empty` and `Error` models every API has).
//! Creating and editing models comes with request validation.

use axum::extract::{Path, Query, State};
use axum::response::Response;

use super::api;
use crate::error::{ApiError, ApiResult};
use crate::util::{json, page, Query as Q};
use crate::Ctx;

pub async fn list(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    let a = api(&st, &api_id)?;
    let items = a
        .definition
        .models
        .iter()
        .map(|(n, m)| (n.clone(), m.clone()))
        .collect();
    page(items, &q)
}

pub async fn get(
    State(ctx): State<Ctx>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    let a = api(&st, &api_id)?;
    let m = a
        .definition
        .models
        .get(&name)
        .ok_or_else(|| ApiError::not_found(format!("Invalid model name specified: {name}")))?;
    Ok(json(200, m))
}
