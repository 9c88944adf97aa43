//! Who may sign requests to `AWS_IAM` methods: the control plane's credentials (the
//! account's root, allowed everything) and the principals of `--principals FILE`, each with
//! its ARN and identity policies, compiled once at start.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;
use tollgate_model::iam::AccessKeyStatus;
use tollgate_policy::{Caller, ConditionKeys, Decision, Policy, Request};
use tollgate_store::IamState;

/// One IAM identity that can sign requests.
pub struct CallerIdentity {
    /// `$context.identity.accessKey`.
    pub access_key: String,
    /// `$context.identity.userArn`: `arn:aws:iam::{account}:user/alice`, or `...:root`.
    pub arn: String,
    /// `$context.identity.accountId`: the ARN's account.
    pub account: String,
    /// `$context.identity.caller` and `.user`: the identity's unique id (`AIDA...` for a
    /// user; the account id for the root).
    pub user_id: String,
    /// The account root: every action is allowed (only a resource policy can refuse it).
    root: bool,
    policies: Vec<Policy>,
    secret: String,
    /// Temporary credentials: the `X-Amz-Security-Token` the request must carry.
    session_token: Option<String>,
    /// Temporary credentials: when they stop working (milliseconds since the epoch).
    expiration: Option<i64>,
}

impl fmt::Debug for CallerIdentity {
    // Secrets never reach a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallerIdentity")
            .field("access_key", &self.access_key)
            .field("arn", &self.arn)
            .finish_non_exhaustive()
    }
}

impl CallerIdentity {
    /// As a resource policy's `Principal` sees this identity.
    pub fn as_caller(&self) -> Caller<'_> {
        Caller::Aws {
            arn: &self.arn,
            account: &self.account,
        }
    }

    /// The identity policies' decision for `action` on `resource` (IAM's logic across
    /// policies: one explicit deny wins, else one allow suffices).
    pub fn decide(&self, action: &str, resource: &str, keys: &dyn ConditionKeys) -> Decision {
        if self.root {
            return Decision::Allow;
        }
        let req = Request {
            action,
            resource,
            caller: self.as_caller(),
            keys,
        };
        tollgate_policy::decide_all(&self.policies, &req)
    }

    /// Whether temporary credentials have expired at `now_ms`.
    pub fn expired(&self, now_ms: i64) -> bool {
        self.expiration.is_some_and(|e| now_ms >= e)
    }

    pub(crate) fn credential(&self) -> tollgate_sigv4::Credential {
        tollgate_sigv4::Credential {
            secret_access_key: self.secret.clone(),
            session_token: self.session_token.clone(),
        }
    }
}

/// Why a principals file cannot be used. Never quotes a secret.
#[derive(Debug, thiserror::Error)]
pub enum PrincipalsError {
    #[error("principals file is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("principals file must be an object with a \"principals\" list")]
    Shape,
    #[error("principal {index}: {reason}")]
    Principal { index: usize, reason: String },
}

/// Every identity that can sign, by access key id.
#[derive(Debug, Default, Clone)]
pub struct Callers {
    by_key: HashMap<String, Arc<CallerIdentity>>,
}

impl Callers {
    /// The control plane's credentials, each the account's root.
    pub fn new(root_keys: impl IntoIterator<Item = (String, String)>) -> Callers {
        let account = tollgate_model::ACCOUNT_ID.to_string();
        let by_key = root_keys
            .into_iter()
            .map(|(key, secret)| {
                let id = CallerIdentity {
                    access_key: key.clone(),
                    arn: format!("arn:aws:iam::{account}:root"),
                    account: account.clone(),
                    user_id: account.clone(),
                    root: true,
                    policies: Vec::new(),
                    secret,
                    session_token: None,
                    expiration: None,
                };
                (key, Arc::new(id))
            })
            .collect();
        Callers { by_key }
    }

    /// Adds the principals of a `--principals` document:
    /// `{"principals": [{"accessKeyId", "secretAccessKey", "arn", "policies": [...],
    /// "sessionToken"?, "expiration"?, "userId"?}]}`.
    pub fn with_principals(mut self, text: &str) -> Result<Callers, PrincipalsError> {
        let doc: Value = serde_json::from_str(text)?;
        let list = doc
            .get("principals")
            .and_then(Value::as_array)
            .ok_or(PrincipalsError::Shape)?;
        for (index, p) in list.iter().enumerate() {
            let bad = |reason: &str| PrincipalsError::Principal {
                index,
                reason: reason.to_string(),
            };
            let id = principal(p).map_err(|r| bad(&r))?;
            if self.by_key.contains_key(&id.access_key) {
                return Err(bad("accessKeyId is already used by another caller"));
            }
            self.by_key.insert(id.access_key.clone(), Arc::new(id));
        }
        Ok(self)
    }

