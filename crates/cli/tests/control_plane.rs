//! The control plane's wire protocol (control-plane-v1.md §1-§3), mostly with raw signed
//! HTTP so the tests see exact status codes, headers and bodies, and can send requests the
//! CLI would refuse to build. Error messages are the ones recorded against real AWS.

mod common;

use std::collections::HashSet;

use common::*;
use serde_json::{json, Value};

const OP_ENUM: &str =
    "Member must satisfy enum value set: [add, remove, move, test, replace, copy]";
const STATUS_PATTERN: &str = r"Member must satisfy regular expression pattern: [1-5]\d\d";

/// An AWS error answer: status, `x-amzn-ErrorType`, JSON `{"message": ...}`.
fn assert_error(r: &Response, status: u16, error_type: &str) -> String {
    assert_eq!(r.status, status, "expected {status} {error_type}:\n{r}");
    let t = r
        .header("x-amzn-ErrorType")
        .unwrap_or_else(|| panic!("no x-amzn-ErrorType:\n{r}"));
    assert_eq!(t.split(':').next(), Some(error_type), "{r}");
    assert_eq!(r.header("content-type"), Some("application/json"), "{r}");
    let body = r.json();
    body["message"]
        .as_str()
        .unwrap_or_else(|| panic!("error body without message: {body:#}"))
        .to_string()
}

fn assert_request_id(r: &Response) -> String {
    let id = r
        .header("x-amzn-RequestId")
        .unwrap_or_else(|| panic!("no x-amzn-RequestId:\n{r}"));
    assert_eq!(id.len(), 36, "x-amzn-RequestId should be a UUID: {id:?}");
    id.to_string()
}

#[test]
fn unsigned_requests_are_refused_before_routing() {
    let s = Server::start();
    for (method, path) in [
        ("GET", "/restapis"),
        ("GET", "/no/such/operation"),
        ("POST", "/restapis"),
    ] {
        let mut req = Http::new(s.port, method, path).header("Accept", "application/json");
        if method == "POST" {
            req = req
                .header("Content-Type", "application/json")
                .body(r#"{"name":"sneaky"}"#);
        }
        let r = req.send();
        let msg = assert_error(&r, 403, "MissingAuthenticationTokenException");
        assert_eq!(msg, "Missing Authentication Token");
        assert_request_id(&r);
    }
    // The unsigned create did nothing.
    let list = Cp::new(&s).ok("GET", "/restapis", None);
    assert_eq!(list["item"].as_array().map_or(0, Vec::len), 0, "{list:#}");
}

#[test]
fn bad_credentials_are_refused() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let r = cp
        .with_secret("not-the-secret")
        .call("GET", "/restapis", None);
    let msg = assert_error(&r, 403, "InvalidSignatureException");
    assert!(
        msg.starts_with(
            "The request signature we calculated does not match the signature you provided."
        ),
        "{msg}"
    );
    let stranger = Cp {
        access_key: "AKIDUNKNOWN".into(),
        ..Cp::new(&s)
    };
    let r = stranger.call("GET", "/restapis", None);
    let msg = assert_error(&r, 403, "UnrecognizedClientException");
    assert_eq!(
        msg,
        "The security token included in the request is invalid."
    );
}

