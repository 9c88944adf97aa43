//! API documentation through the real aws CLI: DocumentationPart CRUD with AWS's location
//! rules and recorded errors, ImportDocumentationParts (merge, overwrite, failOnWarnings,
//! a broken file), DocumentationVersion snapshots, documentation read by ImportRestApi,
//! kept across a restart, and exported by GetExport for a stage showing a version.

mod common;

use common::*;
use serde_json::{json, Value};

fn rest_api(s: &Server, name: &str) -> String {
    let api = apigw(s, &["create-rest-api", "--name", name]);
    api["id"].as_str().unwrap().to_string()
}

fn create_part(s: &Server, api: &str, location: &str, properties: &Value) -> Value {
    apigw(
        s,
        &[
            "create-documentation-part",
            "--rest-api-id",
            api,
            "--location",
            location,
            "--properties",
            &properties.to_string(),
        ],
    )
}

fn create_part_err(s: &Server, api: &str, location: &str) -> AwsError {
    apigw_err(
        s,
        &[
            "create-documentation-part",
            "--rest-api-id",
            api,
            "--location",
            location,
            "--properties",
            r#"{"description":"d"}"#,
        ],
    )
}

fn parts(s: &Server, api: &str, filters: &[&str]) -> Vec<Value> {
    let mut args = vec!["get-documentation-parts", "--rest-api-id", api];
    args.extend_from_slice(filters);
    apigw(s, &args)["items"].as_array().unwrap().clone()
}

/// A part's properties, parsed from the JSON string AWS answers.
fn props(part: &Value) -> Value {
    serde_json::from_str(part["properties"].as_str().unwrap()).unwrap()
}

fn write(dir: &std::path::Path, name: &str, doc: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, doc.to_string()).unwrap();
    format!("fileb://{}", path.display())
}

fn doc_with_parts(parts: Value) -> Value {
    json!({
        "openapi": "3.0.1",
        "info": {"title": "docs", "version": "1"},
        "paths": {"/": {"get": {"responses": {"200": {"description": "ok"}}}}},
        "x-amazon-apigateway-documentation": {"version": "1.0", "documentationParts": parts},
    })
}

/// `aws apigateway {op} --rest-api-id {api} --documentation-part-id {id} {extra...}`.
fn on_part<'a>(op: &'a str, api: &'a str, id: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![op, "--rest-api-id", api, "--documentation-part-id", id];
    args.extend_from_slice(extra);
    args
}

/// UpdateDocumentationPart with one patch operation, which must fail with `code`.
fn patch_part_err(s: &Server, api: &str, id: &str, patch: &str, code: &str, message: &str) {
    let args = on_part(
        "update-documentation-part",
        api,
        id,
        &["--patch-operations", patch],
    );
    assert_cli_error(&apigw_err(s, &args), code, message);
}

/// The recorded test_documentation_part_lifecycle, with the recorded errors of
/// test_invalid_update_documentation_part and test_invalid_delete_documentation_part.
#[test]
fn documentation_part_lifecycle() {
    let s = Server::start();
    let api = rest_api(&s, "doc-parts");
    let created = create_part(
        &s,
        &api,
        "type=API",
        &json!({"description": "Sample API description"}),
    );
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 6);
    assert_eq!(created["location"], json!({"type": "API"}));
    assert_eq!(
        props(&created),
        json!({"description": "Sample API description"})
    );
    let get = on_part("get-documentation-part", &api, &id, &[]);
    assert_eq!(apigw(&s, &get), created);
    assert_eq!(parts(&s, &api, &[]), vec![created.clone()]);

    let patch =
        r#"op=replace,path=/properties,value='{"description":"Updated Sample API description"}'"#;
    let updated = apigw(
        &s,
        &on_part(
            "update-documentation-part",
            &api,
            &id,
            &["--patch-operations", patch],
        ),
    );
    assert_eq!(
        props(&updated),
        json!({"description": "Updated Sample API description"})
    );
    assert_eq!(apigw(&s, &get), updated);

    let bad = "BadRequestException";
    patch_part_err(
        &s,
        &api,
        &id,
        "op=add,path=/properties,value=x",
        bad,
        "Invalid patch path  '/properties' specified for op 'add'. Please choose supported operations",
    );
    patch_part_err(
        &s,
        &api,
        &id,
        "op=replace,path=/invalidPath,value=x",
        bad,
        "Invalid patch path  '/invalidPath' specified for op 'replace'. Must be one of: [/properties]",
    );
    patch_part_err(
        &s,
        &api,
        &id,
        "op=replace,path=/properties,value=not-json",
        bad,
        "Invalid properties",
    );
    // Refused patches changed nothing.
    assert_eq!(apigw(&s, &get), updated);

    let del = on_part("delete-documentation-part", &api, &id, &[]);
    assert_eq!(apigw(&s, &del), Value::Null);
    assert_cli_error(
        &apigw_err(&s, &del),
        "NotFoundException",
        "Invalid Documentation part identifier specified",
    );
    assert!(parts(&s, &api, &[]).is_empty());
}

