//! Request validation end to end (request-pipeline.md §2 stage 9, control-plane-v1.md §5.8,
//! §5.9): an API built with the real aws CLI (models with a `$ref`, a request validator,
//! required parameters, a customised BAD_REQUEST_BODY), deployed, then called over HTTP.
//! Control-plane messages are the ones recorded against AWS
//! (TestApiGatewayApiRequestValidator, test_put_method_validation).

mod common;

use common::*;
use serde_json::json;

fn s(v: &serde_json::Value, key: &str) -> String {
    str_of(v, key)
}

/// `apigateway {op} --rest-api-id {api} {rest...}`
fn on_api<'a>(op: &'a str, api: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["apigateway", op, "--rest-api-id", api];
    v.extend_from_slice(rest);
    v
}

/// `aws apigateway {op} --rest-api-id {api} {rest...}`, which must succeed.
fn apigw_on(srv: &Server, op: &str, api: &str, rest: &[&str]) -> serde_json::Value {
    apigw(srv, &on_api(op, api, rest)[1..])
}

/// `aws apigateway {op} --rest-api-id {api} {rest...}`, which must fail.
fn apigw_on_err(srv: &Server, op: &str, api: &str, rest: &[&str]) -> AwsError {
    apigw_err(srv, &on_api(op, api, rest)[1..])
}

/// `aws apigateway create-model` of a JSON model.
fn create_model(
    srv: &Server,
    api: &str,
    name: &str,
    schema: &str,
) -> Result<serde_json::Value, AwsError> {
    let args = [
        "--name",
        name,
        "--content-type",
        "application/json",
        "--schema",
        schema,
    ];
    aws(srv, &on_api("create-model", api, &args))
}

/// `apigateway {op} --rest-api-id {api} --resource-id {res} --http-method {verb} {rest...}`
fn on_method<'a>(
    op: &'a str,
    api: &'a str,
    (res, verb): (&'a str, &'a str),
    rest: &[&'a str],
) -> Vec<&'a str> {
    let mut v = on_api(op, api, &["--resource-id", res, "--http-method", verb]);
    v.extend_from_slice(rest);
    v
}

