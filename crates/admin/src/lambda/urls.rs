//! Function URLs (`/2021-10-31/functions/{name}/url`): Create, Get, Update, Delete and
//! ListFunctionUrlConfigs. A URL belongs to the unqualified function or to one alias; the
//! data plane serves it at the `FunctionUrl` answered here.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_model::function_url::{FunctionUrlAuthType, FunctionUrlConfig, FunctionUrlCors};
use tollgate_model::lambda::{function_arn, FunctionRef};

use super::shared::{conflict, function, function_mut, function_ref, not_found, qualifier};
use crate::core::context::Ctx;
use crate::core::error::{parse_enum, ApiError, ApiResult};
use crate::core::util::{empty, json, parse_body, Query as Params};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UrlInput {
    auth_type: Option<String>,
    #[serde(default)]
    cors: Option<FunctionUrlCors>,
    invoke_mode: Option<String>,
}

/// The function and the qualifier a call is about (an alias, never a version number).
fn target(ctx: &Ctx, name: &str, q: &Params) -> ApiResult<(FunctionRef, String)> {
    let r = function_ref(name)?;
    let qual = qualifier(&r, q)?;
    if let Some(v) = qual
        .as_deref()
        .filter(|v| v.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{v}' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)"
        )));
    }
    let state = ctx.store.state();
    let f = function(&state, &ctx.region, &r)?;
    let key = qual.unwrap_or_default();
    if !key.is_empty() && key != "$LATEST" && !f.aliases.contains_key(&key) {
        return Err(not_found(format!(
            "Alias not found: {}:{key}",
            function_arn(&ctx.region, &r.name)
        )));
    }
    Ok((r, key))
}

fn arn(ctx: &Ctx, r: &FunctionRef, key: &str) -> String {
    let base = function_arn(&ctx.region, &r.name);
    if key.is_empty() {
        base
    } else {
        format!("{base}:{key}")
    }
}

fn now() -> String {
    let ms = tollgate_model::time::now_epoch_millis();
    let iso = tollgate_model::time::iso8601(ms.div_euclid(1000));
    format!(
        "{}.{:03}000Z",
        iso.trim_end_matches('Z'),
        ms.rem_euclid(1000)
    )
}

/// `AuthType` (required on create), `InvokeMode`, `Cors` checked as Lambda checks them.
fn check(input: &UrlInput, required: bool) -> ApiResult<Option<FunctionUrlAuthType>> {
    let auth = match (&input.auth_type, required) {
        (Some(a), _) => Some(parse_enum::<FunctionUrlAuthType>(a, "authType")?),
        (None, true) => {
            return Err(ApiError::validation(
                "1 validation error detected: Value null at 'authType' failed to satisfy constraint: Member must not be null",
            ))
        }
        (None, false) => None,
    };
    match input.invoke_mode.as_deref() {
        None | Some("BUFFERED") => {}
        // Responses are not streamed: saying so beats buffering what was asked to stream.
        Some("RESPONSE_STREAM") => {
            return Err(super::shared::invalid_parameter(
                "InvokeMode RESPONSE_STREAM is not supported by Tollgate",
            ))
        }
        Some(m) => {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{m}' at 'invokeMode' failed to satisfy constraint: Member must satisfy enum value set: [BUFFERED, RESPONSE_STREAM]"
            )))
        }
    }
    if let Some(age) = input.cors.as_ref().and_then(|c| c.max_age) {
        if age > 86_400 {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{age}' at 'cors.maxAge' failed to satisfy constraint: Member must have value less than or equal to 86400"
            )));
        }
    }
    Ok(auth)
}

fn view(ctx: &Ctx, r: &FunctionRef, key: &str, c: &FunctionUrlConfig, modified: bool) -> Value {
    let mut v = json!({
        "FunctionUrl": ctx.function_url(&c.url_id),
        "FunctionArn": arn(ctx, r, key),
        "AuthType": c.auth_type.as_str(),
        "CreationTime": c.creation_time,
        "InvokeMode": c.invoke_mode,
    });
    if let Some(cors) = &c.cors {
        v["Cors"] = serde_json::to_value(cors).unwrap_or_default();
    }
    if modified {
        v["LastModifiedTime"] = json!(c.last_modified_time);
    }
    v
}