#[test]
fn pagination_over_more_than_25_apis() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let mut created = Vec::new();
    for i in 0..30 {
        let (id, _) = cp.create_api(&format!("api-{i:02}"));
        created.push(id);
    }
    let all: HashSet<&str> = created.iter().map(String::as_str).collect();

    // Default page: 25 items under the key `item`, and a position to continue.
    let first = cp.ok("GET", "/restapis", None);
    assert!(
        first.get("items").is_none(),
        "the wire key is `item` (singular): {first:#}"
    );
    assert_eq!(
        first["item"].as_array().map(Vec::len),
        Some(25),
        "default limit is 25"
    );
    let position = first["position"]
        .as_str()
        .expect("a position on a non-final page")
        .to_string();
    let rest = cp.request("GET", "/restapis", &[("position", &position)], None);
    assert_eq!(rest.status, 200, "{rest}");
    let rest = rest.json();
    assert_eq!(rest["item"].as_array().map(Vec::len), Some(5), "{rest:#}");
    assert!(
        rest.get("position").is_none(),
        "no position on the last page: {rest:#}"
    );

    // Walk with limit=7: pages of 7, 7, 7, 7, 2; every API exactly once.
    let mut seen = Vec::new();
    let mut position: Option<String> = None;
    let mut pages = Vec::new();
    loop {
        let mut q = vec![("limit", "7")];
        if let Some(p) = &position {
            q.push(("position", p.as_str()));
        }
        let r = cp.request("GET", "/restapis", &q, None);
        assert_eq!(r.status, 200, "{r}");
        let page = r.json();
        let items = page["item"].as_array().expect("item").clone();
        pages.push(items.len());
        seen.extend(items.iter().map(|a| str_of(a, "id")));
        match page.get("position").and_then(Value::as_str) {
            Some(p) => position = Some(p.to_string()),
            None => break,
        }
        assert!(pages.len() < 10, "pagination does not end: pages {pages:?}");
    }
    assert_eq!(pages, vec![7, 7, 7, 7, 2], "page sizes");
    let unique: HashSet<&str> = seen.iter().map(String::as_str).collect();
    assert_eq!(unique.len(), 30, "no API repeated across pages: {seen:?}");
    assert_eq!(unique, all, "every API listed");

    // The CLI follows positions itself (--page-size becomes `limit`).
    let listed = apigw(&s, &["get-rest-apis", "--page-size", "7"]);
    let ids: Vec<String> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| str_of(a, "id"))
        .collect();
    assert_eq!(ids, seen, "the CLI sees the same APIs in the same order");

    // --max-items stops early and hands out a NextToken to resume from.
    let part = apigw(
        &s,
        &["get-rest-apis", "--page-size", "5", "--max-items", "12"],
    );
    let first_ids: Vec<String> = part["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| str_of(a, "id"))
        .collect();
    assert_eq!(first_ids.len(), 12, "{part:#}");
    let token = str_of(&part, "NextToken");
    let more = apigw(
        &s,
        &[
            "get-rest-apis",
            "--page-size",
            "5",
            "--starting-token",
            &token,
        ],
    );
    let more_ids: Vec<String> = more["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| str_of(a, "id"))
        .collect();
    assert_eq!(
        [first_ids, more_ids].concat(),
        seen,
        "resuming from NextToken continues where it stopped"
    );
}

#[test]
fn patch_operation_validation() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("patchy");

    // The second operation has an unknown op: ValidationException with its 1-based index,
    // and the first (valid) operation is not applied either.
    let r = cp.call(
        "PATCH",
        &format!("/restapis/{api}"),
        Some(&json!({ "patchOperations": [
            { "op": "replace", "path": "/name", "value": "renamed" },
            { "op": "wrong", "path": "/description", "value": "x" }
        ]})),
    );
    let msg = assert_error(&r, 400, "ValidationException");
    assert_eq!(
        msg,
        format!("1 validation error detected: Value 'wrong' at 'updateRestApiInput.patchOperations.2.member.op' failed to satisfy constraint: {OP_ENUM}")
    );
    assert_eq!(
        cp.ok("GET", &format!("/restapis/{api}"), None)["name"],
        "patchy",
        "a failed patch changes nothing"
    );

    // Every bad operation is reported (AWS-recorded message).
    let r = cp.call(
        "PATCH",
        &format!("/restapis/{api}"),
        Some(&json!({ "patchOperations": [
            { "op": "wrong", "path": "/name", "value": "a" },
            { "op": "wrong", "path": "/name", "value": "b" },
            { "op": "wrong", "path": "/name", "value": "c" }
        ]})),
    );
    let msg = assert_error(&r, 400, "ValidationException");
    let one = |i: usize| {
        format!("Value 'wrong' at 'updateRestApiInput.patchOperations.{i}.member.op' failed to satisfy constraint: {OP_ENUM}")
    };
    assert_eq!(
        msg,
        format!(
            "3 validation errors detected: {}; {}; {}",
            one(1),
            one(2),
            one(3)
        )
    );

    // Same rule on another resource (recorded for UpdateGatewayResponse).
    let r = cp.call(
        "PATCH",
        &format!("/restapis/{api}/gatewayresponses/DEFAULT_4XX"),
        Some(&json!({ "patchOperations": [{ "op": "wrong-op", "path": "/statusCode", "value": "400" }] })),
    );
    let msg = assert_error(&r, 400, "ValidationException");
    assert_eq!(
        msg,
        format!("1 validation error detected: Value 'wrong-op' at 'updateGatewayResponseInput.patchOperations.1.member.op' failed to satisfy constraint: {OP_ENUM}")
    );

    // A bad op and a bad status code together (recorded for UpdateMethodResponse).
    cp.put_method(&api, &root, "GET", json!({ "authorizationType": "NONE" }));
    let r = cp.call(
        "PATCH",
        &format!("/restapis/{api}/resources/{root}/methods/GET/responses/wrong"),
        Some(&json!({ "patchOperations": [{ "op": "wrong_op", "path": "/responseModels/application~1json", "value": "Empty" }] })),
    );
    let msg = assert_error(&r, 400, "ValidationException");
    assert_eq!(
        msg,
        format!(
            "2 validation errors detected: Value 'wrong_op' at 'updateMethodResponseInput.patchOperations.1.member.op' \
             failed to satisfy constraint: {OP_ENUM}; Value 'wrong' at 'statusCode' failed to satisfy constraint: {STATUS_PATTERN}"
        )
    );
}

