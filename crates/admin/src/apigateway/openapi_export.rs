//! GetExport (`GET /restapis/{id}/stages/{stage}/exports/{oas30|swagger}`): the stage's
//! deployed definition as an OpenAPI document, JSON or YAML by `Accept`.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, HeaderValue};
use tollgate_model::{time, Stage};
use tollgate_openapi::rest::{self, ExportOptions, Extensions};
use tollgate_openapi::{documentation, Flavor};
use tollgate_store::ApiState;

use super::shared::api;
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::util::Query as Q;

/// JSON or YAML, as the `Accept` header asks (JSON unless YAML is named).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Json,
    Yaml,
}

impl Output {
    pub fn from_accept(headers: &HeaderMap) -> Self {
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if accept.contains("yaml") {
            Output::Yaml
        } else {
            Output::Json
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Output::Json => "json",
            Output::Yaml => "yaml",
        }
    }

    pub fn render(self, doc: &serde_json::Value) -> String {
        match self {
            // AWS's layout (Jackson's pretty printer), so exports diff cleanly with AWS's.
            Output::Json => tollgate_openapi::to_aws_json(doc),
            Output::Yaml => tollgate_openapi::to_yaml(doc),
        }
    }
}

pub async fn get(
    State(ctx): State<Ctx>,
    Path((api_id, stage_name, export_type)): Path<(String, String, String)>,
    Query(q): Query<Q>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let flavor = match export_type.as_str() {
        "oas30" => Flavor::Oas3,
        "swagger" => Flavor::Swagger2,
        other => {
            return Err(ApiError::bad_request(format!(
                "Invalid export type specified: {other}. Must be one of [oas30, swagger]"
            )))
        }
    };
    let extensions = match q.get("extensions") {
        Some(list) => Extensions::parse(list).map_err(|e| {
            ApiError::bad_request(format!(
                "Invalid extensions specified: {e}. Must be a comma-separated list of [integrations, authorizers, apigateway, documentation, postman]"
            ))
        })?,
        None => Extensions::default(),
    };
    let st = ctx.store.state();
    let a = api(&st, &api_id)?;
    let stage = a.stages.get(&stage_name).ok_or_else(ApiError::no_stage)?;
    let deployment = a
        .deployments
        .get(&stage.deployment_id)
        .ok_or_else(ApiError::no_deployment)?;
    let def = &deployment.snapshot;
    // AWS names the export by the API's version, else by the deployment's date.
    let version = def
        .api
        .version
        .clone()
        .unwrap_or_else(|| time::iso8601(deployment.created_date));
    let mut doc = rest::export(
        def,
        &ExportOptions {
            flavor,
            api_id: &api_id,
            region: &ctx.region,
            stage: &stage_name,
            version: &version,
            extensions,
        },
    );
    if extensions.documentation || extensions.apigateway {
        add_documentation(&mut doc, a, stage);
    }
    let output = Output::from_accept(&headers);
    let body = output.render(&doc);
    // JSON comes back as `application/octet-stream`, as recorded on AWS.
    let content_type = match output {
        Output::Json => "application/octet-stream",
        Output::Yaml => "application/yaml",
    };
    let disposition = format!(
        "attachment; filename=\"{export_type}_{version}.{}\"",
        output.extension()
    );
    let mut resp = body.into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// `x-amazon-apigateway-documentation` from the version the stage shows, as AWS exports
/// documentation: only for a stage with a documentation version, and the parts as that
/// version froze them.
fn add_documentation(doc: &mut serde_json::Value, a: &ApiState, stage: &Stage) {
    let Some(version) = stage
        .documentation_version
        .as_ref()
        .and_then(|v| a.documentation_versions.get(v))
    else {
        return;
    };
    let parts: Vec<_> = version.parts.iter().collect();
    if let Some(root) = doc.as_object_mut() {
        root.insert(
            documentation::EXTENSION.into(),
            documentation::write(&version.version, &parts),
        );
    }
}
