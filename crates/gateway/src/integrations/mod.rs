//! Integrations: how a request reaches its backend. Each kind implements
//! [`call::Integration`]; [`call()`] picks the implementation from the compiled kind, so the
//! pipeline never names a kind.

pub mod call;
pub mod http;
pub mod lambda;
pub mod lambda_target;
pub mod mock;

use tollgate_model::IntegrationType;

use crate::error::GatewayError;
use crate::invocation::{Invocation, RequestBody};
use call::{Answer, Call, CallRecord, Integration};

/// Calls the request's integration. A `match` on the kind compiled with the deployment
/// rather than a `Box<dyn Integration>`: each arm awaits a concrete future, so a request
/// allocates no boxed future.
pub async fn call(
    call: &Call<'_, '_>,
    inv: &Invocation<'_>,
    rec: &mut CallRecord,
    body: RequestBody,
) -> Result<Answer, GatewayError> {
    match call.integration.kind {
        IntegrationType::HttpProxy => http::HttpProxy.call(call, inv, rec, body).await,
        IntegrationType::Http => http::Http.call(call, inv, rec, body).await,
        IntegrationType::Mock => mock::Mock.call(call, inv, rec, body).await,
        IntegrationType::AwsProxy => lambda::LambdaProxy.call(call, inv, rec, body).await,
        IntegrationType::Aws => lambda::Lambda.call(call, inv, rec, body).await,
    }
}
