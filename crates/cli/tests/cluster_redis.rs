//! Cluster mode with Redis (`--redis`): three nodes over one Postgres database (the test's
//! own, dropped at the end) and one Redis key prefix (the test's own, deleted at the end)
//! enforce a usage plan's rate and quota as one API Gateway; while Redis is unreachable a
//! node fails open or closed, as configured, and limits apply again once it returns.
//!
//! The throttling bound (README, "Run a cluster"): over `t` seconds the cluster admits at
//! most `burst + rate × t + 5` requests of one bucket, whatever the number of nodes.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use tollgate_store_postgres::testing::TempDatabase;
use tollgate_store_redis::testing::{PrivateRedis, TempPrefix};

/// The leases' overshoot the README states.
const OVERSHOOT: f64 = 5.0;

fn node(db: &TempDatabase, redis: &str, prefix: &str, extra: &[&str]) -> Server {
    let mut flags = vec![
        "--store",
        &db.url,
        "--redis",
        redis,
        "--redis-prefix",
        prefix,
    ];
    flags.extend_from_slice(extra);
    Server::start_with(
        std::sync::Arc::new(tempfile::tempdir().expect("temp dir")),
        &flags,
    )
}

fn three_nodes(db: &TempDatabase, prefix: &TempPrefix) -> Vec<Server> {
    (0..3)
        .map(|_| node(db, &prefix.url, &prefix.prefix, &[]))
        .collect()
}

/// An API with `GET /ready` (no key) and `GET /pets` (key required) on stage `dev`, a key,
/// and a plan with `limits` holding it; returns `(api, key value, plan id, key id)` once
/// every node serves the stage.
fn keyed_api(nodes: &[Server], limits: Value) -> (String, String, String, String) {
    let cp = Cp::new(&nodes[0]);
    let (api, root) = cp.create_api("cluster-limits");
    let ready = cp.resource(&api, &root, "ready");
    cp.mock(&api, &ready, "GET", "ready");
    let pets = cp.resource(&api, &root, "pets");
    cp.mock(&api, &pets, "GET", "pets");
    cp.ok(
        "PATCH",
        &format!("/restapis/{api}/resources/{pets}/methods/GET"),
        Some(&json!({ "patchOperations": [
            { "op": "replace", "path": "/apiKeyRequired", "value": "true" }
        ] })),
    );
    cp.deploy(&api, "dev");
    let (key_id, value) = cp.api_key("k");
    let plan = cp.usage_plan(&api, "dev", limits, &key_id);
    for n in nodes {
        eventually("every node serves the stage", || {
            (n.invoke(&api, "/dev/ready").status == 200).then_some(())
        });
    }
    // The plan reaches every node's stage limits with the same commit as `ready` or later;
    // a keyed request answered 403 means the key is not known there yet.
    (api, value, plan, key_id)
}

fn get_pets(n: &Server, api: &str, key: &str) -> Response {
    Http::get(n.port, &Server::exec_path(api, "/dev/pets"))
        .header("x-api-key", key)
        .send()
}

/// Waits until `n` knows the key (answers something other than 403 Forbidden), spending
/// at most one admitted request.
fn key_known(n: &Server, api: &str, key: &str) -> Response {
    eventually("the node knows the key", || {
        let r = get_pets(n, api, key);
        (r.status != 403).then_some(r)
    })
}

/// One request through each node once it knows the key; how many were admitted.
fn first_requests(nodes: &[Server], api: &str, key: &str) -> usize {
    nodes
        .iter()
        .filter(|n| key_known(n, api, key).status == 200)
        .count()
}

fn assert_error(r: &Response, status: u16, error_type: &str, message: &str) {
    assert_eq!(r.status, status, "{r}");
    assert_eq!(r.header("x-amzn-ErrorType"), Some(error_type), "{r}");
    assert_eq!(r.json(), json!({ "message": message }), "{r}");
}

