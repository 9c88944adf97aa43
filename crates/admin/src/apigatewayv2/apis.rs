//! CreateApi (with quick create), GetApis, GetApi, UpdateApi, DeleteApi,
//! DeleteCorsConfiguration.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use tollgate_model::v2::{self, Api, Cors, Definition};
use tollgate_model::{ids, time, IpAddressType, ProtocolType};
use tollgate_store::V2ApiState;

use super::integration_input::IntegrationInput;
use super::shared::{
    api, api_mut, auto_deploy, auto_deploy_stage, check_description, check_route_key, check_tags,
    def_mut, new_route, new_stage, ApiView,
};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::pagination::page_v2;
use crate::core::tags::new_api_id;
use crate::core::util::{empty, json, parse_body, Query as Q};

#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiInput {
    name: Option<String>,
    protocol_type: Option<String>,
    route_selection_expression: Option<String>,
    api_key_selection_expression: Option<String>,
    cors_configuration: Option<Cors>,
    description: Option<String>,
    version: Option<String>,
    disable_execute_api_endpoint: Option<bool>,
    disable_schema_validation: Option<bool>,
    ip_address_type: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    target: Option<String>,
    route_key: Option<String>,
    credentials_arn: Option<String>,
}

fn check_name(name: &str) -> ApiResult<()> {
    if name.is_empty() || name.chars().count() > 128 {
        return Err(ApiError::bad_request(
            "Name must be between 1 and 128 characters long",
        ));
    }
    Ok(())
}

/// A WebSocket API's route selection expression: any expression of websocket.md §2.
fn websocket_route_selection(e: &str) -> ApiResult<String> {
    tollgate_model::selection::Expression::parse(e).map_err(|err| {
        ApiError::bad_request(format!(
            "Invalid route selection expression specified: {e}. {err}"
        ))
    })?;
    Ok(e.to_string())
}

/// The route selection expression an API of `protocol` accepts.
fn route_selection_for(protocol: ProtocolType, e: &str) -> ApiResult<String> {
    match protocol {
        ProtocolType::Http => route_selection(e).map(str::to_string),
        ProtocolType::Websocket => websocket_route_selection(e),
    }
}

/// HTTP APIs have one route selection expression; the braced spelling means the same.
fn route_selection(e: &str) -> ApiResult<&'static str> {
    match e {
        v2::HTTP_ROUTE_SELECTION | "${request.method} ${request.path}" => {
            Ok(v2::HTTP_ROUTE_SELECTION)
        }
        _ => Err(ApiError::bad_request(format!(
            "Invalid route selection expression specified: {e}. HTTP APIs support only {}",
            v2::HTTP_ROUTE_SELECTION
        ))),
    }
}

fn api_key_selection(e: &str) -> ApiResult<String> {
    match e {
        v2::API_KEY_SELECTION | "$context.authorizer.usageIdentifierKey" => Ok(e.to_string()),
        _ => Err(ApiError::bad_request(format!(
            "Invalid API key selection expression specified: {e}"
        ))),
    }
}

pub(crate) fn check_cors(c: &Cors) -> ApiResult<()> {
    if c.max_age.is_some_and(|m| !(-1..=86_400).contains(&m)) {
        return Err(ApiError::bad_request(
            "Invalid maxAge specified. maxAge must be between -1 and 86400",
        ));
    }
    let any_origin = c
        .allow_origins
        .as_ref()
        .is_some_and(|o| o.iter().any(|o| o == "*"));
    if c.allow_credentials == Some(true) && any_origin {
        return Err(ApiError::bad_request(
            "allow-credentials is not supported with a wildcard (*) in allow-origins",
        ));
    }
    Ok(())
}

fn ip_address_type(s: &str) -> ApiResult<IpAddressType> {
    s.parse()
        .map_err(|_| ApiError::bad_request("ipAddressType must be either ipv4 or dualstack."))
}

/// Members CreateApi and UpdateApi check alike, for an API of `protocol`.
fn check_common(input: &ApiInput, protocol: ProtocolType) -> ApiResult<()> {
    if let Some(n) = input.name.as_deref() {
        check_name(n)?;
    }
    check_description(input.description.as_deref())?;
    if let Some(c) = &input.cors_configuration {
        if protocol == ProtocolType::Websocket {
            return Err(ApiError::bad_request(
                "CORS is supported only for HTTP APIs",
            ));
        }
        check_cors(c)?;
    }
    if input.disable_schema_validation == Some(true) && protocol == ProtocolType::Http {
        return Err(ApiError::bad_request(
            "disableSchemaValidation is supported only for WebSocket APIs",
        ));
    }
    let quick =
        input.target.is_some() || input.route_key.is_some() || input.credentials_arn.is_some();
    if quick && protocol == ProtocolType::Websocket {
        return Err(ApiError::bad_request(
            "target, routeKey and credentialsArn (quick create) are supported only for HTTP APIs",
        ));
    }
    Ok(())
}

