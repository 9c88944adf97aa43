//! Quick create's options and UpdateApi's quick-create members, through the real aws CLI
//! and HTTP: `--route-key` other than `$default`, `--credentials-arn` (API Gateway invokes
//! the function with the role, so no resource-policy statement is needed), and UpdateApi
//! rekeying the managed route, retargeting and re-crediting the managed integration; the
//! access log's integration variables on a Lambda route.

mod common;

use common::lambda::*;
use common::*;

const APP_PY: &str = "def one(event, context):\n    return {'statusCode': 201, 'body': 'one ' + event['routeKey'] + ' ' + event['rawPath']}\n\ndef two(event, context):\n    return {'statusCode': 200, 'body': 'two ' + event['rawPath']}\n";

fn call(s: &Server, method: &str, api: &str, path: &str) -> Response {
    Http::new(s.port, method, path)
        .header("Host", &format!("{api}.execute-api.localhost:{}", s.port))
        .send()
}

#[test]
fn quick_create_with_route_key_and_role_then_update_api() {
    let s = Server::start();
    let zip = zip_file(s.data_path(), "app.zip", &[("app.py", APP_PY, 0o644)]);
    create_function(&s, "one", "python3.12", "app.one", &zip, &[]);
    create_function(&s, "two", "python3.12", "app.two", &zip, &[]);
    let arn = |f: &str| format!("arn:aws:lambda:us-east-1:000000000000:function:{f}");
    let role = "arn:aws:iam::000000000000:role/apigw-invoke";
    let api = v2(
        &s,
        &[
            "create-api",
            "--name",
            "quick",
            "--protocol-type",
            "HTTP",
            "--target",
            &arn("one"),
            "--route-key",
            "GET /hello",
            "--credentials-arn",
            role,
        ],
    );
    let id = api["ApiId"].as_str().unwrap().to_string();
    let int = &v2(&s, &["get-integrations", "--api-id", &id])["Items"][0];
    assert_eq!(int["CredentialsArn"], role);
    let routes = v2(&s, &["get-routes", "--api-id", &id]);
    assert_eq!(routes["Items"][0]["RouteKey"], "GET /hello");
    // Invoked with the role: no add-permission needed.
    let r = call(&s, "GET", &id, "/hello");
    assert_eq!(r.status, 201, "{r}");
    assert_eq!(r.text(), "one GET /hello /hello");
    assert_eq!(call(&s, "GET", &id, "/other").status, 404);

    // UpdateApi rekeys the managed route, live at once (the `$default` stage auto-deploys).
    let updated = v2(
        &s,
        &["update-api", "--api-id", &id, "--route-key", "POST /bye"],
    );
    assert_eq!(updated["ApiId"], id.as_str());
    assert_eq!(call(&s, "GET", &id, "/hello").status, 404);
    let r = call(&s, "POST", &id, "/bye");
    assert_eq!(r.status, 201, "{r}");
    assert_eq!(r.text(), "one POST /bye /bye");

    // ... retargets the managed integration (still with the role) ...
    v2(
        &s,
        &["update-api", "--api-id", &id, "--target", &arn("two")],
    );
    let r = call(&s, "POST", &id, "/bye");
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.text(), "two /bye");

    // ... and replaces the role.
    let other_role = "arn:aws:iam::000000000000:role/other";
    v2(
        &s,
        &[
            "update-api",
            "--api-id",
            &id,
            "--credentials-arn",
            other_role,
        ],
    );
    let int = &v2(&s, &["get-integrations", "--api-id", &id])["Items"][0];
    assert_eq!(int["CredentialsArn"], other_role);
    assert_eq!(int["IntegrationUri"], arn("two"));

    // A bad key or a clash with another route changes nothing.
    let e = v2_err(
        &s,
        &["update-api", "--api-id", &id, "--route-key", "FETCH /x"],
    );
    assert_cli_error(&e, "BadRequestException", "route key");
    let other = v2_http_proxy(&s, &id, "GET", "http://127.0.0.1:9/x", &[]);
    v2_route(&s, &id, "GET /taken", &other, &[]);
    let e = v2_err(
        &s,
        &["update-api", "--api-id", &id, "--route-key", "GET /taken"],
    );
    assert_cli_error(&e, "ConflictException", "GET /taken");
    assert_eq!(call(&s, "POST", &id, "/bye").status, 200);

    // An API not made by quick create has no managed route or integration to update.
    let plain = v2_http_api(&s, "plain");
    let e = v2_err(
        &s,
        &["update-api", "--api-id", &plain, "--credentials-arn", role],
    );
    assert_cli_error(&e, "BadRequestException", "quick create");
    let e = v2_err(
        &s,
        &["update-api", "--api-id", &plain, "--route-key", "GET /x"],
    );
    assert_cli_error(&e, "BadRequestException", "quick create");
}

/// `$context.integration.status` is the function's status, `$context.integrationStatus`
/// Lambda's own (200); `$context.integration.requestId` the invocation's request id;
/// `$context.error.messageString` the quoted message (AWS's access-log variables for HTTP
/// APIs).
#[test]
fn access_log_integration_variables_of_a_lambda_route() {
    let s = Server::start();
    let zip = zip_file(s.data_path(), "app.zip", &[("app.py", APP_PY, 0o644)]);
    create_function(&s, "one", "python3.12", "app.one", &zip, &[]);
    let api = v2_http_api(&s, "logged");
    let integration = v2_lambda_proxy(
        &s,
        &api,
        "arn:aws:lambda:us-east-1:000000000000:function:one",
        &[
            "--credentials-arn",
            "arn:aws:iam::000000000000:role/apigw-invoke",
        ],
    );
    v2_route(&s, &api, "GET /hello", &integration, &[]);
    let format = "$context.requestId $context.status $context.integration.status \
                  $context.integrationStatus $context.integration.integrationStatus \
                  $context.integration.requestId $context.dataProcessed \
                  $context.error.messageString";
    let settings = serde_json::json!({
        "Format": format,
        "DestinationArn": "arn:aws:logs:us-east-1:000000000000:log-group:http"
    })
    .to_string();
    v2(
        &s,
        &[
            "create-stage",
            "--api-id",
            &api,
            "--stage-name",
            "$default",
            "--auto-deploy",
            "--access-log-settings",
            &settings,
        ],
    );
    let log = s
        .data_path()
        .join("access-logs")
        .join(format!("{api}-$default.log"));
    let line = |id: &str| -> Vec<String> {
        eventually(&format!("the access log line of {id}"), || {
            read_if_exists(&log)
                .lines()
                .find(|l| l.starts_with(id))
                .map(|l| l.split(' ').map(str::to_string).collect())
        })
    };

    let r = call(&s, "GET", &api, "/hello");
    assert_eq!(r.status, 201, "{r}");
    let id = r.header("apigw-requestid").unwrap().to_string();
    let fields = line(&id);
    assert_eq!(fields[1..5], ["201", "201", "200", "200"], "{fields:?}");
    assert_eq!(fields[5].len(), 36, "a Lambda request id: {fields:?}");
    assert_eq!(fields[6], r.body.len().to_string());
    assert_eq!(fields[7], "-");

    let r = call(&s, "GET", &api, "/nowhere");
    assert_eq!(r.status, 404, "{r}");
    let id = r.header("apigw-requestid").unwrap().to_string();
    let fields = line(&id);
    assert_eq!(fields[1..4], ["404", "-", "-"], "{fields:?}");
    assert_eq!(fields[7..], ["\"Not", "Found\""], "{fields:?}");
}
