//! What Lambda's operations share: Lambda's errors, function lookups, qualifiers.

use std::sync::Arc;

use tollgate_functions::Functions;
use tollgate_model::lambda::{parse_function_ref, Function, FunctionRef};
use tollgate_store::State;

use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult, Violation};

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
