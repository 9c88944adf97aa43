//! CreateModel, GetModels, GetModel, UpdateModel, DeleteModel. Every API also has the
//! default `Empty` and `Error` models.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use tollgate_model::{ids, Model};

use super::shared::{api, api_mut, def_mut, method_request_using};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::pagination::page_map;
use crate::core::patch::PatchBody;
use crate::core::patch_table::{NoMatch, PatchRule, PatchTable};
use crate::core::util::{empty, json, parse_body, Query as Q};

fn no_model(name: &str) -> ApiError {
    ApiError::not_found(format!("Invalid model name specified: {name}"))
}

/// `Invalid model specified: Validation Result: ...`, AWS's wording for a schema it refuses
/// when the model is saved (so a deployment never holds a schema that cannot be checked).
fn invalid_model(error: &str) -> ApiError {
    ApiError::bad_request(format!(
        "Invalid model specified: Validation Result: warnings : [], errors : [{error}]"
    ))
}

/// True for a `$ref` AWS accepts: a pointer inside the schema (`#/...`) or another model
/// of an API in canonical form, `https://apigateway.amazonaws.com/restapis/{api}/models/{name}`
/// (a regional host such as `apigateway.us-east-1.amazonaws.com` too).
fn canonical_ref(r: &str) -> bool {
    if r.starts_with('#') {
        return true;
    }
    let Some((host, path)) = r
        .strip_prefix("https://")
        .and_then(|rest| rest.split_once('/'))
    else {
        return false;
    };
    let segs: Vec<&str> = path.split('/').collect();
    host.starts_with("apigateway.")
        && host.ends_with(".amazonaws.com")
        && matches!(segs.as_slice(), ["restapis", api, "models", name] if !api.is_empty() && !name.is_empty())
}

/// Every `$ref` of a schema document is canonical.
fn refs_are_canonical(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Object(o) => o.iter().all(|(k, v)| match (k.as_str(), v) {
            ("$ref", serde_json::Value::String(r)) => canonical_ref(r),
            _ => refs_are_canonical(v),
        }),
        serde_json::Value::Array(a) => a.iter().all(refs_are_canonical),
        _ => true,
    }
}

/// A schema must be given, say something (AWS refuses an empty one), be JSON, and refer to
/// other models only in canonical form.
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
    let doc: serde_json::Value =
        serde_json::from_str(s).map_err(|_| invalid_model("Invalid model schema specified"))?;
    if !doc.is_object() {
        return Err(invalid_model("Invalid model schema specified"));
    }
    if !refs_are_canonical(&doc) {
        return Err(invalid_model("Model reference must be in canonical form"));
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
    let out = ctx
        .store
        .transact(|s| {
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
        })
        .await?;
    Ok(json(201, &out))
}

pub async fn list(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    let a = api(&st, &api_id)?;
    page_map(&a.definition.models, &q)
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

/// UpdateModel's paths (all `replace`).
static MODEL_PATCH: PatchTable<Model, ()> = PatchTable {
    rules: &[
        replace_opt!("/description", description),
        PatchRule {
            ops: &["replace"],
            path: "/schema",
            apply: |m, c| {
                check_schema(c.value)?;
                m.schema = c.value.map(str::to_string);
                Ok(())
            },
        },
    ],
    replace_only: &[],
    no_match: NoMatch::ReplaceOnly(&["/description", "/schema"]),
};

pub async fn update(
    State(ctx): State<Ctx>,
    Path((api_id, name)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    let ops = PatchBody::parse(&body, "updateModelInput")?;
    let out = ctx
        .store
        .transact(|s| {
            let def = def_mut(api_mut(s, &api_id)?);
            let model = def.models.get_mut(&name).ok_or_else(|| no_model(&name))?;
            MODEL_PATCH.apply(model, &(), &ops)?;
            Ok::<_, ApiError>(model.clone())
        })
        .await?;
    Ok(json(200, &out))
}

pub async fn delete(
    State(ctx): State<Ctx>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    ctx.store
        .transact(|s| {
            let a = api(s, &api_id)?;
            if !a.definition.models.contains_key(&name) {
                return Err(no_model(&name));
            }
            if let Some(at) = method_request_using(&a.definition, |m| {
                m.request_models.values().any(|n| *n == name)
            }) {
                return Err(ApiError::conflict(format!(
                    "Cannot delete model '{name}', is referenced in method request: {at}"
                )));
            }
            let def = def_mut(api_mut(s, &api_id)?);
            def.models.remove(&name);
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(202))
}

/// GetModelTemplate: a mapping-template skeleton that copies the model's shape from the
/// request body, as AWS generates it for the console (`{"value": "..."}`).
pub async fn template(
    State(ctx): State<Ctx>,
    Path((api_id, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    let a = api(&st, &api_id)?;
    let model = a
        .definition
        .models
        .get(&name)
        .ok_or_else(|| no_model(&name))?;
    let schema: serde_json::Value = model
        .schema
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default();
    Ok(json(
        200,
        &serde_json::json!({ "value": crate::core::model_template::template(&schema) }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_are_checked_when_saved() {
        let ok = r##"{"type": "object", "properties": {"a": {"$ref": "https://apigateway.amazonaws.com/restapis/abc/models/Pet"}, "b": {"$ref": "#/definitions/x"}}}"##;
        assert!(check_schema(Some(ok)).is_ok());
        let regional = r#"{"items": {"$ref": "https://apigateway.us-east-1.amazonaws.com/restapis/abc/models/Pet"}}"#;
        assert!(check_schema(Some(regional)).is_ok());
        for (bad, why) in [
            (r#"{"type": "object""#, "Invalid model schema specified"),
            (r#"["type"]"#, "Invalid model schema specified"),
            (
                r#"{"properties": {"a": {"$ref": "Pet"}}}"#,
                "Model reference must be in canonical form",
            ),
            (
                r#"{"items": {"$ref": "https://example.com/restapis/abc/models/Pet"}}"#,
                "Model reference must be in canonical form",
            ),
        ] {
            let e = check_schema(Some(bad)).unwrap_err();
            assert_eq!(
                e.message,
                format!(
                    "Invalid model specified: Validation Result: warnings : [], errors : [{why}]"
                ),
                "{bad}"
            );
        }
        assert_eq!(
            check_schema(Some("{}")).unwrap_err().message,
            "Model schema must have at least 1 property or array items defined"
        );
    }
}
