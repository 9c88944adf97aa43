//! Cluster mode with Redis (`--redis`): three nodes over one Postgres database (the test's
//! own, dropped at the end) and one Redis key prefix (the test's own, deleted at the end)
//! enforce a usage plan's rate and quota as one API Gateway; while Redis is unreachable a
//! node fails open or closed, as configured, and limits apply again once it returns.
//!
//! The throttling bound (README, "Run a cluster"): over `t` seconds the cluster admits at
//! most `burst + rate × t + 5` requests of one bucket, whatever the number of nodes.

mod common;

use std::time::{Duration, Instant};

use common::websocket;
use common::*;
use serde_json::{json, Value};
use tollgate_store_postgres::testing::TempDatabase;
use tollgate_store_redis::testing::{PrivateRedis, TempPrefix};

/// The leases' overshoot the README states, for the rate of 10 requests/s used here.
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

/// `n` nodes over `db` and `prefix`, with default flags.
fn nodes(db: &TempDatabase, prefix: &TempPrefix, n: usize) -> Vec<Server> {
    (0..n)
        .map(|_| node(db, &prefix.url, &prefix.prefix, &[]))
        .collect()
}

fn three_nodes(db: &TempDatabase, prefix: &TempPrefix) -> Vec<Server> {
    nodes(db, prefix, 3)
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

/// A stage's response cache lives in Redis: a response cached through one node is served
/// by another without reaching the backend, and FlushStageCache through any node empties
/// it for every node.
#[test]
fn a_response_cached_through_one_node_is_served_by_another_and_flushed_for_all() {
    let db = TempDatabase::create();
    let prefix = TempPrefix::new();
    let nodes = nodes(&db, &prefix, 2);
    let backend = Backend::start();
    let hits = || {
        backend
            .seen()
            .iter()
            .filter(|s| s.path == "/proxied")
            .count()
    };
    let cp = Cp::new(&nodes[0]);
    let (api, root) = cp.create_api("cluster-cache");
    let proxy = cp.resource(&api, &root, "proxy");
    let uri = format!("{}/proxied", backend.url());
    cp.http_proxy(&api, &proxy, "GET", &uri, &[], None);
    cp.deploy(&api, "dev");
    update_stage(
        &nodes[0],
        &api,
        "dev",
        &json!([
            {"op": "replace", "path": "/cacheClusterEnabled", "value": "true"},
            {"op": "replace", "path": "/*/*/caching/enabled", "value": "true"},
        ]),
    );
    for n in &nodes {
        eventually("every node has the stage's cache", || {
            let st = apigw(
                n,
                &["get-stage", "--rest-api-id", &api, "--stage-name", "dev"],
            );
            (st["cacheClusterStatus"] == "AVAILABLE").then_some(())
        });
    }
    let first = nodes[0].invoke(&api, "/dev/proxy");
    assert_eq!(first.status, 200, "{first}");
    assert_eq!(hits(), 1);
    // The entry is written in the background, after the response.
    eventually("the entry is in Redis", || {
        (prefix.keys_under("cache:") > 0).then_some(())
    });
    let other = nodes[1].invoke(&api, "/dev/proxy");
    assert_eq!((other.status, other.text()), (200, first.text()), "{other}");
    assert_eq!(hits(), 1, "node 2 answered from the shared cache");

    apigw(
        &nodes[1],
        &[
            "flush-stage-cache",
            "--rest-api-id",
            &api,
            "--stage-name",
            "dev",
        ],
    );
    let after = nodes[0].invoke(&api, "/dev/proxy");
    assert_eq!(after.status, 200, "{after}");
    assert_eq!(
        hits(),
        2,
        "the flush through node 2 emptied node 1's cache too"
    );
}

/// A WebSocket API (`$request.body.action`, one MOCK route `ping`, stage `prod`
/// auto-deployed) made through `cp_node`; its id once every node serves it.
fn websocket_api(cp_node: &Server, nodes: &[Server]) -> String {
    let api = websocket::ws_api(cp_node, "$request.body.action");
    let integration = v2(
        cp_node,
        &[
            "create-integration",
            "--api-id",
            &api,
            "--integration-type",
            "MOCK",
            "--request-templates",
            r#"{"$default": "{\"statusCode\": 200}"}"#,
        ],
    )["IntegrationId"]
        .as_str()
        .unwrap()
        .to_string();
    v2(
        cp_node,
        &[
            "create-route",
            "--api-id",
            &api,
            "--route-key",
            "ping",
            "--target",
            &format!("integrations/{integration}"),
        ],
    );
    v2(
        cp_node,
        &[
            "create-stage",
            "--api-id",
            &api,
            "--stage-name",
            "prod",
            "--auto-deploy",
        ],
    );
    for n in std::iter::once(cp_node).chain(nodes) {
        eventually("every node serves the WebSocket stage", || {
            let r = Http::get(n.port, "/prod")
                .header("host", &format!("{api}.execute-api.localhost"))
                .send();
            // Without an upgrade a served stage answers 426; an unknown one 403 or 404.
            (r.status == 426).then_some(())
        });
    }
    api
}

/// Connects to `node`'s `prod` stage of `api`; the connection and its id.
async fn connect_with_id(node: &Server, api: &str) -> (websocket::Client, String) {
    let url = format!("ws://{api}.execute-api.localhost:{}/prod", node.port);
    websocket::connect_with_id(&url).await
}

/// `@connections` through any node reaches a socket another node holds (the call is
/// signed by the aws CLI and passed on whole), and a node that dies has its connections
/// answered 410 Gone.
#[test]
fn connections_api_on_one_node_reaches_a_socket_held_by_another() {
    let db = TempDatabase::create();
    let prefix = TempPrefix::new();
    let first = node(&db, &prefix.url, &prefix.prefix, &[]);
    let mut second = Some(node(&db, &prefix.url, &prefix.prefix, &[]));
    let api = websocket_api(&first, std::slice::from_ref(second.as_ref().unwrap()));
    let endpoint = format!("{}/_aws/execute-api/{api}/prod", first.endpoint());
    let on_first =
        |op: &str, id: &str, extra: &[&str]| websocket::manage(&first, op, &endpoint, id, extra);
    websocket::rt().block_on(async {
        let (mut ws, id) = connect_with_id(second.as_ref().unwrap(), &api).await;
        // The node records the connection in the background, just after the handshake.
        eventually("node 1 learns where the connection is", || {
            on_first("post-to-connection", &id, &["--data", "hello from node 1"]).ok()
        });
        assert_eq!(websocket::next_text(&mut ws).await, "hello from node 1");
        let got = on_first("get-connection", &id, &[]).unwrap();
        assert_eq!(got["Identity"]["SourceIp"], "127.0.0.1", "{got:#}");
        on_first("delete-connection", &id, &[]).unwrap();
        assert_eq!(websocket::close_code(&mut ws).await, 1000);
        let e = on_first("post-to-connection", &id, &["--data", "late"]).unwrap_err();
        assert!(e.stderr.contains("GoneException"), "{}", e.stderr);

        // A node that stops takes its connections with it.
        let (_ws, id) = connect_with_id(second.as_ref().unwrap(), &api).await;
        eventually("node 1 learns where the second connection is", || {
            on_first("get-connection", &id, &[]).ok()
        });
        drop(second.take());
        let e = on_first("post-to-connection", &id, &["--data", "to nobody"]).unwrap_err();
        assert!(e.stderr.contains("GoneException"), "{}", e.stderr);
    });
}

/// A TOKEN authorizer whose function allows every token and appends it to `MARK`.
const COUNTING_AUTHORIZER: &str = r#"
import os
def handler(event, context):
    with open(os.environ["MARK"], "a") as f:
        f.write(event["authorizationToken"] + "\n")
    return {"principalId": "p", "policyDocument": {"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"}]}}
