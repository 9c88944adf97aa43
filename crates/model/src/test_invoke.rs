//! TestInvokeMethod: the request the control plane hands to the data plane and its answer.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::RestApiDefinition;

/// A method to run against the current (undeployed) definition, without auth checks.
#[derive(Debug, Clone)]
pub struct TestInvokeRequest {
    pub definition: Arc<RestApiDefinition>,
    pub resource_id: String,
    pub http_method: String,
    pub path_with_query_string: Option<String>,
    pub body: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub multi_value_headers: BTreeMap<String, Vec<String>>,
    pub stage_variables: BTreeMap<String, String>,
}

/// TestInvokeMethod's response shape.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestInvokeResponse {
    pub status: u16,
    pub body: String,
    pub headers: BTreeMap<String, String>,
    pub multi_value_headers: BTreeMap<String, Vec<String>>,
    pub log: String,
    pub latency: i64,
}
