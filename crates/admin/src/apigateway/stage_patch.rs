//! UpdateStage's patch paths: the stage's own members, stage variables, access log
//! settings, the canary, and method settings (`/{resourcePath}/{httpMethod}/{setting}`).
//!
//! Rules are tried in order: the named members first, then the catch-alls that give AWS's
//! wording for a wrong path under `accessLogSettings` or `canarySettings`, and last the
//! method settings, whose paths can name any resource.

use tollgate_model::{AccessLogSettings, CacheClusterSize, CanarySettings, MethodSetting, Stage};
use tollgate_store::ApiState;

use super::shared::set_opt;
use crate::core::error::{parse_enum_opt, ApiError, ApiResult};
use crate::core::patch::{invalid_path, patch_bool, patch_f64, patch_i64};
use crate::core::patch_table::{Change, NoMatch, PatchRule, PatchTable};

type StageChange<'a> = Change<'a, ApiState>;

/// Every op but `copy`, which has its own rule.
const NOT_COPY: &[&str] = &["add", "remove", "replace", "move", "test"];
/// Ops that write to a path.
const WRITES: &[&str] = &["add", "replace", "move", "test"];

pub static STAGE_PATCH: PatchTable<Stage, ApiState> = PatchTable {
    rules: &[
        PatchRule {
            ops: &["copy"],
            path: "/**",
            apply: copy_from_canary,
        },
        PatchRule {
            ops: &["replace"],
            path: "/deploymentId",
            apply: |st, c| {
                st.deployment_id = existing_deployment(c)?;
                Ok(())
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/description",
            apply: |st, c| {
                set_opt(&mut st.description, c.value);
                Ok(())
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/clientCertificateId",
            apply: |st, c| {
                set_opt(&mut st.client_certificate_id, c.value);
                Ok(())
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/documentationVersion",
            apply: |st, c| {
                // The stage's exports carry this version's parts: it must exist ("" clears).
                if let Some(v) = c.value.filter(|v| !v.is_empty()) {
                    if !c.ctx.documentation_versions.contains_key(v) {
                        return Err(ApiError::bad_request(format!(
                            "Invalid documentation version specified: {v}"
                        )));
                    }
                }
                set_opt(&mut st.documentation_version, c.value);
                Ok(())
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/cacheClusterEnabled",
            apply: |st, c| {
                enable_cache_cluster(st, patch_bool(c.value));
                Ok(())
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/cacheClusterSize",
            apply: |st, c| {
                st.cache_cluster_size = cache_cluster_size(Some(c.value.unwrap_or_default()))?;
                Ok(())
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/tracingEnabled",
            apply: |st, c| {
                st.tracing_enabled = patch_bool(c.value);
                Ok(())
            },
        },
        PatchRule {
            ops: &["add", "replace"],
            path: "/variables/*",
            apply: put_variable,
        },
        PatchRule {
            ops: &["remove"],
            path: "/variables/*",
            apply: |st, c| {
                st.variables.remove(c.param(0));
                Ok(())
            },
        },
        PatchRule {
            ops: &["remove"],
            path: "/accessLogSettings",
            apply: |st, _| {
                st.access_log_settings = None;
                Ok(())
            },
        },
        PatchRule {
            ops: &["add", "replace"],
            path: "/accessLogSettings/format",
            apply: |st, c| {
                access_log_settings(st).format = Some(access_log_value(c)?);
                Ok(())
            },
        },
        PatchRule {
            ops: &["add", "replace"],
            path: "/accessLogSettings/destinationArn",
            apply: |st, c| {
                access_log_settings(st).destination_arn = Some(access_log_value(c)?);
                Ok(())
            },
        },
        PatchRule {
            ops: WRITES,
            path: "/accessLogSettings",
            apply: |_, _| Err(invalid_access_log_path()),
        },
        PatchRule {
            ops: NOT_COPY,
            path: "/accessLogSettings/**",
            apply: |_, _| Err(invalid_access_log_path()),
        },
        PatchRule {
            ops: &["remove"],
            path: "/canarySettings",
            apply: |st, _| {
                st.canary_settings = None;
                Ok(())
            },
        },
        PatchRule {
            ops: &["add"],
            path: "/canarySettings/deploymentId",
            apply: |_, _| {
                Err(ApiError::bad_request(
                    "Invalid add operation with path: /canarySettings/deploymentId",
                ))
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/canarySettings/deploymentId",
            apply: |st, c| {
                let d = existing_deployment(c)?;
                canary_or_new(st).deployment_id = Some(d);
                Ok(())
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/canarySettings/percentTraffic",
            apply: |st, c| {
                let p = patch_f64(c.value, c.path)?;
                if !(0.0..=100.0).contains(&p) {
                    return Err(ApiError::bad_request(
                        "Canary weight must be between 0.0 and 100.0",
                    ));
                }
                canary_or_new(st).percent_traffic = Some(p);
                Ok(())
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/canarySettings/useStageCache",
            apply: |st, c| {
                let canary = canary(st)?;
                canary.use_stage_cache = patch_bool(c.value);
                Ok(())
            },
        },
        PatchRule {
            ops: &["add", "replace"],
            path: "/canarySettings/stageVariableOverrides/*",
            apply: |st, c| {
                let canary = canary(st)?;
                let value = c.value.unwrap_or_default().to_string();
                tollgate_model::validate::stage_variable(c.param(0), &value)
                    .map_err(ApiError::bad_request)?;
                canary
                    .stage_variable_overrides
                    .insert(c.param(0).to_string(), value);
                Ok(())
            },
        },
        PatchRule {
            ops: &["remove"],
            path: "/canarySettings/stageVariableOverrides/*",
            apply: |st, c| {
                canary(st)?.stage_variable_overrides.remove(c.param(0));
                Ok(())
            },
        },
        // Any other path under the canary: AWS names a missing canary before the path.
        PatchRule {
            ops: WRITES,
            path: "/canarySettings",
            apply: |st, c| {
                canary(st)?;
                Err(invalid_stage_path(c.path, c.op))
            },
        },
        // (A `remove` of any other path under the canary is read as a method setting's,
        // below, with AWS's recorded "Cannot remove method setting canarySettings/..." answer.)
        PatchRule {
            ops: WRITES,
            path: "/canarySettings/**",
            apply: |st, c| {
                canary(st)?;
                Err(invalid_stage_path(c.path, c.op))
            },
        },
        PatchRule {
            ops: &["add", "replace"],
            path: "/**",
            apply: put_method_setting,
        },
        PatchRule {
            ops: &["remove"],
            path: "/**",
            apply: remove_method_setting,
        },
    ],
    replace_only: &[],
    no_match: NoMatch::Custom(invalid_stage_path),
};

/// `cacheClusterSize` (CreateStage, CreateDeployment, UpdateStage).
pub fn cache_cluster_size(size: Option<&str>) -> ApiResult<Option<CacheClusterSize>> {
    parse_enum_opt(size, "cacheClusterSize")
}

/// Turns the stage's cache on or off (its status goes `CREATE_IN_PROGRESS` or
/// `DELETE_IN_PROGRESS` until the data plane has made or dropped the cache).
pub fn enable_cache_cluster(st: &mut Stage, enabled: bool) {
    st.set_cache_cluster(enabled);
}

const INVALID_STAGE_PATH: &str = "Must be one of: [/deploymentId, /description, /cacheClusterEnabled, /cacheClusterSize, /clientCertificateId, /accessLogSettings, /accessLogSettings/destinationArn, /accessLogSettings/format, /{resourcePath}/{httpMethod}/metrics/enabled, /{resourcePath}/{httpMethod}/logging/dataTrace, /{resourcePath}/{httpMethod}/logging/loglevel, /{resourcePath}/{httpMethod}/throttling/burstLimit/{resourcePath}/{httpMethod}/throttling/rateLimit/{resourcePath}/{httpMethod}/caching/ttlInSeconds, /{resourcePath}/{httpMethod}/caching/enabled, /{resourcePath}/{httpMethod}/caching/dataEncrypted, /{resourcePath}/{httpMethod}/caching/requireAuthorizationForCacheControl, /{resourcePath}/{httpMethod}/caching/unauthorizedCacheControlHeaderStrategy, /*/*/metrics/enabled, /*/*/logging/dataTrace, /*/*/logging/loglevel, /*/*/throttling/burstLimit /*/*/throttling/rateLimit /*/*/caching/ttlInSeconds, /*/*/caching/enabled, /*/*/caching/dataEncrypted, /*/*/caching/requireAuthorizationForCacheControl, /*/*/caching/unauthorizedCacheControlHeaderStrategy, /variables/{variable_name}, /tracingEnabled]";

/// What a path no rule takes answers (a path without its leading `/` is not a path at all).
fn invalid_stage_path(path: &str, _op: &str) -> ApiError {
    if !path.starts_with('/') {
        return invalid_path(path);
    }
    ApiError::bad_request(format!(
        "Invalid method setting path: {path}. {INVALID_STAGE_PATH}"
    ))
}

fn no_canary() -> ApiError {
    ApiError::bad_request("Promotion not available. Canary does not exist.")
}

/// The stage's canary, created when missing (recorded: `replace` of its deployment or its
/// traffic share on a stage without one starts a canary on the stage's own deployment at
/// 0%, then applies the value).
fn canary_or_new(st: &mut Stage) -> &mut CanarySettings {
    let deployment = st.deployment_id.clone();
    st.canary_settings.get_or_insert_with(|| CanarySettings {
        percent_traffic: Some(0.0),
        deployment_id: Some(deployment),
        stage_variable_overrides: Default::default(),
        use_stage_cache: false,
    })
}

fn canary(st: &mut Stage) -> ApiResult<&mut CanarySettings> {
    st.canary_settings.as_mut().ok_or_else(no_canary)
}

/// The value names a deployment of this API.
fn existing_deployment(c: &StageChange<'_>) -> ApiResult<String> {
    let d = c.value.unwrap_or_default();
    if !c.ctx.deployments.contains_key(d) {
        return Err(ApiError::bad_request("Deployment id does not exist"));
    }
    Ok(d.to_string())
}

/// `copy` promotes the canary: its deployment or its variable overrides become the stage's.
fn copy_from_canary(st: &mut Stage, c: &StageChange<'_>) -> ApiResult<()> {
    let from = c.from.unwrap_or_default();
    match (c.path, from) {
        ("/deploymentId", "/canarySettings/deploymentId") => {
            let canary = st.canary_settings.as_ref().ok_or_else(no_canary)?;
            st.deployment_id = canary.deployment_id.clone().ok_or_else(no_canary)?;
        }
        ("/variables", "/canarySettings/stageVariableOverrides") => {
            let canary = st.canary_settings.as_ref().ok_or_else(no_canary)?;
            let overrides = canary.stage_variable_overrides.clone();
            st.variables.extend(overrides);
        }
        (path, _) => return Err(ApiError::bad_request(format!(
            "Invalid copy operation with path: {path} and from {from}. Valid copy:path are [/deploymentId, /variables] and valid copy:from are [/canarySettings/deploymentId, /canarySettings/stageVariableOverrides]"
        ))),
    }
    Ok(())
}

fn put_variable(st: &mut Stage, c: &StageChange<'_>) -> ApiResult<()> {
    let value = c.value.unwrap_or_default().to_string();
    tollgate_model::validate::stage_variable(c.param(0), &value).map_err(ApiError::bad_request)?;
    st.variables.insert(c.param(0).to_string(), value);
    if st.variables.len() > 100 {
        return Err(ApiError::bad_request(
            "A stage can have at most 100 stage variables",
        ));
    }
    Ok(())
}

fn invalid_access_log_path() -> ApiError {
    ApiError::bad_request("Invalid accessLogSettings path. Must be one of : [/accessLogSettings/destinationArn, /accessLogSettings/format]")
}

fn access_log_value(c: &StageChange<'_>) -> ApiResult<String> {
    c.value
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| ApiError::bad_request("Access Log value must not be empty"))
}

fn access_log_settings(st: &mut Stage) -> &mut AccessLogSettings {
    st.access_log_settings.get_or_insert(AccessLogSettings {
        format: None,
        destination_arn: None,
    })
}

const SETTING_SUFFIXES: [&str; 10] = [
    "metrics/enabled",
    "logging/loglevel",
    "logging/dataTrace",
    "throttling/burstLimit",
    "throttling/rateLimit",
    "caching/enabled",
    "caching/ttlInSeconds",
    "caching/dataEncrypted",
    "caching/requireAuthorizationForCacheControl",
    "caching/unauthorizedCacheControlHeaderStrategy",
];

/// Splits `/{key}/{group}/{name}` into the stored key (verbatim, escapes kept) and suffix.
fn method_setting_path(path: &str) -> Option<(String, &'static str)> {
    let rest = path.strip_prefix('/')?;
    let suffix = SETTING_SUFFIXES
        .iter()
        .find(|s| rest.ends_with(&format!("/{s}")))?;
    let key = &rest[..rest.len() - suffix.len() - 1];
    // The key must be `{prefix}/{METHOD}` with a non-empty prefix.
    let (prefix, method) = key.rsplit_once('/')?;
    (!prefix.is_empty() && !method.is_empty()).then(|| (key.to_string(), *suffix))
}

/// A method setting starts from the stage-wide `*/*` one, as AWS's do.
fn put_method_setting(st: &mut Stage, c: &StageChange<'_>) -> ApiResult<()> {
    let (key, suffix) =
        method_setting_path(c.path).ok_or_else(|| invalid_stage_path(c.path, c.op))?;
    let base = st.method_settings.get("*/*").cloned().unwrap_or_default();
    let ms = st.method_settings.entry(key).or_insert(base);
    apply_setting(ms, suffix, c.value, c.path)
}

fn remove_method_setting(st: &mut Stage, c: &StageChange<'_>) -> ApiResult<()> {
    let key = c.path.trim_start_matches('/');
    if !key.contains('/') {
        return Err(invalid_stage_path(c.path, c.op));
    }
    st.method_settings.remove(key).map(|_| ()).ok_or_else(|| {
        ApiError::bad_request(format!(
            "Cannot remove method setting {key} because there is no method setting for this method "
        ))
    })
}

fn apply_setting(
    ms: &mut MethodSetting,
    suffix: &str,
    v: Option<&str>,
    path: &str,
) -> ApiResult<()> {
    match suffix {
        "metrics/enabled" => ms.metrics_enabled = patch_bool(v),
        "logging/loglevel" => {
            let level = v.unwrap_or_default().parse().map_err(|_| {
                ApiError::bad_request(
                    "Invalid logging level specified. Valid options are OFF, ERROR, INFO",
                )
            })?;
            ms.logging_level = Some(level);
        }
        "logging/dataTrace" => ms.data_trace_enabled = patch_bool(v),
        "throttling/burstLimit" => ms.throttling_burst_limit = patch_i64(v, path)?,
        "throttling/rateLimit" => ms.throttling_rate_limit = patch_f64(v, path)?,
        "caching/enabled" => ms.caching_enabled = patch_bool(v),
        "caching/ttlInSeconds" => {
            let ttl = patch_i64(v, path)?;
            if !(0..=3600).contains(&ttl) {
                return Err(ApiError::bad_request(
                    "Cache TTL must be between 0 and 3600 seconds",
                ));
            }
            ms.cache_ttl_in_seconds = ttl;
        }
        "caching/dataEncrypted" => ms.cache_data_encrypted = patch_bool(v),
        "caching/requireAuthorizationForCacheControl" => {
            ms.require_authorization_for_cache_control = patch_bool(v)
        }
        _ => {
            ms.unauthorized_cache_control_header_strategy =
                v.unwrap_or_default().parse().map_err(|_| {
                    ApiError::bad_request(
                        "Invalid unauthorizedCacheControlHeaderStrategy specified",
                    )
                })?
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_setting_paths_parse_from_the_right() {
        assert_eq!(
            method_setting_path("/*/*/throttling/rateLimit"),
            Some(("*/*".into(), "throttling/rateLimit"))
        );
        assert_eq!(
            method_setting_path("/~1pets~1{id}/GET/caching/enabled"),
            Some(("~1pets~1{id}/GET".into(), "caching/enabled"))
        );
        assert_eq!(
            method_setting_path("/test/GET/throttling/burstLimit"),
            Some(("test/GET".into(), "throttling/burstLimit"))
        );
        assert_eq!(
            method_setting_path("/~1/GET/metrics/enabled"),
            Some(("~1/GET".into(), "metrics/enabled"))
        );
        assert_eq!(method_setting_path("/GET/metrics/enabled"), None);
        assert_eq!(method_setting_path("/nope"), None);
    }
}