"#;

/// A Lambda authorizer's cached answer is shared: a token authorized through one node is
/// not sent to the authorizer again by another, and a flush through any node makes every
/// node ask the authorizer again.
#[test]
fn an_authorizer_answer_cached_through_one_node_is_reused_and_flushed_by_all() {
    let db = TempDatabase::create();
    let prefix = TempPrefix::new();
    let nodes = nodes(&db, &prefix, 2);
    let dir = tempfile::tempdir().unwrap();
    let mark = dir.path().join("calls");
    let calls = || {
        std::fs::read_to_string(&mark)
            .unwrap_or_default()
            .lines()
            .count()
    };
    let zip = lambda::zip_file(
        dir.path(),
        "auth.zip",
        &[("auth.py", COUNTING_AUTHORIZER, 0o644)],
    );
    let env = format!("Variables={{MARK={}}}", mark.display());
    lambda::create_function(
        &nodes[0],
        "auth",
        "python3.12",
        "auth.handler",
        &zip,
        &["--environment", &env],
    );
    let cp = Cp::new(&nodes[0]);
    let (api, root) = cp.create_api("cluster-authorizer");
    let authorizer = apigw(
        &nodes[0],
        &[
            "create-authorizer",
            "--rest-api-id",
            &api,
            "--name",
            "tok",
            "--type",
            "TOKEN",
            "--authorizer-uri",
            &lambda::fn_uri("auth"),
            "--identity-source",
            "method.request.header.Auth",
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    lambda::grant_authorizer(&nodes[0], "auth", &api);
    let pets = cp.resource(&api, &root, "pets");
    cp.mock(&api, &pets, "GET", "pets");
    cp.ok(
        "PATCH",
        &format!("/restapis/{api}/resources/{pets}/methods/GET"),
        Some(&json!({ "patchOperations": [
            { "op": "replace", "path": "/authorizationType", "value": "CUSTOM" },
            { "op": "replace", "path": "/authorizerId", "value": authorizer },
        ] })),
    );
    cp.deploy(&api, "dev");
    let get = |n: &Server| {
        Http::get(n.port, &Server::exec_path(&api, "/dev/pets"))
            .header("Auth", "alice")
            .send()
    };
    for n in &nodes {
        eventually("every node serves the stage", || {
            (n.invoke(&api, "/dev/pets").status == 401).then_some(())
        });
    }
    let first = get(&nodes[0]);
    assert_eq!(
        (first.status, first.text()),
        (200, "pets".to_string()),
        "{first}"
    );
    assert_eq!(calls(), 1);
    eventually("the answer is in Redis", || {
        (prefix.keys_under("authorizer:") > 0).then_some(())
    });
    let other = get(&nodes[1]);
    assert_eq!(other.status, 200, "{other}");
    assert_eq!(calls(), 1, "node 2 reused node 1's answer");

    apigw(
        &nodes[1],
        &[
            "flush-stage-authorizers-cache",
            "--rest-api-id",
            &api,
            "--stage-name",
            "dev",
        ],
    );
    // Node 1 hears of the flush from Redis; until then its own copy may still answer.
    eventually("node 1 asks the authorizer again", || {
        assert_eq!(get(&nodes[0]).status, 200);
        (calls() == 2).then_some(())
    });
}