/// Recorded errors for unknown APIs and parts and a bad location type; AWS's location
/// rules (members that do not apply, required names, one part per location).
#[test]
fn documentation_part_errors_and_location_rules() {
    let s = Server::start();
    let e = create_part_err(&s, "nope", "type=API");
    assert_cli_error(
        &e,
        "NotFoundException",
        "Invalid API identifier specified 000000000000:nope",
    );
    let e = apigw_err(&s, &["get-documentation-parts", "--rest-api-id", "nope"]);
    assert_cli_error(
        &e,
        "NotFoundException",
        "Invalid API identifier specified 000000000000:nope",
    );
    let no_part = "Invalid Documentation part identifier specified";
    let get = on_part("get-documentation-part", "nope", "abc", &[]);
    assert_cli_error(&apigw_err(&s, &get), "NotFoundException", no_part);
    let del = on_part("delete-documentation-part", "nope", "abc", &[]);
    assert_cli_error(
        &apigw_err(&s, &del),
        "NotFoundException",
        "Invalid API identifier specified 000000000000:nope",
    );

    let api = rest_api(&s, "doc-rules");
    let get = on_part("get-documentation-part", &api, "abc", &[]);
    assert_cli_error(&apigw_err(&s, &get), "NotFoundException", no_part);
    let e = create_part_err(&s, &api, "type=INVALID");
    assert_cli_error(
        &e,
        "ValidationException",
        "1 validation error detected: Value 'INVALID' at 'createDocumentationPartInput.location.type' failed to satisfy constraint: Member must satisfy enum value set: [RESPONSE_BODY, RESPONSE, METHOD, MODEL, AUTHORIZER, RESPONSE_HEADER, RESOURCE, PATH_PARAMETER, REQUEST_BODY, QUERY_PARAMETER, API, REQUEST_HEADER]",
    );
    for (location, why) in [
        (
            "type=API,path=/pets",
            "'path' is not applicable to type API",
        ),
        ("type=MODEL", "'name' is required for type MODEL"),
        (
            "type=RESOURCE,path=/pets,method=GET",
            "'method' is not applicable",
        ),
        (
            "type=METHOD,path=/pets,statusCode=200",
            "'statusCode' is not applicable",
        ),
        ("type=METHOD,path=/pets,name=x", "'name' is not applicable"),
        ("type=METHOD,path=pets", "must start with '/'"),
    ] {
        let e = create_part_err(&s, &api, location);
        assert_cli_error(&e, "BadRequestException", why);
    }
    let e = apigw_err(
        &s,
        &[
            "create-documentation-part",
            "--rest-api-id",
            &api,
            "--location",
            "type=API",
            "--properties",
            "not json",
        ],
    );
    assert_cli_error(&e, "BadRequestException", "Invalid properties");
    assert!(
        parts(&s, &api, &[]).is_empty(),
        "refused creates wrote nothing"
    );

    let method = create_part(
        &s,
        &api,
        "type=METHOD,path=/pets,method=GET",
        &json!({"summary": "List pets"}),
    );
    create_part(&s, &api, "type=MODEL,name=Pet", &json!({"title": "A pet"}));
    create_part(
        &s,
        &api,
        "type=QUERY_PARAMETER,path=/pets,method=GET,name=limit",
        &json!({"description": "How many"}),
    );
    // The same entity twice: a method given with its verb in lower case is that method.
    let e = create_part_err(&s, &api, "type=METHOD,path=/pets,method=get");
    assert_cli_error(&e, "ConflictException", method["id"].as_str().unwrap());

    let methods = parts(&s, &api, &["--type", "METHOD"]);
    assert_eq!(methods, vec![method]);
    let named = parts(&s, &api, &["--name-query", "Pe"]);
    assert_eq!(named.len(), 1);
    assert_eq!(named[0]["location"]["name"], "Pet");
    assert_eq!(parts(&s, &api, &["--path", "/pets"]).len(), 2);
    assert_eq!(
        parts(&s, &api, &["--location-status", "DOCUMENTED"]).len(),
        3
    );
    assert!(parts(&s, &api, &["--location-status", "UNDOCUMENTED"]).is_empty());
    // Pages of one follow each other without repeating a part.
    let all = parts(&s, &api, &["--page-size", "1"]);
    assert_eq!(all.len(), 3);
}

