//! WebSocket routes with `AWS` integrations to services other than Lambda, end to end
//! against moto's server: a message's route sends it to SQS (SendMessage built by the
//! request template, the Content-Type from `requestParameters`), the two-way route answers
//! with SQS's own response, read back with boto3's ReceiveMessage; a service error goes
//! through integration response selection.

mod common;

use common::moto::Moto;
use common::websocket::*;
use common::*;
use futures_util::SinkExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

/// boto3's ReceiveMessage on the queue: `[{"Body", "MessageId"}...]`.
const RECEIVE: &str = r#"
import json, sys, boto3
sqs = boto3.client("sqs", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
got = sqs.receive_message(QueueUrl=sys.argv[2], MaxNumberOfMessages=10, WaitTimeSeconds=1)
print(json.dumps([{"Body": m["Body"], "MessageId": m["MessageId"]} for m in got.get("Messages", [])]))
"#;

/// An `AWS` integration sending the message to the queue at `path` (`{account}/{queue}`)
/// with SendMessage; its id.
fn send_message(s: &Server, api: &str, path: &str) -> String {
    let uri = format!("arn:aws:apigateway:us-east-1:sqs:path/{path}");
    let extra = [
        "--template-selection-expression",
        "\\$default",
        "--request-templates",
        r#"{"$default": "Action=SendMessage&MessageBody=$util.urlEncode($input.body)"}"#,
        "--request-parameters",
        r#"{"integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"}"#,
    ];
    http_integration(s, api, "AWS", &uri, &extra)
}

#[test]
fn a_message_is_sent_to_sqs_and_the_answer_comes_back() {
    let moto = Moto::start();
    let queue = moto.aws(&["sqs", "create-queue", "--queue-name", "chat"]);
    let queue_url = queue["QueueUrl"].as_str().unwrap().to_string();
    let s = moto.server();
    let api = ws_api(&s, "$request.body.action");
    let send = send_message(&s, &api, "123456789012/chat");
    // No template on the `$default` integration response: SQS's answer as it is.
    passthrough_response(&s, &api, &send);
    two_way_route(&s, &api, "send", &send);
    // A queue that does not exist: SQS answers 400, selected by `/4\d\d/`.
    let lost = send_message(&s, &api, "123456789012/missing");
    default_response(&s, &api, &lost, "unexpected");
    integration_response(&s, &api, &lost, "/4\\d\\d/", r#"{"error": "queue"}"#);
    two_way_route(&s, &api, "lost", &lost);
    stage(&s, &api);

    let message = r#"{"action": "send", "text": "hello & welcome"}"#;
    let (reply, failed) = rt().block_on(async {
        let mut ws = connect(&url(&s, &api)).await;
        ws.send(Message::text(message)).await.unwrap();
        let reply = next_text(&mut ws).await;
        ws.send(Message::text(r#"{"action": "lost"}"#))
            .await
            .unwrap();
        (reply, next_text(&mut ws).await)
    });
    assert!(
        reply.contains("<SendMessageResponse"),
        "{reply}\n{}",
        s.stderr()
    );

    let got = python_script(RECEIVE, &[&moto.endpoint(), &queue_url]);
    assert_eq!(got.as_array().unwrap().len(), 1, "{got}");
    assert_eq!(got[0]["Body"], json!(message));
    // The reply is SQS's answer to this very call.
    let id = got[0]["MessageId"].as_str().unwrap();
    assert!(
        reply.contains(&format!("<MessageId>{id}</MessageId>")),
        "{reply}"
    );

    let failed: serde_json::Value = serde_json::from_str(&failed).unwrap_or_else(|e| {
        panic!("{e}: {failed}");
    });
    assert_eq!(failed["error"], "queue", "{failed}");
}

#[test]
fn aws_integrations_name_a_lambda_function_or_a_service_call() {
    let s = Server::start();
    let api = ws_api(&s, "$request.body.action");
    let create = |uri: &str| {
        aws(
            &s,
            &[
                "apigatewayv2",
                "create-integration",
                "--api-id",
                &api,
                "--integration-type",
                "AWS",
                "--integration-method",
                "POST",
                "--integration-uri",
                uri,
            ],
        )
    };
    assert!(create("arn:aws:apigateway:us-east-1:sqs:action/SendMessage").is_ok());
    assert!(create("arn:aws:apigateway:us-east-1:dynamodb:action/PutItem").is_ok());
    let err = create("arn:aws:apigateway:us-east-1:sqs:queue/chat").unwrap_err();
    assert!(err.stderr.contains("BadRequestException"), "{}", err.stderr);
    assert!(
        err.stderr
            .contains("AWS ARN for integration must contain path or action"),
        "{}",
        err.stderr
    );
    let err = create("not-an-arn").unwrap_err();
    assert!(err.stderr.contains("BadRequestException"), "{}", err.stderr);
}
