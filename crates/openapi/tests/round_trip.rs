//! The round-trip property of GetExport: a REST API exported (with API Gateway's
//! extensions), imported into a new API and exported again gives the same document,
//! apart from `info.version` and `servers` / `host` (which name the API). Checked for
//! both export types on generated APIs, and on the recorded fixtures.

mod common;

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use tollgate_openapi::document::Flavor;
use tollgate_openapi::rest::{self, ExportOptions, Extensions, ImportOptions, Mode};

const PATHS: [&str; 6] = ["/", "/a", "/a/{id}", "/a/{id}/c", "/b", "/b/{proxy+}"];
const VERBS: [&str; 5] = [
    "get",
    "post",
    "put",
    "delete",
    "x-amazon-apigateway-any-method",
];
const MODELS: [&str; 3] = ["A", "B", "C"];

fn integration() -> impl Strategy<Value = Value> {
    let templates = proptest::option::of("[a-z$. ]{0,12}");
    let timeout = proptest::option::of(50i64..29_000);
    let pattern = proptest::option::of(Just("4\\d{2}"));
    (0..3usize, templates, timeout, pattern, any::<bool>()).prop_map(
        |(kind, template, timeout, pattern, convert)| {
            let mut i = match kind {
                0 => json!({"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}}),
                1 => json!({"type": "http", "httpMethod": "GET", "uri": "http://example.com/{id}",
                            "requestParameters": {"integration.request.querystring.q": "method.request.querystring.q"}}),
                _ => json!({"type": "aws_proxy", "httpMethod": "POST",
                            "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:f/invocations"}),
            };
            let mut responses = Map::new();
            let mut default = json!({"statusCode": "200"});
            if let Some(t) = template {
                default["responseTemplates"] = json!({"application/json": t});
            }
            responses.insert("default".into(), default);
            if let Some(p) = pattern {
                responses.insert(p.into(), json!({"statusCode": "400",
                    "responseParameters": {"method.response.header.X-Err": "'e'"}}));
            }
            i["responses"] = Value::Object(responses);
            i["passthroughBehavior"] = json!(if convert { "when_no_templates" } else { "when_no_match" });
            if let Some(t) = timeout {
                i["timeoutInMillis"] = json!(t);
            }
            if convert {
                i["contentHandling"] = json!("CONVERT_TO_TEXT");
            }
            i
        },
    )
}

fn operation(path: &'static str, models: usize) -> impl Strategy<Value = Value> {
    (
        proptest::option::of("[A-Z][a-z]{0,6}"),
        proptest::option::of(any::<bool>()),
        any::<bool>(),
        0..=models,
        0..=models,
        integration(),
        0..4usize,
        any::<bool>(),
    )
        .prop_map(move |(op_id, query, header, body, response, integration, auth, validate)| {
            let mut op = Map::new();
            if let Some(id) = op_id {
                op.insert("operationId".into(), json!(id));
            }
            let mut params = vec![];
            if path.contains("{id}") {
                params.push(json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}));
            }
            if path.contains("{proxy+}") {
                params.push(json!({"name": "proxy", "in": "path", "required": true, "schema": {"type": "string"}}));
            }
            if let Some(required) = query {
                params.push(json!({"name": "q", "in": "query", "required": required, "schema": {"type": "string"}}));
            }
            if header {
                params.push(json!({"name": "X-H", "in": "header", "schema": {"type": "string"}}));
            }
            op.insert("parameters".into(), Value::Array(params));
            if body > 0 {
                op.insert("requestBody".into(), json!({"content": {"application/json":
                    {"schema": {"$ref": format!("#/components/schemas/{}", MODELS[body - 1])}}}}));
            }
            let mut ok = json!({"description": "ok", "headers": {"X-Out": {"schema": {"type": "string"}}}});
            if response > 0 {
                ok["content"] = json!({"application/json":
                    {"schema": {"$ref": format!("#/components/schemas/{}", MODELS[response - 1])}}});
            }
            op.insert("responses".into(), json!({"200": ok, "400": {"description": "bad"}}));
            match auth {
                1 => { op.insert("security".into(), json!([{"tok": []}])); }
                2 => { op.insert("security".into(), json!([{"api_key": []}])); }
                3 => { op.insert("security".into(), json!([{"sigv4": []}])); }
                _ => {}
            }
            if validate {
                op.insert("x-amazon-apigateway-request-validator".into(), json!("all"));
            }
            op.insert("x-amazon-apigateway-integration".into(), integration);
            Value::Object(op)
        })
}

