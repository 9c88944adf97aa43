//! RouteResponse and IntegrationResponse operations (CreateRouteResponse, GetRouteResponses,
//! GetRouteResponse, UpdateRouteResponse, DeleteRouteResponse and the IntegrationResponse
//! five). Both exist only for WebSocket APIs (control-plane-v2.md §3.2, §3.3): on an HTTP
//! API, creating one is AWS's BadRequestException, a list is empty and any one id is
//! unknown, after the API and its route or integration are found.
//!
//! They are kept in the definition keyed `{parentId}/{id}`, so a deployment freezes them
//! with the routes and integrations.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tollgate_model::v2::{
    children, Definition, IntegrationResponse, ParameterConstraints, RouteResponse,
};
use tollgate_model::{ids, ContentHandlingStrategy};

use super::shared::{api, api_mut, auto_deploy, def_mut, find, not_found};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::pagination::page_v2;
use crate::core::util::{empty, json, parse_body, Query as Q};
use crate::core::wire::Wire;

/// A response kind: its parent collection, its map in the definition, and its members.
trait Kind: Clone + Serialize + Wire + Send + Sync + 'static {
    /// AWS's name, in errors.
    const WHAT: &'static str;
    const PARENT: &'static str;
    type Input: DeserializeOwned + Clone + Send + Sync;

    fn parent_exists(def: &Definition, parent: &str) -> bool;
    fn map(def: &Definition) -> &BTreeMap<String, Self>;
    fn map_mut(def: &mut Definition) -> &mut BTreeMap<String, Self>;
    fn key(&self) -> &str;
    fn new(id: String, input: &Self::Input) -> ApiResult<Self>;
    /// Applies the members `input` names.
    fn apply(&mut self, input: Self::Input) -> ApiResult<()>;
}

#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteResponseInput {
    route_response_key: Option<String>,
    model_selection_expression: Option<String>,
    response_models: Option<BTreeMap<String, String>>,
    response_parameters: Option<BTreeMap<String, ParameterConstraints>>,
}

impl Kind for RouteResponse {
    const WHAT: &'static str = "RouteResponse";
    const PARENT: &'static str = "Route";
    type Input = RouteResponseInput;

    fn parent_exists(def: &Definition, parent: &str) -> bool {
        def.routes.contains_key(parent)
    }
    fn map(def: &Definition) -> &BTreeMap<String, Self> {
        &def.route_responses
    }
    fn map_mut(def: &mut Definition) -> &mut BTreeMap<String, Self> {
        &mut def.route_responses
    }
    fn key(&self) -> &str {
        &self.route_response_key
    }
    fn new(id: String, input: &RouteResponseInput) -> ApiResult<Self> {
        let key = input
            .route_response_key
            .clone()
            .ok_or_else(|| ApiError::bad_request("RouteResponseKey is required"))?;
        Ok(RouteResponse {
            route_response_id: id,
            route_response_key: key,
            model_selection_expression: None,
            response_models: BTreeMap::new(),
            response_parameters: BTreeMap::new(),
        })
    }
    fn apply(&mut self, input: RouteResponseInput) -> ApiResult<()> {
        if let Some(k) = input.route_response_key {
            // AWS's route response selection supports `$default` only.
            if k != tollgate_model::v2::DEFAULT {
                return Err(ApiError::bad_request(format!(
                    "Invalid route response key specified: {k}. Only $default is supported"
                )));
            }
            self.route_response_key = k;
        }
        if let Some(e) = input.model_selection_expression {
            selection("model", &e)?;
            self.model_selection_expression = Some(e);
        }
        if let Some(m) = input.response_models {
            self.response_models = m;
        }
        if let Some(p) = input.response_parameters {
            self.response_parameters = p;
        }
        Ok(())
    }
}

#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationResponseInput {
    integration_response_key: Option<String>,
    content_handling_strategy: Option<String>,
    response_parameters: Option<BTreeMap<String, String>>,
    response_templates: Option<BTreeMap<String, String>>,
    template_selection_expression: Option<String>,
}

impl Kind for IntegrationResponse {
    const WHAT: &'static str = "IntegrationResponse";
    const PARENT: &'static str = "Integration";
    type Input = IntegrationResponseInput;

