//! The console in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`, driven by selenium from the venv; `.ci/run` installs all three) sees
//! an API made with the aws CLI, deploys it from the console, runs a test invoke and sees
//! a real request counted. Missing tools fail the test, naming what to install: nothing is
//! skipped. The screenshot is kept in `docs/console.png` for the README.

mod common;

use std::path::Path;

use common::browser;
use common::lambda::*;
use common::*;
use serde_json::{json, Value};

fn browse(s: &Server, scenario: &str, params: Value) -> Value {
    browser::browse("console_browser.py", s, scenario, params)
}

/// What the script saw under `key` contains `needle`.
fn saw(seen: &Value, key: &str, needle: &str) {
    let text = seen[key].as_str().unwrap_or_default();
    assert!(text.contains(needle), "{key} lacks {needle:?}: {seen:#}");
}

#[test]
fn the_console_deploys_tests_and_counts_in_a_real_browser() {
    let s = Server::start();
    let none = ["--authorization-type", "NONE"];
    let (api, _) = mock_api(&s, "console-pets", Some("pets"), &none, r#"{"pets": []}"#);

    let shots = tempfile::tempdir().unwrap();
    let landing = shots.path().join("landing.png");
    let shot = shots.path().join("console.png");
    let seen = browse(
        &s,
        "deploy",
        json!({
            "api_id": api, "api_name": "console-pets",
            "landing_shot": landing.display().to_string(), "shot": shot.display().to_string(),
        }),
    );

    assert!(
        seen["landing"]
            .as_array()
            .unwrap()
            .contains(&"console-pets".into()),
        "{seen:#}"
    );
    saw(&seen, "resources", "/pets");
    saw(&seen, "deployed", "to prod");
    let stages = apigw(&s, &["get-stages", "--rest-api-id", &api]);
    assert_eq!(stages["item"][0]["stageName"], "prod", "{stages:#}");
    saw(&seen, "test_status", "Status 200");
    assert_eq!(seen["test_response"], r#"{"pets": []}"#, "{seen:#}");
    let log = seen["test_log"].as_str().unwrap();
    assert!(log.contains("Method completed with status: 200"), "{log}");
    assert_eq!(seen["live_status"], 200, "{seen:#}");
    assert_eq!(seen["counted"], "1", "{seen:#}");
    saw(&seen, "canary_deployed", "as a canary (25%)");
    saw(&seen, "canary_set", "50% of requests");
    assert!(
        !seen["promoted"].as_str().unwrap().contains("Canary:"),
        "{seen:#}"
    );
    let first = seen["first_deployment"].as_str().unwrap();
    saw(&seen, "rolled_back", &format!("prod now serves {first}"));
    let stage = apigw(
        &s,
        &["get-stage", "--rest-api-id", &api, "--stage-name", "prod"],
    );
    assert_eq!(stage["deploymentId"], first, "{stage:#}");
    assert!(stage.get("canarySettings").is_none(), "{stage:#}");

    for png in [&landing, &shot] {
        let bytes = std::fs::read(png).unwrap();
        assert!(
            bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{} is not a PNG",
            png.display()
        );
    }
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/console.png");
    std::fs::create_dir_all(docs.parent().unwrap()).unwrap();
    std::fs::copy(&shot, &docs).unwrap();
}

#[test]
fn the_console_deploys_http_apis_follows_logs_invokes_functions_and_charts_usage() {
    let s = Server::start();
    // A REST API behind an API key, with an access log, called twice with the key.
    let keyed = ["--authorization-type", "NONE", "--api-key-required"];
    let (rest, _) = mock_api(&s, "keyed", Some("pets"), &keyed, r#"{"pets": []}"#);
    deploy(&s, &rest, "prod");
    set_access_log(
        &s,
        &rest,
        "prod",
        "console-access $context.requestId $context.status",
    );
    let key = apigw(&s, &["create-api-key", "--name", "partner", "--enabled"]);
    plan_with_key(&s, &rest, "prod", &str_of(&key, "id"));
    for _ in 0..2 {
        let r = Http::get(s.port, &Server::exec_path(&rest, "/prod/pets"))
            .header("x-api-key", &str_of(&key, "value"))
            .send();
        assert_eq!(r.status, 200, "{r}");
    }
    let plan = str_of(&apigw(&s, &["get-usage-plans"])["items"][0], "id");
    let cp = Cp::new(&s);
    eventually("the usage saved", || {
        (cp.usage_today(&plan, &str_of(&key, "id")).map(|u| u.0) == Some(2)).then_some(())
    });
    // An HTTP API in front of it, not deployed yet.
    let http = v2_http_api(&s, "front");
    let backend = format!("{}{}", s.endpoint(), Server::exec_path(&rest, "/prod/pets"));
    let integration = v2_http_proxy(&s, &http, "GET", &backend, &[]);
    v2_route(&s, &http, "GET /pets", &integration, &[]);
    // A function.
    let zip = zip_file(s.data_path(), "hello.zip", &[(
        "app.py",
        "def handler(event, context):\n    print('console says', event)\n    return {'statusCode': 200, 'body': 'hi'}\n",
        0o644,
    )]);
    create_function(&s, "hello", "python3.12", "app.handler", &zip, &[]);

    let seen = browse(
        &s,
        "pages",
        json!({
            "http_name": "front", "rest_id": rest, "function": "hello", "access_marker": "console-access",
            "access_lines": 2, "function_marker": "console says",
            "host": "gateway.example", "key": "test", "secret": "test",
        }),
    );

    saw(&seen, "login_refused", "not valid");
    saw(&seen, "who", "test");
    assert_eq!(
        seen["cookies"],
        json!([{"name": "tollgate_console", "httpOnly": true, "sameSite": "Strict", "path": "/_tollgate"}]),
        "{seen:#}"
    );
    assert_eq!(seen["cookies_after_logout"], json!([]), "{seen:#}");
    saw(&seen, "routes", "HTTP_PROXY");
    saw(&seen, "http_deployed", "to live");
    let live = v2(
        &s,
        &["get-stage", "--api-id", &http, "--stage-name", "live"],
    );
    assert!(live["DeploymentId"].is_string(), "{live:#}");
    assert_eq!(
        seen["access_log"]
            .as_str()
            .unwrap()
            .matches("console-access")
            .count(),
        2,
        "{seen:#}"
    );
    saw(&seen, "invoke_result", "\"statusCode\": 200");
    saw(&seen, "invoke_log", "console says");
    saw(&seen, "function_log", "console says");
    saw(&seen, "keys", "partner");
    saw(&seen, "keys", "2 in 7 days");
    assert!(
        seen["bars"].as_array().unwrap().contains(&"2".into()),
        "{seen:#}"
    );
}