#[test]
fn wrong_json_type_is_a_serialization_exception() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("types");
    cp.put_method(&api, &root, "GET", json!({ "authorizationType": "NONE" }));
    // requestParameters values are strings; the CLI would refuse to send a boolean.
    let r = cp.call(
        "PUT",
        &format!("/restapis/{api}/resources/{root}/methods/GET/integration"),
        Some(&json!({
            "type": "HTTP_PROXY",
            "httpMethod": "GET",
            "uri": "http://127.0.0.1:9/",
            "requestParameters": { "integration.request.header.x-flag": true }
        })),
    );
    let msg = assert_error(&r, 400, "SerializationException");
    assert_eq!(
        msg, "class java.lang.Boolean can not be converted to an String",
        "AWS-recorded message"
    );
    assert_request_id(&r);
    // Nothing was stored.
    let r = cp.call(
        "GET",
        &format!("/restapis/{api}/resources/{root}/methods/GET/integration"),
        None,
    );
    let msg = assert_error(&r, 404, "NotFoundException");
    assert_eq!(msg, "Invalid Integration identifier specified");
}

#[test]
fn status_codes_are_validated() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("codes");
    cp.put_method(&api, &root, "GET", json!({ "authorizationType": "NONE" }));
    cp.put_integration(&api, &root, "GET", json!({ "type": "MOCK", "requestTemplates": { "application/json": "{\"statusCode\": 200}" } }));
    let base = format!("/restapis/{api}/resources/{root}/methods/GET");
    let expected = format!("1 validation error detected: Value 'wrong' at 'statusCode' failed to satisfy constraint: {STATUS_PATTERN}");

    // Every case is checked before failing, so one run lists every deviation.
    let mut wrong = Vec::new();
    let mut check = |method: &str, path: String, body: Option<Value>, expected: &str| {
        let r = cp.call(method, &path, body.as_ref());
        let got = (
            r.status,
            r.header("x-amzn-ErrorType").map(str::to_string),
            r.text(),
        );
        let want_body = json!({ "message": expected }).to_string();
        let ok = got.0 == 400
            && got.1.as_deref() == Some("ValidationException")
            && serde_json::from_str::<Value>(&got.2).ok()
                == serde_json::from_str::<Value>(&want_body).ok();
        if !ok {
            wrong.push(format!(
                "{method} {path}: got {got:?}, want 400 ValidationException {want_body}"
            ));
        }
    };
    // A well-formed patch for each kind of response: only the status code is wrong.
    let patch_mr = json!({ "patchOperations": [
        { "op": "add", "path": "/responseParameters/method.response.header.x-a", "value": "true" }
    ]});
    let patch_ir = json!({ "patchOperations": [
        { "op": "replace", "path": "/selectionPattern", "value": "x" }
    ]});
    for (path, patch) in [
        (format!("{base}/responses/wrong"), patch_mr),
        (format!("{base}/integration/responses/wrong"), patch_ir),
    ] {
        check("PUT", path.clone(), Some(json!({})), &expected);
        check("GET", path.clone(), None, &expected);
        check("PATCH", path.clone(), Some(patch), &expected);
        check("DELETE", path, None, &expected);
    }
    // Out of [1-5]\d\d, though numeric.
    for code in ["600", "099", "20"] {
        let expected = format!(
            "1 validation error detected: Value '{code}' at 'statusCode' failed to satisfy constraint: {STATUS_PATTERN}"
        );
        check(
            "PUT",
            format!("{base}/responses/{code}"),
            Some(json!({})),
            &expected,
        );
        check(
            "PUT",
            format!("{base}/integration/responses/{code}"),
            Some(json!({})),
            &expected,
        );
    }
    assert!(
        wrong.is_empty(),
        "status code validation:\n{}",
        wrong.join("\n")
    );
    // A valid one works, and an unknown (valid) one is NotFound.
    assert_eq!(
        cp.put_method_response(&api, &root, "GET", "599")["statusCode"],
        "599"
    );
    let r = cp.call("GET", &format!("{base}/responses/404"), None);
    assert_eq!(
        assert_error(&r, 404, "NotFoundException"),
        "Invalid Response status code specified"
    );
}

