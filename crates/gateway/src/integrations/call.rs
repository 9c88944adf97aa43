//! The one contract every integration kind meets, so the pipeline calls an integration
//! without knowing its kind.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Response;

use crate::body::GatewayBody;
use crate::compile::CompiledIntegration;
use crate::context::{EndpointExchange, RequestContext};
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
    /// Where AWS service integrations send their calls, signed with what.
    pub aws: &'c super::aws::config::AwsServices,
    /// VPC links' targets (read only by private integrations).
    pub vpc_links: &'c arc_swap::ArcSwap<crate::vpc_link::VpcLinks>,
}

/// A non-proxy request after the integration request: the client's body, the rendered
/// payload the backend gets, and the request template's `$context` (its overrides).
pub struct Rendered {
    pub body: Bytes,
    pub payload: Bytes,
    pub context: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Call<'_, '_> {
    /// Reads the client's body and renders the payload, kept for the execution log.
    pub async fn render(
        &self,
        inv: &Invocation<'_>,
        rec: &mut CallRecord,
        body: RequestBody,
    ) -> Result<Rendered, GatewayError> {
        let body = body.collect(self.body_stall).await?;
        let mapping = CallRecord::mapping_starts(inv);
        let (payload, context) = crate::pipeline::integration_request::payload(
            inv,
            self.integration,
            self.params,
            &body,
        )?;
        rec.mapped(mapping);
        rec.endpoint_request(inv, &payload);
        Ok(Rendered {
            body,
            payload,
            context,
        })
    }
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
    /// When a traced request's integration request was mapped (its templates rendered),
    /// and for how many microseconds (not a second `Instant`: this is in every request's
    /// future).
    mapping: Option<(Instant, u32)>,
    pub status: Option<u16>,
    endpoint_request: Option<Bytes>,
    endpoint_response: Option<Bytes>,
    exchange: Option<EndpointExchange>,
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

    /// Keeps the answered call (its URI, the headers both ways) when the request keeps an
    /// execution log; `headers` makes the request's and the response's Java maps.
    pub fn exchange(
        &mut self,
        inv: &Invocation<'_>,
        uri: impl FnOnce() -> String,
        headers: impl FnOnce() -> (Option<String>, String),
    ) {
        if inv.ctx.execution_log.is_none() {
            return;
        }
        let (request_headers, response_headers) = headers();
        self.exchange = Some(EndpointExchange {
            uri: uri(),
            request_headers,
            status: self.status.unwrap_or_default(),
            latency_ms: self.latency_ms.unwrap_or_default(),
            response_headers,
        });
    }

    /// Forgets the request body kept for the log: the call never left (AWS logs nothing of
    /// an endpoint it refuses to call).
    pub fn unsent(&mut self) {
        self.endpoint_request = None;
    }

    /// Awaits the backend call, measuring it for `$context.integrationLatency`. Not an
    /// `async fn`: one would hold the backend's future twice (as its argument and as the
    /// future it awaits), and every request's future would carry both.
    pub fn timed<'r, F: std::future::Future + 'r>(
        &'r mut self,
        backend: F,
    ) -> impl std::future::Future<Output = F::Output> + 'r {
        use futures_util::FutureExt;
        let started = Instant::now();
        backend.map(move |out| {
            self.latency_ms = Some(started.elapsed().as_millis() as u64);
            out
        })
    }

    /// Records a non-proxy output's status and body (for the log) and hands it on.
    pub fn output(&mut self, inv: &Invocation<'_>, out: IntegrationOutput) -> Answer {
        self.status = Some(out.status);
        self.endpoint_response(inv, &out.body);
        Answer::Output(out)
    }

    /// When a traced request's integration request starts being mapped; `None` for a
    /// request that is not traced.
    pub fn mapping_starts(inv: &Invocation<'_>) -> Option<Instant> {
        inv.ctx.spans.is_some().then(Instant::now)
    }

    /// Keeps how long the mapping [`CallRecord::mapping_starts`] began took, for its span.
    pub fn mapped(&mut self, started: Option<Instant>) {
        self.mapping = started.map(|start| (start, start.elapsed().as_micros() as u32));
    }

    /// Writes what the call learned into the request's `$context`.
    pub fn record(self, ctx: &mut RequestContext) {
        if let (Some((start, micros)), Some(rec)) = (self.mapping, ctx.spans.as_mut()) {
            let span = (start, start + Duration::from_micros(u64::from(micros)));
            rec.inner("Integration request", span, ctx.trace.downstream());
        }
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
        if let Some(x) = self.exchange {
            ctx.log_exchange(x);
        }
    }
}
