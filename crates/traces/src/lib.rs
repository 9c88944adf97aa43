//! Request traces, as API Gateway and OpenTelemetry know them.
//!
//! - [`context`]: the trace a request belongs to, read from W3C `traceparent` or AWS's
//!   `X-Amzn-Trace-Id` and written back for integrations and functions in both forms.
//! - [`sampling`]: which requests are traced (a stage's `tracingEnabled`: X-Ray's default
//!   rule, the first request each second and 5% of the rest; a caller's decision kept).
//! - [`span`]: the spans a traced request leaves (the request, then one per phase that did
//!   work), recorded with the pipeline's own clock readings and handed to a [`span::SpanSink`].
//! - [`otlp`]: the sink that batches spans and sends them over OTLP/HTTP (protobuf).
//!
//! Nothing here runs for a request that is not traced but parsing its header.

pub mod context;
pub mod otlp;
pub mod sampling;
pub mod span;

pub use context::TraceContext;
pub use sampling::Sampler;
pub use span::{Recorder, RequestTrace, Span, SpanKind, SpanSink, Value};
