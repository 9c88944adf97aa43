//! UpdateMethod's patch paths.

use tollgate_model::{AuthorizationType, Method, MethodResponse};

use crate::core::error::{ApiError, ApiResult, Violation};
use crate::core::patch::patch_bool;
use crate::core::patch_table::{Change, NoMatch, PatchRule, PatchTable};

/// `authorizationType`, read without regard to case as AWS does (`none` and `None` are
/// NONE, stored and answered in AWS's upper case), with AWS's message for an unknown value.
pub fn authorization_type(v: &str) -> ApiResult<AuthorizationType> {
    v.to_ascii_uppercase().parse().map_err(|_| {
        Violation::enum_value(
            v,
            "authorizationType",
            "NONE, AWS_IAM, CUSTOM, COGNITO_USER_POOLS, JWT",
        )
        .into()
    })
}

pub static METHOD_PATCH: PatchTable<Method, ()> = PatchTable {
    rules: &[
        PatchRule {
            ops: &["replace"],
            path: "/authorizationType",
            apply: |m, c| {
                m.authorization_type = authorization_type(c.value.unwrap_or_default())?;
                Ok(())
            },
        },
        replace_opt!("/authorizerId", authorizer_id),
        PatchRule {
            ops: &["replace"],
            path: "/apiKeyRequired",
            apply: |m, c| {
                m.api_key_required = patch_bool(c.value);
                Ok(())
            },
        },
        replace_opt!("/operationName", operation_name),
        replace_opt!("/requestValidatorId", request_validator_id),
        PatchRule {
            ops: &["add", "replace"],
            path: "/requestParameters/*",
            apply: put_parameter,
        },
        PatchRule {
            ops: &["remove"],
            path: "/requestParameters/*",
            apply: |m, c| c.remove_from(&mut m.request_parameters, no_parameter),
        },
        PatchRule {
            ops: &["add", "replace"],
            path: "/requestModels/*",
            apply: |m, c| c.put_in(&mut m.request_models),
        },
        PatchRule {
            ops: &["remove"],
            path: "/requestModels/*",
            apply: |m, c| c.remove_from(&mut m.request_models, no_content_type),
        },
        PatchRule {
            ops: &["add", "remove"],
            path: "/authorizationScopes",
            apply: patch_scopes,
        },
    ],
    replace_only: &[
        "authorizationType",
        "authorizerId",
        "apiKeyRequired",
        "operationName",
        "requestValidatorId",
    ],
    no_match: NoMatch::InvalidPath,
};

pub static METHOD_RESPONSE_PATCH: PatchTable<MethodResponse, ()> = PatchTable {
    rules: &[
        PatchRule {
            ops: &["add", "replace"],
            path: "/responseParameters/*",
            apply: |mr, c| {
                let params = mr.response_parameters.get_or_insert_with(Default::default);
                // Unlike UpdateMethod, the name is checked before the value.
                if c.op == "replace" && !params.contains_key(c.param(0)) {
                    return Err(no_parameter());
                }
                params.insert(c.param(0).to_string(), patch_bool(c.value));
                Ok(())
            },
        },
        PatchRule {
            ops: &["remove"],
            path: "/responseParameters/*",
            apply: |mr, c| c.remove_from_opt(&mut mr.response_parameters, no_parameter),
        },
        PatchRule {
            ops: &["add", "replace"],
            path: "/responseModels/*",
            apply: |mr, c| c.put_in(mr.response_models.get_or_insert_with(Default::default)),
        },
        PatchRule {
            ops: &["remove"],
            path: "/responseModels/*",
            apply: |mr, c| c.remove_from_opt(&mut mr.response_models, no_content_type),
        },
    ],
    replace_only: &[],
    no_match: NoMatch::InvalidPath,
};

fn no_content_type() -> ApiError {
    ApiError::not_found("Content-Type specified was not found")
}

fn no_parameter() -> ApiError {
    ApiError::not_found("Invalid parameter name specified")
}

/// `add` declares a request parameter (required if the value is true); `replace` only
/// changes a declared one.
fn put_parameter(m: &mut Method, c: &Change<'_, ()>) -> ApiResult<()> {
    let required = patch_bool(c.value);
    let key = c.param(0);
    if c.op == "replace" && !m.request_parameters.contains_key(key) {
        return Err(no_parameter());
    }
    m.request_parameters.insert(key.to_string(), required);
    Ok(())
}

/// `add`/`remove` one OAuth scope; no scopes left is no list.
fn patch_scopes(m: &mut Method, c: &Change<'_, ()>) -> ApiResult<()> {
    let scope = c.value.unwrap_or_default().to_string();
    let scopes = m.authorization_scopes.get_or_insert_with(Vec::new);
    if c.op == "add" {
        scopes.push(scope);
    } else {
        scopes.retain(|s| *s != scope);
    }
    if scopes.is_empty() {
        m.authorization_scopes = None;
    }
    Ok(())
}
