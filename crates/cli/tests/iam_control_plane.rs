//! Control-plane calls signed with an IAM user's key, through the real `aws` CLI: API
//! Gateway v2 paths name the resources AWS names (`arn:aws:apigateway:{region}::/apis/...`,
//! no `/v2`), and identity policies' conditions on the keys AWS documents for API Gateway's
//! management calls (`aws:RequestTag/*`, `aws:TagKeys`, `aws:ResourceTag/*`,
//! `apigateway:Request/*`, `apigateway:Resource/*`) decide; IAM's unique ids in AWS's
//! formats, kept across a restart.
//!
//! No AWS recording covers IAM; the ARNs and condition keys are those of AWS's service
//! authorization reference for API Gateway, the id formats IAM's documented prefixes.

mod common;

use common::*;
use serde_json::{json, Value};

fn iam(s: &Server, args: &[&str]) -> Value {
    cli_ok(s, "iam", args)
}

/// A server with a user `name` whose inline policy is `statements`, and the environment of
/// the user's access key.
fn server_with_user(name: &str, statements: Value) -> (Server, Vec<(String, String)>) {
    let s = Server::start();
    let env = user_with_policy(&s, name, statements);
    (s, env)
}

/// A user `name` with `statements` as its inline policy, and its access key's environment.
fn user_with_policy(s: &Server, name: &str, statements: Value) -> Vec<(String, String)> {
    iam(s, &["create-user", "--user-name", name]);
    let policy = json!({"Version": "2012-10-17", "Statement": statements});
    iam(
        s,
        &[
            "put-user-policy",
            "--user-name",
            name,
            "--policy-name",
            "p",
            "--policy-document",
            &policy.to_string(),
        ],
    );
    let key = iam(s, &["create-access-key", "--user-name", name]);
    vec![
        (
            "AWS_ACCESS_KEY_ID".into(),
            str_of(&key["AccessKey"], "AccessKeyId"),
        ),
        (
            "AWS_SECRET_ACCESS_KEY".into(),
            str_of(&key["AccessKey"], "SecretAccessKey"),
        ),
    ]
}

fn as_user(s: &Server, env: &[(String, String)], args: &[&str]) -> Result<Value, AwsError> {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    aws_with_env(s, args, &env)
}

fn denied(s: &Server, env: &[(String, String)], args: &[&str], action_on: &str) {
    let e = as_user(s, env, args).expect_err("the policy does not allow it");
    assert_cli_error(
        &e,
        "AccessDeniedException",
        &format!("is not authorized to perform: {action_on}"),
    );
}

