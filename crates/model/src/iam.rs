//! IAM's and STS's entities as Tollgate keeps them: roles, customer managed policies with
//! their versions, users with their access keys, and the temporary credentials AssumeRole
//! handed out. Policy documents are kept as the JSON text the caller sent (IAM returns them
//! as sent, URL-encoded on the wire). Secrets are stored (the data plane verifies
//! signatures with them) but never shown by `Debug`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A `Key`/`Value` tag, in the order the caller gave them (IAM keeps a list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// An IAM role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Role {
    pub role_name: String,
    /// `AROA` + 17 characters.
    pub role_id: String,
    pub arn: String,
    pub path: String,
    /// ISO-8601, to the second.
    pub create_date: String,
    /// The trust policy, as sent.
    pub assume_role_policy_document: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub max_session_duration: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// ARNs of the managed policies attached, in attachment order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attached_policies: Vec<String>,
    /// Inline policies by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inline_policies: BTreeMap<String, String>,
}

/// One version of a managed policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyVersion {
    /// `v1`, `v2`, ...
    pub version_id: String,
    pub document: String,
    pub create_date: String,
}

/// A customer managed policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ManagedPolicy {
    pub policy_name: String,
    /// `ANPA` + 17 characters.
    pub policy_id: String,
    pub arn: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub create_date: String,
    pub update_date: String,
    pub default_version_id: String,
    /// Oldest first; at most five.
    pub versions: Vec<PolicyVersion>,
    /// The number the next version gets (IAM never reuses one).
    pub next_version: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

impl ManagedPolicy {
    /// The document of the default version.
    pub fn default_document(&self) -> Option<&str> {
        self.versions
            .iter()
            .find(|v| v.version_id == self.default_version_id)
            .map(|v| v.document.as_str())
    }
}

/// `Active` or `Inactive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessKeyStatus {
    Active,
    Inactive,
}

impl AccessKeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessKeyStatus::Active => "Active",
            AccessKeyStatus::Inactive => "Inactive",
        }
    }
}

/// A user's long-term access key.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessKey {
    /// `AKIA` + 16 characters.
    pub access_key_id: String,
    pub secret_access_key: String,
    pub status: AccessKeyStatus,
    pub create_date: String,
}

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKey")
            .field("access_key_id", &self.access_key_id)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// An IAM user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct User {
    pub user_name: String,
    /// `AIDA` + 17 characters.
    pub user_id: String,
    pub arn: String,
    pub path: String,
    pub create_date: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attached_policies: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inline_policies: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_keys: Vec<AccessKey>,
}

/// Temporary credentials from AssumeRole: who they act as and until when.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleSession {
    /// `ASIA` + 16 characters.
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    /// Seconds since the epoch.
    pub expiration: i64,
    /// The role's name (its policies are read from the role when the session is used, as
    /// IAM does: a policy change applies to sessions already handed out).
    pub role_name: String,
    pub role_session_name: String,
}

impl fmt::Debug for RoleSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoleSession")
            .field("access_key_id", &self.access_key_id)
            .field("role_name", &self.role_name)
            .field("expiration", &self.expiration)
            .finish_non_exhaustive()
    }
}

impl RoleSession {
    /// `arn:aws:sts::{account}:assumed-role/{role}/{session}`.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:sts::{}:assumed-role/{}/{}",
            crate::ACCOUNT_ID,
            self.role_name,
            self.role_session_name
        )
    }
}

/// `arn:aws:iam::{account}:{kind}{path}{name}`.
pub fn arn(kind: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{}:{kind}{path}{name}", crate::ACCOUNT_ID)
}

/// An AWS managed policy (`arn:aws:iam::aws:policy/...`): the ones Lambda and API Gateway
/// tutorials attach, with AWS's documents.
pub struct AwsManaged {
    pub name: &'static str,
    pub path: &'static str,
    /// Tollgate's own id for it (stable across restarts).
    pub id: &'static str,
    pub description: &'static str,
    pub document: &'static str,
}

impl AwsManaged {
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::aws:policy{}{}", self.path, self.name)
    }
}

pub static AWS_MANAGED: &[AwsManaged] = &[
    AwsManaged {
        name: "AdministratorAccess",
        path: "/",
        id: "ANPAIWMBCKSKIEE64ZLYK",
        description: "Provides full access to AWS services and resources.",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    },
    AwsManaged {
        name: "AmazonAPIGatewayInvokeFullAccess",
        path: "/",
        id: "ANPAIIWAX2NOOQJ4AIEQ6",
        description: "Provides full access to invoke APIs in Amazon API Gateway.",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["execute-api:Invoke","execute-api:ManageConnections"],"Resource":"arn:aws:execute-api:*:*:*"}]}"#,
    },
    AwsManaged {
        name: "AmazonAPIGatewayPushToCloudWatchLogs",
        path: "/service-role/",
        id: "ANPAIK4GFO7HLKYN64ASK",
        description: "Allows API Gateway to push logs to user's account.",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:DescribeLogGroups","logs:DescribeLogStreams","logs:PutLogEvents","logs:GetLogEvents","logs:FilterLogEvents"],"Resource":"*"}]}"#,
    },
    AwsManaged {
        name: "AWSLambdaBasicExecutionRole",
        path: "/service-role/",
        id: "ANPAJNCQGXC42545SKXIK",
        description: "Provides write permissions to CloudWatch Logs.",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}"#,
    },
    AwsManaged {
        name: "AWSLambdaRole",
        path: "/service-role/",
        id: "ANPAJX4DPCRGTC4NFDUXI",
        description: "Default policy for AWS Lambda service role.",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:InvokeFunction"],"Resource":["*"]}]}"#,
    },
];

/// The AWS managed policy with this ARN.
pub fn aws_managed(arn: &str) -> Option<&'static AwsManaged> {
    let rest = arn.strip_prefix("arn:aws:iam::aws:policy")?;
    AWS_MANAGED
        .iter()
        .find(|p| rest.strip_prefix(p.path) == Some(p.name))
}
