//! Behaviours recorded against real AWS (../shared/aws-recorded/localstack-apigateway) that
//! an outside test suite found missing, and the habits of LocalStack users; each test names
//! the recording it follows, or says where none exists.

mod common;

use common::*;
use serde_json::json;

fn deploy_stage(cp: &Cp, api: &str, stage: &str) {
    cp.ok(
        "POST",
        &format!("/restapis/{api}/deployments"),
        Some(&json!({ "stageName": stage })),
    );
}

/// `authorizationType` is read without regard to case (no recording; AWS accepts `none`)
/// and answered as AWS spells it.
#[test]
fn authorization_type_is_case_insensitive() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("case");
    let m = cp.put_method(&api, &root, "GET", json!({ "authorizationType": "none" }));
    assert_eq!(m["authorizationType"], "NONE", "{m}");
    let m = cp.put_method(&api, &root, "POST", json!({ "authorizationType": "None" }));
    assert_eq!(m["authorizationType"], "NONE", "{m}");
    let m = cp.ok(
        "PATCH",
        &format!("/restapis/{api}/resources/{root}/methods/GET"),
        Some(&json!({ "patchOperations": [
            { "op": "replace", "path": "/authorizationType", "value": "aws_iam" }
        ] })),
    );
    assert_eq!(m["authorizationType"], "AWS_IAM", "{m}");
    let r = cp.call(
        "PUT",
        &format!("/restapis/{api}/resources/{root}/methods/PUT"),
        Some(&json!({ "authorizationType": "nobody" })),
    );
    assert_eq!(r.status, 400, "{r}");
    assert!(
        r.text().contains("Value 'nobody' at 'authorizationType'"),
        "{r}"
    );
}

/// Recorded (test_update_method_validation, `wrong-value-type`): a non-boolean
/// `/apiKeyRequired` is `false`, not an error, as Java's `Boolean.parseBoolean` reads it.
#[test]
fn non_boolean_patch_values_are_false() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("bools");
    let m = cp.put_method(
        &api,
        &root,
        "ANY",
        json!({ "authorizationType": "NONE", "apiKeyRequired": true }),
    );
    assert_eq!(m["apiKeyRequired"], true);
    let path = format!("/restapis/{api}/resources/{root}/methods/ANY");
    let patch = |v: &str| {
        cp.ok(
            "PATCH",
            &path,
            Some(&json!({ "patchOperations": [
                { "op": "replace", "path": "/apiKeyRequired", "value": v }
            ] })),
        )
    };
    assert_eq!(patch("TRUE")["apiKeyRequired"], true);
    let m = patch("whatever");
    assert_eq!(m["apiKeyRequired"], false, "{m}");
    assert_eq!(m["httpMethod"], "ANY");
}

/// Recorded (test_update_rest_api_operation_add_remove): `add` and `remove` on
/// `/binaryMediaTypes/{type}`, and `remove /description` drops the member.
#[test]
fn update_rest_api_add_and_remove() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let api = cp.ok(
        "POST",
        "/restapis",
        Some(&json!({ "name": "ops", "description": "this is my api",
                      "binaryMediaTypes": ["image/png"] })),
    );
    let api = api["id"].as_str().unwrap();
    let patch = |ops: serde_json::Value| {
        cp.ok(
            "PATCH",
            &format!("/restapis/{api}"),
            Some(&json!({ "patchOperations": ops })),
        )
    };
    let r = patch(json!([{ "op": "add", "path": "/binaryMediaTypes/image~1jpeg" }]));
    assert_eq!(r["binaryMediaTypes"], json!(["image/png", "image/jpeg"]));
    let r = patch(
        json!([{ "op": "remove", "path": "/binaryMediaTypes/image~1png" },
                         { "op": "remove", "path": "/description" }]),
    );
    assert_eq!(r["binaryMediaTypes"], json!(["image/jpeg"]));
    assert!(r.get("description").is_none(), "{r}");
    let got = cp.ok("GET", &format!("/restapis/{api}"), None);
    assert!(got.get("description").is_none(), "{got}");
}

/// LocalStack's `_custom_id_` tag picks the id of a REST or HTTP API (no AWS recording:
/// AWS has no such tag); a clash is a conflict and creates nothing.
#[test]
fn custom_id_tag_picks_the_api_id() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let body = json!({ "name": "mine", "tags": { "_custom_id_": "myapi1" } });
    let api = cp.ok("POST", "/restapis", Some(&body));
    assert_eq!(api["id"], "myapi1", "{api}");
    assert_eq!(api["tags"]["_custom_id_"], "myapi1");
    let r = cp.call("POST", "/restapis", Some(&body));
    assert_eq!(r.status, 409, "{r}");
    assert_eq!(
        r.header("x-amzn-ErrorType").map(|t| t.split(':').next()),
        Some(Some("ConflictException"))
    );
    let v2 = cp.call(
        "POST",
        "/v2/apis",
        Some(&json!({ "name": "h", "protocolType": "HTTP", "tags": { "_custom_id_": "myapi1" } })),
    );
    assert_eq!(v2.status, 409, "{v2}");
    let v2 = cp.ok(
        "POST",
        "/v2/apis",
        Some(&json!({ "name": "h", "protocolType": "HTTP", "tags": { "_custom_id_": "myhttp1" } })),
    );
    assert_eq!(v2["apiId"], "myhttp1", "{v2}");
    let apis = cp.ok("GET", "/restapis", None);
    assert_eq!(apis["item"].as_array().map(Vec::len), Some(1), "{apis}");
}