#[test]
fn v2_calls_are_checked_on_apis_arns() {
    let (s, env) = server_with_user(
        "v2ops",
        json!([
            {"Effect": "Allow", "Action": "apigateway:GET",
             "Resource": ["arn:aws:apigateway:us-east-1::/apis", "arn:aws:apigateway:us-east-1::/apis/*"]},
            {"Effect": "Allow", "Action": "apigateway:POST",
             "Resource": "arn:aws:apigateway:us-east-1::/apis",
             "Condition": {"StringLike": {"apigateway:Request/ApiName": "team-*"}}}
        ]),
    );
    let api = as_user(
        &s,
        &env,
        &[
            "apigatewayv2",
            "create-api",
            "--name",
            "team-pets",
            "--protocol-type",
            "HTTP",
        ],
    )
    .unwrap_or_else(|e| panic!("{}", e.stderr));
    let id = str_of(&api, "ApiId");
    let got = as_user(&s, &env, &["apigatewayv2", "get-api", "--api-id", &id])
        .unwrap_or_else(|e| panic!("{}", e.stderr));
    assert_eq!(got["Name"], "team-pets");
    let listed = as_user(&s, &env, &["apigatewayv2", "get-apis"]).unwrap();
    assert_eq!(listed["Items"].as_array().map(Vec::len), Some(1));
    denied(
        &s,
        &env,
        &[
            "apigatewayv2",
            "create-api",
            "--name",
            "other",
            "--protocol-type",
            "HTTP",
        ],
        "apigateway:POST on resource: arn:aws:apigateway:us-east-1::/apis",
    );
    denied(
        &s,
        &env,
        &["apigatewayv2", "delete-api", "--api-id", &id],
        &format!("apigateway:DELETE on resource: arn:aws:apigateway:us-east-1::/apis/{id}"),
    );
    // REST APIs are other resources: `/apis/*` does not reach them.
    denied(
        &s,
        &env,
        &["apigateway", "get-rest-apis"],
        "apigateway:GET on resource: arn:aws:apigateway:us-east-1::/restapis",
    );
    assert_eq!(
        cli_ok(&s, "apigatewayv2", &["get-apis"])["Items"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "the refused create made nothing"
    );
}

#[test]
fn tag_conditions_decide_creates_deletes_and_tagging() {
    let (s, env) = server_with_user(
        "blue",
        json!([
            {"Effect": "Allow", "Action": "apigateway:POST",
             "Resource": "arn:aws:apigateway:*::/restapis",
             "Condition": {"StringEquals": {"aws:RequestTag/team": "blue"}}},
            {"Effect": "Allow", "Action": ["apigateway:GET", "apigateway:DELETE"],
             "Resource": "arn:aws:apigateway:*::/restapis/*",
             "Condition": {"StringEquals": {"aws:ResourceTag/team": "blue"}}},
            {"Effect": "Allow", "Action": "apigateway:PUT",
             "Resource": "arn:aws:apigateway:*::/tags/*",
             "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["owner"]},
                           "StringEquals": {"aws:ResourceTag/team": "blue"}}}
        ]),
    );
    let create = |tags: &'static str| {
        [
            "apigateway",
            "create-rest-api",
            "--name",
            "x",
            "--tags",
            tags,
        ]
    };
    let blue = as_user(&s, &env, &create("team=blue")).unwrap_or_else(|e| panic!("{}", e.stderr));
    let blue = str_of(&blue, "id");
    denied(
        &s,
        &env,
        &create("team=red"),
        "apigateway:POST on resource: arn:aws:apigateway:us-east-1::/restapis",
    );
    denied(
        &s,
        &env,
        &["apigateway", "create-rest-api", "--name", "untagged"],
        "apigateway:POST",
    );
    let red = str_of(
        &apigw(
            &s,
            &["create-rest-api", "--name", "red", "--tags", "team=red"],
        ),
        "id",
    );
    let got = as_user(
        &s,
        &env,
        &["apigateway", "get-rest-api", "--rest-api-id", &blue],
    );
    assert_eq!(got.unwrap()["tags"], json!({"team": "blue"}));
    denied(
        &s,
        &env,
        &["apigateway", "get-rest-api", "--rest-api-id", &red],
        &format!("apigateway:GET on resource: arn:aws:apigateway:us-east-1::/restapis/{red}"),
    );

    // TagResource: only the `owner` key, only on a blue API.
    let arn = |id: &str| format!("arn:aws:apigateway:us-east-1::/restapis/{id}");
    as_user(
        &s,
        &env,
        &[
            "apigateway",
            "tag-resource",
            "--resource-arn",
            &arn(&blue),
            "--tags",
            "owner=me",
        ],
    )
    .unwrap_or_else(|e| panic!("{}", e.stderr));
    for (id, tags) in [(&blue, "team=red"), (&red, "owner=me")] {
        denied(
            &s,
            &env,
            &[
                "apigateway",
                "tag-resource",
                "--resource-arn",
                &arn(id),
                "--tags",
                tags,
            ],
            "apigateway:PUT on resource: arn:aws:apigateway:us-east-1::/tags/",
        );
    }
    assert_eq!(
        apigw(&s, &["get-tags", "--resource-arn", &arn(&red)])["tags"],
        json!({"team": "red"})
    );

    denied(
        &s,
        &env,
        &["apigateway", "delete-rest-api", "--rest-api-id", &red],
        "apigateway:DELETE",
    );
    as_user(
        &s,
        &env,
        &["apigateway", "delete-rest-api", "--rest-api-id", &blue],
    )
    .unwrap_or_else(|e| panic!("{}", e.stderr));
    let left: Vec<Value> = apigw(&s, &["get-rest-apis"])["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].clone())
        .collect();
    assert_eq!(left, [json!(red)]);
}

/// `{prefix}` then `n` characters of IAM's id alphabet (upper case letters and digits).
fn assert_id(id: &str, prefix: &str, n: usize) {
    let rest = id
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{id} lacks {prefix}"));
    assert_eq!(rest.len(), n, "{id}");
    assert!(
        rest.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
        "{id}"
    );
}

#[test]
fn unique_ids_have_aws_prefixes_and_survive_a_restart() {
    let s = Server::start();
    let trust = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#;
    let doc = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}"#;
    let role = iam(
        &s,
        &[
            "create-role",
            "--role-name",
            "r",
            "--assume-role-policy-document",
            trust,
        ],
    );
    let policy = iam(
        &s,
        &[
            "create-policy",
            "--policy-name",
            "p",
            "--policy-document",
            doc,
        ],
    );
    let user = iam(&s, &["create-user", "--user-name", "u"]);
    let key = iam(&s, &["create-access-key", "--user-name", "u"]);
    let ids = [
        str_of(&role["Role"], "RoleId"),
        str_of(&policy["Policy"], "PolicyId"),
        str_of(&user["User"], "UserId"),
        str_of(&key["AccessKey"], "AccessKeyId"),
    ];
    assert_id(&ids[0], "AROA", 17);
    assert_id(&ids[1], "ANPA", 17);
    assert_id(&ids[2], "AIDA", 17);
    assert_id(&ids[3], "AKIA", 16);
    // An AWS managed policy keeps AWS's own id.
    let managed = iam(
        &s,
        &[
            "get-policy",
            "--policy-arn",
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        ],
    );
    assert_eq!(managed["Policy"]["PolicyId"], "ANPAJNCQGXC42545SKXIK");

    let dir = s.dir();
    drop(s);
    let s = Server::start_in(dir);
    let policy_arn = str_of(&policy["Policy"], "Arn");
    let again = [
        str_of(
            &iam(&s, &["get-role", "--role-name", "r"])["Role"],
            "RoleId",
        ),
        str_of(
            &iam(&s, &["get-policy", "--policy-arn", &policy_arn])["Policy"],
            "PolicyId",
        ),
        str_of(
            &iam(&s, &["get-user", "--user-name", "u"])["User"],
            "UserId",
        ),
        str_of(
            &iam(&s, &["list-access-keys", "--user-name", "u"])["AccessKeyMetadata"][0],
            "AccessKeyId",
        ),
    ];
    assert_eq!(again, ids);
}
