//! An API's resource policy at request time (auth-throttle-cache.md §7.2, §9): phase one,
//! before any authorizer, refuses a matching `Deny`; phase two, after it, combines the
//! policy's decision with the authorizer's. Callers without IAM identity are `anonymous`
//! (only `Principal: *` statements match them); IAM callers are matched by account, root
//! ARN or their own ARN, and their identity policies combine with the resource policy as
//! the §7.2 table says.

use tollgate_model::GatewayResponseType as T;
use tollgate_policy::{Caller, ConditionKeys, Decision, Policy, Request};

use crate::compile::MethodAuthorizer;
use crate::error::GatewayError;
use crate::iam::CallerIdentity;
use crate::invocation::Invocation;

/// The request facts a policy's conditions read, with the IAM caller when there is one.
pub struct Conditions<'r, 'a>(pub &'r Invocation<'a>, pub Option<&'r CallerIdentity>);

impl ConditionKeys for Conditions<'_, '_> {
    fn values(&self, key: &str) -> Vec<String> {
        let inv = self.0;
        let epoch_secs = inv.ctx.request_time_epoch.div_euclid(1000);
        match key {
            "aws:currenttime" => vec![tollgate_model::time::iso8601(epoch_secs)],
            "aws:epochtime" => vec![epoch_secs.to_string()],
            "aws:principalaccount" => self.1.map(|c| c.account.clone()).into_iter().collect(),
            "aws:principalarn" => self.1.map(|c| c.arn.clone()).into_iter().collect(),
            "aws:userid" => self.1.map(|c| c.user_id.clone()).into_iter().collect(),
            _ => condition_values(key, &inv.parts, inv.remote, inv.tls),
        }
    }
}

/// The condition keys any request has, IAM identity or not (REST and HTTP APIs).
pub fn condition_values(
    key: &str,
    parts: &http::request::Parts,
    remote: std::net::SocketAddr,
    tls: bool,
) -> Vec<String> {
    let header = |h: &str| {
        parts
            .headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(|v| vec![v.to_string()])
            .unwrap_or_default()
    };
    match key {
        "aws:sourceip" => vec![remote.ip().to_string()],
        "aws:useragent" => header("user-agent"),
        "aws:referer" => header("referer"),
        "aws:securetransport" => vec![tls.to_string()],
        _ => Vec::new(),
    }
}

/// AWS's 403 for a request a policy refuses, the account masked but for its last four
/// digits; `user` is the caller's ARN, or `anonymous`.
pub fn denied(arn: &str, user: &str, explicit: bool) -> GatewayError {
    let account = tollgate_model::ACCOUNT_ID;
    let masked = arn.replacen(
        &format!(":{account}:"),
        &format!(":********{}:", &account[account.len() - 4..]),
        1,
    );
    let suffix = if explicit {
        " with an explicit deny"
    } else {
        ""
    };
    let message = format!(
        "User: {user} is not authorized to perform: execute-api:Invoke on resource: {masked}{suffix}"
    );
    let body = serde_json::json!({ "Message": message }).to_string();
    GatewayError::new(T::AccessDenied, message).with_default_body(body)
}

/// Phase one: the policy's decision for this request and caller, or the 403 of a matching
/// `Deny`. A policy that does not compile denies.
pub fn phase_one(
    policy: &Result<Policy, ()>,
    arn: &str,
    inv: &Invocation<'_>,
    caller: Option<&CallerIdentity>,
) -> Result<Decision, GatewayError> {
    let decision = match policy {
        Ok(p) => p.evaluate(&Request {
            action: "execute-api:Invoke",
            resource: arn,
            caller: caller.map_or(Caller::Anonymous, CallerIdentity::as_caller),
            keys: &Conditions(inv, caller),
        }),
        Err(()) => Decision::ExplicitDeny,
    };
    if decision == Decision::ExplicitDeny {
        let user = caller.map_or("anonymous", |c| c.arn.as_str());
        return Err(denied(arn, user, true));
    }
    Ok(decision)
}

/// Phase two for callers without IAM identity, after the authorizer let the request
/// through: a Lambda authorizer's Allow with a silent policy is an Allow; otherwise the
/// policy itself must allow (Cognito, NONE).
pub fn phase_two(
    decision: Decision,
    authorizer: &MethodAuthorizer,
    arn: &str,
) -> Result<(), GatewayError> {
    match (decision, authorizer) {
        (Decision::Allow, _) | (_, MethodAuthorizer::Lambda(_)) => Ok(()),
        _ => Err(denied(arn, "anonymous", false)),
    }
}

/// An IAM caller's identity-policy decision combined with the resource policy's (`None`:
/// the API has none), as §7.2's table says: any explicit deny refuses; a caller of the
/// API's account needs one side to allow; a caller of another account needs both.
pub fn combine_iam(
    identity: Decision,
    resource: Option<Decision>,
    caller: &CallerIdentity,
    arn: &str,
) -> Result<(), GatewayError> {
    if identity == Decision::ExplicitDeny || resource == Some(Decision::ExplicitDeny) {
        return Err(denied(arn, &caller.arn, true));
    }
    let same_account = caller.account == tollgate_model::ACCOUNT_ID;
    let allowed = match resource {
        None => same_account && identity == Decision::Allow,
        Some(r) if same_account => identity == Decision::Allow || r == Decision::Allow,
        Some(r) => identity == Decision::Allow && r == Decision::Allow,
    };
    if allowed {
        Ok(())
    } else {
        Err(denied(arn, &caller.arn, false))
    }
}
