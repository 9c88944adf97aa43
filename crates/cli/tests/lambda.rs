//! Lambda functions end to end: the real `aws` CLI creates and invokes functions on the
//! real `tollgate` binary, which runs them as local workers (Python and Node through
//! Tollgate's own runtime loops, a `provided` shell bootstrap), and REST APIs reach them
//! through AWS_PROXY and AWS integrations. Events are checked with the `aws_lambda_events`
//! crate, an independent definition of the formats.

mod common;

use std::time::{Duration, Instant};

use common::lambda::*;
use common::*;
use serde_json::{json, Value};

/// `aws lambda invoke`: the CLI's output and the payload file's contents.
fn invoke(s: &Server, args: &[&str]) -> (Value, String) {
    let out = s.data_path().join(format!("out-{}.json", next_id()));
    let out_s = out.to_string_lossy().into_owned();
    let mut full = vec!["lambda", "invoke"];
    full.extend_from_slice(args);
    full.push(&out_s);
    let v = aws(s, &full).unwrap_or_else(|e| panic!("invoke {args:?}: {}", e.stderr));
    let payload = std::fs::read_to_string(&out).unwrap_or_default();
    (v, payload)
}

fn next_id() -> String {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        .to_string()
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

const ECHO_PY: &str = r#"
import json, os, time
def handler(event, context):
    return {
        "statusCode": 200,
        "headers": {"X-Function": context.function_name, "X-Version": context.function_version},
        "multiValueHeaders": {"X-Multi": ["a", "b"]},
        "body": json.dumps(event),
    }

def raw(event, context):
    # Returns whatever the caller put in the body: the proxy response-format cases.
    return json.loads(event["body"])

def work(event, context):
    if event.get("mark"):
        with open(event["mark"], "a") as f:
            f.write("run\n")
    if event.get("fail"):
        raise ValueError("bad input: " + str(event["fail"]))
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("crash"):
        os._exit(3)
    print("working on", json.dumps(event))
    return {"ok": True, "event": event, "remaining": context.get_remaining_time_in_millis() > 0,
            "env": os.environ.get("GREETING"), "memory": context.memory_limit_in_mb}
"#;

#[test]
fn python_function_behind_a_proxy_api() {
    let s = Server::start();
    let zip = zip_file(s.data_path(), "echo.zip", &[("app.py", ECHO_PY, 0o644)]);
    let created = create_function(&s, "echo", "python3.12", "app.handler", &zip, &[]);
    assert_eq!(
        created["FunctionArn"],
        "arn:aws:lambda:us-east-1:000000000000:function:echo"
    );
    assert_eq!(created["State"], "Active");
    assert_eq!(created["Timeout"], 3);
    assert_eq!(created["MemorySize"], 128);
    assert!(created["CodeSha256"].as_str().unwrap().ends_with('='));
    let api = proxy_api(&s, "echo");

    let r = Http::get(
        s.port,
        &Server::exec_path(&api, "/prod/orders/42/?a=1&a=2&b=x%20y"),
    )
    .header("X-Custom", "v1")
    .header("User-Agent", "tollgate-test")
    .send();
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.header("x-function"), Some("echo"));
    assert_eq!(r.header("x-version"), Some("$LATEST"));
    assert_eq!(r.header("x-multi"), Some("a, b"));
    assert_eq!(r.header("content-type"), Some("application/json"));

    // The independent consumer of the format must accept the event.
    let event: aws_lambda_events::apigw::ApiGatewayProxyRequest = serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| panic!("event does not deserialise: {e}\n{r}"));
    assert_eq!(event.resource.as_deref(), Some("/{proxy+}"));
    assert_eq!(event.path.as_deref(), Some("/orders/42/"));
    assert_eq!(event.http_method, http::Method::GET);
    assert_eq!(
        event.path_parameters.get("proxy").map(String::as_str),
        Some("orders/42")
    );
    assert_eq!(event.query_string_parameters.first("a"), Some("2"));
    assert_eq!(
        event.multi_value_query_string_parameters.all("a"),
        Some(vec!["1", "2"])
    );
    assert_eq!(event.query_string_parameters.first("b"), Some("x y"));
    assert_eq!(
        event.stage_variables.get("color").map(String::as_str),
        Some("blue")
    );
    assert_eq!(
        event.headers.get("x-custom").and_then(|v| v.to_str().ok()),
        Some("v1")
    );
    assert!(!event.is_base64_encoded);
    assert!(event.body.is_none());
    let rc = &event.request_context;
    assert_eq!(rc.stage.as_deref(), Some("prod"));
    assert_eq!(rc.resource_path.as_deref(), Some("/{proxy+}"));
    assert_eq!(rc.path.as_deref(), Some("/prod/orders/42/"));
    assert_eq!(rc.apiid.as_deref(), Some(api.as_str()));
    assert_eq!(rc.identity.source_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(rc.identity.user_agent.as_deref(), Some("tollgate-test"));
    assert_eq!(rc.request_id.as_deref(), r.header("x-amzn-requestid"));

    // Key order and null-vs-absent as the recordings show.
    let raw: Value = serde_json::from_slice(&r.body).unwrap();
    let keys: Vec<&str> = raw
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "resource",
            "path",
            "httpMethod",
            "headers",
            "multiValueHeaders",
            "queryStringParameters",
            "multiValueQueryStringParameters",
            "pathParameters",
            "stageVariables",
            "requestContext",
            "body",
            "isBase64Encoded"
        ]
    );
    assert!(raw["requestContext"].get("authorizer").is_none());
    assert_eq!(raw["requestContext"]["identity"]["accessKey"], Value::Null);
    assert_eq!(raw["headers"]["X-Custom"], "v1");
    assert_eq!(raw["multiValueHeaders"]["X-Custom"], json!(["v1"]));
    assert!(raw["requestContext"]["requestTimeEpoch"].is_i64());

    // A POST body arrives as text; a warm worker answers the second call.
    let r = Http::post(s.port, &Server::exec_path(&api, "/prod/items"))
        .header("Content-Type", "application/json")
        .body(r#"{"n":1}"#)
        .send();
    assert_eq!(r.status, 200, "{r}");
    let ev = r.json();
    assert_eq!(ev["body"], r#"{"n":1}"#);
    assert_eq!(ev["httpMethod"], "POST");
    assert_eq!(ev["queryStringParameters"], Value::Null);

    // The function's log has Lambda's lines.
    wait_for("log lines", Duration::from_secs(5), || {
        std::fs::read_to_string(s.data_path().join("functions/logs/echo.log"))
            .is_ok_and(|l| l.matches("REPORT RequestId: ").count() == 2)
    });
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["logs", "echo", "--data-dir"])
        .arg(s.data_path())
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{printed}");
    assert!(
        printed.contains("START RequestId: ") && printed.contains("Version: $LATEST"),
        "{printed}"
    );
    assert!(
        printed.contains("Init Duration: "),
        "the cold start reports its init: {printed}"
    );
    assert_eq!(printed.matches("END RequestId: ").count(), 2, "{printed}");
}