/// LocalStack's path form `/restapis/{apiId}/{stage}/_user_request_/{path}` reaches the
/// API like `/_aws/execute-api/{apiId}/{stage}/{path}`; `$context.domainName` is the Host
/// header as sent, port included, and `domainPrefix` its first label (recorded in
/// test_apigateway_lambda: `domainName` equals the request's Host).
#[test]
fn localstack_path_form_and_domain_name() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("paths");
    let pets = cp.resource(&api, &root, "pets");
    cp.mock(
        &api,
        &pets,
        "GET",
        r#"{"path": "$context.resourcePath", "q": "$input.params('q')", "domain": "$context.domainName", "prefix": "$context.domainPrefix"}"#,
    );
    deploy_stage(&cp, &api, "dev");
    let r = Http::get(
        s.port,
        &format!("/restapis/{api}/dev/_user_request_/pets?q=1"),
    )
    .send();
    assert_eq!(r.status, 200, "{r}");
    let v = r.json();
    assert_eq!(v["path"], "/pets");
    assert_eq!(v["q"], "1");
    let host = format!("{api}.execute-api.localhost:{}", s.port);
    let r = Http::get(s.port, "/dev/pets").header("Host", &host).send();
    assert_eq!(r.status, 200, "{r}");
    let v = r.json();
    assert_eq!(v["domain"], host.as_str());
    assert_eq!(v["prefix"], api.as_str());
    // The control plane's own `/restapis/...` paths are untouched.
    let stage = cp.ok("GET", &format!("/restapis/{api}/stages/dev"), None);
    assert_eq!(stage["stageName"], "dev");
}

