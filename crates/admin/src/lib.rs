//! The AWS-compatible control plane for REST APIs (API Gateway v1, restJson1 protocol).
//!
//! [`router`] builds an axum router with one handler per AWS operation. Every request first
//! passes [`auth::envelope`]: it gets a request id, its body is read, and its SigV4 signature
//! is verified before any routing or parsing (as AWS does: an unsigned request to an unknown
//! path is `MissingAuthenticationTokenException`). Handlers validate input, then change the
//! state inside one [`tollgate_store::Store::transact`] call, so a failed call changes nothing.

pub mod auth;
mod budget;
pub mod error;
pub mod lambda;
mod ops;
pub mod patch;
pub mod service;
pub mod sts;
pub mod util;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use tollgate_model::test_invoke::{TestInvokeRequest, TestInvokeResponse};
use tollgate_store::Store;

pub use auth::StaticCredentials;

/// Runs a method through the data plane for TestInvokeMethod (implemented by the gateway,
/// wired in by the binary, so the control plane does not depend on the data plane).
pub trait TestInvoker: Send + Sync {
    fn test_invoke(
        &self,
        req: TestInvokeRequest,
    ) -> Pin<Box<dyn Future<Output = TestInvokeResponse> + Send + 'static>>;
}

pub struct AdminConfig {
    pub region: String,
    pub credentials: StaticCredentials,
    /// A request body that stops arriving for this long is abandoned.
    pub body_stall: std::time::Duration,
}

pub struct AdminContext {
    pub store: Arc<Store>,
    pub region: String,
    pub verifier: tollgate_sigv4::Verifier<StaticCredentials>,
    pub test_invoker: Option<Arc<dyn TestInvoker>>,
    /// The store version the data plane serves; writes wait for it (read-your-writes).
    pub data_plane_version: Option<tokio::sync::watch::Receiver<u64>>,
    /// Usage-plan counters (GetUsage, UpdateUsage).
    pub usage: Option<Arc<dyn tollgate_store::usage::UsageCounters>>,
    /// The Lambda engine (the `lambda` service's operations).
    pub functions: Option<Arc<tollgate_functions::Functions>>,
    /// Memory all request bodies in flight may hold together.
    body_budget: budget::BodyBudget,
    body_stall: std::time::Duration,
}

pub type Ctx = Arc<AdminContext>;

pub fn context(
    store: Arc<Store>,
    config: AdminConfig,
    test_invoker: Option<Arc<dyn TestInvoker>>,
    data_plane_version: Option<tokio::sync::watch::Receiver<u64>>,
    usage: Option<Arc<dyn tollgate_store::usage::UsageCounters>>,
    functions: Option<Arc<tollgate_functions::Functions>>,
) -> Ctx {
    Arc::new(AdminContext {
        store,
        region: config.region,
        verifier: tollgate_sigv4::Verifier::new(config.credentials, "apigateway"),
        test_invoker,
        data_plane_version,
        usage,
        functions,
        body_budget: budget::BodyBudget::new(budget::TOTAL),
        body_stall: config.body_stall,
    })
}

