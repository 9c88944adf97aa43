//! Lambda authorizers end to end (lambda-events.md §5, auth-throttle-cache.md §5): real
//! Python and Node authorizer functions on the real binary, an AWS_PROXY function behind
//! them, every outcome row of §5.4 over HTTP, and the result cache proven by counting the
//! authorizer's invocations (each one appends a line to a file). The REQUEST event is read
//! back with `aws_lambda_events`, an independent definition of the format.

mod common;

use common::lambda::*;
use common::*;
use serde_json::{json, Value};

/// Decides by token: `allow-{user}` allows the whole API with a context; `getonly` allows
/// only GET on the requested path; `deny` denies; `silent` allows another API;
/// `unauth` raises Unauthorized; `boom` raises; `badctx` returns a nested context value.
const TOKEN_PY: &str = r#"
import json, os
def handler(event, context):
    with open(os.environ["MARK"], "a") as f:
        f.write(event["authorizationToken"] + "\n")
    token = event["authorizationToken"]
    arn = event["methodArn"]
    api = arn.split("/")[0]
    def policy(effect, resource):
        return {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]}
    if token.startswith("allow-"):
        user = token[len("allow-"):]
        return {"principalId": user, "policyDocument": policy("Allow", api + "/*"),
                "context": {"tenant": user, "tier": 3, "beta": True}}
    if token == "getonly":
        return {"principalId": "g", "policyDocument": policy("Allow", api + "/*/GET/*")}
    if token == "deny":
        return {"principalId": "d", "policyDocument": policy("Deny", api + "/*")}
    if token == "silent":
        return {"principalId": "s", "policyDocument": policy("Allow", "arn:aws:execute-api:us-east-1:000000000000:other/*")}
    if token == "unauth":
        raise Exception("Unauthorized")
    if token == "badctx":
        return {"principalId": "b", "policyDocument": policy("Allow", "*"), "context": {"a": {"b": 1}}}
    raise Exception("boom")
"#;

/// Allows everything, handing the event back as a context value.
const REQUEST_JS: &str = r#"
const fs = require("fs");
exports.handler = async (event) => {
  fs.appendFileSync(process.env.MARK, "x\n");
  return {
    principalId: "node",
    policyDocument: { Version: "2012-10-17", Statement: [
      { Action: "execute-api:Invoke", Effect: "Allow", Resource: event.methodArn }] },
    context: { event: JSON.stringify(event) },
  };
};
"#;

const ECHO_PY: &str = r#"
import json
def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(event)}
"#;

/// An API whose `/{proxy+}` ANY runs `echo` behind the authorizer `create_args` makes.
/// Returns (api, authorizer id).
fn protected_api(s: &Server, create_args: &[&str]) -> (String, String) {
    let api = str_of(&apigw(s, &["create-rest-api", "--name", "authz"]), "id");
    let mut args = vec!["create-authorizer", "--rest-api-id", &api];
    args.extend_from_slice(create_args);
    let authorizer = str_of(&apigw(s, &args), "id");
    proxy_resource(
        s,
        &api,
        "echo",
        &[
            "--authorization-type",
            "CUSTOM",
            "--authorizer-id",
            &authorizer,
        ],
    );
    deploy(s, &api, "prod");
    grant_api(s, "echo", &api, None);
    (api, authorizer)
}

fn request(s: &Server, method: &str, api: &str, path: &str, token: Option<&str>) -> Response {
    let mut h = Http::new(s.port, method, &Server::exec_path(api, path));
    if let Some(t) = token {
        h = h.header("Auth", t);
    }
    h.send()
}

