//! CreateModel, GetModels, GetModel, UpdateModel, DeleteModel. Every API also has the
//! default `Empty` and `Error` models.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use tollgate_model::{ids, Model};

use super::{api, api_mut, def_mut, set_opt};
use crate::error::{ApiError, ApiResult};
use crate::patch::{invalid_path_for_op, unsupported_op, PatchBody};
use crate::util::{empty, json, page, parse_body, Query as Q};
use crate::Ctx;

fn no_model(name: &str) -> ApiError {
    ApiError::not_found(format!("Invalid model name specified: {name}"))
}

/// A schema must be given and say something (AWS refuses an empty one).
fn check_schema(schema: Option<&str>) -> ApiResult<()> {
    let s = schema.map(str::trim).unwrap_or_default();
    let empty_object = serde_json::from_str::<serde_json::Value>(s)
        .ok()
        .is_some_and(|v| v.as_object().is_some_and(|o| o.is_empty()));
    if s.is_empty() || empty_object {
        return Err(ApiError::bad_request(
            "Model schema must have at least 1 property or array items defined",
        ));
    }
    if s.len() > 400 * 1024 {
        return Err(ApiError::bad_request(
            "Model schema exceeds the maximum size of 400 KB",
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateModelInput {
    name: Option<String>,
    description: Option<String>,
    schema: Option<String>,
    content_type: Option<String>,
}

pub async fn create(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: CreateModelInput = parse_body(&body)?;
    let out = ctx.store.transact(|s| {
        let def = def_mut(api_mut(s, &api_id)?);
        let name = input.name.clone().unwrap_or_default();
        if name.is_empty() {
            return Err(ApiError::bad_request("Model name must be non-empty"));
        }
        if !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ApiError::bad_request("Model name must be alphanumeric"));
        }
        if def.models.contains_key(&name) {
            return Err(ApiError::conflict(
                "Model name already exists for this REST API",
            ));
        }
        check_schema(input.schema.as_deref())?;
        let model = Model {
            id: ids::unique(ids::short_id, |id| def.models.values().any(|m| m.id == id)),
            name: name.clone(),
            description: input.description.clone(),
            schema: input.schema.clone(),
            content_type: input
                .content_type
                .clone()
                .unwrap_or_else(|| "application/json".into()),
        };
        def.models.insert(name, model.clone());
        Ok::<_, ApiError>(model)
    })?;
    Ok(json(201, &out))
}

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
    Ok(json(
        200,
        a.definition
            .models
            .get(&name)
            .ok_or_else(|| no_model(&name))?,
    ))
}

pub async fn update(
    State(ctx): State<Ctx>,
    Path((api_id, name)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    let ops = PatchBody::parse(&body, "updateModelInput")?;
    let out = ctx.store.transact(|s| {
        let def = def_mut(api_mut(s, &api_id)?);
        let model = def.models.get_mut(&name).ok_or_else(|| no_model(&name))?;
        for op in &ops {
            let path = op.path()?;
            match (op.op.as_str(), path) {
                ("replace", "/description") => set_opt(&mut model.description, op.value()),
                ("replace", "/schema") => {
                    check_schema(op.value())?;
                    model.schema = op.value().map(str::to_string);
                }
                ("replace", _) => {
                    return Err(invalid_path_for_op(
                        path,
                        "replace",
                        &["/description", "/schema"],
                    ))
                }
                (o, _) => return Err(unsupported_op(path, o)),
            }
        }
        Ok::<_, ApiError>(model.clone())
    })?;
    Ok(json(200, &out))
}

pub async fn delete(
    State(ctx): State<Ctx>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    ctx.store.transact(|s| {
        let a = api(s, &api_id)?;
        if !a.definition.models.contains_key(&name) {
            return Err(no_model(&name));
        }
        for r in a.definition.resources.values() {
            for (verb, m) in &r.resource_methods {
                if m.request_models.values().any(|n| *n == name) {
                    // AWS shows the root resource as `//ANY`-style: path plus method.
                    let path = if r.path == "/" { "/".to_string() } else { r.path.clone() };
                    return Err(ApiError::conflict(format!(
                        "Cannot delete model '{name}', is referenced in method request: {path}/{verb}"
                    )));
                }
            }
        }
        let def = def_mut(api_mut(s, &api_id)?);
        def.models.remove(&name);
        Ok::<_, ApiError>(())
    })?;
    Ok(empty(202))
}
