//! The AWS-compatible control plane: API Gateway v1 and v2 and Lambda (restJson1), IAM and
//! STS (query protocol) on one endpoint.
//!
//! [`core`] is what every service shares; each service is one module ([`apigateway`],
//! [`lambda`], [`iam`], [`sts`]) that declares itself in [`SERVICES`]. [`router`] merges the
//! services' routes. Every request first passes [`core::envelope::envelope`]: it gets a
//! request id, the registry names the service it is addressed to, its body is read, and its
//! SigV4 signature (scoped to that service) is verified before any routing or parsing (as
//! AWS does: an unsigned request to an unknown path is `MissingAuthenticationTokenException`).
//! Handlers validate input, then change the state inside one
//! [`tollgate_store::Store::transact`] call, so a failed call changes nothing (the closure
//! may run again if another writer committed first, so it moves only copies). Engines that
//! follow the state (the gateway, the function engine) learn of a write from the store's
//! change feed, never from a handler.

pub mod acm;
pub mod apigateway;
pub mod apigatewayv2;
pub mod core;
pub mod iam;
pub mod lambda;
pub mod sts;

use std::sync::Arc;

use axum::extract::State;
use axum::Router;
use tollgate_store::Store;

pub use core::context::{AdminConfig, AdminContext, Ctx, MetricsText, TestInvoker};
pub use core::credentials::StaticCredentials;

/// The context every handler gets, serving [`SERVICES`].
pub fn context(
    store: Arc<Store>,
    config: AdminConfig,
    test_invoker: Option<Arc<dyn TestInvoker>>,
    data_plane_version: Option<tokio::sync::watch::Receiver<u64>>,
    usage: Option<Arc<dyn tollgate_store::usage::UsageCounters>>,
    functions: Option<Arc<tollgate_functions::Functions>>,
) -> Ctx {
    let api_endpoint = config.api_endpoint.unwrap_or_else(|| {
        format!(
            "https://{{apiId}}.execute-api.{}.amazonaws.com",
            config.region
        )
    });
    let function_url_endpoint = config
        .function_url_endpoint
        .unwrap_or_else(|| format!("https://{{urlId}}.lambda-url.{}.on.aws/", config.region));
    let keys = core::credentials::ControlPlaneKeys {
        root: config.credentials,
        store: store.clone(),
    };
    Arc::new(AdminContext {
        store,
        metrics: config.metrics,
        region: config.region,
        verifier: tollgate_sigv4::Verifier::new(keys.clone(), "apigateway"),
        keys,
        test_invoker,
        data_plane_version,
        usage,
        functions,
        services: SERVICES,
        body_budget: core::budget::BodyBudget::new(core::budget::TOTAL),
        body_stall: config.body_stall,
        api_endpoint,
        function_url_endpoint,
        front_door: config.front_door,
    })
}

/// The services on the control-plane endpoint, in the order a call is matched against them
/// (see [`core::registry`]).
pub static SERVICES: core::registry::Registry<Ctx> = &[
    &lambda::SERVICE,
    &sts::SERVICE,
    &iam::SERVICE,
    &acm::SERVICE,
    &apigatewayv2::SERVICE,
    &apigateway::SERVICE,
];

/// The control-plane router: every registered service's operations; anything else gets an
/// AWS-shaped error from the service the call is addressed to, never an HTML page.
pub fn router(ctx: Ctx) -> Router {
    let routes = ctx
        .services
        .iter()
        .fold(core::query::routes(), |r, s| r.merge((s.routes)()));
    routes
        .route("/metrics", axum::routing::get(metrics))
        .fallback(unknown_operation)
        .method_not_allowed_fallback(unknown_operation)
        .layer(axum::middleware::from_fn_with_state(
            ctx.clone(),
            core::envelope::envelope,
        ))
        // The envelope already read the body within its own limits.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(ctx)
}

/// `GET /metrics` signed with the control plane's keys (loopback and `--metrics-token`
/// callers are answered before the control plane). Not on `{id}.execute-api.*` hosts,
/// which name an API.
async fn metrics(
    State(ctx): State<Ctx>,
    req: http::Request<axum::body::Body>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let execute_api = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(names_an_api);
    let format = tollgate_metrics::Format::from_accept(
        req.headers()
            .get(http::header::ACCEPT)
            .and_then(|h| h.to_str().ok()),
    );
    match &ctx.metrics {
        Some(render) if !execute_api => (
            [(http::header::CONTENT_TYPE, format.content_type())],
            render(format),
        )
            .into_response(),
        _ => unknown_operation(State(ctx), req).await.into_response(),
    }
}

/// Whether `host` is an `{id}.execute-api.*` name: such a host addresses a deployed API,
/// never the gateway's own pages (`/metrics`).
pub fn names_an_api(host: &str) -> bool {
    host.split_once('.').is_some_and(|(id, rest)| {
        !id.is_empty()
            && rest
                .get(..12)
                .is_some_and(|p| p.eq_ignore_ascii_case("execute-api."))
    })
}

async fn unknown_operation(
    State(ctx): State<Ctx>,
    req: http::Request<axum::body::Body>,
) -> core::error::ApiError {
    let service = core::registry::service_of(ctx.services, req.uri(), req.headers());
    (service.unknown_operation)(req.method().as_str(), req.uri().path())
}
