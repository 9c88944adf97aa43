//! OpenAPI import, reimport and export of HTTP APIs through the real aws CLI
//! (`aws apigatewayv2 import-api / reimport-api / export-api`): routes, `$default`,
//! HTTP_PROXY integrations, CORS and a JWT authorizer from the document, each answering
//! over HTTP, and the export compared with the document.

mod common;

use common::idp::*;
use common::*;
use jsonwebtoken::Algorithm;
use serde_json::{json, Value};

fn document(backend: &str, issuer: &str, origin: &str) -> Value {
    json!({
        "openapi": "3.0.1",
        "info": {"title": "imported-http", "version": "3"},
        "tags": [{"name": "team", "x-amazon-apigateway-tag-value": "pets"}],
        "paths": {
            "/pets/{id}": {"get": {
                "operationId": "GetPet",
                "responses": {"default": {"description": "ok"}},
                "x-amazon-apigateway-integration": {"$ref": "#/components/x-amazon-apigateway-integrations/backend"}
            }},
            "/private": {"get": {
                "security": [{"jwt-auth": ["read"]}],
                "responses": {"default": {"description": "ok"}},
                "x-amazon-apigateway-integration": {
                    "type": "http_proxy", "httpMethod": "GET", "uri": format!("{backend}/private"),
                    "payloadFormatVersion": "1.0"
                }
            }},
            "/$default": {"x-amazon-apigateway-any-method": {
                "isDefaultRoute": true,
                "x-amazon-apigateway-integration": {
                    "type": "http_proxy", "httpMethod": "ANY", "uri": format!("{backend}/fallback"),
                    "payloadFormatVersion": "1.0"
                }
            }}
        },
        "components": {
            "x-amazon-apigateway-integrations": {"backend": {
                "type": "http_proxy", "httpMethod": "GET", "uri": format!("{backend}/pets/{{id}}"),
                "payloadFormatVersion": "1.0", "timeoutInMillis": 5000
            }},
            "securitySchemes": {"jwt-auth": {
                "type": "oauth2", "flows": {},
                "x-amazon-apigateway-authorizer": {
                    "type": "jwt", "identitySource": "$request.header.Authorization",
                    "jwtConfiguration": {"issuer": issuer, "audience": ["aud1"]}
                }
            }}
        },
        "x-amazon-apigateway-cors": {"allowOrigins": [origin], "allowMethods": ["GET"]},
        "x-amazon-apigateway-importexport-version": "1.0"
    })
}

