//! Cluster mode: several `tollgate serve` processes over one Postgres database (a database
//! of the test's own, dropped at the end) behave as one API Gateway: a change made
//! through any node is served by every node within a second, and writes made on two
//! nodes at once both survive.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use tollgate_store_postgres::testing::{server_setting, TempDatabase};

fn node(db: &TempDatabase) -> Server {
    Server::start_with(
        std::sync::Arc::new(tempfile::tempdir().expect("temp dir")),
        &["--store", &db.url],
    )
}

/// Polls `node` until `path` of `api` answers `status` with `body`; panics after 1 s.
fn served_within_a_second(node: &Server, api: &str, path: &str, status: u16, body: &str) {
    let start = Instant::now();
    loop {
        let r = node.invoke(api, path);
        if r.status == status && r.text() == body {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "node on port {} still answers {r} for {path} 1 s after the change",
            node.port
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_change_through_one_node_is_served_by_every_node_within_a_second() {
    let db = TempDatabase::create();
    let nodes = [node(&db), node(&db), node(&db)];
    // Without --redis a node says its limits are its own.
    let warned = "cluster store without Redis: throttling, quotas and caches are per node";
    assert!(nodes[0].stderr().contains(warned), "{}", nodes[0].stderr());
    let cp = Cp::new(&nodes[0]);
    let (api, root) = cp.create_api("cluster");
    let pets = cp.resource(&api, &root, "pets");
    cp.mock(&api, &pets, "GET", "one");
    cp.deploy(&api, "dev");
    for n in &nodes[1..] {
        served_within_a_second(n, &api, "/dev/pets", 200, "one");
    }
    // A change made through another node, seen by the first and the third.
    let cp2 = Cp::new(&nodes[1]);
    cp2.put_integration_response(
        &api,
        &pets,
        "GET",
        "200",
        json!({ "responseTemplates": { "application/json": "two" } }),
    );
    cp2.deploy(&api, "dev");
    for n in [&nodes[0], &nodes[2]] {
        served_within_a_second(n, &api, "/dev/pets", 200, "two");
    }
    // The control plane of every node reads the same state.
    let listed = apigw(&nodes[2], &["get-resources", "--rest-api-id", &api]);
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(2),
        "{listed:#}"
    );
    // Each node labels its own series: `node` is its --listen address.
    for n in &nodes {
        let scrape = Http::get(n.port, "/metrics").send().text();
        let line = scrape
            .lines()
            .find(|l| l.starts_with("apigateway_requests_total{") && l.contains(&api))
            .unwrap_or_else(|| panic!("no request series for {api}: {scrape}"));
        let label = format!(":{}\",", n.port);
        assert!(
            line.starts_with("apigateway_requests_total{node=\""),
            "{line}"
        );
        assert!(line.contains(&label), "{line}");
    }
    // And a node started later loads it.
    let late = node(&db);
    assert_eq!(late.invoke(&api, "/dev/pets").text(), "two");
}

/// The paths of `api`'s resources, as `node`'s control plane lists them.
fn resource_paths(node: &Server, api: &str) -> Vec<String> {
    let listed = apigw(
        node,
        &["get-resources", "--rest-api-id", api, "--limit", "500"],
    );
    listed["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{listed:#}"))
        .iter()
        .filter_map(|r| r["path"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn writes_on_two_nodes_at_once_both_survive() {
    const EACH: usize = 8;
    let db = TempDatabase::create();
    let nodes = [node(&db), node(&db)];
    let (api, root) = Cp::new(&nodes[0]).create_api("busy");
    let tags = format!(
        "/tags/{}",
        encode_segment(&format!("arn:aws:apigateway:us-east-1::/restapis/{api}"))
    );
    // Both nodes add resources and tags to the same API at the same time: their commits
    // race for the same version, and the loser reloads and runs its write again. The tags
    // are one row (the API's), so a write applied over a stale copy would lose the other
    // node's tags.
    std::thread::scope(|s| {
        for (i, n) in nodes.iter().enumerate() {
            let (api, root, tags) = (&api, &root, &tags);
            s.spawn(move || {
                let cp = Cp::new(n);
                for j in 0..EACH {
                    cp.resource(api, root, &format!("n{i}r{j}"));
                    let r = cp.call(
                        "PUT",
                        tags,
                        Some(&json!({ "tags": { format!("n{i}t{j}"): "x" } })),
                    );
                    assert_eq!(r.status, 204, "TagResource:\n{r}");
                }
            });
        }
    });
    for n in &nodes {
        let paths = resource_paths(n, &api);
        let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
        assert_eq!(paths.len(), 1 + 2 * EACH, "{paths:?}");
        for i in 0..2 {
            for j in 0..EACH {
                let path = format!("/n{i}r{j}");
                assert!(paths.contains(&path.as_str()), "{path} lost: {paths:?}");
            }
        }
        let tagged = Cp::new(n).ok("GET", &tags, None);
        let keys = tagged["tags"].as_object().map_or(0, |t| t.len());
        assert_eq!(keys, 2 * EACH, "tags lost: {tagged:#}");
    }
}

#[test]
fn a_node_killed_mid_load_loses_no_acknowledged_write() {
    let db = TempDatabase::create();
    let mut nodes = [node(&db), node(&db)];
    let cp = Cp::new(&nodes[0]);
    let (api, root) = cp.create_api("crash");
    let acknowledged = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        s.spawn(|| {
            // Writes until the node dies; a write answered 201 was acknowledged.
            for i in 0.. {
                let body = json!({ "pathPart": format!("r{i}") });
                match cp.try_call(
                    "POST",
                    &format!("/restapis/{api}/resources/{root}"),
                    Some(&body),
                ) {
                    Ok(r) if r.status == 201 => acknowledged.lock().unwrap().push(format!("/r{i}")),
                    Ok(r) => panic!("write {i} failed before the kill: {r}"),
                    Err(_) => return,
                }
            }
        });
        eventually("some writes acknowledged", || {
            (acknowledged.lock().unwrap().len() >= 10).then_some(())
        });
        nodes[0].kill9();
    });
    let acknowledged = acknowledged.into_inner().unwrap();
    let paths = resource_paths(&nodes[1], &api);
    for p in &acknowledged {
        assert!(paths.contains(p), "acknowledged {p} lost: {paths:?}");
    }
}

fn tollgate(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(args)
        .envs(env.iter().copied())
        .env_remove("TOLLGATE_STORE")
        .env_remove("SSL_CERT_FILE")
        .output()
        .expect("run tollgate");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn migrate_creates_the_schema_over_tls_with_a_trusted_certificate_only() {
    let db = TempDatabase::create();
    // The local server's certificate is self-signed for `localhost`: trusted when named
    // by SSL_CERT_FILE, and only for that name (the certificate is verified).
    assert_eq!(
        server_setting("ssl"),
        "on",
        "the test server must offer TLS"
    );
    let cert = server_setting("ssl_cert_file");
    let over_tls = db.url.replace("sslmode=disable", "sslmode=require");
    let trusted = [("SSL_CERT_FILE", cert.as_str())];
    let (ok, text) = tollgate(&["migrate", "--store", &over_tls], &trusted);
    assert!(!ok && text.contains("TLS handshake"), "{text}");
    let over_tls = over_tls.replace("127.0.0.1", "localhost");
    let (ok, text) = tollgate(&["migrate", "--store", &over_tls], &trusted);
    assert!(ok, "{text}");
    let version = tollgate_store_postgres::SCHEMA_VERSION;
    assert_eq!(
        text.trim(),
        format!("created the store's schema (version {version})")
    );
    let (ok, text) = tollgate(&["migrate", "--store", &db.url], &[]);
    assert!(ok, "{text}");
    assert_eq!(
        text.trim(),
        format!("the store's schema is current (version {version})")
    );
    let (ok, text) = tollgate(&["migrate", "--store", "mysql://u:s3cret@h/db"], &[]);
    assert!(!ok && !text.contains("s3cret"), "{text}");
    assert!(text.contains("--store takes a Postgres URL"), "{text}");
}

#[test]
fn serve_with_an_unreachable_store_exits_with_the_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().to_str().expect("utf-8 path");
    let (ok, text) = tollgate(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data_dir,
            "--store",
            "postgres://u:s3cret@127.0.0.1:1/db?sslmode=disable&connect_timeout=5",
        ],
        &[],
    );
    assert!(!ok, "{text}");
    assert!(text.contains("tollgate: storage error: Postgres"), "{text}");
    assert!(
        !text.contains("s3cret") && !text.contains("listening on"),
        "{text}"
    );
}

/// A function uploaded through one node runs on another: the package is kept in the
/// database and unpacked by the node that first needs it.
#[test]
fn a_function_uploaded_through_one_node_runs_on_another() {
    let db = TempDatabase::create();
    let nodes = [node(&db), node(&db)];
    let dir = tempfile::tempdir().unwrap();
    let zip = lambda::zip_file(
        dir.path(),
        "f.zip",
        &[(
            "app.py",
            "def handler(event, context):\n    return {'seen': event['n'] * 2}\n",
            0o644,
        )],
    );
    lambda::create_function(&nodes[0], "doubler", "python3.12", "app.handler", &zip, &[]);
    let out = dir.path().join("out.json");
    eventually("node 2 runs the function", || {
        let r = aws(
            &nodes[1],
            &[
                "lambda",
                "invoke",
                "--function-name",
                "doubler",
                "--payload",
                r#"{"n": 21}"#,
                out.to_str().unwrap(),
            ],
        );
        r.ok().filter(|v| v["FunctionError"].is_null())
    });
    let payload: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(payload, json!({ "seen": 42 }));
}

/// A Python function that appends `{event['n']} {where}` to the file `event['file']`,
/// `where` being the worker's Runtime API address (each node has its own), after
/// `event['sleep']` seconds.
fn recorder(node: &Server, dir: &std::path::Path, name: &str, timeout: &str) {
    let zip = lambda::zip_file(
        dir,
        &format!("{name}.zip"),
        &[(
            "app.py",
            "import os, time\n\
             def handler(event, context):\n\
             \x20   where = os.environ['AWS_LAMBDA_RUNTIME_API']\n\
             \x20   with open(event['file'], 'a') as f:\n\
             \x20       f.write(f\"start {event['n']} {where}\\n\")\n\
             \x20   time.sleep(event.get('sleep', 0))\n\
             \x20   with open(event['file'], 'a') as f:\n\
             \x20       f.write(f\"done {event['n']} {where}\\n\")\n",
            0o644,
        )],
    );
    lambda::create_function(
        node,
        name,
        "python3.12",
        "app.handler",
        &zip,
        &["--timeout", timeout],
    );
}

fn invoke_event(node: &Server, name: &str, payload: &serde_json::Value, out: &std::path::Path) {
    aws(
        node,
        &[
            "lambda",
            "invoke",
            "--function-name",
            name,
            "--invocation-type",
            "Event",
            "--payload",
            &payload.to_string(),
            out.to_str().unwrap(),
        ],
    )
    .unwrap_or_else(|e| panic!("Event invoke: {}", e.stderr));
}

/// Lines of `file` that start with `what`.
fn lines(file: &std::path::Path, what: &str) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with(what))
        .map(str::to_string)
        .collect()
}

