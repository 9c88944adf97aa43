//! API Gateway v1 (service `apigateway`, restJson1): one module per AWS resource family,
//! one function per operation.

/// A patch-table rule that `replace`s an optional string member (`""` clears it).
macro_rules! replace_opt {
    ($path:literal, $field:ident) => {
        $crate::core::patch_table::PatchRule {
            ops: &["replace"],
            path: $path,
            apply: |t, c| {
                $crate::apigateway::set_opt(&mut t.$field, c.value);
                Ok(())
            },
        }
    };
}

pub mod account;
pub mod api_keys;
pub mod deployments;
pub mod gateway_responses;
mod integration_patch;
pub mod integrations;
mod method_patch;
pub mod methods;
pub mod models;
pub mod request_validators;
pub mod resources;
pub mod rest_apis;
pub mod stages;
pub mod tags;
pub mod usage_plans;

use std::sync::Arc;

use axum::extract::Path;
use axum::routing::{get, post};
use axum::Router;
use tollgate_model::{Integration, Method, Resource, RestApiDefinition};
use tollgate_store::{ApiState, State};

use crate::core::error::{ApiError, ApiResult};
use crate::core::registry::{ErrorShape, Recognition, ServiceSpec};
use crate::Ctx;

/// API Gateway: every call no other service claims.
pub static SERVICE: ServiceSpec = ServiceSpec {
    signing_name: "apigateway",
    recognition: Recognition::Default,
    routes,
    max_body: crate::core::envelope::MAX_BODY,
    error_shape: ErrorShape::Json,
    unknown_operation: crate::core::error::unknown_operation,
};

/// Every operation of the v1 model that Tollgate serves.
fn routes() -> Router<Ctx> {
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
}

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

/// Removes an API's stage (or all its stages) from every usage plan.
pub fn unlink_stage(s: &mut State, api_id: &str, stage: Option<&str>) {
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
