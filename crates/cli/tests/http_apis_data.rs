//! HTTP APIs on the data plane, against the real binary: stage selection (`$default` at the
//! root, named stages by their segment, the path form naming `$default`), v2 routing,
//! HTTP_PROXY to an echo backend, Lambda proxy with payload 2.0 and 1.0 (the events checked
//! by deserialising them with `aws_lambda_events`), response inference, fixed error bodies,
//! the integration timeout, and Lambda invoke permissions with HTTP APIs' source ARN.

mod common;

use common::lambda::*;
use common::*;
use serde_json::{json, Value};

fn create(cp: &Cp, path: &str, body: Value) -> Value {
    cp.ok("POST", path, Some(&body))
}

fn http_api(cp: &Cp, name: &str) -> String {
    create(
        cp,
        "/v2/apis",
        json!({"name": name, "protocolType": "HTTP"}),
    )["apiId"]
        .as_str()
        .unwrap()
        .to_string()
}

fn integration(cp: &Cp, api: &str, body: Value) -> String {
    create(cp, &format!("/v2/apis/{api}/integrations"), body)["integrationId"]
        .as_str()
        .unwrap()
        .to_string()
}

fn route(cp: &Cp, api: &str, key: &str, integration: &str) {
    create(
        cp,
        &format!("/v2/apis/{api}/routes"),
        json!({"routeKey": key, "target": format!("integrations/{integration}")}),
    );
}

/// GET by host name: `{api}.execute-api.localhost` at the listener.
fn get_host(s: &Server, api: &str, path: &str) -> Response {
    Http::get(s.port, path)
        .header("Host", &format!("{api}.execute-api.localhost:{}", s.port))
        .send()
}

