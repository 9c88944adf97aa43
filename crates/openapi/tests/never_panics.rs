//! Arbitrary input never panics the import: random bytes, and random JSON documents
//! shaped like OpenAPI (the keys the importers read, nested at random), each read and
//! applied by both the REST and the HTTP importer, then exported.

mod common;

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use tollgate_openapi::document::Flavor;
use tollgate_openapi::{http, rest};

const KEYS: &[&str] = &[
    "swagger",
    "openapi",
    "info",
    "title",
    "paths",
    "/",
    "/a/{b}",
    "/{p+}/x",
    "/$default",
    "get",
    "post",
    "x-amazon-apigateway-any-method",
    "parameters",
    "in",
    "name",
    "required",
    "schema",
    "$ref",
    "responses",
    "200",
    "default",
    "headers",
    "content",
    "application/json",
    "requestBody",
    "security",
    "securityDefinitions",
    "components",
    "securitySchemes",
    "schemas",
    "definitions",
    "x-amazon-apigateway-integration",
    "type",
    "uri",
    "httpMethod",
    "requestParameters",
    "requestTemplates",
    "statusCode",
    "responseTemplates",
    "passthroughBehavior",
    "x-amazon-apigateway-authorizer",
    "identitySource",
    "x-amazon-apigateway-request-validators",
    "x-amazon-apigateway-request-validator",
    "x-amazon-apigateway-gateway-responses",
    "x-amazon-apigateway-binary-media-types",
    "x-amazon-apigateway-cors",
    "servers",
    "url",
    "variables",
    "basePath",
    "tags",
    "x-amazon-apigateway-integrations",
    "payloadFormatVersion",
    "jwtConfiguration",
];

const STRINGS: &[&str] = &[
    "2.0",
    "3.0.1",
    "#/definitions/A",
    "#/components/schemas/A",
    "#/paths",
    "#/",
    "#",
    "http",
    "HTTP_PROXY",
    "aws_proxy",
    "mock",
    "token",
    "request",
    "jwt",
    "cognito_user_pools",
    "header",
    "query",
    "path",
    "body",
    "when_no_match",
    "http://x/{b}",
    "A",
    "{",
    "/$default",
    "https://h/{basePath}",
    "",
];

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        proptest::sample::select(STRINGS).prop_map(|s| json!(s)),
        "[a-z{}/+$#.]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 96, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((proptest::sample::select(KEYS), inner), 0..6).prop_map(
                |kv| Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect::<Map<_, _>>()
                )
            ),
        ]
    })
}

fn document() -> impl Strategy<Value = Value> {
    (any::<bool>(), value(), value(), value()).prop_map(|(swagger, paths, comps, ext)| {
        let mut root = Map::new();
        if swagger {
            root.insert("swagger".into(), json!("2.0"));
            root.insert("definitions".into(), comps);
        } else {
            root.insert("openapi".into(), json!("3.0.1"));
            root.insert("components".into(), comps);
        }
        root.insert("info".into(), json!({"title": "t", "version": "1"}));
        root.insert("paths".into(), paths);
        if let Value::Object(m) = ext {
            root.extend(m);
        }
        Value::Object(root)
    })
}