/// The integration quick create makes for `target`: a Lambda function (AWS_PROXY, payload
/// 2.0) or an HTTP URL (HTTP_PROXY, method ANY, payload 1.0).
fn quick_integration(target: &str, credentials: Option<String>) -> ApiResult<v2::Integration> {
    let lambda = v2::lambda_function_of(target).is_some();
    let http = target.starts_with("http://") || target.starts_with("https://");
    if !lambda && !http {
        return Err(ApiError::bad_request(format!(
            "Invalid target specified: {target}. The target must be a Lambda function ARN or an HTTP URL"
        )));
    }
    let input = IntegrationInput {
        integration_type: Some(if lambda { "AWS_PROXY" } else { "HTTP_PROXY" }.into()),
        integration_uri: Some(target.into()),
        integration_method: http.then(|| "ANY".to_string()),
        payload_format_version: Some(if lambda { "2.0" } else { "1.0" }.into()),
        credentials_arn: credentials,
        ..IntegrationInput::default()
    };
    let mut i = input.create(ids::seven_char_id(), false)?;
    i.api_gateway_managed = true;
    Ok(i)
}

pub async fn create(State(ctx): State<Ctx>, body: Bytes) -> ApiResult<Response> {
    let input: ApiInput = parse_body(&body)?;
    let name = input
        .name
        .clone()
        .ok_or_else(|| ApiError::bad_request("Name is required"))?;
    let protocol = input
        .protocol_type
        .as_deref()
        .ok_or_else(|| ApiError::bad_request("ProtocolType is required"))?;
    let protocol = protocol.parse::<ProtocolType>().map_err(|_| {
        ApiError::bad_request("Invalid protocol specified. Must be one of [HTTP, WEBSOCKET]")
    })?;
    check_common(&input, protocol)?;
    let route_selection_expression = match input.route_selection_expression.as_deref() {
        Some(e) => route_selection_for(protocol, e)?,
        None if protocol == ProtocolType::Websocket => {
            return Err(ApiError::bad_request(
                "RouteSelectionExpression is required for WebSocket APIs",
            ))
        }
        None => v2::HTTP_ROUTE_SELECTION.to_string(),
    };
    let api_key_selection_expression = match input.api_key_selection_expression.as_deref() {
        Some(e) => api_key_selection(e)?,
        None => v2::API_KEY_SELECTION.into(),
    };
    let ip = match input.ip_address_type.as_deref() {
        Some(t) => ip_address_type(t)?,
        None => IpAddressType::Ipv4,
    };
    let tags = input.tags.clone().unwrap_or_default();
    check_tags(&tags)?;
    let quick = match input.target.as_deref() {
        Some(target) => {
            let integration = quick_integration(target, input.credentials_arn.clone())?;
            let key = input
                .route_key
                .clone()
                .unwrap_or_else(|| v2::DEFAULT.into());
            check_route_key(&key)?;
            let mut route = new_route(ids::seven_char_id(), key);
            route.target = Some(format!("integrations/{}", integration.integration_id));
            route.api_gateway_managed = true;
            Some((integration, route))
        }
        None if input.route_key.is_some() || input.credentials_arn.is_some() => {
            return Err(ApiError::bad_request(
                "routeKey and credentialsArn are supported only with target (quick create)",
            ))
        }
        None => None,
    };
    let out = ctx
        .store
        .transact(|s| {
            let id = new_api_id(s, &tags, "ApiId")?;
            let api = Api {
                api_id: id.clone(),
                name: name.clone(),
                protocol_type: protocol,
                route_selection_expression: route_selection_expression.clone(),
                api_key_selection_expression: api_key_selection_expression.clone(),
                cors_configuration: input.cors_configuration.clone(),
                created_date: time::now_iso8601(),
                description: input.description.clone(),
                version: input.version.clone(),
                disable_execute_api_endpoint: input.disable_execute_api_endpoint.unwrap_or(false),
                ip_address_type: ip,
                tags: tags.clone(),
            };
            let mut def = Definition::new(api.clone());
            if let Some((integration, route)) = quick.clone() {
                def.integrations
                    .insert(integration.integration_id.clone(), integration);
                def.routes.insert(route.route_id.clone(), route);
            }
            let mut state = V2ApiState::new(def);
            if quick.is_some() {
                let mut stage = new_stage(v2::DEFAULT.into());
                stage.auto_deploy = true;
                stage.api_gateway_managed = true;
                state.stages.insert(v2::DEFAULT.into(), Arc::new(stage));
                auto_deploy_stage(&mut state, v2::DEFAULT);
            }
            s.v2_apis.insert(id, Arc::new(state));
            Ok::<_, ApiError>(api)
        })
        .await?;
    Ok(json(201, &ApiView::new(&ctx, &out)))
}

