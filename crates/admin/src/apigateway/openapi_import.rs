//! ImportRestApi (`POST /restapis?mode=import`) and PutRestApi (`PUT /restapis/{id}`):
//! the raw body is an OpenAPI document, read by `tollgate-openapi`, laid onto a new API
//! or an existing one inside one store transaction, so a refused import writes nothing.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Serialize;
use tollgate_model::{
    ids, time, ApiKeySourceType, EndpointConfiguration, RestApi, RestApiDefinition,
};
use tollgate_openapi::rest::{self, BasePath, ImportError, ImportOptions, Mode, RestImport};
use tollgate_store::ApiState;

use super::documentation_parts::{lay_parts, PartsMode};
use super::integrations::check_integration;
use super::rest_apis::{check_policy, endpoint_from_types};
use super::shared::{api_mut, def_mut};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::tags::new_api_id;
use crate::core::util::{json, Query as Q};
use crate::core::wire::Wire;

/// The API with the import's warnings, as ImportRestApi and PutRestApi answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Imported {
    #[serde(flatten)]
    api: RestApi,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

impl Wire for Imported {
    type Shape<'a> = &'a Imported;

    fn to_wire(&self) -> &Imported {
        self
    }
}

/// AWS's answer to a refused import; the parser's detail goes to the log.
pub fn import_error(e: ImportError) -> ApiError {
    if let ImportError::Invalid(detail) = &e {
        tracing::info!(%detail, "OpenAPI import refused");
    }
    ApiError::bad_request(e.to_string())
}

fn flag(q: &Q, name: &str) -> bool {
    q.get(name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The `basepath` parameter of every import call (REST and HTTP APIs).
pub fn basepath(q: &Q) -> ApiResult<BasePath> {
    match q.get("basepath") {
        None => Ok(BasePath::Ignore),
        Some(b) => BasePath::parse(b).ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid basepath parameter value: {b}. Must be one of [ignore, prepend, split]"
            ))
        }),
    }
}

/// Refuses an import with warnings when the call's `flag` parameter asks so.
pub fn fail_on_warnings(q: &Q, flag_name: &str, warnings: &[String]) -> ApiResult<()> {
    if flag(q, flag_name) && !warnings.is_empty() {
        return Err(import_error(ImportError::Warnings(warnings.to_vec())));
    }
    Ok(())
}

/// Reads the document and the query's import options. With `ignore=documentation` the
/// document's documentation parts (and their warnings) are dropped.
fn read(q: &Q, body: &[u8]) -> ApiResult<RestImport> {
    let options = ImportOptions {
        basepath: basepath(q)?,
    };
    let mut import = rest::read(body, options).map_err(import_error)?;
    let doc_warnings = std::mem::take(&mut import.documentation_warnings);
    if q.get("ignore").is_some_and(|i| i == "documentation") {
        import.documentation = Default::default();
    } else {
        import.warnings.extend(doc_warnings);
    }
    fail_on_warnings(q, "failonwarnings", &import.warnings)?;
    Ok(import)
}

/// What every imported API must satisfy beyond the document's shape.
fn check(def: &mut RestApiDefinition) -> ApiResult<()> {
    check_policy(def.api.policy.as_deref())?;
    // The quotas CreateResource and CreateAuthorizer keep hold for imports too.
    let max_resources = super::resources::MAX_RESOURCES;
    if def.resources.len() > max_resources {
        return Err(ApiError::limit_exceeded(format!(
            "Maximum number of Resources for this API has been reached: {max_resources}"
        )));
    }
    let max_authorizers = super::authorizers::MAX_AUTHORIZERS;
    if def.authorizers.len() > max_authorizers {
        return Err(ApiError::limit_exceeded(format!(
            "Maximum number of Authorizers for this API has been reached: {max_authorizers}"
        )));
    }
    for a in def.authorizers.values_mut() {
        // AWS fills in authType as CreateAuthorizer does.
        if a.auth_type.is_none() {
            a.auth_type = Some(super::authorizers::default_auth_type(a.authorizer_type).into());
        }
        super::authorizers::check(a).map_err(|e| {
            ApiError::bad_request(format!(
                "Errors found during import:\n\tUnable to create authorizer '{}': {}",
                a.name, e.message
            ))
        })?;
    }
    let methods = def.resources.values().flat_map(|r| {
        r.resource_methods
            .values()
            .map(move |m| (r.path.as_str(), m))
    });
    for (path, m) in methods {
        if let Some(i) = &m.method_integration {
            check_integration(i).map_err(|e| {
                ApiError::bad_request(format!(
                    "Errors found during import:\n\tUnable to put integration on '{}' for resource at path '{path}': {}",
                    m.http_method, e.message
                ))
            })?;
        }
    }
    Ok(())
}

