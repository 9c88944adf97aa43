//! What a subject's metrics are: names, help, kinds, and their cells in a block.

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
/// `Series::add` and `Series::observe_micros` are given.
#[derive(Debug)]
pub struct Schema {
    pub metrics: &'static [Metric],
}

impl Kind {
    /// Cells a metric takes in a block: one, or per bound one plus `+Inf`, sum, count.
    pub(crate) fn cells(self) -> usize {
        match self {
            Kind::Counter | Kind::Gauge => 1,
            Kind::Histogram(b) => b.len() + 3,
        }
    }
}

impl Schema {
    /// The first cell of each metric within a block, and the block's length.
    pub(crate) fn offsets(&self) -> (Vec<u32>, u32) {
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

/// The `Content-Type` of `Registry::render`'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The `Content-Type` of OpenMetrics text.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Which exposition a scrape gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    Prometheus,
    /// OpenMetrics 1.0 text.
    OpenMetrics,
}

impl Format {
    /// The format a scraper's `Accept` header asks for: OpenMetrics when it lists
    /// `application/openmetrics-text` with a non-zero quality (Prometheus sends it first,
    /// with the 0.0.4 text as a fallback), else the 0.0.4 text.
    pub fn from_accept(accept: Option<&str>) -> Format {
        let wants = accept.is_some_and(|a| {
            a.split(',').any(|range| {
                let mut params = range.split(';').map(str::trim);
                let media = params.next().unwrap_or("");
                media.eq_ignore_ascii_case("application/openmetrics-text")
                    && !params.any(|p| {
                        p.strip_prefix("q=")
                            .and_then(|q| q.parse::<f32>().ok())
                            .is_some_and(|q| q <= 0.0)
                    })
            })
        });
        if wants {
            Format::OpenMetrics
        } else {
            Format::Prometheus
        }
    }

    /// The `Content-Type` of this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => CONTENT_TYPE,
            Format::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
        }
    }
}

/// Latency bounds (seconds) for request and integration latency histograms.
pub const LATENCY_BOUNDS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
