//! CreateRequestValidator, GetRequestValidators, GetRequestValidator,
//! UpdateRequestValidator, DeleteRequestValidator.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use tollgate_model::{ids, RequestValidator};

use super::shared::{api, api_mut, def_mut, method_request_using};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::pagination::page_map;
use crate::core::patch::PatchBody;
use crate::core::patch_table::{NoMatch, PatchRule, PatchTable};
use crate::core::util::{empty, json, parse_body, Query as Q};

/// `/restapis/{api}/requestvalidators/{id}`
type ValidatorPath = Path<(String, String)>;

/// AWS reports an unknown API and an unknown validator alike on validator calls.
fn no_validator() -> ApiError {
    ApiError::not_found("Invalid Request Validator identifier specified")
}

fn blank_name() -> ApiError {
    ApiError::bad_request("Request Validator name cannot be blank")
}

/// The validator, copied on first write; an unknown API is an unknown validator.
fn validator_mut<'a>(
    s: &'a mut tollgate_store::State,
    api_id: &str,
    id: &str,
) -> ApiResult<&'a mut RequestValidator> {
    let a = s.apis.get_mut(api_id).ok_or_else(no_validator)?;
    if !a.definition.request_validators.contains_key(id) {
        return Err(no_validator());
    }
    def_mut(std::sync::Arc::make_mut(a))
        .request_validators
        .get_mut(id)
        .ok_or_else(no_validator)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRequestValidatorInput {
    name: Option<String>,
    #[serde(default)]
    validate_request_body: bool,
    #[serde(default)]
    validate_request_parameters: bool,
}

pub async fn create(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: CreateRequestValidatorInput = parse_body(&body)?;
    if input.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(blank_name());
    }
    let out =
        ctx.store
            .transact(|s| {
                // AWS answers a create under an unknown API with this BadRequest, unlike the reads.
                let a = s.apis.get_mut(&api_id).ok_or_else(|| {
                    ApiError::bad_request("Invalid REST API identifier specified")
                })?;
                let def = def_mut(std::sync::Arc::make_mut(a));
                let v = RequestValidator {
                    id: ids::unique(ids::short_id, |id| def.request_validators.contains_key(id)),
                    name: input.name.clone(),
                    validate_request_body: input.validate_request_body,
                    validate_request_parameters: input.validate_request_parameters,
                };
                def.request_validators.insert(v.id.clone(), v.clone());
                Ok::<_, ApiError>(v)
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
    page_map(&a.definition.request_validators, &q)
}

pub async fn get(State(ctx): State<Ctx>, Path((api_id, id)): ValidatorPath) -> ApiResult<Response> {
    let st = ctx.store.state();
    let v = st
        .apis
        .get(&api_id)
        .and_then(|a| a.definition.request_validators.get(&id))
        .ok_or_else(no_validator)?;
    Ok(json(200, v))
}

/// A patch boolean as AWS reads it (Java's `Boolean.parseBoolean`): anything but `true`,
/// a missing value included, is false. Recorded: replace without a value gives false.
fn java_bool(v: Option<&str>) -> bool {
    v.is_some_and(|s| s.eq_ignore_ascii_case("true"))
}

/// UpdateRequestValidator's paths (all `replace`).
static VALIDATOR_PATCH: PatchTable<RequestValidator, ()> = PatchTable {
    rules: &[
        PatchRule {
            ops: &["replace"],
            path: "/name",
            apply: |v, c| match c.value {
                Some(n) if !n.trim().is_empty() => {
                    v.name = Some(n.to_string());
                    Ok(())
                }
                _ => Err(blank_name()),
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/validateRequestBody",
            apply: |v, c| {
                v.validate_request_body = java_bool(c.value);
                Ok(())
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/validateRequestParameters",
            apply: |v, c| {
                v.validate_request_parameters = java_bool(c.value);
                Ok(())
            },
        },
    ],
    replace_only: &[],
    no_match: NoMatch::ReplaceOnly(&[
        "/name",
        "/validateRequestParameters",
        "/validateRequestBody",
    ]),
};

pub async fn update(
    State(ctx): State<Ctx>,
    Path((api_id, id)): ValidatorPath,
    body: Bytes,
) -> ApiResult<Response> {
    let ops = PatchBody::parse(&body, "updateRequestValidatorInput")?;
    let out = ctx
        .store
        .transact(|s| {
            let v = validator_mut(s, &api_id, &id)?;
            VALIDATOR_PATCH.apply(v, &(), &ops)?;
            Ok::<_, ApiError>(v.clone())
        })
        .await?;
    Ok(json(200, &out))
}

pub async fn delete(
    State(ctx): State<Ctx>,
    Path((api_id, id)): ValidatorPath,
) -> ApiResult<Response> {
    ctx.store
        .transact(|s| {
            let a = s.apis.get(&api_id).ok_or_else(no_validator)?;
            if !a.definition.request_validators.contains_key(&id) {
                return Err(no_validator());
            }
            // Methods keep their validator: a dangling id would make GetMethod report a
            // validator that does not exist, so the delete is refused like DeleteModel's.
            if let Some(at) = method_request_using(&a.definition, |m| {
                m.request_validator_id.as_deref() == Some(id.as_str())
            }) {
                return Err(ApiError::conflict(format!(
                    "Cannot delete request validator '{id}', is referenced in method request: {at}"
                )));
            }
            def_mut(api_mut(s, &api_id)?).request_validators.remove(&id);
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(202))
}
