//! Cognito user-pool authorizers end to end (auth-throttle-cache.md §6.2): a local
//! identity provider (a directory served over HTTP holding the pool's JWKS) named by
//! `--cognito-endpoint`, tokens signed in the test with the `jsonwebtoken` crate, and
//! methods with and without `authorizationScopes`; claims reach a mapping template as
//! `$context.authorizer.claims.*`.

mod common;

use std::sync::Arc;

use common::idp::*;
use common::*;
use jsonwebtoken::Algorithm;
use serde_json::{json, Value};

const POOL: &str = "us-east-1_TESTPOOL";
/// Serves `{dir}/{POOL}/.well-known/jwks.json` over HTTP; returns the base URL.
fn identity_provider(dir: &std::path::Path) -> (String, Killed) {
    let wk = dir.join(POOL).join(".well-known");
    std::fs::create_dir_all(&wk).unwrap();
    std::fs::write(wk.join("jwks.json"), jwks().to_string()).unwrap();
    serve_dir(dir)
}

fn sign(kid: &str, claims: &Value) -> String {
    sign_with(Algorithm::RS256, kid, claims)
}

/// `GET` of `res` as MOCK behind the authorizer, answering the claims a template reads.
fn mock_get(s: &Server, api: &str, res: &str, authorizer: &str, scopes: &[&str]) {
    let mut args = vec![
        "--authorization-type",
        "COGNITO_USER_POOLS",
        "--authorizer-id",
        authorizer,
    ];
    if !scopes.is_empty() {
        args.push("--authorization-scopes");
        args.extend_from_slice(scopes);
    }
    mock_method(
        s,
        (api, res, "GET"),
        &args,
        r#"{"sub": "$context.authorizer.claims.sub", "email": "$context.authorizer.claims.email"}"#,
    );
}

#[test]
fn cognito_tokens() {
    let idp_dir = tempfile::tempdir().unwrap();
    let (base, _idp) = identity_provider(idp_dir.path());
    let s = Server::start_with(
        Arc::new(tempfile::tempdir().unwrap()),
        &["--cognito-endpoint", &base],
    );
    let api = str_of(&apigw(&s, &["create-rest-api", "--name", "pool"]), "id");
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
                "pool",
                "--type",
                "COGNITO_USER_POOLS",
                "--provider-arns",
                &format!("arn:aws:cognito-idp:us-east-1:000000000000:userpool/{POOL}"),
                "--identity-source",
                "method.request.header.Authorization",
            ],
        ),
        "id",
    );
    mock_get(&s, &api, &root, &authorizer, &[]);
    let scoped = create_resource(&s, &api, &root, "orders");
    mock_get(&s, &api, &scoped, &authorizer, &["orders/read"]);
    deploy(&s, &api, "prod");

    let iss = format!("{base}/{POOL}");
    let get = |path: &str, token: Option<&str>| {
        let mut h = Http::get(s.port, &Server::exec_path(&api, path));
        if let Some(t) = token {
            h = h.header("Authorization", t);
        }
        h.send()
    };
    let id_token = |extra: Value| {
        let mut c = json!({"sub": "u-1", "email": "a@example.com", "token_use": "id",
            "aud": "client1", "iss": iss, "exp": now() + 3600});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };

    let r = get("/prod/", None);
    assert_eq!(r.status, 401, "{r}");
    assert_eq!(r.json(), json!({"message": "Unauthorized"}));

    let r = get("/prod/", Some(&sign("k1", &id_token(json!({})))));
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.json(), json!({"sub": "u-1", "email": "a@example.com"}));

    let r = get(
        "/prod/",
        Some(&sign("k1", &id_token(json!({"exp": now() - 10})))),
    );
    assert_eq!(r.status, 401, "{r}");
    assert_eq!(
        r.json(),
        json!({"message": "The incoming token has expired"})
    );

    for bad in [
        sign(
            "k1",
            &id_token(json!({"iss": "https://elsewhere.example/pool"})),
        ),
        sign("k2", &id_token(json!({}))),
        sign("k1", &id_token(json!({"token_use": "access"}))),
        {
            // A payload changed after signing.
            let t = sign("k1", &id_token(json!({})));
            let mut parts: Vec<String> = t.split('.').map(String::from).collect();
            parts[1] = parts[1].chars().rev().collect();
            parts.join(".")
        },
        "not-a-jwt".to_string(),
    ] {
        let r = get("/prod/", Some(&bad));
        assert_eq!(r.status, 401, "{bad}: {r}");
    }

    // A method with scopes takes access tokens holding one of them.
    let access = |scope: &str| {
        sign(
            "k1",
            &json!({"sub": "u-1", "token_use": "access", "scope": scope,
            "client_id": "client1", "iss": iss, "exp": now() + 3600}),
        )
    };
    let r = get("/prod/orders", Some(&access("openid orders/read")));
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.json()["sub"], "u-1");
    let r = get("/prod/orders", Some(&access("orders/write")));
    assert_eq!(r.status, 401, "{r}");
    let r = get("/prod/orders", Some(&sign("k1", &id_token(json!({})))));
    assert_eq!(r.status, 401, "{r}");

    // TestInvokeAuthorizer answers the verified claims.
    let header = format!("Authorization={}", sign("k1", &id_token(json!({}))));
    let t = apigw(
        &s,
        &[
            "test-invoke-authorizer",
            "--rest-api-id",
            &api,
            "--authorizer-id",
            &authorizer,
            "--headers",
            &header,
        ],
    );
    assert_eq!(t["clientStatus"], 200, "{t:#}");
    assert_eq!(t["claims"]["sub"], "u-1", "{t:#}");
    assert_eq!(t["claims"]["email"], "a@example.com", "{t:#}");
    let t = apigw(
        &s,
        &[
            "test-invoke-authorizer",
            "--rest-api-id",
            &api,
            "--authorizer-id",
            &authorizer,
        ],
    );
    assert_eq!(t["clientStatus"], 401, "{t:#}");
}