#[test]
fn http_proxy_routes_by_v2_priorities_on_default_and_named_stages() {
    let backend = Backend::start();
    let s = Server::start();
    let cp = Cp::new(&s);
    let api = http_api(&cp, "proxy");
    let pets = integration(
        &cp,
        &api,
        json!({"integrationType": "HTTP_PROXY", "integrationMethod": "ANY",
               "integrationUri": format!("{}/pets-backend/{{id}}", backend.url())}),
    );
    let whole = integration(
        &cp,
        &api,
        json!({"integrationType": "HTTP_PROXY", "integrationMethod": "ANY",
               "integrationUri": format!("{}/root/", backend.url())}),
    );
    route(&cp, &api, "GET /pets/{id}", &pets);
    route(&cp, &api, "$default", &whole);
    let format = r#"{"requestId":"$context.requestId","routeKey":"$context.routeKey","status":"$context.status","integrationStatus":"$context.integrationStatus","error":"$context.integration.error","path":"$context.path","stage":"$context.stage"}"#;
    create(
        &cp,
        &format!("/v2/apis/{api}/stages"),
        json!({"stageName": "$default", "autoDeploy": true,
               "accessLogSettings": {"format": format,
                   "destinationArn": "arn:aws:logs:us-east-1:000000000000:log-group:http"}}),
    );
    let log_path = s
        .data_path()
        .join("access-logs")
        .join(format!("{api}-$default.log"));
    let log_line = |id: &str| -> Value {
        eventually(&format!("the access log line of {id}"), || {
            read_if_exists(&log_path)
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|v| v["requestId"] == id)
        })
    };

    // `$default` stage: no stage segment; the route's path variable fills the URI.
    let r = get_host(&s, &api, "/pets/7?x=1&x=2");
    assert_eq!(r.status, 200, "{r}");
    let id = r.header("apigw-requestid").unwrap().to_string();
    assert_eq!(id.len(), 16);
    let seen = backend.last();
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str()),
        ("GET", "/pets-backend/7")
    );
    assert_eq!(seen.query, "x=1&x=2");
    assert!(seen.header("forwarded").unwrap().contains("for=127.0.0.1"));
    assert_eq!(
        log_line(&id),
        json!({"requestId": id, "routeKey": "GET /pets/{id}", "status": "200",
               "integrationStatus": "200", "error": "-", "path": "/pets/7", "stage": "$default"})
    );
    // The `$default` route gets the whole path appended to its URI.
    let r = get_host(&s, &api, "/some/where");
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(backend.last().path, "/root/some/where");
    let r = Http::post(s.port, &Server::exec_path(&api, "/$default/pets/7"))
        .body("hi")
        .send();
    assert_eq!(r.status, 200, "{r}");
    let seen = backend.last();
    assert_eq!(
        (
            seen.method.as_str(),
            seen.path.as_str(),
            seen.body.as_deref()
        ),
        ("POST", "/root/pets/7", Some(&b"hi"[..])),
        "POST is not GET /pets/{{id}}: the $default route takes it"
    );

    // A named stage is its first segment and is stripped before routing.
    let dep = create(&cp, &format!("/v2/apis/{api}/deployments"), json!({}));
    create(
        &cp,
        &format!("/v2/apis/{api}/stages"),
        json!({"stageName": "dev", "deploymentId": dep["deploymentId"]}),
    );
    let r = get_host(&s, &api, "/dev/pets/8");
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(backend.last().path, "/pets-backend/8");
    let r = Http::get(s.port, &Server::exec_path(&api, "/dev/pets/9")).send();
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(backend.last().path, "/pets-backend/9");

    // The backend's own status passes through.
    let r = get_host(&s, &api, "/x?status=418");
    assert_eq!(r.status, 418, "{r}");
    let line = log_line(r.header("apigw-requestid").unwrap());
    assert_eq!(
        (&line["routeKey"], &line["status"]),
        (&json!("$default"), &json!("418"))
    );

    // Without a `$default` stage, a path naming no stage is not found; without a
    // `$default` route, a path no route takes is not found.
    let api2 = http_api(&cp, "named-only");
    let i2 = integration(
        &cp,
        &api2,
        json!({"integrationType": "HTTP_PROXY", "integrationMethod": "GET",
               "integrationUri": backend.url()}),
    );
    route(&cp, &api2, "GET /ok", &i2);
    create(
        &cp,
        &format!("/v2/apis/{api2}/stages"),
        json!({"stageName": "prod", "autoDeploy": true}),
    );
    assert_eq!(get_host(&s, &api2, "/prod/ok").status, 200);
    assert_v2_error(&get_host(&s, &api2, "/ok"), 404, "Not Found");
    assert_v2_error(&get_host(&s, &api2, "/prod/nope"), 404, "Not Found");
    // An id no API has is answered as REST answers it (the kind is unknown): 403.
    assert_eq!(get_host(&s, "zzzzzzzzzz", "/prod/ok").status, 403);

    // The integration timeout answers 503.
    let slow = integration(
        &cp,
        &api2,
        json!({"integrationType": "HTTP_PROXY", "integrationMethod": "GET",
               "integrationUri": backend.url(), "timeoutInMillis": 50}),
    );
    route(&cp, &api2, "GET /slow", &slow);
    let r = get_host(&s, &api2, "/prod/slow?delay_ms=1000");
    assert_v2_error(&r, 503, "Service Unavailable");

    // disableExecuteApiEndpoint takes the API off its default endpoints: as if it did not
    // exist.
    cp.ok(
        "PATCH",
        &format!("/v2/apis/{api2}"),
        Some(&json!({"disableExecuteApiEndpoint": true})),
    );
    let r = get_host(&s, &api2, "/prod/ok");
    assert_eq!(r.status, 403, "{r}");
    // The path form is a default endpoint too.
    let r = s.invoke(&api2, "/prod/ok");
    assert_eq!(r.status, 403, "{r}");
}

const EVENT_PY: &str = r#"
import json
def echo(event, context):
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "cookies": ["s=1"], "body": json.dumps(event)}

def bare(event, context):
    return "just text"

def obj(event, context):
    return {"hello": "world"}

def fail(event, context):
    raise ValueError("no")
"#;

/// The top-level keys lambda-events.md §2.1 allows.
const V2_KEYS: [&str; 13] = [
    "version",
    "routeKey",
    "rawPath",
    "rawQueryString",
    "cookies",
    "headers",
    "queryStringParameters",
    "pathParameters",
    "stageVariables",
    "body",
    "isBase64Encoded",
    "requestContext",
    "authorizer",
];

