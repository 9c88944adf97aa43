//! `AWS_IAM` methods (auth-throttle-cache.md §7.1, §7.2): requests signed by botocore's
//! SigV4 signers (header and presigned query forms, session tokens) for the account root
//! (the control-plane key) and `--principals` callers; every outcome of §7.1 with AWS's
//! bodies; identity policies combined with resource policies as §7.2's table says;
//! `$context.identity` in a mapping template and the Lambda proxy event; the signature
//! headers never reach the integration.

mod common;

use common::lambda::*;
use common::*;
use serde_json::{json, Value};

/// Signs and sends each request spec with botocore, printing status, body and error type.
const SIGNER_PY: &str = r#"
import datetime, json, sys, urllib.error, urllib.request
import botocore.auth
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

out = []
real_now = botocore.auth.get_current_datetime
for spec in json.loads(sys.argv[1]):
    req = AWSRequest(method=spec["method"], url=spec["url"], data=spec.get("body", "").encode(),
                     headers={"Content-Type": "application/json"})
    if spec.get("key"):
        creds = Credentials(spec["key"], spec["secret"], spec.get("token"))
        skew = datetime.timedelta(seconds=spec.get("skew", 0))
        botocore.auth.get_current_datetime = lambda: real_now() + skew
        if spec.get("presign"):
            SigV4QueryAuth(creds, "execute-api", "us-east-1", expires=60).add_auth(req)
        else:
            SigV4Auth(creds, "execute-api", "us-east-1").add_auth(req)
        botocore.auth.get_current_datetime = real_now
    if "tamper" in spec:
        req.data = spec["tamper"].encode()
    p = req.prepare()
    r = urllib.request.Request(p.url, data=p.body or None, method=p.method, headers=dict(p.headers))
    try:
        resp = urllib.request.urlopen(r)
        status, body, headers = resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as e:
        status, body, headers = e.code, e.read(), e.headers
    out.append({"status": status, "body": json.loads(body or b"null"),
                "errorType": headers.get("x-amzn-ErrorType")})
print(json.dumps(out))
"#;

const IDENTITY_PY: &str = r#"
import json
def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"identity": event["requestContext"]["identity"],
            "authorization": event["headers"].get("Authorization")})}
"#;

const IDENTITY_TEMPLATE: &str = r#"{"accessKey": "$context.identity.accessKey", "accountId": "$context.identity.accountId", "caller": "$context.identity.caller", "user": "$context.identity.user", "userArn": "$context.identity.userArn", "sourceIp": "$context.identity.sourceIp", "auth": "$input.params('Authorization')"}"#;

