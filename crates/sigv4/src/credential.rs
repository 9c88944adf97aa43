//! Secrets the server verifies (and signs) with.

use std::collections::HashMap;
use std::fmt;

/// The secret half of an access key, as stored by the server.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// The secret access key used to derive the signing key.
    pub secret_access_key: String,
    /// When set, requests must carry exactly this `X-Amz-Security-Token`.
    /// When `None`, any token (or none) is accepted (dev mode).
    pub session_token: Option<String>,
}

impl fmt::Debug for Credential {
    // Never print secrets into logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Looks up the secret for an access key id (`AKIA…`/`ASIA…`).
pub trait CredentialProvider: Send + Sync {
    /// Returns the credential for `access_key_id`, or `None` if it is unknown.
    fn lookup(&self, access_key_id: &str) -> Option<Credential>;
}

impl CredentialProvider for HashMap<String, Credential> {
    fn lookup(&self, access_key_id: &str) -> Option<Credential> {
        self.get(access_key_id).cloned()
    }
}
