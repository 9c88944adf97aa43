//! An API's resource policy at request time (auth-throttle-cache.md §7.2, §9), for callers
//! without IAM identity: phase one, before any authorizer, refuses a matching `Deny`;
//! phase two, after it, requires the policy's own `Allow` unless a Lambda authorizer
//! allowed (the authorizer's Allow with a silent policy is an Allow).

use tollgate_authorizers::{ConditionKeys, Decision, Policy};
use tollgate_model::GatewayResponseType as T;

use crate::compile::MethodAuthorizer;
use crate::error::GatewayError;
use crate::invocation::Invocation;

/// The request facts a policy's conditions read.
pub struct Conditions<'r, 'a>(pub &'r Invocation<'a>);

impl ConditionKeys for Conditions<'_, '_> {
    fn values(&self, key: &str) -> Vec<String> {
        condition_values(key, &self.0.parts, self.0.remote, self.0.tls)
    }
}

/// The condition keys a request without IAM identity has (REST and HTTP APIs).
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

/// AWS's 403 for a request the resource policy refuses, the account masked but for its
/// last four digits.
fn denied(arn: &str, explicit: bool) -> GatewayError {
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
        "User: anonymous is not authorized to perform: execute-api:Invoke on resource: {masked}{suffix}"
    );
    let body = serde_json::json!({ "Message": message }).to_string();
    GatewayError::new(T::AccessDenied, message).with_default_body(body)
}

/// Phase one: the policy's decision for this request, or the 403 of a matching `Deny`.
/// A policy that does not compile denies.
pub fn phase_one(
    policy: &Result<Policy, ()>,
    arn: &str,
    inv: &Invocation<'_>,
) -> Result<Decision, GatewayError> {
    let decision = match policy {
        Ok(p) => p.evaluate("execute-api:Invoke", arn, &Conditions(inv)),
        Err(()) => Decision::ExplicitDeny,
    };
    if decision == Decision::ExplicitDeny {
        return Err(denied(arn, true));
    }
    Ok(decision)
}

/// Phase two, after the authorizer let the request through.
pub fn phase_two(
    decision: Decision,
    authorizer: &MethodAuthorizer,
    arn: &str,
) -> Result<(), GatewayError> {
    match (decision, authorizer) {
        (Decision::Allow, _) | (_, MethodAuthorizer::Lambda(_)) => Ok(()),
        _ => Err(denied(arn, false)),
    }
}
