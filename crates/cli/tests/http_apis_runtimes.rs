//! HTTP API payload 2.0 events as functions written with AWS's own libraries see them
//! (issue 12): a Rust function built on `lambda_http` must see the path it sees on AWS on
//! the `$default` stage and on a named one (`rawPath` carries a named stage,
//! lambda-events.md §2.1, and `lambda_http` builds the request URI from it, adding the stage
//! only where the event lacks it), and a Node.js handler returning a bare object gets AWS's
//! response inference.

mod common;

use common::lambda::*;
use common::*;
use serde_json::{json, Value};

fn create(cp: &Cp, path: &str, body: Value) -> Value {
    cp.ok("POST", path, Some(&body))
}

/// An HTTP API with `GET /pets/{id}` on a Lambda proxy (payload 2.0) integration, and
/// auto-deployed `$default` and `prod` stages.
fn lambda_api(s: &Server, cp: &Cp, function: &str) -> String {
    let api = create(
        cp,
        "/v2/apis",
        json!({"name": function, "protocolType": "HTTP"}),
    )["apiId"]
        .as_str()
        .unwrap()
        .to_string();
    let arn = format!("arn:aws:lambda:us-east-1:000000000000:function:{function}");
    let integration = create(
        cp,
        &format!("/v2/apis/{api}/integrations"),
        json!({"integrationType": "AWS_PROXY", "integrationUri": arn,
               "payloadFormatVersion": "2.0"}),
    )["integrationId"]
        .as_str()
        .unwrap()
        .to_string();
    create(
        cp,
        &format!("/v2/apis/{api}/routes"),
        json!({"routeKey": "GET /pets/{id}", "target": format!("integrations/{integration}")}),
    );
    for stage in ["$default", "prod"] {
        create(
            cp,
            &format!("/v2/apis/{api}/stages"),
            json!({"stageName": stage, "autoDeploy": true}),
        );
    }
    grant_api(s, function, &api, None);
    api
}

fn get_host(s: &Server, api: &str, path: &str) -> Response {
    Http::get(s.port, path)
        .header("Host", &format!("{api}.execute-api.localhost:{}", s.port))
        .send()
}

#[test]
fn lambda_http_sees_the_route_path_on_default_and_named_stages() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let zip = example_function_zip(&s, "http_lambda");
    create_function(&s, "axum-like", "provided.al2023", "bootstrap", &zip, &[]);
    let api = lambda_api(&s, &cp, "axum-like");

    for (path, stage, raw) in [
        ("/pets/7?q=x", "$default", "/pets/7"),
        ("/prod/pets/7?q=x", "prod", "/prod/pets/7"),
    ] {
        let r = get_host(&s, &api, path);
        assert_eq!(r.status, 200, "{path}: {r}");
        assert_eq!(r.header("x-runtime"), Some("lambda_http"), "{r}");
        let seen = r.json();
        assert_eq!(seen["path"], raw, "{path}: {seen}");
        assert_eq!(seen["rawPath"], raw, "{path}: {seen}");
        assert_eq!(seen["method"], "GET", "{seen}");
        assert_eq!(seen["query"], "x", "{seen}");
        assert_eq!(seen["pathParameters"], "7", "{seen}");
        assert_eq!(seen["stage"], stage, "{seen}");
    }
    // The path form always names the stage, `$default` literally.
    let r = Http::get(s.port, &format!("/_aws/execute-api/{api}/$default/pets/8")).send();
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.json()["path"], "/pets/8", "{r}");
}

const NODE_HANDLER: &str = r#"
exports.handler = async (event) => ({
  version: event.version,
  routeKey: event.routeKey,
  rawPath: event.rawPath,
  method: event.requestContext.http.method,
  id: event.pathParameters.id,
  stage: event.requestContext.stage,
});
"#;

#[test]
fn a_node_function_returning_a_bare_object_gets_response_inference() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let zip = zip_file(
        s.data_path(),
        "node.zip",
        &[("index.js", NODE_HANDLER, 0o644)],
    );
    create_function(&s, "node-pets", "nodejs20.x", "index.handler", &zip, &[]);
    let api = lambda_api(&s, &cp, "node-pets");

    let r = get_host(&s, &api, "/prod/pets/42");
    assert_eq!(r.status, 200, "{r}");
    // Inference (lambda-events.md §4.2): a JSON answer without `statusCode` is the body of a
    // 200 with `application/json`.
    assert_eq!(r.header("content-type"), Some("application/json"), "{r}");
    assert_eq!(
        r.json(),
        json!({"version": "2.0", "routeKey": "GET /pets/{id}", "rawPath": "/prod/pets/42",
               "method": "GET", "id": "42", "stage": "prod"})
    );
}