    /// These callers and IAM's: every user's active access keys and STS's temporary
    /// credentials, with their policies compiled (a key already taken here keeps its
    /// first owner).
    pub fn with_iam(&self, iam: &IamState) -> Callers {
        let mut callers = self.clone();
        let account = tollgate_model::ACCOUNT_ID;
        let compile = |docs: &mut dyn Iterator<Item = &str>| -> Vec<Policy> {
            // Documents were checked when stored.
            docs.filter_map(|d| serde_json::from_str::<Value>(d).ok())
                .filter_map(|v| Policy::compile(&v).ok())
                .collect()
        };
        for u in iam.users.values() {
            let keys = u
                .access_keys
                .iter()
                .filter(|k| k.status == AccessKeyStatus::Active);
            let mut keys = keys.peekable();
            if keys.peek().is_none() {
                continue;
            }
            let policies = compile(&mut iam.documents(&u.attached_policies, &u.inline_policies));
            for k in keys {
                let id = CallerIdentity {
                    access_key: k.access_key_id.clone(),
                    arn: u.arn.clone(),
                    account: account.to_string(),
                    user_id: u.user_id.clone(),
                    root: false,
                    policies: policies.clone(),
                    secret: k.secret_access_key.clone(),
                    session_token: None,
                    expiration: None,
                };
                callers
                    .by_key
                    .entry(k.access_key_id.clone())
                    .or_insert_with(|| Arc::new(id));
            }
        }
        // Expired ones too: a request signed with them is answered EXPIRED_TOKEN. Sessions
        // of one role share its policies: compiled once per role, not per session.
        let mut by_role: std::collections::HashMap<&str, Vec<Policy>> = Default::default();
        for s in iam.sessions.values() {
            let role_id = iam
                .roles
                .get(&s.role_name)
                .map_or("", |r| r.role_id.as_str());
            let id = CallerIdentity {
                access_key: s.access_key_id.clone(),
                arn: s.arn(),
                account: account.to_string(),
                user_id: format!("{role_id}:{}", s.role_session_name),
                root: false,
                policies: by_role
                    .entry(s.role_name.as_str())
                    .or_insert_with(|| compile(&mut iam.session_documents(s)))
                    .clone(),
                secret: s.secret_access_key.clone(),
                session_token: Some(s.session_token.clone()),
                expiration: Some(s.expiration.saturating_mul(1000)),
            };
            callers
                .by_key
                .entry(s.access_key_id.clone())
                .or_insert_with(|| Arc::new(id));
        }
        callers
    }

    pub fn get(&self, access_key: &str) -> Option<&Arc<CallerIdentity>> {
        self.by_key.get(access_key)
    }

    /// How many identities can sign.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

/// One entry of the principals list.
fn principal(p: &Value) -> Result<CallerIdentity, String> {
    let text = |name: &str| -> Result<Option<String>, String> {
        match p.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
            Some(_) => Err(format!("{name} must be a non-empty string")),
        }
    };
    let required = |name: &str| text(name)?.ok_or_else(|| format!("{name} is required"));
    let access_key = required("accessKeyId")?;
    let secret = required("secretAccessKey")?;
    let arn = required("arn")?;
    let account = arn_account(&arn).ok_or_else(|| {
        format!("arn {arn:?} is not an IAM ARN (arn:aws:iam::<12-digit account>:user/NAME)")
    })?;
    let policies = match p.get("policies") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(docs)) => docs
            .iter()
            .enumerate()
            .map(|(i, d)| Policy::compile(d).map_err(|e| format!("policies[{i}]: {e}")))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("policies must be a list of IAM policy documents".into()),
    };
    let expiration = match text("expiration")? {
        Some(t) => Some(
            tollgate_policy::value::parse_date(&t)
                .ok_or_else(|| format!("expiration {t:?} is not an ISO-8601 date"))?,
        ),
        None => None,
    };
    let root = arn.ends_with(":root");
    Ok(CallerIdentity {
        user_id: text("userId")?.unwrap_or_else(|| match root {
            true => account.clone(),
            false => access_key.clone(),
        }),
        access_key,
        account,
        root,
        arn,
        policies,
        secret,
        session_token: text("sessionToken")?,
        expiration,
    })
}