#[test]
fn token_authorizer_outcomes_and_cache() {
    let s = Server::start();
    let mark = s.data_path().join("token-calls");
    let env = format!("Variables={{MARK={}}}", mark.display());
    let zip = zip_file(s.data_path(), "auth.zip", &[("auth.py", TOKEN_PY, 0o644)]);
    create_function(
        &s,
        "auth",
        "python3.12",
        "auth.handler",
        &zip,
        &["--environment", &env],
    );
    let zip = zip_file(s.data_path(), "echo.zip", &[("echo.py", ECHO_PY, 0o644)]);
    create_function(&s, "echo", "python3.12", "echo.handler", &zip, &[]);
    let uri = fn_uri("auth");
    let (api, authorizer) = protected_api(
        &s,
        &[
            "--name",
            "tok",
            "--type",
            "TOKEN",
            "--authorizer-uri",
            &uri,
            "--identity-source",
            "method.request.header.Auth",
            "--identity-validation-expression",
            "[a-z-]+",
        ],
    );

    // Without the permission the function cannot be called: a configuration error.
    let r = request(&s, "GET", &api, "/prod/pets", Some("allow-alice"));
    assert_eq!(r.status, 500, "{r}");
    assert_eq!(calls(&mark), 0);
    grant_authorizer(&s, "auth", &api);

    // Missing token, or one the validation expression refuses: 401, no call.
    let r = request(&s, "GET", &api, "/prod/pets", None);
    assert_eq!(r.status, 401, "{r}");
    assert_eq!(r.json(), json!({"message": "Unauthorized"}));
    assert_eq!(r.header("x-amzn-ErrorType"), Some("UnauthorizedException"));
    let r = request(&s, "GET", &api, "/prod/pets", Some("Not Valid"));
    assert_eq!(r.status, 401, "{r}");
    assert_eq!(calls(&mark), 0);

    // Allow: the principal and context reach the proxy event, values as text.
    let r = request(&s, "GET", &api, "/prod/pets", Some("allow-alice"));
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(
        r.json()["requestContext"]["authorizer"],
        json!({"principalId": "alice", "tenant": "alice", "tier": "3", "beta": "true"})
    );
    assert_eq!(calls(&mark), 1);
    // A hit: no call.
    let r = request(&s, "POST", &api, "/prod/other", Some("allow-alice"));
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(calls(&mark), 1);

    // The cached policy is evaluated again for each method ARN.
    let r = request(&s, "GET", &api, "/prod/pets", Some("getonly"));
    assert_eq!(r.status, 200, "{r}");
    let r = request(&s, "POST", &api, "/prod/pets", Some("getonly"));
    assert_eq!(r.status, 403, "{r}");
    assert_eq!(
        r.json(),
        json!({"Message": "User is not authorized to access this resource"})
    );
    assert_eq!(r.header("x-amzn-ErrorType"), Some("AccessDeniedException"));
    assert_eq!(calls(&mark), 2);

    // Explicit deny (cached too) and a policy that allows something else.
    for _ in 0..2 {
        let r = request(&s, "GET", &api, "/prod/pets", Some("deny"));
        assert_eq!(r.status, 403, "{r}");
        assert_eq!(
            r.json(),
            json!({"Message": "User is not authorized to access this resource with an explicit deny"})
        );
    }
    assert_eq!(calls(&mark), 3);
    let r = request(&s, "GET", &api, "/prod/pets", Some("silent"));
    assert_eq!(r.status, 403, "{r}");
    assert_eq!(calls(&mark), 4);

    // The function's Unauthorized error: 401, never cached.
    for _ in 0..2 {
        let r = request(&s, "GET", &api, "/prod/pets", Some("unauth"));
        assert_eq!(r.status, 401, "{r}");
        assert_eq!(r.json(), json!({"message": "Unauthorized"}));
    }
    assert_eq!(calls(&mark), 6);

    // Any other error, or an unusable answer: 500 with a null message.
    for token in ["boom", "badctx"] {
        let r = request(&s, "GET", &api, "/prod/pets", Some(token));
        assert_eq!(r.status, 500, "{token}: {r}");
        assert_eq!(r.text(), "{\"message\": null}");
        assert_eq!(
            r.header("x-amzn-ErrorType"),
            Some("AuthorizerConfigurationException")
        );
    }
    assert_eq!(calls(&mark), 8);

    // FlushStageAuthorizersCache empties the cache.
    apigw(
        &s,
        &[
            "flush-stage-authorizers-cache",
            "--rest-api-id",
            &api,
            "--stage-name",
            "prod",
        ],
    );
    let r = request(&s, "GET", &api, "/prod/pets", Some("allow-alice"));
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(calls(&mark), 9);

    // A customised UNAUTHORIZED response applies; a redeploy starts a new cache.
    apigw(
        &s,
        &[
            "put-gateway-response",
            "--rest-api-id",
            &api,
            "--response-type",
            "UNAUTHORIZED",
            "--status-code",
            "401",
            "--response-templates",
            r#"{"application/json": "{\"error\": \"login first\"}"}"#,
            "--response-parameters",
            r#"{"gatewayresponse.header.WWW-Authenticate": "'Bearer'"}"#,
        ],
    );
    deploy(&s, &api, "prod");
    let r = request(&s, "GET", &api, "/prod/pets", None);
    assert_eq!(r.status, 401, "{r}");
    assert_eq!(r.json(), json!({"error": "login first"}));
    assert_eq!(r.header("WWW-Authenticate"), Some("Bearer"));
    let r = request(&s, "GET", &api, "/prod/pets", Some("allow-alice"));
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(calls(&mark), 10);

    // TTL 0 (redeployed): every request calls the function.
    apigw(
        &s,
        &[
            "update-authorizer",
            "--rest-api-id",
            &api,
            "--authorizer-id",
            &authorizer,
            "--patch-operations",
            "op=replace,path=/authorizerResultTtlInSeconds,value=0",
        ],
    );
    deploy(&s, &api, "prod");
    for _ in 0..2 {
        let r = request(&s, "GET", &api, "/prod/pets", Some("allow-bob"));
        assert_eq!(r.status, 200, "{r}");
    }
    assert_eq!(calls(&mark), 12);

    // TestInvokeAuthorizer runs the current definition with the given headers.
    let t = apigw(
        &s,
        &[
            "test-invoke-authorizer",
            "--rest-api-id",
            &api,
            "--authorizer-id",
            &authorizer,
            "--headers",
            "Auth=allow-carol",
        ],
    );
    assert_eq!(t["clientStatus"], 200, "{t:#}");
    assert_eq!(t["principalId"], "carol");
    let policy: Value = serde_json::from_str(t["policy"].as_str().unwrap()).unwrap();
    assert_eq!(policy["Statement"][0]["Effect"], "Allow");
    assert_eq!(t["authorization"]["tier"], json!(["3"]));
    assert!(
        t["log"].as_str().unwrap().contains("Starting authorizer"),
        "{t:#}"
    );
    let t = apigw(
        &s,
        &[
            "test-invoke-authorizer",
            "--rest-api-id",
            &api,
            "--authorizer-id",
            &authorizer,
            "--headers",
            "Auth=unauth",
        ],
    );
    assert_eq!(t["clientStatus"], 401, "{t:#}");
    assert_eq!(calls(&mark), 14);
}

