//! Per-function settings Tollgate does not offer (code signing, provisioned
//! concurrency, asynchronous-invocation configs, runtime management, recursion control),
//! read back in AWS's "not configured" shape. Infrastructure-as-code tools read all of them
//! after creating a function, so an error here breaks the most common Lambda resource.
//! Their writes are answered by [`super::unsupported`].

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::json;
use tollgate_model::lambda::{function_arn, FunctionRef};

use super::shared::{function, function_ref, not_found, qualifier};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::util::{json, Query as Q};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route(
            "/2020-06-30/functions/{name}/code-signing-config",
            get(code_signing),
        )
        .route(
            "/2019-09-30/functions/{name}/provisioned-concurrency",
            get(provisioned_concurrency),
        )
        .route(
            "/2019-09-25/functions/{name}/event-invoke-config",
            get(event_invoke_config),
        )
        .route(
            "/2019-09-25/functions/{name}/event-invoke-config/list",
            get(event_invoke_configs),
        )
        .route(
            "/2021-07-20/functions/{name}/runtime-management-config",
            get(runtime_management),
        )
        .route(
            "/2024-08-31/functions/{name}/recursion-config",
            get(recursion),
        )
}

/// The function the path names (and the qualifier of the call, which must name a version
/// or alias of it), or Lambda's `Function not found` error.
struct Target {
    name: String,
    qualifier: Option<String>,
}

fn target(ctx: &Ctx, raw: &str, q: &Q) -> ApiResult<Target> {
    let r = function_ref(raw)?;
    let qual = qualifier(&r, q)?;
    let named = FunctionRef {
        qualifier: qual.clone(),
        ..r
    };
    let state = ctx.store.state();
    let f = function(&state, &ctx.region, &named)?;
    if f.resolve(qual.as_deref()).is_none() {
        return Err(not_found(format!(
            "Function not found: {}",
            super::shared::arn_of(&ctx.region, &named)
        )));
    }
    Ok(Target {
        name: f.latest.function_name.clone(),
        qualifier: qual,
    })
}

impl Target {
    fn arn(&self, region: &str) -> String {
        function_arn(region, &self.name)
    }

    /// The ARN with its qualifier, `$LATEST` when none was given.
    fn qualified_arn(&self, region: &str) -> String {
        format!(
            "{}:{}",
            self.arn(region),
            self.qualifier.as_deref().unwrap_or("$LATEST")
        )
    }
}

async fn code_signing(
    State(ctx): State<Ctx>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    let t = target(&ctx, &raw, &q)?;
    Ok(json(
        200,
        &json!({"CodeSigningConfigArn": "", "FunctionName": t.name}),
    ))
}

/// GetProvisionedConcurrencyConfig, or ListProvisionedConcurrencyConfigs with `List=ALL`.
async fn provisioned_concurrency(
    State(ctx): State<Ctx>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    if q.get("List").is_some_and(|v| v == "ALL") {
        let r = function_ref(&raw)?;
        function(&ctx.store.state(), &ctx.region, &r)?;
        return Ok(json(200, &json!({"ProvisionedConcurrencyConfigs": []})));
    }
    if !q.contains_key("Qualifier") && function_ref(&raw)?.qualifier.is_none() {
        return Err(super::shared::constraint(
            "null",
            "qualifier",
            "Member must not be null",
        ));
    }
    target(&ctx, &raw, &q)?;
    Err(ApiError::new(
        404,
        "ProvisionedConcurrencyConfigNotFoundException",
        "No Provisioned Concurrency Config found for this function",
    ))
}

async fn event_invoke_config(
    State(ctx): State<Ctx>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    let t = target(&ctx, &raw, &q)?;
    Err(not_found(format!(
        "The function {} doesn't have an EventInvokeConfig",
        t.qualified_arn(&ctx.region)
    )))
}

async fn event_invoke_configs(
    State(ctx): State<Ctx>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    target(&ctx, &raw, &q)?;
    Ok(json(200, &json!({"FunctionEventInvokeConfigs": []})))
}

/// Tollgate runs whatever interpreter matches the runtime: AWS's `Auto` mode.
async fn runtime_management(
    State(ctx): State<Ctx>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    let t = target(&ctx, &raw, &q)?;
    let arn = match &t.qualifier {
        Some(_) => t.qualified_arn(&ctx.region),
        None => t.arn(&ctx.region),
    };
    Ok(json(
        200,
        &json!({"UpdateRuntimeOn": "Auto", "FunctionArn": arn}),
    ))
}

/// AWS's default: recursive loops are detected and stopped.
async fn recursion(
    State(ctx): State<Ctx>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    target(&ctx, &raw, &q)?;
    Ok(json(200, &json!({"RecursiveLoop": "Terminate"})))
}
