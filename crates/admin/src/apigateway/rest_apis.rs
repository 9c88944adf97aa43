//! CreateRestApi, GetRestApis, GetRestApi, UpdateRestApi, DeleteRestApi.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use tollgate_model::{
    ids, time, ApiKeySourceType, EndpointConfiguration, EndpointType, IpAddressType, RestApi,
    RestApiDefinition,
};
use tollgate_store::ApiState;

use super::shared::{api, api_mut, def_mut};
use crate::core::context::Ctx;
use crate::core::error::{parse_enum_opt, validation_errors, ApiError, ApiResult, Violation};
use crate::core::pagination::page;
use crate::core::patch::patch_bool;
use crate::core::patch::PatchBody;
use crate::core::patch_table::{Change, NoMatch, PatchRule, PatchTable};
use crate::core::tags::new_api_id;
use crate::core::util::{empty, json, parse_body, Query as Q};

#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EndpointConfigurationInput {
    types: Option<Vec<String>>,
    ip_address_type: Option<String>,
    vpc_endpoint_ids: Option<Vec<String>>,
}

#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRestApiInput {
    name: Option<String>,
    description: Option<String>,
    version: Option<String>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    clone_from: Option<String>,
    binary_media_types: Option<Vec<String>>,
    minimum_compression_size: Option<i64>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    api_key_source: Option<String>,
    endpoint_configuration: Option<EndpointConfigurationInput>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    policy: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    disable_execute_api_endpoint: Option<bool>,
    security_policy: Option<String>,
    endpoint_access_mode: Option<String>,
}

const COMPRESSION_MESSAGE: &str =
    "Invalid minimum compression size, must be between 0 and 10485760";

/// The enum checks of `endpointConfiguration`, which AWS makes before any other check of
/// CreateRestApi and reports together, types first (recorded:
/// test_create_rest_api_with_endpoint_configuration).
fn endpoint_violations(input: Option<&EndpointConfigurationInput>) -> Vec<Violation> {
    let mut out = Vec::new();
    let Some(input) = input else {
        return out;
    };
    let types = input.types.as_deref().unwrap_or_default();
    if types.iter().any(|t| t.parse::<EndpointType>().is_err()) {
        out.push(Violation::new(
            format!("[{}]", types.join(", ")),
            "createRestApiInput.endpointConfiguration.types",
            "Member must satisfy constraint: [Member must satisfy enum value set: [PRIVATE, EDGE, REGIONAL]]",
        ));
    }
    if let Some(ip) = input.ip_address_type.as_deref().filter(|t| !t.is_empty()) {
        if ip.parse::<IpAddressType>().is_err() {
            out.push(Violation::enum_value(
                ip,
                "createRestApiInput.endpointConfiguration.ipAddressType",
                "ipv4, dualstack",
            ));
        }
    }
    out
}

/// `endpointConfiguration` once its values are known members ([`endpoint_violations`]).
fn endpoint_configuration(
    input: Option<EndpointConfigurationInput>,
) -> ApiResult<EndpointConfiguration> {
    let Some(input) = input else {
        return Ok(EndpointConfiguration::default());
    };
    let types = input
        .types
        .unwrap_or_else(|| vec![EndpointType::Edge.as_str().into()]);
    let types = types
        .iter()
        .map(|t| t.parse::<EndpointType>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ApiError::bad_request("Invalid EndpointTypes specified"))?;
    if types.len() > 1 {
        return Err(ApiError::bad_request(
            "Cannot create an api with multiple Endpoint Types.",
        ));
    }
    if types.is_empty() {
        return Err(ApiError::bad_request(
            "REGIONAL Configuration and EDGE Configuration cannot be both DISABLED.",
        ));
    }
    let private = types[0] == EndpointType::Private;
    let ip = match input.ip_address_type.as_deref() {
        None | Some("") if private => IpAddressType::Dualstack,
        None | Some("") => IpAddressType::Ipv4,
        Some(t) => t.parse().map_err(|_| ip_address_type_error())?,
    };
    if private && ip == IpAddressType::Ipv4 {
        return Err(private_needs_dualstack());
    }
    Ok(EndpointConfiguration {
        types,
        ip_address_type: Some(ip),
        vpc_endpoint_ids: input.vpc_endpoint_ids,
    })
}