fn error_of(r: &Response, status: u16, error_type: &str) -> String {
    assert_eq!(r.status, status, "{r}");
    assert_eq!(
        r.header("x-amzn-ErrorType")
            .and_then(|t| t.split(':').next()),
        Some(error_type),
        "{r}"
    );
    let v = r.json();
    v["message"]
        .as_str()
        .or(v["Message"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// Recorded (test_create_rest_api_with_endpoint_configuration, _private_type,
/// _verify_defaults; test_update_rest_api_ip_address_type): enum checks come first and
/// together (types before ipAddressType), then the description, then the PRIVATE rules.
#[test]
fn endpoint_configuration_checks_in_aws_order() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let create = |body: serde_json::Value| cp.call("POST", "/restapis", Some(&body));
    let types_err =
        "Value '[wrong]' at 'createRestApiInput.endpointConfiguration.types' failed to \
                     satisfy constraint: Member must satisfy constraint: [Member must satisfy enum \
                     value set: [PRIVATE, EDGE, REGIONAL]]";
    let ip_err =
        "Value 'wrong' at 'createRestApiInput.endpointConfiguration.ipAddressType' failed \
                  to satisfy constraint: Member must satisfy enum value set: [ipv4, dualstack]";
    let r = create(
        json!({ "name": "n", "description": "", "minimumCompressionSize": -1,
        "endpointConfiguration": { "ipAddressType": "wrong", "types": ["wrong"] } }),
    );
    assert_eq!(
        error_of(&r, 400, "ValidationException"),
        format!("2 validation errors detected: {types_err}; {ip_err}")
    );
    let r = create(
        json!({ "name": "n", "endpointConfiguration": { "ipAddressType": "wrong", "types": ["PRIVATE"] } }),
    );
    assert_eq!(
        error_of(&r, 400, "ValidationException"),
        format!("1 validation error detected: {ip_err}")
    );
    let r = create(json!({ "name": "n", "description": "",
        "endpointConfiguration": { "ipAddressType": "ipv4", "types": ["PRIVATE"] } }));
    assert_eq!(
        error_of(&r, 400, "BadRequestException"),
        "Description cannot be an empty string"
    );
    let r = create(
        json!({ "name": "n", "endpointConfiguration": { "ipAddressType": "ipv4", "types": ["PRIVATE"] } }),
    );
    assert_eq!(
        error_of(&r, 400, "BadRequestException"),
        "Only dualstack ipAddressType is supported for Private APIs."
    );
    let api = cp.ok("POST", "/restapis", Some(&json!({ "name": "n" })));
    assert!(api.get("tags").is_none(), "Create answers no tags: {api}");
    let id = api["id"].as_str().unwrap();
    let patch = |ops: serde_json::Value| {
        cp.call(
            "PATCH",
            &format!("/restapis/{id}"),
            Some(&json!({ "patchOperations": ops })),
        )
    };
    let r = patch(
        json!([{ "op": "replace", "path": "/endpointConfiguration/types/0", "value": "PRIVATE" }]),
    );
    assert_eq!(r.status, 200, "{r}");
    let v = r.json();
    assert_eq!(
        v["endpointConfiguration"],
        json!({ "types": ["PRIVATE"], "ipAddressType": "dualstack" })
    );
    assert_eq!(v["tags"], json!({}), "Update always answers tags");
    let r = patch(
        json!([{ "op": "replace", "path": "/endpointConfiguration/ipAddressType", "value": "ipv4" }]),
    );
    assert_eq!(
        error_of(&r, 400, "BadRequestException"),
        "Only dualstack ipAddressType is supported for Private APIs."
    );
    let r = patch(
        json!([{ "op": "remove", "path": "/endpointConfiguration/ipAddressType", "value": "dualstack" }]),
    );
    assert_eq!(
        error_of(&r, 400, "BadRequestException"),
        "Invalid patch operation specified. Must be one of: [replace]"
    );
    let r = patch(
        json!([{ "op": "remove", "path": "/endpointConfiguration/types/0", "value": "EDGE" }]),
    );
    assert_eq!(
        error_of(&r, 400, "BadRequestException"),
        "Invalid patch operation specified. Must be 'add'|'remove'|'replace'"
    );
}

/// Recorded (test_gateway_response_put, test_gateway_response_validation): PUT replaces
/// the entry with the type's own defaults for what is not given; uncustomised types show
/// their family's customisation as `defaultResponse: true`; the enum in AWS's order.
#[test]
fn gateway_responses_default_and_inherit() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, _) = cp.create_api("gr");
    let put = |t: &str, body: serde_json::Value| {
        cp.ok(
            "PUT",
            &format!("/restapis/{api}/gatewayresponses/{t}"),
            Some(&body),
        )
    };
    let default_tpl = json!({ "application/json": "{\"message\":$context.error.messageString}" });
    let r = put(
        "MISSING_AUTHENTICATION_TOKEN",
        json!({ "statusCode": "404" }),
    );
    assert_eq!(r["responseTemplates"], default_tpl);
    let r = put(
        "MISSING_AUTHENTICATION_TOKEN",
        json!({ "responseParameters": { "gatewayresponse.header.x-a": "'b'" } }),
    );
    assert_eq!(r["statusCode"], "403", "{r}");
    assert_eq!(r["responseTemplates"], default_tpl);
    let tpl = json!({ "application/json": "{\"m\": $context.error.messageString}" });
    put(
        "DEFAULT_5XX",
        json!({ "statusCode": "599", "responseTemplates": tpl }),
    );
    let r = put(
        "AUTHORIZER_FAILURE",
        json!({ "responseParameters": { "gatewayresponse.header.foo": "'bar'" } }),
    );
    assert_eq!(
        r["statusCode"], "500",
        "an explicit PUT keeps the type's own status: {r}"
    );
    let all = cp.ok("GET", &format!("/restapis/{api}/gatewayresponses"), None);
    let item = |t: &str| {
        all["item"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["responseType"] == t)
            .cloned()
            .unwrap()
    };
    let inherited = item("INTEGRATION_TIMEOUT");
    assert_eq!(inherited["defaultResponse"], true);
    assert_eq!(inherited["statusCode"], "599");
    assert_eq!(inherited["responseTemplates"], tpl);
    assert_eq!(item("AUTHORIZER_FAILURE")["statusCode"], "500");
    assert_eq!(item("THROTTLED")["statusCode"], "429");
    assert!(item("DEFAULT_4XX").get("statusCode").is_none());
    let r = cp.call(
        "GET",
        &format!("/restapis/{api}/gatewayresponses/FAKE_TYPE"),
        None,
    );
    assert!(
        error_of(&r, 400, "ValidationException").ends_with(
            "[REQUEST_TOO_LARGE, RESOURCE_NOT_FOUND, AUTHORIZER_CONFIGURATION_ERROR, \
             MISSING_AUTHENTICATION_TOKEN, BAD_REQUEST_BODY, INVALID_SIGNATURE, INVALID_API_KEY, \
             BAD_REQUEST_PARAMETERS, AUTHORIZER_FAILURE, UNAUTHORIZED, INTEGRATION_TIMEOUT, \
             ACCESS_DENIED, DEFAULT_4XX, DEFAULT_5XX, WAF_FILTERED, QUOTA_EXCEEDED, THROTTLED, \
             API_CONFIGURATION_ERROR, UNSUPPORTED_MEDIA_TYPE, INTEGRATION_FAILURE, EXPIRED_TOKEN]"
        ),
        "{r}"
    );
}

