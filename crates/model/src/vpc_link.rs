//! VPC links: API Gateway v1's (NLB target ARNs) and v2's (subnets and security groups).
//! Locally there is no VPC: a link's traffic goes to the `host:port` targets its
//! [`TARGET_TAG`] tag (or the gateway's `--vpc-link-target` flag) names.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The tag whose value (`host:port[,host:port...]`) says where a link's traffic goes.
pub const TARGET_TAG: &str = "tollgate:target";

/// `status` / `vpcLinkStatus`: PENDING while it is provisioned, then AVAILABLE.
pub const PENDING: &str = "PENDING";
pub const AVAILABLE: &str = "AVAILABLE";

/// A v1 VPC link (CreateVpcLink on `/vpclinks`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VpcLink {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub target_arns: Vec<String>,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// A v2 VPC link (CreateVpcLink on `/v2/vpclinks`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VpcLinkV2 {
    pub vpc_link_id: String,
    pub name: String,
    pub created_date: String,
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    #[serde(default)]
    pub security_group_ids: Vec<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub vpc_link_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_link_status_message: Option<String>,
    pub vpc_link_version: String,
}

/// Parses a `host:port[,host:port...]` target list; `None` when an entry is not one.
pub fn parse_targets(list: &str) -> Option<Vec<String>> {
    let targets: Vec<String> = list
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    let valid = |t: &String| {
        t.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
        })
    };
    (!targets.is_empty() && targets.iter().all(valid)).then_some(targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_lists() {
        assert_eq!(
            parse_targets("127.0.0.1:8080, backend:81"),
            Some(vec!["127.0.0.1:8080".into(), "backend:81".into()])
        );
        assert_eq!(parse_targets("nohost"), None);
        assert_eq!(parse_targets("h:0"), None);
        assert_eq!(parse_targets(""), None);
    }
}