/// ImportRestApi's `endpointConfigurationTypes` parameter (one type, as on create).
pub(super) fn endpoint_from_types(types: &str) -> ApiResult<EndpointConfiguration> {
    let input = EndpointConfigurationInput {
        types: Some(types.split(',').map(str::to_string).collect()),
        ip_address_type: None,
        vpc_endpoint_ids: None,
    };
    if types.split(',').any(|t| t.parse::<EndpointType>().is_err()) {
        return Err(ApiError::bad_request(
            "Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE",
        ));
    }
    endpoint_configuration(Some(input))
}

fn private_needs_dualstack() -> ApiError {
    ApiError::bad_request("Only dualstack ipAddressType is supported for Private APIs.")
}

fn ip_address_type_error() -> ApiError {
    ApiError::bad_request("ipAddressType must be either ipv4 or dualstack.")
}

fn api_key_source(s: &str) -> ApiResult<ApiKeySourceType> {
    s.parse().map_err(|_| {
        Violation::enum_value(s, "createRestApiInput.apiKeySource", "AUTHORIZER, HEADER").into()
    })
}

/// CreateRestApi (`POST /restapis`; `?mode=import` is ImportRestApi, routed before).
pub async fn create(ctx: Ctx, body: Bytes) -> ApiResult<Response> {
    let input: CreateRestApiInput = parse_body(&body)?;
    let violations = endpoint_violations(input.endpoint_configuration.as_ref());
    if !violations.is_empty() {
        return Err(validation_errors(&violations));
    }
    let name = input
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad_request("Invalid request input: name is required"))?;
    if input.description.as_deref() == Some("") {
        return Err(ApiError::bad_request(
            "Description cannot be an empty string",
        ));
    }
    if let Some(size) = input.minimum_compression_size {
        if !(0..=10_485_760).contains(&size) {
            return Err(ApiError::bad_request(COMPRESSION_MESSAGE));
        }
    }
    check_policy(input.policy.as_deref())?;
    let tags = input.tags.clone().unwrap_or_default();
    for (k, v) in &tags {
        tollgate_model::validate::tag(k, v).map_err(ApiError::bad_request)?;
    }
    let endpoint = endpoint_configuration(input.endpoint_configuration.clone())?;
    let access_mode = parse_enum_opt(
        input.endpoint_access_mode.as_deref(),
        "createRestApiInput.endpointAccessMode",
    )?;
    let key_source = match input.api_key_source.as_deref() {
        None => ApiKeySourceType::Header,
        Some(s) => api_key_source(s)?,
    };
    let out = ctx
        .store
        .transact(|s| {
            // The closure may run again (on a conflict): it moves copies.
            let name = name.clone();
            let input = input.clone();
            let endpoint = endpoint.clone();
            let tags = tags.clone();
            let id = new_api_id(s, &tags, "RestApiId")?;
            let rest_api = RestApi {
                id: id.clone(),
                name,
                description: input.description,
                version: input.version,
                created_date: time::now_epoch(),
                binary_media_types: input.binary_media_types.unwrap_or_default(),
                minimum_compression_size: input.minimum_compression_size,
                api_key_source: key_source,
                endpoint_configuration: endpoint,
                policy: input.policy,
                tags,
                disable_execute_api_endpoint: input.disable_execute_api_endpoint.unwrap_or(false),
                root_resource_id: ids::long_id(),
                security_policy: input.security_policy,
                endpoint_access_mode: access_mode,
            };
            let mut def = RestApiDefinition::new(rest_api.clone());
            def.created_sequence = Some(s.next_api_sequence());
            if let Some(source) = input.clone_from {
                let src = api(s, &source)?.definition.clone();
                clone_into(&mut def, &src);
            }
            s.apis.insert(id, Arc::new(ApiState::new(def)));
            Ok::<_, ApiError>(rest_api)
        })
        .await?;
    Ok(json(201, &out))
}