/// Recorded (test_put_integration_wrong_type, test_put_integration_response_templates,
/// test_lifecycle_method_response, test_update_method_response): a bad integration type
/// is refused before the method is looked up; an empty or null response template is
/// null; maps given empty are answered `{}` and disappear once a patch empties them.
#[test]
fn empty_members_and_null_templates() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("members");
    let base = format!("/restapis/{api}/resources/{root}/methods/POST");
    let r = cp.call(
        "PUT",
        &format!("{base}/integration"),
        Some(&json!({ "type": "HTTPS_PROXY" })),
    );
    assert!(error_of(&r, 400, "ValidationException")
        .contains("Value 'HTTPS_PROXY' at 'putIntegrationInput.type'"));
    cp.put_method(&api, &root, "POST", json!({ "authorizationType": "NONE" }));
    cp.put_integration(
        &api,
        &root,
        "POST",
        json!({ "type": "MOCK", "requestTemplates": { "application/json": "{\"statusCode\": 200}" } }),
    );
    for template in [json!(null), json!("")] {
        let r = cp.ok(
            "PUT",
            &format!("{base}/integration/responses/200"),
            Some(&json!({ "selectionPattern": "", "responseTemplates": { "application/json": template } })),
        );
        assert_eq!(
            r["responseTemplates"],
            json!({ "application/json": null }),
            "{r}"
        );
    }
    let r = cp.ok(
        "PUT",
        &format!("{base}/responses/200"),
        Some(&json!({ "responseParameters": {}, "responseModels": {} })),
    );
    assert_eq!(
        r,
        json!({ "statusCode": "200", "responseParameters": {}, "responseModels": {} })
    );
    let got = cp.ok("GET", &format!("{base}/responses/200"), None);
    assert_eq!(got, r);
    let patch = |op: &str| {
        cp.ok(
            "PATCH",
            &format!("{base}/responses/200"),
            Some(&json!({ "patchOperations": [
                { "op": op, "path": "/responseParameters/method.response.header.my-header", "value": "true" },
                { "op": op, "path": "/responseModels/application~1json", "value": "Empty" }
            ] })),
        )
    };
    let added = patch("add");
    assert_eq!(
        added["responseParameters"]["method.response.header.my-header"],
        true
    );
    assert_eq!(patch("remove"), json!({ "statusCode": "200" }));
    // A deployment with a null template compiles and serves.
    cp.ok(
        "POST",
        &format!("/restapis/{api}/deployments"),
        Some(&json!({ "stageName": "dev" })),
    );
    let r = Http::post(s.port, &Server::exec_path(&api, "/dev/"))
        .header("content-type", "application/json")
        .body("{\"statusCode\": 200}")
        .send();
    assert_eq!(r.status, 200, "{r}");
}

/// Recorded (TestApigatewayApiKeysCrud): `limit=-1` answers 200 with no items; the
/// position is an opaque token; a description over 125000 characters is refused on
/// update as on create.
#[test]
fn api_key_listing_and_limits() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let mut ids = Vec::new();
    for name in ["k1", "k2", "k3"] {
        ids.push(str_of(
            &cp.ok("POST", "/apikeys", Some(&json!({ "name": name }))),
            "id",
        ));
    }
    let r = cp
        .request("GET", "/apikeys", &[("limit", "-1")], None)
        .json();
    assert_eq!(r, json!({ "item": [] }));
    let p1 = cp
        .request("GET", "/apikeys", &[("limit", "2")], None)
        .json();
    let pos = p1["position"].as_str().unwrap().to_string();
    assert!(!ids.contains(&pos), "the position is not an id: {pos}");
    let p2 = cp
        .request(
            "GET",
            "/apikeys",
            &[("limit", "2"), ("position", &pos)],
            None,
        )
        .json();
    assert_eq!(p2["item"].as_array().map(Vec::len), Some(1), "{p2}");
    assert!(p2.get("position").is_none());
    let long = "a".repeat(125_001);
    let r = cp.call(
        "PATCH",
        &format!("/apikeys/{}", ids[0]),
        Some(&json!({ "patchOperations": [{ "op": "replace", "path": "/description", "value": long }] })),
    );
    assert_eq!(
        error_of(&r, 400, "BadRequestException"),
        "Invalid API Key description specified."
    );
    let r = cp.ok(
        "PATCH",
        &format!("/apikeys/{}", ids[0]),
        Some(&json!({ "patchOperations": [{ "op": "replace", "path": "/enabled", "value": "not-a-boolean" }] })),
    );
    assert_eq!(r["enabled"], false);
    assert_eq!(r["tags"], json!({}));
}

