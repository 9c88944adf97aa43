//! HTTP APIs' first-class AWS service integrations (`integrationSubtype`) end to end
//! against moto's server (issue 19): SQS-SendMessage and EventBridge-PutEvents with their
//! `requestParameters` read from the request; the service's answer comes back as it is.

mod common;

use common::moto::Moto;
use common::*;
use serde_json::{json, Value};

/// A first-class integration of `subtype` with `parameters` (`Name=value` pairs); its id.
fn first_class(s: &Server, api: &str, subtype: &str, parameters: &Value) -> String {
    let params = parameters.to_string();
    v2(
        s,
        &[
            "create-integration",
            "--api-id",
            api,
            "--integration-type",
            "AWS_PROXY",
            "--integration-subtype",
            subtype,
            "--payload-format-version",
            "1.0",
            "--credentials-arn",
            "arn:aws:iam::123456789012:role/apigateway-sqs",
            "--request-parameters",
            &params,
        ],
    )["IntegrationId"]
        .as_str()
        .expect("IntegrationId")
        .to_string()
}

fn post(s: &Server, api: &str, path: &str, body: &str) -> Response {
    Http::post(s.port, &Server::exec_path(api, path))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
}

#[test]
fn sqs_send_message_and_eventbridge_put_events() {
    let moto = Moto::start();
    let queue = moto.aws(&["sqs", "create-queue", "--queue-name", "inbox"]);
    let queue_url = queue["QueueUrl"].as_str().unwrap().to_string();
    let s = moto.server();
    let api = v2_http_api(&s, "first-class");

    let send = first_class(
        &s,
        &api,
        "SQS-SendMessage",
        &json!({ "QueueUrl": queue_url, "MessageBody": "$request.body.message", "DelaySeconds": "0" }),
    );
    v2_route(&s, &api, "POST /send", &send, &[]);

    // EventBridge delivers matching events to the queue through a rule, so what the API
    // put is seen where it went.
    let events_queue = moto.aws(&["sqs", "create-queue", "--queue-name", "events"]);
    let events_url = events_queue["QueueUrl"].as_str().unwrap().to_string();
    let attrs = moto.aws(&[
        "sqs",
        "get-queue-attributes",
        "--queue-url",
        &events_url,
        "--attribute-names",
        "QueueArn",
    ]);
    let events_arn = attrs["Attributes"]["QueueArn"]
        .as_str()
        .unwrap()
        .to_string();
    moto.aws(&[
        "events",
        "put-rule",
        "--name",
        "from-api",
        "--event-pattern",
        r#"{"source": ["tollgate.orders"]}"#,
    ]);
    moto.aws(&[
        "events",
        "put-targets",
        "--rule",
        "from-api",
        "--targets",
        &format!("Id=q,Arn={events_arn}"),
    ]);
    let put = first_class(
        &s,
        &api,
        "EventBridge-PutEvents",
        &json!({
            "Source": "tollgate.orders",
            "DetailType": "$request.header.x-kind",
            "Detail": "$request.body.detail"
        }),
    );
    v2_route(&s, &api, "POST /events", &put, &[]);
    v2_default_stage(&s, &api);

    let r = post(&s, &api, "/send", r#"{"message": "hello from the API"}"#);
    assert_eq!(r.status, 200, "{r}\n{}", s.stderr());
    // SQS's own answer, as it gave it.
    assert!(r.json()["MessageId"].is_string(), "{r}");
    assert_eq!(moto.queue_bodies(&queue_url), vec!["hello from the API"]);

    let r = Http::post(s.port, &Server::exec_path(&api, "/events"))
        .header("Content-Type", "application/json")
        .header("x-kind", "OrderPlaced")
        .body(r#"{"detail": {"order": 7}}"#)
        .send();
    assert_eq!(r.status, 200, "{r}\n{}", s.stderr());
    assert_eq!(r.json()["FailedEntryCount"], json!(0), "{r}");
    let delivered = moto.queue_bodies(&events_url);
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    let event: Value = serde_json::from_str(&delivered[0]).unwrap();
    assert_eq!(event["detail-type"], json!("OrderPlaced"), "{event}");
    assert_eq!(event["detail"], json!({ "order": 7 }), "{event}");

    // A service error (no such queue) comes back as the service answered it.
    let missing = first_class(
        &s,
        &api,
        "SQS-SendMessage",
        &json!({ "QueueUrl": format!("{}/123456789012/nope", moto.endpoint()), "MessageBody": "x" }),
    );
    v2_route(&s, &api, "POST /missing", &missing, &[]);
    let r = post(&s, &api, "/missing", "{}");
    assert_eq!(r.status, 400, "{r}");
    assert!(r.text().contains("QueueDoesNotExist"), "{r}");
}