/// ImportDocumentationParts: overwrite replaces every part (new ids, as recorded), merge
/// updates a location's properties key by key and keeps its id, warnings refuse with
/// failOnWarnings, and a file that is not OpenAPI is AWS's recorded error.
#[test]
fn import_documentation_parts_modes() {
    let s = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let api = rest_api(&s, "doc-import");
    let old = create_part(
        &s,
        &api,
        "type=RESOURCE,path=/old",
        &json!({"description": "old"}),
    );

    let first = write(
        dir.path(),
        "first.json",
        &doc_with_parts(json!([
            {"location": {"type": "API"}, "properties": {"description": "API description"}},
            {"location": {"type": "METHOD", "path": "/", "method": "GET"},
             "properties": {"description": "Method description."}},
            {"location": {"type": "RESPONSE", "path": "/", "method": "GET", "statusCode": "200"},
             "properties": {"description": "200 response"}},
        ])),
    );
    let out = apigw(
        &s,
        &[
            "import-documentation-parts",
            "--rest-api-id",
            &api,
            "--mode",
            "overwrite",
            "--body",
            &first,
        ],
    );
    let ids = out["ids"].as_array().unwrap();
    assert_eq!(ids.len(), 3);
    let now = parts(&s, &api, &[]);
    assert_eq!(now.len(), 3, "overwrite dropped the old part: {now:#?}");
    assert!(now.iter().all(|p| p["id"] != old["id"]));
    let method_id = ids[1].as_str().unwrap().to_string();

    let second = write(
        dir.path(),
        "second.yaml",
        &doc_with_parts(json!([
            {"location": {"type": "METHOD", "path": "/", "method": "GET"},
             "properties": {"summary": "Get the root"}},
            {"location": {"type": "MODEL", "name": "Empty"}, "properties": {"title": "Empty Schema"}},
        ])),
    );
    let out = apigw(
        &s,
        &[
            "import-documentation-parts",
            "--rest-api-id",
            &api,
            "--body",
            &second,
        ],
    );
    assert_eq!(
        out["ids"][0],
        method_id.as_str(),
        "merge keeps the part's id"
    );
    let now = parts(&s, &api, &[]);
    assert_eq!(now.len(), 4);
    let method = now.iter().find(|p| p["id"] == method_id.as_str()).unwrap();
    assert_eq!(
        props(method),
        json!({"description": "Method description.", "summary": "Get the root"})
    );

    let broken = write(
        dir.path(),
        "broken.json",
        &doc_with_parts(json!([
            {"location": {"type": "NOT_A_TYPE"}, "properties": {}},
            {"location": {"type": "API"}, "properties": {"description": "replaced?"}},
        ])),
    );
    let e = apigw_err(
        &s,
        &[
            "import-documentation-parts",
            "--rest-api-id",
            &api,
            "--mode",
            "overwrite",
            "--fail-on-warnings",
            "--body",
            &broken,
        ],
    );
    assert_cli_error(&e, "BadRequestException", "NOT_A_TYPE");
    assert_eq!(
        parts(&s, &api, &[]).len(),
        4,
        "a refused import changed nothing"
    );
    let out = apigw(
        &s,
        &[
            "import-documentation-parts",
            "--rest-api-id",
            &api,
            "--body",
            &broken,
        ],
    );
    assert_eq!(out["ids"].as_array().unwrap().len(), 1);
    assert!(
        out["warnings"][0].as_str().unwrap().contains("NOT_A_TYPE"),
        "{out:#}"
    );

    for (name, text) in [
        ("bad.yaml", "openapi: [unclosed"),
        ("bad.json", "{\"swagger\": "),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let e = apigw_err(
            &s,
            &[
                "import-documentation-parts",
                "--rest-api-id",
                &api,
                "--body",
                &format!("fileb://{}", path.display()),
            ],
        );
        assert_cli_error(
            &e,
            "BadRequestException",
            "Unable to build importer with provided input.",
        );
    }
    let e = apigw_err(
        &s,
        &[
            "import-documentation-parts",
            "--rest-api-id",
            "nope",
            "--body",
            &first,
        ],
    );
    assert_cli_error(&e, "NotFoundException", "Invalid API identifier specified");
}