/// Recorded (test_apigateway_header_remapping_http[HTTP]): a mapped `Transfer-Encoding`
/// never reaches the client (the gateway frames the body), `TE` passes, `Connection` and
/// `Server` are remapped.
#[test]
fn mapped_hop_by_hop_headers_are_dropped_or_remapped() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("hop");
    let names = ["Transfer-Encoding", "TE", "Connection", "Server"];
    cp.put_method(&api, &root, "GET", json!({ "authorizationType": "NONE" }));
    cp.put_integration(
        &api,
        &root,
        "GET",
        json!({ "type": "MOCK", "requestTemplates": { "application/json": "{\"statusCode\": 200}" } }),
    );
    let declared: serde_json::Map<String, serde_json::Value> = names
        .iter()
        .map(|n| (format!("method.response.header.{n}"), json!(false)))
        .collect();
    cp.ok(
        "PUT",
        &format!("/restapis/{api}/resources/{root}/methods/GET/responses/200"),
        Some(&json!({ "responseParameters": declared })),
    );
    let mapped: serde_json::Map<String, serde_json::Value> = names
        .iter()
        .map(|n| {
            (
                format!("method.response.header.{n}"),
                json!(format!("'response_param_{n}'")),
            )
        })
        .collect();
    cp.put_integration_response(
        &api,
        &root,
        "GET",
        "200",
        json!({ "responseParameters": mapped, "responseTemplates": { "application/json": "{\"ok\": true}" } }),
    );
    deploy_stage(&cp, &api, "dev");
    let r = s.invoke(&api, "/dev/");
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.json(), json!({ "ok": true }));
    for te in r.headers_named("transfer-encoding") {
        assert_eq!(te, "chunked", "{r}");
    }
    assert_eq!(r.header("te"), Some("response_param_TE"), "{r}");
    assert_eq!(
        r.header("x-amzn-remapped-connection"),
        Some("response_param_Connection"),
        "{r}"
    );
    assert_eq!(
        r.header("x-amzn-remapped-server"),
        Some("response_param_Server"),
        "{r}"
    );
}

/// Recorded (test_integration_mock_with_request_overrides_in_response_template,
/// test_integration_mock_with_response_override_in_request_template[True|False]): what a
/// MOCK request template sets in `$context.requestOverride` / `responseOverride` is read
/// by the response template, and a response override applies even without one.
#[test]
fn mock_request_template_overrides_reach_the_response() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("overrides");
    let res = cp.resource(&api, &root, "{testPath}");
    cp.put_method(
        &api,
        &res,
        "GET",
        json!({ "authorizationType": "NONE", "requestParameters": { "method.request.path.testPath": true } }),
    );
    cp.put_method_response(&api, &res, "GET", "200");
    let req = "#set($body = $util.base64Decode($input.params('testPath')))\n    #set($context.requestOverride.path.body = $body)\n    {\n      \"statusCode\": 200\n    }\n";
    cp.put_integration(
        &api,
        &res,
        "GET",
        json!({ "type": "MOCK", "requestTemplates": { "application/json": req } }),
    );
    let resp = "\n#set($body = $util.parseJson($context.requestOverride.path.body))\n#set($inputBody = $body.message)\n#if($inputBody == \"path1\")\n{\n   \"response\": \"path was path one\"\n}\n#elseif($inputBody == \"path2\")\n{\n   \"response\": \"path was path two\"\n}\n#else\n{\n  \"response\": \"this is the else clause\"\n}\n#end\n";
    cp.put_integration_response(
        &api,
        &res,
        "GET",
        "200",
        json!({ "selectionPattern": "2\\d{2}", "responseTemplates": { "application/json": resp } }),
    );
    let req2 = "\n#set($context.responseOverride.status = 444)\n#set($context.responseOverride.header.foo = \"bar\")\n#set($context.responseOverride.custom = \"is also passed around\")\n{\n  \"statusCode\": 200\n}\n";
    let resp2 = "\n#set($statusOverride = $context.responseOverride.status)\n#set($fooHeader = $context.responseOverride.header.foo)\n#set($custom = $context.responseOverride.custom)\n{\n    \"statusOverride\": \"$statusOverride\",\n    \"fooHeader\": \"$fooHeader\",\n    \"custom\": \"$custom\"\n}\n";
    for (part, with_template) in [("with", true), ("without", false)] {
        let r = cp.resource(&api, &root, part);
        cp.put_method(&api, &r, "GET", json!({ "authorizationType": "NONE" }));
        cp.put_method_response(&api, &r, "GET", "200");
        cp.put_integration(
            &api,
            &r,
            "GET",
            json!({ "type": "MOCK", "requestTemplates": { "application/json": req2 } }),
        );
        let templates = if with_template {
            json!({ "application/json": resp2 })
        } else {
            json!({})
        };
        cp.put_integration_response(
            &api,
            &r,
            "GET",
            "200",
            json!({ "selectionPattern": "2\\d{2}", "responseTemplates": templates }),
        );
    }
    deploy_stage(&cp, &api, "dev");
    for (message, want) in [
        ("path1", "path was path one"),
        ("path2", "path was path two"),
        ("whatever", "this is the else clause"),
    ] {
        use base64::Engine;
        let seg = base64::engine::general_purpose::STANDARD
            .encode(format!("{{\"message\": \"{message}\"}}"));
        let r = s.invoke(&api, &format!("/dev/{seg}"));
        assert_eq!(r.status, 200, "{r}");
        assert_eq!(r.json(), json!({ "response": want }), "{message}");
    }
    let r = s.invoke(&api, "/dev/with");
    assert_eq!(r.status, 444, "{r}");
    assert_eq!(r.header("foo"), Some("bar"));
    assert_eq!(
        r.json(),
        json!({ "statusOverride": "444", "fooHeader": "bar", "custom": "is also passed around" })
    );
    let r = s.invoke(&api, "/dev/without");
    assert_eq!(r.status, 444, "{r}");
    assert_eq!(r.header("foo"), Some("bar"));
    assert!(r.body.is_empty(), "{r}");
}

