//! Metrics counted on the request path with no lock or atomic shared by worker threads, and
//! rendered as Prometheus text (exposition format 0.0.4) at scrape.
//!
//! Why not `prometheus-client`: its counters are one `AtomicU64` per series that every
//! worker thread increments, so a busy series is a cache line all cores fight over. Here
//! each thread counts in its own shard ([`shard`]) and a scrape sums the shards.
//!
//! A [`Schema`] lists the metrics a kind of subject has (a REST or HTTP API stage or method,
//! a WebSocket stage, a function version); [`Registry::series`] interns one subject's label
//! set and hands back a [`Series`]: the base index of a block of cells in every shard, in
//! the schema's layout. Series are resolved when a deployment is compiled, never from a
//! raw request, so the label sets are bounded by what is deployed; the same label set
//! always gets the same block, so a redeploy keeps the counts (counters never go back).

mod registry;
mod render;
mod shard;

pub use registry::{Registry, Series};

/// What a metric is; a histogram's bounds are in seconds.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Counter,
    /// A value that goes up and down (summed over threads: one thread may raise what
    /// another lowers).
    Gauge,
    Histogram(&'static [f64]),
}

/// One metric of a schema: its Prometheus name (with `_total` for counters), help and kind.
#[derive(Clone, Copy, Debug)]
pub struct Metric {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
}

/// The metrics of one kind of subject, in a fixed order: a metric's position is what
/// [`Series::add`] and [`Series::observe`] are given.
#[derive(Debug)]
pub struct Schema {
    pub metrics: &'static [Metric],
}

impl Kind {
    /// Cells a metric takes in a block: one, or per bound one plus `+Inf`, sum, count.
    fn cells(self) -> usize {
        match self {
            Kind::Counter | Kind::Gauge => 1,
            Kind::Histogram(b) => b.len() + 3,
        }
    }
}

impl Schema {
    /// The first cell of each metric within a block, and the block's length.
    fn offsets(&self) -> (Vec<u32>, u32) {
        let mut at = 0u32;
        let offsets = self
            .metrics
            .iter()
            .map(|m| {
                let o = at;
                at += m.kind.cells() as u32;
                o
            })
            .collect();
        (offsets, at)
    }
}

/// The `Content-Type` of [`Registry::render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Latency bounds (seconds) for request and integration latency histograms.
pub const LATENCY_BOUNDS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