pub async fn create(
    State(ctx): State<Ctx>,
    Path(name): Path<String>,
    Query(q): Query<Params>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: UrlInput = parse_body(&body)?;
    let auth_type = check(&input, true)?.unwrap_or(FunctionUrlAuthType::None);
    let (r, key) = target(&ctx, &name, &q)?;
    let time = now();
    let config = FunctionUrlConfig {
        url_id: tollgate_model::ids::url_id(),
        auth_type,
        cors: input.cors,
        invoke_mode: input.invoke_mode.unwrap_or_else(|| "BUFFERED".into()),
        creation_time: time.clone(),
        last_modified_time: time,
    };
    let function_arn = arn(&ctx, &r, &key);
    ctx.store
        .transact(|s| {
            let f = function_mut(s, &ctx.region, &r)?;
            if f.url_configs.contains_key(&key) {
                return Err(conflict(format!(
                    "Failed to create function url config for [functionArn = {function_arn}]. Error message:  FunctionUrlConfig exists for this Lambda function"
                )));
            }
            f.url_configs.insert(key.clone(), config.clone());
            Ok(())
        })
        .await?;
    Ok(json(201, &view(&ctx, &r, &key, &config, false)))
}

fn no_url() -> ApiError {
    not_found("The resource you requested does not exist.")
}

pub async fn get(
    State(ctx): State<Ctx>,
    Path(name): Path<String>,
    Query(q): Query<Params>,
) -> ApiResult<Response> {
    let (r, key) = target(&ctx, &name, &q)?;
    let state = ctx.store.state();
    let f = function(&state, &ctx.region, &r)?;
    let c = f.url_configs.get(&key).ok_or_else(no_url)?;
    Ok(json(200, &view(&ctx, &r, &key, c, true)))
}

pub async fn update(
    State(ctx): State<Ctx>,
    Path(name): Path<String>,
    Query(q): Query<Params>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: UrlInput = parse_body(&body)?;
    let auth_type = check(&input, false)?;
    let (r, key) = target(&ctx, &name, &q)?;
    let updated = ctx
        .store
        .transact(|s| {
            let f = function_mut(s, &ctx.region, &r)?;
            let c = f.url_configs.get_mut(&key).ok_or_else(no_url)?;
            if let Some(a) = auth_type {
                c.auth_type = a;
            }
            if let Some(cors) = &input.cors {
                c.cors = Some(cors.clone());
            }
            if let Some(m) = &input.invoke_mode {
                c.invoke_mode = m.clone();
            }
            c.last_modified_time = now();
            Ok::<_, ApiError>(c.clone())
        })
        .await?;
    Ok(json(200, &view(&ctx, &r, &key, &updated, true)))
}

pub async fn delete(
    State(ctx): State<Ctx>,
    Path(name): Path<String>,
    Query(q): Query<Params>,
) -> ApiResult<Response> {
    let (r, key) = target(&ctx, &name, &q)?;
    ctx.store
        .transact(|s| {
            let f = function_mut(s, &ctx.region, &r)?;
            f.url_configs.remove(&key).map(|_| ()).ok_or_else(no_url)
        })
        .await?;
    Ok(empty(204))
}

pub async fn list(State(ctx): State<Ctx>, Path(name): Path<String>) -> ApiResult<Response> {
    let r = function_ref(&name)?;
    let state = ctx.store.state();
    let f = function(&state, &ctx.region, &r)?;
    let configs: Vec<Value> = f
        .url_configs
        .iter()
        .map(|(key, c)| view(&ctx, &r, key, c, true))
        .collect();
    Ok(json(200, &json!({"FunctionUrlConfigs": configs})))
}
