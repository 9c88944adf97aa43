//! STS GetCallerIdentity on the control-plane endpoint (query protocol, XML), as tools and
//! test suites call it before anything else: the real `aws` CLI and boto3 against the real
//! binary.

mod common;

use common::*;
use serde_json::json;

#[test]
fn aws_cli_gets_the_caller_identity() {
    let s = Server::start();
    let id = aws(&s, &["sts", "get-caller-identity"]).unwrap_or_else(|e| {
        panic!(
            "sts get-caller-identity failed:\n{}\n--- server ---\n{}",
            e.stderr,
            s.stderr()
        )
    });
    assert_json_eq(
        &id,
        &json!({
            "UserId": "000000000000",
            "Account": "000000000000",
            "Arn": "arn:aws:iam::000000000000:root",
        }),
        "GetCallerIdentity",
    );
}

#[test]
fn a_bad_signature_is_refused_in_stss_error_shape() {
    let s = Server::start();
    let e = aws_with_env(
        &s,
        &["sts", "get-caller-identity"],
        &[("AWS_SECRET_ACCESS_KEY", "wrong")],
    )
    .expect_err("a wrong secret must be refused");
    // The CLI names the code only when it can parse STS's XML error body.
    assert_cli_error(
        &e,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match",
    );
}

/// boto3: GetCallerIdentity, then a signed call of an action STS does not have.
const BOTO3_SCRIPT: &str = r#"
import json, sys, urllib.request, urllib.error
import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

endpoint = sys.argv[1]
sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
ident = sts.get_caller_identity()
ident.pop("ResponseMetadata", None)

req = AWSRequest(method="POST", url=endpoint + "/", data="Action=AssumeNothing&Version=2011-06-15",
                 headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
SigV4Auth(Credentials("test", "test"), "sts", "us-east-1").add_auth(req)
p = req.prepare()
raw = urllib.request.Request(p.url, data=p.body.encode() if isinstance(p.body, str) else p.body,
                             headers=dict(p.headers.items()), method="POST")
try:
    with urllib.request.urlopen(raw, timeout=30) as r:
        status, body, ctype = r.status, r.read().decode(), r.headers.get("content-type")
except urllib.error.HTTPError as e:
    status, body, ctype = e.code, e.read().decode(), e.headers.get("content-type")
print(json.dumps({"identity": ident, "unknown": {"status": status, "body": body, "type": ctype}}))
"#;

#[test]
fn boto3_gets_the_caller_identity_and_unknown_actions_are_invalid() {
    let s = Server::start();
    let v = python_script(BOTO3_SCRIPT, &[&s.endpoint()]);
    assert_json_eq(
        &v["identity"],
        &json!({
            "UserId": "000000000000",
            "Account": "000000000000",
            "Arn": "arn:aws:iam::000000000000:root",
        }),
        "boto3 GetCallerIdentity",
    );
    let unknown = &v["unknown"];
    assert_eq!(unknown["status"], 400, "{unknown:#}");
    assert_eq!(unknown["type"], "text/xml", "{unknown:#}");
    let body = unknown["body"].as_str().unwrap_or_default();
    for part in [
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">",
        "<Type>Sender</Type>",
        "<Code>InvalidAction</Code>",
        "<Message>Could not find operation AssumeNothing for version 2011-06-15</Message>",
        "<RequestId>",
    ] {
        assert!(body.contains(part), "{part} missing from:\n{body}");
    }
}

#[test]
fn an_unknown_access_key_is_an_invalid_client_token() {
    let s = Server::start();
    let e = aws_with_env(
        &s,
        &["sts", "get-caller-identity"],
        &[("AWS_ACCESS_KEY_ID", "AKIDUNKNOWN")],
    )
    .expect_err("an unknown key must be refused");
    assert_cli_error(
        &e,
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    );
}
