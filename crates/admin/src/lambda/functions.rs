//! CreateFunction, GetFunction, GetFunctionConfiguration, ListFunctions, UpdateFunctionCode,
//! UpdateFunctionConfiguration, DeleteFunction, and the reserved-concurrency operations.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use base64::Engine;
use serde::Deserialize;
use serde_json::json;
use tollgate_model::lambda::{
    function_arn, last_modified, EnvironmentResponse, EphemeralStorage, Function,
    FunctionConfiguration, LoggingConfig, Resolved, RuntimeFamily, TracingConfig, MAX_ZIPPED_CODE,
};
use tollgate_model::{
    Architecture, FunctionState, LastUpdateStatus, LogFormat, PackageType, Runtime, TracingMode,
};

use super::shared::{
    constraint, engine, function, function_mut, function_ref, invalid_parameter, not_found,
    qualifier, revision_id,
};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::util::{empty, json, parse_body, Query as Q};

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct CodeInput {
    zip_file: Option<String>,
    s3_bucket: Option<String>,
    image_uri: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct EnvironmentInput {
    variables: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateFunctionInput {
    function_name: Option<String>,
    runtime: Option<String>,
    role: Option<String>,
    handler: Option<String>,
    code: Option<CodeInput>,
    description: Option<String>,
    timeout: Option<i64>,
    memory_size: Option<i64>,
    publish: Option<bool>,
    environment: Option<EnvironmentInput>,
    package_type: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    architectures: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateConfigurationInput {
    runtime: Option<String>,
    role: Option<String>,
    handler: Option<String>,
    description: Option<String>,
    timeout: Option<i64>,
    memory_size: Option<i64>,
    environment: Option<EnvironmentInput>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    revision_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateCodeInput {
    zip_file: Option<String>,
    s3_bucket: Option<String>,
    image_uri: Option<String>,
    publish: Option<bool>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    revision_id: Option<String>,
}

fn check_timeout(t: i64) -> ApiResult<u32> {
    if t < 1 {
        return Err(constraint(
            t,
            "timeout",
            "Member must have value greater than or equal to 1",
        ));
    }
    if t > 900 {
        return Err(constraint(
            t,
            "timeout",
            "Member must have value less than or equal to 900",
        ));
    }
    Ok(t as u32)
}

fn check_memory(m: i64) -> ApiResult<u32> {
    if m < 128 {
        return Err(constraint(
            m,
            "memorySize",
            "Member must have value greater than or equal to 128",
        ));
    }
    if m > 10240 {
        return Err(constraint(
            m,
            "memorySize",
            "Member must have value less than or equal to 10240",
        ));
    }
    Ok(m as u32)
}

fn check_role(role: &str) -> ApiResult<()> {
    let ok = role
        .strip_prefix("arn:aws:iam::")
        .and_then(|r| r.split_once(":role/"))
        .is_some_and(|(acct, name)| {
            acct.len() == 12 && acct.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty()
        });
    if ok {
        Ok(())
    } else {
        Err(constraint(
            role,
            "role",
            "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
        ))
    }
}

async fn check_runtime(ctx: &Ctx, runtime: &str) -> ApiResult<Runtime> {
    let runtime: Runtime = runtime.parse().map_err(|_| {
        invalid_parameter(format!(
            "The runtime parameter of {runtime} is not supported by Tollgate. Supported runtimes: {}",
            Runtime::SPELLINGS.join(", ")
        ))
    })?;
    if let Some(why) = engine(ctx)?.runtime_unavailable(runtime).await {
        return Err(invalid_parameter(why.to_string()));
    }
    Ok(runtime)
}

/// `Architectures`: exactly one member of AWS's enum (x86_64 when absent). Either runs on
/// this machine's own architecture: workers are local processes.
fn check_architectures(list: Option<&[String]>) -> ApiResult<Vec<Architecture>> {
    let Some(list) = list else {
        return Ok(vec![Architecture::X86_64]);
    };
    let parsed: Option<Vec<Architecture>> = list.iter().map(|a| a.parse().ok()).collect();
    match parsed {
        Some(arch) if arch.len() == 1 => Ok(arch),
        _ => Err(constraint(
            format!("[{}]", list.join(", ")),
            "architectures",
            "Member must have length less than or equal to 1, Member must have length greater than or equal to 1, Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]",
        )),
    }
}

fn check_handler(runtime: Runtime, handler: &str) -> ApiResult<()> {
    if handler.len() > 128 || handler.chars().any(|c| c.is_whitespace()) {
        return Err(constraint(
            handler,
            "handler",
            "Member must satisfy regular expression pattern: [^\\s]+",
        ));
    }
    if runtime.family() != RuntimeFamily::Provided && handler.is_empty() {
        return Err(invalid_parameter(format!(
            "Handler is required for runtime {runtime}"
        )));
    }
    Ok(())
}

fn check_environment(vars: &BTreeMap<String, String>) -> ApiResult<()> {
    let size: usize = vars.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > 4096 {
        return Err(invalid_parameter(
            "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit.",
        ));
    }
    for k in vars.keys() {
        let valid = k.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(constraint(
                k,
                "environment.variables",
                "Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+",
            ));
        }
    }
    Ok(())
}

/// Decodes and unpacks an uploaded zip (off the async threads).
async fn install_zip(
    ctx: &Ctx,
    zip_b64: Option<&str>,
    s3: bool,
    image: bool,
) -> ApiResult<tollgate_functions::code::CodePackage> {
    if s3 || image {
        return Err(invalid_parameter(
            "Tollgate accepts deployment packages as ZipFile only (S3 locations and images are not available).",
        ));
    }
    let Some(b64) = zip_b64 else {
        return Err(invalid_parameter(
            "Please provide a source for function code.",
        ));
    };
    let zip = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| {
            invalid_parameter(
                "Could not unzip uploaded file. Please check your file, then try to upload again.",
            )
        })?;
    if zip.len() > MAX_ZIPPED_CODE {
        return Err(ApiError::new(
            413,
            "RequestEntityTooLargeException",
            format!("Request must be smaller than {MAX_ZIPPED_CODE} bytes for the CreateFunction operation"),
        ));
    }
    let root = engine(ctx)?.code_root().to_path_buf();
    let zip = bytes::Bytes::from(zip);
    let unpacked = zip.clone();
    let package =
        tokio::task::spawn_blocking(move || tollgate_functions::code::install(&root, &unpacked))
            .await
            .map_err(|_| ApiError::new(500, "ServiceException", "unpacking failed"))?
            .map_err(|e| match e {
                tollgate_functions::code::CodeError::Io(m) => {
                    tracing::error!(error = %m, "cannot store a code package");
                    ApiError::new(
                        500,
                        "ServiceException",
                        "Tollgate could not store the code package",
                    )
                }
                other => invalid_parameter(other.to_string()),
            })?;
    // Kept in the store too (a cluster's other nodes unpack it from there), before the
    // function that runs it is committed.
    let hex = tollgate_functions::code::sha256_hex(&package.sha256);
    ctx.store.put_code(hex, zip).await?;
    Ok(package)
}

fn now() -> String {
    last_modified(tollgate_model::time::now_epoch_millis())
}

pub async fn create(State(ctx): State<Ctx>, body: Bytes) -> ApiResult<Response> {
    let input: CreateFunctionInput = parse_body(&body)?;
    let name = input.function_name.clone().unwrap_or_default();
    let r = function_ref(&name)?;
    if r.qualifier.is_some() {
        return Err(invalid_parameter(
            "FunctionName must not contain a qualifier when creating a function",
        ));
    }
    if input
        .package_type
        .as_deref()
        .is_some_and(|p| p.parse() != Ok(PackageType::Zip))
    {
        return Err(invalid_parameter(
            "Tollgate runs Zip packages only (PackageType Zip).",
        ));
    }
    let runtime = input
        .runtime
        .as_deref()
        .ok_or_else(|| invalid_parameter("Runtime is required for Zip package types."))?;
    let runtime = check_runtime(&ctx, runtime).await?;
    let architectures = check_architectures(input.architectures.as_deref())?;
    let role = input.role.clone().unwrap_or_default();
    check_role(&role)?;
    let handler = input.handler.clone().unwrap_or_default();
    check_handler(runtime, &handler)?;
    let timeout = check_timeout(input.timeout.unwrap_or(3))?;
    let memory_size = check_memory(input.memory_size.unwrap_or(128))?;
    let variables = input.environment.as_ref().and_then(|e| e.variables.clone());
    if let Some(v) = &variables {
        check_environment(v)?;
    }
    if ctx.store.state().functions.contains_key(&r.name) {
        return Err(super::shared::conflict(format!(
            "Function already exist: {}",
            r.name
        )));
    }
    let code = input.code.unwrap_or_default();
    let package = install_zip(
        &ctx,
        code.zip_file.as_deref(),
        code.s3_bucket.is_some(),
        code.image_uri.is_some(),
    )
    .await?;
    let arn = function_arn(&ctx.region, &r.name);
    let latest = FunctionConfiguration {
        function_name: r.name.clone(),
        function_arn: arn,
        runtime,
        role,
        handler,
        code_size: package.size,
        description: input.description.unwrap_or_default(),
        timeout,
        memory_size,
        last_modified: now(),
        code_sha256: package.sha256,
        version: "$LATEST".into(),
        environment: variables.map(|variables| EnvironmentResponse { variables }),
        tracing_config: TracingConfig {
            mode: TracingMode::PassThrough,
        },
        revision_id: revision_id(),
        state: FunctionState::Active,
        last_update_status: LastUpdateStatus::Successful,
        package_type: PackageType::Zip,
        architectures,
        ephemeral_storage: EphemeralStorage { size: 512 },
        logging_config: LoggingConfig {
            log_format: LogFormat::Text,
            log_group: format!("/aws/lambda/{}", r.name),
        },
    };
    let publish = input.publish.unwrap_or(false);
    let out = ctx
        .store
        .transact(|s| {
            let map = Arc::make_mut(&mut s.functions);
            if map.contains_key(&r.name) {
                return Err(super::shared::conflict(format!(
                    "Function already exist: {}",
                    r.name
                )));
            }
            let mut f = Function {
                latest: latest.clone(),
                versions: BTreeMap::new(),
                last_version: 0,
                aliases: BTreeMap::new(),
                policy: Vec::new(),
                policy_revision_id: String::new(),
                reserved_concurrency: None,
                tags: input.tags.clone().unwrap_or_default(),
                url_configs: BTreeMap::new(),
            };
            let shown = if publish {
                super::versions::publish_latest(&mut f, None)
            } else {
                latest.clone()
            };
            map.insert(r.name.clone(), Arc::new(f));
            Ok::<_, ApiError>(shown)
        })
        .await?;
    Ok(json(201, &out))
}

fn configuration_of(
    ctx: &Ctx,
    raw: &str,
    q: &Q,
) -> ApiResult<(FunctionConfiguration, Arc<Function>)> {
    let r = function_ref(raw)?;
    let qual = qualifier(&r, q)?;
    let state = ctx.store.state();
    let f = function(&state, &ctx.region, &r)?.clone();
    let resolved = f.resolve(qual.as_deref()).ok_or_else(|| {
        let mut r = r.clone();
        r.qualifier = qual.clone();
        not_found(format!(
            "Function not found: {}",
            super::shared::arn_of(&ctx.region, &r)
        ))
    })?;
    let mut c = f.configuration(&resolved).clone();
    // Through an alias, the ARN names the alias (as Lambda shows it).
    if let Some(q) = qual.filter(|q| f.aliases.contains_key(q)) {
        c.function_arn = format!("{}:{q}", function_arn(&ctx.region, &f.latest.function_name));
    } else if let Resolved::Version(n) = resolved {
        c.function_arn = format!("{}:{n}", function_arn(&ctx.region, &f.latest.function_name));
    }
    Ok((c, f))
}

pub async fn get(
    State(ctx): State<Ctx>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    let (c, f) = configuration_of(&ctx, &raw, &q)?;
    let mut out = json!({
        "Configuration": c,
        "Code": {"RepositoryType": "S3", "Location": format!("file://{}", tollgate_functions::code::code_dir(engine(&ctx)?.code_root(), &c.code_sha256).display())},
    });
    if !f.tags.is_empty() {
        out["Tags"] = json!(f.tags);
    }
    if let Some(n) = f.reserved_concurrency {
        out["Concurrency"] = json!({"ReservedConcurrentExecutions": n});
    }
    Ok(json(200, &out))
}

pub async fn get_configuration(
    State(ctx): State<Ctx>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    let (c, _) = configuration_of(&ctx, &raw, &q)?;
    Ok(json(200, &c))
}

pub async fn list(State(ctx): State<Ctx>, Query(q): Query<Q>) -> ApiResult<Response> {
    let state = ctx.store.state();
    let all_versions = q.get("FunctionVersion").is_some_and(|v| v == "ALL");
    let mut items: Vec<&FunctionConfiguration> = Vec::new();
    for f in state.functions.values() {
        items.push(&f.latest);
        if all_versions {
            items.extend(f.versions.values());
        }
    }
    let max = match q.get("MaxItems") {
        None => 50,
        Some(m) => match m.parse::<usize>() {
            Ok(n) if (1..=10_000).contains(&n) => n,
            _ => {
                return Err(constraint(
                    m,
                    "maxItems",
                    "Member must have value greater than or equal to 1",
                ))
            }
        },
    };
    // The marker is the position of the next item, as an opaque string.
    let start = q
        .get("Marker")
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(0);
    let page: Vec<_> = items.iter().skip(start).take(max).collect();
    let mut out = json!({ "Functions": page });
    if start + max < items.len() {
        out["NextMarker"] = json!((start + max).to_string());
    }
    Ok(json(200, &out))
}

pub async fn delete(
    State(ctx): State<Ctx>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    let r = function_ref(&raw)?;
    let qual = qualifier(&r, &q)?;
    ctx.store
        .transact(|s| {
            let f = function(s, &ctx.region, &r)?;
            match qual.as_deref() {
                None => {
                    Arc::make_mut(&mut s.functions).remove(&r.name);
                }
                Some("$LATEST") => {
                    return Err(invalid_parameter(
                        "$LATEST version cannot be deleted without deleting the function.",
                    ))
                }
                Some(v) => {
                    let n: u64 = v.parse().map_err(|_| {
                        invalid_parameter(
                        "Deletion of aliases is not supported by DeleteFunction; use DeleteAlias.",
                    )
                    })?;
                    if !f.versions.contains_key(&n) {
                        return Err(not_found(format!(
                            "Function not found: {}",
                            super::shared::arn_of(&ctx.region, &{
                                let mut r = r.clone();
                                r.qualifier = Some(v.to_string());
                                r
                            })
                        )));
                    }
                    if let Some(a) = f.aliases.values().find(|a| a.function_version == v) {
                        return Err(super::shared::conflict(format!(
                        "Unable to delete version because the following aliases reference it: [{}]",
                        a.name
                    )));
                    }
                    function_mut(s, &ctx.region, &r)?.versions.remove(&n);
                }
            }
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(204))
}

fn check_revision(expected: Option<&str>, current: &str) -> ApiResult<()> {
    match expected {
        Some(e) if e != current => Err(super::shared::precondition_failed()),
        _ => Ok(()),
    }
}

pub async fn update_configuration(
    State(ctx): State<Ctx>,
    Path(raw): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: UpdateConfigurationInput = parse_body(&body)?;
    let r = function_ref(&raw)?;
    let runtime = match &input.runtime {
        Some(rt) => Some(check_runtime(&ctx, rt).await?),
        None => None,
    };
    if let Some(role) = &input.role {
        check_role(role)?;
    }
    let timeout = input.timeout.map(check_timeout).transpose()?;
    let memory = input.memory_size.map(check_memory).transpose()?;
    let variables = input
        .environment
        .as_ref()
        .map(|e| e.variables.clone().unwrap_or_default());
    if let Some(v) = &variables {
        check_environment(v)?;
    }
    let out = ctx
        .store
        .transact(|s| {
            let f = function_mut(s, &ctx.region, &r)?;
            check_revision(input.revision_id.as_deref(), &f.latest.revision_id)?;
            let c = &mut f.latest;
            if let Some(rt) = runtime {
                c.runtime = rt;
            }
            if let Some(h) = &input.handler {
                c.handler = h.clone();
            }
            check_handler(c.runtime, &c.handler)?;
            if let Some(role) = &input.role {
                c.role = role.clone();
            }
            if let Some(d) = &input.description {
                c.description = d.clone();
            }
            if let Some(t) = timeout {
                c.timeout = t;
            }
            if let Some(m) = memory {
                c.memory_size = m;
            }
            if let Some(v) = &variables {
                c.environment = Some(EnvironmentResponse {
                    variables: v.clone(),
                });
            }
            c.last_modified = now();
            c.revision_id = revision_id();
            Ok::<_, ApiError>(c.clone())
        })
        .await?;
    Ok(json(200, &out))
}

pub async fn update_code(
    State(ctx): State<Ctx>,
    Path(raw): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: UpdateCodeInput = parse_body(&body)?;
    let r = function_ref(&raw)?;
    function(&ctx.store.state(), &ctx.region, &r)?;
    let package = install_zip(
        &ctx,
        input.zip_file.as_deref(),
        input.s3_bucket.is_some(),
        input.image_uri.is_some(),
    )
    .await?;
    let out = ctx
        .store
        .transact(|s| {
            let f = function_mut(s, &ctx.region, &r)?;
            check_revision(input.revision_id.as_deref(), &f.latest.revision_id)?;
            f.latest.code_sha256 = package.sha256.clone();
            f.latest.code_size = package.size;
            f.latest.last_modified = now();
            f.latest.revision_id = revision_id();
            if input.publish.unwrap_or(false) {
                Ok::<_, ApiError>(super::versions::publish_latest(f, None))
            } else {
                Ok(f.latest.clone())
            }
        })
        .await?;
    Ok(json(200, &out))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConcurrencyInput {
    reserved_concurrent_executions: Option<i64>,
}

pub async fn put_concurrency(
    State(ctx): State<Ctx>,
    Path(raw): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: ConcurrencyInput = parse_body(&body)?;
    let r = function_ref(&raw)?;
    let n = input.reserved_concurrent_executions.ok_or_else(|| {
        constraint(
            "null",
            "reservedConcurrentExecutions",
            "Member must not be null",
        )
    })?;
    if !(0..=1000).contains(&n) {
        return Err(constraint(
            n,
            "reservedConcurrentExecutions",
            "Member must have value less than or equal to 1000",
        ));
    }
    ctx.store
        .transact(|s| {
            function_mut(s, &ctx.region, &r)?.reserved_concurrency = Some(n as u32);
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(json(200, &json!({"ReservedConcurrentExecutions": n})))
}

pub async fn delete_concurrency(
    State(ctx): State<Ctx>,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    let r = function_ref(&raw)?;
    ctx.store
        .transact(|s| {
            function_mut(s, &ctx.region, &r)?.reserved_concurrency = None;
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(204))
}

pub async fn get_concurrency(
    State(ctx): State<Ctx>,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    let r = function_ref(&raw)?;
    let state = ctx.store.state();
    let f = function(&state, &ctx.region, &r)?;
    Ok(json(
        200,
        &match f.reserved_concurrency {
            Some(n) => json!({"ReservedConcurrentExecutions": n}),
            None => json!({}),
        },
    ))
}
