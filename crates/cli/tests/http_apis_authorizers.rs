//! HTTP API authorizers end to end (auth-throttle-cache.md §6.1, lambda-events.md §2 and
//! §5), set up with the `aws apigatewayv2` CLI on the real binary: a JWT authorizer
//! against a local OIDC provider (discovery + JWKS served by the test, tokens signed in
//! the test) through every outcome, and Lambda REQUEST authorizers in payload 1.0 and 2.0
//! with simple and IAM responses, their cache proven by counting invocations (each one
//! appends its event to a file). Events are read back with `aws_lambda_events`.

mod common;

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayV2CustomAuthorizerV2Request,
    ApiGatewayV2httpRequest,
};
use common::idp::*;
use common::lambda::*;
use common::*;
use jsonwebtoken::Algorithm;
use serde_json::{json, Value};

fn field(v: &Value, k: &str) -> String {
    v[k].as_str()
        .unwrap_or_else(|| panic!("{k} in {v}"))
        .to_string()
}

const ECHO_PY: &str = r#"
import json
def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(event)}
"#;

/// Authorizers: each call appends its event to the file `MARK` names. `simple` answers
/// by the first identity value (`yes` allowed, `unauth` Unauthorized, `boom` fails, else
/// refused); `iam` allows GET on the whole stage only.
const AUTH_PY: &str = r#"
import json, os
def note(event):
    with open(os.environ["MARK"], "a") as f:
        f.write(json.dumps(event) + "\n")

def simple(event, context):
    note(event)
    tok = event["identitySource"][0]
    if tok == "unauth":
        raise Exception("Unauthorized")
    if tok == "boom":
        raise Exception("boom")
    return {"isAuthorized": tok == "yes", "context": {"user": "u1", "nested": {"a": 1}}}

def iam(event, context):
    note(event)
    arn = event.get("routeArn") or event["methodArn"]
    api, stage = arn.split("/")[0], arn.split("/")[1]
    return {"principalId": "p1", "context": {"tier": 3},
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow",
                 "Resource": api + "/" + stage + "/GET/*"}]}}
"#;

/// An HTTP API with AWS_PROXY integrations to `echo` in payload 2.0 and 1.0 and an
/// auto-deployed `$default` stage. Returns (api, 2.0 integration, 1.0 integration).
fn echo_api(s: &Server, name: &str) -> (String, String, String) {
    let zip = zip_file(s.data_path(), "echo.zip", &[("app.py", ECHO_PY, 0o644)]);
    create_function(s, "echo", "python3.12", "app.handler", &zip, &[]);
    let api = v2_http_api(s, name);
    grant_api(s, "echo", &api, None);
    let arn = "arn:aws:lambda:us-east-1:000000000000:function:echo";
    let integration = |version: &str| {
        field(
            &v2(
                s,
                &[
                    "create-integration",
                    "--api-id",
                    &api,
                    "--integration-type",
                    "AWS_PROXY",
                    "--integration-uri",
                    arn,
                    "--payload-format-version",
                    version,
                ],
            ),
            "IntegrationId",
        )
    };
    let (e2, e1) = (integration("2.0"), integration("1.0"));
    v2_default_stage(s, &api);
    (api, e2, e1)
}

fn call(s: &Server, api: &str, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut h = Http::new(s.port, method, path)
        .header("Host", &format!("{api}.execute-api.localhost:{}", s.port));
    for (k, v) in headers {
        h = h.header(k, v);
    }
    h.send()
}

