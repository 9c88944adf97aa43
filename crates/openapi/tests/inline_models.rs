//! Inline request and response schemas become models (`MODEL` and six hex digits, as AWS
//! names them), the methods point at them, and exports show them behind `$ref`s.

mod common;

use serde_json::{json, Value};
use tollgate_model::RestApiDefinition;
use tollgate_openapi::document::Flavor;
use tollgate_openapi::rest::{self, ExportOptions, Extensions, ImportOptions, Mode};

fn import(doc: &Value) -> RestApiDefinition {
    let i = rest::read(doc.to_string().as_bytes(), ImportOptions::default()).unwrap();
    assert!(i.warnings.is_empty(), "{:?}", i.warnings);
    let mut def = common::rest_definition("apiid");
    rest::apply(&mut def, &i, Mode::Overwrite).unwrap();
    def
}

fn export(def: &RestApiDefinition, flavor: Flavor) -> Value {
    rest::export(
        def,
        &ExportOptions {
            flavor,
            api_id: "apiid",
            region: "us-east-1",
            stage: "test",
            version: "1",
            extensions: Extensions::default(),
        },
    )
}

fn generated(name: &str) -> bool {
    name.len() == 11
        && name.starts_with("MODEL")
        && name[5..].bytes().all(|b| b.is_ascii_hexdigit())
}

const BODY: &str = r##"{"type": "object", "properties": {"pet": {"$ref": "#/definitions/Pet"}}}"##;

fn swagger() -> Value {
    json!({
        "swagger": "2.0", "info": {"title": "inline", "version": "1"},
        "paths": {"/pets": {"post": {
            "parameters": [{"in": "body", "name": "body", "required": true,
                            "schema": serde_json::from_str::<Value>(BODY).unwrap()}],
            "responses": {"200": {"description": "ok",
                                  "schema": {"type": "array", "items": {"type": "string"}}}}
        }}},
        "definitions": {"Pet": {"type": "object"}}
    })
}

#[test]
fn swagger_inline_schemas_become_models() {
    let def = import(&swagger());
    let r = def.resources.values().find(|r| r.path == "/pets").unwrap();
    let post = &r.resource_methods["POST"];
    let body = &post.request_models["application/json"];
    assert!(generated(body), "{body}");
    let reply = &post.method_responses["200"]
        .response_models
        .as_ref()
        .unwrap()["application/json"];
    assert!(generated(reply) && reply != body, "{reply}");
    // The model's own references are API Gateway model URLs, as for document models.
    let schema: Value = serde_json::from_str(def.models[body].schema.as_deref().unwrap()).unwrap();
    assert_eq!(
        schema["properties"]["pet"]["$ref"],
        "https://apigateway.amazonaws.com/restapis/apiid/models/Pet"
    );
    let doc = export(&def, Flavor::Swagger2);
    let op = &doc["paths"]["/pets"]["post"];
    assert_eq!(
        op["parameters"][0]["schema"],
        json!({"$ref": format!("#/definitions/{body}")})
    );
    assert_eq!(
        op["responses"]["200"]["schema"],
        json!({"$ref": format!("#/definitions/{reply}")})
    );
    assert_eq!(
        doc["definitions"][body.as_str()],
        serde_json::from_str::<Value>(BODY).unwrap()
    );
    assert_eq!(
        doc["definitions"][reply.as_str()],
        json!({"type": "array", "items": {"type": "string"}})
    );
    // Re-importing the export keeps the names: export → import → export is stable.
    assert_eq!(export(&import(&doc), Flavor::Swagger2), doc);
}

#[test]
fn oas30_inline_schemas_become_models_and_repeat_as_one() {
    let shape = json!({"type": "object", "required": ["name"],
                       "properties": {"name": {"type": "string"}}});
    let doc = json!({
        "openapi": "3.0.1", "info": {"title": "inline", "version": "1"},
        "paths": {
            "/a": {"put": {
                "requestBody": {"content": {"application/json": {"schema": shape}}},
                "responses": {"201": {"description": "ok",
                    "content": {"application/json": {"schema": shape}}}}}},
            "/b": {"get": {"responses": {"200": {"description": "ok",
                "content": {"application/json": {"schema": {}}}}}}}
        }
    });
    let def = import(&doc);
    let method = |p: &str, v: &str| {
        def.resources
            .values()
            .find(|r| r.path == p)
            .unwrap()
            .resource_methods[v]
            .clone()
    };
    let put = method("/a", "PUT");
    let name = put.request_models["application/json"].clone();
    assert!(generated(&name), "{name}");
    // One schema used twice is one model.
    assert_eq!(
        put.method_responses["201"]
            .response_models
            .as_ref()
            .unwrap()["application/json"],
        name
    );
    // An empty schema describes nothing: no model.
    assert_eq!(
        method("/b", "GET").method_responses["200"].response_models,
        None
    );
    let generated_models: Vec<_> = def.models.keys().filter(|n| generated(n)).collect();
    assert_eq!(generated_models, [&name]);
    let out = export(&def, Flavor::Oas3);
    assert_eq!(
        out["paths"]["/a"]["put"]["requestBody"]["content"]["application/json"]["schema"],
        json!({"$ref": format!("#/components/schemas/{name}")})
    );
    assert_eq!(out["components"]["schemas"][name.as_str()], shape);
}
