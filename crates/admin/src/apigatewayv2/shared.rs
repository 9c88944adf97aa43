//! What the v2 operations share: lookups with AWS's not-found errors, the Api and
//! Deployment wire shapes, automatic deployment, and member checks.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use tollgate_model::v2::{Api, Definition, Deployment, Route, RouteSettings, Stage};
use tollgate_model::{ids, time, AuthorizationType, DeploymentStatus};
use tollgate_store::{State, V2ApiState};

use axum::response::Response;

use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::pagination::page_map_v2;
use crate::core::util::{json, Query as Q};
use crate::core::wire::Wire;

pub fn no_api(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "Invalid API identifier specified {}:{id}",
        tollgate_model::ACCOUNT_ID
    ))
}

/// `Invalid {what} identifier specified {account}:{id}`, the v1 wording, which v2 keeps.
pub fn not_found(what: &str, id: &str) -> ApiError {
    ApiError::not_found(format!(
        "Invalid {what} identifier specified {}:{id}",
        tollgate_model::ACCOUNT_ID
    ))
}

/// One item of an API's collection, or AWS's not-found error naming `what`.
pub fn find<'a, T>(items: &'a BTreeMap<String, T>, what: &str, id: &str) -> ApiResult<&'a T> {
    items.get(id).ok_or_else(|| not_found(what, id))
}

pub fn api<'a>(s: &'a State, id: &str) -> ApiResult<&'a V2ApiState> {
    s.v2_apis
        .get(id)
        .map(|a| a.as_ref())
        .ok_or_else(|| no_api(id))
}

pub fn api_mut<'a>(s: &'a mut State, id: &str) -> ApiResult<&'a mut V2ApiState> {
    s.v2_apis
        .get_mut(id)
        .map(Arc::make_mut)
        .ok_or_else(|| no_api(id))
}

/// The API's definition, copied on first write.
pub fn def_mut(api: &mut V2ApiState) -> &mut Definition {
    Arc::make_mut(&mut api.definition)
}

pub fn stage_mut<'a>(api: &'a mut V2ApiState, name: &str) -> ApiResult<&'a mut Stage> {
    api.stages
        .get_mut(name)
        .map(Arc::make_mut)
        .ok_or_else(|| not_found("Stage", name))
}

/// A fresh id of `gen`'s format unused in `taken`.
pub fn fresh_id<T>(taken: &BTreeMap<String, T>, gen: fn() -> String) -> String {
    ids::unique(gen, |id| taken.contains_key(id))
}

/// An Api as the wire shows it: the stored Api plus where it answers.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiView<'a> {
    api_endpoint: String,
    #[serde(flatten)]
    api: &'a Api,
}

impl<'a> ApiView<'a> {
    pub fn new(ctx: &crate::core::context::AdminContext, api: &'a Api) -> Self {
        let mut api_endpoint = ctx.api_endpoint(&api.api_id);
        if api.protocol_type == tollgate_model::ProtocolType::Websocket {
            // The same listener, spoken to as WebSocket (`wss://` on AWS).
            if let Some(rest) = api_endpoint.strip_prefix("http") {
                api_endpoint = format!("ws{rest}");
            }
        }
        ApiView { api_endpoint, api }
    }
}

impl Wire for ApiView<'_> {
    type Shape<'a>
        = &'a Self
    where
        Self: 'a;

    fn to_wire(&self) -> &Self {
        self
    }
}

/// A Deployment as the wire shows it: without its snapshot.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentView<'a> {
    deployment_id: &'a str,
    auto_deployed: bool,
    created_date: &'a str,
    deployment_status: DeploymentStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    deployment_status_message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
}

impl Wire for Deployment {
    type Shape<'a> = DeploymentView<'a>;

    fn to_wire(&self) -> DeploymentView<'_> {
        DeploymentView {
            deployment_id: &self.deployment_id,
            auto_deployed: self.auto_deployed,
            created_date: &self.created_date,
            deployment_status: self.deployment_status,
            deployment_status_message: self.deployment_status_message.as_deref(),
            description: self.description.as_deref(),
        }
    }
}

/// A new deployment of the API's current definition (shared by `Arc`: a snapshot is the
/// definition as it is now, and edits copy on write).
pub fn deploy(api: &mut V2ApiState, description: Option<String>, auto: bool) -> String {
    let id = fresh_id(&api.deployments, ids::short_id);
    let d = Deployment {
        deployment_id: id.clone(),
        auto_deployed: auto,
        created_date: time::now_iso8601(),
        deployment_status: DeploymentStatus::Deployed,
        deployment_status_message: None,
        description,
        snapshot: api.definition.clone(),
    };
    api.deployments.insert(id.clone(), Arc::new(d));
    id
}

const AUTO_DESCRIPTION: &str = "Automatic deployment triggered by changes to the Api configuration";

/// Why a WebSocket API with a route lacking an integration is not deployed.
pub fn undeployable(route_key: &str) -> String {
    format!("Unable to deploy API because route {route_key} has no integration")
}

/// Points `stage` at a new automatic deployment of the current definition. A definition
/// that cannot be deployed leaves the stage on its deployment and says why in
/// `lastDeploymentStatusMessage`, as AWS's auto-deploy does.
pub fn auto_deploy_stage(api: &mut V2ApiState, stage: &str) {
    if let Some(key) = api.definition.undeployable_route() {
        let message = format!("Deployment attempt failed: {}", undeployable(key));
        if let Some(st) = api.stages.get_mut(stage).map(Arc::make_mut) {
            st.last_deployment_status_message = Some(message);
            st.last_updated_date = time::now_iso8601();
        }
        return;
    }
    let id = deploy(api, Some(AUTO_DESCRIPTION.into()), true);
    if let Some(st) = api.stages.get_mut(stage).map(Arc::make_mut) {
        st.deployment_id = Some(id.clone());
        st.last_deployment_status_message = Some(format!(
            "Successfully deployed stage with deployment ID '{id}'"
        ));
        st.last_updated_date = time::now_iso8601();
    }
    prune_automatic(api);
}