#[test]
fn jwt_authorizer_outcomes_claims_and_scopes() {
    let idp_dir = tempfile::tempdir().unwrap();
    let (base, _idp) = serve_dir(idp_dir.path());
    let issuer = oidc_issuer(idp_dir.path(), &base, "realm");
    let s = Server::start();
    let (api, e2, e1) = echo_api(&s, "jwt");
    let config = json!({"Audience": ["aud1", "aud2"], "Issuer": issuer}).to_string();
    let authorizer = field(
        &v2(
            &s,
            &[
                "create-authorizer",
                "--api-id",
                &api,
                "--name",
                "oidc",
                "--authorizer-type",
                "JWT",
                "--identity-source",
                "$request.header.Authorization",
                "--jwt-configuration",
                &config,
            ],
        ),
        "AuthorizerId",
    );
    let jwt = [
        "--authorization-type",
        "JWT",
        "--authorizer-id",
        &authorizer,
    ];
    v2_route(&s, &api, "GET /me", &e2, &jwt);
    v2_route(&s, &api, "GET /v1/me", &e1, &jwt);
    let mut scoped = jwt.to_vec();
    scoped.extend_from_slice(&["--authorization-scopes", "orders/read", "orders/all"]);
    v2_route(&s, &api, "GET /orders", &e2, &scoped);
    let backend = Backend::start();
    let mapping = r#"{"append:header.x-sub": "$context.authorizer.claims.sub"}"#;
    let mapped = v2_http_proxy(
        &s,
        &api,
        "GET",
        &backend.url(),
        &["--request-parameters", mapping],
    );
    v2_route(&s, &api, "GET /mapped", &mapped, &jwt);

    let exp = now() + 3600;
    let claims = |extra: Value| {
        let mut c = json!({"sub": "u-1", "aud": "aud2", "iss": issuer, "exp": exp,
            "iat": now() - 5, "groups": ["admin", "users"], "scope": "profile orders/read"});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let bearer = |t: &str| format!("Bearer {t}");
    let get = |path: &str, auth: Option<&str>| {
        let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
        call(&s, &api, "GET", path, &headers)
    };

    // `$context.authorizer.*` in access logs.
    let format = r#"{"requestId":"$context.requestId","error":"$context.authorizer.error","sub":"$context.authorizer.claims.sub"}"#;
    let log = json!({"DestinationArn": "arn:aws:logs:us-east-1:000000000000:log-group:jwt", "Format": format});
    v2(
        &s,
        &[
            "update-stage",
            "--api-id",
            &api,
            "--stage-name",
            "$default",
            "--access-log-settings",
            &log.to_string(),
        ],
    );
    let log_path = s
        .data_path()
        .join("access-logs")
        .join(format!("{api}-$default.log"));
    let log_line = |r: &Response| -> Value {
        let id = r.header("apigw-requestid").unwrap().to_string();
        eventually(&format!("the access log line of {id}"), || {
            read_if_exists(&log_path)
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|v| v["requestId"] == id)
        })
    };

    // No token: 401 without a challenge.
    let r = get("/me", None);
    assert_v2_error(&r, 401, "Unauthorized");
    assert_eq!(r.header("www-authenticate"), None, "{r}");

    // A good token, with or without `Bearer`, signed RS256, RS384 or RS512.
    let good = sign_with(Algorithm::RS256, "k1", &claims(json!({})));
    for auth in [
        bearer(&good),
        good.clone(),
        bearer(&sign_with(Algorithm::RS384, "k1", &claims(json!({})))),
        bearer(&sign_with(Algorithm::RS512, "k1", &claims(json!({})))),
    ] {
        let r = get("/me", Some(&auth));
        assert_eq!(r.status, 200, "{r}");
    }
    let r = get("/me", Some(&bearer(&good)));
    assert_eq!(log_line(&r)["sub"], "u-1");
    let event: ApiGatewayV2httpRequest = serde_json::from_slice(&r.body).unwrap();
    let jwt_ctx = event.request_context.authorizer.unwrap().jwt.unwrap();
    assert_eq!(jwt_ctx.claims["sub"], "u-1");
    assert_eq!(jwt_ctx.claims["groups"], "[admin users]");
    assert_eq!(jwt_ctx.claims["exp"], exp.to_string());
    assert_eq!(jwt_ctx.scopes, None, "a route without scopes shows none");
    // Payload 1.0: REST's `claims`.
    let r = get("/v1/me", Some(&good));
    assert_eq!(r.status, 200, "{r}");
    let raw: Value = r.json();
    assert_eq!(raw["requestContext"]["authorizer"]["claims"]["sub"], "u-1");
    // `$context.authorizer.claims.x` in parameter mapping.
    let r = get("/mapped", Some(&good));
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(backend.last().header("x-sub"), Some("u-1"));

    // `aud` absent: `client_id` must be an audience.
    let no_aud = |client: &str| {
        let mut c = claims(json!({"client_id": client}));
        c.as_object_mut().unwrap().remove("aud");
        sign_with(Algorithm::RS256, "k1", &c)
    };
    assert_eq!(get("/me", Some(&no_aud("aud1"))).status, 200);

    let invalid = |token: String, why: &str| {
        let r = get("/me", Some(&bearer(&token)));
        assert_v2_error(&r, 401, "Unauthorized");
        assert_eq!(
            r.header("www-authenticate"),
            Some(
                format!(r#"Bearer scope="" error="invalid_token" error_description="{why}""#)
                    .as_str()
            ),
            "{r}"
        );
    };
    invalid(
        sign_with(Algorithm::RS256, "k1", &claims(json!({"aud": "other"}))),
        "the token does not have a valid audience",
    );
    invalid(no_aud("other"), "the token does not have a valid audience");
    invalid(
        sign_with(Algorithm::RS256, "k1", &claims(json!({"exp": now() - 10}))),
        "the token has expired",
    );
    invalid(
        sign_with(Algorithm::RS256, "k1", &claims(json!({"nbf": now() + 600}))),
        "the token is not valid yet",
    );
    invalid(
        sign_with(
            Algorithm::RS256,
            "k1",
            &claims(json!({"iss": format!("{base}/elsewhere")})),
        ),
        "the token does not have a valid issuer",
    );
    let tampered = {
        let mut parts: Vec<String> = good.split('.').map(String::from).collect();
        let mut c = claims(json!({"sub": "admin"}));
        c["sub"] = json!("admin");
        parts[1] = base64_url(&c.to_string());
        parts.join(".")
    };
    invalid(tampered.clone(), "crypto/rsa: verification error");
    let r = get("/me", Some(&tampered));
    assert_eq!(log_line(&r)["error"], "crypto/rsa: verification error");
    let r = get(
        "/me",
        Some(&bearer(&sign_with(
            Algorithm::RS256,
            "k9",
            &claims(json!({})),
        ))),
    );
    assert_v2_error(&r, 401, "Unauthorized");

    // Scopes: one of the route's in `scope` (or `scp`), else 403 with the challenge.
    let r = get("/orders", Some(&good));
    assert_eq!(r.status, 200, "{r}");
    let event: ApiGatewayV2httpRequest = serde_json::from_slice(&r.body).unwrap();
    let scopes = event
        .request_context
        .authorizer
        .unwrap()
        .jwt
        .unwrap()
        .scopes;
    assert_eq!(
        scopes,
        Some(vec!["profile".to_string(), "orders/read".to_string()])
    );
    let scp = sign_with(
        Algorithm::RS256,
        "k1",
        &claims(json!({"scope": null, "scp": ["orders/all"]})),
    );
    assert_eq!(get("/orders", Some(&scp)).status, 200);
    let r = get(
        "/orders",
        Some(&sign_with(
            Algorithm::RS256,
            "k1",
            &claims(json!({"scope": "profile"})),
        )),
    );
    assert_v2_error(&r, 403, "Forbidden");
    assert_eq!(
        r.header("www-authenticate"),
        Some(
            r#"Bearer scope="orders/read orders/all" error="insufficient_scope" error_description="expected scopes: [orders/read orders/all]""#
        ),
        "{r}"
    );
}

fn base64_url(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[test]
fn lambda_request_authorizers_in_1_0_and_2_0() {
    let s = Server::start();
    let (api, e2, e1) = echo_api(&s, "lambda-auth");
    let zip = zip_file(s.data_path(), "auth.zip", &[("auth.py", AUTH_PY, 0o644)]);
    let mark = |n: &str| s.data_path().join(format!("{n}.calls"));
    for (name, handler) in [
        ("simple", "auth.simple"),
        ("iam2", "auth.iam"),
        ("iam1", "auth.iam"),
        ("noperm", "auth.simple"),
    ] {
        let env = format!("Variables={{MARK={}}}", mark(name).display());
        create_function(
            &s,
            name,
            "python3.12",
            handler,
            &zip,
            &["--environment", &env],
        );
        if name != "noperm" {
            grant_authorizer(&s, name, &api);
        }
    }
    let authorizer = |name: &str, extra: &[&str]| {
        let uri = fn_uri(name);
        let mut args = vec![
            "create-authorizer",
            "--api-id",
            &api,
            "--name",
            name,
            "--authorizer-type",
            "REQUEST",
            "--authorizer-uri",
            &uri,
        ];
        args.extend_from_slice(extra);
        field(&v2(&s, &args), "AuthorizerId")
    };
    let simple = authorizer(
        "simple",
        &[
            "--authorizer-payload-format-version",
            "2.0",
            "--enable-simple-responses",
            "--identity-source",
            "$request.header.X-Token",
            "--authorizer-result-ttl-in-seconds",
            "300",
        ],
    );
    let iam2 = authorizer(
        "iam2",
        &[
            "--authorizer-payload-format-version",
            "2.0",
            "--identity-source",
            "$request.header.X-Token",
            "--authorizer-result-ttl-in-seconds",
            "300",
        ],
    );
    let iam1 = authorizer(
        "iam1",
        &[
            "--authorizer-payload-format-version",
            "1.0",
            "--identity-source",
            "$request.querystring.token",
            "--authorizer-result-ttl-in-seconds",
            "0",
        ],
    );
    let noperm = authorizer(
        "noperm",
        &[
            "--authorizer-payload-format-version",
            "2.0",
            "--enable-simple-responses",
            "--identity-source",
            "$request.header.X-Token",
        ],
    );
    for (key, target, id) in [
        ("GET /noperm", &e2, &noperm),
        ("GET /simple/{id}", &e2, &simple),
        ("ANY /iam", &e2, &iam2),
        ("GET /v1", &e1, &iam1),
    ] {
        let auth = ["--authorization-type", "CUSTOM", "--authorizer-id", id];
        v2_route(&s, &api, key, target, &auth);
    }
    fn token(t: &str) -> [(&str, &str); 1] {
        [("X-Token", t)]
    }
    let last_event = |n: &str| -> Value {
        let text = std::fs::read_to_string(mark(n)).unwrap();
        serde_json::from_str(text.lines().last().unwrap()).unwrap()
    };

    // 2.0 simple responses: a missing identity source is 401 without a call.
    assert_v2_error(
        &call(&s, &api, "GET", "/simple/7", &[]),
        401,
        "Unauthorized",
    );
    assert_eq!(calls(&mark("simple")), 0);
    let r = call(&s, &api, "GET", "/simple/7?q=1", &token("yes"));
    assert_eq!(r.status, 200, "{r}");
    let event: ApiGatewayV2httpRequest = serde_json::from_slice(&r.body).unwrap();
    let fields = event.request_context.authorizer.unwrap().fields;
    assert_eq!(fields["user"], "u1");
    assert_eq!(
        fields["nested"],
        json!({"a": 1}),
        "2.0 context keeps any JSON"
    );
    let raw = last_event("simple");
    let auth_event: ApiGatewayV2CustomAuthorizerV2Request =
        serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(raw["version"], "2.0");
    assert_eq!(raw["type"], "REQUEST");
    assert_eq!(
        auth_event.route_arn.as_deref(),
        Some(
            format!("arn:aws:execute-api:us-east-1:000000000000:{api}/$default/GET/simple/7")
                .as_str()
        )
    );
    assert_eq!(auth_event.identity_source, Some(vec!["yes".to_string()]));
    assert_eq!(auth_event.route_key.as_deref(), Some("GET /simple/{id}"));
    assert_eq!(auth_event.raw_path.as_deref(), Some("/simple/7"));
    assert_eq!(auth_event.raw_query_string.as_deref(), Some("q=1"));
    assert_eq!(auth_event.path_parameters["id"], "7");
    assert_eq!(auth_event.headers["x-token"], "yes");
    assert!(raw.get("body").is_none());
    // The cache: the same identity on another route of the authorizer is a hit.
    assert_eq!(
        call(&s, &api, "GET", "/simple/8", &token("yes")).status,
        200
    );
    assert_eq!(calls(&mark("simple")), 1, "a cache hit calls nothing");
    assert_v2_error(
        &call(&s, &api, "GET", "/simple/7", &token("no")),
        403,
        "Forbidden",
    );
    assert_v2_error(
        &call(&s, &api, "GET", "/simple/7", &token("no")),
        403,
        "Forbidden",
    );
    assert_eq!(calls(&mark("simple")), 2, "refusals are cached too");
    // ResetAuthorizersCache empties the stage's caches: the next request calls again.
    v2(
        &s,
        &[
            "reset-authorizers-cache",
            "--api-id",
            &api,
            "--stage-name",
            "$default",
        ],
    );
    assert_eq!(
        call(&s, &api, "GET", "/simple/8", &token("yes")).status,
        200
    );
    assert_eq!(calls(&mark("simple")), 3, "a reset cache is asked again");
    assert_v2_error(
        &call(&s, &api, "GET", "/simple/7", &token("unauth")),
        401,
        "Unauthorized",
    );
    assert_v2_error(
        &call(&s, &api, "GET", "/simple/7", &token("boom")),
        500,
        "Internal Server Error",
    );

    // API Gateway may not invoke a function whose policy does not let it (source ARN
    // `{api}/authorizers/{id}`): a 500, the function never called.
    assert_v2_error(
        &call(&s, &api, "GET", "/noperm", &token("yes")),
        500,
        "Internal Server Error",
    );
    assert_eq!(calls(&mark("noperm")), 0);

    // 2.0 IAM policy: GET allowed; the cached policy is evaluated again for POST.
    let r = call(&s, &api, "GET", "/iam", &token("t1"));
    assert_eq!(r.status, 200, "{r}");
    let raw: Value = r.json();
    assert_eq!(
        raw["requestContext"]["authorizer"],
        json!({"lambda": {"tier": 3}})
    );
    assert_v2_error(
        &call(&s, &api, "POST", "/iam", &token("t1")),
        403,
        "Forbidden",
    );
    assert_eq!(calls(&mark("iam2")), 1);

    // 1.0: REST's REQUEST event with `version`, `identitySource` and `authorizationToken`;
    // no cache (TTL 0), so every request calls.
    assert_v2_error(&call(&s, &api, "GET", "/v1", &[]), 401, "Unauthorized");
    let r = call(&s, &api, "GET", "/v1?token=abc", &[("X-Other", "o")]);
    assert_eq!(r.status, 200, "{r}");
    let raw: Value = r.json();
    assert_eq!(raw["requestContext"]["authorizer"]["principalId"], "p1");
    assert_eq!(raw["requestContext"]["authorizer"]["tier"], 3);
    let raw = last_event("iam1");
    let auth_event: ApiGatewayCustomAuthorizerRequestTypeRequest =
        serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(raw["version"], "1.0");
    assert_eq!(raw["identitySource"], "abc");
    assert_eq!(raw["authorizationToken"], "abc");
    assert_eq!(
        auth_event.method_arn.as_deref(),
        Some(format!("arn:aws:execute-api:us-east-1:000000000000:{api}/$default/GET/v1").as_str())
    );
    assert_eq!(
        auth_event.query_string_parameters.first("token"),
        Some("abc")
    );
    assert_eq!(auth_event.headers["x-other"], "o");
    assert_eq!(call(&s, &api, "GET", "/v1?token=abc", &[]).status, 200);
    assert_eq!(calls(&mark("iam1")), 2, "TTL 0 caches nothing");
}
