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

/// TestInvokeAuthorizer: an authorizer of the current (undeployed) definition, run with
/// the given request parts.
#[derive(Debug, Clone)]
pub struct TestInvokeAuthorizerRequest {
    pub definition: Arc<RestApiDefinition>,
    pub authorizer_id: String,
    pub path_with_query_string: Option<String>,
    pub body: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub multi_value_headers: BTreeMap<String, Vec<String>>,
    pub stage_variables: BTreeMap<String, String>,
    pub additional_context: BTreeMap<String, String>,
}

/// TestInvokeAuthorizer's response shape.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestInvokeAuthorizerResponse {
    /// The status the client would have got (200 when the authorizer allowed).
    pub client_status: u16,
    pub log: String,
    pub latency: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    /// The returned policy document, as JSON text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The returned context, each value as a one-element list.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub authorization: BTreeMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub claims: BTreeMap<String, String>,
}
