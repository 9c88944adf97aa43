//! The IAM service (query protocol, XML) and STS's AssumeRole, driven by the real `aws` CLI
//! and boto3 against the real binary: a Lambda tutorial's role, managed policies and
//! versions, inline policies, users and access keys with AWS's errors; IAM users' keys and
//! AssumeRole's credentials as `AWS_IAM` callers (REST and HTTP APIs), allowed and denied
//! by their policies; everything surviving a restart.
//!
//! No AWS recording covers IAM (`shared/aws-recorded` holds API Gateway's only); shapes and
//! messages follow botocore's `iam`/`sts` models and IAM's documented errors.

mod common;

use common::lambda::*;
use common::*;
use serde_json::{json, Value};

const TRUST_LAMBDA: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#;
const BASIC: &str = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";

fn iam(s: &Server, args: &[&str]) -> Value {
    cli_ok(s, "iam", args)
}

fn iam_err(s: &Server, args: &[&str]) -> AwsError {
    cli_err(s, "iam", args)
}

#[test]
fn aws_cli_lambda_tutorial_role() {
    let s = Server::start();
    let role = iam(
        &s,
        &[
            "create-role",
            "--role-name",
            "lambda-ex",
            "--assume-role-policy-document",
            TRUST_LAMBDA,
            "--description",
            "tutorial",
        ],
    );
    let arn = str_of(&role["Role"], "Arn");
    assert_eq!(arn, "arn:aws:iam::000000000000:role/lambda-ex");
    assert!(
        str_of(&role["Role"], "RoleId").starts_with("AROA"),
        "{role}"
    );
    // The CLI decodes the URL-encoded document back into JSON.
    let trust: Value = serde_json::from_str(TRUST_LAMBDA).unwrap();
    assert_eq!(role["Role"]["AssumeRolePolicyDocument"], trust, "{role}");
    let got = iam(&s, &["get-role", "--role-name", "lambda-ex"]);
    assert_eq!(got["Role"]["Description"], "tutorial");
    assert_eq!(got["Role"]["MaxSessionDuration"], 3600);

    iam(
        &s,
        &[
            "attach-role-policy",
            "--role-name",
            "lambda-ex",
            "--policy-arn",
            BASIC,
        ],
    );
    let attached = iam(
        &s,
        &["list-attached-role-policies", "--role-name", "lambda-ex"],
    );
    assert_eq!(
        attached["AttachedPolicies"],
        json!([{"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": BASIC}])
    );
    let profiles = iam(
        &s,
        &[
            "list-instance-profiles-for-role",
            "--role-name",
            "lambda-ex",
        ],
    );
    assert_eq!(profiles["InstanceProfiles"], json!([]));

    // The tutorial's next step: a function running as that role.
    let zip = zip_file(
        s.data_path(),
        "f.zip",
        &[("f.py", "def handler(e, c):\n    return 1\n", 0o644)],
    );
    let f = try_create_function(
        &s,
        "tutorial",
        "python3.12",
        "f.handler",
        &zip,
        &["--role", &arn],
    )
    .unwrap_or_else(|e| panic!("create-function: {}", e.stderr));
    assert_eq!(f["Role"], arn.as_str());

    let dup = iam_err(
        &s,
        &[
            "create-role",
            "--role-name",
            "LAMBDA-EX",
            "--assume-role-policy-document",
            TRUST_LAMBDA,
        ],
    );
    assert_cli_error(
        &dup,
        "EntityAlreadyExists",
        "Role with name LAMBDA-EX already exists.",
    );
    let missing = iam_err(&s, &["get-role", "--role-name", "nobody"]);
    assert_cli_error(
        &missing,
        "NoSuchEntity",
        "The role with name nobody cannot be found.",
    );
    let unknown = iam_err(
        &s,
        &[
            "attach-role-policy",
            "--role-name",
            "lambda-ex",
            "--policy-arn",
            "arn:aws:iam::aws:policy/NoSuchPolicy",
        ],
    );
    assert_cli_error(
        &unknown,
        "NoSuchEntity",
        "Policy arn:aws:iam::aws:policy/NoSuchPolicy does not exist or is not attachable.",
    );
    let bad = iam_err(
        &s,
        &[
            "create-role",
            "--role-name",
            "bad",
            "--assume-role-policy-document",
            "{nope",
        ],
    );
    assert_cli_error(
        &bad,
        "MalformedPolicyDocument",
        "This policy contains invalid Json",
    );
    let bad_name = iam_err(
        &s,
        &[
            "create-role",
            "--role-name",
            "a/b",
            "--assume-role-policy-document",
            TRUST_LAMBDA,
        ],
    );
    assert_cli_error(
        &bad_name,
        "ValidationError",
        "1 validation error detected: Value 'a/b' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+",
    );
    let conflict = iam_err(&s, &["delete-role", "--role-name", "lambda-ex"]);
    assert_cli_error(
        &conflict,
        "DeleteConflict",
        "Cannot delete entity, must detach all policies first.",
    );
    iam(
        &s,
        &[
            "detach-role-policy",
            "--role-name",
            "lambda-ex",
            "--policy-arn",
            BASIC,
        ],
    );
    iam(&s, &["delete-role", "--role-name", "lambda-ex"]);
    assert_eq!(iam(&s, &["list-roles"])["Roles"], json!([]));
}

