//! AWS Lambda resource types (service `lambda`, API version 2015-03-31), in Lambda's own
//! PascalCase wire shape. A [`Function`] is one stored row: its `$LATEST` configuration,
//! its published versions, aliases, resource policy and reserved concurrency.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::vocabulary::{
    Architecture, FunctionState, LastUpdateStatus, LogFormat, PackageType, Runtime, TracingMode,
};

/// Largest zipped deployment package accepted in a request (AWS: 50 MB).
pub const MAX_ZIPPED_CODE: usize = 50 * 1024 * 1024;
/// Largest unzipped deployment package (AWS: 250 MB).
pub const MAX_UNZIPPED_CODE: u64 = 250 * 1024 * 1024;

/// How a runtime starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeFamily {
    Python,
    Node,
    /// Runs the package's `bootstrap` executable.
    Provided,
}

impl Runtime {
    pub fn family(self) -> RuntimeFamily {
        use Runtime::*;
        match self {
            Python36 | Python37 | Python38 | Python39 | Python310 | Python311 | Python312
            | Python313 | Python314 | Python315 => RuntimeFamily::Python,
            Nodejs10 | Nodejs12 | Nodejs14 | Nodejs16 | Nodejs18 | Nodejs20 | Nodejs22
            | Nodejs24 | Nodejs26 => RuntimeFamily::Node,
            Provided | ProvidedAl2 | ProvidedAl2023 => RuntimeFamily::Provided,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct EnvironmentResponse {
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TracingConfig {
    pub mode: TracingMode,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EphemeralStorage {
    pub size: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfig {
    pub log_format: LogFormat,
    pub log_group: String,
}

/// `FunctionConfiguration`: one version of a function (`$LATEST` or a published number).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionConfiguration {
    pub function_name: String,
    pub function_arn: String,
    pub runtime: Runtime,
    pub role: String,
    pub handler: String,
    pub code_size: u64,
    pub description: String,
    pub timeout: u32,
    pub memory_size: u32,
    pub last_modified: String,
    pub code_sha256: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<EnvironmentResponse>,
    pub tracing_config: TracingConfig,
    pub revision_id: String,
    pub state: FunctionState,
    pub last_update_status: LastUpdateStatus,
    pub package_type: PackageType,
    pub architectures: Vec<Architecture>,
    pub ephemeral_storage: EphemeralStorage,
    pub logging_config: LoggingConfig,
}

impl FunctionConfiguration {
    /// The function's environment variables (empty when none are set).
    pub fn variables(&self) -> impl Iterator<Item = (&String, &String)> {
        self.environment.iter().flat_map(|e| e.variables.iter())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct AliasRoutingConfiguration {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub additional_version_weights: BTreeMap<String, f64>,
}

/// `AliasConfiguration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Alias {
    pub alias_arn: String,
    pub name: String,
    pub function_version: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_config: Option<AliasRoutingConfiguration>,
    pub revision_id: String,
}

/// One stored function with everything that hangs off it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Function {
    pub latest: FunctionConfiguration,
    /// Published versions by number.
    #[serde(default)]
    pub versions: BTreeMap<u64, FunctionConfiguration>,
    /// Numbers are never reused, even after a version is deleted.
    #[serde(default)]
    pub last_version: u64,
    #[serde(default)]
    pub aliases: BTreeMap<String, Alias>,
    /// Resource-based policy statements (AddPermission), in insertion order.
    #[serde(default)]
    pub policy: Vec<serde_json::Value>,
    #[serde(default)]
    pub policy_revision_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_concurrency: Option<u32>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Function URLs by qualifier (an alias name; `""` for the unqualified function).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub url_configs: BTreeMap<String, crate::function_url::FunctionUrlConfig>,
}

/// Which configuration a qualifier (`$LATEST`, a version number or an alias name) names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Latest,
    Version(u64),
}

impl Function {
    /// Resolves a qualifier; `None` when it names nothing.
    pub fn resolve(&self, qualifier: Option<&str>) -> Option<Resolved> {
        match qualifier {
            None | Some("$LATEST") => Some(Resolved::Latest),
            Some(q) if q.bytes().all(|b| b.is_ascii_digit()) => {
                let n: u64 = q.parse().ok()?;
                self.versions
                    .contains_key(&n)
                    .then_some(Resolved::Version(n))
            }
            Some(alias) => {
                let a = self.aliases.get(alias)?;
                self.resolve(Some(&a.function_version))
            }
        }
    }

    pub fn configuration(&self, r: &Resolved) -> &FunctionConfiguration {
        match r {
            Resolved::Latest => &self.latest,
            Resolved::Version(n) => self.versions.get(n).unwrap_or(&self.latest),
        }
    }
}

/// A function named in an API call or an integration URI: a bare name, a partial ARN
/// (`123456789012:function:name`) or a full ARN, each optionally with `:qualifier`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    pub name: String,
    pub qualifier: Option<String>,
    /// Account and region when the reference was an ARN.
    pub region: Option<String>,
    pub account: Option<String>,
}

/// Parses a `FunctionName` path value as Lambda does. `None` when it is not a valid name.
pub fn parse_function_ref(s: &str) -> Option<FunctionRef> {
    let valid_name = |n: &str| {
        !n.is_empty()
            && n.len() <= 64
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let valid_qualifier = |q: &str| {
        !q.is_empty()
            && q.len() <= 128
            && (q == "$LATEST"
                || q.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    };
    let parts: Vec<&str> = s.split(':').collect();
    let (name, qualifier, region, account) = match parts.as_slice() {
        [name] => (*name, None, None, None),
        [name, q] => (*name, Some(*q), None, None),
        [acct, "function", name] => (*name, None, None, Some(*acct)),
        [acct, "function", name, q] => (*name, Some(*q), None, Some(*acct)),
        ["arn", "aws", "lambda", region, acct, "function", name] => {
            (*name, None, Some(*region), Some(*acct))
        }
        ["arn", "aws", "lambda", region, acct, "function", name, q] => {
            (*name, Some(*q), Some(*region), Some(*acct))
        }
        _ => return None,
    };
    if !valid_name(name) || qualifier.is_some_and(|q| !valid_qualifier(q)) {
        return None;
    }
    Some(FunctionRef {
        name: name.to_string(),
        qualifier: qualifier.map(str::to_string),
        region: region.map(str::to_string),
        account: account.map(str::to_string),
    })
}

/// `arn:aws:lambda:{region}:{account}:function:{name}`
pub fn function_arn(region: &str, name: &str) -> String {
    format!(
        "arn:aws:lambda:{region}:{}:function:{name}",
        crate::ACCOUNT_ID
    )
}

/// Lambda's `LastModified` format: `2024-02-09T18:23:28.941+0000`.
pub fn last_modified(epoch_millis: i64) -> String {
    let secs = epoch_millis.div_euclid(1000);
    let (y, m, d) = crate::time::civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}+0000",
        s / 3600,
        s % 3600 / 60,
        s % 60,
        epoch_millis.rem_euclid(1000)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_refs_parse_as_lambda_does() {
        let r = parse_function_ref("my-fn").unwrap();
        assert_eq!((r.name.as_str(), r.qualifier), ("my-fn", None));
        let r = parse_function_ref("my-fn:prod").unwrap();
        assert_eq!(r.qualifier.as_deref(), Some("prod"));
        let r = parse_function_ref("arn:aws:lambda:eu-west-1:123456789012:function:f:7").unwrap();
        assert_eq!(
            (r.name.as_str(), r.qualifier.as_deref(), r.region.as_deref()),
            ("f", Some("7"), Some("eu-west-1"))
        );
        let r = parse_function_ref("123456789012:function:f").unwrap();
        assert_eq!(r.account.as_deref(), Some("123456789012"));
        assert!(parse_function_ref("").is_none());
        assert!(parse_function_ref("a b").is_none());
        assert!(parse_function_ref("f:$LATEST").is_some());
        assert!(parse_function_ref("f:$bad").is_none());
        assert!(parse_function_ref("arn:aws:s3:::bucket").is_none());
        assert!(parse_function_ref(&"x".repeat(65)).is_none());
    }

    #[test]
    fn last_modified_has_lambda_format() {
        assert_eq!(
            last_modified(1_707_503_008_941),
            "2024-02-09T18:23:28.941+0000"
        );
    }

    #[test]
    fn runtimes_map_to_families() {
        let family = |s: &str| s.parse::<Runtime>().map(Runtime::family).ok();
        assert_eq!(family("python3.12"), Some(RuntimeFamily::Python));
        assert_eq!(family("nodejs20.x"), Some(RuntimeFamily::Node));
        assert_eq!(family("provided.al2023"), Some(RuntimeFamily::Provided));
        assert_eq!(family("java21"), None);
    }
}
