//! Account-wide Lambda reads: GetAccountSettings, and the lists of resources Tollgate does
//! not offer (layers, event source mappings, code signing configs), which are empty, as on
//! an account that never created any.

use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::json;
use tollgate_model::lambda::{MAX_UNZIPPED_CODE, MAX_ZIPPED_CODE};

use super::shared::not_found;
use crate::core::context::Ctx;
use crate::core::error::ApiResult;
use crate::core::util::{json, Query as Q};

/// AWS's default quotas for an account.
const ACCOUNT_CONCURRENCY: u64 = 1000;
const ACCOUNT_CODE_STORAGE: u64 = 75 * 1024 * 1024 * 1024;

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/2016-08-19/account-settings", get(settings))
        .route("/2018-10-31/layers", get(layers))
        .route(
            "/2018-10-31/layers/{layer}/versions",
            get(|| async { json(200, &json!({"LayerVersions": []})) }),
        )
        .route(
            "/2018-10-31/layers/{layer}/versions/{n}",
            get(|| async { no_such_resource() }),
        )
        .route(
            "/2018-10-31/layers/{layer}/versions/{n}/policy",
            get(|| async { no_such_resource() }),
        )
        .route(
            "/2015-03-31/event-source-mappings",
            get(|| async { json(200, &json!({"EventSourceMappings": []})) }),
        )
        .route(
            "/2015-03-31/event-source-mappings/{uuid}",
            get(|| async { no_such_resource() }),
        )
        .route(
            "/2020-04-22/code-signing-configs",
            get(|| async { json(200, &json!({"CodeSigningConfigs": []})) }),
        )
        .route(
            "/2020-04-22/code-signing-configs/{arn}",
            get(|| async { no_such_resource() }),
        )
}

fn no_such_resource() -> ApiResult<Response> {
    Err(not_found("The resource you requested does not exist."))
}

/// ListLayers, or GetLayerVersionByArn (`?find=LayerVersion&Arn=...`: no layer exists).
async fn layers(Query(q): Query<Q>) -> ApiResult<Response> {
    if q.get("find").is_some_and(|v| v == "LayerVersion") {
        return no_such_resource();
    }
    Ok(json(200, &json!({"Layers": []})))
}

/// The account's quotas and what its functions use of them.
async fn settings(State(ctx): State<Ctx>) -> ApiResult<Response> {
    let state = ctx.store.state();
    let mut code_size = 0u64;
    let mut reserved = 0u64;
    for f in state.functions.values() {
        code_size += f.latest.code_size;
        code_size += f.versions.values().map(|v| v.code_size).sum::<u64>();
        reserved += u64::from(f.reserved_concurrency.unwrap_or(0));
    }
    Ok(json(
        200,
        &json!({
            "AccountLimit": {
                "TotalCodeSize": ACCOUNT_CODE_STORAGE,
                "CodeSizeUnzipped": MAX_UNZIPPED_CODE,
                "CodeSizeZipped": MAX_ZIPPED_CODE,
                "ConcurrentExecutions": ACCOUNT_CONCURRENCY,
                "UnreservedConcurrentExecutions": ACCOUNT_CONCURRENCY.saturating_sub(reserved),
            },
            "AccountUsage": {
                "TotalCodeSize": code_size,
                "FunctionCount": state.functions.len(),
            },
        }),
    ))
}