#[test]
fn lambda_proxy_payload_2_and_1_events_inference_and_permissions() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let zip = zip_file(s.data_path(), "ev.zip", &[("app.py", EVENT_PY, 0o644)]);
    for (name, handler) in [
        ("echo", "app.echo"),
        ("bare", "app.bare"),
        ("obj", "app.obj"),
        ("fail", "app.fail"),
    ] {
        create_function(&s, name, "python3.12", handler, &zip, &[]);
    }
    let arn = |f: &str| format!("arn:aws:lambda:us-east-1:000000000000:function:{f}");
    // Quick create: `$default` route, payload 2.0, auto-deployed `$default` stage.
    let api = create(
        &cp,
        "/v2/apis",
        json!({"name": "fn", "protocolType": "HTTP", "target": arn("echo")}),
    )["apiId"]
        .as_str()
        .unwrap()
        .to_string();
    // No permission yet: API Gateway may not invoke the function.
    assert_v2_error(&get_host(&s, &api, "/a"), 500, "Internal Server Error");
    // Routes with a method and path are `{api}/{stage}/{METHOD}{path}`; the `$default`
    // route is `{api}/{stage}/$default`, which `*/*/*` does not cover.
    grant_api(&s, "echo", &api, None);
    assert_v2_error(&get_host(&s, &api, "/a"), 500, "Internal Server Error");
    let source = format!("arn:aws:execute-api:us-east-1:000000000000:{api}/*/$default");
    grant_apigateway(&s, "echo", "default-route", &source, None);

    let r = Http::post(s.port, "/orders/42?a=1&a=2&b=x%20y")
        .header("Host", &format!("{api}.execute-api.localhost:{}", s.port))
        .header("Cookie", "c1=v1; c2=v2")
        .header("X-Multi", "one")
        .header("User-Agent", "tollgate-test")
        .body(r#"{"n":1}"#)
        .send();
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.header("set-cookie"), Some("s=1"));
    let raw: Value = r.json();
    for k in raw.as_object().unwrap().keys() {
        assert!(
            V2_KEYS.contains(&k.as_str()),
            "unexpected event key {k}: {raw:#}"
        );
    }
    let event: aws_lambda_events::apigw::ApiGatewayV2httpRequest =
        serde_json::from_value(raw.clone()).unwrap_or_else(|e| panic!("{e}: {raw:#}"));
    assert_eq!(event.version.as_deref(), Some("2.0"));
    assert_eq!(event.route_key.as_deref(), Some("$default"));
    assert_eq!(event.raw_path.as_deref(), Some("/orders/42"));
    assert_eq!(event.raw_query_string.as_deref(), Some("a=1&a=2&b=x%20y"));
    assert_eq!(
        event.cookies,
        Some(vec!["c1=v1".to_string(), "c2=v2".to_string()])
    );
    assert!(event.headers.get("cookie").is_none());
    assert_eq!(event.headers["x-multi"], "one");
    assert_eq!(
        raw["queryStringParameters"],
        json!({"a": "1,2", "b": "x y"})
    );
    assert_eq!(event.body.as_deref(), Some(r#"{"n":1}"#));
    assert!(!event.is_base64_encoded);
    let rc = &event.request_context;
    assert_eq!(rc.stage.as_deref(), Some("$default"));
    assert_eq!(rc.route_key.as_deref(), Some("$default"));
    assert_eq!(rc.apiid.as_deref(), Some(api.as_str()));
    assert_eq!(rc.account_id.as_deref(), Some("000000000000"));
    assert_eq!(rc.http.method, http::Method::POST);
    assert_eq!(rc.http.path.as_deref(), Some("/orders/42"));
    assert_eq!(rc.http.source_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(rc.http.user_agent.as_deref(), Some("tollgate-test"));
    assert_eq!(rc.request_id.as_deref(), r.header("apigw-requestid"));
    assert!(rc.time_epoch > 0);

    // A named stage: rawPath keeps `/{stage}`, path parameters come from the route.
    let echo_int = integration(
        &cp,
        &api,
        json!({"integrationType": "AWS_PROXY", "integrationUri": arn("echo"),
               "payloadFormatVersion": "2.0"}),
    );
    route(&cp, &api, "GET /items/{id}", &echo_int);
    create(
        &cp,
        &format!("/v2/apis/{api}/stages"),
        json!({"stageName": "beta", "autoDeploy": true, "stageVariables": {"color": "red"}}),
    );
    let r = get_host(&s, &api, "/beta/items/a%20b");
    assert_eq!(r.status, 200, "{r}");
    let event: aws_lambda_events::apigw::ApiGatewayV2httpRequest =
        serde_json::from_slice(&r.body).unwrap();
    assert_eq!(event.raw_path.as_deref(), Some("/beta/items/a%20b"));
    assert_eq!(event.route_key.as_deref(), Some("GET /items/{id}"));
    assert_eq!(event.path_parameters["id"], "a b");
    assert_eq!(event.stage_variables["color"], "red");
    assert_eq!(event.request_context.stage.as_deref(), Some("beta"));

    // Payload 1.0 on an HTTP API: REST's event shape with `version`.
    let v1 = integration(
        &cp,
        &api,
        json!({"integrationType": "AWS_PROXY", "integrationUri": arn("echo"),
               "payloadFormatVersion": "1.0"}),
    );
    route(&cp, &api, "GET /v1/{proxy+}", &v1);
    let r = get_host(&s, &api, "/beta/v1/x/y?q=1");
    assert_eq!(r.status, 200, "{r}");
    let raw: Value = r.json();
    assert_eq!(raw["version"], "1.0");
    let event: aws_lambda_events::apigw::ApiGatewayProxyRequest =
        serde_json::from_value(raw.clone()).unwrap_or_else(|e| panic!("{e}: {raw:#}"));
    assert_eq!(event.resource.as_deref(), Some("/v1/{proxy+}"));
    assert_eq!(event.path_parameters["proxy"], "x/y");
    assert_eq!(event.query_string_parameters.first("q"), Some("1"));
    assert_eq!(event.request_context.stage.as_deref(), Some("beta"));
    // lambda-events.md §2.2: REST's requestContext with HTTP APIs' values.
    let rc = &raw["requestContext"];
    assert_eq!(rc["resourceId"], Value::Null, "{raw:#}");
    assert_eq!(rc["resourcePath"], "/v1/{proxy+}", "{raw:#}");
    assert_eq!(
        rc["authorizer"],
        json!({"claims": null, "scopes": null}),
        "{raw:#}"
    );
    assert_eq!(rc["extendedRequestId"], json!(r.header("apigw-requestid")));
    assert_eq!(raw["path"], "/beta/v1/x/y", "{raw:#}");

    // Response inference (payload 2.0) and function errors.
    for f in ["bare", "obj", "fail"] {
        grant_api(&s, f, &api, None);
        let i = integration(
            &cp,
            &api,
            json!({"integrationType": "AWS_PROXY", "integrationUri": arn(f),
                   "payloadFormatVersion": "2.0"}),
        );
        route(&cp, &api, &format!("GET /{f}"), &i);
    }
    let r = get_host(&s, &api, "/bare");
    assert_eq!((r.status, r.text().as_str()), (200, "just text"), "{r}");
    assert_eq!(r.header("content-type"), Some("application/json"));
    let r = get_host(&s, &api, "/obj");
    assert_eq!(
        (r.status, r.json()),
        (200, json!({"hello": "world"})),
        "{r}"
    );
    assert_v2_error(&get_host(&s, &api, "/fail"), 500, "Internal Server Error");
}

#[test]
fn throttling_by_route_settings_over_default_route_settings() {
    let backend = Backend::start();
    let s = Server::start();
    let cp = Cp::new(&s);
    let api = http_api(&cp, "throttled");
    let i = integration(
        &cp,
        &api,
        json!({"integrationType": "HTTP_PROXY", "integrationMethod": "GET",
               "integrationUri": backend.url()}),
    );
    for key in ["GET /one", "GET /two", "GET /free"] {
        route(&cp, &api, key, &i);
    }
    // The rate refills one token per 1000 s: after the burst, the route stays empty for
    // the whole test.
    create(
        &cp,
        &format!("/v2/apis/{api}/stages"),
        json!({"stageName": "$default", "autoDeploy": true,
               "defaultRouteSettings": {"throttlingBurstLimit": 2, "throttlingRateLimit": 0.001},
               "routeSettings": {
                   "GET /one": {"throttlingBurstLimit": 1},
                   "GET /free": {"throttlingBurstLimit": 1000, "throttlingRateLimit": 1000.0}}}),
    );
    let status = |p: &str| get_host(&s, &api, p).status;
    assert_eq!(status("/one"), 200);
    assert_v2_error(&get_host(&s, &api, "/one"), 429, "Too Many Requests");
    // Each route has its own bucket; `/two` has the stage default's burst of 2.
    assert_eq!(
        (status("/two"), status("/two"), status("/two")),
        (200, 200, 429)
    );
    for _ in 0..5 {
        assert_eq!(status("/free"), 200);
    }
}

#[test]
fn cors_preflight_and_response_headers_follow_the_cors_configuration() {
    let backend = Backend::start();
    let s = Server::start();
    let cp = Cp::new(&s);
    let api = create(
        &cp,
        "/v2/apis",
        json!({"name": "cors", "protocolType": "HTTP",
               "target": format!("{}/", backend.url()),
               "corsConfiguration": {"allowOrigins": ["https://app.example"],
                   "allowMethods": ["GET", "POST"], "allowHeaders": ["x-token"],
                   "exposeHeaders": ["x-backend"], "maxAge": 300}}),
    )["apiId"]
        .as_str()
        .unwrap()
        .to_string();
    let host = format!("{api}.execute-api.localhost:{}", s.port);
    let seen_before = backend.count();
    let r = Http::new(s.port, "OPTIONS", "/orders")
        .header("Host", &host)
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "POST")
        .send();
    assert_eq!(r.status, 204, "{r}");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(r.header("access-control-allow-methods"), Some("GET,POST"));
    assert_eq!(r.header("access-control-allow-headers"), Some("x-token"));
    assert_eq!(r.header("access-control-max-age"), Some("300"));
    assert_eq!(
        backend.count(),
        seen_before,
        "the gateway answers preflights itself"
    );

    let r = Http::get(s.port, "/orders")
        .header("Host", &host)
        .header("Origin", "https://app.example")
        .send();
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(r.header("access-control-expose-headers"), Some("x-backend"));
    let r = Http::get(s.port, "/orders")
        .header("Host", &host)
        .header("Origin", "https://other.example")
        .send();
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.header("access-control-allow-origin"), None);

    // DeleteCorsConfiguration is deployed at once (autoDeploy): OPTIONS is routed again.
    cp.ok("DELETE", &format!("/v2/apis/{api}/cors"), None);
    let r = Http::new(s.port, "OPTIONS", "/orders")
        .header("Host", &host)
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "POST")
        .send();
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(backend.last().method, "OPTIONS");
}

