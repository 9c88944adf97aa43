//! The access keys the control plane accepts: the configured ones (the account's root) and
//! those IAM and STS handed out (a user's active access keys, unexpired AssumeRole
//! credentials), read from the store's current state.

use std::collections::HashMap;
use std::sync::Arc;

use tollgate_model::iam::{AccessKeyStatus, RoleSession, User};
use tollgate_sigv4::{Credential, CredentialProvider};
use tollgate_store::{State, Store};

/// The configured access keys (the account root's).
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

/// Whose an access key is.
pub enum KeyOwner {
    /// A configured key: the account's root.
    Root,
    /// An IAM user's active access key.
    User(Arc<User>),
    /// AssumeRole's temporary credentials (the envelope refuses them once expired).
    Session(Arc<RoleSession>),
}

/// The IAM user or STS session owning `access_key_id` in `state` (`None` for a configured
/// key or an unknown one). An inactive key owns nothing.
pub fn iam_owner(state: &State, access_key_id: &str) -> Option<KeyOwner> {
    if let Some(s) = state.iam.sessions.get(access_key_id) {
        return Some(KeyOwner::Session(s.clone()));
    }
    // Scanned: the control plane only, and accounts have few users.
    state.iam.users.values().find_map(|u| {
        u.access_keys
            .iter()
            .any(|k| k.access_key_id == access_key_id && k.status == AccessKeyStatus::Active)
            .then(|| KeyOwner::User(u.clone()))
    })
}

/// Every key the control plane accepts: the configured ones, then IAM's and STS's.
#[derive(Clone)]
pub struct ControlPlaneKeys {
    pub root: StaticCredentials,
    pub store: Arc<Store>,
}

impl ControlPlaneKeys {
    /// The owner of a key that verified.
    pub fn owner(&self, access_key_id: &str) -> Option<KeyOwner> {
        if self.root.keys.contains_key(access_key_id) {
            return Some(KeyOwner::Root);
        }
        iam_owner(&self.store.state(), access_key_id)
    }
}

impl CredentialProvider for ControlPlaneKeys {
    fn lookup(&self, access_key_id: &str) -> Option<Credential> {
        if let Some(c) = self.root.lookup(access_key_id) {
            return Some(c);
        }
        match self.owner(access_key_id)? {
            KeyOwner::Root => None,
            KeyOwner::User(u) => u
                .access_keys
                .iter()
                .find(|k| k.access_key_id == access_key_id)
                .map(|k| Credential {
                    secret_access_key: k.secret_access_key.clone(),
                    session_token: None,
                }),
            KeyOwner::Session(s) => Some(Credential {
                secret_access_key: s.secret_access_key.clone(),
                session_token: Some(s.session_token.clone()),
            }),
        }
    }
}