#[test]
fn proxy_response_formats_follow_the_recordings() {
    let s = Server::start();
    let zip = zip_file(s.data_path(), "raw.zip", &[("app.py", ECHO_PY, 0o644)]);
    create_function(&s, "raw", "python3.12", "app.raw", &zip, &[]);
    let api = proxy_api(&s, "raw");
    apigw(
        &s,
        &[
            "update-rest-api",
            "--rest-api-id",
            &api,
            "--patch-operations",
            "op=add,path=/binaryMediaTypes/image~1png",
        ],
    );
    apigw(
        &s,
        &[
            "create-deployment",
            "--rest-api-id",
            &api,
            "--stage-name",
            "prod",
        ],
    );
    let call = |out: Value, accept: Option<&str>| {
        let mut h = Http::post(s.port, &Server::exec_path(&api, "/prod/x")).body(out.to_string());
        if let Some(a) = accept {
            h = h.header("Accept", a);
        }
        h.send()
    };
    // lambda-events.md §4.1 [AWS-rec] cases.
    let r = call(json!({"statusCode": 200}), None);
    assert_eq!((r.status, r.body.len()), (200, 0), "{r}");
    assert_eq!(r.header("content-type"), Some("application/json"));
    let r = call(json!({"headers": {"X-A": "1"}}), None);
    assert_eq!((r.status, r.header("x-a")), (200, Some("1")), "{r}");
    let r = call(json!({"statusCode": "201", "body": "made"}), None);
    assert_eq!((r.status, r.text().as_str()), (201, "made"), "{r}");
    let r = call(
        json!({"statusCode": 200, "headers": {"X-B": true}, "body": "x"}),
        None,
    );
    assert_eq!(r.header("x-b"), Some("true"), "{r}");
    let r = call(
        json!({"statusCode": 200, "headers": null, "body": "x"}),
        None,
    );
    assert_eq!(r.status, 200, "{r}");
    let r = call(
        json!({"statusCode": 200, "multiValueHeaders": {"X-M": ["m1", "m2"]}, "headers": {"x-m": "s"}}),
        None,
    );
    assert_eq!(r.headers_named("x-m"), vec!["m1, m2, s"], "{r}");
    for bad in [
        json!({"statusCode": "test"}),
        json!({"statusCode": 200, "wrongValue": 1}),
        json!("justAString"),
        json!({"statusCode": 200, "multiValueHeaders": {"X": "not-a-list"}}),
    ] {
        let r = call(bad.clone(), None);
        assert_eq!(r.status, 502, "{bad}: {r}");
        assert_eq!(
            r.json(),
            json!({"message": "Internal server error"}),
            "{bad}"
        );
    }
    // Base64 bodies are decoded only when the client accepts a binary media type.
    let b64 = json!({"statusCode": 200, "isBase64Encoded": true, "body": "aGVsbG8=", "headers": {"Content-Type": "image/png"}});
    let r = call(b64.clone(), Some("image/png"));
    assert_eq!(r.text(), "hello", "{r}");
    let r = call(b64, Some("text/plain"));
    assert_eq!(r.text(), "aGVsbG8=", "{r}");
}

