//! Lambda function URLs: a dedicated HTTP endpoint for a function (or one of its aliases),
//! `https://{urlId}.lambda-url.{region}.on.aws/` on AWS.

use serde::{Deserialize, Serialize};

/// `AuthType`: who may call the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FunctionUrlAuthType {
    /// Anyone the function's resource policy allows (`Principal: "*"`).
    #[serde(rename = "NONE")]
    None,
    /// SigV4-signed callers (service `lambda`) whose policies allow
    /// `lambda:InvokeFunctionUrl`.
    #[serde(rename = "AWS_IAM")]
    AwsIam,
}

impl FunctionUrlAuthType {
    pub fn as_str(self) -> &'static str {
        match self {
            FunctionUrlAuthType::None => "NONE",
            FunctionUrlAuthType::AwsIam => "AWS_IAM",
        }
    }
}

impl std::str::FromStr for FunctionUrlAuthType {
    type Err = crate::UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "NONE" => Ok(FunctionUrlAuthType::None),
            "AWS_IAM" => Ok(FunctionUrlAuthType::AwsIam),
            _ => Err(crate::UnknownValue {
                vocabulary: "FunctionUrlAuthType",
                value: s.to_string(),
                allowed: &["NONE", "AWS_IAM"],
            }),
        }
    }
}

/// A function URL's CORS settings (`Cors`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionUrlCors {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_credentials: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_headers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_methods: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_origins: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expose_headers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u32>,
}

/// One function URL (`FunctionUrlConfig`, without what is derived from where it is served).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionUrlConfig {
    /// 32 lower-case characters: the URL's host label.
    pub url_id: String,
    pub auth_type: FunctionUrlAuthType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<FunctionUrlCors>,
    /// `BUFFERED` (the control plane refuses `RESPONSE_STREAM`: responses are not streamed).
    pub invoke_mode: String,
    /// ISO-8601 with milliseconds, as Lambda shows it.
    pub creation_time: String,
    pub last_modified_time: String,
}
