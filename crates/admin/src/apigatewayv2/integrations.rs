//! CreateIntegration, GetIntegrations, GetIntegration, UpdateIntegration,
//! DeleteIntegration.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use tollgate_model::ids;
use tollgate_model::v2::Integration;

use super::integration_input::IntegrationInput;
use super::shared::{
    api_mut, auto_deploy, def_mut, find, fresh_id, get_item, list_items, not_managed, update_item,
    Collection,
};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::util::{empty, json, parse_body, Query as Q};

static COLLECTION: Collection<Integration> = Collection {
    what: "Integration",
    of: |d| &d.integrations,
    of_mut: |d| &mut d.integrations,
};

type IntegrationPath = Path<(String, String)>;

pub async fn create(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: IntegrationInput = parse_body(&body)?;
    let out = ctx
        .store
        .transact(|s| {
            let a = api_mut(s, &api_id)?;
            let id = fresh_id(&a.definition.integrations, ids::seven_char_id);
            let i = input
                .clone()
                .create(id.clone(), a.definition.is_websocket())?;
            def_mut(a).integrations.insert(id, i.clone());
            auto_deploy(a);
            Ok::<_, ApiError>(i)
        })
        .await?;
    Ok(json(201, &out))
}

pub async fn list(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    list_items(&ctx, &api_id, &q, &COLLECTION)
}

pub async fn get(
    State(ctx): State<Ctx>,
    Path((api_id, id)): IntegrationPath,
) -> ApiResult<Response> {
    get_item(&ctx, &api_id, &id, &COLLECTION)
}

pub async fn update(
    State(ctx): State<Ctx>,
    Path((api_id, id)): IntegrationPath,
    body: Bytes,
) -> ApiResult<Response> {
    let input: IntegrationInput = parse_body(&body)?;
    update_item(&ctx, &api_id, &id, &COLLECTION, |i, def| {
        not_managed(i.api_gateway_managed, "integration")?;
        input.clone().apply(i, def.is_websocket())
    })
    .await
}

pub async fn delete(
    State(ctx): State<Ctx>,
    Path((api_id, id)): IntegrationPath,
) -> ApiResult<Response> {
    ctx.store
        .transact(|s| {
            let a = api_mut(s, &api_id)?;
            let i = find(&a.definition.integrations, "Integration", &id)?;
            not_managed(i.api_gateway_managed, "integration")?;
            let used_by = a
                .definition
                .routes
                .values()
                .find(|r| r.integration_id() == Some(id.as_str()));
            if let Some(r) = used_by {
                return Err(ApiError::conflict(format!(
                    "Integration {id} is in use by route {} ({})",
                    r.route_id, r.route_key
                )));
            }
            let def = def_mut(a);
            def.integrations.remove(&id);
            let prefix = format!("{id}/");
            def.integration_responses
                .retain(|k, _| !k.starts_with(&prefix));
            auto_deploy(a);
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(204))
}