/// boto3 through every other action, printing what each answered.
const CRUD_PY: &str = r#"
import json, sys
import boto3
from botocore.exceptions import ClientError

ep = sys.argv[1]
iam = boto3.client("iam", endpoint_url=ep, region_name="us-east-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
out = {}
def err(f):
    try:
        f()
        return None
    except ClientError as e:
        return {"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"],
                "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}

doc = lambda action: json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": action, "Resource": "*"}]})
trust = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "sts:AssumeRole"}]})

p = iam.create_policy(PolicyName="invoke", Path="/app/", PolicyDocument=doc("execute-api:Invoke"),
                      Description="d", Tags=[{"Key": "team", "Value": "a"}])["Policy"]
arn = p["Arn"]
out["policy"] = {k: p[k] for k in ("PolicyName", "Arn", "Path", "DefaultVersionId", "AttachmentCount", "IsAttachable")}
out["dup_policy"] = err(lambda: iam.create_policy(PolicyName="invoke", PolicyDocument=doc("s3:*")))
out["v2"] = iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc("lambda:*"), SetAsDefault=True)["PolicyVersion"]
out["v2"].pop("CreateDate")
out["get_v1"] = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]["Document"]
out["versions"] = [(v["VersionId"], v["IsDefaultVersion"]) for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]]
out["delete_default"] = err(lambda: iam.delete_policy_version(PolicyArn=arn, VersionId="v2"))
out["no_version"] = err(lambda: iam.get_policy_version(PolicyArn=arn, VersionId="v9"))
out["local"] = [x["PolicyName"] for x in iam.list_policies(Scope="Local")["Policies"]]
out["aws_basic"] = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")["Policy"]["PolicyName"]
out["malformed"] = err(lambda: iam.create_policy(PolicyName="m", PolicyDocument=json.dumps({"Statement": [{"Action": "s3:*"}]})))
out["principal_in_identity"] = err(lambda: iam.create_policy(PolicyName="m", PolicyDocument=trust))

