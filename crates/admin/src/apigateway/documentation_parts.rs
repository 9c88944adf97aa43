//! CreateDocumentationPart, GetDocumentationParts, GetDocumentationPart,
//! UpdateDocumentationPart, DeleteDocumentationPart.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use tollgate_model::{ids, DocumentationPart, DocumentationPartLocation, DocumentationPartType};
use tollgate_openapi::documentation::ImportedPart;
use tollgate_store::ApiState;

use super::shared::{api, api_mut};
use crate::core::context::Ctx;
use crate::core::error::{parse_enum, parse_enum_opt, ApiError, ApiResult};
use crate::core::pagination::page;
use crate::core::patch::PatchBody;
use crate::core::patch_table::{NoMatch, PatchRule, PatchTable};
use crate::core::util::{empty, json, parse_body, Query as Q};

/// `/restapis/{api}/documentation/parts/{id}`
type PartPath = Path<(String, String)>;

/// AWS reports an unknown API and an unknown part alike on reads and updates of one part.
fn no_part() -> ApiError {
    ApiError::not_found("Invalid Documentation part identifier specified")
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LocationInput {
    #[serde(rename = "type")]
    part_type: Option<String>,
    path: Option<String>,
    method: Option<String>,
    status_code: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct CreateDocumentationPartInput {
    location: Option<LocationInput>,
    properties: Option<String>,
}

/// `properties` must be a JSON object, kept as the caller wrote it.
pub fn check_properties(p: &str) -> ApiResult<()> {
    match serde_json::from_str::<serde_json::Value>(p) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        _ => Err(ApiError::bad_request(
            "Invalid properties: must be a JSON object encoded as a string",
        )),
    }
}

/// The location of a create, checked against the type's rules.
fn location(input: Option<LocationInput>) -> ApiResult<DocumentationPartLocation> {
    let l =
        input.ok_or_else(|| ApiError::bad_request("Documentation part location is required"))?;
    let t = l
        .part_type
        .ok_or_else(|| ApiError::bad_request("Documentation part location type is required"))?;
    let part_type = parse_enum(&t, "createDocumentationPartInput.location.type")?;
    let loc = DocumentationPartLocation {
        part_type,
        path: l.path,
        method: l.method,
        status_code: l.status_code,
        name: l.name,
    };
    loc.validate()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(loc)
}

/// The part of `parts` at the same location as `loc`, if any.
pub fn part_at<'a>(
    a: &'a ApiState,
    loc: &DocumentationPartLocation,
) -> Option<&'a Arc<DocumentationPart>> {
    let key = loc.key();
    a.documentation_parts
        .values()
        .find(|p| p.location.key() == key)
}

/// A fresh part id of the API.
pub fn new_part_id(a: &ApiState) -> String {
    ids::unique(ids::short_id, |id| a.documentation_parts.contains_key(id))
}

pub async fn create(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: CreateDocumentationPartInput = parse_body(&body)?;
    let loc = location(input.location)?;
    let properties = input
        .properties
        .ok_or_else(|| ApiError::bad_request("Documentation part properties are required"))?;
    check_properties(&properties)?;
    let out = ctx
        .store
        .transact(|s| {
            let a = api_mut(s, &api_id)?;
            if let Some(p) = part_at(a, &loc) {
                return Err(ApiError::conflict(format!(
                    "Documentation part already exists for the location, id: {}",
                    p.id
                )));
            }
            let part = DocumentationPart {
                id: new_part_id(a),
                location: loc.clone(),
                properties: properties.clone(),
            };
            a.documentation_parts
                .insert(part.id.clone(), Arc::new(part.clone()));
            Ok::<_, ApiError>(part)
        })
        .await?;
    Ok(json(201, &out))
}

