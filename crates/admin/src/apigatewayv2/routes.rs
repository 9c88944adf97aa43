//! CreateRoute, GetRoutes, GetRoute, UpdateRoute, DeleteRoute,
//! DeleteRouteRequestParameter.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use tollgate_model::v2::{Definition, ParameterConstraints, Route};
use tollgate_model::{ids, AuthorizationType, V2AuthorizerType};

use super::shared::{
    api_mut, auto_deploy, check_route_key, def_mut, find, fresh_id, get_item, list_items,
    new_route, not_found, not_managed, update_item, Collection,
};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::util::{empty, json, parse_body, Query as Q};

/// AWS's quota of routes per API.
pub(super) const MAX_ROUTES: usize = 300;

pub(super) fn routes_limit() -> ApiError {
    ApiError::limit_exceeded(format!(
        "Maximum number of Routes for this API has been reached: {MAX_ROUTES}"
    ))
}

#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RouteInput {
    route_key: Option<String>,
    target: Option<String>,
    authorization_type: Option<String>,
    authorizer_id: Option<String>,
    authorization_scopes: Option<Vec<String>>,
    api_key_required: Option<bool>,
    operation_name: Option<String>,
    request_parameters: Option<BTreeMap<String, ParameterConstraints>>,
    // WebSocket-only members (an HTTP API refuses them).
    request_models: Option<BTreeMap<String, String>>,
    model_selection_expression: Option<String>,
    route_response_selection_expression: Option<String>,
}

static COLLECTION: Collection<Route> = Collection {
    what: "Route",
    of: |d| &d.routes,
    of_mut: |d| &mut d.routes,
};

type RoutePath = Path<(String, String)>;

impl RouteInput {
    /// Applies the members this body names to `r`, then checks it against the API.
    fn apply(self, r: &mut Route, def: &Definition) -> ApiResult<()> {
        let websocket = def.is_websocket();
        let websocket_only = self.api_key_required == Some(true)
            || self.request_models.is_some()
            || self.model_selection_expression.is_some()
            || self.route_response_selection_expression.is_some();
        if websocket_only && !websocket {
            return Err(ApiError::bad_request(
                "apiKeyRequired, requestModels, modelSelectionExpression and routeResponseSelectionExpression are supported only for WebSocket APIs",
            ));
        }
        if let Some(k) = self.route_key {
            if websocket {
                check_websocket_route_key(&k)?;
            } else {
                check_route_key(&k)?;
            }
            r.route_key = k;
        }
        if let Some(a) = self.api_key_required {
            r.api_key_required = a;
        }
        if let Some(m) = self.request_models {
            r.request_models = m;
        }
        if let Some(e) = self.model_selection_expression {
            check_selection("model", &e)?;
            r.model_selection_expression = Some(e);
        }
        if let Some(e) = self.route_response_selection_expression {
            // AWS supports `$default` only: the route is two-way.
            if e != tollgate_model::v2::DEFAULT {
                return Err(ApiError::bad_request(format!(
                    "Invalid route response selection expression specified: {e}. Only $default is supported"
                )));
            }
            r.route_response_selection_expression = Some(e);
        }
        if self.target.is_some() {
            r.target = self.target;
        }
        if let Some(t) = self.authorization_type.as_deref() {
            r.authorization_type = match t.parse::<AuthorizationType>() {
                Ok(AuthorizationType::CognitoUserPools) | Err(_) => {
                    return Err(ApiError::bad_request(format!(
                        "Invalid authorization type specified: {t}. Must be one of [NONE, AWS_IAM, CUSTOM, JWT]"
                    )))
                }
                Ok(t) => t,
            };
        }
        let authorizer_given = self.authorizer_id.is_some();
        if authorizer_given {
            r.authorizer_id = self.authorizer_id;
        }
        if self.authorization_scopes.is_some() {
            r.authorization_scopes = self.authorization_scopes;
        }
        if self.operation_name.is_some() {
            r.operation_name = self.operation_name;
        }
        if let Some(p) = self.request_parameters {
            r.request_parameters = p;
        }
        check_authorization(r, def, authorizer_given)?;
        if websocket {
            check_websocket_auth(r)?;
        }
        check_target(r, def)?;
        let taken = def
            .routes
            .values()
            .any(|o| o.route_id != r.route_id && o.route_key == r.route_key);
        if taken {
            return Err(ApiError::conflict(format!(
                "Route with key {} already exists for this Api",
                r.route_key
            )));
        }
        Ok(())
    }
}

/// A WebSocket route key: `$connect`, `$disconnect`, `$default`, or a custom key, which
/// must not start with the reserved `$`.
fn check_websocket_route_key(key: &str) -> ApiResult<()> {
    const RESERVED: [&str; 3] = ["$connect", "$disconnect", "$default"];
    if key.is_empty() || key.chars().count() > 128 {
        return Err(ApiError::bad_request(
            "RouteKey must be between 1 and 128 characters long",
        ));
    }
    if key.starts_with('$') && !RESERVED.contains(&key) {
        return Err(ApiError::bad_request(format!(
            "Unable to create route {key}. Route keys beginning with $ are reserved; use $connect, $disconnect or $default"
        )));
    }
    Ok(())
}

/// A selection expression of websocket.md §2.
fn check_selection(what: &str, e: &str) -> ApiResult<()> {
    tollgate_model::selection::Expression::parse(e)
        .map(|_| ())
        .map_err(|err| {
            ApiError::bad_request(format!(
                "Invalid {what} selection expression specified: {e}. {err}"
            ))
        })
}

