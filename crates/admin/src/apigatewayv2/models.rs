//! CreateModel, GetModels, GetModel, UpdateModel, DeleteModel, GetModelTemplate
//! (WebSocket APIs only; control-plane-v2.md §3.5).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use tollgate_model::ids;
use tollgate_model::v2::{Definition, Model};

use super::shared::{
    api, api_mut, auto_deploy, def_mut, find, fresh_id, get_item, list_items, update_item,
    Collection,
};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::util::{empty, json, parse_body, Query as Q};

#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ModelInput {
    name: Option<String>,
    schema: Option<String>,
    content_type: Option<String>,
    description: Option<String>,
}

static COLLECTION: Collection<Model> = Collection {
    what: "Model",
    of: |d| &d.models,
    of_mut: |d| &mut d.models,
};

type ModelPath = Path<(String, String)>;

impl ModelInput {
    /// Applies the members this body names, then checks the model against the API.
    fn apply(self, m: &mut Model, def: &Definition) -> ApiResult<()> {
        if !def.is_websocket() {
            return Err(ApiError::bad_request(
                "Models are supported only for WebSocket APIs",
            ));
        }
        if let Some(n) = self.name {
            if n.is_empty() || !n.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(ApiError::bad_request(format!(
                    "Invalid model name specified: {n}. Model names must be alphanumeric"
                )));
            }
            m.name = n;
        }
        if let Some(s) = self.schema {
            if !serde_json::from_str::<serde_json::Value>(&s).is_ok_and(|v| v.is_object()) {
                return Err(ApiError::bad_request(
                    "Invalid model schema specified: the schema must be a JSON object",
                ));
            }
            m.schema = s;
        }
        if self.content_type.is_some() {
            m.content_type = self.content_type;
        }
        if self.description.is_some() {
            m.description = self.description;
        }
        let taken = def
            .models
            .values()
            .any(|o| o.model_id != m.model_id && o.name == m.name);
        if taken {
            return Err(ApiError::conflict(format!(
                "Model name already exists for this API: {}",
                m.name
            )));
        }
        Ok(())
    }
}

pub async fn create(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: ModelInput = parse_body(&body)?;
    if input.name.is_none() || input.schema.is_none() {
        return Err(ApiError::bad_request("Name and Schema are required"));
    }
    let out = ctx
        .store
        .transact(|s| {
            let a = api_mut(s, &api_id)?;
            let mut m = Model {
                model_id: fresh_id(&a.definition.models, ids::short_id),
                name: String::new(),
                content_type: None,
                description: None,
                schema: String::new(),
            };
            input.clone().apply(&mut m, &a.definition)?;
            def_mut(a).models.insert(m.model_id.clone(), m.clone());
            auto_deploy(a);
            Ok::<_, ApiError>(m)
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

pub async fn get(State(ctx): State<Ctx>, Path((api_id, id)): ModelPath) -> ApiResult<Response> {
    get_item(&ctx, &api_id, &id, &COLLECTION)
}

pub async fn update(
    State(ctx): State<Ctx>,
    Path((api_id, id)): ModelPath,
    body: Bytes,
) -> ApiResult<Response> {
    let input: ModelInput = parse_body(&body)?;
    update_item(&ctx, &api_id, &id, &COLLECTION, |m, def| {
        input.clone().apply(m, def)
    })
    .await
}

pub async fn delete(State(ctx): State<Ctx>, Path((api_id, id)): ModelPath) -> ApiResult<Response> {
    ctx.store
        .transact(|s| {
            let a = api_mut(s, &api_id)?;
            find(&a.definition.models, "Model", &id)?;
            def_mut(a).models.remove(&id);
            auto_deploy(a);
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(204))
}

/// GetModelTemplate: `{"value": "<mapping template>"}`.
pub async fn template(
    State(ctx): State<Ctx>,
    Path((api_id, id)): ModelPath,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    let m = find(&api(&st, &api_id)?.definition.models, "Model", &id)?;
    let schema: serde_json::Value = serde_json::from_str(&m.schema).unwrap_or_default();
    Ok(json(
        200,
        &serde_json::json!({ "value": crate::core::model_template::template(&schema) }),
    ))
}