/// `cloneFrom`: copies the source API's resources (with methods), models, validators,
/// authorizers, gateway responses and settings under fresh ids.
fn clone_into(def: &mut RestApiDefinition, src: &RestApiDefinition) {
    let mut id_map: BTreeMap<String, String> = BTreeMap::new();
    id_map.insert(
        src.api.root_resource_id.clone(),
        def.api.root_resource_id.clone(),
    );
    for id in src.resources.keys() {
        if !id_map.contains_key(id) {
            id_map.insert(id.clone(), ids::short_id());
        }
    }
    def.resources.clear();
    for (old_id, r) in &src.resources {
        let mut r = r.clone();
        r.id = id_map[old_id].clone();
        r.parent_id = r.parent_id.as_ref().and_then(|p| id_map.get(p).cloned());
        for m in r.resource_methods.values_mut() {
            if let Some(i) = m.method_integration.as_mut() {
                if i.cache_namespace == *old_id {
                    i.cache_namespace = r.id.clone();
                }
            }
        }
        def.resources.insert(r.id.clone(), r);
    }
    def.models = src.models.clone();
    def.request_validators = src.request_validators.clone();
    def.authorizers = src.authorizers.clone();
    def.gateway_responses = src.gateway_responses.clone();
    def.api.binary_media_types = src.api.binary_media_types.clone();
}

/// The key GetRestApis pages by: creation order, as AWS lists (recorded); APIs stored
/// before their order was kept come after, by id.
fn creation_key(id: &str, sequence: Option<u64>) -> String {
    match sequence {
        Some(n) => format!("0{n:020}"),
        None => format!("1{id}"),
    }
}

pub async fn list(State(ctx): State<Ctx>, Query(q): Query<Q>) -> ApiResult<Response> {
    let st = ctx.store.state();
    let items = st
        .apis
        .iter()
        .map(|(id, a)| {
            (
                creation_key(id, a.definition.created_sequence),
                a.definition.api.clone(),
            )
        })
        .collect();
    page(items, &q)
}

pub async fn get(State(ctx): State<Ctx>, Path(id): Path<String>) -> ApiResult<Response> {
    let st = ctx.store.state();
    Ok(json(200, &api(&st, &id)?.definition.api))
}

/// A resource policy must be a JSON policy document (an object with a `Statement`); an
/// empty value clears it.
pub(super) fn check_policy(policy: Option<&str>) -> ApiResult<()> {
    let Some(p) = policy.filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let doc: Option<serde_json::Value> = serde_json::from_str(p).ok();
    let statement = doc.as_ref().and_then(|d| d.get("Statement"));
    if statement.is_some_and(|s| s.is_array() || s.is_object()) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "Invalid policy document. Please check the policy syntax and ensure that Principals are valid.",
        ))
    }
}

/// The top-level members UpdateRestApi only `replace`s.
const REPLACE_ONLY: [&str; 8] = [
    "name",
    "description",
    "version",
    "policy",
    "apiKeySource",
    "disableExecuteApiEndpoint",
    "minimumCompressionSize",
    "endpointConfiguration/ipAddressType",
];

