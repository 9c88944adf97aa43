//! A `/metrics` scrape of a large deployment (issue 15: 1,000 routes' series rendered in
//! at most 10 ms): one HTTP API stage with detailed metrics on 1,000 routes, each route
//! having counted requests and latencies on two threads, rendered as Prometheus text.

use criterion::{criterion_group, criterion_main, Criterion};
use tollgate_gateway::metrics::{RouteStageMetrics, API};
use tollgate_metrics::Registry;

fn scrape(c: &mut Criterion) {
    let registry = Registry::new();
    let keys: Vec<String> = (0..1000).map(|i| format!("GET /items{i}/{{id}}")).collect();
    let stage = RouteStageMetrics::build(
        &registry,
        &API,
        ("a1b2c3d4e5", "bench", "$default"),
        keys.iter().map(|k| (k.as_str(), true)),
    );
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for i in 0..keys.len() {
                    let series = stage.series(Some(i));
                    series.add(0, 3);
                    series.observe_micros(3, 1_500);
                }
            });
        }
    });
    let text = registry.render();
    assert!(
        text.len() > 100_000,
        "every route rendered: {} bytes",
        text.len()
    );
    c.bench_function("scrape 1000 routes", |b| b.iter(|| registry.render()));
}

criterion_group!(benches, scrape);
criterion_main!(benches);
