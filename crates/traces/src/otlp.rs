//! The OTLP sink: traced requests' spans, queued without blocking the request, batched and
//! sent over OTLP/HTTP (protobuf) by one task (`--otlp-endpoint`).
//!
//! The queue is bounded: when the collector is slow or gone, new traces are dropped (and
//! counted in the log) rather than held, so a traced stage never grows the process.

use std::time::Duration;

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind as OtelKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanExporter as _, SpanLinks};
use opentelemetry_sdk::Resource;
use tokio::sync::{mpsc, oneshot};

use crate::span::{RequestTrace, Span, SpanKind, SpanSink, Value};

/// Traces waiting to be sent, at most.
const QUEUE: usize = 4096;
/// Spans sent in one request to the collector, at most.
const BATCH: usize = 512;
/// How long a span waits for its batch to fill.
const LINGER: Duration = Duration::from_millis(500);
/// How long the collector may take to answer one batch.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

enum Message {
    Trace(RequestTrace),
    /// Send what is queued, then answer.
    Flush(oneshot::Sender<()>),
}

/// Sends traces to an OTLP collector. Cheap to share: it is the queue's sending side.
pub struct OtlpSink {
    queue: mpsc::Sender<Message>,
}

/// Why the exporter could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("OTLP endpoint {endpoint}: {reason}")]
pub struct OtlpError {
    endpoint: String,
    reason: String,
}

/// `{base}/v1/traces`, as `OTEL_EXPORTER_OTLP_ENDPOINT` is read: a base URL the signal's
/// path is appended to.
pub fn traces_url(base: &str) -> String {
    format!("{}/v1/traces", base.trim_end_matches('/'))
}

impl OtlpSink {
    /// Starts the exporting task on the current Tokio runtime. `base` is the collector's
    /// base URL (`http://localhost:4318`); `attributes` describe this process (the
    /// resource: `service.name` is `tollgate` unless `OTEL_SERVICE_NAME` says otherwise).
    pub fn start(base: &str, attributes: Vec<(&'static str, String)>) -> Result<Self, OtlpError> {
        let url = traces_url(base);
        let error = |reason: String| OtlpError {
            endpoint: url.clone(),
            reason,
        };
        let parsed: http::Uri = url
            .parse()
            .map_err(|e: http::uri::InvalidUri| error(e.to_string()))?;
        if parsed.scheme_str() != Some("http") {
            // The exporter's client speaks plain HTTP only (no TLS stack is built for it).
            return Err(error("only http:// collectors are supported".into()));
        }
        let mut exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(url.clone())
            .with_timeout(EXPORT_TIMEOUT)
            .build()
            .map_err(|e| error(e.to_string()))?;
        let mut resource = Resource::builder();
        if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
            resource = resource.with_service_name("tollgate");
        }
        let resource = resource
            .with_attributes(attributes.into_iter().map(|(k, v)| KeyValue::new(k, v)))
            .build();
        exporter.set_resource(&resource);
        let (queue, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(exporter, rx, url));
        Ok(OtlpSink { queue })
    }

    /// Sends every queued trace; returns once the collector answered them (or `within`
    /// passed). Called on a graceful stop.
    pub async fn flush(&self, within: Duration) {
        let (done, wait) = oneshot::channel();
        let sent = async {
            if self.queue.send(Message::Flush(done)).await.is_ok() {
                let _ = wait.await;
            }
        };
        let _ = tokio::time::timeout(within, sent).await;
    }
}

impl SpanSink for OtlpSink {
    fn export(&self, trace: RequestTrace) {
        // Full or closed: the trace is dropped (the task logs how many).
        let _ = self.queue.try_send(Message::Trace(trace));
    }
}

/// The exporting task: batches of up to [`BATCH`] spans, sent when full or [`LINGER`]
/// after their first span; one batch in flight at a time.
async fn run(
    exporter: opentelemetry_otlp::SpanExporter,
    mut rx: mpsc::Receiver<Message>,
    url: String,
) {
    let scope = InstrumentationScope::builder("tollgate")
        .with_version(env!("CARGO_PKG_VERSION"))
        .build();
    let mut batch: Vec<SpanData> = Vec::with_capacity(BATCH);
    let mut failures = 0u64;
    loop {
        let first = match rx.recv().await {
            Some(m) => m,
            None => return,
        };
        let take = |m: Message, batch: &mut Vec<SpanData>| match m {
            Message::Trace(t) => {
                batch.extend(spans(t, &scope));
                None
            }
            Message::Flush(done) => Some(done),
        };
        let mut flush = take(first, &mut batch);
        let deadline = tokio::time::Instant::now() + LINGER;
        while batch.len() < BATCH && flush.is_none() {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(m)) => flush = take(m, &mut batch),
                Ok(None) | Err(_) => break,
            }
        }
        // A flush also sends what arrived before it and is still queued.
        if flush.is_some() {
            while let Ok(m) = rx.try_recv() {
                if let Some(another) = take(m, &mut batch) {
                    let _ = another.send(());
                }
            }
        }
        if !batch.is_empty() {
            let sent = std::mem::take(&mut batch);
            let n = sent.len();
            match exporter.export(sent).await {
                Ok(()) => failures = 0,
                Err(e) => {
                    failures += 1;
                    // The first failure of a run is worth a line; the rest are counted.
                    if failures == 1 || failures.is_power_of_two() {
                        tracing::warn!(%url, error = %e, spans = n, failures, "OTLP export failed; spans dropped");
                    }
                }
            }
        }
        if let Some(done) = flush {
            let _ = done.send(());
        }
    }
}

/// One request's spans as OpenTelemetry's SDK hands them to an exporter.
fn spans(t: RequestTrace, scope: &InstrumentationScope) -> impl Iterator<Item = SpanData> + '_ {
    let trace_id = TraceId::from(t.trace_id);
    t.spans
        .into_iter()
        .map(move |s| span_data(trace_id, s, scope))
}

fn span_data(trace_id: TraceId, s: Span, scope: &InstrumentationScope) -> SpanData {
    SpanData {
        span_context: SpanContext::new(
            trace_id,
            SpanId::from(s.span_id),
            TraceFlags::SAMPLED,
            false,
            TraceState::NONE,
        ),
        parent_span_id: s.parent.map_or(SpanId::INVALID, SpanId::from),
        parent_span_is_remote: s.parent_is_remote,
        span_kind: match s.kind {
            SpanKind::Server => OtelKind::Server,
            SpanKind::Internal => OtelKind::Internal,
            SpanKind::Client => OtelKind::Client,
        },
        name: s.name,
        start_time: s.start,
        end_time: s.end,
        attributes: s
            .attributes
            .into_iter()
            .map(|(k, v)| match v {
                Value::Str(s) => KeyValue::new(k, s),
                Value::Int(n) => KeyValue::new(k, n),
                Value::Bool(b) => KeyValue::new(k, b),
            })
            .collect(),
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: match s.error {
            Some(message) => Status::error(message),
            None => Status::Unset,
        },
        instrumentation_scope: scope.clone(),
    }
}
