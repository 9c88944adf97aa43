//! OpenAPI import and export of REST APIs through the real aws CLI and boto3:
//! ImportRestApi and PutRestApi from files (JSON and YAML, Swagger 2.0 and OpenAPI 3.0),
//! the imported API called over HTTP, GetExport compared with what was imported, and the
//! recorded AWS answers (warnings, `Invalid OpenAPI input.`, binary media types by mode).

mod common;

use common::*;
use serde_json::{json, Value};

fn fixture(name: &str) -> String {
    format!(
        "{}/../openapi/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write document");
    path.display().to_string()
}

fn paths_of(s: &Server, api: &str) -> Vec<String> {
    let r = apigw(s, &["get-resources", "--rest-api-id", api]);
    let mut paths: Vec<String> = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap().to_string())
        .collect();
    paths.sort();
    paths
}

/// The recorded test_import_with_circular_models_and_request_validation: the document's
/// validator and circular models check the body of the imported, deployed API.
#[test]
fn imported_api_validates_requests_over_http() {
    let s = Server::start();
    let body = format!(
        "fileb://{}",
        fixture("openapi.spec.circular-ref-with-request-body.json")
    );
    let api = apigw(
        &s,
        &["import-rest-api", "--fail-on-warnings", "--body", &body],
    );
    assert_eq!(api["name"], "Circular model reference");
    assert_eq!(api["version"], "1.0");
    assert!(api.get("warnings").is_none(), "{api:#}");
    let id = api["id"].as_str().unwrap();
    let models = apigw(&s, &["get-models", "--rest-api-id", id]);
    let mut names: Vec<&str> = models["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["Empty", "House", "Person"]);
    let validators = apigw(&s, &["get-request-validators", "--rest-api-id", id]);
    assert_eq!(validators["items"][0]["name"], "basic");
    deploy(&s, id, "dev");
    let url = Server::exec_path(id, "/dev/person");
    let good = json!({"name": "Person1", "b": 2,
        "house": {"randomProperty": "this is random", "contains": [{"name": "Person2", "b": 3}]}});
    let r = Http::post(s.port, &url)
        .header("Content-Type", "application/json")
        .body(good.to_string())
        .send();
    assert_eq!(r.status, 200, "{r}");
    for bad in [
        json!({"random": "blabla"}),
        json!({"name": "Person1", "b": 2, "house": {"contains": [{"randomObject": "x"}]}}),
    ] {
        let r = Http::post(s.port, &url)
            .header("Content-Type", "application/json")
            .body(bad.to_string())
            .send();
        assert_eq!(r.status, 400, "{r}");
        assert_eq!(r.json()["message"], "Invalid request body");
    }
}

/// The recorded test_import_rest_api_with_base_path_oas30 (YAML, server URL): PutRestApi
/// in overwrite mode with each `basepath`, the recorded warning, and the API answering
/// at the path the mode gives.
#[test]
fn put_rest_api_yaml_with_base_paths_and_warnings() {
    let s = Server::start();
    let body = format!("fileb://{}", fixture("openapi-basepath-url.yaml"));
    for (mode, leaf, expected) in [
        ("ignore", "/test", vec!["/", "/test"]),
        (
            "prepend",
            "/base-url/part/test",
            vec!["/", "/base-url", "/base-url/part", "/base-url/part/test"],
        ),
        ("split", "/part/test", vec!["/", "/part", "/part/test"]),
    ] {
        let api = apigw(&s, &["create-rest-api", "--name", "before"]);
        let id = api["id"].as_str().unwrap();
        let basepath = format!("basepath={mode}");
        let put = apigw(
            &s,
            &[
                "put-rest-api",
                "--rest-api-id",
                id,
                "--mode",
                "overwrite",
                "--parameters",
                &basepath,
                "--body",
                &body,
            ],
        );
        assert_eq!(put["name"], "test-import-oas");
        assert_eq!(put["version"], "2.0");
        assert_eq!(
            put["warnings"],
            json!([format!("Invalid format for 'requestParameters'. Expected type string for property 'integration.request.header.nothing' of resource '{leaf}' and method 'GET' but got 'true'")])
        );
        assert_eq!(paths_of(&s, id), expected);
        deploy(&s, id, "dev");
        let r = s.invoke(id, &format!("/dev{leaf}"));
        assert_eq!(r.status, 200, "{mode}: {r}");
        assert_eq!(r.header("Access-Control-Allow-Origin"), Some("*"));
        // With failonwarnings the same document is refused and nothing changes.
        let e = apigw_err(
            &s,
            &[
                "put-rest-api",
                "--rest-api-id",
                id,
                "--mode",
                "overwrite",
                "--fail-on-warnings",
                "--parameters",
                "basepath=ignore",
                "--body",
                &body,
            ],
        );
        assert_cli_error(&e, "BadRequestException", "Warnings found during import");
        assert_eq!(paths_of(&s, id), expected);
    }
}

/// The recorded test_import_api_bad_file: broken JSON and YAML answer `Invalid OpenAPI
/// input.`, for import and put alike, and nothing is written.
#[test]
fn broken_documents_are_refused_and_nothing_is_written() {
    let s = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let json_doc = write(
        dir.path(),
        "bad.json",
        "{\"swagger\": \"2.0\", \"paths\": {",
    );
    let yaml_doc = write(dir.path(), "bad.yaml", "openapi: 3.0.1\npaths:\n  /a: [\n");
    let api = apigw(&s, &["create-rest-api", "--name", "kept"]);
    let id = api["id"].as_str().unwrap();
    for doc in [&json_doc, &yaml_doc] {
        let body = format!("fileb://{doc}");
        let e = apigw_err(&s, &["import-rest-api", "--body", &body]);
        assert_cli_error(&e, "BadRequestException", "Invalid OpenAPI input.");
        let e = apigw_err(&s, &["put-rest-api", "--rest-api-id", id, "--body", &body]);
        assert_cli_error(&e, "BadRequestException", "Invalid OpenAPI input.");
    }
    // Readable, but not importable: checked as CreateAuthorizer and PutIntegration check.
    let no_uri = write(
        dir.path(),
        "no-uri.json",
        r#"{"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {},
            "securityDefinitions": {"a": {"type": "apiKey", "name": "Authorization", "in": "header",
                "x-amazon-apigateway-authorizer": {"type": "token"}}}}"#,
    );
    let e = apigw_err(
        &s,
        &["import-rest-api", "--body", &format!("fileb://{no_uri}")],
    );
    assert_cli_error(
        &e,
        "BadRequestException",
        "Unable to create authorizer 'a': Authorizer URI must be specified",
    );
    let bad_uri = write(
        dir.path(),
        "bad-uri.json",
        r#"{"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {"/x": {"get": {
            "responses": {}, "x-amazon-apigateway-integration": {"type": "http", "httpMethod": "GET", "uri": "ftp://x"}}}}}"#,
    );
    let e = apigw_err(
        &s,
        &["import-rest-api", "--body", &format!("fileb://{bad_uri}")],
    );
    assert_cli_error(
        &e,
        "BadRequestException",
        "Invalid HTTP endpoint specified for URI",
    );
    let apis = apigw(&s, &["get-rest-apis"]);
    assert_eq!(apis["items"].as_array().unwrap().len(), 1, "{apis:#}");
    assert_eq!(apis["items"][0]["name"], "kept");
}

