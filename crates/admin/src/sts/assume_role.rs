//! AssumeRole: temporary credentials acting with a role's policies, if the role's trust
//! policy allows the caller `sts:AssumeRole` (and, for an IAM user or a role session, its
//! own policies do too; the account root's keys need only the trust policy).

use std::sync::Arc;

use tollgate_model::iam::RoleSession;
use tollgate_policy::{decide_all, Caller, Decision, Policy, Request};
use tollgate_store::IamState;

use crate::core::context::Ctx;
use crate::core::credentials::KeyOwner;
use crate::core::error::{ApiError, ApiResult};
use crate::core::query::{element, QueryCall};

const ACTION: &str = "sts:AssumeRole";

/// Unexpired AssumeRole credentials kept at once.
const MAX_SESSIONS: usize = 10_000;

fn validation(m: String) -> ApiError {
    ApiError::new(400, "ValidationError", m)
}

/// `RoleSessionName`: 2 to 64 of `[\w+=,.@-]`.
fn session_name(v: &str) -> ApiResult<()> {
    let ok = (2..=64).contains(&v.chars().count())
        && v.chars()
            .all(|c| c.is_alphanumeric() || "_+=,.@-".contains(c));
    if ok {
        return Ok(());
    }
    Err(validation(format!(
        "1 validation error detected: Value '{v}' at 'roleSessionName' failed to satisfy constraint: \
         Member must satisfy regular expression pattern: [\\w+=,.@-]*"
    )))
}

/// The condition keys an AssumeRole call offers its trust and identity policies (the
/// common `sts:ExternalId` pattern among them).
struct AssumeRoleKeys<'c> {
    params: &'c std::collections::HashMap<String, String>,
    caller_arn: &'c str,
}

impl tollgate_policy::ConditionKeys for AssumeRoleKeys<'_> {
    fn values(&self, key: &str) -> Vec<String> {
        let param = |name: &str| self.params.get(name).cloned().into_iter().collect();
        match key.to_ascii_lowercase().as_str() {
            "sts:externalid" => param("ExternalId"),
            "sts:rolesessionname" => param("RoleSessionName"),
            "aws:principalarn" => vec![self.caller_arn.to_string()],
            "aws:principalaccount" => vec![tollgate_model::ACCOUNT_ID.to_string()],
            _ => Vec::new(),
        }
    }
}

/// The caller's ARN and, unless it is the root, its identity policies' decision.
fn caller_allowed(
    iam: &IamState,
    owner: &KeyOwner,
    role_arn: &str,
    trust: &Policy,
    params: &std::collections::HashMap<String, String>,
) -> (String, bool) {
    let account = tollgate_model::ACCOUNT_ID;
    let (arn, documents): (String, Vec<&str>) = match owner {
        KeyOwner::Root => (format!("arn:aws:iam::{account}:root"), Vec::new()),
        KeyOwner::User(u) => (
            u.arn.clone(),
            iam.documents(&u.attached_policies, &u.inline_policies)
                .collect(),
        ),
        KeyOwner::Session(s) => (s.arn(), iam.session_documents(s).collect()),
    };
    let keys = AssumeRoleKeys {
        params,
        caller_arn: &arn,
    };
    let req = Request {
        action: ACTION,
        resource: role_arn,
        caller: Caller::Aws { arn: &arn, account },
        keys: &keys,
    };
    let trusted = trust.evaluate(&req) == Decision::Allow;
    let own = match owner {
        KeyOwner::Root => true,
        _ => {
            // Documents were checked when stored; one that no longer compiles allows nothing.
            let compiled: Vec<Policy> = documents
                .iter()
                .filter_map(|d| serde_json::from_str(d).ok())
                .filter_map(|v| Policy::compile(&v).ok())
                .collect();
            decide_all(&compiled, &req) == Decision::Allow
        }
    };
    (arn, trusted && own)
}

