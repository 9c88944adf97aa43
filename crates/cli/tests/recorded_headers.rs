//! Recorded header details of Lambda proxy integrations and TestInvokeMethod, against the
//! real binary: header names keep the case an HTTP/1 client sent in the REST proxy event
//! (`test_lambda_aws_proxy_integration`: `tEsT-HEADeR` stays), `X-Amzn-Trace-Id` on
//! AWS_PROXY answers and not on MOCK ones (`test_invocation_trace_id`), TestInvokeMethod's
//! endpoint lines for a Lambda proxy method (`test_apigw_test_invoke_method_api`) and
//! "Invalid endpoint address" for a backend that cannot be reached
//! (`test_failed_invoke_test_method`).

mod common;

use common::lambda::*;
use common::*;
use serde_json::{json, Value};

/// Answers with the event it was given.
const EVENT_PY: &str = r#"
import json
def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(event), "headers": {"Content-Type": "application/json"}}
"#;

/// Two requests on one keep-alive connection, header names spelled by the caller.
const KEEP_ALIVE_PY: &str = r#"
import http.client, json, sys
port, path = int(sys.argv[1]), sys.argv[2]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
out = []
for spelling in ["tEsT-HEADeR", "TEST-header"]:
    c.putrequest("GET", path, skip_accept_encoding=True)
    c.putheader(spelling, "aValUE")
    c.putheader("user-Agent", "lower/1")
    c.putheader("foobar", "x")
    c.endheaders()
    r = c.getresponse()
    event = json.loads(r.read())
    out.append({"status": r.status, "headers": sorted(event["headers"]),
                "multi": sorted(event["multiValueHeaders"]),
                "trace": r.getheader("X-Amzn-Trace-Id")})
print(json.dumps(out))
"#;

fn event_api(s: &Server) -> String {
    let zip = zip_file(s.data_path(), "event.zip", &[("app.py", EVENT_PY, 0o644)]);
    create_function(s, "event", "python3.12", "app.handler", &zip, &[]);
    proxy_api(s, "event")
}

#[test]
fn proxy_events_keep_header_case_and_answers_carry_the_trace_id() {
    let s = Server::start();
    let api = event_api(&s);
    let path = Server::exec_path(&api, "/prod/proxy-value");
    let r = Http::get(s.port, &path)
        .header("tEsT-HEADeR", "aValUE")
        .header("authorization", "random-value")
        .header(
            "X-Amzn-Trace-Id",
            "Root=1-65a1b2c3-0123456789abcdef01234567",
        )
        .send();
    assert_eq!(r.status, 200, "{r}");
    let event: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(event["headers"]["tEsT-HEADeR"], "aValUE", "{event:#}");
    assert_eq!(event["multiValueHeaders"]["tEsT-HEADeR"], json!(["aValUE"]));
    assert!(event["headers"].get("Test-Header").is_none(), "{event:#}");
    // `Authorization` is AWS's spelling whatever the client's (recorded).
    assert_eq!(
        event["headers"]["Authorization"], "random-value",
        "{event:#}"
    );
    // Names the gateway adds are AWS's spelling.
    for added in [
        "X-Forwarded-For",
        "X-Forwarded-Port",
        "X-Forwarded-Proto",
        "Host",
    ] {
        assert!(event["headers"].get(added).is_some(), "{added}: {event:#}");
    }
    // The caller's trace (its Root kept) reaches the function and comes back on the answer.
    let trace = event["headers"]["X-Amzn-Trace-Id"].as_str().unwrap();
    assert!(trace.starts_with("Root=1-65a1b2c3-0123456789abcdef01234567;Parent="));
    assert_eq!(r.header("x-amzn-trace-id"), Some(trace));

    // `path` and `requestContext.path` as recorded (test_lambda_aws_proxy_integration).
    for (sent, path, context_path) in [
        ("/prod/proxy-value/", "/proxy-value/", "/prod/proxy-value/"),
        (
            "/prod/proxy-value//double-slash",
            "/proxy-value//double-slash",
            "/prod/proxy-value//double-slash",
        ),
        ("/prod//proxy-value", "/proxy-value", "/prod//proxy-value"),
    ] {
        let host = format!("{api}.execute-api.localhost:{}", s.port);
        let r = Http::get(s.port, sent).header("Host", &host).send();
        assert_eq!(r.status, 200, "{sent}: {r}");
        let event: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(
            (&event["path"], &event["requestContext"]["path"]),
            (&json!(path), &json!(context_path)),
            "{sent}"
        );
    }

    // Each request of a keep-alive connection is spelled as it was sent.
    let runs = python_script(KEEP_ALIVE_PY, &[&s.port.to_string(), &path]);
    for (run, spelling) in runs
        .as_array()
        .unwrap()
        .iter()
        .zip(["tEsT-HEADeR", "TEST-header"])
    {
        assert_eq!(run["status"], 200, "{runs:#}");
        for key in ["headers", "multi"] {
            let names: Vec<&str> = run[key]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert!(names.contains(&spelling), "{spelling} in {names:?}");
            // Standard names are AWS's spelling, others the client's (recorded).
            assert!(names.contains(&"User-Agent"), "{names:?}");
            assert!(names.contains(&"foobar"), "{names:?}");
        }
        assert!(run["trace"]
            .as_str()
            .is_some_and(|t| t.starts_with("Root=1-")));
    }

    // HTTP/2 names arrive lower case: the event shows AWS's capitalised form.
    let out = std::process::Command::new("curl")
        .args(["-sS", "--http2-prior-knowledge", "--max-time", "20"])
        .args(["-H", "tEsT-HEADeR: aValUE"])
        .arg(format!("http://127.0.0.1:{}{path}", s.port))
        .output()
        .expect("run curl");
    let event: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(event["headers"]["Test-Header"], "aValUE", "{event:#}");
}

