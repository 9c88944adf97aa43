//! API Gateway v2 (HTTP and WebSocket APIs; service `apigateway`, restJson1 under `/v2/`): one module per
//! AWS resource family, one function per operation.

pub mod api_mappings;
pub mod apis;
pub mod authorizers;
pub mod deployments;
pub mod domain_names;
mod integration_input;
pub mod integrations;
pub mod models;
pub mod openapi;
pub mod responses;
pub mod routes;
mod shared;
pub mod stages;
pub mod tags;
pub mod vpc_links;

use crate::core::context::Ctx;
use crate::core::registry::{ErrorShape, Recognition, ServiceSpec};
use axum::routing::{delete, get, post};
use axum::Router;

/// Every call under `/v2/`.
pub static SERVICE: ServiceSpec<Ctx> = ServiceSpec {
    signing_name: "apigateway",
    recognition: Recognition::Path(|p| p.starts_with("/v2/")),
    routes,
    max_body: crate::core::envelope::MAX_BODY,
    error_shape: ErrorShape::Json,
    unknown_operation: crate::core::error::unknown_operation,
    query: None,
    iam_action: crate::core::apigateway_iam::apigateway_action,
};

fn routes() -> Router<Ctx> {
    Router::new()
        .route(
            "/v2/domainnames",
            post(domain_names::create).get(domain_names::list),
        )
        .route(
            "/v2/domainnames/{name}",
            get(domain_names::get)
                .patch(domain_names::update)
                .delete(domain_names::delete),
        )
        .route(
            "/v2/domainnames/{name}/apimappings",
            post(api_mappings::create).get(api_mappings::list),
        )
        .route(
            "/v2/domainnames/{name}/apimappings/{id}",
            get(api_mappings::get)
                .patch(api_mappings::update)
                .delete(api_mappings::delete),
        )
        .route(
            "/v2/apis",
            post(apis::create).get(apis::list).put(openapi::import),
        )
        .route(
            "/v2/apis/{api}",
            get(apis::get)
                .patch(apis::update)
                .delete(apis::delete)
                .put(openapi::reimport),
        )
        .route(
            "/v2/apis/{api}/exports/{specification}",
            get(openapi::export),
        )
        .route("/v2/apis/{api}/cors", delete(apis::delete_cors))
        .route(
            "/v2/apis/{api}/routes",
            post(routes::create).get(routes::list),
        )
        .route(
            "/v2/apis/{api}/routes/{id}",
            get(routes::get)
                .patch(routes::update)
                .delete(routes::delete),
        )
        .route(
            "/v2/apis/{api}/routes/{id}/requestparameters/{key}",
            delete(routes::delete_request_parameter),
        )
        .route(
            "/v2/apis/{api}/routes/{id}/routeresponses",
            post(responses::create_route_response).get(responses::list_route_responses),
        )
        .route(
            "/v2/apis/{api}/routes/{id}/routeresponses/{response}",
            get(responses::get_route_response)
                .patch(responses::update_route_response)
                .delete(responses::delete_route_response),
        )
        .route(
            "/v2/apis/{api}/integrations/{id}/integrationresponses",
            post(responses::create_integration_response).get(responses::list_integration_responses),
        )
        .route(
            "/v2/apis/{api}/integrations/{id}/integrationresponses/{response}",
            get(responses::get_integration_response)
                .patch(responses::update_integration_response)
                .delete(responses::delete_integration_response),
        )
        .route(
            "/v2/apis/{api}/integrations",
            post(integrations::create).get(integrations::list),
        )
        .route(
            "/v2/apis/{api}/integrations/{id}",
            get(integrations::get)
                .patch(integrations::update)
                .delete(integrations::delete),
        )
        .route(
            "/v2/apis/{api}/authorizers",
            post(authorizers::create).get(authorizers::list),
        )
        .route(
            "/v2/apis/{api}/authorizers/{id}",
            get(authorizers::get)
                .patch(authorizers::update)
                .delete(authorizers::delete),
        )
        .route(
            "/v2/apis/{api}/stages/{stage}/cache/authorizers",
            delete(authorizers::reset_cache),
        )
        .route(
            "/v2/apis/{api}/models",
            post(models::create).get(models::list),
        )
        .route(
            "/v2/apis/{api}/models/{id}",
            get(models::get)
                .patch(models::update)
                .delete(models::delete),
        )
        .route("/v2/apis/{api}/models/{id}/template", get(models::template))
        .route(
            "/v2/apis/{api}/stages",
            post(stages::create).get(stages::list),
        )
        .route(
            "/v2/apis/{api}/stages/{stage}",
            get(stages::get)
                .patch(stages::update)
                .delete(stages::delete),
        )
        .route(
            "/v2/apis/{api}/stages/{stage}/routesettings/{key}",
            delete(stages::delete_route_settings),
        )
        .route(
            "/v2/apis/{api}/stages/{stage}/accesslogsettings",
            delete(stages::delete_access_log_settings),
        )
        .route(
            "/v2/apis/{api}/deployments",
            post(deployments::create).get(deployments::list),
        )
        .route(
            "/v2/apis/{api}/deployments/{id}",
            get(deployments::get)
                .patch(deployments::update)
                .delete(deployments::delete),
        )
        .route("/v2/vpclinks", post(vpc_links::create).get(vpc_links::list))
        .route(
            "/v2/vpclinks/{id}",
            get(vpc_links::get)
                .patch(vpc_links::update)
                .delete(vpc_links::delete),
        )
        .route(
            "/v2/tags/{arn}",
            get(tags::get).post(tags::tag).delete(tags::untag),
        )
}