fn document() -> impl Strategy<Value = Value> {
    (0..=MODELS.len(), proptest::sample::subsequence(PATHS.to_vec(), 1..=PATHS.len()), any::<bool>())
        .prop_flat_map(|(models, paths, binary)| {
            let items: Vec<_> = paths
                .into_iter()
                .map(|p| {
                    let ops = proptest::sample::subsequence(VERBS.to_vec(), 1..=3)
                        .prop_flat_map(move |verbs| {
                            let ops: Vec<_> = verbs.into_iter().map(|v| (Just(v), operation(p, models))).collect();
                            ops
                        });
                    (Just(p), ops)
                })
                .collect();
            (Just(models), items, Just(binary))
        })
        .prop_map(|(models, items, binary)| {
            let mut paths = Map::new();
            for (p, ops) in items {
                paths.insert(p.to_string(), Value::Object(ops.into_iter().map(|(v, o)| (v.to_string(), o)).collect()));
            }
            let mut schemas = Map::new();
            for (i, name) in MODELS.iter().take(models).enumerate() {
                let next = MODELS[(i + 1) % models];
                schemas.insert(name.to_string(), json!({"type": "object", "description": format!("model {name}"),
                    "properties": {"next": {"$ref": format!("#/components/schemas/{next}")}, "n": {"type": "number"}}}));
            }
            let mut doc = json!({
                "openapi": "3.0.1",
                "info": {"title": "generated", "description": "d", "version": "1"},
                "paths": paths,
                "components": {"schemas": schemas, "securitySchemes": {
                    "tok": {"type": "apiKey", "name": "Authorization", "in": "header",
                            "x-amazon-apigateway-authtype": "custom",
                            "x-amazon-apigateway-authorizer": {"type": "token", "authorizerResultTtlInSeconds": 30,
                                "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:auth/invocations"}},
                    "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"},
                    "sigv4": {"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "awsSigv4"}
                }},
                "x-amazon-apigateway-request-validators": {"all": {"validateRequestBody": true, "validateRequestParameters": true}},
                "x-amazon-apigateway-gateway-responses": {"DEFAULT_4XX": {"statusCode": "400",
                    "responseParameters": {"gatewayresponse.header.X-A": "'a'"}, "responseTemplates": {"application/json": "{}"}}}
            });
            if binary {
                doc["x-amazon-apigateway-binary-media-types"] = json!(["image/png", "*/*"]);
                doc["x-amazon-apigateway-minimum-compression-size"] = json!(1024);
            }
            doc
        })
}

fn export_of(bytes: &[u8], api_id: &str, flavor: Flavor) -> Value {
    let import = rest::read(bytes, ImportOptions::default()).unwrap();
    assert!(import.warnings.is_empty(), "{:?}", import.warnings);
    let mut def = common::rest_definition(api_id);
    rest::apply(&mut def, &import, Mode::Overwrite).unwrap();
    let ext = Extensions {
        apigateway: true,
        ..Extensions::default()
    };
    rest::export(
        &def,
        &ExportOptions {
            flavor,
            api_id,
            region: "us-east-1",
            stage: "s",
            version: api_id,
            extensions: ext,
        },
    )
}

/// The document without what names the API it was exported from.
fn comparable(mut doc: Value) -> Value {
    let o = doc.as_object_mut().unwrap();
    o.remove("servers");
    o.remove("host");
    o["info"].as_object_mut().unwrap().remove("version");
    doc
}