/// The control-plane router. Every operation of the v1 model that Tollgate serves has a route;
/// anything else gets an AWS-shaped error, never an HTML page.
pub fn router(ctx: Ctx) -> Router {
    use ops::*;
    Router::new()
        .route("/restapis", post(rest_apis::create).get(rest_apis::list))
        .route(
            "/restapis/{api}",
            get(rest_apis::get)
                .patch(rest_apis::update)
                .delete(rest_apis::delete)
                .put(rest_apis::put_not_supported),
        )
        .route("/restapis/{api}/resources", get(resources::list))
        .route(
            "/restapis/{api}/resources/{res}",
            get(resources::get)
                .post(resources::create)
                .patch(resources::update)
                .delete(resources::delete),
        )
        .route(
            "/restapis/{api}/resources/{res}/methods/{method}",
            get(methods::get)
                .put(methods::put)
                .patch(methods::update)
                .delete(methods::delete)
                .post(methods::test_invoke),
        )
        .route(
            "/restapis/{api}/resources/{res}/methods/{method}/responses/{status}",
            get(methods::get_response)
                .put(methods::put_response)
                .patch(methods::update_response)
                .delete(methods::delete_response),
        )
        .route(
            "/restapis/{api}/resources/{res}/methods/{method}/integration",
            get(integrations::get)
                .put(integrations::put)
                .patch(integrations::update)
                .delete(integrations::delete),
        )
        .route(
            "/restapis/{api}/resources/{res}/methods/{method}/integration/responses/{status}",
            get(integrations::get_response)
                .put(integrations::put_response)
                .patch(integrations::update_response)
                .delete(integrations::delete_response),
        )
        .route(
            "/restapis/{api}/deployments",
            post(deployments::create).get(deployments::list),
        )
        .route(
            "/restapis/{api}/deployments/{dep}",
            get(deployments::get)
                .patch(deployments::update)
                .delete(deployments::delete),
        )
        .route(
            "/restapis/{api}/stages",
            post(stages::create).get(stages::list),
        )
        .route(
            "/restapis/{api}/stages/{stage}",
            get(stages::get)
                .patch(stages::update)
                .delete(stages::delete),
        )
        .route(
            "/restapis/{api}/stages/{stage}/cache/data",
            axum::routing::delete(stages::flush_cache),
        )
        .route(
            "/restapis/{api}/stages/{stage}/cache/authorizers",
            axum::routing::delete(stages::flush_cache),
        )
        .route(
            "/restapis/{api}/gatewayresponses",
            get(gateway_responses::list),
        )
        .route(
            "/restapis/{api}/gatewayresponses/{rtype}",
            get(gateway_responses::get)
                .put(gateway_responses::put)
                .patch(gateway_responses::update)
                .delete(gateway_responses::delete),
        )
        .route(
            "/restapis/{api}/models",
            get(models::list).post(models::create),
        )
        .route(
            "/restapis/{api}/models/{name}",
            get(models::get)
                .patch(models::update)
                .delete(models::delete),
        )
        .route(
            "/restapis/{api}/models/{name}/default_template",
            get(models::template),
        )
        .route(
            "/restapis/{api}/requestvalidators",
            get(request_validators::list).post(request_validators::create),
        )
        .route(
            "/restapis/{api}/requestvalidators/{id}",
            get(request_validators::get)
                .patch(request_validators::update)
                .delete(request_validators::delete),
        )
        .route(
            "/tags/{arn}",
            get(tags::get).put(tags::tag).delete(tags::untag),
        )
        .route("/account", get(account::get).patch(account::update))
        .route("/apikeys", post(api_keys::create).get(api_keys::list))
        .route(
            "/apikeys/{id}",
            get(api_keys::get)
                .patch(api_keys::update)
                .delete(api_keys::delete),
        )
        .route(
            "/usageplans",
            post(usage_plans::create).get(usage_plans::list),
        )
        .route(
            "/usageplans/{id}",
            get(usage_plans::get)
                .patch(usage_plans::update)
                .delete(usage_plans::delete),
        )
        .route(
            "/usageplans/{id}/keys",
            post(usage_plans::create_key).get(usage_plans::list_keys),
        )
        .route(
            "/usageplans/{id}/keys/{key}",
            get(usage_plans::get_key).delete(usage_plans::delete_key),
        )
        .route(
            "/usageplans/{id}/keys/{key}/usage",
            axum::routing::patch(usage_plans::update_usage),
        )
        .route("/usageplans/{id}/usage", get(usage_plans::get_usage))
        .merge(lambda::routes())
        .route("/", post(sts::handle).get(sts::handle))
        .fallback(unknown_operation)
        .method_not_allowed_fallback(unknown_operation)
        .layer(axum::middleware::from_fn_with_state(
            ctx.clone(),
            auth::envelope,
        ))
        // The envelope already read the body within its own limits.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(ctx)
}

async fn unknown_operation(req: http::Request<axum::body::Body>) -> error::ApiError {
    unknown_operation_of(req.method().as_str(), req.uri().path())
}

/// What a path no handler serves answers: Lambda's error on Lambda paths, else API Gateway's.
fn unknown_operation_of(method: &str, path: &str) -> error::ApiError {
    if lambda::is_lambda_path(path) {
        return lambda::unsupported::answer(method, path);
    }
    error::ApiError::not_found(format!("Unknown or unsupported operation: {method} {path}"))
}