/// `Event` invocations accepted by any node are queued in the database and each runs once,
/// on whichever node claims it.
#[test]
fn events_queued_through_any_node_each_run_once() {
    let db = TempDatabase::create();
    let nodes = [node(&db), node(&db)];
    let dir = tempfile::tempdir().unwrap();
    recorder(&nodes[0], dir.path(), "recorder", "3");
    let file = dir.path().join("runs.txt");
    let out = dir.path().join("out.json");
    for n in 0..10 {
        let payload = json!({ "n": n, "file": file.to_str().unwrap() });
        invoke_event(&nodes[n % 2], "recorder", &payload, &out);
    }
    eventually("every event ran", || {
        (lines(&file, "done").len() >= 10).then_some(())
    });
    // Give a second run of any event time to show up.
    std::thread::sleep(Duration::from_secs(2));
    let mut ran: Vec<String> = lines(&file, "done")
        .iter()
        .map(|l| l.split(' ').nth(1).unwrap().to_string())
        .collect();
    ran.sort_by_key(|n| n.parse::<u32>().unwrap());
    let expected: Vec<String> = (0..10).map(|n| n.to_string()).collect();
    assert_eq!(ran, expected, "each event runs exactly once");
}

/// An event whose node dies while running it runs again on another node once the claim
/// lapses (the function's timeout and 30 s).
#[test]
fn an_event_held_by_a_node_that_dies_runs_on_another() {
    let db = TempDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("runs.txt");
    let first = node(&db);
    recorder(&first, dir.path(), "slow", "6");
    let payload = json!({ "n": 1, "file": file.to_str().unwrap(), "sleep": 5 });
    invoke_event(&first, "slow", &payload, &dir.path().join("out.json"));
    let started = eventually("the first node runs the event", || {
        lines(&file, "start").first().cloned()
    });
    let first_runtime = started.split(' ').nth(2).unwrap().to_string();
    drop(first);
    let second = node(&db);
    // The claim lapses 36 s after the first node took it; 60 s is the patience.
    eventually_within(Duration::from_secs(60), "another node runs it", || {
        lines(&file, "done")
            .into_iter()
            .find(|l| !l.ends_with(&first_runtime))
    });
    drop(second);
}
