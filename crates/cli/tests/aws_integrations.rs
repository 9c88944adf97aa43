//! REST `AWS` service integrations end to end against moto's server (issue 19): S3 objects
//! put and read back through the API (binary bodies), SQS SendMessage built by a mapping
//! template, DynamoDB PutItem and Query, a service error mapped by a selection pattern,
//! and an unreachable endpoint.

mod common;

use std::sync::Arc;

use common::moto::Moto;
use common::*;
use serde_json::{json, Value};

/// `verb` on `res`: an `AWS` integration to `uri` with `extra` members, a 200 method
/// response and a default integration response.
fn aws_method(cp: &Cp, api: &str, res: &str, verb: &str, uri: &str, extra: Value) {
    let mut method = json!({ "authorizationType": "NONE" });
    if let Some(p) = extra.get("methodParameters") {
        method["requestParameters"] = p.clone();
    }
    cp.put_method(api, res, verb, method);
    let mut integration = json!({ "type": "AWS", "httpMethod": verb, "uri": uri });
    for (k, v) in extra.as_object().unwrap() {
        if k != "methodParameters" {
            integration[k] = v.clone();
        }
    }
    cp.put_integration(api, res, verb, integration);
    cp.put_method_response(api, res, verb, "200");
    cp.put_integration_response(api, res, verb, "200", json!({}));
}

#[test]
fn s3_objects_are_put_and_read_back_byte_for_byte() {
    let moto = Moto::start();
    moto.aws(&["s3api", "create-bucket", "--bucket", "tollgate-photos"]);
    let s = moto.server();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("s3");
    cp.ok(
        "PATCH",
        &format!("/restapis/{api}"),
        Some(&json!({ "patchOperations": [
            { "op": "add", "path": "/binaryMediaTypes/application~1octet-stream" }
        ] })),
    );
    let item = cp.resource(&api, &root, "{key}");
    let uri = "arn:aws:apigateway:us-east-1:s3:path/tollgate-photos/{key}";
    let mappings = json!({
        "methodParameters": { "method.request.path.key": true },
        "requestParameters": {
            "integration.request.path.key": "method.request.path.key",
            "integration.request.header.Content-Type": "'application/octet-stream'"
        }
    });
    aws_method(&cp, &api, &item, "PUT", uri, mappings.clone());
    aws_method(&cp, &api, &item, "GET", uri, mappings);
    cp.deploy(&api, "dev");

    let bytes: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    let put = Http::new(s.port, "PUT", &Server::exec_path(&api, "/dev/photo.bin"))
        .header("Content-Type", "application/octet-stream")
        .body(bytes.clone())
        .send();
    assert_eq!(put.status, 200, "{put}\n{}", s.stderr());

    // moto holds exactly the bytes sent.
    let head = moto.aws(&[
        "s3api",
        "head-object",
        "--bucket",
        "tollgate-photos",
        "--key",
        "photo.bin",
    ]);
    assert_eq!(head["ContentLength"], json!(bytes.len()), "{head}");

    let got = Http::get(s.port, &Server::exec_path(&api, "/dev/photo.bin"))
        .header("Accept", "application/octet-stream")
        .send();
    assert_eq!(got.status, 200, "{got}");
    assert_eq!(got.body, bytes);

    // A missing key: S3's 404 goes through the default integration response (AWS does
    // not propagate a service status without a matching selection pattern).
    let missing = s.invoke(&api, "/dev/nothing-here");
    assert_eq!(missing.status, 200, "{missing}");
    assert!(missing.text().contains("NoSuchKey"), "{missing}");
}