/// ImportRestApi reads `x-amazon-apigateway-documentation` (unless `ignore=documentation`),
/// and PutRestApi in overwrite mode replaces the parts.
#[test]
fn imported_api_brings_its_documentation() {
    let s = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let body = write(
        dir.path(),
        "api.json",
        &doc_with_parts(json!([
            {"location": {"type": "API"}, "properties": {"description": "API description"}},
            {"location": {"type": "METHOD", "path": "/", "method": "GET"},
             "properties": {"description": "Method description."}},
        ])),
    );
    let api = apigw(&s, &["import-rest-api", "--body", &body]);
    let id = api["id"].as_str().unwrap();
    assert_eq!(parts(&s, id, &[]).len(), 2);

    let ignored = apigw(
        &s,
        &[
            "import-rest-api",
            "--parameters",
            "ignore=documentation",
            "--body",
            &body,
        ],
    );
    assert!(parts(&s, ignored["id"].as_str().unwrap(), &[]).is_empty());

    let other = write(
        dir.path(),
        "other.json",
        &doc_with_parts(json!([
            {"location": {"type": "RESOURCE", "path": "/"}, "properties": {"description": "root"}},
        ])),
    );
    apigw(
        &s,
        &[
            "put-rest-api",
            "--rest-api-id",
            id,
            "--mode",
            "overwrite",
            "--body",
            &other,
        ],
    );
    let now = parts(&s, id, &[]);
    assert_eq!(now.len(), 1);
    assert_eq!(now[0]["location"], json!({"type": "RESOURCE", "path": "/"}));
}

fn export_json(
    s: &Server,
    api: &str,
    stage: &str,
    extensions: &str,
    out: &std::path::Path,
) -> Value {
    apigw(
        s,
        &[
            "get-export",
            "--rest-api-id",
            api,
            "--stage-name",
            stage,
            "--export-type",
            "oas30",
            "--parameters",
            &format!("extensions={extensions}"),
            out.to_str().unwrap(),
        ],
    );
    serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap()
}

