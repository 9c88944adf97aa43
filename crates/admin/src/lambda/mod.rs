//! The AWS Lambda control plane (service `lambda`, restJson1, API version 2015-03-31) on the
//! same endpoint as API Gateway's: functions, code, configuration, versions, aliases,
//! resource policies, reserved concurrency, function URLs, and Invoke.

pub mod account;
pub mod configs;
pub mod functions;
pub mod invoke;
mod shared;
pub mod tags;
pub mod unsupported;
pub mod urls;
pub mod versions;

use axum::routing::{get, post, put};
use axum::Router;

use crate::core::context::Ctx;
use crate::core::registry::{ErrorShape, Recognition, ServiceSpec};

/// Largest Lambda call: a 50 MB zip, base64-encoded in JSON.
const MAX_BODY: usize = 72 * 1024 * 1024;

/// Lambda on the control-plane endpoint, recognised by its date-prefixed paths.
pub static SERVICE: ServiceSpec<Ctx> = ServiceSpec {
    signing_name: "lambda",
    recognition: Recognition::Path(is_lambda_path),
    routes,
    max_body: MAX_BODY,
    error_shape: ErrorShape::Json,
    unknown_operation: unsupported::answer,
    query: None,
    iam_action: unsupported::iam_action,
};

/// Paths served by the Lambda API (their signatures are scoped to service `lambda`): every
/// Lambda operation's path starts with an API date (`/2015-03-31/`, `/2020-06-30/`, ...), and
/// no API Gateway path does, so a date-shaped first segment names Lambda, including dates a
/// newer SDK may add.
pub fn is_lambda_path(path: &str) -> bool {
    let Some(first) = path
        .strip_prefix('/')
        .map(|p| p.split('/').next().unwrap_or(""))
    else {
        return false;
    };
    let b = first.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route(
            "/2015-03-31/functions",
            post(functions::create).get(functions::list),
        )
        .route(
            "/2015-03-31/functions/{name}",
            get(functions::get).delete(functions::delete),
        )
        .route(
            "/2015-03-31/functions/{name}/configuration",
            get(functions::get_configuration).put(functions::update_configuration),
        )
        .route(
            "/2015-03-31/functions/{name}/code",
            put(functions::update_code),
        )
        .route(
            "/2015-03-31/functions/{name}/invocations",
            post(invoke::invoke),
        )
        .route(
            "/2015-03-31/functions/{name}/versions",
            post(versions::publish).get(versions::list_versions),
        )
        .route(
            "/2015-03-31/functions/{name}/aliases",
            post(versions::create_alias).get(versions::list_aliases),
        )
        .route(
            "/2015-03-31/functions/{name}/aliases/{alias}",
            get(versions::get_alias)
                .put(versions::update_alias)
                .delete(versions::delete_alias),
        )
        .route(
            "/2015-03-31/functions/{name}/policy",
            post(versions::add_permission).get(versions::get_policy),
        )
        .route(
            "/2015-03-31/functions/{name}/policy/{sid}",
            axum::routing::delete(versions::remove_permission),
        )
        .route(
            "/2017-10-31/functions/{name}/concurrency",
            put(functions::put_concurrency).delete(functions::delete_concurrency),
        )
        .route(
            "/2019-09-30/functions/{name}/concurrency",
            get(functions::get_concurrency),
        )
        .route(
            "/2021-10-31/functions/{name}/url",
            post(urls::create)
                .get(urls::get)
                .put(urls::update)
                .delete(urls::delete),
        )
        .route("/2021-10-31/functions/{name}/urls", get(urls::list))
        .merge(configs::routes())
        .merge(account::routes())
        .route(
            "/2017-03-31/tags/{arn}",
            get(tags::list).post(tags::tag).delete(tags::untag),
        )
}
