//! CORS on a REST API the way AWS's documentation enables it with the aws CLI: an OPTIONS
//! method with a MOCK integration whose integration response maps the `Access-Control-*`
//! method response headers, the real method answering `Access-Control-Allow-Origin`, and
//! the DEFAULT_4XX/5XX gateway responses carrying it too, so a browser also reads errors
//! (a refused API key here). A browser's preflight has an `Origin`, an
//! `Access-Control-Request-Method` and no `Content-Type`.

mod common;

use common::*;
use serde_json::json;

#[test]
fn cli_cors_walkthrough_preflight_method_and_gateway_responses() {
    let s = Server::start();
    let api = str_of(&apigw(&s, &["create-rest-api", "--name", "cors"]), "id");
    let resources = apigw(&s, &["get-resources", "--rest-api-id", &api]);
    let root = resources["items"][0]["id"]
        .as_str()
        .expect("root id")
        .to_string();
    let pets = create_resource(&s, &api, &root, "pets");
    let on = |op: &str, verb: &str, rest: &[&str]| {
        let mut v = vec![
            op,
            "--rest-api-id",
            &api,
            "--resource-id",
            &pets,
            "--http-method",
            verb,
        ];
        v.extend_from_slice(rest);
        apigw(&s, &v)
    };

    // The preflight method, as the AWS CLI guide for CORS writes it.
    on("put-method", "OPTIONS", &["--authorization-type", "NONE"]);
    on(
        "put-method-response",
        "OPTIONS",
        &[
            "--status-code",
            "200",
            "--response-parameters",
            "method.response.header.Access-Control-Allow-Headers=false,\
             method.response.header.Access-Control-Allow-Methods=false,\
             method.response.header.Access-Control-Allow-Origin=false",
        ],
    );
    on(
        "put-integration",
        "OPTIONS",
        &[
            "--type",
            "MOCK",
            "--request-templates",
            r#"{"application/json": "{\"statusCode\": 200}"}"#,
        ],
    );
    let cors = json!({
        "method.response.header.Access-Control-Allow-Headers":
            "'Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token'",
        "method.response.header.Access-Control-Allow-Methods": "'GET,OPTIONS'",
        "method.response.header.Access-Control-Allow-Origin": "'*'"
    });
    on(
        "put-integration-response",
        "OPTIONS",
        &[
            "--status-code",
            "200",
            "--response-parameters",
            &cors.to_string(),
            "--response-templates",
            r#"{"application/json": ""}"#,
        ],
    );

    // The real method: keyed, and answering the origin header too.
    on(
        "put-method",
        "GET",
        &["--authorization-type", "NONE", "--api-key-required"],
    );
    on(
        "put-method-response",
        "GET",
        &[
            "--status-code",
            "200",
            "--response-parameters",
            "method.response.header.Access-Control-Allow-Origin=false",
        ],
    );
    on(
        "put-integration",
        "GET",
        &[
            "--type",
            "MOCK",
            "--request-templates",
            r#"{"application/json": "{\"statusCode\": 200}"}"#,
        ],
    );
    on(
        "put-integration-response",
        "GET",
        &[
            "--status-code",
            "200",
            "--response-parameters",
            r#"{"method.response.header.Access-Control-Allow-Origin": "'*'"}"#,
            "--response-templates",
            r#"{"application/json": "[{\"id\": 1}]"}"#,
        ],
    );
    for t in ["DEFAULT_4XX", "DEFAULT_5XX"] {
        apigw(
            &s,
            &[
                "put-gateway-response",
                "--rest-api-id",
                &api,
                "--response-type",
                t,
                "--response-parameters",
                r#"{"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"}"#,
            ],
        );
    }
    deploy(&s, &api, "dev");

    // The browser's preflight.
    let pre = Http::new(s.port, "OPTIONS", &Server::exec_path(&api, "/dev/pets"))
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "x-api-key")
        .send();
    assert_eq!(pre.status, 200, "preflight: {}", pre.text());
    assert_eq!(pre.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        pre.header("access-control-allow-methods"),
        Some("GET,OPTIONS")
    );
    assert_eq!(
        pre.header("access-control-allow-headers"),
        Some("Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token")
    );
    assert_eq!(
        pre.text(),
        "",
        "the empty response template answers no body"
    );

    // Without a key: the gateway's 403 still carries the origin header.
    let refused = Http::get(s.port, &Server::exec_path(&api, "/dev/pets"))
        .header("Origin", "https://app.example")
        .send();
    assert_eq!(refused.status, 403);
    assert_eq!(refused.json(), json!({"message": "Forbidden"}));
    assert_eq!(refused.header("access-control-allow-origin"), Some("*"));

    // An unknown path: 403 Missing Authentication Token, also through DEFAULT_4XX.
    let missing = Http::get(s.port, &Server::exec_path(&api, "/dev/nothing"))
        .header("Origin", "https://app.example")
        .send();
    assert_eq!(missing.status, 403);
    assert_eq!(missing.header("access-control-allow-origin"), Some("*"));

    // With a key on a usage plan: the method's own header.
    let key = apigw(
        &s,
        &[
            "create-api-key",
            "--name",
            "k",
            "--enabled",
            "--value",
            "cors-key-0123456789abc",
        ],
    );
    plan_with_key(&s, &api, "dev", &str_of(&key, "id"));
    let ok = Http::get(s.port, &Server::exec_path(&api, "/dev/pets"))
        .header("Origin", "https://app.example")
        .header("x-api-key", "cors-key-0123456789abc")
        .send();
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.json(), json!([{"id": 1}]));
    assert_eq!(ok.header("access-control-allow-origin"), Some("*"));
}