pub async fn assume_role(ctx: &Ctx, call: &QueryCall) -> ApiResult<String> {
    let p = &call.params;
    let required = |name: &str, member: &str| {
        p.get(name).map(String::as_str).ok_or_else(|| {
            validation(format!(
                "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
            ))
        })
    };
    let role_arn = required("RoleArn", "roleArn")?;
    let session = required("RoleSessionName", "roleSessionName")?;
    session_name(session)?;
    if p.contains_key("Policy") || p.contains_key("PolicyArns.member.1") {
        return Err(validation(
            "Session policies (Policy, PolicyArns) are not supported by this endpoint".into(),
        ));
    }
    let owner = ctx.keys.owner(&call.caller).ok_or_else(|| {
        ApiError::new(
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        )
    })?;
    let state = ctx.store.state();
    let role = role_arn
        .rsplit_once('/')
        .and_then(|(_, name)| state.iam.roles.get(name))
        .filter(|r| r.arn == role_arn);
    let trust = role.and_then(|r| {
        let v = serde_json::from_str(&r.assume_role_policy_document).ok()?;
        Policy::compile_trust(&v).ok()
    });
    let (caller_arn, allowed) = match &trust {
        Some(t) => caller_allowed(&state.iam, &owner, role_arn, t, p),
        None => (String::new(), false),
    };
    let (Some(role), true) = (role, allowed) else {
        let who = if caller_arn.is_empty() {
            match &owner {
                KeyOwner::Root => format!("arn:aws:iam::{}:root", tollgate_model::ACCOUNT_ID),
                KeyOwner::User(u) => u.arn.clone(),
                KeyOwner::Session(s) => s.arn(),
            }
        } else {
            caller_arn
        };
        return Err(ApiError::new(
            403,
            "AccessDenied",
            format!("User: {who} is not authorized to perform: {ACTION} on resource: {role_arn}"),
        ));
    };
    let duration = match p.get("DurationSeconds") {
        None => 3600.min(i64::from(role.max_session_duration)),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (900..=i64::from(role.max_session_duration)).contains(&n) => n,
            Ok(n) if n >= 900 => {
                return Err(validation(
                    "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
                        .to_string(),
                ))
            }
            _ => {
                return Err(validation(format!(
                    "1 validation error detected: Value '{v}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"
                )))
            }
        },
    };
    let now = tollgate_model::time::now_epoch();
    let creds = RoleSession {
        access_key_id: tollgate_model::ids::access_key_id("ASIA"),
        secret_access_key: tollgate_model::ids::secret_access_key(),
        session_token: tollgate_model::ids::session_token(),
        expiration: now + duration,
        role_name: role.role_name.clone(),
        role_session_name: session.to_string(),
    };
    let role_id = role.role_id.clone();
    ctx.store
        .transact(|s| {
            let iam = Arc::make_mut(&mut s.iam);
            // Expired credentials are dropped as new ones are handed out, so they do not pile up.
            iam.sessions.retain(|_, x| x.expiration > now);
            // Tollgate's own bound on credentials alive at once (they are state).
            if iam.sessions.len() >= MAX_SESSIONS {
                return Err(ApiError::new(
                    409,
                    "LimitExceeded",
                    format!(
                        "Too many temporary credentials alive at once (at most {MAX_SESSIONS})"
                    ),
                ));
            }
            iam.sessions
                .insert(creds.access_key_id.clone(), Arc::new(creds.clone()));
            Ok::<_, ApiError>(())
        })
        .await?;
    let mut c = String::new();
    element(&mut c, "AccessKeyId", &creds.access_key_id);
    element(&mut c, "SecretAccessKey", &creds.secret_access_key);
    element(&mut c, "SessionToken", &creds.session_token);
    element(
        &mut c,
        "Expiration",
        &tollgate_model::time::iso8601(creds.expiration),
    );
    let mut u = String::new();
    element(&mut u, "AssumedRoleId", &format!("{role_id}:{session}"));
    element(&mut u, "Arn", &creds.arn());
    Ok(format!(
        "<Credentials>{c}</Credentials><AssumedRoleUser>{u}</AssumedRoleUser>"
    ))
}