#[test]
fn mock_answers_carry_no_trace_id() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("mock");
    cp.mock(&api, &root, "GET", "{\"ok\": true}");
    cp.deploy(&api, "prod");
    let r = Http::get(s.port, &Server::exec_path(&api, "/prod/")).send();
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.header("x-amzn-trace-id"), None, "{r}");
}

/// `Mon Sep 29 19:28:50 UTC 2025 : text` → `text`; the first line has no stamp.
fn log_lines(ti: &Value) -> Vec<String> {
    let log = ti["log"].as_str().unwrap();
    assert!(log.ends_with('\n'), "{log}");
    let mut lines = log.lines();
    let mut out = vec![lines.next().unwrap().to_string()];
    for l in lines {
        let (_, text) = l
            .split_once(" UTC ")
            .and_then(|(_, rest)| rest.split_once(" : "))
            .unwrap_or_else(|| panic!("unstamped {l:?}"));
        out.push(text.to_string());
    }
    out
}

#[test]
fn test_invoke_logs_the_lambda_call_and_an_unreachable_backend_as_aws() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let api = event_api(&s);
    let res = apigw(&s, &["get-resources", "--rest-api-id", &api])["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == "/{proxy+}")
        .map(|r| r["id"].as_str().unwrap().to_string())
        .unwrap();
    let ti = cp.ok(
        "POST",
        &format!("/restapis/{api}/resources/{res}/methods/GET"),
        Some(&json!({ "pathWithQueryString": "/foo" })),
    );
    assert_eq!(ti["status"], 200, "{ti:#}");
    let trace = ti["headers"]["X-Amzn-Trace-Id"].as_str().expect("trace id");
    assert_eq!(ti["multiValueHeaders"]["X-Amzn-Trace-Id"], json!([trace]));
    let l = log_lines(&ti);
    let arn = "arn:aws:lambda:us-east-1:000000000000:function:event";
    let url =
        format!("https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/{arn}/invocations");
    assert_eq!(l[7], format!("Endpoint request URI: {url}"), "{l:#?}");
    assert_eq!(l[8], "Endpoint request body after transformations: ");
    assert_eq!(l[9], format!("Sending request to {url}"));
    assert!(
        l[10].starts_with("Received response. Status: 200, Integration latency: ")
            && l[10].ends_with(" ms"),
        "{}",
        l[10]
    );
    assert!(
        l[11].starts_with(
            "Endpoint response headers: {Content-Type=application/json, Content-Length="
        ) && l[11].contains("X-Amz-Executed-Version=$LATEST")
            && l[11].ends_with(&format!("X-Amzn-Trace-Id={trace}}}")),
        "{}",
        l[11]
    );
    assert!(l[12].starts_with("Endpoint response body before transformations: {"));
    assert_eq!(
        l[14],
        format!(
            "Method response headers: {{X-Amzn-Trace-Id={trace}, Content-Type=application/json}}"
        )
    );
    assert_eq!(
        &l[15..],
        [
            "Successfully completed execution",
            "Method completed with status: 200"
        ]
    );

    // A backend nothing answers for (a closed port): a configuration error.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let (http_api, root) = cp.create_api("unreachable");
    cp.put_method(
        &http_api,
        &root,
        "GET",
        json!({ "authorizationType": "NONE" }),
    );
    cp.put_integration(
        &http_api,
        &root,
        "GET",
        json!({ "type": "HTTP", "httpMethod": "GET", "uri": format!("http://127.0.0.1:{port}/") }),
    );
    let ti = cp.ok(
        "POST",
        &format!("/restapis/{http_api}/resources/{root}/methods/GET"),
        Some(&json!({})),
    );
    assert_eq!(ti["status"], 500, "{ti:#}");
    let body: Value = serde_json::from_str(ti["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, json!({ "message": "Internal server error" }));
    assert_eq!(
        ti["headers"]["x-amzn-ErrorType"],
        "InternalServerErrorException"
    );
    let l = log_lines(&ti);
    assert_eq!(
        &l[2..],
        [
            "HTTP Method: GET, Resource Path: /",
            "Method request path: {}",
            "Method request query string: {}",
            "Method request headers: {}",
            "Method request body before transformations: ",
            "Execution failed due to configuration error: Invalid endpoint address",
            "Method completed with status: 500",
        ]
    );
}