fn exercise(bytes: &[u8]) {
    for basepath in [
        rest::BasePath::Ignore,
        rest::BasePath::Prepend,
        rest::BasePath::Split,
    ] {
        if let Ok(import) = rest::read(bytes, rest::ImportOptions { basepath }) {
            let mut def = common::rest_definition("fuzzapi");
            if rest::apply(&mut def, &import, rest::Mode::Merge).is_ok() {
                for flavor in [Flavor::Swagger2, Flavor::Oas3] {
                    let ext = rest::Extensions {
                        apigateway: true,
                        ..Default::default()
                    };
                    let o = rest::ExportOptions {
                        flavor,
                        api_id: "fuzzapi",
                        region: "us-east-1",
                        stage: "s",
                        version: "1",
                        extensions: ext,
                    };
                    let _ = rest::export(&def, &o);
                }
            }
        }
        if let Ok(import) = http::read(bytes, basepath) {
            let mut def = common::http_definition("fuzzapi");
            if http::apply(&mut def, &import).is_ok() {
                let o = http::HttpExportOptions {
                    endpoint: "https://e",
                    stage: Some("s"),
                    default_version: "1",
                    include_extensions: true,
                };
                let _ = http::export(&def, &o);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_documents(doc in document()) {
        let json_text = serde_json::to_vec(&doc).unwrap();
        exercise(&json_text);
        exercise(tollgate_openapi::to_yaml(&doc).as_bytes());
    }

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        exercise(&bytes);
    }

    #[test]
    fn arbitrary_text(text in "[ a-z:{}\\[\\]\\-&*!|>'\"\n]{0,200}") {
        exercise(text.as_bytes());
    }
}

/// YAML aliases cannot blow a small document up into a huge one.
#[test]
fn alias_bombs_are_refused() {
    let mut y = String::from("a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
    for i in 0..12 {
        let prev = if i == 0 {
            "a".to_string()
        } else {
            format!("a{}", i - 1)
        };
        y.push_str(&format!("a{i}: &a{i} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
    }
    y.push_str("openapi: 3.0.1\npaths: {}\n");
    assert!(tollgate_openapi::parse(y.as_bytes()).is_err());
}

/// Deep nesting is refused by the parsers' recursion limits, not by a stack overflow.
#[test]
fn deep_nesting_is_refused() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(tollgate_openapi::parse(format!("{{\"a\": {deep}}}").as_bytes()).is_err());
    assert!(tollgate_openapi::parse(format!("a: {deep}").as_bytes()).is_err());
}

/// A large document (20,000 paths, 1,000 authorizers, 1,000 models) imports and exports:
/// every lookup while applying it is indexed, so its cost follows its size.
#[test]
fn large_documents_import() {
    let mut paths = Map::new();
    for i in 0..20_000 {
        paths.insert(
            format!("/r{i}/{{id}}/leaf"),
            json!({"get": {
                "security": [{format!("auth{}", i % 1000): []}],
                "requestBody": {"content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/M{}", i % 1000)}}}},
                "responses": {"200": {"description": "ok"}},
                "x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}}
            }}),
        );
    }
    let mut schemes = Map::new();
    let mut schemas = Map::new();
    for i in 0..1000 {
        schemes.insert(format!("auth{i}"), json!({"type": "apiKey", "name": "Authorization", "in": "header",
            "x-amazon-apigateway-authorizer": {"type": "token", "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:a/invocations"}}));
        schemas.insert(format!("M{i}"), json!({"type": "object", "properties": {"next": {"$ref": format!("#/components/schemas/M{}", (i + 1) % 1000)}}}));
    }
    let doc = json!({"openapi": "3.0.1", "info": {"title": "big", "version": "1"}, "paths": paths,
        "components": {"securitySchemes": schemes, "schemas": schemas}});
    let import = rest::read(
        &serde_json::to_vec(&doc).unwrap(),
        rest::ImportOptions::default(),
    )
    .unwrap();
    let mut def = common::rest_definition("bigapi");
    rest::apply(&mut def, &import, rest::Mode::Overwrite).unwrap();
    assert_eq!(def.resources.len(), 1 + 3 * 20_000);
    assert_eq!(def.authorizers.len(), 1000);
    assert_eq!(def.models.len(), 1000);
    let o = rest::ExportOptions {
        flavor: Flavor::Oas3,
        api_id: "bigapi",
        region: "us-east-1",
        stage: "s",
        version: "1",
        extensions: rest::Extensions {
            apigateway: true,
            ..Default::default()
        },
    };
    assert_eq!(
        rest::export(&def, &o)["paths"].as_object().unwrap().len(),
        20_000
    );
}