/// The account of `arn:aws:iam::{account}:{resource}`.
fn arn_account(arn: &str) -> Option<String> {
    let mut parts = arn.splitn(6, ':');
    let ok = parts.next() == Some("arn")
        && parts.next().is_some_and(|p| p.starts_with("aws"))
        && parts.next() == Some("iam")
        && parts.next() == Some("");
    let account = parts.next()?;
    let resource = parts.next()?;
    (ok && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !resource.is_empty())
    .then(|| account.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_files_are_checked_without_quoting_secrets() {
        let ok = r#"{"principals": [{"accessKeyId": "AKIAALICE", "secretAccessKey": "s3cr3t",
            "arn": "arn:aws:iam::111122223333:user/alice",
            "policies": [{"Statement": {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}}]}]}"#;
        let c = Callers::new([("test".into(), "test".into())])
            .with_principals(ok)
            .unwrap();
        let alice = c.get("AKIAALICE").unwrap();
        assert_eq!(alice.account, "111122223333");
        assert_eq!(
            alice.decide("execute-api:Invoke", "arn:x", &()),
            Decision::Allow
        );
        assert_eq!(c.get("test").unwrap().arn, "arn:aws:iam::000000000000:root");
        assert!(!format!("{alice:?}").contains("s3cr3t"));
        for (bad, expect) in [
            ("[]", "\"principals\" list"),
            (
                r#"{"principals": [{"accessKeyId": "k", "secretAccessKey": "s3cr3t"}]}"#,
                "arn is required",
            ),
            (
                r#"{"principals": [{"accessKeyId": "k", "secretAccessKey": "s3cr3t", "arn": "alice"}]}"#,
                "not an IAM ARN",
            ),
            (
                r#"{"principals": [{"accessKeyId": "test", "secretAccessKey": "s3cr3t", "arn": "arn:aws:iam::111122223333:user/a"}]}"#,
                "already used",
            ),
            (
                r#"{"principals": [{"accessKeyId": "k", "secretAccessKey": "s3cr3t", "arn": "arn:aws:iam::111122223333:user/a", "policies": [{"Statement": []}, {}]}]}"#,
                "policies[1]",
            ),
            (
                r#"{"principals": [{"accessKeyId": "k", "secretAccessKey": "s3cr3t", "arn": "arn:aws:iam::111122223333:user/a", "expiration": "soon"}]}"#,
                "expiration",
            ),
        ] {
            let e = Callers::new([("test".into(), "test".into())])
                .with_principals(bad)
                .unwrap_err()
                .to_string();
            assert!(e.contains(expect), "{e}");
            assert!(!e.contains("s3cr3t"), "{e}");
        }
    }

    #[test]
    fn iam_users_and_sessions_become_callers_with_their_policies() {
        use tollgate_model::iam::{AccessKey, RoleSession, User};
        let allow = r#"{"Statement": {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}}"#;
        let key = |id: &str, status| AccessKey {
            access_key_id: id.into(),
            secret_access_key: "s3cr3t".into(),
            status,
            create_date: String::new(),
        };
        let user = User {
            user_name: "alice".into(),
            user_id: "AIDAALICE".into(),
            arn: "arn:aws:iam::000000000000:user/alice".into(),
            path: "/".into(),
            create_date: String::new(),
            tags: vec![],
            attached_policies: vec![],
            inline_policies: [("p".to_string(), allow.to_string())].into(),
            access_keys: vec![
                key("AKIAON", AccessKeyStatus::Active),
                key("AKIAOFF", AccessKeyStatus::Inactive),
            ],
        };
        let session = RoleSession {
            access_key_id: "ASIAOLD".into(),
            secret_access_key: "s3cr3t".into(),
            session_token: "t".into(),
            expiration: 1_000,
            role_name: "gone".into(),
            role_session_name: "s".into(),
        };
        let mut iam = IamState::default();
        iam.users.insert("alice".into(), Arc::new(user));
        iam.sessions.insert("ASIAOLD".into(), Arc::new(session));
        let c = Callers::new([("test".into(), "test".into())]).with_iam(&iam);
        let alice = c.get("AKIAON").unwrap();
        assert_eq!(alice.user_id, "AIDAALICE");
        assert_eq!(
            alice.decide("execute-api:Invoke", "arn:x", &()),
            Decision::Allow
        );
        assert!(c.get("AKIAOFF").is_none(), "an inactive key signs nothing");
        let old = c.get("ASIAOLD").unwrap();
        assert!(
            old.expired(1_000_000),
            "expired credentials are answered as expired"
        );
        assert_eq!(old.arn, "arn:aws:sts::000000000000:assumed-role/gone/s");
        // Its role is gone: it acts with no policy.
        assert_eq!(
            old.decide("execute-api:Invoke", "arn:x", &()),
            Decision::ImplicitDeny
        );
        assert!(!format!("{old:?}").contains("s3cr3t"));
    }
}
