//! Metrics counted on the request path with no lock or atomic shared by worker threads, and
//! rendered as Prometheus text (exposition format 0.0.4) or OpenMetrics at scrape.
//!
//! Why not `prometheus-client`: its counters are one `AtomicU64` per series that every
//! worker thread increments, so a busy series is a cache line all cores fight over. Here
//! each thread counts in its own shard (`shard.rs`) and a scrape sums the shards.
//!
//! A [`Schema`] lists the metrics a kind of subject has (a REST or HTTP API stage or method,
//! a WebSocket stage, a function version); [`Registry::series`] interns one subject's label
//! set and hands back a [`Series`]: the base index of a block of cells in every shard, in
//! the schema's layout. Series are resolved when a deployment is compiled, never from a
//! raw request, so the label sets are bounded by what is deployed; the same label set
//! always gets the same block, so a redeploy keeps the counts (counters never go back).

mod registry;
mod render;
mod schema;
mod shard;
mod state;

pub use registry::{Counts, Registry, Series};
pub use schema::{
    Format, Kind, Metric, Schema, CONTENT_TYPE, LATENCY_BOUNDS, OPENMETRICS_CONTENT_TYPE,
};
