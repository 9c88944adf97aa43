//! CreateDocumentationVersion, GetDocumentationVersions, GetDocumentationVersion,
//! UpdateDocumentationVersion, DeleteDocumentationVersion. A version freezes the API's
//! parts as they are when it is created; later edits to parts never change it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use tollgate_model::{time, DocumentationVersion};

use super::shared::{api, api_mut};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::pagination::page;
use crate::core::patch::PatchBody;
use crate::core::patch_table::{NoMatch, PatchTable};
use crate::core::util::{empty, json, parse_body, Query as Q};
use crate::core::wire::Wire;

/// `/restapis/{api}/documentation/versions/{version}`
type VersionPath = Path<(String, String)>;

fn no_version() -> ApiError {
    ApiError::not_found("Invalid Documentation version identifier specified")
}

/// A version on the wire: without the parts it froze.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionWire<'a> {
    version: &'a str,
    created_date: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
}

/// Implemented here, beside the only handlers that answer versions.
pub struct Shown<'a>(pub &'a DocumentationVersion);

impl Wire for Shown<'_> {
    type Shape<'a>
        = VersionWire<'a>
    where
        Self: 'a;

    fn to_wire(&self) -> VersionWire<'_> {
        VersionWire {
            version: &self.0.version,
            created_date: self.0.created_date,
            description: self.0.description.as_deref(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateDocumentationVersionInput {
    documentation_version: Option<String>,
    stage_name: Option<String>,
    description: Option<String>,
}

pub async fn create(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: CreateDocumentationVersionInput = parse_body(&body)?;
    let name = input
        .documentation_version
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("Documentation version must be specified"))?;
    let out = ctx
        .store
        .transact(|s| {
            let a = api_mut(s, &api_id)?;
            if a.documentation_versions.contains_key(&name) {
                return Err(ApiError::conflict(format!(
                    "Documentation version already exists: {name}"
                )));
            }
            let v = DocumentationVersion {
                version: name.clone(),
                created_date: time::now_epoch(),
                description: input.description.clone(),
                parts: a
                    .documentation_parts
                    .values()
                    .map(|p| p.as_ref().clone())
                    .collect(),
            };
            // With `stageName`, the stage now shows this version (as AWS links them).
            if let Some(stage) = &input.stage_name {
                let st = a.stages.get_mut(stage).ok_or_else(ApiError::no_stage)?;
                Arc::make_mut(st).documentation_version = Some(name.clone());
            }
            let v = Arc::new(v);
            a.documentation_versions.insert(name.clone(), v.clone());
            Ok::<_, ApiError>(v)
        })
        .await?;
    Ok(json(201, &Shown(&out)))
}

pub async fn list(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    let a = api(&st, &api_id)?;
    let items = a
        .documentation_versions
        .iter()
        .map(|(k, v)| (k.clone(), Shown(v)))
        .collect();
    page(items, &q)
}

pub async fn get(
    State(ctx): State<Ctx>,
    Path((api_id, version)): VersionPath,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    let a = api(&st, &api_id)?;
    let v = a
        .documentation_versions
        .get(&version)
        .ok_or_else(no_version)?;
    Ok(json(200, &Shown(v)))
}

/// UpdateDocumentationVersion takes `replace /description` only.
static VERSION_PATCH: PatchTable<DocumentationVersion, ()> = PatchTable {
    rules: &[replace_opt!("/description", description)],
    replace_only: &[],
    no_match: NoMatch::ReplaceOnly(&["/description"]),
};

pub async fn update(
    State(ctx): State<Ctx>,
    Path((api_id, version)): VersionPath,
    body: Bytes,
) -> ApiResult<Response> {
    let ops = PatchBody::parse(&body, "updateDocumentationVersionInput")?;
    let out = ctx
        .store
        .transact(|s| {
            let a = api_mut(s, &api_id)?;
            let v = a
                .documentation_versions
                .get_mut(&version)
                .ok_or_else(no_version)?;
            let v = Arc::make_mut(v);
            VERSION_PATCH.apply(v, &(), &ops)?;
            Ok::<_, ApiError>(Arc::new(v.clone()))
        })
        .await?;
    Ok(json(200, &Shown(&out)))
}

pub async fn delete(
    State(ctx): State<Ctx>,
    Path((api_id, version)): VersionPath,
) -> ApiResult<Response> {
    ctx.store
        .transact(|s| {
            let a = api(s, &api_id)?;
            if !a.documentation_versions.contains_key(&version) {
                return Err(no_version());
            }
            // A stage showing it keeps its name, as a stage may name a version before it
            // exists; exports simply find no documentation for it.
            api_mut(s, &api_id)?.documentation_versions.remove(&version);
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(202))
}
