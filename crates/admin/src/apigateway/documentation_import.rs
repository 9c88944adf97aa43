//! ImportDocumentationParts (`PUT /restapis/{id}/documentation/parts`): the parts of a
//! document's `x-amazon-apigateway-documentation`, merged into the API's parts or
//! replacing them. ImportRestApi and PutRestApi lay a document's parts the same way.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Serialize;
use tollgate_model::DocumentationPart;
use tollgate_openapi::documentation::{self, ImportedPart};
use tollgate_openapi::problems::Problems;
use tollgate_store::ApiState;

use super::documentation_parts::{new_part_id, part_at};
use super::openapi_import::fail_on_warnings;
use super::shared::api_mut;
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::util::{json, Query as Q};
use crate::core::wire::Wire;

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

#[derive(Serialize)]
pub struct ImportedIds {
    ids: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

impl Wire for ImportedIds {
    type Shape<'a> = &'a ImportedIds;

    fn to_wire(&self) -> &ImportedIds {
        self
    }
}

pub async fn import(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    Query(q): Query<Q>,
    body: Bytes,
) -> ApiResult<Response> {
    let mode = match q.get("mode").map(|m| m.to_ascii_lowercase()).as_deref() {
        None | Some("merge") => PartsMode::Merge,
        Some("overwrite") => PartsMode::Overwrite,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid mode parameter value: {other}. Must be one of [merge, overwrite]"
            )))
        }
    };
    // Recorded: any document that is not OpenAPI gets this one message.
    let doc = tollgate_openapi::parse(&body).map_err(|detail| {
        tracing::info!(%detail, "ImportDocumentationParts refused");
        ApiError::bad_request("Unable to build importer with provided input.")
    })?;
    let mut problems = Problems::default();
    let imported = documentation::read(&doc, &mut problems);
    fail_on_warnings(&q, "failonwarnings", &problems.warnings)?;
    let ids = ctx
        .store
        .transact(|s| {
            let a = api_mut(s, &api_id)?;
            Ok::<_, ApiError>(lay_parts(a, &imported.parts, mode))
        })
        .await?;
    let out = ImportedIds {
        ids,
        warnings: problems.warnings,
    };
    Ok(json(200, &out))
}
