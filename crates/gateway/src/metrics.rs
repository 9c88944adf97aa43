//! The API Gateway metrics (stages-canary-domains.md §7, websocket.md §7) under Prometheus
//! names, AWS's dimensions as labels. A stage's series are resolved when its runtime is
//! built: one for the stage, one per method with `metricsEnabled` (REST) or per route with
//! detailed metrics (HTTP, WebSocket), and the canary's twins (`canary="true"`). A request
//! counts in exactly one of them (its method's when that has its own, else the stage's),
//! so `sum()` over a stage counts it once.

use std::time::Duration;

use tollgate_metrics::{Kind, Metric, Registry, Schema, Series, LATENCY_BOUNDS};
use tollgate_model::{RestApiDefinition, Stage};

use crate::method_settings::MethodTable;

/// Indexes into [`API`]. `CACHE_HITS`/`CACHE_MISSES` are for the stage cache's lookup
/// phase to count into ([`RestStageMetrics::series`] gives the request's series).
pub const REQUESTS: usize = 0;
pub const ERRORS_4XX: usize = 1;
pub const ERRORS_5XX: usize = 2;
pub const LATENCY: usize = 3;
pub const INTEGRATION_LATENCY: usize = 4;
pub const CACHE_HITS: usize = 5;
pub const CACHE_MISSES: usize = 6;
pub const DATA_PROCESSED: usize = 7;

const INTEGRATION_LATENCY_METRIC: Metric = Metric {
    name: "apigateway_integration_latency_seconds",
    help: "Time from the request to the integration to its response (IntegrationLatency).",
    kind: Kind::Histogram(LATENCY_BOUNDS),
};

/// REST and HTTP APIs' request metrics.
pub static API: Schema = Schema {
    metrics: &[
        Metric {
            name: "apigateway_requests_total",
            help: "Requests (Count), gateway errors included.",
            kind: Kind::Counter,
        },
        Metric {
            name: "apigateway_4xx_errors_total",
            help: "Requests answered with a 4xx status (4XXError).",
            kind: Kind::Counter,
        },
        Metric {
            name: "apigateway_5xx_errors_total",
            help: "Requests answered with a 5xx status (5XXError).",
            kind: Kind::Counter,
        },
        Metric {
            name: "apigateway_latency_seconds",
            help: "Time from receiving the request to answering it (Latency).",
            kind: Kind::Histogram(LATENCY_BOUNDS),
        },
        INTEGRATION_LATENCY_METRIC,
        Metric {
            name: "apigateway_cache_hits_total",
            help: "Requests answered from the stage cache (CacheHitCount).",
            kind: Kind::Counter,
        },
        Metric {
            name: "apigateway_cache_misses_total",
            help: "Requests the stage cache could not answer (CacheMissCount).",
            kind: Kind::Counter,
        },
        Metric {
            name: "apigateway_data_processed_bytes_total",
            help: "Request and response body bytes of HTTP APIs (DataProcessed).",
            kind: Kind::Counter,
        },
    ],
};

/// Indexes into [`WEBSOCKET`].
pub const WS_CONNECT: usize = 0;
pub const WS_MESSAGES: usize = 1;
pub const WS_INTEGRATION_ERRORS: usize = 2;
pub const WS_CLIENT_ERRORS: usize = 3;
pub const WS_EXECUTION_ERRORS: usize = 4;
pub const WS_INTEGRATION_LATENCY: usize = 5;

/// WebSocket APIs' metrics.
pub static WEBSOCKET: Schema = Schema {
    metrics: &[
        Metric {
            name: "apigateway_websocket_connect_total",
            help: "$connect requests (ConnectCount).",
            kind: Kind::Counter,
        },
        Metric {
            name: "apigateway_websocket_messages_total",
            help: "Messages received and sent (MessageCount).",
            kind: Kind::Counter,
        },
        Metric {
            name: "apigateway_websocket_integration_errors_total",
            help: "Integrations that answered an error (IntegrationError).",
            kind: Kind::Counter,
        },
        Metric {
            name: "apigateway_websocket_client_errors_total",
            help: "Requests refused with a 4xx before the integration (ClientError).",
            kind: Kind::Counter,
        },
        Metric {
            name: "apigateway_websocket_execution_errors_total",
            help: "Errors while calling the integration (ExecutionError).",
            kind: Kind::Counter,
        },
        INTEGRATION_LATENCY_METRIC,
    ],
};

/// AWS's `ApiName` dimension: the name without non-ASCII characters, the id if nothing is
/// left.
fn api_name<'a>(name: &'a str, id: &'a str) -> std::borrow::Cow<'a, str> {
    if name.is_ascii() && !name.is_empty() {
        return name.into();
    }
    let ascii: String = name.chars().filter(char::is_ascii).collect();
    if ascii.is_empty() {
        id.into()
    } else {
        ascii.into()
    }
}

/// Counts one request into `series`: the status class, its latency and, when the
/// integration was called, the integration's.
pub fn count_request(series: &Series, status: u16, latency: Duration, integration_ms: Option<u64>) {
    series.counts(|c| {
        c.add(REQUESTS, 1);
        match status {
            400..=499 => c.add(ERRORS_4XX, 1),
            500..=599 => c.add(ERRORS_5XX, 1),
            _ => {}
        }
        c.observe_micros(LATENCY, latency.as_micros() as u64);
        if let Some(ms) = integration_ms {
            c.observe_micros(INTEGRATION_LATENCY, ms.saturating_mul(1000));
        }
    });
}

