//! Stages: named pointers to a deployment plus the live settings that apply without redeploy.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::vocabulary::{
    CacheClusterSize, CacheClusterStatus, LoggingLevel, UnauthorizedCacheControlHeaderStrategy,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessLogSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanarySettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent_traffic: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stage_variable_overrides: BTreeMap<String, String>,
    #[serde(default)]
    pub use_stage_cache: bool,
}

/// One entry of `methodSettings`, keyed by `{resourcePath}/{METHOD}` or `*/*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodSetting {
    pub metrics_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging_level: Option<LoggingLevel>,
    pub data_trace_enabled: bool,
    pub throttling_burst_limit: i64,
    pub throttling_rate_limit: f64,
    pub caching_enabled: bool,
    pub cache_ttl_in_seconds: i64,
    pub cache_data_encrypted: bool,
    pub require_authorization_for_cache_control: bool,
    pub unauthorized_cache_control_header_strategy: UnauthorizedCacheControlHeaderStrategy,
}

impl Default for MethodSetting {
    fn default() -> Self {
        MethodSetting {
            metrics_enabled: false,
            logging_level: None,
            data_trace_enabled: false,
            throttling_burst_limit: 5000,
            throttling_rate_limit: 10000.0,
            caching_enabled: false,
            cache_ttl_in_seconds: 300,
            cache_data_encrypted: false,
            require_authorization_for_cache_control: true,
            unauthorized_cache_control_header_strategy:
                UnauthorizedCacheControlHeaderStrategy::SucceedWithResponseHeader,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    pub stage_name: String,
    pub deployment_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_certificate_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documentation_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_acl_arn: Option<String>,
    pub cache_cluster_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_cluster_size: Option<CacheClusterSize>,
    pub cache_cluster_status: CacheClusterStatus,
    pub method_settings: BTreeMap<String, MethodSetting>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_log_settings: Option<AccessLogSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canary_settings: Option<CanarySettings>,
    pub tracing_enabled: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    pub created_date: i64,
    pub last_updated_date: i64,
}

impl Stage {
    pub fn new(name: String, deployment_id: String, now: i64) -> Self {
        Stage {
            stage_name: name,
            deployment_id,
            description: None,
            client_certificate_id: None,
            documentation_version: None,
            web_acl_arn: None,
            cache_cluster_enabled: false,
            cache_cluster_size: None,
            cache_cluster_status: CacheClusterStatus::NotAvailable,
            method_settings: BTreeMap::new(),
            variables: BTreeMap::new(),
            access_log_settings: None,
            canary_settings: None,
            tracing_enabled: false,
            tags: BTreeMap::new(),
            created_date: now,
            last_updated_date: now,
        }
    }

    /// Turns the stage cache on or off, keeping the size consistent as AWS does. The
    /// status is what the control plane knows when it writes: `CREATE_IN_PROGRESS` for a
    /// cache asked for, `DELETE_IN_PROGRESS` for one turned off; it becomes `AVAILABLE`
    /// (`NOT_AVAILABLE`) once the data plane has made (dropped) it, which the control plane
    /// asks the data plane when it answers. Setting what is already set changes nothing.
    pub fn set_cache_cluster(&mut self, enabled: bool) {
        if enabled != self.cache_cluster_enabled {
            self.cache_cluster_status = if enabled {
                CacheClusterStatus::CreateInProgress
            } else {
                CacheClusterStatus::DeleteInProgress
            };
        }
        self.cache_cluster_enabled = enabled;
        if enabled && self.cache_cluster_size.is_none() {
            self.cache_cluster_size = Some(CacheClusterSize::Half);
        }
    }
}

/// Splits a `methodSettings` key into (resource path, method) for run-time lookup:
/// `~1pets~1{id}/GET`, `pets/{id}/GET` and `/pets/{id}/GET` all name `/pets/{id}` GET;
/// `~1/GET` names the root; `*/*` stays `("*", "*")`.
pub fn split_method_setting_key(key: &str) -> Option<(String, String)> {
    let (prefix, method) = key.rsplit_once('/')?;
    if prefix == "*" {
        return Some(("*".into(), method.into()));
    }
    let path = prefix.replace("~1", "/");
    Some((format!("/{}", path.trim_start_matches('/')), method.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_setting_keys_normalise() {
        let k = |p: &str, m: &str| Some((p.to_string(), m.to_string()));
        assert_eq!(
            split_method_setting_key("~1pets~1{id}/GET"),
            k("/pets/{id}", "GET")
        );
        assert_eq!(
            split_method_setting_key("pets/{id}/GET"),
            k("/pets/{id}", "GET")
        );
        assert_eq!(
            split_method_setting_key("/pets/{id}/GET"),
            k("/pets/{id}", "GET")
        );
        assert_eq!(split_method_setting_key("~1/GET"), k("/", "GET"));
        assert_eq!(split_method_setting_key("*/*"), k("*", "*"));
        assert_eq!(split_method_setting_key("nokey"), None);
    }

    #[test]
    fn new_stage_wire_shape() {
        let s = Stage::new("dev".into(), "abc123".into(), 5);
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["cacheClusterStatus"], "NOT_AVAILABLE");
        assert_eq!(v["methodSettings"], serde_json::json!({}));
        assert!(v.get("variables").is_none());
        assert!(v.get("cacheClusterSize").is_none());
    }
}