#[test]
fn parameter_mapping_on_requests_and_responses() {
    let backend = Backend::start();
    let s = Server::start();
    let cp = Cp::new(&s);
    let api = http_api(&cp, "mapping");
    let i = integration(
        &cp,
        &api,
        json!({"integrationType": "HTTP_PROXY", "integrationMethod": "GET",
               "integrationUri": format!("{}/original", backend.url()),
               "requestParameters": {
                   "append:header.x-from": "${request.header.x-to}/${context.routeKey}",
                   "remove:header.x-secret": "''",
                   "overwrite:path": "/mapped/$request.path.id",
                   "remove:querystring.drop": "''",
                   "overwrite:querystring.add": "$stageVariables.v"},
               "responseParameters": {"200": {
                   "overwrite:statuscode": "202",
                   "append:header.x-mapped": "seen-$response.header.x-backend"}}}),
    );
    route(&cp, &api, "GET /items/{id}", &i);
    create(
        &cp,
        &format!("/v2/apis/{api}/stages"),
        json!({"stageName": "$default", "autoDeploy": true, "stageVariables": {"v": "sv"}}),
    );
    let r = Http::get(s.port, "/items/42?keep=1&drop=2")
        .header("Host", &format!("{api}.execute-api.localhost:{}", s.port))
        .header("X-To", "client")
        .header("X-Secret", "s")
        .send();
    assert_eq!(r.status, 202, "{r}");
    let seen = backend.last();
    assert_eq!(seen.path, "/mapped/42");
    assert_eq!(seen.query, "keep=1&add=sv");
    assert_eq!(seen.header("x-from"), Some("client/GET /items/{id}"));
    assert_eq!(seen.header("x-secret"), None);
    let mapped = r.header("x-mapped").unwrap();
    assert!(mapped.starts_with("seen-") && mapped.len() > 5, "{r}");
}