/// Counts a stage-cache lookup of a request (CacheHitCount / CacheMissCount) in the series
/// `count_request` counts it in. The hook for the cache phase: `respond::finish` is to
/// call it with the `$context`'s cache flag once the cache sets one.
pub fn count_cache(series: &Series, hit: bool) {
    series.add(if hit { CACHE_HITS } else { CACHE_MISSES }, 1);
}

/// Runs a WebSocket integration call, counting its failure (an error status it answered,
/// `status` of its reply, is an IntegrationError, no answer an ExecutionError) and, when
/// `latency` (not for MOCK, websocket.md §7), its IntegrationLatency.
pub async fn timed_ws_integration<R, E>(
    series: &Series,
    latency: bool,
    call: impl std::future::Future<Output = Result<R, E>>,
    status: impl Fn(&R) -> u16,
) -> Result<R, E> {
    let started = std::time::Instant::now();
    let result = call.await;
    if latency {
        series.observe_micros(WS_INTEGRATION_LATENCY, started.elapsed().as_micros() as u64);
    }
    match &result {
        Ok(r) if status(r) >= 400 => series.add(WS_INTEGRATION_ERRORS, 1),
        Ok(_) => {}
        Err(_) => series.add(WS_EXECUTION_ERRORS, 1),
    }
    result
}

/// A method's series and its canary twin.
#[derive(Debug)]
struct Pair {
    main: Series,
    canary: Option<Series>,
}

impl Pair {
    fn pick(&self, canary: bool) -> &Series {
        match (&self.canary, canary) {
            (Some(c), true) => c,
            _ => &self.main,
        }
    }
}

/// A REST stage's series.
#[derive(Debug)]
pub struct RestStageMetrics {
    stage: Pair,
    /// Methods with `metricsEnabled`.
    methods: MethodTable<Pair>,
}

/// What names a REST stage's series.
pub struct RestStageLabels<'a> {
    pub api_id: &'a str,
    pub api_name: &'a str,
    pub stage: &'a Stage,
    /// The deployments the stage serves (its own, and its canary's).
    pub definitions: &'a [&'a RestApiDefinition],
    pub has_canary: bool,
}

impl RestStageMetrics {
    pub fn build(registry: &Registry, l: &RestStageLabels<'_>) -> RestStageMetrics {
        let name = api_name(l.api_name, l.api_id);
        let stage_name = l.stage.stage_name.as_str();
        let pair = |extra: &[(&str, &str)]| {
            let mut labels = vec![
                ("api_id", l.api_id),
                ("api_name", &*name),
                ("stage", stage_name),
            ];
            labels.extend_from_slice(extra);
            let main = registry.series(&API, &labels);
            let canary = l.has_canary.then(|| {
                labels.push(("canary", "true"));
                registry.series(&API, &labels)
            });
            Pair { main, canary }
        };
        let methods = MethodTable::build(l.stage, l.definitions, |path, verb, settings| {
            settings
                .metrics_enabled
                .then(|| pair(&[("resource", path), ("method", verb)]))
        });
        RestStageMetrics {
            stage: pair(&[]),
            methods,
        }
    }

    /// The series a request counts in: its method's when that has metrics enabled, else
    /// the stage's.
    pub fn series(&self, resource_path: Option<&str>, verb: &str, canary: bool) -> &Series {
        self.methods
            .get(resource_path, verb)
            .unwrap_or(&self.stage)
            .pick(canary)
    }
}

/// An HTTP or WebSocket stage's series: the stage's, and per route index the route's own
/// when detailed metrics are on for it.
#[derive(Debug)]
pub struct RouteStageMetrics {
    stage: Series,
    routes: Vec<Option<Series>>,
}

impl RouteStageMetrics {
    /// `routes` are the deployment's route keys in route-index order, each with whether
    /// detailed metrics are on for it.
    pub fn build<'a>(
        registry: &Registry,
        schema: &'static Schema,
        (api_id, name, stage): (&str, &str, &str),
        routes: impl Iterator<Item = (&'a str, bool)>,
    ) -> RouteStageMetrics {
        let name = api_name(name, api_id);
        let labels = [("api_id", api_id), ("api_name", &*name), ("stage", stage)];
        let routes = routes
            .map(|(key, detailed)| {
                detailed.then(|| {
                    let mut l = labels.to_vec();
                    l.push(("route", key));
                    registry.series(schema, &l)
                })
            })
            .collect();
        RouteStageMetrics {
            stage: registry.series(schema, &labels),
            routes,
        }
    }

    /// The route's series when it has its own, else the stage's.
    pub fn series(&self, route: Option<usize>) -> &Series {
        route
            .and_then(|i| self.routes.get(i))
            .and_then(Option::as_ref)
            .unwrap_or(&self.stage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_names_keep_ascii_only() {
        assert_eq!(api_name("pets", "a1"), "pets");
        assert_eq!(api_name("pé ts", "a1"), "p ts");
        assert_eq!(api_name("ペット", "a1"), "a1");
    }
}