#[test]
fn import_call_export_and_reimport() {
    let s = Server::start();
    let backend = Backend::start();
    let idp_dir = tempfile::tempdir().unwrap();
    let (base, _idp) = serve_dir(idp_dir.path());
    let issuer = oidc_issuer(idp_dir.path(), &base, "realm");
    let dir = tempfile::tempdir().unwrap();
    let doc = document(&backend.url(), &issuer, "https://a.example");
    let file = dir.path().join("api.yaml");
    // YAML, as most hand-written definitions are (written by Python's yaml, not ours).
    python_script(
        "import json, sys, yaml\nyaml.safe_dump(json.loads(sys.argv[1]), open(sys.argv[2], 'w'))\nprint('{}')",
        &[&doc.to_string(), file.to_str().unwrap()],
    );
    let body = format!("file://{}", file.display());
    let api = v2(&s, &["import-api", "--fail-on-warnings", "--body", &body]);
    assert_eq!(api["Name"], "imported-http");
    assert_eq!(api["Version"], "3");
    assert_eq!(api["ProtocolType"], "HTTP");
    assert_eq!(
        api["CorsConfiguration"]["AllowOrigins"],
        json!(["https://a.example"])
    );
    assert_eq!(api["Tags"], json!({"team": "pets"}));
    let id = api["ApiId"].as_str().unwrap().to_string();
    assert_eq!(
        v2_route_keys(&s, &id),
        ["$default", "GET /pets/{id}", "GET /private"]
    );
    let authorizers = v2(&s, &["get-authorizers", "--api-id", &id]);
    let a = &authorizers["Items"][0];
    assert_eq!(a["AuthorizerType"], "JWT");
    assert_eq!(a["JwtConfiguration"]["Issuer"], json!(issuer));
    assert_eq!(
        a["IdentitySource"],
        json!(["$request.header.Authorization"])
    );

    v2_default_stage(&s, &id);
    let r = s.invoke(&id, "/$default/pets/7");
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(backend.last().path, "/pets/7");
    let r = s.invoke(&id, "/$default/anything/else");
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(backend.last().path, "/fallback/anything/else");
    // The JWT route: no token, 401; a token with the scope, through.
    let r = s.invoke(&id, "/$default/private");
    assert_eq!(r.status, 401, "{r}");
    let token = sign_with(
        Algorithm::RS256,
        "k1",
        &json!({"sub": "u", "aud": "aud1", "iss": issuer, "exp": now() + 600, "scope": "read"}),
    );
    let r = Http::get(s.port, &Server::exec_path(&id, "/$default/private"))
        .header("Authorization", &format!("Bearer {token}"))
        .send();
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(backend.last().path, "/private");
    // CORS from the document: the gateway answers the preflight.
    let r = Http::new(
        s.port,
        "OPTIONS",
        &Server::exec_path(&id, "/$default/pets/7"),
    )
    .header("Origin", "https://a.example")
    .header("Access-Control-Request-Method", "GET")
    .send();
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://a.example"),
        "{r}"
    );

    // Export: the document comes back (with the API's endpoint as its server).
    let out = dir.path().join("export.json");
    v2(
        &s,
        &[
            "export-api",
            "--api-id",
            &id,
            "--specification",
            "OAS30",
            "--output-type",
            "JSON",
            out.to_str().unwrap(),
        ],
    );
    let exported: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(
        exported["info"],
        json!({"title": "imported-http", "version": "3"})
    );
    assert_eq!(
        exported["x-amazon-apigateway-cors"],
        doc["x-amazon-apigateway-cors"]
    );
    let pets = &exported["paths"]["/pets/{id}"]["get"];
    assert_eq!(pets["operationId"], "GetPet");
    assert_eq!(
        pets["x-amazon-apigateway-integration"]["uri"],
        json!(format!("{}/pets/{{id}}", backend.url()))
    );
    assert_eq!(
        pets["x-amazon-apigateway-integration"]["timeoutInMillis"],
        5000
    );
    assert_eq!(
        exported["paths"]["/private"]["get"]["security"],
        json!([{"jwt-auth": ["read"]}])
    );
    assert_eq!(
        exported["components"]["securitySchemes"]["jwt-auth"]["x-amazon-apigateway-authorizer"]
            ["jwtConfiguration"],
        json!({"issuer": issuer, "audience": ["aud1"]})
    );
    assert_eq!(
        exported["paths"]["/$default"]["x-amazon-apigateway-any-method"]["isDefaultRoute"],
        true
    );
    // The export imports back into an API with the same routes.
    let again = v2(
        &s,
        &[
            "import-api",
            "--fail-on-warnings",
            "--body",
            &format!("file://{}", out.display()),
        ],
    );
    let id2 = again["ApiId"].as_str().unwrap();
    assert_eq!(
        v2_route_keys(&s, id2),
        ["$default", "GET /pets/{id}", "GET /private"]
    );

    // Reimport: new routes and CORS replace the old ones, live at once (auto-deploy).
    let mut changed = document(&backend.url(), &issuer, "https://b.example");
    changed["paths"].as_object_mut().unwrap().remove("/private");
    let file2 = dir.path().join("changed.json");
    std::fs::write(&file2, changed.to_string()).unwrap();
    let re = v2(
        &s,
        &[
            "reimport-api",
            "--api-id",
            &id,
            "--body",
            &format!("file://{}", file2.display()),
        ],
    );
    assert_eq!(re["ApiId"], json!(id));
    assert_eq!(
        re["CorsConfiguration"]["AllowOrigins"],
        json!(["https://b.example"])
    );
    assert_eq!(v2_route_keys(&s, &id), ["$default", "GET /pets/{id}"]);
    let r = s.invoke(&id, "/$default/private");
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(
        backend.last().path,
        "/fallback/private",
        "the $default route now takes /private"
    );
}

