//! Binary media types and `contentHandling` for non-proxy integrations through the real
//! server (request-pipeline.md §6): the integration's setting converts the client's body
//! for the backend, the integration response's setting (and the client's Accept) converts
//! the backend's body for the client, and templates only ever see text.

mod common;

use common::*;
use serde_json::json;

/// Not UTF-8 (a gzip header and friends), so any text conversion would show.
const RAW: &[u8] = &[0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x00, 0x80];
/// base64 of [`RAW`].
const RAW_B64: &str = "H4sIAP/+AIA=";
/// base64 of [`RAW_B64`].
const RAW_B64_B64: &str = "SDRzSUFQLytBSUE9";

/// `aws apigateway test-invoke-method` on (api, resource, verb) with extra arguments.
fn test_invoke(s: &Server, [api, resource, verb]: &[&str; 3], extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "test-invoke-method",
        "--rest-api-id",
        api,
        "--resource-id",
        resource,
        "--http-method",
        verb,
    ];
    args.extend_from_slice(extra);
    apigw(s, &args)
}

#[test]
fn content_handling_converts_request_and_response_payloads() {
    let backend = Backend::start();
    let s = Server::start();
    let cp = Cp::new(&s);
    // The binary media types come from the aws CLI, as a user would set them.
    let created = apigw(
        &s,
        &[
            "create-rest-api",
            "--name",
            "binary",
            "--binary-media-types",
            "image/png",
            "application/octet-stream",
        ],
    );
    let (api, root) = (str_of(&created, "id"), str_of(&created, "rootResourceId"));
    // The echo backend answers `raw=1` requests with the body it received, typed
    // application/octet-stream (a binary media type of this API).
    let echo = format!("{}/echo?raw=1", backend.url());
    let http_method = |path: &str, integration: serde_json::Value, response: serde_json::Value| {
        let res = cp.resource(&api, &root, path);
        cp.put_method(&api, &res, "POST", json!({ "authorizationType": "NONE" }));
        let mut i = json!({ "type": "HTTP", "httpMethod": "POST", "uri": echo });
        i.as_object_mut()
            .unwrap()
            .extend(integration.as_object().unwrap().clone());
        cp.put_integration(&api, &res, "POST", i);
        cp.put_method_response(&api, &res, "POST", "200");
        cp.put_integration_response(&api, &res, "POST", "200", response);
        res
    };
    // Request CONVERT_TO_TEXT; response unset (binary backend: bytes or base64 by Accept).
    http_method(
        "to-text",
        json!({ "contentHandling": "CONVERT_TO_TEXT" }),
        json!({}),
    );
    // Request CONVERT_TO_BINARY; response CONVERT_TO_TEXT.
    http_method(
        "to-binary",
        json!({ "contentHandling": "CONVERT_TO_BINARY" }),
        json!({ "contentHandling": "CONVERT_TO_TEXT" }),
    );
    // A request template sees the base64 text of a binary body converted to text.
    let template = http_method(
        "template",
        json!({
            "contentHandling": "CONVERT_TO_TEXT",
            "requestTemplates": { "image/png": "{\"data\": \"$input.body\"}" }
        }),
        json!({ "contentHandling": "CONVERT_TO_TEXT" }),
    );
    // Unset: a template selected for a body still binary is AWS's 500.
    http_method(
        "template-binary",
        json!({ "requestTemplates": { "image/png": "$input.body" } }),
        json!({}),
    );
    // MOCK: the response template writes base64 text; the conversion to binary follows it.
    let mock = |path: &str, response: serde_json::Value| {
        let res = cp.resource(&api, &root, path);
        cp.put_method(&api, &res, "GET", json!({ "authorizationType": "NONE" }));
        cp.put_integration(
            &api,
            &res,
            "GET",
            json!({ "type": "MOCK", "requestTemplates": { "application/json": "{\"statusCode\": 200}" } }),
        );
        cp.put_method_response(&api, &res, "GET", "200");
        cp.put_integration_response(&api, &res, "GET", "200", response);
        res
    };
    mock(
        "mock-binary",
        json!({ "contentHandling": "CONVERT_TO_BINARY", "responseTemplates": { "image/png": RAW_B64 } }),
    );
    let mock_accept = mock(
        "mock-accept",
        json!({ "responseTemplates": { "image/png": RAW_B64 } }),
    );
    cp.deploy(&api, "dev");

    let post = |path: &str, content_type: &str, accept: &str, body: &[u8]| {
        Http::post(s.port, &Server::exec_path(&api, &format!("/dev/{path}")))
            .header("Content-Type", content_type)
            .header("Accept", accept)
            .body(body.to_vec())
            .send()
    };

    // Binary in, CONVERT_TO_TEXT: the backend gets base64 text.
    let r = post("to-text", "image/png", "image/png", RAW);
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(backend.last().body.as_deref(), Some(RAW_B64.as_bytes()));
    // The backend's answer is binary and the client accepts binary: bytes as they are.
    assert_eq!(r.body, RAW_B64.as_bytes(), "{r}");
    // The client accepts text (the first Accept entry counts): base64-encoded.
    let r = post("to-text", "image/png", "application/json,image/png", RAW);
    assert_eq!(r.body, RAW_B64_B64.as_bytes(), "{r}");

    // Text in, CONVERT_TO_BINARY: the backend gets the decoded bytes; the binary answer
    // comes back as base64 text whatever the Accept.
    let r = post("to-binary", "text/plain", "image/png", RAW_B64.as_bytes());
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(backend.last().body.as_deref(), Some(RAW));
    assert_eq!(r.body, RAW_B64.as_bytes(), "{r}");
    // Text that is not base64 cannot be converted: 500, and nothing reaches the backend.
    let before = backend.count();
    let r = post("to-binary", "text/plain", "image/png", b"not base64!");
    assert_eq!(r.status, 500, "{r}");
    assert_eq!(r.json(), json!({ "message": "Internal server error" }));
    assert_eq!(backend.count(), before);

    let r = post("template", "image/png", "image/png", RAW);
    assert_eq!(r.status, 200, "{r}");
    let sent = format!("{{\"data\": \"{RAW_B64}\"}}");
    assert_eq!(backend.last().body.as_deref(), Some(sent.as_bytes()));
    // The echoed JSON is typed octet-stream (binary): CONVERT_TO_TEXT encodes it.
    assert_eq!(
        String::from_utf8(r.body.clone()).unwrap(),
        "eyJkYXRhIjogIkg0c0lBUC8rQUlBPSJ9",
        "{r}"
    );

    let r = post("template-binary", "image/png", "image/png", RAW);
    assert_eq!(r.status, 500, "{r}");

    // MOCK with CONVERT_TO_BINARY: the template's base64 becomes bytes for any Accept.
    for accept in ["image/png", "application/json"] {
        let r = Http::get(s.port, &Server::exec_path(&api, "/dev/mock-binary"))
            .header("Accept", accept)
            .send();
        assert_eq!((r.status, r.body.as_slice()), (200, RAW), "{accept}: {r}");
    }
    // Unset: decoded only when the client's Accept is a binary media type.
    let r = Http::get(s.port, &Server::exec_path(&api, "/dev/mock-accept"))
        .header("Accept", "image/png")
        .send();
    assert_eq!((r.status, r.body.as_slice()), (200, RAW), "{r}");
    let r = Http::get(s.port, &Server::exec_path(&api, "/dev/mock-accept"))
        .header("Accept", "text/plain")
        .send();
    assert_eq!(
        (r.status, r.body.as_slice()),
        (200, RAW_B64.as_bytes()),
        "{r}"
    );

    // TestInvokeMethod logs the payload at each step: "hi" sent as image/png is base64 text
    // in the template, the backend echoes it typed octet-stream, and CONVERT_TO_TEXT
    // encodes that for the method response.
    let ti = test_invoke(
        &s,
        &[&api, &template, "POST"],
        &[
            "--headers",
            "Content-Type=image/png,Accept=image/png",
            "--body",
            "hi",
        ],
    );
    assert_eq!(ti["status"], 200, "{ti:#}");
    let log = ti["log"].as_str().unwrap();
    // Each line after the first is stamped `{Java date} : `.
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("transformations"))
        .map(|l| l.split_once(" : ").map_or(l, |(_, rest)| rest))
        .collect();
    assert_eq!(
        lines,
        [
            "Method request body before transformations: hi",
            "Endpoint request body after transformations: {\"data\": \"aGk=\"}",
            "Endpoint response body before transformations: {\"data\": \"aGk=\"}",
            "Method response body after transformations: eyJkYXRhIjogImFHaz0ifQ==",
        ],
        "{log}"
    );
    // MOCK has no endpoint: no endpoint lines.
    let ti = test_invoke(&s, &[&api, &mock_accept, "GET"], &[]);
    let log = ti["log"].as_str().unwrap();
    assert!(!log.contains("Endpoint"), "{log}");
    assert!(
        log.contains(&format!(
            "Method response body after transformations: {RAW_B64}"
        )),
        "{log}"
    );
}