    fn parent_exists(def: &Definition, parent: &str) -> bool {
        def.integrations.contains_key(parent)
    }
    fn map(def: &Definition) -> &BTreeMap<String, Self> {
        &def.integration_responses
    }
    fn map_mut(def: &mut Definition) -> &mut BTreeMap<String, Self> {
        &mut def.integration_responses
    }
    fn key(&self) -> &str {
        &self.integration_response_key
    }
    fn new(id: String, input: &IntegrationResponseInput) -> ApiResult<Self> {
        let key = input
            .integration_response_key
            .clone()
            .ok_or_else(|| ApiError::bad_request("IntegrationResponseKey is required"))?;
        Ok(IntegrationResponse {
            integration_response_id: id,
            integration_response_key: key,
            content_handling_strategy: None,
            response_parameters: BTreeMap::new(),
            response_templates: BTreeMap::new(),
            template_selection_expression: None,
        })
    }
    fn apply(&mut self, input: IntegrationResponseInput) -> ApiResult<()> {
        if let Some(k) = input.integration_response_key {
            check_integration_response_key(&k)?;
            self.integration_response_key = k;
        }
        if let Some(c) = input.content_handling_strategy.as_deref() {
            let parsed = c.parse::<ContentHandlingStrategy>().map_err(|_| {
                ApiError::bad_request(format!(
                    "Invalid content handling strategy specified: {c}. Must be one of [CONVERT_TO_BINARY, CONVERT_TO_TEXT]"
                ))
            })?;
            self.content_handling_strategy = Some(parsed);
        }
        if let Some(p) = input.response_parameters {
            self.response_parameters = p;
        }
        if let Some(t) = input.response_templates {
            self.response_templates = t;
        }
        if let Some(e) = input.template_selection_expression {
            selection("template", &e)?;
            self.template_selection_expression = Some(e);
        }
        Ok(())
    }
}

fn selection(what: &str, e: &str) -> ApiResult<()> {
    tollgate_model::selection::Expression::parse(e)
        .map(|_| ())
        .map_err(|err| {
            ApiError::bad_request(format!(
                "Invalid {what} selection expression specified: {e}. {err}"
            ))
        })
}

/// `$default`, or a pattern between slashes (`/4\d\d/`, or a Lambda error message's).
fn check_integration_response_key(k: &str) -> ApiResult<()> {
    let pattern = k
        .strip_prefix('/')
        .and_then(|p| p.strip_suffix('/'))
        .filter(|p| !p.is_empty());
    match pattern {
        _ if k == tollgate_model::v2::DEFAULT => Ok(()),
        // The pattern is compiled with the deployment; one that does not compile never
        // matches there.
        Some(_) => Ok(()),
        _ => Err(ApiError::bad_request(format!(
            "Invalid integration response key specified: {k}. Must be $default or a pattern between slashes, such as /2\\d\\d/"
        ))),
    }
}

/// The API (a WebSocket API for writes) and the parent exist, else their errors.
fn check_parent<K: Kind>(def: &Definition, parent: &str) -> ApiResult<()> {
    if !K::parent_exists(def, parent) {
        return Err(not_found(K::PARENT, parent));
    }
    Ok(())
}

fn only_websocket<K: Kind>(def: &Definition) -> ApiResult<()> {
    if !def.is_websocket() {
        return Err(ApiError::bad_request(format!(
            "{}s are supported only for WebSocket APIs",
            K::WHAT
        )));
    }
    Ok(())
}

fn taken<K: Kind>(def: &Definition, parent: &str, key: &str, except: &str) -> ApiResult<()> {
    let dup = children(K::map(def), parent).any(|(id, r)| id != except && r.key() == key);
    if dup {
        return Err(ApiError::conflict(format!(
            "{} with key {key} already exists for this {}",
            K::WHAT,
            K::PARENT
        )));
    }
    Ok(())
}

async fn create<K: Kind>(
    ctx: &Ctx,
    api_id: &str,
    parent: &str,
    body: &Bytes,
) -> ApiResult<Response> {
    let input: K::Input = parse_body(body)?;
    let out = ctx
        .store
        .transact(|s| {
            let a = api_mut(s, api_id)?;
            check_parent::<K>(&a.definition, parent)?;
            only_websocket::<K>(&a.definition)?;
            let id = ids::unique(ids::short_id, |id| {
                K::map(&a.definition).contains_key(&format!("{parent}/{id}"))
            });
            let mut item = K::new(id.clone(), &input)?;
            item.apply(input.clone())?;
            taken::<K>(&a.definition, parent, item.key(), &id)?;
            K::map_mut(def_mut(a)).insert(format!("{parent}/{id}"), item.clone());
            auto_deploy(a);
            Ok::<_, ApiError>(item)
        })
        .await?;
    Ok(json(201, &out))
}

