//! The AWS Lambda control plane (service `lambda`, restJson1, API version 2015-03-31) on the
//! same endpoint as API Gateway's: functions, code, configuration, versions, aliases,
//! resource policies, reserved concurrency, and Invoke.

pub mod account;
pub mod configs;
pub mod functions;
pub mod invoke;
pub mod tags;
pub mod unsupported;
pub mod versions;

use std::sync::Arc;

use axum::routing::{get, post, put};
use axum::Router;
use tollgate_functions::Functions;
use tollgate_model::lambda::{parse_function_ref, Function, FunctionRef};
use tollgate_store::State;

use crate::core::error::{ApiError, ApiResult, Violation};
use crate::core::registry::{ErrorShape, Recognition, ServiceSpec};
use crate::Ctx;

/// Largest Lambda call: a 50 MB zip, base64-encoded in JSON.
const MAX_BODY: usize = 72 * 1024 * 1024;

/// Lambda on the control-plane endpoint, recognised by its date-prefixed paths.
pub static SERVICE: ServiceSpec = ServiceSpec {
    signing_name: "lambda",
    recognition: Recognition::Path(is_lambda_path),
    routes,
    max_body: MAX_BODY,
    error_shape: ErrorShape::Json,
    unknown_operation: unsupported::answer,
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
        .merge(configs::routes())
        .merge(account::routes())
        .route(
            "/2017-03-31/tags/{arn}",
            get(tags::list).post(tags::tag).delete(tags::untag),
        )
}

pub fn invalid_parameter(m: impl Into<String>) -> ApiError {
    ApiError::new(400, "InvalidParameterValueException", m)
}

pub fn not_found(m: impl Into<String>) -> ApiError {
    ApiError::new(404, "ResourceNotFoundException", m)
}

pub fn conflict(m: impl Into<String>) -> ApiError {
    ApiError::new(409, "ResourceConflictException", m)
}

/// AWS's wording for a member that breaks its model constraint.
pub fn constraint(value: impl std::fmt::Display, member: &str, rule: &str) -> ApiError {
    Violation::new(value, member, rule).into()
}

pub fn engine(ctx: &Ctx) -> ApiResult<&Arc<Functions>> {
    ctx.functions
        .as_ref()
        .ok_or_else(|| ApiError::new(500, "ServiceException", "The Lambda engine is not running"))
}

/// Parses the `{FunctionName}` path value (name, partial or full ARN).
pub fn function_ref(raw: &str) -> ApiResult<FunctionRef> {
    parse_function_ref(raw).ok_or_else(|| {
        constraint(
            raw,
            "functionName",
            "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
        )
    })
}

/// The function `r` names, or Lambda's not-found error.
pub fn function<'a>(s: &'a State, region: &str, r: &FunctionRef) -> ApiResult<&'a Arc<Function>> {
    s.functions
        .get(&r.name)
        .ok_or_else(|| not_found(format!("Function not found: {}", arn_of(region, r))))
}

pub fn function_mut<'a>(
    s: &'a mut State,
    region: &str,
    r: &FunctionRef,
) -> ApiResult<&'a mut Function> {
    let map = Arc::make_mut(&mut s.functions);
    match map.get_mut(&r.name) {
        Some(f) => Ok(Arc::make_mut(f)),
        None => Err(not_found(format!(
            "Function not found: {}",
            arn_of(region, r)
        ))),
    }
}

/// The ARN Lambda names in errors about `r`.
pub fn arn_of(region: &str, r: &FunctionRef) -> String {
    let mut arn = tollgate_model::lambda::function_arn(region, &r.name);
    if let Some(q) = &r.qualifier {
        arn.push(':');
        arn.push_str(q);
    }
    arn
}

/// The qualifier from the path's ARN or the `Qualifier` query parameter (they must agree).
pub fn qualifier(r: &FunctionRef, q: &crate::core::util::Query) -> ApiResult<Option<String>> {
    match (
        r.qualifier.as_deref(),
        q.get("Qualifier").map(String::as_str),
    ) {
        (Some(a), Some(b)) if a != b => Err(invalid_parameter(
            "The derived qualifier from the function name does not match the specified qualifier.",
        )),
        (a, b) => Ok(a.or(b).map(str::to_string)),
    }
}

/// A `RevisionId` that is not the current one.
pub fn precondition_failed() -> ApiError {
    ApiError::new(
        412,
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
    )
}

pub fn revision_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