/// A Swagger document with an HTTP integration to a real backend: imported, called,
/// exported (YAML, with integrations), the export imported as a second API that answers
/// the same, and its export equal to the first apart from the host.
#[test]
fn import_call_export_reimport_round_trip() {
    let s = Server::start();
    let backend = Backend::start();
    let dir = tempfile::tempdir().unwrap();
    let doc = json!({
        "swagger": "2.0",
        "info": {"title": "echo", "version": "7"},
        "paths": {
            "/items/{id}": {"get": {
                "operationId": "GetItem",
                "parameters": [{"name": "id", "in": "path", "required": true, "type": "string"},
                               {"name": "q", "in": "query", "required": false, "type": "string"}],
                "responses": {"200": {"description": "ok"}},
                "x-amazon-apigateway-integration": {
                    "type": "http_proxy", "httpMethod": "GET",
                    "uri": format!("{}/backend/{{id}}", backend.url()),
                    "requestParameters": {"integration.request.path.id": "method.request.path.id"}
                }
            }}
        },
        "x-amazon-apigateway-binary-media-types": ["image/png"]
    });
    let file = write(dir.path(), "echo.json", &doc.to_string());
    let api = apigw(
        &s,
        &["import-rest-api", "--body", &format!("fileb://{file}")],
    );
    let id = api["id"].as_str().unwrap().to_string();
    assert_eq!(api["binaryMediaTypes"], json!(["image/png"]));
    deploy(&s, &id, "prod");
    let r = s.invoke(&id, "/prod/items/42?q=1");
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(backend.last().path, "/backend/42");

    let yaml_out = dir.path().join("export.yaml");
    let meta = export_yaml(&s, &id, &yaml_out);
    assert_eq!(meta["contentType"], "application/yaml");
    assert_eq!(
        meta["contentDisposition"],
        "attachment; filename=\"swagger_7.yaml\""
    );
    let exported: Value = yaml_file(&yaml_out);
    assert_eq!(exported["info"], json!({"title": "echo", "version": "7"}));
    assert_eq!(exported["basePath"], "/prod");
    assert_eq!(
        exported["paths"]["/items/{id}"]["get"]["x-amazon-apigateway-integration"]["uri"],
        json!(format!("{}/backend/{{id}}", backend.url()))
    );

    let second = apigw(
        &s,
        &[
            "import-rest-api",
            "--fail-on-warnings",
            "--body",
            &format!("fileb://{}", yaml_out.display()),
        ],
    );
    let id2 = second["id"].as_str().unwrap().to_string();
    deploy(&s, &id2, "prod");
    let r = s.invoke(&id2, "/prod/items/9");
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(backend.last().path, "/backend/9");
    let out2 = dir.path().join("export2.yaml");
    export_yaml(&s, &id2, &out2);
    let mut a = exported.clone();
    let mut b = yaml_file(&out2);
    a.as_object_mut().unwrap().remove("host");
    b.as_object_mut().unwrap().remove("host");
    assert_eq!(a, b);
}