#[test]
fn refused_documents() {
    let s = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let swagger = dir.path().join("swagger.json");
    std::fs::write(
        &swagger,
        r#"{"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {}}"#,
    )
    .unwrap();
    let e = v2_err(
        &s,
        &[
            "import-api",
            "--body",
            &format!("file://{}", swagger.display()),
        ],
    );
    assert_cli_error(&e, "BadRequestException", "OpenAPI 3.0");
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "openapi: 3.0.1\npaths: [").unwrap();
    let e = v2_err(
        &s,
        &[
            "import-api",
            "--body",
            &format!("file://{}", broken.display()),
        ],
    );
    assert_cli_error(&e, "BadRequestException", "Invalid OpenAPI input.");
    // A REST-only extension is a warning, which failOnWarnings turns into a refusal.
    let rest_only = dir.path().join("rest.json");
    std::fs::write(
        &rest_only,
        r#"{"openapi": "3.0.1", "info": {"title": "t", "version": "1"}, "paths": {},
        "x-amazon-apigateway-binary-media-types": ["image/png"]}"#,
    )
    .unwrap();
    let e = v2_err(
        &s,
        &[
            "import-api",
            "--fail-on-warnings",
            "--body",
            &format!("file://{}", rest_only.display()),
        ],
    );
    assert_cli_error(
        &e,
        "BadRequestException",
        "x-amazon-apigateway-binary-media-types",
    );
    let ok = v2(
        &s,
        &[
            "import-api",
            "--body",
            &format!("file://{}", rest_only.display()),
        ],
    );
    assert_eq!(
        ok["Warnings"],
        json!(["Ignoring x-amazon-apigateway-binary-media-types: it applies to REST APIs only"])
    );
    let apis = v2(&s, &["get-apis"]);
    assert_eq!(
        apis["Items"].as_array().unwrap().len(),
        1,
        "only the accepted import was written"
    );
}

/// A Lambda route from a document (`aws_proxy` without `payloadFormatVersion`: 2.0, the
/// HTTP API's own event), called over HTTP; the function sees the route key and raw path.
#[test]
fn imported_lambda_route_gets_payload_2() {
    use common::lambda::*;
    let s = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let code = "import json\ndef handler(event, context):\n    return {'statusCode': 200, 'body': json.dumps({'version': event.get('version'), 'routeKey': event.get('routeKey'), 'rawPath': event.get('rawPath')})}\n";
    let zip = zip_file(dir.path(), "fn.zip", &[("app.py", code, 0o644)]);
    create_function(&s, "echo-event", "python3.12", "app.handler", &zip, &[]);
    let doc = json!({
        "openapi": "3.0.1",
        "info": {"title": "lambda-from-openapi", "version": "1"},
        "paths": {"/hello/{name}": {"get": {
            "x-amazon-apigateway-integration": {"type": "aws_proxy", "uri": fn_uri("echo-event")}
        }}}
    });
    let file = dir.path().join("api.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let api = v2(
        &s,
        &[
            "import-api",
            "--body",
            &format!("file://{}", file.display()),
        ],
    );
    let id = api["ApiId"].as_str().unwrap();
    let integrations = v2(&s, &["get-integrations", "--api-id", id]);
    assert_eq!(integrations["Items"][0]["PayloadFormatVersion"], "2.0");
    assert_eq!(integrations["Items"][0]["IntegrationType"], "AWS_PROXY");
    let source = format!("arn:aws:execute-api:us-east-1:000000000000:{id}/*/*/hello/{{name}}");
    grant_apigateway(&s, "echo-event", "http-api", &source, None);
    v2_default_stage(&s, id);
    let r = s.invoke(id, "/$default/hello/world");
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(
        r.json(),
        json!({"version": "2.0", "routeKey": "GET /hello/{name}", "rawPath": "/hello/world"})
    );
}
