//! The account-level settings (GetAccount / UpdateAccount).

use serde::{Deserialize, Serialize};

use crate::usage_plan::ThrottleSettings;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloudwatch_role_arn: Option<String>,
    pub throttle_settings: ThrottleSettings,
    pub features: Vec<String>,
    pub api_key_version: String,
}

impl Default for Account {
    fn default() -> Self {
        Account {
            cloudwatch_role_arn: None,
            throttle_settings: ThrottleSettings {
                burst_limit: 5000,
                rate_limit: 10000.0,
            },
            features: vec!["UsagePlans".into()],
            api_key_version: "4".into(),
        }
    }
}
