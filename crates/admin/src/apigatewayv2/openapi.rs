//! ImportApi (`PUT /v2/apis`), ReimportApi (`PUT /v2/apis/{id}`) and ExportApi
//! (`GET /v2/apis/{id}/exports/OAS30`) for HTTP APIs, on `tollgate-openapi`'s HTTP layer.
//! An import is checked as the single-entity calls check it, inside one transaction.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue};
use serde::{Deserialize, Serialize};
use tollgate_model::v2::{self, Api, Definition};
use tollgate_model::{time, IpAddressType, ProtocolType};
use tollgate_openapi::http::{self as oas, HttpExportOptions, HttpImport};
use tollgate_store::V2ApiState;

use super::shared::{api, api_mut, auto_deploy, check_route_key, check_tags, def_mut, ApiView};
use crate::apigateway::openapi_import::{api_name, basepath, fail_on_warnings, import_error};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::tags::new_api_id;
use crate::core::util::{json, parse_body, Query as Q};
use crate::core::wire::Wire;

#[derive(Deserialize)]
struct ImportInput {
    body: Option<String>,
}

/// The API with the import's warnings.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Imported<'a> {
    #[serde(flatten)]
    api: ApiView<'a>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
}

impl Wire for Imported<'_> {
    type Shape<'a>
        = &'a Self
    where
        Self: 'a;

    fn to_wire(&self) -> &Self {
        self
    }
}

/// ImportApi's and ReimportApi's answer: 201 and the API with the warnings.
fn answer(ctx: &Ctx, api: &Api, warnings: &[String]) -> Response {
    let view = Imported {
        api: ApiView::new(ctx, api),
        warnings,
    };
    json(201, &view)
}

fn read(q: &Q, body: &[u8]) -> ApiResult<HttpImport> {
    let input: ImportInput = parse_body(body)?;
    let doc = input
        .body
        .ok_or_else(|| ApiError::bad_request("Body is required"))?;
    let import = oas::read(doc.as_bytes(), basepath(q)?).map_err(import_error)?;
    // camelCase here, unlike REST's `failonwarnings`.
    fail_on_warnings(q, "failOnWarnings", &import.warnings)?;
    check_tags(&import.tags)?;
    Ok(import)
}

/// OpenAPI definitions describe HTTP APIs only: a WebSocket API is neither reimported (which
/// would replace its routes) nor exported.
fn http_only(api: &Api, what: &str) -> ApiResult<()> {
    if api.protocol_type == ProtocolType::Http {
        return Ok(());
    }
    Err(ApiError::bad_request(format!(
        "WebSocket APIs cannot be {what} as OpenAPI definitions"
    )))
}

/// The checks CreateRoute, CreateIntegration, CreateAuthorizer and UpdateApi make.
fn check(def: &mut Definition) -> ApiResult<()> {
    if let Some(c) = &def.api.cors_configuration {
        super::apis::check_cors(c)?;
    }
    // The quotas CreateRoute and CreateAuthorizer keep hold for imports too.
    if def.routes.len() > super::routes::MAX_ROUTES {
        return Err(super::routes::routes_limit());
    }
    let max_authorizers = super::authorizers::MAX_AUTHORIZERS;
    if def.authorizers.len() > max_authorizers {
        return Err(ApiError::limit_exceeded(format!(
            "An API may have at most {max_authorizers} authorizers"
        )));
    }
    for a in def.authorizers.values() {
        super::authorizers::check(a)?;
    }
    for i in def.integrations.values() {
        super::integration_input::check(i)?;
    }
    let snapshot = def.clone();
    for r in def.routes.values_mut() {
        check_route_key(&r.route_key)?;
        let given = r.authorizer_id.is_some();
        super::routes::check_authorization(r, &snapshot, given)?;
    }
    Ok(())
}

pub async fn import(
    State(ctx): State<Ctx>,
    Query(q): Query<Q>,
    body: Bytes,
) -> ApiResult<Response> {
    let import = read(&q, &body)?;
    let name = api_name(&import.info)?;
    let out = ctx
        .store
        .transact(|s| {
            let id = new_api_id(s, &import.tags, "ApiId")?;
            let api = Api {
                api_id: id.clone(),
                name: name.clone(),
                protocol_type: ProtocolType::Http,
                route_selection_expression: v2::HTTP_ROUTE_SELECTION.into(),
                api_key_selection_expression: v2::API_KEY_SELECTION.into(),
                cors_configuration: None,
                created_date: time::now_iso8601(),
                description: None,
                version: None,
                disable_execute_api_endpoint: false,
                ip_address_type: IpAddressType::Ipv4,
                tags: Default::default(),
            };
            let mut def = Definition::new(api);
            oas::apply(&mut def, &import).map_err(import_error)?;
            check(&mut def)?;
            let api = def.api.clone();
            s.v2_apis.insert(id, Arc::new(V2ApiState::new(def)));
            Ok::<_, ApiError>(api)
        })
        .await?;
    Ok(answer(&ctx, &out, &import.warnings))
}

pub async fn reimport(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
    Query(q): Query<Q>,
    body: Bytes,
) -> ApiResult<Response> {
    let import = read(&q, &body)?;
    let out = ctx
        .store
        .transact(|s| {
            let a = api_mut(s, &id)?;
            http_only(&a.definition.api, "reimported")?;
            let def = def_mut(a);
            oas::apply(def, &import).map_err(import_error)?;
            check(def)?;
            let api = def.api.clone();
            auto_deploy(a);
            Ok::<_, ApiError>(api)
        })
        .await?;
    Ok(answer(&ctx, &out, &import.warnings))
}

pub async fn export(
    State(ctx): State<Ctx>,
    Path((id, specification)): Path<(String, String)>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    if specification != "OAS30" {
        return Err(ApiError::bad_request(format!(
            "Invalid specification: {specification}. Must be OAS30"
        )));
    }
    let yaml = match q.get("outputType").map(String::as_str) {
        Some("JSON") => false,
        Some("YAML") => true,
        _ => {
            return Err(ApiError::bad_request(
                "outputType is required and must be one of [JSON, YAML]",
            ))
        }
    };
    if let Some(v) = q.get("exportVersion").filter(|v| *v != "1.0") {
        return Err(ApiError::bad_request(format!(
            "Invalid exportVersion: {v}. Must be 1.0"
        )));
    }
    let include_extensions = q
        .get("includeExtensions")
        .is_none_or(|v| !v.eq_ignore_ascii_case("false"));
    let st = ctx.store.state();
    let a = api(&st, &id)?;
    http_only(&a.definition.api, "exported")?;
    let stage = q.get("stageName");
    let def = match stage {
        Some(name) => {
            let stage = a
                .stages
                .get(name)
                .ok_or_else(|| super::shared::not_found("Stage", name))?;
            let deployment = stage
                .deployment_id
                .as_ref()
                .and_then(|d| a.deployments.get(d))
                .ok_or_else(|| {
                    ApiError::bad_request(format!("Stage {name} has no deployment to export"))
                })?;
            deployment.snapshot.clone()
        }
        None => a.definition.clone(),
    };
    let endpoint = ctx.api_endpoint(&id);
    let doc = oas::export(
        &def,
        &HttpExportOptions {
            endpoint: &endpoint,
            stage: stage.map(String::as_str),
            default_version: &def.api.created_date,
            include_extensions,
        },
    );
    let (body, content_type) = if yaml {
        (tollgate_openapi::to_yaml(&doc), "application/yaml")
    } else {
        (
            serde_json::to_string_pretty(&doc).unwrap_or_default(),
            "application/json",
        )
    };
    let mut resp = body.into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(resp)
}
