//! The spans a traced request leaves: one for the request (the gateway's server span),
//! then one per phase that did work, each timed by the pipeline's own clock readings.

use std::borrow::Cow;
use std::time::{Instant, SystemTime};

use crate::context::{new_span_id, TraceContext};

/// OpenTelemetry's span kinds the gateway uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    /// The request as the gateway served it.
    Server,
    /// Work inside the gateway (a template, a cache lookup).
    Internal,
    /// A call out (the integration, a Lambda authorizer, a JWKS fetch).
    Client,
}

/// An attribute's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(Cow<'static, str>),
    Int(i64),
    Bool(bool),
}

impl From<&'static str> for Value {
    fn from(s: &'static str) -> Self {
        Value::Str(Cow::Borrowed(s))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(Cow::Owned(s))
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

/// One finished span.
#[derive(Debug, Clone)]
pub struct Span {
    pub span_id: u64,
    /// `None`: the trace's root (no caller span).
    pub parent: Option<u64>,
    /// Whether the parent is the caller's (another process's) span.
    pub parent_is_remote: bool,
    pub name: Cow<'static, str>,
    pub kind: SpanKind,
    pub start: SystemTime,
    pub end: SystemTime,
    pub attributes: Vec<(&'static str, Value)>,
    /// OpenTelemetry's error status (a 5xx answer, a failed call), with its message.
    pub error: Option<String>,
}

/// One request's spans, all of one trace.
#[derive(Debug, Clone)]
pub struct RequestTrace {
    pub trace_id: u128,
    pub spans: Vec<Span>,
}

/// Where finished traces go. `export` is called on the request's worker thread once the
/// response is built, so it must not block.
pub trait SpanSink: Send + Sync {
    fn export(&self, trace: RequestTrace);
}

/// Collects a traced request's phase spans as the pipeline runs, against the clock reading
/// the request started at (the pipeline measures with [`Instant`]; spans carry wall time).
#[derive(Debug, Clone)]
pub struct Recorder {
    started: Instant,
    started_wall: SystemTime,
    phases: Vec<Span>,
    /// A phase begun and not yet ended: kept here rather than in the pipeline's future.
    open: Option<(&'static str, Instant)>,
}

impl Recorder {
    /// A recorder for a request that started at `started`.
    pub fn new(started: Instant) -> Self {
        // The wall clock of `started`: now, less what has passed since.
        let started_wall = SystemTime::now() - started.elapsed();
        Recorder {
            started,
            started_wall,
            phases: Vec::with_capacity(4),
            open: None,
        }
    }

    /// Notes that the phase `name` starts now, for [`Recorder::end`].
    pub fn begin(&mut self, name: &'static str) {
        self.open = Some((name, Instant::now()));
    }

    /// The phase begun last, with when it began; `None` when none is open.
    pub fn end(&mut self) -> Option<(&'static str, Instant)> {
        self.open.take()
    }

    fn wall(&self, at: Instant) -> SystemTime {
        self.started_wall + at.saturating_duration_since(self.started)
    }

    /// Records a phase that ran from `start` to `end`, as a child of the request's span.
    /// Returns the new span's id.
    pub fn phase(
        &mut self,
        name: &'static str,
        kind: SpanKind,
        start: Instant,
        end: Instant,
    ) -> u64 {
        self.phase_with(name, kind, (start, end), None, None, Vec::new(), None)
    }

    /// [`Recorder::phase`] with every field: `span_id` when the id was handed out before
    /// (the integration's, sent downstream as the `Parent`), `parent` when the span is
    /// inside another than the request's (a template inside the integration), attributes,
    /// an error.
    #[allow(clippy::too_many_arguments)]
    pub fn phase_with(
        &mut self,
        name: &'static str,
        kind: SpanKind,
        (start, end): (Instant, Instant),
        span_id: Option<u64>,
        parent: Option<u64>,
        attributes: Vec<(&'static str, Value)>,
        error: Option<String>,
    ) -> u64 {
        let span_id = span_id.unwrap_or_else(new_span_id);
        let span = Span {
            span_id,
            parent,
            parent_is_remote: false,
            name: Cow::Borrowed(name),
            kind,
            start: self.wall(start),
            end: self.wall(end),
            attributes,
            error,
        };
        self.phases.push(span);
        span_id
    }

    /// Records work inside another span (`parent`: a template inside the integration).
    pub fn inner(&mut self, name: &'static str, span: (Instant, Instant), parent: u64) {
        self.phase_with(
            name,
            SpanKind::Internal,
            span,
            None,
            Some(parent),
            Vec::new(),
            None,
        );
    }

    /// Adds attributes to the span recorded last under `name`.
    pub fn annotate(
        &mut self,
        name: &str,
        attributes: impl IntoIterator<Item = (&'static str, Value)>,
    ) {
        if let Some(s) = self.phases.iter_mut().rev().find(|s| s.name == name) {
            s.attributes.extend(attributes);
        }
    }

    /// The request's trace: its server span (`name`, from the start to `end`) with the
    /// phases as its children.
    pub fn finish(
        self,
        ctx: &TraceContext,
        name: String,
        end: Instant,
        attributes: Vec<(&'static str, Value)>,
        error: Option<String>,
    ) -> RequestTrace {
        let end = self.wall(end);
        let mut spans = Vec::with_capacity(self.phases.len() + 1);
        spans.push(Span {
            span_id: ctx.span_id,
            parent: ctx.parent.map(std::num::NonZeroU64::get),
            parent_is_remote: ctx.parent.is_some(),
            name: Cow::Owned(name),
            kind: SpanKind::Server,
            start: self.started_wall,
            end,
            attributes,
            error,
        });
        spans.extend(self.phases.into_iter().map(|mut s| {
            s.parent.get_or_insert(ctx.span_id);
            s
        }));
        RequestTrace {
            trace_id: ctx.trace_id(),
            spans,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn phases_are_children_of_the_request_span_in_wall_time() {
        let start = Instant::now();
        let ctx = TraceContext::incoming(None, None, 1);
        let mut r = Recorder::new(start);
        let a = start + Duration::from_millis(2);
        let b = start + Duration::from_millis(7);
        let id = r.phase_with(
            "Integration",
            SpanKind::Client,
            (a, b),
            Some(ctx.downstream()),
            None,
            vec![("k", 1i64.into())],
            None,
        );
        assert_eq!(id, ctx.downstream());
        r.annotate("Integration", [("status", 200i64.into())]);
        let t = r.finish(
            &ctx,
            "GET /pets".into(),
            start + Duration::from_millis(9),
            vec![],
            None,
        );
        assert_eq!(t.trace_id, ctx.trace_id());
        let (root, phase) = (&t.spans[0], &t.spans[1]);
        assert_eq!(
            (root.span_id, root.parent, root.kind),
            (ctx.span_id, None, SpanKind::Server)
        );
        assert_eq!(phase.parent, Some(ctx.span_id));
        assert_eq!(
            phase.start.duration_since(root.start).unwrap(),
            Duration::from_millis(2)
        );
        assert_eq!(
            root.end.duration_since(phase.end).unwrap(),
            Duration::from_millis(2)
        );
        assert_eq!(phase.attributes.len(), 2);
    }
}
