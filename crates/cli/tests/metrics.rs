//! `GET /metrics`: real requests through the real binary, then the Prometheus text parsed
//! here and its series checked by name and labels: REST methods with `metricsEnabled`, the
//! stage's own series for every other request (gateway errors included), canary requests,
//! HTTP API routes with detailed metrics, a Lambda function's invocations; where the
//! endpoint answers (control-plane listener, not `{id}.execute-api.*` hosts) and who may
//! read it (loopback; beyond it a SigV4 signature or the `--metrics-token` bearer).

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::lambda::*;
use common::*;
use serde_json::json;

type Labels = BTreeMap<String, String>;

/// One sample line: `name{k="v",...} value`, with Prometheus's label escapes.
fn parse_sample(line: &str) -> (String, Labels, f64) {
    let (series, value) = line.rsplit_once(' ').expect("a value");
    let value: f64 = value.parse().unwrap_or_else(|_| panic!("value of {line}"));
    let Some((name, rest)) = series.split_once('{') else {
        return (series.to_string(), Labels::new(), value);
    };
    let mut labels = Labels::new();
    let mut chars = rest
        .strip_suffix('}')
        .expect("closing brace")
        .chars()
        .peekable();
    loop {
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        assert_eq!(chars.next(), Some('"'), "{line}");
        let mut v = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => v.push('\n'),
                    Some(o) => v.push(o),
                    None => panic!("{line}"),
                },
                '"' => break,
                c => v.push(c),
            }
        }
        labels.insert(key, v);
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    (name.to_string(), labels, value)
}

/// The scrape: every sample, after checking each family has one `# TYPE` line before its
/// samples.
fn scrape(text: &str) -> Vec<(String, Labels, f64)> {
    let mut typed: Vec<String> = Vec::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(t) = line.strip_prefix("# TYPE ") {
            let name = t.split(' ').next().unwrap().to_string();
            assert!(!typed.contains(&name), "two TYPE lines for {name}:\n{text}");
            typed.push(name);
        } else if !line.starts_with('#') && !line.is_empty() {
            let s = parse_sample(line);
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| s.0.strip_suffix(suffix))
                .filter(|f| typed.iter().any(|t| t == f))
                .unwrap_or(&s.0)
                .to_string();
            assert!(typed.contains(&family), "{} before its TYPE:\n{text}", s.0);
            samples.push(s);
        }
    }
    samples
}

fn get_metrics(s: &Server) -> Vec<(String, Labels, f64)> {
    let r = Http::get(s.port, "/metrics").send();
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    scrape(&r.text())
}

/// The value of the one sample named `name` whose labels are exactly `labels`.
fn value(samples: &[(String, Labels, f64)], name: &str, labels: &[(&str, &str)]) -> f64 {
    let want: Labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let found: Vec<f64> = samples
        .iter()
        .filter(|(n, l, _)| n == name && *l == want)
        .map(|s| s.2)
        .collect();
    assert_eq!(found.len(), 1, "{name} {want:?} in {samples:#?}");
    found[0]
}