/// `aws apigateway get-export` of stage `prod` as Swagger YAML with integrations into `out`.
fn export_yaml(s: &Server, api: &str, out: &std::path::Path) -> Value {
    apigw(
        s,
        &[
            "get-export",
            "--rest-api-id",
            api,
            "--stage-name",
            "prod",
            "--export-type",
            "swagger",
            "--parameters",
            "extensions=integrations",
            "--accepts",
            "application/yaml",
            out.to_str().unwrap(),
        ],
    )
}

/// Reads a YAML export through Python (PyYAML ships with the aws CLI), so the check does
/// not use the product's own YAML reader.
fn yaml_file(path: &std::path::Path) -> Value {
    python_script(
        "import json, sys, yaml\nprint(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        &[path.to_str().unwrap()],
    )
}

/// boto3 as SDK-based tools call it: import with failOnWarnings, GetExport's headers as
/// recorded (JSON is `application/octet-stream`), and PutRestApi's binary media types by
/// mode as recorded (test_put_rest_api_mode_binary_media_types).
#[test]
fn boto3_import_export_and_put_modes() {
    let s = Server::start();
    let script = r#"
import json, sys
import boto3
kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1",
          aws_access_key_id="test", aws_secret_access_key="test")
ag = boto3.client("apigateway", **kw)
out = {}
api = ag.import_rest_api(body=open(sys.argv[2], "rb").read(), failOnWarnings=True)
out["import"] = {k: api[k] for k in ("name", "version", "description")}
ag.create_deployment(restApiId=api["id"], stageName="local")
exp = ag.get_export(restApiId=api["id"], stageName="local", exportType="oas30",
                    parameters={"extensions": "authorizers"})
out["export"] = {"contentType": exp["contentType"], "contentDisposition": exp["contentDisposition"],
                 "body": json.loads(exp["body"].read())}
doc = json.dumps({"swagger": "2.0", "info": {"title": "put", "version": "1.0.0"}, "paths": {},
                  "x-amazon-apigateway-binary-media-types": ["image/png", "image/jpg"]})
regional = ag.import_rest_api(body=doc, parameters={"endpointConfigurationTypes": "REGIONAL"})
out["regional"] = regional["endpointConfiguration"]
for mode in ("merge", "overwrite"):
    a = ag.create_rest_api(name="p", binaryMediaTypes=["image/heif"])
    r = ag.put_rest_api(restApiId=a["id"], mode=mode, body=doc)
    out[mode] = {"binaryMediaTypes": r["binaryMediaTypes"], "name": r["name"], "version": r["version"]}
print(json.dumps(out))
"#;
    let v = python_script(
        script,
        &[&s.endpoint(), &fixture("petstore-authorizer.swagger.json")],
    );
    assert_eq!(v["import"]["name"], "PetStore");
    assert_eq!(v["import"]["version"], "1.0");
    assert_eq!(v["export"]["contentType"], "application/octet-stream");
    assert_eq!(
        v["export"]["contentDisposition"],
        "attachment; filename=\"oas30_1.0.json\""
    );
    let body = &v["export"]["body"];
    assert_eq!(body["openapi"], "3.0.1");
    assert_eq!(body["info"]["title"], "PetStore");
    assert_eq!(
        body["paths"]["/pets"]["get"]["security"],
        json!([{"test-authorizer": []}])
    );
    let scheme = &body["components"]["securitySchemes"]["test-authorizer"];
    assert_eq!(scheme["x-amazon-apigateway-authorizer"]["type"], "token");
    assert_eq!(
        scheme["x-amazon-apigateway-authorizer"]["identitySource"],
        "method.request.header.Authorization"
    );
    // Only authorizers were asked for: no integrations.
    assert!(body["paths"]["/pets"]["get"]
        .get("x-amazon-apigateway-integration")
        .is_none());
    assert_eq!(
        v["merge"]["binaryMediaTypes"],
        json!(["image/heif", "image/png", "image/jpg"])
    );
    assert_eq!(
        v["overwrite"]["binaryMediaTypes"],
        json!(["image/png", "image/jpg"])
    );
    assert_eq!(
        v["regional"],
        json!({"types": ["REGIONAL"], "ipAddressType": "ipv4"})
    );
    assert_eq!(v["overwrite"]["name"], "put");
    assert_eq!(v["overwrite"]["version"], "1.0.0");
}

/// GetExport of a stage that does not exist is NotFoundException.
#[test]
fn export_of_unknown_stage_is_not_found() {
    let s = Server::start();
    let api = apigw(&s, &["create-rest-api", "--name", "x"]);
    let id = api["id"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.json");
    let e = apigw_err(
        &s,
        &[
            "get-export",
            "--rest-api-id",
            id,
            "--stage-name",
            "nope",
            "--export-type",
            "oas30",
            out.to_str().unwrap(),
        ],
    );
    assert_cli_error(
        &e,
        "NotFoundException",
        "Invalid Stage identifier specified",
    );
}