/// GetDocumentationParts' filters: `type`, `name` (a prefix of the entity's name), `path`,
/// and `locationStatus` (every stored part has content, so `UNDOCUMENTED` finds none).
pub async fn list(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    let part_type: Option<DocumentationPartType> = parse_enum_opt(
        q.get("type").map(String::as_str),
        "getDocumentationPartsInput.type",
    )?;
    let status = q.get("locationStatus").map(String::as_str);
    if let Some(s) = status {
        if s != "DOCUMENTED" && s != "UNDOCUMENTED" {
            return Err(crate::core::error::Violation::enum_value(
                s,
                "getDocumentationPartsInput.locationStatus",
                "DOCUMENTED, UNDOCUMENTED",
            )
            .into());
        }
    }
    let st = ctx.store.state();
    let a = api(&st, &api_id)?;
    let items = a
        .documentation_parts
        .iter()
        .filter(|(_, p)| part_type.is_none_or(|t| p.location.part_type == t))
        .filter(|(_, p)| {
            q.get("name").is_none_or(|n| {
                p.location
                    .name
                    .as_deref()
                    .is_some_and(|x| x.starts_with(n.as_str()))
            })
        })
        .filter(|(_, p)| {
            q.get("path")
                .is_none_or(|want| p.location.path.as_deref().unwrap_or("/") == want)
        })
        .filter(|_| status != Some("UNDOCUMENTED"))
        .map(|(k, v)| (k.clone(), v))
        .collect();
    page(items, &q)
}

pub async fn get(State(ctx): State<Ctx>, Path((api_id, id)): PartPath) -> ApiResult<Response> {
    let st = ctx.store.state();
    let p = st
        .apis
        .get(&api_id)
        .and_then(|a| a.documentation_parts.get(&id))
        .ok_or_else(no_part)?;
    Ok(json(200, p.as_ref()))
}

/// UpdateDocumentationPart takes `replace /properties` only (recorded).
static PART_PATCH: PatchTable<DocumentationPart, ()> = PatchTable {
    rules: &[PatchRule {
        ops: &["replace"],
        path: "/properties",
        apply: |p, c| {
            let v = c.value.unwrap_or_default();
            check_properties(v)?;
            p.properties = v.to_string();
            Ok(())
        },
    }],
    replace_only: &[],
    no_match: NoMatch::ReplaceOnly(&["/properties"]),
};

pub async fn update(
    State(ctx): State<Ctx>,
    Path((api_id, id)): PartPath,
    body: Bytes,
) -> ApiResult<Response> {
    let ops = PatchBody::parse(&body, "updateDocumentationPartInput")?;
    let out = ctx
        .store
        .transact(|s| {
            let a = s.apis.get_mut(&api_id).ok_or_else(no_part)?;
            if !a.documentation_parts.contains_key(&id) {
                return Err(no_part());
            }
            let a = Arc::make_mut(a);
            let p = a.documentation_parts.get_mut(&id).ok_or_else(no_part)?;
            let p = Arc::make_mut(p);
            PART_PATCH.apply(p, &(), &ops)?;
            Ok::<_, ApiError>(p.clone())
        })
        .await?;
    Ok(json(200, &out))
}

pub async fn delete(State(ctx): State<Ctx>, Path((api_id, id)): PartPath) -> ApiResult<Response> {
    ctx.store
        .transact(|s| {
            // Recorded: an unknown API is reported as such here, unlike on get and update.
            let a = api(s, &api_id)?;
            if !a.documentation_parts.contains_key(&id) {
                return Err(no_part());
            }
            api_mut(s, &api_id)?.documentation_parts.remove(&id);
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(202))
}

/// How imported parts meet the API's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartsMode {
    /// A part at a location that has one updates that part's properties key by key;
    /// other parts stay.
    Merge,
    /// The API's parts become exactly the imported ones.
    Overwrite,
}

/// Lays `parts` onto the API; answers the ids of the parts they became, in order.
pub fn lay_parts(a: &mut ApiState, parts: &[ImportedPart], mode: PartsMode) -> Vec<String> {
    if mode == PartsMode::Overwrite {
        a.documentation_parts.clear();
    }
    let mut ids = Vec::with_capacity(parts.len());
    for imported in parts {
        let part = match part_at(a, &imported.location) {
            Some(existing) => {
                let mut props: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&existing.properties).unwrap_or_default();
                props.extend(imported.properties.clone());
                DocumentationPart {
                    id: existing.id.clone(),
                    location: existing.location.clone(),
                    properties: serde_json::Value::Object(props).to_string(),
                }
            }
            None => DocumentationPart {
                id: new_part_id(a),
                location: imported.location.clone(),
                properties: serde_json::Value::Object(imported.properties.clone()).to_string(),
            },
        };
        ids.push(part.id.clone());
        a.documentation_parts
            .insert(part.id.clone(), Arc::new(part));
    }
    ids
}