#[test]
fn invoke_errors_timeouts_crashes_versions_and_aliases() {
    let s = Server::start();
    let zip = zip_file(s.data_path(), "work.zip", &[("app.py", ECHO_PY, 0o644)]);
    create_function(
        &s,
        "work",
        "python3.12",
        "app.work",
        &zip,
        &["--timeout", "1", "--environment", "Variables={GREETING=hi}"],
    );

    let (v, payload) = invoke(
        &s,
        &[
            "--function-name",
            "work",
            "--payload",
            r#"{"x":1}"#,
            "--log-type",
            "Tail",
        ],
    );
    assert_eq!(v["StatusCode"], 200);
    assert_eq!(v["ExecutedVersion"], "$LATEST");
    assert!(v.get("FunctionError").is_none(), "{v}");
    let out: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(out["event"], json!({"x": 1}));
    assert_eq!(out["env"], "hi");
    assert_eq!(out["memory"], "128");
    assert_eq!(out["remaining"], true);
    let log = decode_log(&v);
    assert!(log.starts_with("START RequestId: "), "{log}");
    assert!(
        log.contains("END RequestId: ") && log.contains("REPORT RequestId: "),
        "{log}"
    );

    // A function error: 200 with X-Amz-Function-Error and the runtime's error document.
    let (v, payload) = invoke(
        &s,
        &["--function-name", "work", "--payload", r#"{"fail":"x"}"#],
    );
    assert_eq!(v["FunctionError"], "Unhandled", "{v}");
    let err: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(err["errorType"], "ValueError");
    assert_eq!(err["errorMessage"], "bad input: x");
    assert!(err["stackTrace"].is_array());

    // Past the timeout: Lambda's message; the worker is replaced and the next call works.
    let (v, payload) = invoke(
        &s,
        &["--function-name", "work", "--payload", r#"{"sleep":3}"#],
    );
    assert_eq!(v["FunctionError"], "Unhandled", "{v}");
    let err: Value = serde_json::from_str(&payload).unwrap();
    assert!(
        err["errorMessage"]
            .as_str()
            .unwrap()
            .ends_with("Task timed out after 1.00 seconds"),
        "{err}"
    );
    let (v, _) = invoke(&s, &["--function-name", "work", "--payload", "{}"]);
    assert!(v.get("FunctionError").is_none(), "{v}");

    // A crash fails only its own invocation.
    let (v, payload) = invoke(
        &s,
        &["--function-name", "work", "--payload", r#"{"crash":true}"#],
    );
    assert_eq!(v["FunctionError"], "Unhandled", "{v}");
    let err: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(err["errorType"], "Runtime.ExitError", "{err}");
    assert!(
        err["errorMessage"]
            .as_str()
            .unwrap()
            .contains("exit status 3"),
        "{err}"
    );
    let (v, _) = invoke(&s, &["--function-name", "work", "--payload", "{}"]);
    assert!(v.get("FunctionError").is_none(), "{v}");

    // DryRun and errors for what does not exist.
    let (v, _) = invoke(
        &s,
        &["--function-name", "work", "--invocation-type", "DryRun"],
    );
    assert_eq!(v["StatusCode"], 204);
    let out = s.data_path().join("nope.json");
    let e = aws(
        &s,
        &[
            "lambda",
            "invoke",
            "--function-name",
            "nope",
            out.to_str().unwrap(),
        ],
    )
    .unwrap_err();
    assert_cli_error(
        &e,
        "ResourceNotFoundException",
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope",
    );
    let e = aws(
        &s,
        &[
            "lambda",
            "create-function",
            "--function-name",
            "work",
            "--runtime",
            "python3.12",
            "--handler",
            "app.work",
            "--role",
            ROLE,
            "--zip-file",
            &zip,
        ],
    )
    .unwrap_err();
    assert_cli_error(
        &e,
        "ResourceConflictException",
        "Function already exist: work",
    );

    // Versions and aliases: a published version keeps its code after $LATEST changes.
    let v1 = aws(
        &s,
        &["lambda", "publish-version", "--function-name", "work"],
    )
    .unwrap();
    assert_eq!(v1["Version"], "1");
    assert_eq!(
        v1["FunctionArn"],
        "arn:aws:lambda:us-east-1:000000000000:function:work:1"
    );
    aws(
        &s,
        &[
            "lambda",
            "create-alias",
            "--function-name",
            "work",
            "--name",
            "live",
            "--function-version",
            "1",
        ],
    )
    .unwrap();
    let changed = ECHO_PY.replace("\"ok\": True", "\"ok\": \"v2\"");
    let zip2 = zip_file(s.data_path(), "work2.zip", &[("app.py", &changed, 0o644)]);
    aws(
        &s,
        &[
            "lambda",
            "update-function-code",
            "--function-name",
            "work",
            "--zip-file",
            &zip2,
        ],
    )
    .unwrap();
    let (_, p) = invoke(&s, &["--function-name", "work", "--payload", "{}"]);
    assert_eq!(serde_json::from_str::<Value>(&p).unwrap()["ok"], "v2");
    let (v, p) = invoke(
        &s,
        &[
            "--function-name",
            "work",
            "--qualifier",
            "live",
            "--payload",
            "{}",
        ],
    );
    assert_eq!(v["ExecutedVersion"], "1");
    assert_eq!(serde_json::from_str::<Value>(&p).unwrap()["ok"], true);
    let (v, p) = invoke(
        &s,
        &[
            "--function-name",
            "arn:aws:lambda:us-east-1:000000000000:function:work:1",
            "--payload",
            "{}",
        ],
    );
    assert_eq!(v["ExecutedVersion"], "1");
    assert_eq!(serde_json::from_str::<Value>(&p).unwrap()["ok"], true);
    let versions = aws(
        &s,
        &[
            "lambda",
            "list-versions-by-function",
            "--function-name",
            "work",
        ],
    )
    .unwrap();
    let names: Vec<&str> = versions["Versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["Version"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["$LATEST", "1"]);
    let e = aws(
        &s,
        &[
            "lambda",
            "delete-function",
            "--function-name",
            "work",
            "--qualifier",
            "1",
        ],
    )
    .unwrap_err();
    assert_cli_error(
        &e,
        "ResourceConflictException",
        "Unable to delete version because the following aliases reference it: [live]",
    );

    // Resource policy statements are stored and returned.
    aws(
        &s,
        &[
            "lambda",
            "add-permission",
            "--function-name",
            "work",
            "--statement-id",
            "apigw",
            "--action",
            "lambda:InvokeFunction",
            "--principal",
            "apigateway.amazonaws.com",
        ],
    )
    .unwrap();
    let policy = aws(&s, &["lambda", "get-policy", "--function-name", "work"]).unwrap();
    let doc: Value = serde_json::from_str(policy["Policy"].as_str().unwrap()).unwrap();
    assert_eq!(
        doc["Statement"][0]["Principal"]["Service"],
        "apigateway.amazonaws.com"
    );

    // Reserved concurrency 0 throttles every invocation.
    aws(
        &s,
        &[
            "lambda",
            "put-function-concurrency",
            "--function-name",
            "work",
            "--reserved-concurrent-executions",
            "0",
        ],
    )
    .unwrap();
    let e = aws(
        &s,
        &[
            "lambda",
            "invoke",
            "--function-name",
            "work",
            out.to_str().unwrap(),
        ],
    )
    .unwrap_err();
    assert_cli_error(&e, "TooManyRequestsException", "Rate Exceeded.");
}

#[test]
fn bad_packages_and_parameters_are_refused() {
    let s = Server::start();
    let ok = zip_file(s.data_path(), "ok.zip", &[("app.py", ECHO_PY, 0o644)]);
    let evil = zip_file(
        s.data_path(),
        "evil.zip",
        &[("../escape.py", "x = 1", 0o644)],
    );
    let e = aws(
        &s,
        &[
            "lambda",
            "create-function",
            "--function-name",
            "evil",
            "--runtime",
            "python3.12",
            "--handler",
            "app.h",
            "--role",
            ROLE,
            "--zip-file",
            &evil,
        ],
    )
    .unwrap_err();
    assert!(
        e.stderr.contains("InvalidParameterValueException"),
        "{}",
        e.stderr
    );
    assert!(!s.data_path().join("functions/escape.py").exists());
    let garbage = s.data_path().join("garbage.zip");
    // A well-formed archive (the CLI checks that much) whose file data is corrupt.
    let mut bytes = tollgate_functions::code::build_zip(&[("app.py", ECHO_PY.as_bytes(), 0o644)]);
    for b in &mut bytes[40..60] {
        *b ^= 0x5a;
    }
    std::fs::write(&garbage, bytes).unwrap();
    let e = aws(
        &s,
        &[
            "lambda",
            "create-function",
            "--function-name",
            "g",
            "--runtime",
            "python3.12",
            "--handler",
            "app.h",
            "--role",
            ROLE,
            "--zip-file",
            &format!("fileb://{}", garbage.display()),
        ],
    )
    .unwrap_err();
    assert_cli_error(
        &e,
        "InvalidParameterValueException",
        "Could not unzip uploaded file. Please check your file, then try to upload again.",
    );
    let e = aws(
        &s,
        &[
            "lambda",
            "create-function",
            "--function-name",
            "t",
            "--runtime",
            "python3.12",
            "--handler",
            "app.h",
            "--role",
            ROLE,
            "--zip-file",
            &ok,
            "--timeout",
            "901",
        ],
    )
    .unwrap_err();
    assert!(
        e.stderr.contains("ValidationException") && e.stderr.contains("less than or equal to 900"),
        "{}",
        e.stderr
    );
    let e = aws(
        &s,
        &[
            "lambda",
            "create-function",
            "--function-name",
            "t",
            "--runtime",
            "cobol85",
            "--handler",
            "app.h",
            "--role",
            ROLE,
            "--zip-file",
            &ok,
        ],
    )
    .unwrap_err();
    assert!(
        e.stderr.contains("InvalidParameterValueException"),
        "{}",
        e.stderr
    );
    let e = aws(
        &s,
        &[
            "lambda",
            "create-function",
            "--function-name",
            "t",
            "--runtime",
            "python3.12",
            "--handler",
            "app.h",
            "--role",
            "not-a-role",
            "--zip-file",
            &ok,
        ],
    )
    .unwrap_err();
    assert!(e.stderr.contains("ValidationException"), "{}", e.stderr);
    // Nothing was created by the refused calls.
    let list = aws(&s, &["lambda", "list-functions"]).unwrap();
    assert_eq!(list["Functions"], json!([]));
}

#[test]
fn node_and_provided_runtimes() {
    let s = Server::start();
    let node = r#"
exports.handler = async (event, context) => ({ statusCode: 200, body: JSON.stringify({ node: process.version, path: event.path, fn: context.functionName }) });
exports.fails = async () => { throw new TypeError("node says no"); };
"#;
    let zip = zip_file(s.data_path(), "node.zip", &[("index.js", node, 0o644)]);
    create_function(&s, "nodefn", "nodejs20.x", "index.handler", &zip, &[]);
    let api = proxy_api(&s, "nodefn");
    let r = s.invoke(&api, "/prod/hello");
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.json()["path"], "/hello");
    assert_eq!(r.json()["fn"], "nodefn");
    // Every nodejsNN.x and python3.Y Lambda has accepted runs: on a matching interpreter,
    // else on the one the machine has, with a warning in the function's log.
    create_function(&s, "node16", "nodejs16.x", "index.handler", &zip, &[]);
    let (v, p) = invoke(&s, &["--function-name", "node16", "--payload", "{}"]);
    assert!(v.get("FunctionError").is_none(), "{v} {p}");
    let py = zip_file(s.data_path(), "w.zip", &[("app.py", ECHO_PY, 0o644)]);
    create_function(&s, "py38", "python3.8", "app.work", &py, &[]);
    let (v, p) = invoke(&s, &["--function-name", "py38", "--payload", "{}"]);
    assert!(v.get("FunctionError").is_none(), "{v} {p}");
    aws(
        &s,
        &[
            "lambda",
            "update-function-configuration",
            "--function-name",
            "nodefn",
            "--handler",
            "index.fails",
        ],
    )
    .unwrap();
    let (v, p) = invoke(&s, &["--function-name", "nodefn", "--payload", "{}"]);
    assert_eq!(v["FunctionError"], "Unhandled");
    let err: Value = serde_json::from_str(&p).unwrap();
    assert_eq!(
        (err["errorType"].as_str(), err["errorMessage"].as_str()),
        (Some("TypeError"), Some("node says no"))
    );
    // Through API Gateway a function error is a 502.
    let r = s.invoke(&api, "/prod/hello");
    assert_eq!(r.status, 502, "{r}");

    // A `provided` runtime: the package's own bootstrap speaks the Runtime API (sh + curl).
    let bootstrap = r#"#!/bin/sh
set -eu
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  EVENT="$(curl -sS -D "$HEADERS" "$API/invocation/next")"
  ID="$(grep -i '^lambda-runtime-aws-request-id:' "$HEADERS" | tr -d '\r' | cut -d' ' -f2)"
  echo "handling $ID"
  curl -sS -X POST "$API/invocation/$ID/response" -d "{\"shell\":true,\"handler\":\"$_HANDLER\",\"event\":$EVENT}" > /dev/null
done
"#;
    let zip = zip_file(s.data_path(), "sh.zip", &[("bootstrap", bootstrap, 0o755)]);
    create_function(&s, "shell", "provided.al2023", "my.handler", &zip, &[]);
    for i in 0..3 {
        let (v, p) = invoke(
            &s,
            &[
                "--function-name",
                "shell",
                "--payload",
                &format!(r#"{{"i":{i}}}"#),
            ],
        );
        assert!(v.get("FunctionError").is_none(), "{v} {p}");
        let out: Value = serde_json::from_str(&p).unwrap_or_else(|e| panic!("{e}: {p}"));
        assert_eq!(
            out,
            json!({"shell": true, "handler": "my.handler", "event": {"i": i}})
        );
    }
    // A provided package without a bootstrap fails with Lambda's error.
    let zip = zip_file(s.data_path(), "nob.zip", &[("other", "x", 0o644)]);
    create_function(&s, "nobootstrap", "provided.al2023", "x", &zip, &[]);
    let (v, p) = invoke(&s, &["--function-name", "nobootstrap", "--payload", "{}"]);
    assert_eq!(v["FunctionError"], "Unhandled");
    assert!(p.contains("Runtime.InvalidEntrypoint"), "{p}");
}

#[test]
fn aws_integration_selects_responses_by_error_message() {
    let s = Server::start();
    let zip = zip_file(s.data_path(), "w.zip", &[("app.py", ECHO_PY, 0o644)]);
    create_function(&s, "work", "python3.12", "app.work", &zip, &[]);
    let api = apigw(&s, &["create-rest-api", "--name", "non-proxy"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let root = apigw(&s, &["get-resources", "--rest-api-id", &api])["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    apigw(
        &s,
        &[
            "put-method",
            "--rest-api-id",
            &api,
            "--resource-id",
            &root,
            "--http-method",
            "POST",
            "--authorization-type",
            "NONE",
        ],
    );
    let uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:work/invocations";
    apigw(
        &s,
        &[
            "put-integration",
            "--rest-api-id",
            &api,
            "--resource-id",
            &root,
            "--http-method",
            "POST",
            "--type",
            "AWS",
            "--integration-http-method",
            "POST",
            "--uri",
            uri,
            "--request-templates",
            r#"{"application/json": "{\"fail\": $input.json('$.fail'), \"from\": \"$context.httpMethod\"}"}"#,
        ],
    );
    // Patterns are matched against a function error's message only: a normal return takes
    // the default response even though `2\d\d` would match its status (recorded).
    for (status, pattern) in [
        ("200", None),
        ("400", Some("bad input.*")),
        ("202", Some("2\\d\\d")),
    ] {
        apigw(
            &s,
            &[
                "put-method-response",
                "--rest-api-id",
                &api,
                "--resource-id",
                &root,
                "--http-method",
                "POST",
                "--status-code",
                status,
            ],
        );
        let mut args = vec![
            "put-integration-response",
            "--rest-api-id",
            &api,
            "--resource-id",
            &root,
            "--http-method",
            "POST",
            "--status-code",
            status,
        ];
        if let Some(p) = pattern {
            args.extend_from_slice(&[
                "--selection-pattern",
                p,
                "--response-templates",
                r#"{"application/json": "{\"error\": \"$input.path('$.errorMessage')\"}"}"#,
            ]);
        }
        apigw(&s, &args);
    }
    apigw(
        &s,
        &[
            "create-deployment",
            "--rest-api-id",
            &api,
            "--stage-name",
            "prod",
        ],
    );
    grant_api(&s, "work", &api, None);
    let r = Http::post(s.port, &Server::exec_path(&api, "/prod"))
        .header("Content-Type", "application/json")
        .body(r#"{"fail": null}"#)
        .send();
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.json()["event"], json!({"fail": null, "from": "POST"}));
    let r = Http::post(s.port, &Server::exec_path(&api, "/prod"))
        .header("Content-Type", "application/json")
        .body(r#"{"fail": "oops"}"#)
        .send();
    assert_eq!(r.status, 400, "{r}");
    assert_eq!(r.json(), json!({"error": "bad input: oops"}));

    // AWS answers 500 for an AWS_PROXY integration invoked with another method than POST,
    // and for a mapping of Authorization toward a Lambda integration (request-pipeline.md
    // §5.3, recorded).
    let cp = Cp::new(&s);
    for (part, http_method, mapping) in [
        ("get", "GET", None),
        (
            "auth",
            "POST",
            Some("integration.request.header.Authorization"),
        ),
    ] {
        let res = cp.resource(&api, &root, part);
        cp.put_method(&api, &res, "ANY", json!({ "authorizationType": "NONE" }));
        let mut integration = json!({ "type": "AWS_PROXY", "httpMethod": http_method, "uri": uri });
        if let Some(target) = mapping {
            integration["requestParameters"] = json!({ target: "'Bearer x'" });
        }
        cp.put_integration(&api, &res, "ANY", integration);
    }
    cp.ok(
        "POST",
        &format!("/restapis/{api}/deployments"),
        Some(&json!({ "stageName": "prod" })),
    );
    for part in ["get", "auth"] {
        let r = Http::get(s.port, &Server::exec_path(&api, &format!("/prod/{part}"))).send();
        assert_eq!(r.status, 500, "{part}: {r}");
        assert_eq!(
            r.json(),
            json!({"message": "Internal server error"}),
            "{part}"
        );
    }
}

#[test]
fn functions_and_queued_events_survive_kill_9() {
    let mut s = Server::start();
    let zip = zip_file(s.data_path(), "w.zip", &[("app.py", ECHO_PY, 0o644)]);
    create_function(
        &s,
        "work",
        "python3.12",
        "app.work",
        &zip,
        &["--timeout", "10"],
    );
    let marker = s.data_path().join("marker.txt");
    let payload = json!({"mark": marker, "sleep": 2}).to_string();
    let (v, _) = invoke(
        &s,
        &[
            "--function-name",
            "work",
            "--invocation-type",
            "Event",
            "--payload",
            &payload,
        ],
    );
    assert_eq!(v["StatusCode"], 202);
    // Killed while the event runs: it is still queued, and runs again after the restart.
    wait_for("the event to start", Duration::from_secs(10), || {
        std::fs::read_to_string(&marker).is_ok_and(|m| m.lines().count() == 1)
    });
    s.kill9();
    let s = Server::start_in(s.dir());
    wait_for("the event to run again", Duration::from_secs(15), || {
        std::fs::read_to_string(&marker).is_ok_and(|m| m.lines().count() >= 2)
    });
    let (v, p) = invoke(&s, &["--function-name", "work", "--payload", r#"{"x":2}"#]);
    assert!(v.get("FunctionError").is_none(), "{v}");
    assert_eq!(
        serde_json::from_str::<Value>(&p).unwrap()["event"],
        json!({"x": 2})
    );
    let got = aws(&s, &["lambda", "get-function", "--function-name", "work"]).unwrap();
    assert_eq!(got["Configuration"]["Timeout"], 10);
}

#[test]
fn official_runtime_clients_work_against_the_runtime_api() {
    let s = Server::start();
    // Rust: lambda_runtime, as a provided.al2023 bootstrap behind a proxy API.
    let zip = example_function_zip(&s, "hello_lambda");
    create_function(&s, "rusty", "provided.al2023", "bootstrap", &zip, &[]);
    let api = proxy_api(&s, "rusty");
    for _ in 0..3 {
        let r = s.invoke(&api, "/prod/from/rust");
        assert_eq!(r.status, 200, "{r}");
        assert_eq!(r.header("x-runtime"), Some("rust"));
        assert_eq!(r.json()["path"], "/from/rust");
        assert_eq!(
            r.json()["function"],
            "arn:aws:lambda:us-east-1:000000000000:function:rusty"
        );
    }
    let (v, p) = invoke(
        &s,
        &["--function-name", "rusty", "--payload", r#"{"fail":1}"#],
    );
    assert_eq!(v["FunctionError"], "Unhandled", "{v}");
    assert!(p.contains("asked to fail"), "{p}");

    // Python: AWS's awslambdaric, started by a bootstrap the way container images start it.
    let python = ["python3", "python"]
        .into_iter()
        .find_map(|p| {
            let out = std::process::Command::new(p)
                .args(["-c", "import awslambdaric, sys; print(sys.executable)"])
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        })
        .expect("awslambdaric must be installed for this test (.ci/run installs it into .venv)");
    let bootstrap = "#!/bin/sh\nexec \"$RIC_PYTHON\" -m awslambdaric \"$_HANDLER\"\n";
    let zip = zip_file(
        s.data_path(),
        "ric.zip",
        &[("bootstrap", bootstrap, 0o755), ("app.py", ECHO_PY, 0o644)],
    );
    let env = format!("Variables={{RIC_PYTHON={python}}}");
    create_function(
        &s,
        "ric",
        "provided.al2023",
        "app.work",
        &zip,
        &["--environment", &env],
    );
    for i in 0..2 {
        let (v, p) = invoke(
            &s,
            &[
                "--function-name",
                "ric",
                "--payload",
                &format!(r#"{{"i":{i}}}"#),
            ],
        );
        assert!(v.get("FunctionError").is_none(), "{v} {p}");
        assert_eq!(
            serde_json::from_str::<Value>(&p).unwrap()["event"],
            json!({"i": i})
        );
    }
    let (v, p) = invoke(
        &s,
        &["--function-name", "ric", "--payload", r#"{"fail":"ric"}"#],
    );
    assert_eq!(v["FunctionError"], "Unhandled", "{v}");
    let err: Value = serde_json::from_str(&p).unwrap();
    assert_eq!(err["errorMessage"], "bad input: ric");
}

#[test]
fn memory_size_is_enforced_on_resident_memory() {
    let s = Server::start();
    let hog = "import time\ndef handler(event, context):\n    data = b'x' * (event['mb'] * 1024 * 1024)\n    time.sleep(1)\n    return len(data)\n";
    let zip = zip_file(s.data_path(), "hog.zip", &[("app.py", hog, 0o644)]);
    create_function(
        &s,
        "hog",
        "python3.12",
        "app.handler",
        &zip,
        &["--memory-size", "128", "--timeout", "10"],
    );
    let (v, p) = invoke(
        &s,
        &["--function-name", "hog", "--payload", r#"{"mb": 200}"#],
    );
    assert_eq!(v["FunctionError"], "Unhandled", "{v} {p}");
    let err: Value = serde_json::from_str(&p).unwrap();
    assert_eq!(err["errorType"], "Runtime.OutOfMemory", "{err}");
    // Under the limit, a fresh worker serves.
    let (v, p) = invoke(
        &s,
        &["--function-name", "hog", "--payload", r#"{"mb": 10}"#],
    );
    assert!(v.get("FunctionError").is_none(), "{v} {p}");
    assert_eq!(p, (10 * 1024 * 1024).to_string());
}

#[test]
fn functions_not_hosted_here_are_forwarded_to_the_lambda_endpoint() {
    // `far` runs on the remote instance only; the front instance forwards to it, signed.
    let remote = Server::start();
    let zip = zip_file(remote.data_path(), "far.zip", &[("app.py", ECHO_PY, 0o644)]);
    create_function(&remote, "far", "python3.12", "app.handler", &zip, &[]);
    let endpoint = remote.endpoint();
    let front = Server::start_with(
        std::sync::Arc::new(tempfile::tempdir().unwrap()),
        &[
            "--lambda-endpoint",
            &endpoint,
            "--lambda-access-key-id",
            "test",
            "--lambda-secret-access-key",
            "test",
        ],
    );
    // The function lives on the remote endpoint, whose own policy decides.
    let api = proxy_api_without_permission(&front, "far");
    let r = front.invoke(&api, "/prod/over/there");
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.header("x-function"), Some("far"));
    assert_eq!(r.json()["path"], "/over/there");
    let (v, p) = invoke(
        &front,
        &["--function-name", "far", "--payload", r#"{"direct":true}"#],
    );
    assert_eq!(v["StatusCode"], 200, "{v}");
    assert_eq!(
        serde_json::from_str::<Value>(
            serde_json::from_str::<Value>(&p).unwrap()["body"]
                .as_str()
                .unwrap()
        )
        .unwrap()["direct"],
        true
    );
    // Unknown on both: the remote's not-found comes back.
    let out = front.data_path().join("x.json");
    let e = aws(
        &front,
        &[
            "lambda",
            "invoke",
            "--function-name",
            "nowhere",
            out.to_str().unwrap(),
        ],
    )
    .unwrap_err();
    assert!(
        e.stderr.contains("ResourceNotFoundException"),
        "{}",
        e.stderr
    );
    // Wrong credentials: the remote refuses, and the caller sees a failure, not a hang.
    let wrong = Server::start_with(
        std::sync::Arc::new(tempfile::tempdir().unwrap()),
        &[
            "--lambda-endpoint",
            &endpoint,
            "--lambda-access-key-id",
            "test",
            "--lambda-secret-access-key",
            "nope",
        ],
    );
    let e = aws(
        &wrong,
        &[
            "lambda",
            "invoke",
            "--function-name",
            "far",
            out.to_str().unwrap(),
        ],
    )
    .unwrap_err();
    assert!(
        e.stderr.contains("ServiceException") && e.stderr.contains("403"),
        "{}",
        e.stderr
    );
}

/// Processes whose parent is `pid` (the function workers of a server).
fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat")).is_ok_and(|s| {
                s.rsplit_once(") ")
                    .and_then(|(_, rest)| rest.split(' ').nth(1)?.parse::<u32>().ok())
                    == Some(pid)
            })
        })
        .collect()
}

#[test]
fn idle_workers_are_reaped_and_failed_events_retried_twice() {
    let s = Server::start_with(
        std::sync::Arc::new(tempfile::tempdir().unwrap()),
        &[
            "--lambda-idle-timeout",
            "1",
            "--lambda-event-retry-delays",
            "1,1",
        ],
    );
    let zip = zip_file(s.data_path(), "w.zip", &[("app.py", ECHO_PY, 0o644)]);
    create_function(&s, "work", "python3.12", "app.work", &zip, &[]);
    let (v, _) = invoke(
        &s,
        &[
            "--function-name",
            "work",
            "--payload",
            "{}",
            "--log-type",
            "Tail",
        ],
    );
    assert!(decode_log(&v).contains("Init Duration"), "a cold start");
    assert_eq!(children_of(s.pid()).len(), 1, "one warm worker");
    wait_for(
        "the idle worker to be stopped",
        Duration::from_secs(10),
        || children_of(s.pid()).is_empty(),
    );
    let (v, _) = invoke(
        &s,
        &[
            "--function-name",
            "work",
            "--payload",
            "{}",
            "--log-type",
            "Tail",
        ],
    );
    assert!(
        decode_log(&v).contains("Init Duration"),
        "a new cold start after reaping"
    );

    // An Event whose function fails runs three times in all (two retries), then stops.
    let marker = s.data_path().join("failing.txt");
    let payload = json!({"mark": marker, "fail": "always"}).to_string();
    let (v, _) = invoke(
        &s,
        &[
            "--function-name",
            "work",
            "--invocation-type",
            "Event",
            "--payload",
            &payload,
        ],
    );
    assert_eq!(v["StatusCode"], 202);
    let runs = || std::fs::read_to_string(&marker).map_or(0, |m| m.lines().count());
    wait_for("three attempts", Duration::from_secs(20), || runs() == 3);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(runs(), 3, "no attempt after the second retry");
    assert!(
        std::fs::read_dir(s.data_path().join("functions/events"))
            .unwrap()
            .next()
            .is_none(),
        "the event is dropped"
    );
}

/// A deleted function closes its log file (one descriptor leaked per deleted function
/// before; issue 20).
#[test]
fn deleted_functions_close_their_log_files() {
    let s = Server::start();
    let zip = zip_file(s.data_path(), "w.zip", &[("app.py", ECHO_PY, 0o644)]);
    let open_logs = |name: &str| {
        let suffix = format!("/{name}.log");
        std::fs::read_dir(format!("/proc/{}/fd", s.pid()))
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter_map(|e| std::fs::read_link(e.path()).ok())
                    .filter(|p| p.to_string_lossy().ends_with(&suffix))
                    .count()
            })
            .unwrap_or(0)
    };
    for round in 0..2 {
        create_function(&s, "brief", "python3.12", "app.work", &zip, &[]);
        let (out, _) = invoke(&s, &["--function-name", "brief", "--payload", "{}"]);
        assert!(out.get("FunctionError").is_none(), "{out}");
        wait_for("the log file to be open", Duration::from_secs(10), || {
            open_logs("brief") == 1
        });
        aws(
            &s,
            &["lambda", "delete-function", "--function-name", "brief"],
        )
        .unwrap();
        wait_for(
            &format!("the log file to be closed (round {round})"),
            Duration::from_secs(10),
            || open_logs("brief") == 0,
        );
    }
}