/// Recorded (test_create_canary_deployment_by_stage_update,
/// test_update_stage_canary_deployment_validation, test_update_stage_with_copy_ops):
/// `replace` of a canary's deployment or traffic starts a canary when the stage has none;
/// a `remove` under `/canarySettings` is read as a method setting's; promotion by `copy`
/// merges the variables and keeps the canary.
#[test]
fn canary_settings_through_update_stage() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("canary");
    cp.mock(&api, &root, "GET", "{\"ok\": true}");
    let deploy = |body: serde_json::Value| {
        str_of(
            &cp.ok("POST", &format!("/restapis/{api}/deployments"), Some(&body)),
            "id",
        )
    };
    let d1 = deploy(
        json!({ "stageName": "dev", "variables": { "testVar": "test", "testVar2": "test2" } }),
    );
    let d2 = deploy(json!({}));
    let stage = format!("/restapis/{api}/stages/dev");
    let patch =
        |ops: serde_json::Value| cp.call("PATCH", &stage, Some(&json!({ "patchOperations": ops })));
    let r =
        patch(json!([{ "op": "replace", "path": "/canarySettings/deploymentId", "value": d2 }]));
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(
        r.json()["canarySettings"],
        json!({ "deploymentId": d2, "percentTraffic": 0.0, "useStageCache": false })
    );
    assert_eq!(
        patch(json!([{ "op": "remove", "path": "/canarySettings" }])).status,
        200
    );
    let r = patch(
        json!([{ "op": "replace", "path": "/canarySettings/percentTraffic", "value": "50" }]),
    );
    assert_eq!(
        r.json()["canarySettings"],
        json!({ "deploymentId": d1, "percentTraffic": 50.0, "useStageCache": false }),
        "a new canary starts on the stage's own deployment"
    );
    for path in [
        "/canarySettings/stageVariableOverrides",
        "/canarySettings/badPath",
    ] {
        let r = patch(json!([{ "op": "remove", "path": path }]));
        let key = path.trim_start_matches('/');
        assert_eq!(
            error_of(&r, 400, "BadRequestException"),
            format!("Cannot remove method setting {key} because there is no method setting for this method ")
        );
    }
    let r = patch(json!([{ "op": "replace", "path": "/canarySettings/badPath", "value": "x" }]));
    assert!(error_of(&r, 400, "BadRequestException").starts_with(
        "Invalid method setting path: /canarySettings/badPath. Must be one of: [/deploymentId,"
    ));
    // Promotion: the canary's deployment and overrides become the stage's; the variables
    // are merged and the canary stays.
    deploy(
        json!({ "stageName": "dev", "canarySettings": { "percentTraffic": 50, "stageVariableOverrides": { "testVar": "override" } } }),
    );
    let promoted = patch(json!([
        { "op": "replace", "value": "0.0", "path": "/canarySettings/percentTraffic" },
        { "op": "copy", "from": "/canarySettings/deploymentId", "path": "/deploymentId" },
        { "op": "copy", "from": "/canarySettings/stageVariableOverrides", "path": "/variables" }
    ]));
    assert_eq!(promoted.status, 200, "{promoted}");
    let st = promoted.json();
    assert_ne!(st["deploymentId"], json!(d1));
    assert_eq!(st["deploymentId"], st["canarySettings"]["deploymentId"]);
    assert_eq!(
        st["variables"],
        json!({ "testVar": "override", "testVar2": "test2" })
    );
    assert_eq!(st["canarySettings"]["percentTraffic"], 0.0);
    assert_eq!(
        st["canarySettings"]["stageVariableOverrides"],
        json!({ "testVar": "override" })
    );
}