/// A new API's name: the document's `info.title`.
pub fn api_name(info: &tollgate_openapi::shared::Info) -> ApiResult<String> {
    info.title.clone().filter(|t| !t.is_empty()).ok_or_else(|| {
        import_error(ImportError::Errors(vec![
            "info.title is required: it names the API".into(),
        ]))
    })
}

/// `POST /restapis`: ImportRestApi with `?mode=import`, else CreateRestApi.
pub async fn create_or_import(
    State(ctx): State<Ctx>,
    Query(q): Query<Q>,
    body: Bytes,
) -> ApiResult<Response> {
    if q.get("mode").is_some_and(|m| m == "import") {
        import(ctx, q, body).await
    } else {
        super::rest_apis::create(ctx, body).await
    }
}

async fn import(ctx: Ctx, q: Q, body: Bytes) -> ApiResult<Response> {
    let import = read(&q, &body)?;
    let name = api_name(&import.info)?;

    let endpoint = match q.get("endpointConfigurationTypes") {
        Some(t) => endpoint_from_types(t)?,
        None => EndpointConfiguration::default(),
    };
    let out = ctx
        .store
        .transact(|s| {
            let id = new_api_id(s, &Default::default(), "RestApiId")?;
            let api = RestApi {
                id: id.clone(),
                name: name.clone(),
                description: None,
                version: None,
                created_date: time::now_epoch(),
                binary_media_types: vec![],
                minimum_compression_size: None,
                api_key_source: ApiKeySourceType::Header,
                endpoint_configuration: endpoint.clone(),
                policy: None,
                tags: Default::default(),
                disable_execute_api_endpoint: false,
                root_resource_id: ids::long_id(),
                security_policy: None,
                endpoint_access_mode: None,
            };
            let mut def = RestApiDefinition::new(api);
            def.created_sequence = Some(s.next_api_sequence());
            rest::apply(&mut def, &import, Mode::Overwrite).map_err(import_error)?;
            check(&mut def)?;
            let api = def.api.clone();
            let mut a = ApiState::new(def);
            lay_parts(&mut a, &import.documentation.parts, PartsMode::Overwrite);
            s.apis.insert(id, Arc::new(a));
            Ok::<_, ApiError>(api)
        })
        .await?;
    let out = Imported {
        api: out,
        warnings: import.warnings,
    };
    Ok(json(201, &out))
}

pub async fn put(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
    Query(q): Query<Q>,
    body: Bytes,
) -> ApiResult<Response> {
    let mode = match q.get("mode") {
        None => Mode::Merge,
        Some(m) => Mode::parse(m).ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid mode parameter value: {m}. Must be one of [merge, overwrite]"
            ))
        })?,
    };
    let import = read(&q, &body)?;
    let out = ctx
        .store
        .transact(|s| {
            let a = api_mut(s, &id)?;
            let def = def_mut(a);
            rest::apply(def, &import, mode).map_err(import_error)?;
            check(def)?;
            let out = def.api.clone();
            let parts_mode = match mode {
                Mode::Merge => PartsMode::Merge,
                Mode::Overwrite => PartsMode::Overwrite,
            };
            // A merge without documentation leaves the API's parts as they are.
            if parts_mode == PartsMode::Overwrite || !import.documentation.parts.is_empty() {
                lay_parts(a, &import.documentation.parts, parts_mode);
            }
            Ok::<_, ApiError>(out)
        })
        .await?;
    let out = Imported {
        api: out,
        warnings: import.warnings,
    };
    Ok(json(200, &out))
}