#[test]
fn tags_round_trip_on_a_rest_api_arn() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let created = cp.ok(
        "POST",
        "/restapis",
        Some(&json!({ "name": "tagged", "tags": { "team": "core" } })),
    );
    assert_json_eq(
        &created["tags"],
        &json!({ "team": "core" }),
        "tags on create",
    );
    let api = str_of(&created, "id");
    let arn = format!("arn:aws:apigateway:us-east-1::/restapis/{api}");
    // The ARN is one percent-encoded path segment.
    let path = format!("/tags/{}", encode_segment(&arn));

    assert_json_eq(
        &cp.ok("GET", &path, None),
        &json!({ "tags": { "team": "core" } }),
        "tags from create",
    );

    let r = cp.call("PUT", &path, Some(&json!({ "tags": { "env": "dev" } })));
    assert_eq!(r.status, 204, "TagResource:\n{r}");
    assert!(r.body.is_empty(), "{r}");
    assert_json_eq(
        &cp.ok("GET", &path, None),
        &json!({ "tags": { "team": "core", "env": "dev" } }),
        "tags merge",
    );

    let r = cp.request("DELETE", &path, &[("tagKeys", "team")], None);
    assert_eq!(r.status, 204, "UntagResource:\n{r}");
    assert_json_eq(
        &cp.ok("GET", &path, None),
        &json!({ "tags": { "env": "dev" } }),
        "after untag",
    );
    assert_json_eq(
        &cp.ok("GET", &format!("/restapis/{api}"), None)["tags"],
        &json!({ "env": "dev" }),
        "GetRestApi tags",
    );

    // The CLI encodes the ARN the same way.
    apigw(
        &s,
        &["tag-resource", "--resource-arn", &arn, "--tags", "owner=me"],
    );
    let tags = apigw(&s, &["get-tags", "--resource-arn", &arn]);
    assert_json_eq(
        &tags,
        &json!({ "tags": { "env": "dev", "owner": "me" } }),
        "get-tags via the CLI",
    );
    apigw(
        &s,
        &[
            "untag-resource",
            "--resource-arn",
            &arn,
            "--tag-keys",
            "env",
            "owner",
        ],
    );
    let none = cp.ok("GET", &path, None);
    assert!(
        none.get("tags").is_none_or(|t| t == &json!({})),
        "all tags removed: {none:#}"
    );

    // An ARN of an API that does not exist.
    let missing = format!(
        "/tags/{}",
        encode_segment("arn:aws:apigateway:us-east-1::/restapis/nosuchapi0")
    );
    let r = cp.call("GET", &missing, None);
    assert_error(&r, 404, "NotFoundException");
}