/// Recorded (test_invoke_test_method, test_failed_invoke_test_method): TestInvokeMethod
/// runs the resource's method whatever `pathWithQueryString` says (no path: the template,
/// its parameters literal; a path that does not fit: no parameters), an `ANY` method
/// invoked as GET works, and the log is AWS's: stamped lines, Java-style maps.
#[test]
fn test_invoke_method_runs_the_resource_and_logs_as_aws() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("aws lambda api");
    let pets = cp.resource(&api, &root, "pets");
    let pet = cp.resource(&api, &pets, "{petId}");
    cp.mock(&api, &pets, "GET", "{\"pets\": \"all the pets\"}");
    cp.mock(&api, &pet, "GET", "{\"petId\": \"$input.params('petId')\"}");
    cp.mock(&api, &root, "ANY", "{\"any\": true}");
    let invoke = |res: &str, verb: &str, body: serde_json::Value| {
        cp.ok(
            "POST",
            &format!("/restapis/{api}/resources/{res}/methods/{verb}"),
            Some(&body),
        )
    };
    // `Mon Sep 29 19:28:50 UTC 2025 : ` before every line but the first.
    let unstamp = |l: &str| -> String {
        let (stamp, rest) = l.split_at(l.find(" : ").unwrap_or_else(|| panic!("unstamped {l:?}")));
        let f: Vec<&str> = stamp.split(' ').collect();
        assert!(
            f.len() == 6
                && f[0].len() == 3
                && f[1].len() == 3
                && f[2].len() == 2
                && f[3].len() == 8
                && f[4] == "UTC"
                && f[5].len() == 4,
            "not Java's Date format: {stamp:?}"
        );
        rest[3..].to_string()
    };
    let lines = |ti: &serde_json::Value| -> Vec<String> {
        let log = ti["log"].as_str().unwrap();
        assert!(log.ends_with('\n'), "{log}");
        let mut out: Vec<String> = log.lines().map(str::to_string).collect();
        assert!(out[0].starts_with("Execution log for request "), "{log}");
        for l in &mut out[1..] {
            *l = unstamp(l);
        }
        out
    };

    let ti = invoke(
        &pet,
        "GET",
        json!({ "pathWithQueryString": "/pets/123?foo=bar", "body": "" }),
    );
    assert_eq!(ti["status"], 200);
    assert_eq!(ti["body"], "{\"petId\": \"123\"}");
    assert_eq!(ti["headers"], json!({ "Content-Type": "application/json" }));
    let l = lines(&ti);
    assert_eq!(l[2], "HTTP Method: GET, Resource Path: /pets/123");
    assert_eq!(l[3], "Method request path: {petId=123}");
    assert_eq!(l[4], "Method request query string: {foo=bar}");
    assert_eq!(l[5], "Method request headers: {}");
    assert_eq!(l[6], "Method request body before transformations: ");
    assert_eq!(
        l[8],
        "Method response headers: {Content-Type=application/json}"
    );
    assert_eq!(l[9], "Successfully completed execution");
    assert_eq!(l[10], "Method completed with status: 200");

    let ti = invoke(&pet, "GET", json!({ "body": "" }));
    assert_eq!(ti["body"], "{\"petId\": \"{petId}\"}");
    assert_eq!(lines(&ti)[3], "Method request path: {petId={petId}}");
    let ti = invoke(
        &pet,
        "GET",
        json!({ "pathWithQueryString": "/random/test" }),
    );
    assert_eq!(
        (ti["status"].clone(), ti["body"].clone()),
        (json!(200), json!("{\"petId\": \"\"}"))
    );
    let ti = invoke(
        &pets,
        "GET",
        json!({ "pathWithQueryString": "/random/test" }),
    );
    assert_eq!(ti["body"], "{\"pets\": \"all the pets\"}");
    let ti = invoke(&root, "GET", json!({}));
    assert_eq!(
        (ti["status"].clone(), ti["body"].clone()),
        (json!(200), json!("{\"any\": true}"))
    );
    assert_eq!(lines(&ti)[2], "HTTP Method: GET, Resource Path: /");
    let r = cp.call(
        "POST",
        &format!("/restapis/{api}/resources/{pet}/methods/HEAD"),
        Some(&json!({})),
    );
    assert_eq!(
        error_of(&r, 404, "NotFoundException"),
        "Invalid Method identifier specified"
    );
}

