//! API keys and usage plans: who may call, how fast, and how much.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::vocabulary::QuotaPeriodType;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    pub id: String,
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// `{restApiId}/{stageName}` entries.
    #[serde(default)]
    pub stage_keys: Vec<String>,
    pub created_date: i64,
    pub last_updated_date: i64,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleSettings {
    #[serde(default)]
    pub burst_limit: i64,
    #[serde(default)]
    pub rate_limit: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaSettings {
    pub limit: i64,
    #[serde(default)]
    pub offset: i64,
    pub period: QuotaPeriodType,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiStage {
    pub api_id: String,
    pub stage: String,
    /// `{resourcePath}/{METHOD}` (e.g. `/pets/GET`) → per-method throttle.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub throttle: BTreeMap<String, ThrottleSettings>,
}

/// A usage plan. `key_ids` (its UsagePlanKeys) and `created_date` are Tollgate's own
/// members: stored, never shown on the wire (see the admin views).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsagePlan {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub api_stages: Vec<ApiStage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throttle: Option<ThrottleSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota: Option<QuotaSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_code: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub key_ids: BTreeSet<String>,
    #[serde(default)]
    pub created_date: i64,
}

impl UsagePlan {
    pub fn covers(&self, api_id: &str, stage: &str) -> bool {
        self.api_stages
            .iter()
            .any(|s| s.api_id == api_id && s.stage == stage)
    }
}

/// The quota period containing `day` (days since the epoch, UTC): its first day and the
/// first day of the next period. Weeks start on Monday, months on the 1st.
pub fn quota_period(period: QuotaPeriodType, day: i64) -> (i64, i64) {
    match period {
        QuotaPeriodType::Week => {
            // 1970-01-01 was a Thursday; Monday-based week index.
            let start = day - (day + 3).rem_euclid(7);
            (start, start + 7)
        }
        QuotaPeriodType::Month => {
            let (y, m, _) = crate::time::civil_from_days(day);
            let start = crate::time::days_from_civil(y, m, 1);
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            (start, crate::time::days_from_civil(ny, nm, 1))
        }
        QuotaPeriodType::Day => (day, day + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{days_from_civil, parse_ymd};

    #[test]
    fn periods() {
        let d = parse_ymd("2026-11-22").unwrap(); // a Sunday
        assert_eq!(quota_period(QuotaPeriodType::Day, d), (d, d + 1));
        let monday = parse_ymd("2026-11-16").unwrap();
        assert_eq!(quota_period(QuotaPeriodType::Week, d), (monday, monday + 7));
        assert_eq!(
            quota_period(QuotaPeriodType::Week, monday),
            (monday, monday + 7)
        );
        assert_eq!(
            quota_period(QuotaPeriodType::Month, d),
            (days_from_civil(2026, 11, 1), days_from_civil(2026, 12, 1))
        );
        let dec = parse_ymd("2026-12-31").unwrap();
        assert_eq!(
            quota_period(QuotaPeriodType::Month, dec).1,
            days_from_civil(2027, 1, 1)
        );
    }
}
