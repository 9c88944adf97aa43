//! GetExport as AWS writes it and inline schemas as models, through the real aws CLI:
//! the recorded `pets.json` exports (test_apigateway_extended) byte for byte, member
//! order and layout included, and an imported document's inline request and response
//! schemas turned into `MODEL…` models that validate requests and export as `$ref`s.

mod common;

use common::*;
use serde_json::{json, Value};

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../openapi/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).expect("fixture")
}

/// `aws apigateway get-export` of stage `local` into a file, the file's text returned.
fn export_text(s: &Server, api: &str, export_type: &str, extensions: Option<&str>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export.json");
    let mut args = vec![
        "get-export",
        "--rest-api-id",
        api,
        "--stage-name",
        "local",
        "--export-type",
        export_type,
    ];
    let parameters = extensions.map(|e| format!("extensions={e}"));
    if let Some(p) = &parameters {
        args.extend(["--parameters", p.as_str()]);
    }
    args.push(out.to_str().unwrap());
    apigw(s, &args);
    std::fs::read_to_string(&out).expect("export written")
}

#[test]
fn recorded_pets_exports_byte_for_byte() {
    let s = Server::start();
    let dir = tempfile::tempdir().unwrap();
    // The recorded import answered these binary media types: upstream's test sends them.
    let mut doc: Value = serde_json::from_str(&fixture("pets.json")).unwrap();
    doc["x-amazon-apigateway-binary-media-types"] = json!(["image/png", "image/jpg"]);
    let file = dir.path().join("pets.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let body = format!("fileb://{}", file.display());
    let api = apigw(
        &s,
        &["import-rest-api", "--fail-on-warnings", "--body", &body],
    );
    let id = api["id"].as_str().unwrap();
    deploy(&s, id, "local");
    let recorded: Value = serde_json::from_str(
        &fixture("recorded-exports.json")
            .replace("<api-id:1>", id)
            .replace("<region>", "us-east-1"),
    )
    .unwrap();
    for (export_type, extensions, case) in [
        ("swagger", None, "swagger pets"),
        ("swagger", Some("apigateway"), "swagger pets apigateway"),
        ("oas30", None, "oas30 pets"),
        ("oas30", Some("apigateway"), "oas30 pets apigateway"),
    ] {
        let got = export_text(&s, id, export_type, extensions);
        let expected = tollgate_openapi::to_aws_json(&recorded[case]);
        assert_eq!(got, expected, "{case}");
    }
    // AWS's layout, spelled out: ` : ` between key and value, inline arrays, `{ }`.
    let oas = export_text(&s, id, "oas30", None);
    assert!(oas.starts_with("{\n  \"openapi\" : \"3.0.1\",\n  \"info\" : {\n    \"title\" : \"Simple PetStore (Swagger)\",\n    \"version\" : \"1.0.0\"\n  },"), "{oas}");
    assert!(oas.ends_with("\n  \"components\" : { }\n}"), "{oas}");
}

fn is_generated(name: &str) -> bool {
    name.len() == 11
        && name.starts_with("MODEL")
        && name[5..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[test]
fn inline_schemas_become_models_that_validate_and_export() {
    let s = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let order = json!({"type": "object", "required": ["item"],
                       "properties": {"item": {"type": "string"}, "count": {"type": "integer"}}});
    let doc = json!({
        "openapi": "3.0.1",
        "info": {"title": "orders", "version": "1"},
        "x-amazon-apigateway-request-validators": {
            "body": {"validateRequestBody": true, "validateRequestParameters": false}},
        "paths": {"/orders": {"post": {
            "x-amazon-apigateway-request-validator": "body",
            "requestBody": {"content": {"application/json": {"schema": order}}},
            "responses": {"200": {"description": "ok", "content": {"application/json": {
                "schema": {"type": "object", "properties": {"id": {"type": "string"}}}}}}},
            "x-amazon-apigateway-integration": {
                "type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
                "responses": {"default": {"statusCode": "200"}}}
        }}}
    });
    let file = dir.path().join("orders.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let body = format!("fileb://{}", file.display());
    let api = apigw(
        &s,
        &["import-rest-api", "--fail-on-warnings", "--body", &body],
    );
    let id = api["id"].as_str().unwrap();
    let models = apigw(&s, &["get-models", "--rest-api-id", id]);
    let generated: Vec<&Value> = models["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| is_generated(m["name"].as_str().unwrap()))
        .collect();
    assert_eq!(generated.len(), 2, "{models:#}");
    let resources = apigw(&s, &["get-resources", "--rest-api-id", id]);
    let orders = resources["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == "/orders")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let method = apigw(
        &s,
        &[
            "get-method",
            "--rest-api-id",
            id,
            "--resource-id",
            &orders,
            "--http-method",
            "POST",
        ],
    );
    let request_model = method["requestModels"]["application/json"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(is_generated(&request_model), "{method:#}");
    let stored = generated
        .iter()
        .find(|m| m["name"] == request_model.as_str())
        .unwrap();
    let schema: Value = serde_json::from_str(stored["schema"].as_str().unwrap()).unwrap();
    assert_eq!(schema, order);
    let response_model = method["methodResponses"]["200"]["responseModels"]["application/json"]
        .as_str()
        .unwrap();
    assert!(is_generated(response_model) && response_model != request_model);

    // The generated model validates bodies like any other.
    deploy(&s, id, "local");
    let url = Server::exec_path(id, "/local/orders");
    let send = |b: Value| {
        Http::post(s.port, &url)
            .header("Content-Type", "application/json")
            .body(b.to_string())
            .send()
    };
    let r = send(json!({"item": "tea", "count": 2}));
    assert_eq!(r.status, 200, "{r}");
    let r = send(json!({"count": 2}));
    assert_eq!(r.status, 400, "{r}");
    assert_eq!(r.json()["message"], "Invalid request body");

    // Exports show it as a component behind a `$ref`.
    let exported: Value = serde_json::from_str(&export_text(&s, id, "oas30", None)).unwrap();
    let op = &exported["paths"]["/orders"]["post"];
    assert_eq!(
        op["requestBody"]["content"]["application/json"]["schema"],
        json!({"$ref": format!("#/components/schemas/{request_model}")})
    );
    assert_eq!(
        exported["components"]["schemas"][request_model.as_str()],
        order
    );
    let swagger: Value = serde_json::from_str(&export_text(&s, id, "swagger", None)).unwrap();
    assert_eq!(swagger["definitions"][request_model.as_str()], order);
}