/// Recorded (test_put_integration_validation, test_error_aws_proxy_not_supported): an
/// `AWS`/`AWS_PROXY` URI must be an API Gateway service ARN with a path or action, and
/// `AWS_PROXY` invokes Lambda functions (the `lambda:path//2015-03-31` form too, which
/// names the same function: `tollgate_model::authorizer` tests) or Firehose streams only.
#[test]
fn aws_integration_uris_are_checked_as_aws_checks_them() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("aws uris");
    cp.put_method(&api, &root, "GET", json!({ "authorizationType": "NONE" }));
    let put = |kind: &str, uri: &str| {
        cp.call(
            "PUT",
            &format!("/restapis/{api}/resources/{root}/methods/GET/integration"),
            Some(&json!({ "type": kind, "httpMethod": "POST", "uri": uri })),
        )
    };
    let lambda = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:MyLambda/invocations";
    for (kind, uri, message) in [
        ("AWS", "non-valid-arn", "Invalid ARN specified in the request"),
        (
            "AWS",
            "arn:aws:iam::0000000000:role/service-role/asdf",
            "AWS ARN for integration must contain path or action",
        ),
        (
            "AWS_PROXY",
            "arn:aws:lambda:us-east-1:000000000000:function:MyLambda",
            "AWS ARN for integration must contain path or action",
        ),
        (
            "AWS_PROXY",
            "arn:aws:apigateway:us-east-1:s3:path/b/k",
            "Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations.",
        ),
        (
            "AWS_PROXY",
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/not:an:arn:at:all/invocations",
            "Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations.",
        ),
    ] {
        let r = put(kind, uri);
        assert_eq!(error_of(&r, 400, "BadRequestException"), message, "{kind} {uri}");
    }
    for (kind, uri) in [
        ("AWS", "arn:aws:apigateway:us-east-1:s3:path/b/k"),
        ("AWS", lambda),
        ("AWS_PROXY", lambda),
        ("AWS_PROXY", &lambda.replace("path/2015", "path//2015")),
    ] {
        let r = put(kind, uri);
        assert_eq!(r.status, 201, "{kind} {uri}: {}", r.text());
    }
    // Nothing refused was stored: the last accepted integration stands.
    let got = cp.ok(
        "GET",
        &format!("/restapis/{api}/resources/{root}/methods/GET/integration"),
        None,
    );
    assert_eq!(got["uri"], lambda.replace("path/2015", "path//2015"));
}

/// Recorded (test_update_method_lack_response_parameters_and_models,
/// test_delete_integration_response_errors, test_integration_response_invalid_integration,
/// test_integration_response_wrong_status_code, test_model_validation, test_update_model):
/// what is addressed must exist before its values are looked at, with AWS's messages.
#[test]
fn missing_things_are_named_before_values_are_checked() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("precedence");
    cp.put_method(&api, &root, "GET", json!({ "authorizationType": "NONE" }));
    cp.put_method_response(&api, &root, "GET", "200");
    let method = format!("/restapis/{api}/resources/{root}/methods");
    let patch = |path: &str, ops: serde_json::Value| {
        cp.call("PATCH", path, Some(&json!({ "patchOperations": ops })))
    };
    let r = patch(
        &format!("{method}/GET/responses/200"),
        json!([{ "op": "remove", "path": "/responseModels/application~1json" }]),
    );
    assert_eq!(
        error_of(&r, 404, "NotFoundException"),
        "Content-Type specified was not found"
    );
    let r = patch(
        &format!("{method}/GET/responses/200"),
        json!([{ "op": "remove", "path": "/responseParameters/method.response.header.my-header" }]),
    );
    assert_eq!(
        error_of(&r, 404, "NotFoundException"),
        "Invalid parameter name specified"
    );
    let r = patch(
        &format!("{method}/GET/responses/200"),
        json!([{ "op": "add", "path": "/wrong/method.response.header.my-header", "value": "true" }]),
    );
    assert_eq!(
        error_of(&r, 400, "BadRequestException"),
        "Invalid patch path /wrong/method.response.header.my-header"
    );

    // Integration responses: the integration first, then the status code.
    for (verb, path) in [
        ("GET", format!("{method}/GET/integration/responses/200")),
        ("DELETE", format!("{method}/GET/integration/responses/200")),
        ("DELETE", format!("{method}/POST/integration/responses/200")),
        (
            "DELETE",
            format!("{method}/WRONG/integration/responses/200"),
        ),
    ] {
        let r = cp.call(verb, &path, None);
        assert_eq!(
            error_of(&r, 404, "NotFoundException"),
            "Invalid Integration identifier specified",
            "{verb} {path}"
        );
    }
    cp.put_integration(&api, &root, "GET", json!({ "type": "MOCK" }));
    for verb in ["GET", "DELETE"] {
        let r = cp.call(
            verb,
            &format!("{method}/GET/integration/responses/404"),
            None,
        );
        assert_eq!(
            error_of(&r, 404, "NotFoundException"),
            "Invalid Response status code specified"
        );
    }

    // Models by name, whatever else the call says.
    let model = format!("/restapis/{api}/models/MySchema");
    for r in [
        cp.call("GET", &model, None),
        cp.call("DELETE", &model, None),
        patch(
            &model,
            json!([{ "op": "replace", "path": "/name", "value": "x" }]),
        ),
    ] {
        assert_eq!(
            error_of(&r, 404, "NotFoundException"),
            "Invalid model name specified: MySchema"
        );
    }
}
