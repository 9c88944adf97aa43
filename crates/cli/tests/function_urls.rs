//! Lambda function URLs through the real `aws` CLI, boto3's SigV4 signer and a raw HTTP
//! client: the configuration calls with Lambda's errors; a `NONE` URL refused until
//! AddPermission allows `lambda:InvokeFunctionUrl` for everyone, then answered by host
//! (`{urlId}.lambda-url.{region}.localhost`) and by the path form with the payload 2.0
//! event and response (lambda-events.md §2.1, §4.2) and its CORS; an `AWS_IAM` URL on an
//! alias called by IAM users allowed by their own policy or by the function's.
//!
//! No AWS recording covers function URLs; shapes and messages follow botocore's `lambda`
//! model and Lambda's documented behaviour.

mod common;

use common::lambda::*;
use common::*;
use serde_json::{json, Value};

const ECHO_PY: &str = r#"
import json
def handler(event, context):
    rc = event["requestContext"]
    seen = {"rawPath": event["rawPath"], "rawQueryString": event["rawQueryString"],
            "routeKey": event["routeKey"], "apiId": rc["apiId"], "stage": rc["stage"],
            "method": rc["http"]["method"], "body": event.get("body"),
            "authorizer": rc.get("authorizer"), "signed": "authorization" in event["headers"]}
    return {"statusCode": 201, "headers": {"x-fn": "yes"}, "cookies": ["a=1"], "body": json.dumps(seen)}
"#;

fn lambda_ok(s: &Server, args: &[&str]) -> Value {
    cli_ok(s, "lambda", args)
}

fn lambda_err(s: &Server, args: &[&str]) -> AwsError {
    cli_err(s, "lambda", args)
}

fn echo(s: &Server) {
    let zip = zip_file(s.data_path(), "echo.zip", &[("echo.py", ECHO_PY, 0o644)]);
    create_function(s, "echo", "python3.12", "echo.handler", &zip, &[]);
}

fn url_id(url: &str) -> String {
    let host = url.strip_prefix("http://").unwrap();
    host.split('.').next().unwrap().to_string()
}

#[test]
fn a_none_url_needs_a_permission_then_serves_payload_2() {
    let s = Server::start();
    echo(&s);
    let created = lambda_ok(
        &s,
        &[
            "create-function-url-config",
            "--function-name",
            "echo",
            "--auth-type",
            "NONE",
            "--cors",
            "AllowOrigins=https://app.example,AllowMethods=GET,POST,MaxAge=60",
        ],
    );
    let url = created["FunctionUrl"].as_str().unwrap().to_string();
    let id = url_id(&url);
    assert_eq!(
        url,
        format!("http://{id}.lambda-url.us-east-1.localhost:{}/", s.port)
    );
    assert_eq!(id.len(), 32);
    assert_eq!(
        created["FunctionArn"],
        "arn:aws:lambda:us-east-1:000000000000:function:echo"
    );
    assert_eq!(created["AuthType"], "NONE");
    assert_eq!(created["InvokeMode"], "BUFFERED");
    assert_eq!(created["Cors"]["MaxAge"], 60);

    let dup = lambda_err(
        &s,
        &[
            "create-function-url-config",
            "--function-name",
            "echo",
            "--auth-type",
            "NONE",
        ],
    );
    assert_cli_error(
        &dup,
        "ResourceConflictException",
        "Failed to create function url config for [functionArn = arn:aws:lambda:us-east-1:000000000000:function:echo]. Error message:  FunctionUrlConfig exists for this Lambda function",
    );
    let bad = lambda_err(
        &s,
        &[
            "update-function-url-config",
            "--function-name",
            "echo",
            "--auth-type",
            "BASIC",
        ],
    );
    assert_cli_error(
        &bad,
        "ValidationException",
        "1 validation error detected: Value 'BASIC' at 'authType' failed to satisfy constraint: Member must satisfy enum value set: [NONE, AWS_IAM]",
    );
    let listed = lambda_ok(
        &s,
        &["list-function-url-configs", "--function-name", "echo"],
    );
    assert_eq!(listed["FunctionUrlConfigs"][0]["FunctionUrl"], url.as_str());

    let host = format!("{id}.lambda-url.us-east-1.localhost:{}", s.port);
    let call = || {
        Http::post(s.port, "/items/7?x=1&y=2")
            .header("Host", &host)
            .header("Origin", "https://app.example")
            .body("hi")
            .send()
    };
    let refused = call();
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert_eq!(refused.json(), json!({"Message": "Forbidden"}));

    lambda_ok(
        &s,
        &[
            "add-permission",
            "--function-name",
            "echo",
            "--statement-id",
            "url",
            "--action",
            "lambda:InvokeFunctionUrl",
            "--principal",
            "*",
            "--function-url-auth-type",
            "NONE",
        ],
    );
    let r = call();
    assert_eq!(r.status, 201, "{}\n{}", r.text(), s.stderr());
    assert_eq!(r.header("x-fn"), Some("yes"));
    assert_eq!(r.header("set-cookie"), Some("a=1"));
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(
        r.json(),
        json!({"rawPath": "/items/7", "rawQueryString": "x=1&y=2", "routeKey": "$default",
               "apiId": id, "stage": "$default", "method": "POST", "body": "hi",
               "authorizer": null, "signed": false})
    );
    // The path form, for clients that cannot set a Host header.
    let r = Http::get(s.port, &format!("/_aws/lambda-url/{id}/a/b")).send();
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["rawPath"], "/a/b");
    // The preflight is answered from the URL's CORS settings.
    let pre = Http::new(s.port, "OPTIONS", "/x")
        .header("Host", &host)
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "POST")
        .send();
    assert_eq!(pre.status, 200, "{}", pre.text());
    assert_eq!(pre.header("access-control-max-age"), Some("60"));

    lambda_ok(
        &s,
        &["delete-function-url-config", "--function-name", "echo"],
    );
    let gone = lambda_err(&s, &["get-function-url-config", "--function-name", "echo"]);
    assert_cli_error(
        &gone,
        "ResourceNotFoundException",
        "The resource you requested does not exist.",
    );
    assert_eq!(call().status, 403);
}