#[test]
fn request_authorizer_event_and_sources() {
    let s = Server::start();
    let mark = s.data_path().join("request-calls");
    let env = format!("Variables={{MARK={}}}", mark.display());
    let zip = zip_file(s.data_path(), "req.zip", &[("index.js", REQUEST_JS, 0o644)]);
    create_function(
        &s,
        "reqauth",
        "nodejs20.x",
        "index.handler",
        &zip,
        &["--environment", &env],
    );
    let zip = zip_file(s.data_path(), "echo.zip", &[("echo.py", ECHO_PY, 0o644)]);
    create_function(&s, "echo", "python3.12", "echo.handler", &zip, &[]);
    let uri = fn_uri("reqauth");
    let (api, _) = protected_api(
        &s,
        &[
            "--name",
            "req",
            "--type",
            "REQUEST",
            "--authorizer-uri",
            &uri,
            "--identity-source",
            "method.request.header.X-Tenant, method.request.querystring.token",
        ],
    );
    grant_authorizer(&s, "reqauth", &api);
    let get = |path: &str, tenant: Option<&str>| {
        let mut h = Http::get(s.port, &Server::exec_path(&api, path));
        if let Some(t) = tenant {
            h = h.header("X-Tenant", t);
        }
        h.send()
    };

    // Any source missing: 401 without a call.
    let r = get("/prod/pets/7?token=abc", None);
    assert_eq!(r.status, 401, "{r}");
    let r = get("/prod/pets/7", Some("t1"));
    assert_eq!(r.status, 401, "{r}");
    assert_eq!(calls(&mark), 0);

    let r = get("/prod/pets/7?token=abc", Some("t1"));
    assert_eq!(r.status, 200, "{r}");
    let authorizer = &r.json()["requestContext"]["authorizer"];
    assert_eq!(authorizer["principalId"], "node");
    let raw: Value = serde_json::from_str(authorizer["event"].as_str().unwrap()).unwrap();
    let event: aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest =
        serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(event.type_.as_deref(), Some("REQUEST"));
    assert_eq!(
        event.method_arn.as_deref(),
        Some(format!("arn:aws:execute-api:us-east-1:000000000000:{api}/prod/GET/pets/7").as_str())
    );
    assert_eq!(event.resource.as_deref(), Some("/{proxy+}"));
    assert_eq!(event.path.as_deref(), Some("/pets/7"));
    assert_eq!(event.headers.get("x-tenant").unwrap(), "t1");
    assert_eq!(event.query_string_parameters.first("token"), Some("abc"));
    assert_eq!(event.path_parameters["proxy"], "pets/7");
    assert_eq!(event.request_context.apiid.as_deref(), Some(api.as_str()));
    assert_eq!(event.request_context.stage.as_deref(), Some("prod"));
    assert!(
        raw.get("body").is_none(),
        "no body in a REQUEST event: {raw:#}"
    );
    assert_eq!(calls(&mark), 1);

    // Cached by all sources together: same values hit, another tenant calls again.
    let r = get("/prod/pets/7?token=abc", Some("t1"));
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(calls(&mark), 1);
    // The cached policy names /pets/7 only: another path is denied without a call.
    let r = get("/prod/pets/8?token=abc", Some("t1"));
    assert_eq!(r.status, 403, "{r}");
    assert_eq!(calls(&mark), 1);
    let r = get("/prod/pets/7?token=abc", Some("t2"));
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(calls(&mark), 2);
}