/// After a change to the definition: every `autoDeploy` stage gets a new deployment, so
/// the change is live when the call returns.
pub fn auto_deploy(api: &mut V2ApiState) {
    let stages: Vec<String> = api
        .stages
        .values()
        .filter(|s| s.auto_deploy)
        .map(|s| s.stage_name.clone())
        .collect();
    for stage in stages {
        auto_deploy_stage(api, &stage);
    }
}

/// Automatic deployments no stage points at any more are dropped: each edit of an
/// auto-deployed API makes one, and only the current one can ever be served.
fn prune_automatic(api: &mut V2ApiState) {
    let used: Vec<String> = api
        .stages
        .values()
        .filter_map(|s| s.deployment_id.clone())
        .collect();
    api.deployments
        .retain(|id, d| !d.auto_deployed || used.contains(id));
}

/// `description`: at most 1024 characters.
pub fn check_description(d: Option<&str>) -> ApiResult<()> {
    match d {
        Some(d) if d.chars().count() > 1024 => Err(ApiError::bad_request(
            "Description must be at most 1024 characters long",
        )),
        _ => Ok(()),
    }
}

pub fn check_tags(tags: &BTreeMap<String, String>) -> ApiResult<()> {
    for (k, v) in tags {
        tollgate_model::validate::tag(k, v).map_err(ApiError::bad_request)?;
    }
    Ok(())
}

/// A route with AWS's defaults (no authorization, no API key).
pub fn new_route(id: String, route_key: String) -> Route {
    Route {
        route_id: id,
        route_key,
        api_gateway_managed: false,
        api_key_required: false,
        authorization_type: AuthorizationType::None,
        authorizer_id: None,
        authorization_scopes: None,
        operation_name: None,
        request_models: BTreeMap::new(),
        request_parameters: BTreeMap::new(),
        model_selection_expression: None,
        route_response_selection_expression: None,
        target: None,
    }
}

/// A stage with AWS's defaults (`defaultRouteSettings` `{"detailedMetricsEnabled": false}`).
pub fn new_stage(name: String) -> Stage {
    let now = time::now_iso8601();
    Stage {
        stage_name: name,
        access_log_settings: None,
        api_gateway_managed: false,
        auto_deploy: false,
        created_date: now.clone(),
        default_route_settings: RouteSettings {
            detailed_metrics_enabled: Some(false),
            ..RouteSettings::default()
        },
        deployment_id: None,
        description: None,
        last_deployment_status_message: None,
        last_updated_date: now,
        route_settings: BTreeMap::new(),
        stage_variables: BTreeMap::new(),
        tags: BTreeMap::new(),
    }
}

/// An HTTP API route key as API Gateway accepts it.
pub fn check_route_key(key: &str) -> ApiResult<()> {
    match tollgate_model::v2::parse_http_route_key(key) {
        Some(_) => Ok(()),
        None => Err(ApiError::bad_request(format!(
            "Unable to create route {key}. The route key must be $default or of the form \"METHOD /path\"; METHOD is one of ANY, GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"
        ))),
    }
}

/// Quick create's resources (`apiGatewayManaged`) change only through their API.
pub fn not_managed(managed: bool, what: &str) -> ApiResult<()> {
    if managed {
        return Err(ApiError::bad_request(format!(
            "Cannot modify or delete a {what} managed by API Gateway (made by quick create); update the API instead"
        )));
    }
    Ok(())
}

/// One of an API definition's keyed collections (routes, integrations, authorizers), so
/// their Get, GetAll and Update operations are written once.
pub struct Collection<T: 'static> {
    /// AWS's name for an item, in not-found errors.
    pub what: &'static str,
    pub of: fn(&Definition) -> &BTreeMap<String, T>,
    pub of_mut: fn(&mut Definition) -> &mut BTreeMap<String, T>,
}

/// GetX: one item.
pub fn get_item<T: Wire>(
    ctx: &Ctx,
    api_id: &str,
    id: &str,
    c: &Collection<T>,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    let item = find((c.of)(&api(&st, api_id)?.definition), c.what, id)?;
    Ok(json(200, item))
}

/// GetXs: a page of items.
pub fn list_items<T: Wire>(
    ctx: &Ctx,
    api_id: &str,
    q: &Q,
    c: &Collection<T>,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    page_map_v2((c.of)(&api(&st, api_id)?.definition), q)
}

/// UpdateX: `edit` changes a copy of the item (given the definition it belongs to), which
/// then replaces it; `autoDeploy` stages are deployed.
pub async fn update_item<T: Clone + Wire + Send + Sync>(
    ctx: &Ctx,
    api_id: &str,
    id: &str,
    c: &Collection<T>,
    edit: impl Fn(&mut T, &Definition) -> ApiResult<()> + Sync,
) -> ApiResult<Response> {
    let out = ctx
        .store
        .transact(|s| {
            let a = api_mut(s, api_id)?;
            let mut item = find((c.of)(&a.definition), c.what, id)?.clone();
            edit(&mut item, &a.definition)?;
            (c.of_mut)(def_mut(a)).insert(id.to_string(), item.clone());
            auto_deploy(a);
            Ok::<_, ApiError>(item)
        })
        .await?;
    Ok(json(200, &out))
}
