//! RouteResponse and IntegrationResponse operations (CreateRouteResponse, GetRouteResponses,
//! GetRouteResponse, UpdateRouteResponse, DeleteRouteResponse and the IntegrationResponse
//! five). Both exist only for WebSocket APIs (control-plane-v2.md §3.2, §3.3): on an HTTP
//! API, creating one is AWS's BadRequestException, a list is empty and any one id is
//! unknown, after the API and its route or integration are found.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use tollgate_model::v2::Route;

use super::shared::{api, find, not_found};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::pagination::page_map_v2;
use crate::core::util::Query as Q;

/// Which parent a response belongs to.
#[derive(Clone, Copy)]
enum Parent {
    Route,
    Integration,
}

impl Parent {
    fn response(self) -> &'static str {
        match self {
            Parent::Route => "RouteResponse",
            Parent::Integration => "IntegrationResponse",
        }
    }

    /// The API and the parent exist (else their not-found errors).
    fn check(self, ctx: &Ctx, api_id: &str, id: &str) -> ApiResult<()> {
        let st = ctx.store.state();
        let def = &api(&st, api_id)?.definition;
        match self {
            Parent::Route => find(&def.routes, "Route", id).map(|_| ()),
            Parent::Integration => find(&def.integrations, "Integration", id).map(|_| ()),
        }
    }

    fn create(self, ctx: &Ctx, api_id: &str, id: &str) -> ApiResult<Response> {
        self.check(ctx, api_id, id)?;
        Err(ApiError::bad_request(format!(
            "{}s are supported only for WebSocket APIs",
            self.response()
        )))
    }

    fn list(self, ctx: &Ctx, api_id: &str, id: &str, q: &Q) -> ApiResult<Response> {
        self.check(ctx, api_id, id)?;
        page_map_v2(&std::collections::BTreeMap::<String, Route>::new(), q)
    }

    fn one(self, ctx: &Ctx, api_id: &str, id: &str, response_id: &str) -> ApiResult<Response> {
        self.check(ctx, api_id, id)?;
        Err(not_found(self.response(), response_id))
    }
}

type ParentPath = Path<(String, String)>;
type OnePath = Path<(String, String, String)>;

pub async fn create_route_response(
    State(ctx): State<Ctx>,
    Path((api_id, id)): ParentPath,
) -> ApiResult<Response> {
    Parent::Route.create(&ctx, &api_id, &id)
}

pub async fn list_route_responses(
    State(ctx): State<Ctx>,
    Path((api_id, id)): ParentPath,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    Parent::Route.list(&ctx, &api_id, &id, &q)
}

/// GetRouteResponse, UpdateRouteResponse and DeleteRouteResponse.
pub async fn route_response(
    State(ctx): State<Ctx>,
    Path((api_id, id, response_id)): OnePath,
) -> ApiResult<Response> {
    Parent::Route.one(&ctx, &api_id, &id, &response_id)
}

pub async fn create_integration_response(
    State(ctx): State<Ctx>,
    Path((api_id, id)): ParentPath,
) -> ApiResult<Response> {
    Parent::Integration.create(&ctx, &api_id, &id)
}

pub async fn list_integration_responses(
    State(ctx): State<Ctx>,
    Path((api_id, id)): ParentPath,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    Parent::Integration.list(&ctx, &api_id, &id, &q)
}

/// GetIntegrationResponse, UpdateIntegrationResponse and DeleteIntegrationResponse.
pub async fn integration_response(
    State(ctx): State<Ctx>,
    Path((api_id, id, response_id)): OnePath,
) -> ApiResult<Response> {
    Parent::Integration.one(&ctx, &api_id, &id, &response_id)
}