#[test]
fn a_plans_rate_holds_across_three_nodes_within_the_bound() {
    let (db, prefix) = (TempDatabase::create(), TempPrefix::new());
    let nodes = three_nodes(&db, &prefix);
    assert!(
        !nodes[0].stderr().contains("without Redis"),
        "{}",
        nodes[0].stderr()
    );
    let (rate, burst) = (10.0, 10.0);
    let (api, key, _, _) = keyed_api(
        &nodes,
        json!({ "throttle": { "rateLimit": rate, "burstLimit": burst as i64 } }),
    );
    for n in &nodes {
        key_known(n, &api, &key);
    }
    // Every node at once, as fast as it answers, for 1.5 s.
    let start = Instant::now();
    let counts: Vec<(usize, usize)> = std::thread::scope(|s| {
        let hs: Vec<_> = nodes
            .iter()
            .map(|n| {
                let (api, key) = (&api, &key);
                s.spawn(move || {
                    let (mut ok, mut throttled) = (0, 0);
                    while start.elapsed() < Duration::from_millis(1500) {
                        let r = get_pets(n, api, key);
                        match r.status {
                            200 => ok += 1,
                            429 => {
                                assert_error(
                                    &r,
                                    429,
                                    "TooManyRequestsException",
                                    "Too Many Requests",
                                );
                                throttled += 1;
                            }
                            _ => panic!("unexpected answer: {r}"),
                        }
                    }
                    (ok, throttled)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().expect("client")).collect()
    });
    let elapsed = start.elapsed().as_secs_f64();
    let admitted: usize = counts.iter().map(|c| c.0).sum();
    let throttled: usize = counts.iter().map(|c| c.1).sum();
    eprintln!("{admitted} admitted, {throttled} throttled in {elapsed:.2} s");
    // The bound, plus one for a token due exactly at the edge.
    let bound = burst + rate * elapsed + OVERSHOOT + 1.0;
    assert!(
        admitted as f64 <= bound,
        "{admitted} admitted by three nodes in {elapsed:.2} s: more than the bound {bound:.1}"
    );
    // Three nodes each limited on their own would admit about three times as much; the
    // shared bucket still admits about its rate (the three requests that found the key
    // may have spent part of the burst).
    assert!(
        admitted as f64 >= rate * elapsed,
        "only {admitted} admitted in {elapsed:.2} s"
    );
    assert!(throttled > 0, "nothing throttled: {counts:?}");
}

#[test]
fn a_quota_is_exact_across_nodes_and_get_usage_reads_it_through_any_node() {
    let (db, prefix) = (TempDatabase::create(), TempPrefix::new());
    let nodes = three_nodes(&db, &prefix);
    let (api, key, plan, key_id) =
        keyed_api(&nodes, json!({ "quota": { "limit": 25, "period": "DAY" } }));
    let mut admitted = first_requests(&nodes, &api, &key);
    // 57 more requests, 19 per node, all nodes at once.
    let counts: Vec<usize> = std::thread::scope(|s| {
        let hs: Vec<_> = nodes
            .iter()
            .map(|n| {
                let (api, key) = (&api, &key);
                s.spawn(move || {
                    (0..19)
                        .filter(|_| {
                            let r = get_pets(n, api, key);
                            if r.status != 200 {
                                assert_error(&r, 429, "LimitExceededException", "Limit Exceeded");
                            }
                            r.status == 200
                        })
                        .count()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().expect("client")).collect()
    });
    admitted += counts.iter().sum::<usize>();
    assert_eq!(admitted, 25, "60 requests over three nodes: {counts:?}");
    // GetUsage through the third node shows every node's requests within 2 s.
    let cp = Cp::new(&nodes[2]);
    let start = Instant::now();
    loop {
        let usage = cp.usage_today(&plan, &key_id);
        if usage == Some((25, 0)) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "GetUsage through another node after 2 s: {usage:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // UpdateUsage through the second node: 3 more, exactly, across the nodes. The Redis
    // write is done before UpdateUsage answers, so the very next request is admitted.
    let r = Cp::new(&nodes[1]).call(
        "PATCH",
        &format!("/usageplans/{plan}/keys/{key_id}/usage"),
        Some(&json!({ "patchOperations": [
            { "op": "replace", "path": "/remaining", "value": "3" }
        ] })),
    );
    assert_eq!(r.status, 200, "UpdateUsage: {r}");
    assert_eq!(
        get_pets(&nodes[0], &api, &key).status,
        200,
        "the first request after UpdateUsage, on another node"
    );
    let more = (0..9)
        .filter(|i| get_pets(&nodes[i % 3], &api, &key).status == 200)
        .count();
    assert_eq!(1 + more, 3, "admitted after UpdateUsage remaining=3");
    drop(nodes);
    assert!(prefix.key_count() > 0, "the nodes wrote under their prefix");
}

#[test]
fn while_redis_is_down_nodes_fail_open_or_closed_and_limits_return_with_it() {
    let db = TempDatabase::create();
    let mut redis = PrivateRedis::start();
    let url = redis.url();
    let nodes = [
        node(&db, &url, "t:", &[]),
        node(&db, &url, "t:", &["--redis-failure", "closed"]),
    ];
    let (api, key, _, _) = keyed_api(&nodes, json!({ "quota": { "limit": 4, "period": "DAY" } }));
    let mut admitted = first_requests(&nodes, &api, &key);
    while admitted < 4 {
        assert_eq!(get_pets(&nodes[0], &api, &key).status, 200);
        admitted += 1;
    }
    for n in &nodes {
        assert_error(
            &get_pets(n, &api, &key),
            429,
            "LimitExceededException",
            "Limit Exceeded",
        );
    }
    redis.kill();
    // Open: requests flow, none waits long on the dead Redis. Closed: 503.
    for _ in 0..10 {
        let start = Instant::now();
        let r = get_pets(&nodes[0], &api, &key);
        assert_eq!(r.status, 200, "fail-open node: {r}");
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "waited {:?}",
            start.elapsed()
        );
        let r = get_pets(&nodes[1], &api, &key);
        assert_eq!(r.status, 503, "fail-closed node: {r}");
        assert_eq!(r.json(), json!({ "message": "Service Unavailable" }), "{r}");
    }
    // One loud line per outage, not one per request.
    let lines = |n: &Server| n.stderr().matches("Redis is unreachable").count();
    assert_eq!(lines(&nodes[0]), 1, "{}", nodes[0].stderr());
    assert_eq!(lines(&nodes[1]), 1, "{}", nodes[1].stderr());
    // Redis returns empty: within 30 s both nodes enforce the quota again (the counter is
    // rebuilt from the counts saved in Postgres, the fail-open requests included).
    redis.resume();
    let start = Instant::now();
    for n in &nodes {
        loop {
            let r = get_pets(n, &api, &key);
            if r.status == 429 {
                assert_error(&r, 429, "LimitExceededException", "Limit Exceeded");
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "limits not back 30 s after Redis returned: {r}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