#[test]
fn request_validator_lifecycle_and_errors() {
    let srv = Server::start();
    let api = s(
        &apigw(&srv, &["create-rest-api", "--name", "validators"]),
        "id",
    );

    let created = apigw_on(
        &srv,
        "create-request-validator",
        &api,
        &["--name", "body-only", "--validate-request-body"],
    );
    let id = s(&created, "id");
    assert_eq!(id.len(), 6, "{created:#}");
    assert_eq!(
        created,
        json!({ "id": id, "name": "body-only", "validateRequestBody": true, "validateRequestParameters": false })
    );
    let listed = apigw(&srv, &["get-request-validators", "--rest-api-id", &api]);
    assert_eq!(listed["items"], json!([created]));

    // Recorded: replace with a value sets it, replace without one clears it.
    let updated = apigw_on(
        &srv,
        "update-request-validator",
        &api,
        &[
            "--request-validator-id",
            &id,
            "--patch-operations",
            "op=replace,path=/validateRequestParameters,value=true",
            "op=replace,path=/validateRequestBody",
            "op=replace,path=/name,value=params-only",
        ],
    );
    assert_eq!(
        updated,
        json!({ "id": id, "name": "params-only", "validateRequestBody": false, "validateRequestParameters": true })
    );
    let get = || {
        apigw_on(
            &srv,
            "get-request-validator",
            &api,
            &["--request-validator-id", &id],
        )
    };
    assert_eq!(get(), updated);

    let patch_err = |op: &str| {
        apigw_on_err(
            &srv,
            "update-request-validator",
            &api,
            &["--request-validator-id", &id, "--patch-operations", op],
        )
    };
    assert_cli_error(
        &patch_err("op=add,path=/validateRequestBody,value=true"),
        "BadRequestException",
        "Invalid patch path  '/validateRequestBody' specified for op 'add'. Please choose supported operations",
    );
    assert_cli_error(
        &patch_err("op=replace,path=/invalidPath,value=x"),
        "BadRequestException",
        "Invalid patch path  '/invalidPath' specified for op 'replace'. Must be one of: [/name, /validateRequestParameters, /validateRequestBody]",
    );
    assert_cli_error(
        &patch_err("op=replace,path=/name,value="),
        "BadRequestException",
        "Request Validator name cannot be blank",
    );
    // The refused patches changed nothing.
    assert_eq!(get(), updated);

    assert_cli_error(
        &apigw_err(
            &srv,
            &[
                "create-request-validator",
                "--rest-api-id",
                "nosuchapi1",
                "--name",
                "x",
            ],
        ),
        "BadRequestException",
        "Invalid REST API identifier specified",
    );
    assert_cli_error(
        &apigw_err(
            &srv,
            &["get-request-validators", "--rest-api-id", "nosuchapi1"],
        ),
        "NotFoundException",
        "Invalid API identifier specified 000000000000:nosuchapi1",
    );
    for (a, v) in [(api.as_str(), "nope12"), ("nosuchapi1", id.as_str())] {
        for op in ["get-request-validator", "delete-request-validator"] {
            assert_cli_error(
                &apigw_err(&srv, &[op, "--rest-api-id", a, "--request-validator-id", v]),
                "NotFoundException",
                "Invalid Request Validator identifier specified",
            );
        }
    }

    // A method may only name a validator of its API.
    let root = s(
        &apigw(&srv, &["get-resources", "--rest-api-id", &api])["items"][0],
        "id",
    );
    let unknown = "Invalid Request Validator identifier specified";
    let put = |validator: &str| {
        aws(
            &srv,
            &on_method(
                "put-method",
                &api,
                (&root, "GET"),
                &[
                    "--authorization-type",
                    "NONE",
                    "--request-validator-id",
                    validator,
                ],
            ),
        )
    };
    let set = |validator: &str| {
        let op = format!("op=replace,path=/requestValidatorId,value={validator}");
        aws(
            &srv,
            &on_method(
                "update-method",
                &api,
                (&root, "GET"),
                &["--patch-operations", &op],
            ),
        )
    };
    assert_cli_error(&put("nope12").unwrap_err(), "BadRequestException", unknown);
    put(&id).unwrap();
    assert_cli_error(&set("nope12").unwrap_err(), "BadRequestException", unknown);
    // In use: the delete is refused; once the method lets go, it succeeds.
    let delete = || {
        aws(
            &srv,
            &on_api(
                "delete-request-validator",
                &api,
                &["--request-validator-id", &id],
            ),
        )
    };
    assert_cli_error(
        &delete().unwrap_err(),
        "ConflictException",
        &format!("Cannot delete request validator '{id}', is referenced in method request: //GET"),
    );
    set("").unwrap();
    delete().unwrap();
    let empty = apigw(&srv, &["get-request-validators", "--rest-api-id", &api]);
    assert_eq!(empty["items"], json!([]), "{empty:#}");
}