#[test]
fn deleted_rest_api_is_not_found() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("doomed");
    let (keep, _) = cp.create_api("kept");
    cp.resource(&api, &root, "child");

    let r = cp.call("DELETE", &format!("/restapis/{api}"), None);
    assert_eq!(r.status, 202, "DeleteRestApi:\n{r}");
    assert!(r.body.is_empty(), "{r}");

    let r = cp.call("GET", &format!("/restapis/{api}"), None);
    let msg = assert_error(&r, 404, "NotFoundException");
    assert_eq!(
        msg,
        format!("Invalid API identifier specified 000000000000:{api}")
    );
    let r = cp.call("GET", &format!("/restapis/{api}/resources"), None);
    assert_error(&r, 404, "NotFoundException");
    let r = cp.call("DELETE", &format!("/restapis/{api}"), None);
    assert_error(&r, 404, "NotFoundException");

    let list = cp.ok("GET", "/restapis", None);
    let ids: Vec<String> = list["item"]
        .as_array()
        .expect("item")
        .iter()
        .map(|a| str_of(a, "id"))
        .collect();
    assert_eq!(ids, vec![keep], "only the other API is left");

    let e = apigw_err(&s, &["get-rest-api", "--rest-api-id", &api]);
    assert_cli_error(
        &e,
        "NotFoundException",
        &format!("Invalid API identifier specified 000000000000:{api}"),
    );
}

#[test]
fn every_response_has_a_request_id() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let mut responses = Vec::new();

    let created = cp.call("POST", "/restapis", Some(&json!({ "name": "ids" })));
    assert_eq!(created.status, 201, "{created}");
    let body = created.json();
    assert!(
        body["createdDate"].is_number(),
        "v1 timestamps are epoch seconds: {body:#}"
    );
    assert!(
        !body
            .as_object()
            .expect("object")
            .values()
            .any(Value::is_null),
        "no nulls: {body:#}"
    );
    let api = str_of(&body, "id");
    responses.push(created);
    responses.push(cp.call("GET", "/restapis", None));
    responses.push(cp.call("GET", &format!("/restapis/{api}"), None));
    let arn = encode_segment(&format!("arn:aws:apigateway:us-east-1::/restapis/{api}"));
    responses.push(cp.call(
        "PUT",
        &format!("/tags/{arn}"),
        Some(&json!({ "tags": { "a": "b" } })),
    ));

    let errors = vec![
        cp.call("GET", "/restapis/nosuchapi0", None),
        cp.call("GET", "/definitely/not/an/operation", None),
        cp.call(
            "POST",
            "/restapis",
            Some(&json!({ "name": "x", "endpointConfiguration": { "types": ["wrong"] } })),
        ),
        cp.call("POST", "/restapis", Some(&json!({ "name": 42 }))),
        cp.with_secret("nope").call("GET", "/restapis", None),
        Http::get(s.port, "/restapis").send(),
    ];
    for r in &errors {
        assert!((400..500).contains(&r.status), "expected an error:\n{r}");
        assert!(
            r.header("x-amzn-ErrorType").is_some(),
            "errors carry x-amzn-ErrorType:\n{r}"
        );
        assert_eq!(r.header("content-type"), Some("application/json"), "{r}");
        assert!(
            r.json()["message"].is_string(),
            "errors carry a message:\n{r}"
        );
    }
    responses.extend(errors);
    responses.push(cp.call("DELETE", &format!("/restapis/{api}"), None));

    let ids: Vec<String> = responses.iter().map(assert_request_id).collect();
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "request ids are unique: {ids:?}");
}

