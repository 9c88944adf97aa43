//! ImportApi, ReimportApi and ExportApi options of HTTP APIs through the real aws CLI and
//! signed HTTP: `basepath=prepend`, `failOnWarnings` on a reimport (nothing changes),
//! YAML exports (`application/yaml`, read back with PyYAML), `stageName` (the deployed
//! snapshot, not later changes), `includeExtensions=false`, and WebSocket APIs refused
//! by all three (control-plane-v2.md §4).

mod common;

use common::*;
use serde_json::{json, Value};

fn write(dir: &std::path::Path, name: &str, doc: &Value) -> String {
    let file = dir.join(name);
    std::fs::write(&file, doc.to_string()).unwrap();
    format!("file://{}", file.display())
}

fn pets(backend: &str, server: &str) -> Value {
    json!({
        "openapi": "3.0.1",
        "info": {"title": "pets", "version": "1"},
        "servers": [{"url": server}],
        "paths": {"/pets": {"get": {
            "x-amazon-apigateway-integration": {
                "type": "http_proxy", "httpMethod": "GET", "uri": format!("{backend}/pets"),
                "payloadFormatVersion": "1.0"
            }
        }}}
    })
}

/// ExportApi over signed HTTP: status, Content-Type and body.
fn export(cp: &Cp, api: &str, query: &[(&str, &str)]) -> Response {
    cp.request("GET", &format!("/v2/apis/{api}/exports/OAS30"), query, None)
}

#[test]
fn basepath_prepend_and_fail_on_warnings_on_reimport() {
    let s = Server::start();
    let backend = Backend::start();
    let dir = tempfile::tempdir().unwrap();
    let doc = pets(&backend.url(), "https://example.com/v1");
    // prepend: the server URL's path goes in front of every route.
    let api = v2(
        &s,
        &[
            "import-api",
            "--basepath",
            "prepend",
            "--body",
            &write(dir.path(), "pets.json", &doc),
        ],
    );
    let id = api["ApiId"].as_str().unwrap().to_string();
    assert_eq!(v2_route_keys(&s, &id), ["GET /v1/pets"]);
    v2_default_stage(&s, &id);
    let r = s.invoke(&id, "/$default/v1/pets");
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(backend.last().path, "/pets");
    assert_eq!(s.invoke(&id, "/$default/pets").status, 404);
    // ignore (the default): the server URL's path is dropped.
    let plain = v2(
        &s,
        &[
            "import-api",
            "--body",
            &write(dir.path(), "pets.json", &doc),
        ],
    );
    assert_eq!(
        v2_route_keys(&s, plain["ApiId"].as_str().unwrap()),
        ["GET /pets"]
    );

    // A reimport with a warning and failOnWarnings is refused and changes nothing.
    let mut warned = pets(&backend.url(), "https://example.com/v1");
    warned["paths"]["/other"] = warned["paths"]["/pets"].clone();
    warned["x-amazon-apigateway-binary-media-types"] = json!(["image/png"]);
    let e = v2_err(
        &s,
        &[
            "reimport-api",
            "--api-id",
            &id,
            "--fail-on-warnings",
            "--body",
            &write(dir.path(), "warned.json", &warned),
        ],
    );
    assert_cli_error(
        &e,
        "BadRequestException",
        "x-amazon-apigateway-binary-media-types",
    );
    assert_eq!(v2_route_keys(&s, &id), ["GET /v1/pets"]);
    assert_eq!(s.invoke(&id, "/$default/v1/pets").status, 200);
}

#[test]
fn yaml_stage_and_extension_free_exports() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let backend = Backend::start();
    let dir = tempfile::tempdir().unwrap();
    let doc = pets(&backend.url(), "https://example.com");
    let api = v2(
        &s,
        &[
            "import-api",
            "--body",
            &write(dir.path(), "pets.json", &doc),
        ],
    );
    let id = api["ApiId"].as_str().unwrap().to_string();
    v2(
        &s,
        &["create-stage", "--api-id", &id, "--stage-name", "prod"],
    );
    // A stage without a deployment has nothing to export.
    let r = export(&cp, &id, &[("outputType", "JSON"), ("stageName", "prod")]);
    assert_eq!(r.status, 400, "{r}");
    assert!(r.text().contains("has no deployment"), "{r}");
    v2(
        &s,
        &["create-deployment", "--api-id", &id, "--stage-name", "prod"],
    );
    // A change after the deployment: in the current definition, not in the stage's.
    let integration = v2_http_proxy(&s, &id, "GET", &format!("{}/new", backend.url()), &[]);
    v2_route(&s, &id, "GET /new", &integration, &[]);

    let r = export(&cp, &id, &[("outputType", "YAML")]);
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.header("content-type"), Some("application/yaml"));
    let current = python_script(
        "import json, sys, yaml\nprint(json.dumps(yaml.safe_load(sys.argv[1])))",
        &[&r.text()],
    );
    assert_eq!(current["info"]["title"], "pets");
    assert!(current["paths"]["/new"]["get"].is_object(), "{current:#}");
    assert_eq!(
        current["paths"]["/pets"]["get"]["x-amazon-apigateway-integration"]["uri"],
        json!(format!("{}/pets", backend.url()))
    );

    let r = export(&cp, &id, &[("outputType", "JSON"), ("stageName", "prod")]);
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.header("content-type"), Some("application/json"));
    let deployed: Value = r.json();
    assert!(
        deployed["paths"]["/pets"]["get"].is_object(),
        "{deployed:#}"
    );
    assert!(
        deployed["paths"].get("/new").is_none(),
        "the stage's deployment predates /new: {deployed:#}"
    );
    assert_eq!(
        deployed["servers"][0]["variables"]["basePath"]["default"],
        "prod"
    );

    let r = export(
        &cp,
        &id,
        &[("outputType", "JSON"), ("includeExtensions", "false")],
    );
    assert_eq!(r.status, 200, "{r}");
    assert!(
        !r.text().contains("x-amazon-apigateway"),
        "no extensions: {r}"
    );
    let bare: Value = r.json();
    assert!(bare["paths"]["/pets"]["get"].is_object(), "{bare:#}");
}

#[test]
fn websocket_apis_have_no_openapi_form() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let dir = tempfile::tempdir().unwrap();
    let id = v2_websocket_api(&s, "chat");
    let mock = v2_integration(&s, &id, &["--integration-type", "MOCK"]);
    v2_route(&s, &id, "$default", &mock, &[]);
    let doc = pets("http://127.0.0.1:9", "https://example.com");
    let e = v2_err(
        &s,
        &[
            "reimport-api",
            "--api-id",
            &id,
            "--body",
            &write(dir.path(), "pets.json", &doc),
        ],
    );
    assert_cli_error(&e, "BadRequestException", "WebSocket");
    assert_eq!(v2_route_keys(&s, &id), ["$default"], "routes kept");
    let r = export(&cp, &id, &[("outputType", "JSON")]);
    assert_eq!(r.status, 400, "{r}");
    assert!(r.text().contains("WebSocket"), "{r}");

    // A WebSocket definition (route selection at the root) is not imported.
    let mut ws_doc = doc.clone();
    ws_doc["x-amazon-apigateway-route-selection-expression"] = json!("$request.body.action");
    let e = v2_err(
        &s,
        &[
            "import-api",
            "--body",
            &write(dir.path(), "ws.json", &ws_doc),
        ],
    );
    assert_cli_error(&e, "BadRequestException", "WebSocket");
    let apis = v2(&s, &["get-apis"]);
    assert_eq!(apis["Items"].as_array().unwrap().len(), 1);
}
