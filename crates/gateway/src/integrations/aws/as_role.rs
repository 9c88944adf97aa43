//! Sending a service call as the integration's `credentials` role (`--aws-assume-role`):
//! the role's temporary credentials come from the cache in `assume_role`, else from one
//! STS AssumeRole call. Apart from `config` because it sends requests, which the gateway's
//! root (holding the `config`) must not depend on.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tollgate_sigv4::endpoint::AwsCredentials;

use super::assume_role::{self, Roles};
use super::config::AwsServices;
use super::wire::ServiceCall;
use crate::error::GatewayError;
use crate::integrations::http::HttpClient;
use crate::pipeline::integration_request::BackendRequest;

/// How long the STS call may take, and how much of its answer is read.
const STS_TIMEOUT: Duration = Duration::from_secs(10);
const STS_MAX_BODY: usize = 64 * 1024;

/// As [`AwsServices::prepare`], signed as the integration's `credentials` role when it is
/// one and `--aws-assume-role` is set.
pub async fn prepare(
    aws: &AwsServices,
    call: ServiceCall<'_>,
    role: Option<&str>,
) -> Result<BackendRequest, GatewayError> {
    match (&aws.roles, role.filter(|r| assume_role::is_role(r))) {
        (Some(roles), Some(role)) => {
            let creds = assumed(aws, roles, role).await?;
            aws.sign(call, &creds)
        }
        _ => aws.prepare(call),
    }
}

/// The role's temporary credentials: cached, else fetched from STS by one request while
/// the others asking for the same role wait for it.
async fn assumed(
    aws: &AwsServices,
    roles: &Roles,
    role: &str,
) -> Result<Arc<AwsCredentials>, GatewayError> {
    if let Some(c) = roles.cached(role, SystemTime::now()) {
        return Ok(c);
    }
    let lock = roles.fetch_lock(role);
    let _fetching = lock.lock().await;
    // Another request may have fetched them while this one waited.
    let now = SystemTime::now();
    if let Some(c) = roles.cached(role, now) {
        return Ok(c);
    }
    let req = aws.prepare(assume_role::call(role, &aws.region, now))?;
    let out = HttpClient::current()
        .send_buffered(req, STS_TIMEOUT, STS_MAX_BODY)
        .await
        // Unreachable or slow, STS is a failure to assume the role: 500, not a 504.
        .map_err(|_| {
            tracing::warn!(role, "STS AssumeRole could not be called");
            GatewayError::internal()
        })?;
    match assume_role::parse(out.status, &out.body) {
        Ok(fetched) => Ok(roles.store(role, fetched)),
        Err(error) => {
            tracing::warn!(role, error, "STS AssumeRole failed");
            Err(GatewayError::internal())
        }
    }
}
