//! The one contract every integration kind meets, so the pipeline calls an integration
//! without knowing its kind.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Response;

use crate::body::GatewayBody;
use crate::compile::CompiledIntegration;
use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::invocation::{IntegrationOutput, Invocation, RequestBody};
use crate::pipeline::method_request::{Params, Routed};

/// What one request's integration call can use besides the [`Invocation`].
pub struct Call<'c, 'p> {
    pub integration: &'c CompiledIntegration,
    pub routed: &'c Routed,
    pub params: &'c Params<'p>,
    /// Runs Lambda integrations (`None`: they answer 500).
    pub functions: Option<&'c Arc<tollgate_functions::Functions>>,
    /// How long a body read into memory may stop arriving.
    pub body_stall: Duration,
}

/// What an integration answers.
pub enum Answer {
    /// The client's response, already built (proxy integrations: the backend's own answer).
    Response(Response<GatewayBody>),
    /// A non-proxy integration's output, for the integration response phase to map.
    Output(IntegrationOutput),
}

/// An integration kind. Implemented by one zero-sized type per kind and dispatched by a
/// `match` on the compiled kind ([`super::call()`]): the futures stay concrete, so a request
/// pays no boxed future and no vtable, which a `Box<dyn Integration>` would cost.
// Only called inside this crate with concrete types, so the futures' `Send` is known.
#[allow(async_fn_in_trait)]
pub trait Integration {
    /// Calls the backend for one request with the client's body (streamed or buffered).
    async fn call(
        &self,
        call: &Call<'_, '_>,
        inv: &Invocation<'_>,
        rec: &mut CallRecord,
        body: RequestBody,
    ) -> Result<Answer, GatewayError>;
}

/// What an integration call learned for `$context` (`integrationLatency`,
/// `integrationStatus`) and TestInvokeMethod's log. Kept apart from the [`Invocation`],
/// which the call only reads, and copied into the `$context` by the pipeline whatever the
/// call answered, so a failed call is logged with its latency too.
#[derive(Debug, Default)]
pub struct CallRecord {
    pub latency_ms: Option<u64>,
    pub status: Option<u16>,
    endpoint_request: Option<Bytes>,
    endpoint_response: Option<Bytes>,
}

impl CallRecord {
    /// Keeps the endpoint request body when the request keeps an execution log.
    pub fn endpoint_request(&mut self, inv: &Invocation<'_>, body: &Bytes) {
        if inv.ctx.execution_log.is_some() {
            self.endpoint_request = Some(body.clone());
        }
    }

    /// Keeps the endpoint response body when the request keeps an execution log.
    pub fn endpoint_response(&mut self, inv: &Invocation<'_>, body: &Bytes) {
        if inv.ctx.execution_log.is_some() {
            self.endpoint_response = Some(body.clone());
        }
    }

    /// Awaits the backend call, measuring it for `$context.integrationLatency`.
    pub async fn timed<T>(&mut self, backend: impl std::future::Future<Output = T>) -> T {
        let started = Instant::now();
        let out = backend.await;
        self.latency_ms = Some(started.elapsed().as_millis() as u64);
        out
    }

    /// Writes what the call learned into the request's `$context`.
    pub fn record(self, ctx: &mut RequestContext) {
        if self.latency_ms.is_some() {
            ctx.integration_latency_ms = self.latency_ms;
        }
        if self.status.is_some() {
            ctx.integration_status = self.status;
        }
        if let Some(b) = &self.endpoint_request {
            ctx.log_endpoint_request(b);
        }
        if let Some(b) = &self.endpoint_response {
            ctx.log_endpoint_response(b);
        }
    }
}