/// UpdateRestApi's paths.
static REST_API_PATCH: PatchTable<RestApi, ()> = PatchTable {
    rules: &[
        PatchRule {
            ops: &["replace"],
            path: "/name",
            apply: |r, c| {
                r.name = super::shared::required_name(c.value)?;
                Ok(())
            },
        },
        replace_opt!("/description", description),
        // Recorded: `remove /description` clears it (the member leaves the answer).
        PatchRule {
            ops: &["remove"],
            path: "/description",
            apply: |r, _| {
                r.description = None;
                Ok(())
            },
        },
        replace_opt!("/version", version),
        PatchRule {
            ops: &["replace"],
            path: "/policy",
            apply: |r, c| {
                check_policy(c.value)?;
                super::shared::set_opt(&mut r.policy, c.value);
                Ok(())
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/apiKeySource",
            apply: |r, c| {
                r.api_key_source = api_key_source(c.value.unwrap_or_default())?;
                Ok(())
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/disableExecuteApiEndpoint",
            apply: |r, c| {
                r.disable_execute_api_endpoint = patch_bool(c.value);
                Ok(())
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/minimumCompressionSize",
            apply: |r, c| {
                r.minimum_compression_size = match c.value.filter(|s| !s.is_empty()) {
                    None => None,
                    Some(s) => match s.parse::<i64>() {
                        Ok(n) if (0..=10_485_760).contains(&n) => Some(n),
                        _ => return Err(ApiError::bad_request(COMPRESSION_MESSAGE)),
                    },
                };
                Ok(())
            },
        },
        PatchRule {
            ops: &["add", "remove", "replace"],
            path: "/binaryMediaTypes/*",
            apply: patch_binary_media_type,
        },
        PatchRule {
            ops: &["replace"],
            path: "/endpointConfiguration/types/*",
            apply: |r, c| {
                let nv: EndpointType = c.value.unwrap_or_default().parse().map_err(|_| {
                    ApiError::bad_request(
                        "Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE",
                    )
                })?;
                r.endpoint_configuration.types = vec![nv];
                if nv == EndpointType::Private {
                    r.endpoint_configuration.ip_address_type = Some(IpAddressType::Dualstack);
                }
                Ok(())
            },
        },
        // Recorded (test_update_rest_api_ip_address_type): AWS's literal text, whatever the op.
        PatchRule {
            ops: &["add", "remove"],
            path: "/endpointConfiguration/types/*",
            apply: |_, _| {
                Err(ApiError::bad_request(
                    "Invalid patch operation specified. Must be 'add'|'remove'|'replace'",
                ))
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/endpointConfiguration/ipAddressType",
            apply: |r, c| {
                let t = c.value.unwrap_or_default();
                let ip: IpAddressType = t.parse().map_err(|_| ip_address_type_error())?;
                let private = r
                    .endpoint_configuration
                    .types
                    .contains(&EndpointType::Private);
                if private && ip == IpAddressType::Ipv4 {
                    return Err(private_needs_dualstack());
                }
                r.endpoint_configuration.ip_address_type = Some(ip);
                Ok(())
            },
        },
        PatchRule {
            ops: &["add", "remove"],
            path: "/endpointConfiguration/vpcEndpointIds",
            apply: |r, c| {
                let list = r
                    .endpoint_configuration
                    .vpc_endpoint_ids
                    .get_or_insert_with(Vec::new);
                let nv = c.value.unwrap_or_default().to_string();
                if c.op == "add" {
                    list.push(nv);
                } else {
                    list.retain(|x| *x != nv);
                }
                Ok(())
            },
        },
    ],
    replace_only: &REPLACE_ONLY,
    no_match: NoMatch::InvalidPath,
};

/// `/binaryMediaTypes/{type}`: `replace` swaps the type for the value.
fn patch_binary_media_type(r: &mut RestApi, c: &Change<'_, ()>) -> ApiResult<()> {
    let ty = c.param(0).to_string();
    match c.op {
        "add" => {
            if !r.binary_media_types.contains(&ty) {
                r.binary_media_types.push(ty)
            }
        }
        "remove" => r.binary_media_types.retain(|t| *t != ty),
        _ => {
            r.binary_media_types.retain(|t| *t != ty);
            if let Some(nv) = c.value.filter(|s| !s.is_empty()) {
                r.binary_media_types.push(nv.to_string());
            }
        }
    }
    Ok(())
}

pub async fn update(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let ops = PatchBody::parse(&body, "updateRestApiInput")?;
    let out = ctx
        .store
        .transact(|s| {
            let a = def_mut(api_mut(s, &id)?);
            let r = &mut a.api;
            REST_API_PATCH.apply(r, &(), &ops)?;
            Ok::<_, ApiError>(r.clone())
        })
        .await?;
    // UpdateRestApi always answers `tags` (`{}` when none), unlike Create and Get
    // (recorded: test_update_rest_api_operation_add_remove).
    let mut v = serde_json::to_value(&out).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.entry("tags").or_insert_with(|| serde_json::json!({}));
    }
    Ok(json(200, &v))
}

pub async fn delete(State(ctx): State<Ctx>, Path(id): Path<String>) -> ApiResult<Response> {
    ctx.store
        .transact(|s| {
            s.apis.remove(&id).ok_or_else(|| ApiError::no_api(&id))?;
            super::shared::unlink_stage(s, &id, None);
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(202))
}
