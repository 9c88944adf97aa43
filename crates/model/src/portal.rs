//! The developer portal's consumers: people who sign up on the portal to get API keys.

use serde::{Deserialize, Serialize};

/// A portal consumer, by email (lower case). Their API keys are ordinary API keys whose
/// `customerId` is this email, so the owner sees them with `get-api-keys --customer-id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortalConsumer {
    pub email: String,
    /// The password's argon2id hash in PHC string form (salt and parameters included).
    pub password_hash: String,
    pub created_date: i64,
}