pub async fn list(State(ctx): State<Ctx>, Query(q): Query<Q>) -> ApiResult<Response> {
    let st = ctx.store.state();
    let items = st
        .v2_apis
        .iter()
        .map(|(id, a)| (id.clone(), ApiView::new(&ctx, &a.definition.api)))
        .collect();
    page_v2(items, &q)
}

pub async fn get(State(ctx): State<Ctx>, Path(id): Path<String>) -> ApiResult<Response> {
    let st = ctx.store.state();
    let a = api(&st, &id)?;
    Ok(json(200, &ApiView::new(&ctx, &a.definition.api)))
}

pub async fn update(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: ApiInput = parse_body(&body)?;
    let protocol = api(&ctx.store.state(), &id)?.definition.api.protocol_type;
    check_common(&input, protocol)?;
    let route_selection = input
        .route_selection_expression
        .as_deref()
        .map(|e| route_selection_for(protocol, e))
        .transpose()?;
    let key_selection = input
        .api_key_selection_expression
        .as_deref()
        .map(api_key_selection)
        .transpose()?;
    let ip = input
        .ip_address_type
        .as_deref()
        .map(ip_address_type)
        .transpose()?;
    if input.protocol_type.is_some() || input.tags.is_some() {
        return Err(ApiError::bad_request(
            "protocolType and tags cannot be changed by UpdateApi",
        ));
    }
    let out = ctx
        .store
        .transact(|s| {
            let a = api_mut(s, &id)?;
            let def = def_mut(a);
            update_quick(def, &input)?;
            let api = &mut def.api;
            let input = input.clone();
            if let Some(n) = input.name {
                api.name = n;
            }
            if input.description.is_some() {
                api.description = input.description;
            }
            if input.version.is_some() {
                api.version = input.version;
            }
            if input.cors_configuration.is_some() {
                api.cors_configuration = input.cors_configuration;
            }
            if let Some(d) = input.disable_execute_api_endpoint {
                api.disable_execute_api_endpoint = d;
            }
            if let Some(ip) = ip {
                api.ip_address_type = ip;
            }
            if let Some(k) = key_selection.clone() {
                api.api_key_selection_expression = k;
            }
            if let Some(r) = route_selection.clone() {
                api.route_selection_expression = r;
            }
            let out = api.clone();
            auto_deploy(a);
            Ok::<_, ApiError>(out)
        })
        .await?;
    Ok(json(200, &ApiView::new(&ctx, &out)))
}

/// UpdateApi's quick-create members (AWS: "you can update a quick-created target, but you
/// can't remove it"): `target` retargets the managed integration, `credentialsArn` replaces
/// its role, `routeKey` rekeys the managed route. Each applies only to an API made by quick
/// create.
fn update_quick(def: &mut Definition, input: &ApiInput) -> ApiResult<()> {
    if input.target.is_none() && input.credentials_arn.is_none() && input.route_key.is_none() {
        return Ok(());
    }
    let not_quick = || {
        ApiError::bad_request(
            "target, routeKey and credentialsArn can be updated only for an API made by quick create",
        )
    };
    if let Some(key) = &input.route_key {
        check_route_key(key)?;
        let managed = def
            .routes
            .values()
            .find(|r| r.api_gateway_managed)
            .map(|r| r.route_id.clone())
            .ok_or_else(not_quick)?;
        let taken = def
            .routes
            .values()
            .any(|r| r.route_id != managed && r.route_key == *key);
        if taken {
            return Err(ApiError::conflict(format!(
                "Route with key {key} already exists for this Api"
            )));
        }
        if let Some(r) = def.routes.get_mut(&managed) {
            r.route_key = key.clone();
        }
    }
    let managed = def
        .integrations
        .values_mut()
        .find(|i| i.api_gateway_managed);
    let needs_integration = input.target.is_some() || input.credentials_arn.is_some();
    let Some(managed) = managed else {
        return if needs_integration {
            Err(not_quick())
        } else {
            Ok(())
        };
    };
    if let Some(target) = input.target.as_deref() {
        let fresh = quick_integration(target, None)?;
        managed.integration_type = fresh.integration_type;
        managed.integration_uri = fresh.integration_uri;
        managed.integration_method = fresh.integration_method;
        managed.payload_format_version = fresh.payload_format_version;
    }
    if let Some(role) = &input.credentials_arn {
        managed.credentials_arn = Some(role.clone());
    }
    Ok(())
}

pub async fn delete(State(ctx): State<Ctx>, Path(id): Path<String>) -> ApiResult<Response> {
    ctx.store
        .transact(|s| {
            s.v2_apis
                .remove(&id)
                .ok_or_else(|| super::shared::no_api(&id))?;
            crate::core::domains::unlink(s, &id, None);
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(204))
}

pub async fn delete_cors(State(ctx): State<Ctx>, Path(id): Path<String>) -> ApiResult<Response> {
    ctx.store
        .transact(|s| {
            let a = api_mut(s, &id)?;
            def_mut(a).api.cors_configuration = None;
            auto_deploy(a);
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(204))
}