/// WebSocket APIs authorize (and check API keys) on `$connect` only, and know no JWT.
fn check_websocket_auth(r: &Route) -> ApiResult<()> {
    if r.authorization_type == AuthorizationType::Jwt {
        return Err(ApiError::bad_request(
            "Invalid authorization type specified: JWT. Must be one of [NONE, AWS_IAM, CUSTOM] for WebSocket APIs",
        ));
    }
    let connect = r.route_key == "$connect";
    if !connect && (r.authorization_type != AuthorizationType::None || r.api_key_required) {
        return Err(ApiError::bad_request(
            "Authorization and API keys are supported only on the $connect route of a WebSocket API",
        ));
    }
    Ok(())
}

/// JWT and CUSTOM name an authorizer of their kind; NONE and AWS_IAM none (an authorizer
/// left from an earlier type is dropped, one named in the same call is refused).
pub(crate) fn check_authorization(
    r: &mut Route,
    def: &Definition,
    authorizer_given: bool,
) -> ApiResult<()> {
    let wanted = match r.authorization_type {
        AuthorizationType::Jwt => Some(V2AuthorizerType::Jwt),
        AuthorizationType::Custom => Some(V2AuthorizerType::Request),
        _ => None,
    };
    match wanted {
        None if authorizer_given => Err(ApiError::bad_request(format!(
            "authorizerId cannot be set with authorization type {}",
            r.authorization_type
        ))),
        None => {
            r.authorizer_id = None;
            r.authorization_scopes = None;
            Ok(())
        }
        Some(kind) => {
            let id = r.authorizer_id.as_deref().ok_or_else(|| {
                ApiError::bad_request(format!(
                    "authorizerId is required for authorization type {}",
                    r.authorization_type
                ))
            })?;
            let a = def
                .authorizers
                .get(id)
                .ok_or_else(|| not_found("Authorizer", id))?;
            if a.authorizer_type != kind {
                return Err(ApiError::bad_request(format!(
                    "Authorization type {} requires an authorizer of type {kind}",
                    r.authorization_type
                )));
            }
            let scopes = r.authorization_scopes.as_ref().map_or(0, |s| s.len());
            if scopes > 0 && kind != V2AuthorizerType::Jwt {
                return Err(ApiError::bad_request(
                    "authorizationScopes are supported only for JWT authorizers",
                ));
            }
            if scopes > 10 {
                return Err(ApiError::bad_request(
                    "A route may have at most 10 authorization scopes",
                ));
            }
            Ok(())
        }
    }
}

/// `target`: `integrations/{id}` of an integration of this API.
fn check_target(r: &Route, def: &Definition) -> ApiResult<()> {
    let Some(target) = r.target.as_deref() else {
        return Ok(());
    };
    let id = r.integration_id().ok_or_else(|| {
        ApiError::bad_request(format!(
            "Invalid target specified: {target}. A route target must be integrations/{{integrationId}}"
        ))
    })?;
    if !def.integrations.contains_key(id) {
        return Err(not_found("Integration", id));
    }
    Ok(())
}

pub async fn create(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: RouteInput = parse_body(&body)?;
    let key = input
        .route_key
        .clone()
        .ok_or_else(|| ApiError::bad_request("RouteKey is required"))?;
    let out = ctx
        .store
        .transact(|s| {
            let a = api_mut(s, &api_id)?;
            if a.definition.routes.len() >= MAX_ROUTES {
                return Err(routes_limit());
            }
            let mut route = new_route(
                fresh_id(&a.definition.routes, ids::seven_char_id),
                key.clone(),
            );
            input.clone().apply(&mut route, &a.definition)?;
            def_mut(a)
                .routes
                .insert(route.route_id.clone(), route.clone());
            auto_deploy(a);
            Ok::<_, ApiError>(route)
        })
        .await?;
    Ok(json(201, &out))
}

pub async fn list(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    list_items(&ctx, &api_id, &q, &COLLECTION)
}

pub async fn get(State(ctx): State<Ctx>, Path((api_id, id)): RoutePath) -> ApiResult<Response> {
    get_item(&ctx, &api_id, &id, &COLLECTION)
}

pub async fn update(
    State(ctx): State<Ctx>,
    Path((api_id, id)): RoutePath,
    body: Bytes,
) -> ApiResult<Response> {
    let input: RouteInput = parse_body(&body)?;
    update_item(&ctx, &api_id, &id, &COLLECTION, |route, def| {
        not_managed(route.api_gateway_managed, "route")?;
        let renamed = input
            .route_key
            .as_deref()
            .is_some_and(|k| k != route.route_key);
        if route.route_key == tollgate_model::v2::DEFAULT && renamed {
            return Err(ApiError::bad_request(
                "The $default route cannot be renamed",
            ));
        }
        input.clone().apply(route, def)
    })
    .await
}

pub async fn delete(State(ctx): State<Ctx>, Path((api_id, id)): RoutePath) -> ApiResult<Response> {
    ctx.store
        .transact(|s| {
            let a = api_mut(s, &api_id)?;
            let route = find(&a.definition.routes, "Route", &id)?;
            not_managed(route.api_gateway_managed, "route")?;
            let def = def_mut(a);
            def.routes.remove(&id);
            let prefix = format!("{id}/");
            def.route_responses.retain(|k, _| !k.starts_with(&prefix));
            auto_deploy(a);
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(204))
}

pub async fn delete_request_parameter(
    State(ctx): State<Ctx>,
    Path((api_id, id, key)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    ctx.store
        .transact(|s| {
            let a = api_mut(s, &api_id)?;
            let route = find(&a.definition.routes, "Route", &id)?;
            if !route.request_parameters.contains_key(&key) {
                return Err(not_found("RouteRequestParameter", &key));
            }
            let route = def_mut(a)
                .routes
                .get_mut(&id)
                .ok_or_else(|| not_found("Route", &id))?;
            route.request_parameters.remove(&key);
            auto_deploy(a);
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(204))
}
