//! API Gateway v1 (service `apigateway`, restJson1): one module per AWS resource family,
//! one function per operation.

/// A patch-table rule that `replace`s an optional string member (`""` clears it).
macro_rules! replace_opt {
    ($path:literal, $field:ident) => {
        $crate::core::patch_table::PatchRule {
            ops: &["replace"],
            path: $path,
            apply: |t, c| {
                $crate::apigateway::shared::set_opt(&mut t.$field, c.value);
                Ok(())
            },
        }
    };
}

pub mod account;
pub mod api_keys;
pub mod authorizers;
pub mod base_path_mappings;
pub mod client_certificates;
pub mod deployments;
pub mod documentation_import;
pub mod documentation_parts;
pub mod documentation_versions;
pub mod domain_names;
pub mod gateway_responses;
mod integration_patch;
pub mod integrations;
mod method_patch;
pub mod methods;
pub mod models;
pub mod openapi_export;
pub mod openapi_import;
pub mod request_validators;
pub mod resources;
pub mod rest_apis;
mod shared;
mod stage_patch;
pub mod stages;
pub mod tags;
pub mod usage_plans;
pub mod vpc_links;

use crate::core::context::Ctx;
use crate::core::registry::{ErrorShape, Recognition, ServiceSpec};
use axum::routing::{get, post};
use axum::Router;

/// API Gateway: every call no other service claims.
pub static SERVICE: ServiceSpec<Ctx> = ServiceSpec {
    signing_name: "apigateway",
    recognition: Recognition::Default,
    routes,
    max_body: crate::core::envelope::MAX_BODY,
    error_shape: ErrorShape::Json,
    unknown_operation: crate::core::error::unknown_operation,
    query: None,
    iam_action: crate::core::apigateway_iam::apigateway_action,
};

/// Every operation of the v1 model that Tollgate serves.
fn routes() -> Router<Ctx> {
    Router::new()
        .route(
            "/restapis",
            post(openapi_import::create_or_import).get(rest_apis::list),
        )
        .route(
            "/restapis/{api}",
            get(rest_apis::get)
                .patch(rest_apis::update)
                .delete(rest_apis::delete)
                .put(openapi_import::put),
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
            "/restapis/{api}/stages/{stage}/exports/{export_type}",
            get(openapi_export::get),
        )
        .route(
            "/restapis/{api}/stages/{stage}/cache/data",
            axum::routing::delete(stages::flush_cache),
        )
        .route(
            "/restapis/{api}/stages/{stage}/cache/authorizers",
            axum::routing::delete(stages::flush_authorizers_cache),
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
            "/restapis/{api}/documentation/parts",
            get(documentation_parts::list)
                .post(documentation_parts::create)
                .put(documentation_import::import),
        )
        .route(
            "/restapis/{api}/documentation/parts/{id}",
            get(documentation_parts::get)
                .patch(documentation_parts::update)
                .delete(documentation_parts::delete),
        )
        .route(
            "/restapis/{api}/documentation/versions",
            get(documentation_versions::list).post(documentation_versions::create),
        )
        .route(
            "/restapis/{api}/documentation/versions/{version}",
            get(documentation_versions::get)
                .patch(documentation_versions::update)
                .delete(documentation_versions::delete),
        )
        .route(
            "/restapis/{api}/authorizers",
            get(authorizers::list).post(authorizers::create),
        )
        .route(
            "/restapis/{api}/authorizers/{id}",
            get(authorizers::get)
                .patch(authorizers::update)
                .delete(authorizers::delete)
                .post(authorizers::test_invoke),
        )
        .route(
            "/tags/{arn}",
            get(tags::get).put(tags::tag).delete(tags::untag),
        )
        .route("/account", get(account::get).patch(account::update))
        .route(
            "/domainnames",
            post(domain_names::create).get(domain_names::list),
        )
        .route(
            "/domainnames/{name}",
            get(domain_names::get)
                .patch(domain_names::update)
                .delete(domain_names::delete),
        )
        .route(
            "/domainnames/{name}/basepathmappings",
            post(base_path_mappings::create).get(base_path_mappings::list),
        )
        .route(
            "/domainnames/{name}/basepathmappings/{base_path}",
            get(base_path_mappings::get)
                .patch(base_path_mappings::update)
                .delete(base_path_mappings::delete),
        )
        .route("/vpclinks", post(vpc_links::create).get(vpc_links::list))
        .route(
            "/vpclinks/{id}",
            get(vpc_links::get)
                .patch(vpc_links::update)
                .delete(vpc_links::delete),
        )
        .route(
            "/clientcertificates",
            post(client_certificates::create).get(client_certificates::list),
        )
        .route(
            "/clientcertificates/{id}",
            get(client_certificates::get)
                .patch(client_certificates::update)
                .delete(client_certificates::delete),
        )
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