fn round_trip(original: &[u8]) {
    for flavor in [Flavor::Oas3, Flavor::Swagger2] {
        let first = export_of(original, "first", flavor);
        let text = serde_json::to_vec(&first).unwrap();
        let second = export_of(&text, "second", flavor);
        assert_eq!(
            comparable(first.clone()),
            comparable(second),
            "flavor {flavor:?}"
        );
        // And through YAML.
        let yaml = tollgate_openapi::to_yaml(&first);
        let third = export_of(yaml.as_bytes(), "third", flavor);
        assert_eq!(
            comparable(first),
            comparable(third),
            "yaml, flavor {flavor:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn export_import_export_is_stable(doc in document()) {
        round_trip(&serde_json::to_vec(&doc).unwrap());
    }
}

#[test]
fn recorded_fixtures_round_trip() {
    for name in [
        "pets.json",
        "petstore-authorizer.swagger.json",
        "openapi.spec.circular-ref-with-request-body.json",
    ] {
        let bytes = std::fs::read(format!(
            "{}/tests/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        round_trip(&bytes);
    }
}

/// HTTP APIs: ExportApi → ImportApi → ExportApi gives the same document apart from the
/// server (routes, `$default`, integrations, authorizers, CORS and tags all survive).
#[test]
fn http_api_export_import_export_is_stable() {
    use tollgate_openapi::http;
    let doc = json!({
        "openapi": "3.0.1",
        "info": {"title": "h", "description": "d", "version": "2"},
        "tags": [{"name": "team", "x-amazon-apigateway-tag-value": "a"}],
        "paths": {
            "/a/{id}": {
                "get": {"operationId": "A", "security": [{"jwt": ["s1"]}],
                        "x-amazon-apigateway-integration": {"type": "aws_proxy",
                            "uri": "arn:aws:lambda:us-east-1:000000000000:function:f", "payloadFormatVersion": "1.0"}},
                "x-amazon-apigateway-any-method": {"security": [{"lam": []}],
                        "x-amazon-apigateway-integration": {"type": "http_proxy", "httpMethod": "ANY",
                            "uri": "http://example.com/{id}", "timeoutInMillis": 900,
                            "requestParameters": {"overwrite:header.x": "$request.header.y"},
                            "responseParameters": {"200": {"append:header.z": "'1'"}}}}
            },
            "/iam": {"post": {"security": [{"sigv4": []}],
                "x-amazon-apigateway-integration": {"type": "http_proxy", "httpMethod": "POST", "uri": "http://example.com/"}}},
            "/$default": {"x-amazon-apigateway-any-method": {"isDefaultRoute": true,
                "x-amazon-apigateway-integration": {"type": "http_proxy", "httpMethod": "ANY", "uri": "http://example.com"}}}
        },
        "components": {"securitySchemes": {
            "jwt": {"type": "oauth2", "flows": {}, "x-amazon-apigateway-authorizer": {"type": "jwt",
                "identitySource": "$request.header.Authorization",
                "jwtConfiguration": {"issuer": "https://issuer.example", "audience": ["a", "b"]}}},
            "lam": {"type": "apiKey", "name": "Unused", "in": "header", "x-amazon-apigateway-authorizer": {
                "type": "request", "identitySource": "$request.header.X,$request.querystring.q",
                "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:auth/invocations",
                "authorizerPayloadFormatVersion": "2.0", "enableSimpleResponses": true, "authorizerResultTtlInSeconds": 0}},
            "sigv4": {"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "awsSigv4"}
        }},
        "x-amazon-apigateway-cors": {"allowOrigins": ["https://x.example"], "maxAge": 10, "allowCredentials": true}
    });
    let export = |bytes: &[u8], id: &str| {
        let import = http::read(bytes, tollgate_openapi::shared::BasePath::Ignore).unwrap();
        assert!(import.warnings.is_empty(), "{:?}", import.warnings);
        let mut def = common::http_definition(id);
        http::apply(&mut def, &import).unwrap();
        let endpoint = format!("https://{id}.example");
        http::export(
            &def,
            &http::HttpExportOptions {
                endpoint: &endpoint,
                stage: Some("dev"),
                default_version: "0",
                include_extensions: true,
            },
        )
    };
    let first = export(&serde_json::to_vec(&doc).unwrap(), "one");
    let second = export(&serde_json::to_vec(&first).unwrap(), "two");
    let third = export(tollgate_openapi::to_yaml(&second).as_bytes(), "three");
    assert_eq!(comparable(first.clone()), comparable(second.clone()));
    assert_eq!(comparable(second), comparable(third));
    assert_eq!(
        first["x-amazon-apigateway-cors"],
        doc["x-amazon-apigateway-cors"]
    );
    assert_eq!(first["tags"], doc["tags"]);
    assert_eq!(
        first["paths"]["/a/{id}"]["get"]["security"],
        json!([{"jwt": ["s1"]}])
    );
    assert_eq!(
        first["paths"]["/iam"]["post"]["security"],
        json!([{"sigv4": []}])
    );
    assert_eq!(
        first["components"]["securitySchemes"]["lam"]["x-amazon-apigateway-authorizer"]
            ["identitySource"],
        "$request.header.X,$request.querystring.q"
    );
}