fn principals() -> Value {
    let allow = |resource: &str| json!({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": resource});
    json!({"principals": [
        {"accessKeyId": "AKIAALICE", "secretAccessKey": "alice-secret",
         "arn": "arn:aws:iam::000000000000:user/alice",
         "policies": [{"Version": "2012-10-17", "Statement": [
             allow("arn:aws:execute-api:*:*:*/*/*/*"),
             {"Effect": "Deny", "Action": "execute-api:*", "Resource": "arn:aws:execute-api:*:*:*/*/GET/blocked"}]}]},
        {"accessKeyId": "AKIABOB", "secretAccessKey": "bob-secret",
         "arn": "arn:aws:iam::111122223333:user/bob",
         "policies": [{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]},
        {"accessKeyId": "ASIACAROL", "secretAccessKey": "carol-secret", "sessionToken": "carol-token",
         "expiration": "2999-01-01T00:00:00Z", "arn": "arn:aws:iam::000000000000:user/carol",
         "policies": [{"Statement": allow("*")}]},
        {"accessKeyId": "ASIADAVE", "secretAccessKey": "dave-secret", "sessionToken": "dave-token",
         "expiration": "2020-01-01T00:00:00Z", "arn": "arn:aws:iam::000000000000:user/dave",
         "policies": [{"Statement": allow("*")}]},
        {"accessKeyId": "AKIAEVE", "secretAccessKey": "eve-secret", "userId": "AIDAEVE",
         "arn": "arn:aws:iam::000000000000:user/eve"},
        {"accessKeyId": "AKIAFRANK", "secretAccessKey": "frank-secret",
         "arn": "arn:aws:iam::000000000000:user/frank",
         "policies": [{"Statement": {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::000000000000:user/frank"},
                           "DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}}}]}
    ]})
}

/// A request spec for [`SIGNER_PY`]: `who` is `(key, secret)`, `None` for unsigned.
fn spec(s: &Server, method: &str, api: &str, path: &str, who: Option<(&str, &str)>) -> Value {
    let url = format!(
        "http://127.0.0.1:{}{}",
        s.port,
        Server::exec_path(api, path)
    );
    let mut v = json!({"method": method, "url": url});
    if let Some((key, secret)) = who {
        v["key"] = json!(key);
        v["secret"] = json!(secret);
    }
    v
}

fn send(specs: &[Value]) -> Vec<Value> {
    let out = python_script(SIGNER_PY, &[&Value::from(specs.to_vec()).to_string()]);
    out.as_array().unwrap().clone()
}

/// A 403 with this `x-amzn-ErrorType` and body.
fn refused(r: &Value, error_type: &str, body: Value) {
    assert_eq!(r["status"], 403, "{r}");
    assert_eq!(r["errorType"], error_type, "{r}");
    assert_eq!(r["body"], body, "{r}");
}

fn denied(api: &str, user: &str, path: &str, explicit: bool) -> Value {
    let suffix = if explicit {
        " with an explicit deny"
    } else {
        ""
    };
    json!({"Message": format!("User: {user} is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********0000:{api}/prod/GET/{path}{suffix}")})
}

const ALICE: Option<(&str, &str)> = Some(("AKIAALICE", "alice-secret"));
const BOB: Option<(&str, &str)> = Some(("AKIABOB", "bob-secret"));
const EVE: Option<(&str, &str)> = Some(("AKIAEVE", "eve-secret"));

fn server() -> Server {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let file = dir.path().join("principals.json");
    std::fs::write(&file, principals().to_string()).unwrap();
    Server::start_with(dir.clone(), &["--principals", file.to_str().unwrap()])
}

fn iam_mock(s: &Server, api: &str, parent: &str, part: &str, template: &str) -> String {
    let res = create_resource(s, api, parent, part);
    mock_method(
        s,
        (api, &res, "GET"),
        &["--authorization-type", "AWS_IAM"],
        template,
    );
    res
}

fn root_of(s: &Server, api: &str) -> String {
    str_of(
        &apigw(s, &["get-resources", "--rest-api-id", api])["items"][0],
        "id",
    )
}

#[test]
fn sigv4_outcomes_identity_and_headers() {
    let s = server();
    let backend = Backend::start();
    let api = str_of(&apigw(&s, &["create-rest-api", "--name", "iam"]), "id");
    let root = root_of(&s, &api);
    let pets = iam_mock(&s, &api, &root, "pets", r#"{"pets": true}"#);
    mock_method(
        &s,
        (&api, &pets, "POST"),
        &["--authorization-type", "AWS_IAM"],
        r#"{"posted": true}"#,
    );
    iam_mock(&s, &api, &root, "blocked", "{}");
    iam_mock(&s, &api, &root, "ctx", IDENTITY_TEMPLATE);
    let proxy = create_resource(&s, &api, &root, "backend");
    let on = |op: &str, rest: &[&str]| {
        let mut v = vec![
            op,
            "--rest-api-id",
            &api,
            "--resource-id",
            &proxy,
            "--http-method",
            "GET",
        ];
        v.extend_from_slice(rest);
        apigw(&s, &v)
    };
    on("put-method", &["--authorization-type", "AWS_IAM"]);
    let uri = format!("{}/seen", backend.url());
    on(
        "put-integration",
        &[
            "--type",
            "HTTP_PROXY",
            "--integration-http-method",
            "GET",
            "--uri",
            &uri,
        ],
    );
    let zip = zip_file(
        s.data_path(),
        "ident.zip",
        &[("ident.py", IDENTITY_PY, 0o644)],
    );
    create_function(&s, "ident", "python3.12", "ident.handler", &zip, &[]);
    proxy_resource(&s, &api, "ident", &["--authorization-type", "AWS_IAM"]);
    grant_api(&s, "ident", &api, None);
    deploy(&s, &api, "prod");
    // Access logs read `$context.identity.*` too.
    let format = json!({"path": "$context.resourcePath", "key": "$context.identity.accessKey",
        "arn": "$context.identity.userArn", "account": "$context.identity.accountId"});
    set_access_log(&s, &api, "prod", &format.to_string());

    let get = |path: &str, who| spec(&s, "GET", &api, path, who);
    let mut post = spec(&s, "POST", &api, "/prod/pets", ALICE);
    post["body"] = json!(r#"{"n": 7}"#);
    let mut tampered = post.clone();
    tampered["tamper"] = json!(r#"{"n": 8}"#);
    let mut presigned = get("/prod/pets", ALICE);
    presigned["presign"] = json!(true);
    let mut skewed = get("/prod/pets", ALICE);
    skewed["skew"] = json!(-600);
    let mut carol = get("/prod/pets", Some(("ASIACAROL", "carol-secret")));
    carol["token"] = json!("carol-token");
    let mut carol_presigned = carol.clone();
    carol_presigned["presign"] = json!(true);
    let carol_without_token = get("/prod/pets", Some(("ASIACAROL", "carol-secret")));
    let mut dave = get("/prod/pets", Some(("ASIADAVE", "dave-secret")));
    dave["token"] = json!("dave-token");
    let r = send(&[
        get("/prod/pets", None),
        get("/prod/pets", Some(("test", "test"))),
        get("/prod/pets", ALICE),
        presigned,
        post,
        tampered,
        get("/prod/pets", Some(("AKIAALICE", "wrong"))),
        get("/prod/pets", Some(("AKIANOBODY", "x"))),
        skewed,
        carol,
        carol_without_token,
        dave,
        get("/prod/pets", EVE),
        get("/prod/blocked", ALICE),
        get("/prod/pets", BOB),
        get("/prod/ctx", ALICE),
        get("/prod/backend", ALICE),
        get("/prod/fn/x", ALICE),
        carol_presigned,
    ]);
    let status = |i: usize| r[i]["status"].as_u64().unwrap();
    let mismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
    let invalid_token = "The security token included in the request is invalid.";
    let expired = "The security token included in the request is expired";

    refused(
        &r[0],
        "MissingAuthenticationTokenException",
        json!({"message": "Missing Authentication Token"}),
    );
    for (i, what) in [
        (18, "presigned with a session token"),
        (1, "root"),
        (2, "alice"),
        (3, "presigned"),
        (9, "session token"),
    ] {
        assert_eq!(status(i), 200, "{what}: {}", r[i]);
        assert_eq!(r[i]["body"], json!({"pets": true}), "{what}");
    }
    assert_eq!(status(4), 200, "{}", r[4]);
    assert_eq!(r[4]["body"], json!({"posted": true}));
    refused(
        &r[5],
        "InvalidSignatureException",
        json!({"message": mismatch}),
    );
    refused(
        &r[6],
        "InvalidSignatureException",
        json!({"message": mismatch}),
    );
    refused(
        &r[7],
        "UnrecognizedClientException",
        json!({"message": invalid_token}),
    );
    refused(
        &r[10],
        "UnrecognizedClientException",
        json!({"message": invalid_token}),
    );
    let skew = r[8]["body"]["message"].as_str().unwrap_or_default();
    assert!(skew.starts_with("Signature expired: "), "{}", r[8]);
    refused(&r[8], "InvalidSignatureException", json!({"message": skew}));
    refused(&r[11], "ExpiredTokenException", json!({"message": expired}));
    let eve = "arn:aws:iam::000000000000:user/eve";
    refused(
        &r[12],
        "AccessDeniedException",
        denied(&api, eve, "pets", false),
    );
    let alice = "arn:aws:iam::000000000000:user/alice";
    refused(
        &r[13],
        "AccessDeniedException",
        denied(&api, alice, "blocked", true),
    );
    // Another account's caller needs the API's resource policy too; there is none.
    let bob = "arn:aws:iam::111122223333:user/bob";
    refused(
        &r[14],
        "AccessDeniedException",
        denied(&api, bob, "pets", false),
    );

    assert_eq!(status(15), 200, "{}", r[15]);
    assert_eq!(
        r[15]["body"],
        json!({"accessKey": "AKIAALICE", "accountId": "000000000000", "caller": "AKIAALICE",
               "user": "AKIAALICE", "userArn": "arn:aws:iam::000000000000:user/alice",
               "sourceIp": "127.0.0.1", "auth": ""})
    );
    assert_eq!(status(16), 200, "{}", r[16]);
    let seen = backend.last();
    for h in ["authorization", "x-amz-date"] {
        assert_eq!(seen.header(h), None, "{h} reached the backend");
    }
    assert_eq!(status(17), 200, "{}", r[17]);
    let event = &r[17]["body"];
    assert_eq!(event["authorization"], Value::Null);
    let id = &event["identity"];
    assert_eq!(id["accessKey"], "AKIAALICE");
    assert_eq!(id["accountId"], "000000000000");
    assert_eq!(id["caller"], "AKIAALICE");
    assert_eq!(id["user"], "AKIAALICE");
    assert_eq!(id["userArn"], "arn:aws:iam::000000000000:user/alice");
    assert_eq!(id["sourceIp"], "127.0.0.1");

    let log = s
        .data_path()
        .join("access-logs")
        .join(format!("{api}-prod.log"));
    let line = eventually("the access log line of /ctx", || {
        std::fs::read_to_string(&log)
            .ok()?
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["path"] == "/ctx")
    });
    assert_eq!(
        line,
        json!({"path": "/ctx", "key": "AKIAALICE", "arn": "arn:aws:iam::000000000000:user/alice",
               "account": "000000000000"})
    );
}

#[test]
fn resource_policies_with_iam_callers() {
    let s = server();
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "execute-api:Invoke",
         "Resource": "execute-api:/*/GET/pets"},
        {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::000000000000:user/eve"]},
         "Action": "execute-api:Invoke", "Resource": "execute-api:/*/GET/pets"},
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
         "Action": "execute-api:Invoke", "Resource": "execute-api:/*/GET/blocked"},
        {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::000000000000:user/alice"},
         "Action": "execute-api:Invoke", "Resource": "execute-api:/*/GET/other"},
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
         "Resource": "execute-api:/*/GET/acct",
         "Condition": {"StringEquals": {"aws:PrincipalAccount": "111122223333"}}}]})
    .to_string();
    let api = str_of(
        &apigw(
            &s,
            &["create-rest-api", "--name", "iam-rp", "--policy", &policy],
        ),
        "id",
    );
    let root = root_of(&s, &api);
    for part in ["pets", "other", "blocked", "acct"] {
        iam_mock(&s, &api, &root, part, r#"{"ok": true}"#);
    }
    deploy(&s, &api, "prod");
    let get = |path: &str, who| spec(&s, "GET", &api, &format!("/prod/{path}"), who);
    let r = send(&[
        get("pets", ALICE),
        get("pets", EVE),
        get("other", EVE),
        get("other", ALICE),
        get("blocked", ALICE),
        get("pets", BOB),
        get("other", BOB),
        get("pets", None),
        get("acct", BOB),
        get("acct", EVE),
    ]);
    let alice = "arn:aws:iam::000000000000:user/alice";
    let eve = "arn:aws:iam::000000000000:user/eve";
    let bob = "arn:aws:iam::111122223333:user/bob";
    // (identity, resource policy) → result, as §7.2's table.
    let rows = [
        ("Allow + silent", None),
        ("silent + Allow", None),
        ("silent + silent", Some(denied(&api, eve, "other", false))),
        ("Allow + Deny", Some(denied(&api, alice, "other", true))),
        ("Deny + Allow", Some(denied(&api, alice, "blocked", true))),
        ("cross-account Allow + Allow", None),
        (
            "cross-account Allow + silent",
            Some(denied(&api, bob, "other", false)),
        ),
    ];
    for (i, (row, expect)) in rows.iter().enumerate() {
        match expect {
            None => assert_eq!(r[i]["body"], json!({"ok": true}), "{row}: {}", r[i]),
            Some(body) => refused(&r[i], "AccessDeniedException", body.clone()),
        }
    }
    // Authentication comes first: an unsigned request is not the policy's business.
    assert_eq!(
        r[7]["body"],
        json!({"message": "Missing Authentication Token"})
    );
    // Conditions read the caller (`aws:PrincipalAccount`).
    assert_eq!(r[8]["body"], json!({"ok": true}), "{}", r[8]);
    refused(
        &r[9],
        "AccessDeniedException",
        denied(&api, eve, "acct", false),
    );
}

#[test]
fn a_bad_principals_file_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("principals.json");
    std::fs::write(
        &file,
        r#"{"principals": [{"accessKeyId": "k", "secretAccessKey": "hush", "arn": "bob"}]}"#,
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .arg("--principals")
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("principal 0: arn \"bob\" is not an IAM ARN"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("hush") && !stderr.contains("panicked"),
        "{stderr}"
    );
}

/// Over HTTP/2 the signed host arrives as `:authority`; the signature still holds. (The
/// API is made on a plain listener, then the server restarts with TLS on the same data.)
#[test]
fn signed_requests_over_http2() {
    let mut s = Server::start();
    let api = str_of(&apigw(&s, &["create-rest-api", "--name", "iam-h2"]), "id");
    let root = root_of(&s, &api);
    iam_mock(
        &s,
        &api,
        &root,
        "pets",
        r#"{"caller": "$context.identity.userArn"}"#,
    );
    deploy(&s, &api, "prod");
    s.sigterm();
    let pem = |n: &str| format!("{}/../gateway/tests/data/{n}", env!("CARGO_MANIFEST_DIR"));
    let (cert, key) = (pem("localhost.cert.pem"), pem("localhost.key.pem"));
    let s = Server::start_with(s.dir(), &["--tls-cert", &cert, "--tls-key", &key]);
    let out = std::process::Command::new("curl")
        .args(["-sS", "--http2", "--max-time", "20", "--cacert", &cert])
        .args([
            "--aws-sigv4",
            "aws:amz:us-east-1:execute-api",
            "--user",
            "test:test",
        ])
        .args(["-w", "\n%{http_version} %{http_code}"])
        .arg(format!(
            "https://localhost:{}{}",
            s.port,
            Server::exec_path(&api, "/prod/pets")
        ))
        .output()
        .expect("run curl");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.ends_with("\n2 200"), "{text}");
    assert!(
        text.starts_with(r#"{"caller": "arn:aws:iam::000000000000:root"}"#),
        "{text}"
    );
}

/// `AWS_IAM` on HTTP API routes: the same callers and signatures as REST; every refusal
/// is HTTP APIs' fixed 403; the caller reaches the integration only as identity, never as
/// its signature headers.
#[test]
fn http_api_routes_take_iam_callers() {
    let backend = Backend::start();
    let s = server();
    let api = v2_http_api(&s, "iam-http");
    let echo = format!("{}/echo", backend.url());
    let i = v2_http_proxy(&s, &api, "ANY", &echo, &[]);
    for key in ["GET /pets", "GET /blocked"] {
        v2_route(&s, &api, key, &i, &["--authorization-type", "AWS_IAM"]);
    }
    v2_default_stage(&s, &api);
    let path = |p: &str| format!("/$default/{p}");
    let r = send(&[
        spec(&s, "GET", &api, &path("pets"), None),
        spec(&s, "GET", &api, &path("pets"), ALICE),
        spec(&s, "GET", &api, &path("blocked"), ALICE),
        spec(&s, "GET", &api, &path("pets"), Some(("AKIAALICE", "wrong"))),
        spec(&s, "GET", &api, &path("pets"), Some(("test", "test"))),
        // The caller's and the time's condition keys, as on REST methods.
        spec(
            &s,
            "GET",
            &api,
            &path("pets"),
            Some(("AKIAFRANK", "frank-secret")),
        ),
    ]);
    let forbidden = json!({"message": "Forbidden"});
    for (i, want) in [(0, 403), (1, 200), (2, 403), (3, 403), (4, 200), (5, 200)] {
        assert_eq!(r[i]["status"], want, "request {i}: {}", r[i]);
        if want == 403 {
            assert_eq!(r[i]["body"], forbidden, "request {i}");
        }
    }
    let seen = backend.last();
    assert!(
        seen.header("authorization").is_none() && seen.header("x-amz-date").is_none(),
        "the signature must not reach the backend: {:?}",
        seen.headers
    );
}