/// `key-{value}` tokens allow and name the API key `{value}` as `usageIdentifierKey`.
const KEY_PY: &str = r#"
def handler(event, context):
    token = event["authorizationToken"]
    out = {"principalId": "keyed", "context": {"tenant": "acme"},
           "policyDocument": {"Version": "2012-10-17", "Statement": [
               {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"}]}}
    if token.startswith("key-"):
        out["usageIdentifierKey"] = token[len("key-"):]
    return out
"#;

/// `apiKeySource: AUTHORIZER` takes the key from `usageIdentifierKey`; a MOCK method's
/// response template reads `$context.authorizer.*`.
#[test]
fn authorizer_api_keys_and_templates() {
    let s = Server::start();
    let zip = zip_file(s.data_path(), "key.zip", &[("key.py", KEY_PY, 0o644)]);
    create_function(&s, "keyauth", "python3.12", "key.handler", &zip, &[]);
    let api = str_of(
        &apigw(
            &s,
            &[
                "create-rest-api",
                "--name",
                "keyed",
                "--api-key-source",
                "AUTHORIZER",
            ],
        ),
        "id",
    );
    grant_authorizer(&s, "keyauth", &api);
    let root = apigw(&s, &["get-resources", "--rest-api-id", &api])["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let authorizer = str_of(
        &apigw(
            &s,
            &[
                "create-authorizer",
                "--rest-api-id",
                &api,
                "--name",
                "k",
                "--type",
                "TOKEN",
                "--authorizer-uri",
                &fn_uri("keyauth"),
                "--identity-source",
                "method.request.header.Auth",
            ],
        ),
        "id",
    );
    mock_method(
        &s,
        (&api, &root, "GET"),
        &[
            "--authorization-type",
            "CUSTOM",
            "--authorizer-id",
            &authorizer,
            "--api-key-required",
        ],
        r#"{"p": "$context.authorizer.principalId", "t": "$context.authorizer.tenant"}"#,
    );
    deploy(&s, &api, "prod");
    let key = apigw(&s, &["create-api-key", "--name", "k", "--enabled"]);
    plan_with_key(&s, &api, "prod", &str_of(&key, "id"));
    let value = str_of(&key, "value");
    // The x-api-key header does not count with AUTHORIZER as the source.
    let r = Http::get(s.port, &Server::exec_path(&api, "/prod/"))
        .header("Auth", "nokey")
        .header("x-api-key", &value)
        .send();
    assert_eq!(r.status, 403, "{r}");
    let r = Http::get(s.port, &Server::exec_path(&api, "/prod/"))
        .header("Auth", "key-wrong")
        .send();
    assert_eq!(r.status, 403, "{r}");
    let r = Http::get(s.port, &Server::exec_path(&api, "/prod/"))
        .header("Auth", &format!("key-{value}"))
        .send();
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.json(), json!({"p": "keyed", "t": "acme"}));

    // Access logs read `$context.authorizer.*` too.
    let format = json!({"rid": "$context.requestId", "p": "$context.authorizer.principalId",
        "t": "$context.authorizer.tenant"})
    .to_string();
    set_access_log(&s, &api, "prod", &format);
    let r = Http::get(s.port, &Server::exec_path(&api, "/prod/"))
        .header("Auth", &format!("key-{value}"))
        .send();
    assert_eq!(r.status, 200, "{r}");
    let id = r.header("x-amzn-RequestId").unwrap().to_string();
    let log = s
        .data_path()
        .join("access-logs")
        .join(format!("{api}-prod.log"));
    let line = eventually("the access log line", || {
        read_if_exists(&log)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["rid"] == id.as_str())
    });
    assert_eq!(line["p"], "keyed", "{line:#}");
    assert_eq!(line["t"], "acme", "{line:#}");
}
