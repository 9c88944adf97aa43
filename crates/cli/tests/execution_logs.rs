//! Execution logs: REST method settings `logging/loglevel` (`INFO`: every request, `ERROR`:
//! failed ones) and `logging/dataTrace` write TestInvokeMethod's lines, each prefixed
//! `(requestId)` and cut at 1024 bytes, to `DATA_DIR/execution-logs/{apiId}-{stage}.log`;
//! `tollgate logs --api` prints them and the access log.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

/// Waits (bounded) until `path` holds a line containing `needle`; the file's text.
fn wait_for_line(path: &std::path::Path, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) || Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn tollgate_logs(s: &Server, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("logs")
        .args(args)
        .arg("--data-dir")
        .arg(s.data_path())
        .env_remove("TOLLGATE_DATA_DIR")
        .output()
        .expect("run tollgate logs")
}

#[test]
fn info_data_trace_and_error_levels_write_request_lines() {
    let s = Server::start();
    let api = str_of(&apigw(&s, &["create-rest-api", "--name", "logged"]), "id");
    let root = apigw(&s, &["get-resources", "--rest-api-id", &api])["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let pets = create_resource(&s, &api, &root, "pets");
    mock_method(
        &s,
        (&api, &pets, "GET"),
        &["--authorization-type", "NONE"],
        r#"{"pets": []}"#,
    );
    let secret = create_resource(&s, &api, &root, "secret");
    mock_method(
        &s,
        (&api, &secret, "GET"),
        &["--authorization-type", "NONE", "--api-key-required"],
        r#"{"secret": 1}"#,
    );
    deploy(&s, &api, "prod");
    deploy(&s, &api, "quiet");
    let key = apigw(&s, &["create-api-key", "--name", "k", "--enabled"]);
    plan_with_key(&s, &api, "prod", &str_of(&key, "id"));
    set_access_log(&s, &api, "prod", "$context.requestId $context.status");
    let ops = json!([
        {"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"},
        {"op": "replace", "path": "/*/*/logging/dataTrace", "value": "true"},
        {"op": "replace", "path": "/~1secret/GET/logging/loglevel", "value": "ERROR"},
        {"op": "replace", "path": "/~1secret/GET/logging/dataTrace", "value": "false"},
    ]);
    update_stage(&s, &api, "prod", &ops);

    let ok = Http::get(s.port, &Server::exec_path(&api, "/prod/pets?color=red"))
        .header("X-Probe", "yes")
        .header("X-Long", &"z".repeat(2000))
        .send();
    assert_eq!(ok.status, 200, "{ok}");
    let ok_id = ok.header("x-amzn-requestid").unwrap().to_string();
    let refused = s.invoke(&api, "/prod/secret");
    assert_eq!(refused.status, 403, "{refused}");
    let refused_id = refused.header("x-amzn-requestid").unwrap().to_string();
    let allowed = Http::get(s.port, &Server::exec_path(&api, "/prod/secret"))
        .header("x-api-key", key["value"].as_str().unwrap())
        .send();
    assert_eq!(allowed.status, 200, "{allowed}");
    let allowed_id = allowed.header("x-amzn-requestid").unwrap().to_string();
    // A stage without logging settings writes nothing.
    assert_eq!(s.invoke(&api, "/quiet/pets").status, 200);

    let file = s
        .data_path()
        .join("execution-logs")
        .join(format!("{api}-prod.log"));
    let text = wait_for_line(&file, &format!("({refused_id}) Method completed"));
    for line in text.lines() {
        assert!(line.len() <= 1024, "event longer than 1024 bytes: {line}");
        assert!(line.starts_with('('), "{line}");
    }
    let of = |id: &str| -> Vec<&str> {
        text.lines()
            .filter_map(|l| l.strip_prefix(&format!("({id}) ")))
            .collect()
    };
    let ok_lines = of(&ok_id);
    assert!(
        ok_lines.contains(&"HTTP Method: GET, Resource Path: /pets"),
        "{text}"
    );
    assert!(
        ok_lines.contains(&"Method request query string: {color=red}"),
        "{text}"
    );
    let headers = ok_lines
        .iter()
        .find(|l| l.starts_with("Method request headers: {"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(headers.contains("x-probe=yes"), "{headers}");
    assert!(
        ok_lines.contains(&"Successfully completed execution"),
        "{text}"
    );
    assert_eq!(
        ok_lines.last(),
        Some(&"Method completed with status: 200"),
        "{text}"
    );
    // ERROR level: the refused request is logged, the allowed one is not.
    let refused_lines = of(&refused_id);
    assert!(
        refused_lines
            .iter()
            .any(|l| l.starts_with("Gateway response type: ")
                && l.ends_with("with status code: 403")),
        "{text}"
    );
    assert_eq!(
        refused_lines.last(),
        Some(&"Method completed with status: 403")
    );
    // Without data trace (the method's own setting): no headers.
    assert!(
        !refused_lines
            .iter()
            .any(|l| l.starts_with("Method request headers")),
        "{text}"
    );
    assert!(of(&allowed_id).is_empty(), "{text}");
    assert!(!s
        .data_path()
        .join("execution-logs")
        .join(format!("{api}-quiet.log"))
        .exists());

    // `tollgate logs --api`: the execution log, and the access log by default.
    let out = tollgate_logs(&s, &["--api", &api, "--stage", "prod", "--execution"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), text);
    let access = s
        .data_path()
        .join("access-logs")
        .join(format!("{api}-prod.log"));
    let access_text = wait_for_line(&access, &allowed_id);
    let out = tollgate_logs(&s, &["--api", &api]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), access_text);
    assert!(
        access_text.contains(&format!("{ok_id} 200")),
        "{access_text}"
    );
    // Nothing logged for the stage yet, and a name that is no API id.
    let out = tollgate_logs(&s, &["--api", &api, "--stage", "quiet", "--execution"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no execution log for API"));
    let out = tollgate_logs(&s, &["--api", "../etc"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not an API id"));
}
