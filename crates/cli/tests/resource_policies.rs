//! Resource policies at request time (auth-throttle-cache.md §7.2) for callers without IAM
//! identity: a matching Deny refuses before anything else, NONE methods need the policy's
//! own Allow, conditions read the request (`aws:SourceIp`), `execute-api:/...` shorthand
//! names the API's methods, and the policy is part of the deployment (a change waits for
//! the next one).

mod common;

use common::*;
use serde_json::json;

fn mock(s: &Server, api: &str, res: &str, verb: &str) {
    mock_method(
        s,
        (api, res, verb),
        &["--authorization-type", "NONE"],
        r#"{"ok": true}"#,
    );
}

#[test]
fn resource_policy_decisions() {
    let s = Server::start();
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
         "Resource": "execute-api:/*/GET/*",
         "Condition": {"IpAddress": {"aws:SourceIp": ["127.0.0.0/8", "::1/128"]}}},
        {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke",
         "Resource": "execute-api:/*/*/secret"},
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/alice"},
         "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]})
    .to_string();
    let api = str_of(
        &apigw(
            &s,
            &["create-rest-api", "--name", "rp", "--policy", &policy],
        ),
        "id",
    );
    let root = apigw(&s, &["get-resources", "--rest-api-id", &api])["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let secret = create_resource(&s, &api, &root, "secret");
    mock(&s, &api, &root, "GET");
    mock(&s, &api, &root, "POST");
    mock(&s, &api, &secret, "GET");
    deploy(&s, &api, "prod");

    let r = s.invoke(&api, "/prod/");
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.json(), json!({"ok": true}));

    let r = s.invoke(&api, "/prod/secret");
    assert_eq!(r.status, 403, "{r}");
    assert_eq!(r.header("x-amzn-ErrorType"), Some("AccessDeniedException"));
    assert_eq!(
        r.json(),
        json!({"Message": format!("User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********0000:{api}/prod/GET/secret with an explicit deny")})
    );

    // Silent (only alice, an IAM principal, is allowed POST): an implicit deny.
    let r = Http::post(s.port, &Server::exec_path(&api, "/prod/")).send();
    assert_eq!(r.status, 403, "{r}");
    assert_eq!(
        r.json(),
        json!({"Message": format!("User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********0000:{api}/prod/POST/")})
    );

    // A new policy takes effect with the next deployment.
    let deny_all = json!({"Statement": [{"Effect": "Deny", "Principal": "*",
        "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]})
    .to_string();
    apigw(
        &s,
        &[
            "update-rest-api",
            "--rest-api-id",
            &api,
            "--patch-operations",
            &json!([{"op": "replace", "path": "/policy", "value": deny_all}]).to_string(),
        ],
    );
    assert_eq!(s.invoke(&api, "/prod/").status, 200);
    deploy(&s, &api, "prod");
    let r = s.invoke(&api, "/prod/");
    assert_eq!(r.status, 403, "{r}");
    assert!(r.text().contains("with an explicit deny"), "{r}");
}
