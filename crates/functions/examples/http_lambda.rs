//! A Rust Lambda function built with AWS's `lambda_http` crate, the way most Rust HTTP API
//! backends are written: `lambda_http` turns the payload 2.0 event into an `http::Request`
//! (stripping a named stage from the path, as it does on AWS) and the `Response` back into
//! the proxy response. It answers with what the request looked like to the function.

use lambda_http::{run, service_fn, Body, Error, Request, RequestExt, Response};
use serde_json::json;

async fn handle(request: Request) -> Result<Response<Body>, Error> {
    let seen = json!({
        "path": request.uri().path(),
        "rawPath": request.raw_http_path(),
        "method": request.method().as_str(),
        "query": request.query_string_parameters().first("q"),
        "pathParameters": request.path_parameters().first("id"),
        "stage": match request.request_context() {
            lambda_http::request::RequestContext::ApiGatewayV2(c) => c.stage,
            _ => None,
        },
    });
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .header("x-runtime", "lambda_http")
        .body(Body::from(seen.to_string()))?)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    run(service_fn(handle)).await
}