/// Signs GETs for service `lambda` with each key given, printing the status and body.
const SIGN_PY: &str = r#"
import json, sys, urllib.error, urllib.request
import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ep, url = sys.argv[1], sys.argv[2]
iam = boto3.client("iam", endpoint_url=ep, region_name="us-east-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
keys = {}
for user in ("alice", "bob", "carol"):
    iam.create_user(UserName=user)
    k = iam.create_access_key(UserName=user)["AccessKey"]
    keys[user] = (k["AccessKeyId"], k["SecretAccessKey"])
iam.put_user_policy(UserName="alice", PolicyName="urls", PolicyDocument=json.dumps({"Statement": [
    {"Effect": "Allow", "Action": "lambda:InvokeFunctionUrl", "Resource": "arn:aws:lambda:*:*:function:echo:live"}]}))
out = {}
for who in ("alice", "bob", "carol", None):
    req = AWSRequest(method="GET", url=url + "whoami", data=b"")
    if who:
        SigV4Auth(Credentials(*keys[who]), "lambda", "us-east-1").add_auth(req)
    p = req.prepare()
    r = urllib.request.Request(p.url, method="GET", headers=dict(p.headers))
    try:
        resp = urllib.request.urlopen(r)
        out[str(who)] = [resp.status, json.loads(resp.read())]
    except urllib.error.HTTPError as e:
        out[str(who)] = [e.code, e.read().decode()]
print(json.dumps(out))
"#;

#[test]
fn an_aws_iam_url_on_an_alias_takes_callers_allowed_by_either_policy() {
    let s = Server::start();
    echo(&s);
    lambda_ok(&s, &["publish-version", "--function-name", "echo"]);
    lambda_ok(
        &s,
        &[
            "create-alias",
            "--function-name",
            "echo",
            "--name",
            "live",
            "--function-version",
            "1",
        ],
    );
    let created = lambda_ok(
        &s,
        &[
            "create-function-url-config",
            "--function-name",
            "echo",
            "--qualifier",
            "live",
            "--auth-type",
            "AWS_IAM",
        ],
    );
    assert_eq!(
        created["FunctionArn"],
        "arn:aws:lambda:us-east-1:000000000000:function:echo:live"
    );
    let id = url_id(created["FunctionUrl"].as_str().unwrap());
    // bob is allowed by the function's policy, naming him.
    lambda_ok(
        &s,
        &[
            "add-permission",
            "--function-name",
            "echo",
            "--qualifier",
            "live",
            "--statement-id",
            "bob",
            "--action",
            "lambda:InvokeFunctionUrl",
            "--principal",
            "arn:aws:iam::000000000000:user/bob",
            "--function-url-auth-type",
            "AWS_IAM",
        ],
    );
    let url = format!("http://127.0.0.1:{}/_aws/lambda-url/{id}/", s.port);
    let v = python_script(SIGN_PY, &[&s.endpoint(), &url]);
    assert_eq!(v["alice"][0], 201, "{v:#}\n{}", s.stderr());
    let seen = &v["alice"][1];
    assert_eq!(
        seen["signed"], false,
        "the signature is not handed on: {seen}"
    );
    assert_eq!(
        seen["authorizer"]["iam"]["userArn"],
        "arn:aws:iam::000000000000:user/alice"
    );
    assert_eq!(v["bob"][0], 201, "{v:#}");
    assert_eq!(v["carol"], json!([403, r#"{"Message":"Forbidden"}"#]));
    assert_eq!(v["None"], json!([403, r#"{"Message":"Forbidden"}"#]));
}
