//! A function's resource policy decides whether API Gateway may invoke it, as on AWS:
//! without a matching `lambda add-permission` statement the method answers 500 and the
//! server logs "Invalid permissions on Lambda function"; `--lambda-permissions warn`
//! only logs.

mod common;

use common::lambda::*;
use common::*;

const HELLO_PY: &str = r#"
def handler(event, context):
    return {"statusCode": 200, "body": "hello from " + event["path"]}
"#;

const DENIED_LINE: &str =
    "Execution failed due to configuration error: Invalid permissions on Lambda function";

fn hello(s: &Server) {
    let zip = zip_file(s.data_path(), "hello.zip", &[("app.py", HELLO_PY, 0o644)]);
    create_function(
        s,
        "hello",
        "python3.12",
        "app.handler",
        &zip,
        &["--publish"],
    );
}

fn add_permission(s: &Server, sid: &str, source_arn: &str, extra: &[&str]) {
    let mut args = vec![
        "lambda",
        "add-permission",
        "--function-name",
        "hello",
        "--statement-id",
        sid,
        "--action",
        "lambda:InvokeFunction",
        "--principal",
        "apigateway.amazonaws.com",
        "--source-arn",
        source_arn,
    ];
    args.extend_from_slice(extra);
    aws(s, &args).unwrap_or_else(|e| panic!("add-permission: {}", e.stderr));
}

fn assert_denied(s: &Server, r: &Response, times: usize) {
    assert_eq!(r.status, 500, "{r}");
    assert_eq!(
        r.json(),
        serde_json::json!({"message": "Internal server error"})
    );
    eventually("the denial in the server log", || {
        (s.stderr().matches(DENIED_LINE).count() >= times).then_some(())
    });
}

#[test]
fn api_gateway_needs_the_functions_permission() {
    let s = Server::start();
    hello(&s);
    let api = proxy_api_without_permission(&s, "hello");
    let src = |rest: &str| format!("arn:aws:execute-api:us-east-1:000000000000:{api}/{rest}");

    // No statement: 500, and the log says why.
    assert_denied(&s, &s.invoke(&api, "/prod/pets"), 1);

    // Statements for another API, another method, or another service do not count.
    add_permission(
        &s,
        "other-api",
        "arn:aws:execute-api:us-east-1:000000000000:zzzzzzzzzz/*/*/*",
        &[],
    );
    add_permission(&s, "post-only", &src("*/POST/*"), &[]);
    aws(
        &s,
        &[
            "lambda",
            "add-permission",
            "--function-name",
            "hello",
            "--statement-id",
            "s3",
            "--action",
            "lambda:InvokeFunction",
            "--principal",
            "s3.amazonaws.com",
        ],
    )
    .unwrap();
    assert_denied(&s, &s.invoke(&api, "/prod/pets"), 2);

    // The method's own ARN: stage, verb and resource path (the `{proxy+}` template).
    add_permission(&s, "get-proxy", &src("prod/GET/{proxy+}"), &[]);
    let r = s.invoke(&api, "/prod/pets");
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.text(), "hello from /pets");
    // ...which does not cover DELETE.
    let r = Http::new(s.port, "DELETE", &Server::exec_path(&api, "/prod/pets")).send();
    assert_denied(&s, &r, 3);

    // Removing the statement takes effect at once, without a deployment.
    aws(
        &s,
        &[
            "lambda",
            "remove-permission",
            "--function-name",
            "hello",
            "--statement-id",
            "get-proxy",
        ],
    )
    .unwrap();
    assert_denied(&s, &s.invoke(&api, "/prod/pets"), 4);

    // The wildcard form the console and SAM use.
    add_permission(&s, "any", &src("*/*/*"), &[]);
    assert_eq!(s.invoke(&api, "/prod/pets").status, 200);
}

#[test]
fn aliases_have_their_own_policy_and_credentials_skip_it() {
    let s = Server::start();
    hello(&s);
    aws(
        &s,
        &[
            "lambda",
            "create-alias",
            "--function-name",
            "hello",
            "--name",
            "live",
            "--function-version",
            "1",
        ],
    )
    .unwrap();
    // The integration calls `hello:live`; a statement on the unqualified function does not
    // cover the alias.
    let api = proxy_api_without_permission(&s, "hello:live");
    grant_api(&s, "hello", &api, None);
    assert_denied(&s, &s.invoke(&api, "/prod/x"), 1);
    grant_api(&s, "hello", &api, Some("live"));
    let r = s.invoke(&api, "/prod/x");
    assert_eq!(r.status, 200, "{r}");

    // Each qualifier's policy reads and changes on its own.
    let policy = |q: &[&str]| -> Vec<String> {
        let mut args = vec!["lambda", "get-policy", "--function-name", "hello"];
        args.extend_from_slice(q);
        let v = aws(&s, &args).unwrap();
        let doc: serde_json::Value = serde_json::from_str(v["Policy"].as_str().unwrap()).unwrap();
        doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|st| st["Resource"].as_str().unwrap().to_string())
            .collect()
    };
    let arn = "arn:aws:lambda:us-east-1:000000000000:function:hello";
    assert_eq!(policy(&[]), vec![arn.to_string()]);
    assert_eq!(
        policy(&["--qualifier", "live"]),
        vec![format!("{arn}:live")]
    );
    let latest = aws(
        &s,
        &[
            "lambda",
            "add-permission",
            "--function-name",
            "hello",
            "--qualifier",
            "$LATEST",
            "--statement-id",
            "x",
            "--action",
            "lambda:InvokeFunction",
            "--principal",
            "apigateway.amazonaws.com",
        ],
    )
    .unwrap_err();
    assert!(
        latest.stderr.contains("InvalidParameterValueException"),
        "{}",
        latest.stderr
    );
    let sid = format!("apigw-{api}-live");
    aws(
        &s,
        &[
            "lambda",
            "remove-permission",
            "--function-name",
            "hello",
            "--qualifier",
            "live",
            "--statement-id",
            &sid,
        ],
    )
    .unwrap();
    assert_denied(&s, &s.invoke(&api, "/prod/x"), 2);
    assert_eq!(policy(&[]), vec![arn.to_string()]);

    // An integration with credentials (a role) is not checked against the policy.
    let api2 = proxy_api_without_permission(&s, "hello");
    assert_denied(&s, &s.invoke(&api2, "/prod/y"), 3);
    let res = apigw(&s, &["get-resources", "--rest-api-id", &api2])["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == "/{proxy+}")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    apigw(
        &s,
        &[
            "update-integration",
            "--rest-api-id",
            &api2,
            "--resource-id",
            &res,
            "--http-method",
            "ANY",
            "--patch-operations",
            "op=replace,path=/credentials,value=arn:aws:iam::000000000000:role/apigw-invoke",
        ],
    );
    apigw(
        &s,
        &[
            "create-deployment",
            "--rest-api-id",
            &api2,
            "--stage-name",
            "prod",
        ],
    );
    let r = s.invoke(&api2, "/prod/y");
    assert_eq!(r.status, 200, "{r}");
}

#[test]
fn warn_mode_logs_and_invokes() {
    let s = Server::start_with(
        std::sync::Arc::new(tempfile::tempdir().unwrap()),
        &["--lambda-permissions", "warn"],
    );
    hello(&s);
    let api = proxy_api_without_permission(&s, "hello");
    let r = s.invoke(&api, "/prod/pets");
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.text(), "hello from /pets");
    eventually("the warning in the server log", || {
        s.stderr().contains(DENIED_LINE).then_some(())
    });
}