/// A REST API `pets` with MOCK `GET /pets`, deployed to `prod`; (api id, resource id).
fn pets_api(s: &Server) -> (String, String) {
    let api = str_of(&apigw(s, &["create-rest-api", "--name", "pets"]), "id");
    let root = apigw(s, &["get-resources", "--rest-api-id", &api])["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let pets = create_resource(s, &api, &root, "pets");
    mock_method(
        s,
        (&api, &pets, "GET"),
        &["--authorization-type", "NONE"],
        r#"{"pets": []}"#,
    );
    deploy(s, &api, "prod");
    (api, pets)
}

#[test]
fn rest_requests_count_per_method_stage_and_canary() {
    let s = Server::start();
    let (api, _) = pets_api(&s);
    let ops = json!([{"op": "replace", "path": "/~1pets/GET/metrics/enabled", "value": "true"}]);
    update_stage(&s, &api, "prod", &ops);
    for _ in 0..3 {
        assert_eq!(s.invoke(&api, "/prod/pets").status, 200);
    }
    // No such resource or method: gateway errors, counted on the stage's own series.
    assert_eq!(s.invoke(&api, "/prod/pets/12345").status, 403);
    assert_eq!(
        Http::post(s.port, &Server::exec_path(&api, "/prod/pets"))
            .send()
            .status,
        403
    );
    // A canary taking every request of `beta`.
    deploy(&s, &api, "beta");
    deploy_with(
        &s,
        &api,
        "beta",
        &["--canary-settings", "percentTraffic=100"],
    );
    for _ in 0..2 {
        assert_eq!(s.invoke(&api, "/beta/pets").status, 200);
    }

    let m = get_metrics(&s);
    let method = [
        ("api_id", api.as_str()),
        ("api_name", "pets"),
        ("stage", "prod"),
        ("resource", "/pets"),
        ("method", "GET"),
    ];
    let stage = [
        ("api_id", api.as_str()),
        ("api_name", "pets"),
        ("stage", "prod"),
    ];
    assert_eq!(value(&m, "apigateway_requests_total", &method), 3.0);
    assert_eq!(value(&m, "apigateway_4xx_errors_total", &method), 0.0);
    assert_eq!(value(&m, "apigateway_latency_seconds_count", &method), 3.0);
    let mut inf = method.to_vec();
    inf.push(("le", "+Inf"));
    assert_eq!(value(&m, "apigateway_latency_seconds_bucket", &inf), 3.0);
    // MOCK calls no backend: no integration latency observed.
    assert_eq!(
        value(&m, "apigateway_integration_latency_seconds_count", &method),
        0.0
    );
    assert_eq!(value(&m, "apigateway_requests_total", &stage), 2.0);
    assert_eq!(value(&m, "apigateway_4xx_errors_total", &stage), 2.0);
    assert_eq!(value(&m, "apigateway_5xx_errors_total", &stage), 0.0);
    // Summed over the stage, every request once.
    let prod_total: f64 = m
        .iter()
        .filter(|(n, l, _)| {
            n == "apigateway_requests_total" && l.get("stage").map(String::as_str) == Some("prod")
        })
        .map(|s| s.2)
        .sum();
    assert_eq!(prod_total, 5.0);
    let canary = [
        ("api_id", api.as_str()),
        ("api_name", "pets"),
        ("stage", "beta"),
        ("canary", "true"),
    ];
    assert_eq!(value(&m, "apigateway_requests_total", &canary), 2.0);
    assert_eq!(
        value(
            &m,
            "apigateway_requests_total",
            &[
                ("api_id", api.as_str()),
                ("api_name", "pets"),
                ("stage", "beta")
            ]
        ),
        0.0
    );
    // Labels come from the deployment, never from the path a client sent.
    assert!(
        !m.iter()
            .any(|(_, l, _)| l.values().any(|v| v.contains("12345"))),
        "{m:#?}"
    );
}

#[test]
fn http_api_routes_and_lambda_functions_are_counted() {
    let s = Server::start();
    let (rest, _) = pets_api(&s);
    let http = v2_http_api(&s, "front");
    let backend = format!("{}{}", s.endpoint(), Server::exec_path(&rest, "/prod/pets"));
    let integration = v2_http_proxy(&s, &http, "GET", &backend, &[]);
    v2_route(&s, &http, "GET /pets", &integration, &[]);
    v2(
        &s,
        &[
            "create-stage",
            "--api-id",
            &http,
            "--stage-name",
            "$default",
            "--auto-deploy",
            "--default-route-settings",
            "DetailedMetricsEnabled=true",
        ],
    );
    for _ in 0..2 {
        assert_eq!(s.invoke(&http, "/pets").status, 200);
    }
    assert_eq!(s.invoke(&http, "/nothing").status, 404);

    let zip = zip_file(
        s.data_path(),
        "hello.zip",
        &[(
            "app.py",
            "def handler(event, context):\n    return {'statusCode': 200, 'body': 'hi'}\n",
            0o644,
        )],
    );
    create_function(&s, "hello", "python3.12", "app.handler", &zip, &[]);
    let fn_api = proxy_api(&s, "hello");
    let ops = json!([{"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"}]);
    update_stage(&s, &fn_api, "prod", &ops);
    for _ in 0..2 {
        let r = s.invoke(&fn_api, "/prod/anything/here");
        assert_eq!(r.status, 200, "{r}");
    }

    let m = get_metrics(&s);
    let route = [
        ("api_id", http.as_str()),
        ("api_name", "front"),
        ("stage", "$default"),
        ("route", "GET /pets"),
    ];
    assert_eq!(value(&m, "apigateway_requests_total", &route), 2.0);
    assert_eq!(
        value(&m, "apigateway_integration_latency_seconds_count", &route),
        2.0
    );
    assert!(value(&m, "apigateway_data_processed_bytes_total", &route) > 0.0);
    let stage = [
        ("api_id", http.as_str()),
        ("api_name", "front"),
        ("stage", "$default"),
    ];
    assert_eq!(value(&m, "apigateway_requests_total", &stage), 1.0);
    assert_eq!(value(&m, "apigateway_4xx_errors_total", &stage), 1.0);

    let proxy = [
        ("api_id", fn_api.as_str()),
        ("api_name", "lambda-proxy"),
        ("stage", "prod"),
        ("resource", "/{proxy+}"),
        ("method", "ANY"),
    ];
    assert_eq!(value(&m, "apigateway_requests_total", &proxy), 2.0);
    assert_eq!(
        value(&m, "apigateway_integration_latency_seconds_count", &proxy),
        2.0
    );
    let f = [("function_name", "hello"), ("version", "$LATEST")];
    assert_eq!(value(&m, "lambda_invocations_total", &f), 2.0);
    assert_eq!(value(&m, "lambda_errors_total", &f), 0.0);
    assert_eq!(value(&m, "lambda_cold_starts_total", &f), 1.0);
    assert_eq!(value(&m, "lambda_concurrent_executions", &f), 0.0);
    assert_eq!(value(&m, "lambda_duration_seconds_count", &f), 2.0);
}

#[test]
fn metrics_are_not_answered_on_execute_api_hosts() {
    let s = Server::start();
    let (api, _) = pets_api(&s);
    deploy(&s, &api, "metrics");
    let host = format!("{api}.execute-api.localhost");
    // A stage named `metrics` still reaches its API.
    let r = Http::get(s.port, "/metrics/pets")
        .header("Host", &host)
        .send();
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.text(), r#"{"pets": []}"#);
    // `/metrics` on the API's host is the API's (no such resource), not the gateway's.
    let r = Http::get(s.port, "/metrics").header("Host", &host).send();
    assert_eq!(r.status, 403, "{r}");
    assert!(!r.text().contains("# TYPE"), "{r}");
    // An unknown API's host is not the gateway's either.
    let r = Http::get(s.port, "/metrics")
        .header("Host", "nope.execute-api.localhost")
        .send();
    assert!(!r.text().contains("# TYPE"), "{r}");
    // The gateway's own host serves them.
    assert!(Http::get(s.port, "/metrics")
        .send()
        .text()
        .contains("# TYPE"));
}

/// This machine's address on its default route (not loopback), if it has one.
fn non_loopback_ip() -> Option<std::net::IpAddr> {
    let sock = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    sock.connect("192.0.2.200:9")
        .or_else(|_| sock.connect("203.0.113.1:9"))
        .ok()?;
    let ip = sock.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn beyond_loopback_a_scrape_needs_the_token_or_a_signature() {
    let Some(ip) = non_loopback_ip() else {
        eprintln!("no non-loopback address on this machine: nothing to test");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["serve", "--listen", "127.0.0.1:0", "--admin-listen"])
        .arg(format!("{ip}:0"))
        .args([
            "--access-key-id",
            "AKIDMETRICS",
            "--secret-access-key",
            "s3cret",
        ])
        .args(["--metrics-token", "let-me-scrape"])
        .arg("--data-dir")
        .arg(dir.path())
        .env("TOLLGATE_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stderr = child.stderr.take().unwrap();
    let _guard = Kill(child);
    let mut lines = BufReader::new(stderr).lines();
    let line = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l.contains("listening on"))
        .expect("listen line");
    std::thread::spawn(move || lines.for_each(drop));
    let port_after = |prefix: &str| -> u16 {
        let rest = line
            .split_once(prefix)
            .unwrap_or_else(|| panic!("{prefix} in {line}"))
            .1;
        rest.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap()
    };
    let data_port = port_after("http://127.0.0.1:");
    let admin = format!("http://{ip}:{}", port_after(&format!("http://{ip}:")));
    let curl = |args: &[&str]| -> (u16, String) {
        let out = Command::new("curl")
            .args(["-s", "-w", "\n%{http_code}"])
            .args(args)
            .arg(format!("{admin}/metrics"))
            .output()
            .expect("curl");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap();
        (code.parse().unwrap(), body.to_string())
    };
    let (status, body) = curl(&[]);
    assert_eq!(status, 403, "{body}");
    assert!(!body.contains("# TYPE"), "{body}");
    let (status, body) = curl(&["-H", "Authorization: Bearer wrong"]);
    assert_eq!(status, 403, "{body}");
    assert!(!body.contains("# TYPE"), "{body}");
    let (status, body) = curl(&["-H", "Authorization: Bearer let-me-scrape"]);
    assert_eq!(status, 200, "{body}");
    scrape(&body);
    let (status, body) = curl(&[
        "--aws-sigv4",
        "aws:amz:us-east-1:apigateway",
        "--user",
        "AKIDMETRICS:s3cret",
    ]);
    assert_eq!(status, 200, "{body}");
    let (status, body) = curl(&[
        "--aws-sigv4",
        "aws:amz:us-east-1:apigateway",
        "--user",
        "AKIDMETRICS:not-the-secret",
    ]);
    assert_eq!(status, 403, "{body}");
    // The data-plane-only listener has no `/metrics`, even for a loopback client.
    let r = Http::get(data_port, "/metrics").send();
    assert_eq!(r.status, 403, "{r}");
    assert!(!r.text().contains("# TYPE"), "{r}");
}

#[test]
fn websocket_connects_messages_and_client_errors_are_counted() {
    let s = Server::start();
    let api = websocket::ws_api(&s, "$request.body.action");
    let mock = websocket::mock_echo(&s, &api, "pong");
    websocket::two_way_route(&s, &api, "ping", &mock);
    let backend = Backend::start();
    let echo = format!("{}/e?raw=1", backend.url());
    let relay = websocket::http_integration(&s, &api, "HTTP_PROXY", &echo, &[]);
    websocket::two_way_route(&s, &api, "relay", &relay);
    v2(
        &s,
        &[
            "create-stage",
            "--api-id",
            &api,
            "--stage-name",
            "prod",
            "--auto-deploy",
            "--default-route-settings",
            "DetailedMetricsEnabled=true",
        ],
    );
    // One client: two pings (answered), a relayed message and a message no route takes.
    let url = format!("ws://127.0.0.1:{}/_aws/execute-api/{api}/prod", s.port);
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["ws", &url, "--for", "2"])
        .args([
            "--send",
            r#"{"action":"ping"}"#,
            "--send",
            r#"{"action":"ping"}"#,
        ])
        .args(["--send", r#"{"action":"relay"}"#])
        .args(["--send", r#"{"action":"nope"}"#])
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(printed.matches("pong").count(), 2, "{printed}");
    assert!(printed.contains(r#"{"action":"relay"}"#), "{printed}");
    assert!(printed.contains("Forbidden"), "{printed}");
    // Another client (a message no route takes, to learn its id) gets a push.
    let endpoint = format!("{}/_aws/execute-api/{api}/prod", s.endpoint());
    websocket::rt().block_on(async {
        let (mut ws, id) = websocket::connect_with_id(&url).await;
        websocket::manage(&s, "post-to-connection", &endpoint, &id, &["--data", "hi"])
            .unwrap_or_else(|e| panic!("{}", e.stderr));
        assert_eq!(websocket::next_text(&mut ws).await, "hi");
    });

    let m = get_metrics(&s);
    let stage = [
        ("api_id", api.as_str()),
        ("api_name", "ws"),
        ("stage", "prod"),
    ];
    let mut ping = stage.to_vec();
    ping.push(("route", "ping"));
    let mut relayed = stage.to_vec();
    relayed.push(("route", "relay"));
    assert_eq!(value(&m, "apigateway_websocket_connect_total", &stage), 2.0);
    // Both directions: two pings in, two answers out.
    assert_eq!(value(&m, "apigateway_websocket_messages_total", &ping), 4.0);
    assert_eq!(
        value(&m, "apigateway_websocket_integration_errors_total", &ping),
        0.0
    );
    // IntegrationLatency: not for MOCK integrations (websocket.md §7), for HTTP ones.
    assert_eq!(
        value(&m, "apigateway_integration_latency_seconds_count", &ping),
        0.0
    );
    assert_eq!(
        value(&m, "apigateway_websocket_messages_total", &relayed),
        2.0
    );
    assert_eq!(
        value(&m, "apigateway_integration_latency_seconds_count", &relayed),
        1.0
    );
    // The stage's own series: the two unrouted messages in, and the push out.
    assert_eq!(
        value(&m, "apigateway_websocket_messages_total", &stage),
        3.0
    );
    assert_eq!(
        value(&m, "apigateway_websocket_client_errors_total", &stage),
        2.0
    );
}