/// The recorded test_documentation_parts_and_versions, then snapshot semantics: a version
/// keeps the parts of its moment, a stage showing it exports them, and everything survives
/// a restart.
#[test]
fn documentation_versions_snapshot_and_export() {
    let mut s = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let api = rest_api(&s, "doc-versions");
    let root = apigw(&s, &["get-resources", "--rest-api-id", &api])["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    mock_method(
        &s,
        (&api, &root, "GET"),
        &["--authorization-type", "NONE"],
        "{}",
    );
    deploy(&s, &api, "prod");
    let part = create_part(&s, &api, "type=API", &json!({"foo": "bar"}));
    let part_id = part["id"].as_str().unwrap().to_string();

    let v = apigw(
        &s,
        &[
            "create-documentation-version",
            "--rest-api-id",
            &api,
            "--documentation-version",
            "v123",
        ],
    );
    assert_eq!(v["version"], "v123");
    assert!(
        v["createdDate"].is_number() || v["createdDate"].is_string(),
        "{v:#}"
    );
    assert!(v.get("description").is_none());
    let on_v123 = |op: &'static str, extra: &[&'static str]| {
        let mut args = vec![
            op,
            "--rest-api-id",
            api.as_str(),
            "--documentation-version",
            "v123",
        ];
        args.extend_from_slice(extra);
        args
    };
    let e = apigw_err(&s, &on_v123("create-documentation-version", &[]));
    assert_cli_error(&e, "ConflictException", "v123");
    let patch =
        |p: &'static str| on_v123("update-documentation-version", &["--patch-operations", p]);
    let updated = apigw(
        &s,
        &patch("op=replace,path=/description,value=doc version new"),
    );
    assert_eq!(updated["description"], "doc version new");
    assert_eq!(
        apigw(&s, &on_v123("get-documentation-version", &[])),
        updated
    );
    let e = apigw_err(&s, &patch("op=replace,path=/version,value=x"));
    assert_cli_error(&e, "BadRequestException", "Must be one of: [/description]");

    // Edit the part after the snapshot: v123 keeps {"foo": "bar"}.
    let patch = r#"op=replace,path=/properties,value='{"foo":"changed"}'"#;
    let args = on_part(
        "update-documentation-part",
        &api,
        &part_id,
        &["--patch-operations", patch],
    );
    apigw(&s, &args);
    // A stage without a documentation version exports no documentation.
    let out = dir.path().join("export.json");
    let doc = export_json(&s, &api, "prod", "documentation", &out);
    assert!(
        doc.get("x-amazon-apigateway-documentation").is_none(),
        "{doc:#}"
    );

    let show = |version: &str| {
        let patch = format!("op=replace,path=/documentationVersion,value={version}");
        let args = [
            "update-stage",
            "--rest-api-id",
            &api,
            "--stage-name",
            "prod",
            "--patch-operations",
            &patch,
        ];
        aws(&s, &[&["apigateway"][..], &args[..]].concat())
    };
    let e = show("nope").unwrap_err();
    assert_cli_error(&e, "BadRequestException", "nope");
    let stage = show("v123").unwrap();
    assert_eq!(stage["documentationVersion"], "v123");
    let doc = export_json(&s, &api, "prod", "documentation", &out);
    assert_eq!(
        doc["x-amazon-apigateway-documentation"],
        json!({"version": "v123", "documentationParts": [
            {"location": {"type": "API"}, "properties": {"foo": "bar"}}]})
    );
    // Other extensions alone do not add documentation.
    let doc = export_json(&s, &api, "prod", "integrations", &out);
    assert!(doc.get("x-amazon-apigateway-documentation").is_none());

    // A second version created for the stage takes the current parts and the stage.
    let v2 = apigw(
        &s,
        &[
            "create-documentation-version",
            "--rest-api-id",
            &api,
            "--documentation-version",
            "v2",
            "--stage-name",
            "prod",
            "--description",
            "second",
        ],
    );
    assert_eq!(v2["description"], "second");

    s.kill9();
    let s = Server::start_in(s.dir());
    let versions = apigw(&s, &["get-documentation-versions", "--rest-api-id", &api]);
    let names: Vec<&str> = versions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["v123", "v2"]);
    let doc = export_json(&s, &api, "prod", "documentation", &out);
    assert_eq!(
        doc["x-amazon-apigateway-documentation"]["documentationParts"][0]["properties"],
        json!({"foo": "changed"})
    );
    assert_eq!(parts(&s, &api, &[]).len(), 1);

    let del = [
        "delete-documentation-version",
        "--rest-api-id",
        &api,
        "--documentation-version",
        "v123",
    ];
    assert_eq!(apigw(&s, &del), Value::Null);
    let e = apigw_err(&s, &del);
    assert_cli_error(
        &e,
        "NotFoundException",
        "Invalid Documentation version identifier specified",
    );
}
