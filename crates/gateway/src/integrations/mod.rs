//! Integrations: how a request reaches its backend. Each kind implements
//! [`call::Integration`]; [`call()`] picks the implementation from the compiled kind, so the
//! pipeline never names a kind.

pub mod aws;
pub mod backend_head;
pub mod backend_tls;
pub mod call;
pub mod h1;
pub mod http;
pub mod http_api;
pub mod lambda;
pub mod lambda_target;
pub mod mock;
pub mod private;

use tollgate_model::IntegrationType;

use crate::error::GatewayError;
use crate::invocation::{Invocation, RequestBody};
use call::{Answer, Call, CallRecord, Integration};

/// Calls the request's integration. A `match` on the kind compiled with the deployment
/// rather than a `Box<dyn Integration>`: each arm awaits a concrete future, so HTTP_PROXY
/// and MOCK requests allocate no boxed future. The other arms are boxed: their futures are
/// larger (Lambda's about 4.5 KB, HTTP's reads both bodies), and inline they would size
/// every request's future, which is copied whole once per request (`bench/callgrind.sh`:
/// thousands of instructions of copying on every route); a Lambda invocation already costs
/// a round trip to a worker process, an HTTP one a mapping template or two.
pub async fn call(
    call: &Call<'_, '_>,
    inv: &Invocation<'_>,
    rec: &mut CallRecord,
    body: RequestBody,
) -> Result<Answer, GatewayError> {
    match call.integration.kind {
        IntegrationType::HttpProxy | IntegrationType::Http
            if call.integration.vpc_link.is_some() =>
        {
            Box::pin(private::Private.call(call, inv, rec, body)).await
        }
        IntegrationType::HttpProxy => http::HttpProxy.call(call, inv, rec, body).await,
        IntegrationType::Http => Box::pin(http::Http.call(call, inv, rec, body)).await,
        IntegrationType::Mock => mock::Mock.call(call, inv, rec, body).await,
        IntegrationType::AwsProxy => Box::pin(lambda::LambdaProxy.call(call, inv, rec, body)).await,
        IntegrationType::Aws if call.integration.service.is_some() => {
            Box::pin(aws::service::AwsService.call(call, inv, rec, body)).await
        }
        IntegrationType::Aws => Box::pin(lambda::Lambda.call(call, inv, rec, body)).await,
    }
}
