//! A Rust Lambda function built with AWS's own runtime client (`lambda_runtime`), for the
//! tests and benchmarks that run it on Tollgate as a `provided.al2023` function: it answers
//! API Gateway proxy events with the path it was called on (`path` of a REST event,
//! `rawPath` of a payload 2.0 event).

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let (payload, context) = event.into_parts();
    if payload.get("fail").is_some() {
        return Err("asked to fail".into());
    }
    Ok(json!({
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "X-Runtime": "rust"},
        "body": json!({
            "path": payload.get("path").or_else(|| payload.get("rawPath")),
            "requestId": context.request_id,
            "function": context.invoked_function_arn,
        }).to_string(),
    }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handle)).await
}