#[test]
fn models_are_checked_when_saved_and_have_templates() {
    let srv = Server::start();
    let api = s(&apigw(&srv, &["create-rest-api", "--name", "models"]), "id");
    let create = |name: &str, schema: &str| create_model(&srv, &api, name, schema);
    let e = create("Broken", "{\"type\": \"object\"").unwrap_err();
    assert_cli_error(
        &e,
        "BadRequestException",
        "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified]",
    );
    let e = create(
        "Loose",
        r#"{"type": "object", "properties": {"a": {"$ref": "Pet"}}}"#,
    )
    .unwrap_err();
    assert_cli_error(
        &e,
        "BadRequestException",
        "Invalid model specified: Validation Result: warnings : [], errors : [Model reference must be in canonical form]",
    );
    let names: Vec<String> = apigw(&srv, &["get-models", "--rest-api-id", &api])["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| s(m, "name"))
        .collect();
    assert_eq!(
        names,
        vec!["Empty", "Error"],
        "refused models were not saved"
    );

    create(
        "Pets",
        r#"{"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}}"#,
    )
    .unwrap();
    let t = apigw_on(&srv, "get-model-template", &api, &["--model-name", "Pets"]);
    assert_eq!(
        t["value"],
        "#set($inputRoot = $input.path('$'))\n[\n#foreach($elem in $inputRoot)\n  {\n    \"id\" : $elem.id,\n    \"name\" : \"$elem.name\"\n  }#if($foreach.hasNext),#end\n#end\n]"
    );
    let t = apigw_on(&srv, "get-model-template", &api, &["--model-name", "Error"]);
    assert_eq!(
        t["value"],
        "#set($inputRoot = $input.path('$'))\n{\n  \"message\" : \"$inputRoot.message\"\n}"
    );
}

/// The whole feature through the aws CLI and HTTP: parameters, body, `$ref`, a customised
/// BAD_REQUEST_BODY with `$context.error.validationErrorString`, and a validator change
/// taking effect with the next deployment.
#[test]
fn requests_are_validated_end_to_end() {
    let srv = Server::start();
    let api = s(&apigw(&srv, &["create-rest-api", "--name", "shop"]), "id");
    let root = s(
        &apigw(&srv, &["get-resources", "--rest-api-id", &api])["items"][0],
        "id",
    );
    let owner_schema = json!({
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "object",
        "required": ["email"],
        "properties": { "email": { "type": "string", "minLength": 3 } }
    });
    let pet_schema = json!({
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": "Pet",
        "type": "object",
        "required": ["name", "price"],
        "properties": {
            "name": { "type": "string" },
            "price": { "type": "number", "minimum": 1 },
            "owner": { "$ref": format!("https://apigateway.amazonaws.com/restapis/{api}/models/Owner") }
        }
    });
    for (name, schema) in [("Owner", &owner_schema), ("Pet", &pet_schema)] {
        create_model(&srv, &api, name, &schema.to_string()).unwrap();
    }
    let validator = s(
        &apigw_on(
            &srv,
            "create-request-validator",
            &api,
            &[
                "--name",
                "all",
                "--validate-request-body",
                "--validate-request-parameters",
            ],
        ),
        "id",
    );
    let pets = s(
        &apigw_on(
            &srv,
            "create-resource",
            &api,
            &["--parent-id", &root, "--path-part", "pets"],
        ),
        "id",
    );
    let method = apigw(
        &srv,
        &on_method(
            "put-method",
            &api,
            (&pets, "POST"),
            &[
                "--authorization-type",
                "NONE",
                "--request-validator-id",
                &validator,
                "--request-models",
                r#"{"application/json": "Pet"}"#,
                "--request-parameters",
                r#"{"method.request.querystring.store": true, "method.request.header.x-tenant": true, "method.request.querystring.note": false}"#,
            ],
        )[1..],
    );
    assert_eq!(method["requestValidatorId"], validator.as_str());
    assert_eq!(
        method["requestModels"],
        json!({ "application/json": "Pet" })
    );
    apigw(
        &srv,
        &on_method(
            "put-integration",
            &api,
            (&pets, "POST"),
            &[
                "--type",
                "MOCK",
                "--request-templates",
                r#"{"application/json": "{\"statusCode\": 200}"}"#,
            ],
        )[1..],
    );
    apigw(
        &srv,
        &on_method(
            "put-method-response",
            &api,
            (&pets, "POST"),
            &["--status-code", "200"],
        )[1..],
    );
    apigw(
        &srv,
        &on_method(
            "put-integration-response",
            &api,
            (&pets, "POST"),
            &[
                "--status-code",
                "200",
                "--response-templates",
                r#"{"application/json": "{\"created\": true}"}"#,
            ],
        )[1..],
    );
    apigw_on(
        &srv,
        "put-gateway-response",
        &api,
        &[
            "--response-type",
            "BAD_REQUEST_BODY",
            "--status-code",
            "422",
            "--response-parameters",
            r#"{"gatewayresponse.header.X-Validation": "'failed'"}"#,
            "--response-templates",
            r#"{"application/json": "{\"error\": \"$context.error.message\", \"type\": \"$context.error.responseType\", \"details\": $context.error.validationErrorString}"}"#,
        ],
    );
    // A model in use cannot be deleted (AWS's recorded message).
    assert_cli_error(
        &apigw_on_err(&srv, "delete-model", &api, &["--model-name", "Pet"]),
        "ConflictException",
        "Cannot delete model 'Pet', is referenced in method request: /pets/POST",
    );
    apigw_on(&srv, "create-deployment", &api, &["--stage-name", "dev"]);

    let post = |query: &str, headers: &[(&str, &str)], body: &str| {
        let mut req = Http::post(
            srv.port,
            &Server::exec_path(&api, &format!("/dev/pets{query}")),
        );
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.body(body.as_bytes().to_vec()).send()
    };
    let json_ct = ("Content-Type", "application/json");
    let tenant = ("x-tenant", "t1");

    // Valid: parameters present, body matches Pet and (through $ref) Owner.
    let ok = post(
        "?store=main",
        &[json_ct, tenant],
        r#"{"name": "Rex", "price": 12, "owner": {"email": "a@b.c"}}"#,
    );
    assert_eq!(ok.status, 200, "{ok}");
    assert_eq!(ok.text(), r#"{"created": true}"#);

    // Missing parameters, listed in key order (header before querystring); checked before
    // the body, and answered with the default BAD_REQUEST_PARAMETERS response.
    let missing = post("", &[json_ct], "not even json");
    assert_eq!(missing.status, 400, "{missing}");
    assert_eq!(
        missing.text(),
        r#"{"message":"Missing required request parameters: [x-tenant, store]"}"#
    );
    assert_eq!(
        missing.header("x-amzn-ErrorType"),
        Some("BadRequestException")
    );
    assert_eq!(missing.header("X-Validation"), None);
    // A blank value is missing too.
    let blank = post("?store=", &[json_ct, tenant], "{}");
    assert_eq!(
        blank.text(),
        r#"{"message":"Missing required request parameters: [store]"}"#
    );

    // Invalid body: the customised response, with the validator's details. The nested
    // model's violation is reported as well.
    let invalid = post(
        "?store=main",
        &[json_ct, tenant],
        r#"{"name": "Rex", "price": 0, "owner": {"email": "x"}}"#,
    );
    assert_eq!(invalid.status, 422, "{invalid}");
    assert_eq!(invalid.header("X-Validation"), Some("failed"));
    assert_eq!(
        invalid.header("x-amzn-ErrorType"),
        Some("BadRequestException")
    );
    assert_eq!(
        invalid.text(),
        r#"{"error": "Invalid request body", "type": "BAD_REQUEST_BODY", "details": [numeric instance is lower than the required minimum (minimum: 1, found: 0), string "x" is too short (length: 1, required minimum: 3)]}"#
    );
    // No Content-Type is application/json: still validated.
    let no_ct = post("?store=main", &[tenant], r#"{"name": "Rex"}"#);
    assert_eq!(no_ct.status, 422, "{no_ct}");
    assert_eq!(
        no_ct.text(),
        r#"{"error": "Invalid request body", "type": "BAD_REQUEST_BODY", "details": [object has missing required properties (["price"])]}"#
    );
    // A body that is not JSON fails the JSON model.
    let not_json = post("?store=main", &[json_ct, tenant], "name=Rex&price=3");
    assert_eq!(not_json.status, 422, "{not_json}");
    let text = not_json.text();
    assert!(
        text.starts_with(
            r#"{"error": "Invalid request body", "type": "BAD_REQUEST_BODY", "details": [Invalid JSON in request body: "#
        ),
        "{text}"
    );

    // Body validation switched off: takes effect with the next deployment only.
    apigw_on(
        &srv,
        "update-request-validator",
        &api,
        &[
            "--request-validator-id",
            &validator,
            "--patch-operations",
            "op=replace,path=/validateRequestBody,value=false",
        ],
    );
    let still = post("?store=main", &[json_ct, tenant], r#"{"name": "Rex"}"#);
    assert_eq!(
        still.status, 422,
        "the deployed snapshot still validates: {still}"
    );
    apigw_on(&srv, "create-deployment", &api, &["--stage-name", "dev"]);
    let passes = post("?store=main", &[json_ct, tenant], r#"{"name": "Rex"}"#);
    assert_eq!(passes.status, 200, "{passes}");
    let params_still = post("", &[json_ct, tenant], r#"{"name": "Rex"}"#);
    assert_eq!(
        params_still.text(),
        r#"{"message":"Missing required request parameters: [store]"}"#
    );
}