/// CreateModel / UpdateModel / DeleteModel with AWS's recorded validation messages
/// (test_model_validation, test_update_model).
#[test]
fn model_lifecycle_and_validation() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("models");
    let schema = r#"{"type": "object", "properties": {"name": {"type": "string"}}}"#;
    let created = cp.ok(
        "POST",
        &format!("/restapis/{api}/models"),
        Some(&json!({ "name": "Pet", "contentType": "application/json", "schema": schema })),
    );
    assert_eq!(created["name"], "Pet");
    assert_eq!(created["schema"], schema);
    assert_eq!(created["id"].as_str().map(str::len), Some(6));

    let dup = cp.call(
        "POST",
        &format!("/restapis/{api}/models"),
        Some(&json!({ "name": "Pet", "contentType": "application/json", "schema": schema })),
    );
    assert_eq!(
        (dup.status, dup.json()["message"].clone()),
        (409, json!("Model name already exists for this REST API"))
    );
    let empty = cp.call(
        "POST",
        &format!("/restapis/{api}/models"),
        Some(&json!({ "name": "", "contentType": "application/json", "schema": schema })),
    );
    assert_eq!(empty.json()["message"], "Model name must be non-empty");
    let no_schema = cp.call(
        "POST",
        &format!("/restapis/{api}/models"),
        Some(&json!({ "name": "X", "contentType": "application/json" })),
    );
    assert_eq!(
        no_schema.json()["message"],
        "Model schema must have at least 1 property or array items defined"
    );

    let bad_path = cp.call(
        "PATCH",
        &format!("/restapis/{api}/models/Pet"),
        Some(&json!({ "patchOperations": [{ "op": "replace", "path": "/name", "value": "x" }] })),
    );
    assert_eq!(bad_path.json()["message"], "Invalid patch path  '/name' specified for op 'replace'. Must be one of: [/description, /schema]");
    let updated = cp.ok("PATCH", &format!("/restapis/{api}/models/Pet"), Some(&json!({ "patchOperations": [{ "op": "replace", "path": "/description", "value": "pets" }] })));
    assert_eq!(updated["description"], "pets");

    // A model used by a method cannot be deleted; AWS names the root resource `//METHOD`.
    cp.put_method(
        &api,
        &root,
        "POST",
        json!({ "authorizationType": "NONE", "requestModels": { "application/json": "Pet" } }),
    );
    let in_use = cp.call("DELETE", &format!("/restapis/{api}/models/Pet"), None);
    assert_eq!(
        (in_use.status, in_use.json()["message"].clone()),
        (
            409,
            json!("Cannot delete model 'Pet', is referenced in method request: //POST")
        )
    );
    let missing = cp.call("GET", &format!("/restapis/{api}/models/Nope"), None);
    assert_eq!(
        (missing.status, missing.json()["message"].clone()),
        (404, json!("Invalid model name specified: Nope"))
    );
    let names: Vec<String> = cp.ok("GET", &format!("/restapis/{api}/models"), None)["item"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, vec!["Empty", "Error", "Pet"]);
}

/// CreateDeployment refuses a snapshot whose mapping templates do not parse (request
/// templates and integration-response templates alike), names the template, and changes
/// nothing: no deployment, no stage, the stage still on its old deployment.
#[test]
fn deployment_with_an_unparseable_template_is_refused() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("templates");
    let pets = cp.resource(&api, &root, "pets");
    cp.mock(&api, &pets, "GET", "{\"ok\": true}");
    let first = cp.deploy(&api, "dev");

    let deployments = |cp: &Cp| {
        cp.ok("GET", &format!("/restapis/{api}/deployments"), None)["item"]
            .as_array()
            .map_or(0, Vec::len)
    };
    let bad = [
        (
            "request",
            "#if($input.params('x') == 'y')never closed",
            "integration request of GET /pets, content type application/json: #if without #end at line 1, column 1",
        ),
        (
            "response",
            "{\"a\": \"#set($x = )\"}",
            "integration response 200 of GET /pets, content type application/json: ",
        ),
    ];
    for (which, template, wanted) in bad {
        if which == "request" {
            cp.put_integration(
                &api,
                &pets,
                "GET",
                json!({ "type": "MOCK", "requestTemplates": { "application/json": template } }),
            );
        } else {
            cp.put_integration(
                &api,
                &pets,
                "GET",
                json!({ "type": "MOCK", "requestTemplates": { "application/json": "{\"statusCode\": 200}" } }),
            );
            cp.put_integration_response(
                &api,
                &pets,
                "GET",
                "200",
                json!({ "responseTemplates": { "application/json": template } }),
            );
        }
        for body in [
            json!({ "stageName": "dev" }),
            json!({ "stageName": "new" }),
            json!({}),
        ] {
            let r = cp.call("POST", &format!("/restapis/{api}/deployments"), Some(&body));
            let msg = assert_error(&r, 400, "BadRequestException");
            let want = format!("Invalid mapping template specified: {wanted}");
            assert!(
                msg.starts_with(&want),
                "{which}: {msg:?} should start with {want:?}"
            );
        }
        assert_eq!(
            deployments(&cp),
            1,
            "{which}: a refused deployment was stored"
        );
        let stages = cp.ok("GET", &format!("/restapis/{api}/stages"), None);
        let stages = stages["item"].as_array().cloned().unwrap_or_default();
        assert_eq!(stages.len(), 1, "{which}: {stages:?}");
        assert_eq!(stages[0]["deploymentId"], first.as_str(), "{which}");
    }

    // Fixed, the same call deploys.
    cp.put_integration_response(
        &api,
        &pets,
        "GET",
        "200",
        json!({ "responseTemplates": { "application/json": "{\"ok\": $input.json('$')}" } }),
    );
    let second = cp.deploy(&api, "dev");
    assert_ne!(second, first);
    assert_eq!(deployments(&cp), 2);
}

