//! What API Gateway's operations share: lookups into the state with AWS's not-found errors,
//! and small setters.

use std::sync::Arc;

use axum::extract::Path;
use tollgate_model::{Integration, Method, Resource, RestApiDefinition};
use tollgate_store::{ApiState, State};

use crate::core::error::{ApiError, ApiResult};

/// `/restapis/{api}/resources/{res}/methods/{method}`
pub type MethodPath = Path<(String, String, String)>;
/// `.../methods/{method}/responses/{status}` and `.../integration/responses/{status}`
pub type ResponsePath = Path<(String, String, String, String)>;

pub fn api<'a>(s: &'a State, id: &str) -> ApiResult<&'a ApiState> {
    s.apis
        .get(id)
        .map(|a| a.as_ref())
        .ok_or_else(|| ApiError::no_api(id))
}

pub fn api_mut<'a>(s: &'a mut State, id: &str) -> ApiResult<&'a mut ApiState> {
    s.apis
        .get_mut(id)
        .map(Arc::make_mut)
        .ok_or_else(|| ApiError::no_api(id))
}

/// The API's definition, copied on first write.
pub fn def_mut(api: &mut ApiState) -> &mut RestApiDefinition {
    Arc::make_mut(&mut api.definition)
}

/// Resource lookups report a missing API as a missing resource, as AWS does.
pub fn resource<'a>(s: &'a State, api_id: &str, res: &str) -> ApiResult<&'a Resource> {
    s.apis
        .get(api_id)
        .and_then(|a| a.definition.resources.get(res))
        .ok_or_else(ApiError::no_resource)
}

pub fn resource_mut<'a>(s: &'a mut State, api_id: &str, res: &str) -> ApiResult<&'a mut Resource> {
    let api = s.apis.get_mut(api_id).ok_or_else(ApiError::no_resource)?;
    if !api.definition.resources.contains_key(res) {
        return Err(ApiError::no_resource());
    }
    let def = def_mut(Arc::make_mut(api));
    def.resources.get_mut(res).ok_or_else(ApiError::no_resource)
}

pub fn method<'a>(s: &'a State, api_id: &str, res: &str, m: &str) -> ApiResult<&'a Method> {
    resource(s, api_id, res)?
        .resource_methods
        .get(m)
        .ok_or_else(ApiError::no_method)
}

pub fn method_mut<'a>(
    s: &'a mut State,
    api_id: &str,
    res: &str,
    m: &str,
) -> ApiResult<&'a mut Method> {
    method(s, api_id, res, m)?;
    resource_mut(s, api_id, res)?
        .resource_methods
        .get_mut(m)
        .ok_or_else(ApiError::no_method)
}

pub fn integration<'a>(
    s: &'a State,
    api_id: &str,
    res: &str,
    m: &str,
) -> ApiResult<&'a Integration> {
    method(s, api_id, res, m)?
        .method_integration
        .as_ref()
        .ok_or_else(ApiError::no_integration)
}

pub fn integration_mut<'a>(
    s: &'a mut State,
    api_id: &str,
    res: &str,
    m: &str,
) -> ApiResult<&'a mut Integration> {
    method_mut(s, api_id, res, m)?
        .method_integration
        .as_mut()
        .ok_or_else(ApiError::no_integration)
}

/// Removes an API's stage (or all its stages) from every usage plan and domain mapping.
pub fn unlink_stage(s: &mut State, api_id: &str, stage: Option<&str>) {
    crate::core::domains::unlink(s, api_id, stage);
    let plans = Arc::make_mut(&mut s.usage_plans);
    for p in plans.values_mut() {
        if p.api_stages
            .iter()
            .any(|x| x.api_id == api_id && stage.is_none_or(|st| x.stage == st))
        {
            Arc::make_mut(p)
                .api_stages
                .retain(|x| !(x.api_id == api_id && stage.is_none_or(|st| x.stage == st)));
        }
    }
}

/// The first method matching `uses`, as AWS names it in "is referenced in method request"
/// errors: resource path plus verb, the root resource giving `//VERB`.
pub fn method_request_using(
    def: &RestApiDefinition,
    uses: impl Fn(&Method) -> bool,
) -> Option<String> {
    def.resources.values().find_map(|r| {
        r.resource_methods
            .iter()
            .find(|(_, m)| uses(m))
            .map(|(verb, _)| format!("{}/{verb}", r.path))
    })
}

/// A name member's new value: AWS refuses an empty one.
pub fn required_name(v: Option<&str>) -> ApiResult<String> {
    v.filter(|n| !n.is_empty())
        .map(str::to_string)
        .ok_or_else(|| ApiError::bad_request("Name cannot be empty"))
}

/// Sets or clears an optional string member from a patch `replace`.
pub fn set_opt(field: &mut Option<String>, v: Option<&str>) {
    *field = v.filter(|s| !s.is_empty()).map(str::to_string);
}
