//! ImportDocumentationParts (`PUT /restapis/{id}/documentation/parts`): the parts of a
//! document's `x-amazon-apigateway-documentation`, merged into the API's parts or
//! replacing them (`lay_parts`, which ImportRestApi and PutRestApi use too).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Serialize;
use tollgate_openapi::documentation;
use tollgate_openapi::problems::Problems;

use super::documentation_parts::{lay_parts, PartsMode};
use super::openapi_import::fail_on_warnings;
use super::shared::api_mut;
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::util::{json, Query as Q};
use crate::core::wire::Wire;

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
