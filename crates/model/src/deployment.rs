//! Deployments: immutable snapshots of a REST API's runtime definition.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::rest_api::RestApiDefinition;
use crate::vocabulary::AuthorizationType;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiSummaryEntry {
    pub authorization_type: AuthorizationType,
    pub api_key_required: bool,
}

/// A deployment. `snapshot` is the API as it was when the deployment was created; it is
/// never shown on the wire and never changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub created_date: i64,
    pub snapshot: Arc<RestApiDefinition>,
}

impl Deployment {
    /// `apiSummary` (GetDeployment `?embed=apisummary`): path → method → auth summary.
    pub fn api_summary(&self) -> BTreeMap<String, BTreeMap<String, ApiSummaryEntry>> {
        let mut out = BTreeMap::new();
        for r in self.snapshot.resources.values() {
            if r.resource_methods.is_empty() {
                continue;
            }
            let methods = r
                .resource_methods
                .iter()
                .map(|(m, def)| {
                    (
                        m.clone(),
                        ApiSummaryEntry {
                            authorization_type: def.authorization_type,
                            api_key_required: def.api_key_required,
                        },
                    )
                })
                .collect();
            out.insert(r.path.clone(), methods);
        }
        out
    }
}