fn list<K: Kind>(ctx: &Ctx, api_id: &str, parent: &str, q: &Q) -> ApiResult<Response> {
    let st = ctx.store.state();
    let def = &api(&st, api_id)?.definition;
    check_parent::<K>(def, parent)?;
    let items = children(K::map(def), parent)
        .map(|(id, r)| (id.to_string(), r))
        .collect();
    page_v2(items, q)
}

fn get<K: Kind>(ctx: &Ctx, api_id: &str, parent: &str, id: &str) -> ApiResult<Response> {
    let st = ctx.store.state();
    let def = &api(&st, api_id)?.definition;
    check_parent::<K>(def, parent)?;
    let item = find(K::map(def), K::WHAT, &format!("{parent}/{id}"))
        .map_err(|_| not_found(K::WHAT, id))?;
    Ok(json(200, item))
}

async fn update<K: Kind>(
    ctx: &Ctx,
    api_id: &str,
    parent: &str,
    id: &str,
    body: &Bytes,
) -> ApiResult<Response> {
    let input: K::Input = parse_body(body)?;
    let key = format!("{parent}/{id}");
    let out = ctx
        .store
        .transact(|s| {
            let a = api_mut(s, api_id)?;
            check_parent::<K>(&a.definition, parent)?;
            let mut item = K::map(&a.definition)
                .get(&key)
                .cloned()
                .ok_or_else(|| not_found(K::WHAT, id))?;
            item.apply(input.clone())?;
            taken::<K>(&a.definition, parent, item.key(), id)?;
            K::map_mut(def_mut(a)).insert(key.clone(), item.clone());
            auto_deploy(a);
            Ok::<_, ApiError>(item)
        })
        .await?;
    Ok(json(200, &out))
}

async fn delete<K: Kind>(ctx: &Ctx, api_id: &str, parent: &str, id: &str) -> ApiResult<Response> {
    let key = format!("{parent}/{id}");
    ctx.store
        .transact(|s| {
            let a = api_mut(s, api_id)?;
            check_parent::<K>(&a.definition, parent)?;
            if !K::map(&a.definition).contains_key(&key) {
                return Err(not_found(K::WHAT, id));
            }
            K::map_mut(def_mut(a)).remove(&key);
            auto_deploy(a);
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(204))
}

type ParentPath = Path<(String, String)>;
type OnePath = Path<(String, String, String)>;

pub async fn create_route_response(
    State(ctx): State<Ctx>,
    Path((api_id, id)): ParentPath,
    body: Bytes,
) -> ApiResult<Response> {
    create::<RouteResponse>(&ctx, &api_id, &id, &body).await
}

pub async fn list_route_responses(
    State(ctx): State<Ctx>,
    Path((api_id, id)): ParentPath,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    list::<RouteResponse>(&ctx, &api_id, &id, &q)
}

pub async fn get_route_response(
    State(ctx): State<Ctx>,
    Path((api_id, id, rid)): OnePath,
) -> ApiResult<Response> {
    get::<RouteResponse>(&ctx, &api_id, &id, &rid)
}

pub async fn update_route_response(
    State(ctx): State<Ctx>,
    Path((api_id, id, rid)): OnePath,
    body: Bytes,
) -> ApiResult<Response> {
    update::<RouteResponse>(&ctx, &api_id, &id, &rid, &body).await
}

pub async fn delete_route_response(
    State(ctx): State<Ctx>,
    Path((api_id, id, rid)): OnePath,
) -> ApiResult<Response> {
    delete::<RouteResponse>(&ctx, &api_id, &id, &rid).await
}

pub async fn create_integration_response(
    State(ctx): State<Ctx>,
    Path((api_id, id)): ParentPath,
    body: Bytes,
) -> ApiResult<Response> {
    create::<IntegrationResponse>(&ctx, &api_id, &id, &body).await
}

pub async fn list_integration_responses(
    State(ctx): State<Ctx>,
    Path((api_id, id)): ParentPath,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    list::<IntegrationResponse>(&ctx, &api_id, &id, &q)
}

pub async fn get_integration_response(
    State(ctx): State<Ctx>,
    Path((api_id, id, rid)): OnePath,
) -> ApiResult<Response> {
    get::<IntegrationResponse>(&ctx, &api_id, &id, &rid)
}

pub async fn update_integration_response(
    State(ctx): State<Ctx>,
    Path((api_id, id, rid)): OnePath,
    body: Bytes,
) -> ApiResult<Response> {
    update::<IntegrationResponse>(&ctx, &api_id, &id, &rid, &body).await
}

pub async fn delete_integration_response(
    State(ctx): State<Ctx>,
    Path((api_id, id, rid)): OnePath,
) -> ApiResult<Response> {
    delete::<IntegrationResponse>(&ctx, &api_id, &id, &rid).await
}
