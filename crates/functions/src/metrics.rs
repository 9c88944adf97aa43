//! Lambda's function metrics under Prometheus names, labels `function_name` and `version`
//! (`$LATEST` or the version number): one series per function version, resolved when the
//! registry is rebuilt, counted per invocation on the invoking thread's shard.

use std::time::Instant;

use tollgate_metrics::{Kind, Metric, Schema, Series, LATENCY_BOUNDS};

const INVOCATIONS: usize = 0;
const ERRORS: usize = 1;
const THROTTLES: usize = 2;
const DURATION: usize = 3;
const CONCURRENT: usize = 4;
const COLD_STARTS: usize = 5;

/// Function metrics (Lambda's `AWS/Lambda` namespace).
pub static LAMBDA: Schema = Schema {
    metrics: &[
        Metric {
            name: "lambda_invocations_total",
            help: "Invocations that ran the function (Invocations).",
            kind: Kind::Counter,
        },
        Metric {
            name: "lambda_errors_total",
            help: "Invocations that ended in a function error (Errors).",
            kind: Kind::Counter,
        },
        Metric {
            name: "lambda_throttles_total",
            help: "Invocations refused for concurrency (Throttles).",
            kind: Kind::Counter,
        },
        Metric {
            name: "lambda_duration_seconds",
            help: "Time the function's code ran per invocation (Duration).",
            kind: Kind::Histogram(LATENCY_BOUNDS),
        },
        Metric {
            name: "lambda_concurrent_executions",
            help: "Invocations running now (ConcurrentExecutions).",
            kind: Kind::Gauge,
        },
        Metric {
            name: "lambda_cold_starts_total",
            help: "Invocations that started a new worker.",
            kind: Kind::Counter,
        },
    ],
};

/// A function version's series.
pub(crate) fn series(
    registry: &tollgate_metrics::Registry,
    function: &str,
    version: &str,
) -> Series {
    registry.series(
        &LAMBDA,
        &[("function_name", function), ("version", version)],
    )
}

pub(crate) fn throttled(s: &Series) {
    s.add(THROTTLES, 1);
}

pub(crate) fn cold_start(s: &Series) {
    s.add(COLD_STARTS, 1);
}

/// One invocation while it runs: counted in the concurrency gauge until dropped (an
/// invocation abandoned mid-way still leaves the gauge).
pub(crate) struct Running<'s> {
    series: &'s Series,
    started: Instant,
}

impl<'s> Running<'s> {
    pub(crate) fn start(series: &'s Series) -> Running<'s> {
        series.add(CONCURRENT, 1);
        Running {
            series,
            started: Instant::now(),
        }
    }

    /// The invocation ran: counted, with its duration and whether the function failed.
    pub(crate) fn ran(self, function_error: bool) {
        let s = self.series;
        s.add(INVOCATIONS, 1);
        if function_error {
            s.add(ERRORS, 1);
        }
        s.observe_micros(DURATION, self.started.elapsed().as_micros() as u64);
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.series.sub(CONCURRENT, 1);
    }
}