iam.create_role(RoleName="app", AssumeRolePolicyDocument=trust, Path="/svc/")
iam.attach_role_policy(RoleName="app", PolicyArn=arn)
out["attachments"] = iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"]
out["delete_attached"] = err(lambda: iam.delete_policy(PolicyArn=arn))
iam.put_role_policy(RoleName="app", PolicyName="inline", PolicyDocument=doc("sqs:*"))
out["inline"] = iam.get_role_policy(RoleName="app", PolicyName="inline")
out["inline"].pop("ResponseMetadata")
out["inline_names"] = iam.list_role_policies(RoleName="app")["PolicyNames"]
out["no_inline"] = err(lambda: iam.get_role_policy(RoleName="app", PolicyName="nope"))
iam.tag_role(RoleName="app", Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
iam.untag_role(RoleName="app", TagKeys=["a"])
out["tags"] = iam.list_role_tags(RoleName="app")["Tags"]
iam.update_assume_role_policy(RoleName="app", PolicyDocument=trust.replace("root", "user/x"))
out["trust"] = iam.get_role(RoleName="app")["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
out["role_arn"] = iam.get_role(RoleName="app")["Role"]["Arn"]
out["delete_inline_first"] = err(lambda: (iam.detach_role_policy(RoleName="app", PolicyArn=arn), iam.delete_role(RoleName="app")))
iam.delete_role_policy(RoleName="app", PolicyName="inline")
iam.delete_role(RoleName="app")
iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
iam.delete_policy(PolicyArn=arn)
out["gone"] = err(lambda: iam.get_policy(PolicyArn=arn))

for n in ("u1", "u2", "u3"):
    iam.create_user(UserName=n)
page = iam.list_users(MaxItems=2)
out["page1"] = ([u["UserName"] for u in page["Users"]], page["IsTruncated"])
page = iam.list_users(MaxItems=2, Marker=page["Marker"])
out["page2"] = ([u["UserName"] for u in page["Users"]], page["IsTruncated"])
key = iam.create_access_key(UserName="u1")["AccessKey"]
out["key"] = (key["AccessKeyId"][:4], len(key["AccessKeyId"]), len(key["SecretAccessKey"]), key["Status"])
iam.create_access_key(UserName="u1")
out["third_key"] = err(lambda: iam.create_access_key(UserName="u1"))
listed = iam.list_access_keys(UserName="u1")["AccessKeyMetadata"]
out["listed"] = sorted(listed[0].keys()) == ["AccessKeyId", "CreateDate", "Status", "UserName"] and len(listed) == 2
out["delete_user_keys"] = err(lambda: iam.delete_user(UserName="u1"))
iam.put_user_policy(UserName="u1", PolicyName="p", PolicyDocument=doc("*"))
iam.attach_user_policy(UserName="u1", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
out["user_policies"] = (iam.list_user_policies(UserName="u1")["PolicyNames"],
                        [x["PolicyName"] for x in iam.list_attached_user_policies(UserName="u1")["AttachedPolicies"]])
out["user_doc"] = iam.get_user_policy(UserName="u1", PolicyName="p")["PolicyDocument"]["Statement"][0]["Action"]
for k in listed:
    iam.delete_access_key(UserName="u1", AccessKeyId=k["AccessKeyId"])
out["no_key"] = err(lambda: iam.delete_access_key(UserName="u1", AccessKeyId=key["AccessKeyId"]))
iam.delete_user_policy(UserName="u1", PolicyName="p")
iam.detach_user_policy(UserName="u1", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
iam.delete_user(UserName="u1")
out["no_user"] = err(lambda: iam.get_user(UserName="u1"))
out["dup_user"] = err(lambda: iam.create_user(UserName="u2"))
out["secret"] = key["SecretAccessKey"]
print(json.dumps(out))
"#;

#[test]
fn boto3_policies_versions_inline_users_and_keys() {
    let s = Server::start();
    let v = python_script(CRUD_PY, &[&s.endpoint()]);
    let e = |code: &str, status: u16, message: &str| json!({"code": code, "status": status, "message": message});
    let arn = "arn:aws:iam::000000000000:policy/app/invoke";
    assert_eq!(
        v["policy"],
        json!({"PolicyName": "invoke", "Arn": arn, "Path": "/app/", "DefaultVersionId": "v1", "AttachmentCount": 0, "IsAttachable": true})
    );
    assert_eq!(
        v["dup_policy"],
        e(
            "EntityAlreadyExists",
            409,
            "A policy called invoke already exists. Duplicate names are not allowed."
        )
    );
    assert_eq!(
        v["v2"],
        json!({"VersionId": "v2", "IsDefaultVersion": true})
    );
    assert_eq!(v["get_v1"]["Statement"][0]["Action"], "execute-api:Invoke");
    assert_eq!(v["versions"], json!([["v2", true], ["v1", false]]));
    assert_eq!(
        v["delete_default"],
        e(
            "DeleteConflict",
            409,
            "Cannot delete the default version of a policy."
        )
    );
    assert_eq!(
        v["no_version"],
        e(
            "NoSuchEntity",
            404,
            &format!("Policy {arn} version v9 does not exist or is not attachable.")
        )
    );
    assert_eq!(v["local"], json!(["invoke"]));
    assert_eq!(v["aws_basic"], "AWSLambdaBasicExecutionRole");
    assert_eq!(
        v["malformed"],
        e("MalformedPolicyDocument", 400, "Syntax errors in policy.")
    );
    assert_eq!(
        v["principal_in_identity"],
        e(
            "MalformedPolicyDocument",
            400,
            "Policy document should not specify a principal."
        )
    );
    assert_eq!(v["attachments"], 1);
    assert_eq!(
        v["delete_attached"],
        e(
            "DeleteConflict",
            409,
            "Cannot delete a policy attached to entities."
        )
    );
    assert_eq!(v["inline"]["RoleName"], "app");
    assert_eq!(v["inline"]["PolicyName"], "inline");
    assert_eq!(
        v["inline"]["PolicyDocument"]["Statement"][0]["Action"],
        "sqs:*"
    );
    assert_eq!(v["inline_names"], json!(["inline"]));
    assert_eq!(
        v["no_inline"],
        e(
            "NoSuchEntity",
            404,
            "The role policy with name nope cannot be found."
        )
    );
    assert_eq!(v["tags"], json!([{"Key": "b", "Value": "2"}]));
    assert_eq!(
        v["trust"],
        json!({"AWS": "arn:aws:iam::000000000000:user/x"})
    );
    assert_eq!(v["role_arn"], "arn:aws:iam::000000000000:role/svc/app");
    assert_eq!(
        v["delete_inline_first"],
        e(
            "DeleteConflict",
            409,
            "Cannot delete entity, must delete policies first."
        )
    );
    assert_eq!(
        v["gone"],
        e("NoSuchEntity", 404, &format!("Policy {arn} was not found."))
    );
    assert_eq!(v["page1"], json!([["u1", "u2"], true]));
    assert_eq!(v["page2"], json!([["u3"], false]));
    assert_eq!(v["key"], json!(["AKIA", 20, 40, "Active"]));
    assert_eq!(
        v["third_key"],
        e(
            "LimitExceeded",
            409,
            "Cannot exceed quota for AccessKeysPerUser: 2"
        )
    );
    assert_eq!(v["listed"], true);
    assert_eq!(
        v["delete_user_keys"],
        e(
            "DeleteConflict",
            409,
            "Cannot delete entity, must delete access keys first."
        )
    );
    assert_eq!(v["user_policies"], json!([["p"], ["AdministratorAccess"]]));
    assert_eq!(v["user_doc"], "*");
    assert_eq!(v["no_key"]["code"], "NoSuchEntity", "{}", v["no_key"]);
    assert_eq!(
        v["no_user"],
        e(
            "NoSuchEntity",
            404,
            "The user with name u1 cannot be found."
        )
    );
    assert_eq!(
        v["dup_user"],
        e(
            "EntityAlreadyExists",
            409,
            "User with name u2 already exists."
        )
    );
    // Secrets are never logged.
    let secret = str_of(&v, "secret");
    assert!(!s.stderr().contains(&secret), "{}", s.stderr());
}

/// Sets up IAM callers through boto3 (unless given their keys), then signs requests with
/// each: STS GetCallerIdentity, and the data-plane URLs given.
const CALLERS_PY: &str = r#"
import json, sys, urllib.error, urllib.request
import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

ep, urls, keys = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
root = dict(endpoint_url=ep, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
iam, sts = boto3.client("iam", **root), boto3.client("sts", **root)
if not keys:
    allow = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:*:*:*/*/GET/*"}]}
    iam.create_user(UserName="alice")
    iam.put_user_policy(UserName="alice", PolicyName="get-only", PolicyDocument=json.dumps(allow))
    k = iam.create_access_key(UserName="alice")["AccessKey"]
    keys["alice"] = [k["AccessKeyId"], k["SecretAccessKey"], None]
    iam.create_user(UserName="bob")
    k = iam.create_access_key(UserName="bob")["AccessKey"]
    keys["bob"] = [k["AccessKeyId"], k["SecretAccessKey"], None]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
             "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName="invoker", AssumeRolePolicyDocument=json.dumps(trust))
    iam.attach_role_policy(RoleName="invoker", PolicyArn="arn:aws:iam::aws:policy/AmazonAPIGatewayInvokeFullAccess")
    c = sts.assume_role(RoleArn="arn:aws:iam::000000000000:role/invoker", RoleSessionName="s1",
                        DurationSeconds=900)
    keys["session"] = [c["Credentials"]["AccessKeyId"], c["Credentials"]["SecretAccessKey"],
                       c["Credentials"]["SessionToken"]]
    keys["assumed"] = c["AssumedRoleUser"]["Arn"]
    keys["expiration_s"] = int(c["Credentials"]["Expiration"].timestamp())
    # bob may not assume a role his policies do not allow, trust or not.
    bob = boto3.client("sts", endpoint_url=ep, region_name="us-east-1",
                       aws_access_key_id=keys["bob"][0], aws_secret_access_key=keys["bob"][1])
    try:
        bob.assume_role(RoleArn="arn:aws:iam::000000000000:role/invoker", RoleSessionName="s2")
        keys["bob_assume"] = "allowed"
    except ClientError as e:
        keys["bob_assume"] = [e.response["Error"]["Code"], e.response["Error"]["Message"]]
    # A trust policy requiring an external id (the usual cross-party pattern).
    partner = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
               "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "sts:AssumeRole",
               "Condition": {"StringEquals": {"sts:ExternalId": "xyz-42"}}}]}
    iam.create_role(RoleName="partner", AssumeRolePolicyDocument=json.dumps(partner))
    keys["external"] = []
    for extra in ({}, {"ExternalId": "wrong"}, {"ExternalId": "xyz-42"}):
        try:
            sts.assume_role(RoleArn="arn:aws:iam::000000000000:role/partner", RoleSessionName="partner-s", **extra)
            keys["external"].append("allowed")
        except ClientError as e:
            keys["external"].append(e.response["Error"]["Code"])

out = {"keys": keys, "identity": {}, "calls": []}
for who in ("alice", "session"):
    k = keys[who]
    c = boto3.client("sts", endpoint_url=ep, region_name="us-east-1", aws_access_key_id=k[0],
                     aws_secret_access_key=k[1], aws_session_token=k[2])
    i = c.get_caller_identity()
    out["identity"][who] = [i["Arn"], i["UserId"][:4]]
for who, method, url, token in urls:
    k = keys[who]
    req = AWSRequest(method=method, url=url, data=b"")
    SigV4Auth(Credentials(k[0], k[1], k[2] if token else None), "execute-api", "us-east-1").add_auth(req)
    p = req.prepare()
    r = urllib.request.Request(p.url, data=p.body or None, method=p.method, headers=dict(p.headers))
    try:
        resp = urllib.request.urlopen(r)
        status, body = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    out["calls"].append([who, method, status, body.decode()])
print(json.dumps(out))
"#;

#[test]
fn iam_users_and_assumed_roles_call_aws_iam_methods_and_survive_a_restart() {
    let s = Server::start();
    let backend = Backend::start();
    let api = str_of(&apigw(&s, &["create-rest-api", "--name", "iam"]), "id");
    let root = str_of(
        &apigw(&s, &["get-resources", "--rest-api-id", &api])["items"][0],
        "id",
    );
    let admin = create_resource(&s, &api, &root, "admin");
    let caller = r#"{"caller": "$context.identity.userArn"}"#;
    for verb in ["GET", "POST"] {
        mock_method(
            &s,
            (&api, &admin, verb),
            &["--authorization-type", "AWS_IAM"],
            caller,
        );
    }
    deploy(&s, &api, "prod");
    let http = v2_http_api(&s, "iam-http");
    let integration = v2_http_proxy(&s, &http, "GET", &format!("{}/me", backend.url()), &[]);
    v2_route(
        &s,
        &http,
        "GET /me",
        &integration,
        &["--authorization-type", "AWS_IAM"],
    );
    v2_default_stage(&s, &http);

    let rest_url = format!(
        "http://127.0.0.1:{}{}",
        s.port,
        Server::exec_path(&api, "/prod/admin")
    );
    let http_url = format!(
        "http://127.0.0.1:{}/_aws/execute-api/{http}/$default/me",
        s.port
    );
    // LocalStack's path form: the signature covers the path as sent.
    let localstack_url = format!(
        "http://127.0.0.1:{}/restapis/{api}/prod/_user_request_/admin",
        s.port
    );
    let urls = json!([
        ["alice", "GET", rest_url, true],
        ["alice", "POST", rest_url, true],
        ["bob", "GET", rest_url, true],
        ["session", "GET", rest_url, true],
        ["session", "POST", rest_url, true],
        ["session", "GET", rest_url, false],
        ["alice", "GET", http_url, true],
        ["bob", "GET", http_url, true],
        ["session", "GET", http_url, true],
        ["alice", "GET", localstack_url, true],
    ]);
    let v = python_script(CALLERS_PY, &[&s.endpoint(), &urls.to_string(), "{}"]);
    let alice_arn = "arn:aws:iam::000000000000:user/alice";
    let assumed = "arn:aws:sts::000000000000:assumed-role/invoker/s1";
    assert_eq!(v["keys"]["assumed"], assumed);
    assert_eq!(
        v["keys"]["bob_assume"],
        json!(["AccessDenied", "User: arn:aws:iam::000000000000:user/bob is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::000000000000:role/invoker"])
    );
    assert_eq!(
        v["keys"]["external"],
        json!(["AccessDenied", "AccessDenied", "allowed"]),
        "sts:ExternalId in a trust policy's condition"
    );
    assert_eq!(v["identity"]["alice"], json!([alice_arn, "AIDA"]));
    assert_eq!(v["identity"]["session"], json!([assumed, "AROA"]));
    let calls = v["calls"].as_array().unwrap();
    let status: Vec<u64> = calls.iter().map(|c| c[2].as_u64().unwrap()).collect();
    assert_eq!(
        status,
        [200, 403, 403, 200, 200, 403, 200, 403, 200, 200],
        "{calls:#?}"
    );
    assert_eq!(
        calls[0][3],
        format!(r#"{{"caller": "{alice_arn}"}}"#),
        "{calls:#?}"
    );
    assert!(
        calls[1][3].as_str().unwrap().contains(&format!(
            "User: {alice_arn} is not authorized to perform: execute-api:Invoke"
        )),
        "{calls:#?}"
    );
    assert!(
        calls[3][3].as_str().unwrap().contains(assumed),
        "{calls:#?}"
    );

    // Restarted on the same data dir: the users, their keys and the session still work.
    let dir = s.dir();
    drop(s);
    let s = Server::start_in(dir);
    let rest_url = format!(
        "http://127.0.0.1:{}{}",
        s.port,
        Server::exec_path(&api, "/prod/admin")
    );
    let urls = json!([
        ["alice", "GET", rest_url, true],
        ["session", "GET", rest_url, true]
    ]);
    let again = python_script(
        CALLERS_PY,
        &[&s.endpoint(), &urls.to_string(), &v["keys"].to_string()],
    );
    let status: Vec<u64> = again["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c[2].as_u64().unwrap())
        .collect();
    assert_eq!(status, [200, 200], "{again:#}");
    assert_eq!(
        iam(&s, &["get-user", "--user-name", "alice"])["User"]["Arn"],
        alice_arn
    );
}

#[test]
fn control_plane_calls_with_a_users_key_follow_its_policies() {
    let s = Server::start();
    iam(&s, &["create-user", "--user-name", "ops"]);
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "apigateway:GET", "Resource": "arn:aws:apigateway:*::/restapis"},
        {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]});
    iam(
        &s,
        &[
            "put-user-policy",
            "--user-name",
            "ops",
            "--policy-name",
            "read",
            "--policy-document",
            &policy.to_string(),
        ],
    );
    let key = iam(&s, &["create-access-key", "--user-name", "ops"]);
    let id = str_of(&key["AccessKey"], "AccessKeyId");
    let secret = str_of(&key["AccessKey"], "SecretAccessKey");
    let env = [
        ("AWS_ACCESS_KEY_ID", id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", secret.as_str()),
    ];
    let apis = aws_with_env(&s, &["apigateway", "get-rest-apis"], &env)
        .unwrap_or_else(|e| panic!("{}", e.stderr));
    assert_eq!(apis["items"], json!([]));
    let me =
        aws_with_env(&s, &["iam", "get-user"], &env).unwrap_or_else(|e| panic!("{}", e.stderr));
    assert_eq!(me["User"]["UserName"], "ops");
    let ident = aws_with_env(&s, &["sts", "get-caller-identity"], &env)
        .unwrap_or_else(|e| panic!("{}", e.stderr));
    assert_eq!(ident["Arn"], "arn:aws:iam::000000000000:user/ops");
    let e = aws_with_env(&s, &["apigateway", "create-rest-api", "--name", "x"], &env)
        .expect_err("POST is not allowed");
    assert_cli_error(
        &e,
        "AccessDeniedException",
        "User: arn:aws:iam::000000000000:user/ops is not authorized to perform: apigateway:POST on resource: arn:aws:apigateway:us-east-1::/restapis",
    );
    let e = aws_with_env(&s, &["iam", "list-roles"], &env).expect_err("not allowed");
    assert_cli_error(
        &e,
        "AccessDenied",
        "User: arn:aws:iam::000000000000:user/ops is not authorized to perform: iam:ListRoles on resource: *",
    );
    let e = aws_with_env(&s, &["lambda", "list-functions"], &env).expect_err("not allowed");
    assert_cli_error(
        &e,
        "AccessDeniedException",
        "lambda:ListFunctions on resource: *",
    );
    // Nothing was created by the refused call.
    assert_eq!(apigw(&s, &["get-rest-apis"])["items"], json!([]));
}
