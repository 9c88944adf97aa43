//! The access keys the control plane accepts.

use std::collections::HashMap;

use tollgate_sigv4::{Credential, CredentialProvider};

/// The access keys the control plane accepts.
#[derive(Clone, Default)]
pub struct StaticCredentials {
    keys: HashMap<String, Credential>,
}

impl StaticCredentials {
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        StaticCredentials {
            keys: pairs
                .into_iter()
                .map(|(id, secret)| {
                    (
                        id,
                        Credential {
                            secret_access_key: secret,
                            session_token: None,
                        },
                    )
                })
                .collect(),
        }
    }
}

impl CredentialProvider for StaticCredentials {
    fn lookup(&self, access_key_id: &str) -> Option<Credential> {
        self.keys.get(access_key_id).cloned()
    }
}