#[test]
fn sqs_send_message_from_a_mapping_template() {
    let moto = Moto::start();
    let queue = moto.aws(&["sqs", "create-queue", "--queue-name", "orders"]);
    let queue_url = queue["QueueUrl"].as_str().unwrap().to_string();
    let s = moto.server();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("sqs");
    let res = cp.resource(&api, &root, "orders");
    aws_method(
        &cp,
        &api,
        &res,
        "POST",
        "arn:aws:apigateway:us-east-1:sqs:path/123456789012/orders",
        json!({
            "requestParameters": {
                "integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"
            },
            "requestTemplates": {
                "application/json": "Action=SendMessage&MessageBody=$util.urlEncode($input.body)"
            }
        }),
    );
    cp.deploy(&api, "dev");

    let sent = Http::post(s.port, &Server::exec_path(&api, "/dev/orders"))
        .header("Content-Type", "application/json")
        .body(r#"{"order": 42, "note": "a&b=c"}"#)
        .send();
    assert_eq!(sent.status, 200, "{sent}\n{}", s.stderr());
    assert!(sent.text().contains("SendMessageResponse"), "{sent}");

    let got = moto.aws(&[
        "sqs",
        "receive-message",
        "--queue-url",
        &queue_url,
        "--wait-time-seconds",
        "1",
    ]);
    assert_eq!(
        got["Messages"][0]["Body"],
        json!(r#"{"order": 42, "note": "a&b=c"}"#),
        "{got}"
    );
}

#[test]
fn dynamodb_put_item_query_and_a_mapped_service_error() {
    let moto = Moto::start();
    moto.aws(&[
        "dynamodb",
        "create-table",
        "--table-name",
        "pets",
        "--attribute-definitions",
        "AttributeName=id,AttributeType=S",
        "--key-schema",
        "AttributeName=id,KeyType=HASH",
        "--billing-mode",
        "PAY_PER_REQUEST",
    ]);
    let s = moto.server();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("dynamodb");
    let pets = cp.resource(&api, &root, "pets");
    let pet = cp.resource(&api, &pets, "{id}");
    aws_method(
        &cp,
        &api,
        &pets,
        "POST",
        "arn:aws:apigateway:us-east-1:dynamodb:action/PutItem",
        json!({ "requestTemplates": { "application/json":
            "{\"TableName\": \"pets\", \"Item\": {\"id\": {\"S\": \"$input.path('$.id')\"}, \"name\": {\"S\": \"$input.path('$.name')\"}}}"
        } }),
    );
    // Query is called with POST whatever the client's verb; the table comes from a stage
    // variable, so a stage without it names a table that does not exist.
    cp.put_method(
        &api,
        &pet,
        "GET",
        json!({ "authorizationType": "NONE", "requestParameters": { "method.request.path.id": true } }),
    );
    cp.put_integration(
        &api,
        &pet,
        "GET",
        json!({
            "type": "AWS",
            "httpMethod": "POST",
            "uri": "arn:aws:apigateway:us-east-1:dynamodb:action/Query",
            "requestTemplates": { "application/json":
                "{\"TableName\": \"$stageVariables.table\", \"KeyConditionExpression\": \"id = :v\", \"ExpressionAttributeValues\": {\":v\": {\"S\": \"$input.params('id')\"}}}"
            }
        }),
    );
    cp.put_method_response(&api, &pet, "GET", "200");
    cp.put_method_response(&api, &pet, "GET", "400");
    cp.put_integration_response(
        &api,
        &pet,
        "GET",
        "200",
        json!({ "responseTemplates": { "application/json":
            "#set($i = $input.path('$.Items[0]')){\"count\": $input.path('$.Count'), \"name\": \"$i.name.S\"}"
        } }),
    );
    cp.put_integration_response(
        &api,
        &pet,
        "GET",
        "400",
        json!({ "selectionPattern": "4\\d{2}", "responseTemplates": { "application/json":
            "{\"error\": \"$input.path('$.__type')\"}"
        } }),
    );
    cp.deploy(&api, "dev");
    cp.patch_stage(
        &api,
        "dev",
        json!([{ "op": "replace", "path": "/variables/table", "value": "pets" }]),
    );
    cp.deploy(&api, "broken");

    let put = Http::post(s.port, &Server::exec_path(&api, "/dev/pets"))
        .header("Content-Type", "application/json")
        .body(r#"{"id": "p1", "name": "Rex"}"#)
        .send();
    assert_eq!(put.status, 200, "{put}\n{}", s.stderr());
    let scan = moto.aws(&["dynamodb", "scan", "--table-name", "pets"]);
    assert_eq!(scan["Items"][0]["name"], json!({ "S": "Rex" }), "{scan}");

    let got = s.invoke(&api, "/dev/pets/p1");
    assert_eq!(got.status, 200, "{got}");
    assert_eq!(got.json(), json!({ "count": 1, "name": "Rex" }));

    // ResourceNotFoundException is a 400 from DynamoDB: the 4\d{2} response maps it.
    let err = s.invoke(&api, "/broken/pets/p1");
    assert_eq!(err.status, 400, "{err}");
    let kind = err.json()["error"].as_str().unwrap_or_default().to_string();
    assert!(kind.ends_with("ResourceNotFoundException"), "{err}");
}

/// As an unreachable HTTP backend (recorded: "Execution failed due to configuration error:
/// Invalid endpoint address", 500), not a timeout.
#[test]
fn an_unreachable_service_endpoint_is_a_configuration_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{closed}");
    let s = Server::start_with(
        Arc::new(tempfile::tempdir().unwrap()),
        &[
            "--aws-endpoint",
            &endpoint,
            "--aws-access-key-id",
            "a",
            "--aws-secret-access-key",
            "b",
        ],
    );
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("down");
    let res = cp.resource(&api, &root, "q");
    aws_method(
        &cp,
        &api,
        &res,
        "POST",
        "arn:aws:apigateway:us-east-1:sqs:action/ListQueues",
        json!({}),
    );
    cp.deploy(&api, "dev");
    let r = Http::post(s.port, &Server::exec_path(&api, "/dev/q")).send();
    assert_eq!(r.status, 500, "{r}");
    assert_eq!(r.json(), json!({ "message": "Internal server error" }));
}

#[test]
fn aws_proxy_is_only_for_lambda() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("proxy");
    cp.put_method(&api, &root, "POST", json!({ "authorizationType": "NONE" }));
    let r = cp.call(
        "PUT",
        &format!("/restapis/{api}/resources/{root}/methods/POST/integration"),
        Some(&json!({
            "type": "AWS_PROXY",
            "httpMethod": "POST",
            "uri": "arn:aws:apigateway:us-east-1:dynamodb:action/PutItem"
        })),
    );
    assert_eq!(r.status, 400, "{r}");
    assert_eq!(
        r.json()["message"],
        json!("Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations.")
    );
}