/// Members of AWS's closed vocabularies are checked on the way in, with AWS's enum wording,
/// and a refused value changes nothing.
#[test]
fn closed_vocabularies_are_refused_with_their_members() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let before = cp.ok("GET", "/restapis", None)["item"]
        .as_array()
        .map_or(0, Vec::len);
    let r = cp.call(
        "POST",
        "/restapis",
        Some(&json!({ "name": "strict", "endpointAccessMode": "LOOSE" })),
    );
    assert_eq!(
        assert_error(&r, 400, "ValidationException"),
        "1 validation error detected: Value 'LOOSE' at 'createRestApiInput.endpointAccessMode' \
         failed to satisfy constraint: Member must satisfy enum value set: [BASIC, STRICT]"
    );
    let after = cp.ok("GET", "/restapis", None)["item"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(before, after, "a refused CreateRestApi creates nothing");
    let api = cp.ok(
        "POST",
        "/restapis",
        Some(&json!({ "name": "strict", "endpointAccessMode": "STRICT" })),
    );
    assert_eq!(api["endpointAccessMode"], "STRICT");
    let api = api["id"].as_str().unwrap().to_string();
    let root = cp.ok("GET", &format!("/restapis/{api}/resources"), None)["item"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    cp.put_method(&api, &root, "GET", json!({ "authorizationType": "NONE" }));
    let r = cp.call(
        "PUT",
        &format!("/restapis/{api}/resources/{root}/methods/GET/integration"),
        Some(&json!({ "type": "MOCK", "responseTransferMode": "CHUNKED" })),
    );
    assert!(
        assert_error(&r, 400, "ValidationException").contains(
            "at 'putIntegrationInput.responseTransferMode' failed to satisfy constraint: \
             Member must satisfy enum value set: [BUFFERED, STREAM]"
        ),
        "{r}"
    );
    let i = cp.put_integration(
        &api,
        &root,
        "GET",
        json!({ "type": "MOCK", "responseTransferMode": "BUFFERED" }),
    );
    assert_eq!(i["responseTransferMode"], "BUFFERED");

    // CreateDeployment's stage cache size is a member of the same vocabulary as the stage's.
    let r = cp.call(
        "POST",
        &format!("/restapis/{api}/deployments"),
        Some(&json!({ "stageName": "prod", "cacheClusterEnabled": true, "cacheClusterSize": "2" })),
    );
    assert!(
        assert_error(&r, 400, "ValidationException").contains(
            "Member must satisfy enum value set: [0.5, 1.6, 6.1, 13.5, 28.4, 58.2, 118, 237]"
        ),
        "{r}"
    );
    assert_eq!(
        cp.call("GET", &format!("/restapis/{api}/stages/prod"), None)
            .status,
        404,
        "a refused CreateDeployment creates no stage"
    );
    cp.ok(
        "POST",
        &format!("/restapis/{api}/deployments"),
        Some(
            &json!({ "stageName": "prod", "cacheClusterEnabled": true, "cacheClusterSize": "6.1" }),
        ),
    );
    let stage = cp.ok("GET", &format!("/restapis/{api}/stages/prod"), None);
    assert_eq!(stage["cacheClusterSize"], "6.1");
}

/// UpdateStage's patch paths: each kind of path, AWS's wording for the wrong ones, and a
/// failed patch changes nothing.
#[test]
fn update_stage_patch_paths() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("stages");
    cp.put_method(&api, &root, "GET", json!({ "authorizationType": "NONE" }));
    cp.put_integration(&api, &root, "GET", json!({ "type": "MOCK" }));
    cp.ok(
        "POST",
        &format!("/restapis/{api}/deployments"),
        Some(&json!({ "stageName": "prod" })),
    );
    let stage = format!("/restapis/{api}/stages/prod");
    let patch = |ops: Value| cp.call("PATCH", &stage, Some(&json!({ "patchOperations": ops })));

    let r = patch(json!([
        { "op": "replace", "path": "/description", "value": "live" },
        { "op": "add", "path": "/variables/colour", "value": "blue" },
        { "op": "replace", "path": "/cacheClusterSize", "value": "1.6" },
        { "op": "replace", "path": "/*/*/throttling/rateLimit", "value": "50" },
        { "op": "replace", "path": "/~1/GET/throttling/burstLimit", "value": "7" },
        { "op": "add", "path": "/accessLogSettings/format", "value": "$context.requestId" },
        { "op": "add", "path": "/accessLogSettings/destinationArn", "value": "arn:aws:logs:us-east-1:000000000000:log-group:g" }
    ]));
    assert_eq!(r.status, 200, "{r}");
    let st = r.json();
    assert_eq!(st["description"], "live");
    assert_eq!(st["variables"]["colour"], "blue");
    assert_eq!(st["cacheClusterSize"], "1.6");
    assert_eq!(st["methodSettings"]["*/*"]["throttlingRateLimit"], 50.0);
    // A method's setting starts from the stage-wide one.
    assert_eq!(st["methodSettings"]["~1/GET"]["throttlingRateLimit"], 50.0);
    assert_eq!(st["methodSettings"]["~1/GET"]["throttlingBurstLimit"], 7);
    assert_eq!(st["accessLogSettings"]["format"], "$context.requestId");

    let cases = [
        (
            json!([{ "op": "replace", "path": "/nope", "value": "x" }]),
            "Invalid method setting path: /nope. Must be one of: [/deploymentId,",
        ),
        (
            json!([{ "op": "replace", "path": "/accessLogSettings/level", "value": "x" }]),
            "Invalid accessLogSettings path. Must be one of : [/accessLogSettings/destinationArn, /accessLogSettings/format]",
        ),
        (
            json!([{ "op": "copy", "path": "/deploymentId", "from": "/canarySettings/deploymentId" }]),
            "Promotion not available. Canary does not exist.",
        ),
        (
            json!([{ "op": "copy", "path": "/description", "from": "/canarySettings/deploymentId" }]),
            "Invalid copy operation with path: /description and from /canarySettings/deploymentId.",
        ),
        (
            json!([{ "op": "replace", "path": "/deploymentId", "value": "nothere" }]),
            "Deployment id does not exist",
        ),
        (
            json!([{ "op": "remove", "path": "/~1pets/GET" }]),
            "Cannot remove method setting ~1pets/GET because there is no method setting for this method",
        ),
        (
            json!([{ "op": "replace", "path": "/cacheClusterSize", "value": "3" }]),
            "Member must satisfy enum value set: [0.5, 1.6, 6.1, 13.5, 28.4, 58.2, 118, 237]",
        ),
    ];
    for (ops, want) in cases {
        // The good first op is not applied when a later one fails.
        let mut all = vec![json!({ "op": "replace", "path": "/description", "value": "changed" })];
        all.extend(ops.as_array().unwrap().iter().cloned());
        let r = patch(Value::Array(all));
        assert!(r.status == 400, "{ops}: {r}");
        let msg = r.json()["message"].as_str().unwrap_or_default().to_string();
        assert!(msg.contains(want), "{ops}: {msg}");
    }
    let st = cp.ok("GET", &stage, None);
    assert_eq!(st["description"], "live", "failed patches change nothing");

    let r = patch(json!([
        { "op": "remove", "path": "/variables/colour" },
        { "op": "remove", "path": "/~1/GET" },
        { "op": "remove", "path": "/accessLogSettings" }
    ]));
    assert_eq!(r.status, 200, "{r}");
    let st = r.json();
    assert!(st.get("variables").is_none(), "{st:#}");
    assert!(st["methodSettings"].get("~1/GET").is_none(), "{st:#}");
    assert!(st.get("accessLogSettings").is_none(), "{st:#}");
}
