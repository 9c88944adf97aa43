//! Authorizers on the control plane, end to end with the real aws CLI
//! (control-plane-v1.md §5.7, auth-throttle-cache.md §5–§6): the lifecycle of TOKEN, REQUEST
//! and COGNITO_USER_POOLS authorizers, AWS's validation, methods that name them, and the
//! conflict when one in use is deleted. Messages marked recorded are AWS's
//! (test_authorizer_crud_no_api, test_put_method_validation,
//! test_apigateway_with_custom_authorization_method).

mod common;

use common::*;
use serde_json::json;

const FN_URI: &str = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:auth/invocations";
const POOL: &str = "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_ABC123";

/// `aws apigateway {op} --rest-api-id {api} {rest...}`
fn on_api<'a>(op: &'a str, api: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![op, "--rest-api-id", api];
    v.extend_from_slice(rest);
    v
}

fn new_api(srv: &Server) -> (String, String) {
    let api = str_of(
        &apigw(srv, &["create-rest-api", "--name", "protected"]),
        "id",
    );
    let root = apigw(srv, &on_api("get-resources", &api, &[]))["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    (api, root)
}

#[test]
fn authorizer_lifecycle() {
    let srv = Server::start();
    let (api, root) = new_api(&srv);

    // TOKEN, as recorded: authType filled in, no TTL member unless one was given.
    let token = apigw(
        &srv,
        &on_api(
            "create-authorizer",
            &api,
            &[
                "--name",
                "lambda_authorizer",
                "--type",
                "TOKEN",
                "--authorizer-uri",
                FN_URI,
                "--identity-source",
                "method.request.header.Auth",
            ],
        ),
    );
    let token_id = str_of(&token, "id");
    assert_eq!(token_id.len(), 6);
    assert_eq!(
        token,
        json!({"id": token_id, "name": "lambda_authorizer", "type": "TOKEN", "authType": "custom",
               "authorizerUri": FN_URI, "identitySource": "method.request.header.Auth"})
    );

    let request = apigw(
        &srv,
        &on_api(
            "create-authorizer",
            &api,
            &[
                "--name",
                "by-request",
                "--type",
                "REQUEST",
                "--authorizer-uri",
                FN_URI,
                "--identity-source",
                "method.request.header.X-Tenant, method.request.querystring.token",
                "--authorizer-result-ttl-in-seconds",
                "60",
            ],
        ),
    );
    assert_eq!(request["authorizerResultTtlInSeconds"], 60);

    let cognito = apigw(
        &srv,
        &on_api(
            "create-authorizer",
            &api,
            &[
                "--name",
                "pool",
                "--type",
                "COGNITO_USER_POOLS",
                "--provider-arns",
                POOL,
                "--identity-source",
                "method.request.header.Authorization",
            ],
        ),
    );
    let cognito_id = str_of(&cognito, "id");
    assert_eq!(cognito["authType"], "cognito_user_pools");
    assert_eq!(cognito["providerARNs"], json!([POOL]));

    let all = apigw(&srv, &on_api("get-authorizers", &api, &[]));
    assert_eq!(all["items"].as_array().unwrap().len(), 3, "{all:#}");
    let page = apigw(&srv, &on_api("get-authorizers", &api, &["--limit", "2"]));
    assert_eq!(page["items"].as_array().unwrap().len(), 2, "{page:#}");
    assert!(page["position"].is_string(), "{page:#}");

    // Patch: replace members, add/remove provider ARNs.
    let updated = apigw(
        &srv,
        &on_api(
            "update-authorizer",
            &api,
            &[
                "--authorizer-id",
                &token_id,
                "--patch-operations",
                "op=replace,path=/name,value=renamed",
                "op=replace,path=/authorizerResultTtlInSeconds,value=0",
                "op=replace,path=/identityValidationExpression,value=^Bearer .+$",
            ],
        ),
    );
    assert_eq!(updated["name"], "renamed");
    assert_eq!(updated["authorizerResultTtlInSeconds"], 0);
    assert_eq!(updated["identityValidationExpression"], "^Bearer .+$");
    let pool2 = "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_XYZ789";
    let two = apigw(
        &srv,
        &on_api(
            "update-authorizer",
            &api,
            &[
                "--authorizer-id",
                &cognito_id,
                "--patch-operations",
                &format!("op=add,path=/providerARNs,value={pool2}"),
            ],
        ),
    );
    assert_eq!(two["providerARNs"], json!([POOL, pool2]));
    // Removing the last pool leaves a Cognito authorizer with none: refused, unchanged.
    let e = apigw_err(
        &srv,
        &on_api(
            "update-authorizer",
            &api,
            &[
                "--authorizer-id",
                &cognito_id,
                "--patch-operations",
                &format!("op=remove,path=/providerARNs,value={POOL}"),
                &format!("op=remove,path=/providerARNs,value={pool2}"),
            ],
        ),
    );
    assert_cli_error(&e, "BadRequestException", "ProviderARNs must be specified");
    let got = apigw(
        &srv,
        &on_api("get-authorizer", &api, &["--authorizer-id", &cognito_id]),
    );
    assert_eq!(got["providerARNs"], json!([POOL, pool2]));

    // A method names it; the authorizer in use cannot be deleted.
    let m = apigw(
        &srv,
        &on_api(
            "put-method",
            &api,
            &[
                "--resource-id",
                &root,
                "--http-method",
                "GET",
                "--authorization-type",
                "COGNITO_USER_POOLS",
                "--authorizer-id",
                &cognito_id,
                "--authorization-scopes",
                "email",
                "openid",
            ],
        ),
    );
    assert_eq!(m["authorizationScopes"], json!(["email", "openid"]));
    let e = apigw_err(
        &srv,
        &on_api("delete-authorizer", &api, &["--authorizer-id", &cognito_id]),
    );
    assert_cli_error(&e, "ConflictException", "is referenced in method");
    // Pointing the method at another authorizer frees it.
    apigw(
        &srv,
        &on_api(
            "update-method",
            &api,
            &[
                "--resource-id",
                &root,
                "--http-method",
                "GET",
                "--patch-operations",
                "op=replace,path=/authorizationType,value=CUSTOM",
                &format!("op=replace,path=/authorizerId,value={token_id}"),
            ],
        ),
    );
    apigw(
        &srv,
        &on_api("delete-authorizer", &api, &["--authorizer-id", &cognito_id]),
    );
    let e = apigw_err(
        &srv,
        &on_api("get-authorizer", &api, &["--authorizer-id", &cognito_id]),
    );
    assert_cli_error(
        &e,
        "NotFoundException",
        "Invalid Authorizer identifier specified",
    );
    // Recorded: an unknown authorizer id on PutMethod.
    let e = apigw_err(
        &srv,
        &on_api(
            "put-method",
            &api,
            &[
                "--resource-id",
                &root,
                "--http-method",
                "POST",
                "--authorization-type",
                "CUSTOM",
                "--authorizer-id",
                &cognito_id,
            ],
        ),
    );
    assert_cli_error(&e, "BadRequestException", "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.");
}

#[test]
fn authorizer_validation() {
    let srv = Server::start();
    let (api, _) = new_api(&srv);
    let create = |args: &[&str]| {
        let mut v = vec!["--name", "a"];
        v.extend_from_slice(args);
        apigw_err(&srv, &on_api("create-authorizer", &api, &v))
    };
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (
            vec!["--type", "TOKEN", "--identity-source", "method.request.header.A"],
            "BadRequestException",
            "Authorizer URI must be specified",
        ),
        (
            vec![
                "--type",
                "TOKEN",
                "--authorizer-uri",
                "arn:aws:lambda:us-east-1:0:function:f",
                "--identity-source",
                "method.request.header.A",
            ],
            "BadRequestException",
            "Invalid Authorizer URI",
        ),
        (
            vec![
                "--type",
                "TOKEN",
                "--authorizer-uri",
                FN_URI,
                "--identity-source",
                "method.request.querystring.key",
            ],
            "BadRequestException",
            "Invalid token source expression: method.request.querystring.key. The source must be a method request header, matching 'method.request.header.[a-zA-Z0-9._-]+'.",
        ),
        (
            vec![
                "--type",
                "TOKEN",
                "--authorizer-uri",
                FN_URI,
                "--identity-source",
                "method.request.header.A",
                "--authorizer-result-ttl-in-seconds",
                "3601",
            ],
            "BadRequestException",
            "Must be between 0 and 3600",
        ),
        (
            vec!["--type", "REQUEST", "--authorizer-uri", FN_URI],
            "BadRequestException",
            "Identity source must be set if authorizer caching is enabled",
        ),
        (
            vec![
                "--type",
                "REQUEST",
                "--authorizer-uri",
                FN_URI,
                "--identity-source",
                "method.request.path.id",
            ],
            "BadRequestException",
            "Invalid identity source expression: method.request.path.id",
        ),
        (
            vec![
                "--type",
                "COGNITO_USER_POOLS",
                "--identity-source",
                "method.request.header.Authorization",
            ],
            "BadRequestException",
            "ProviderARNs must be specified",
        ),
        (
            vec![
                "--type",
                "COGNITO_USER_POOLS",
                "--provider-arns",
                "arn:aws:iam::0:role/r",
                "--identity-source",
                "method.request.header.Authorization",
            ],
            "BadRequestException",
            "Invalid provider ARN specified",
        ),
    ];
    for (args, code, message) in cases {
        let e = create(&args);
        assert_cli_error(&e, code, message);
    }
    // A REQUEST authorizer without caching needs no identity source.
    let ok = apigw(
        &srv,
        &on_api(
            "create-authorizer",
            &api,
            &[
                "--name",
                "uncached",
                "--type",
                "REQUEST",
                "--authorizer-uri",
                FN_URI,
                "--authorizer-result-ttl-in-seconds",
                "0",
            ],
        ),
    );
    let id = str_of(&ok, "id");
    // Turning its cache on without a source is refused; a bad patch path too.
    let e = apigw_err(
        &srv,
        &on_api(
            "update-authorizer",
            &api,
            &[
                "--authorizer-id",
                &id,
                "--patch-operations",
                "op=replace,path=/authorizerResultTtlInSeconds,value=300",
            ],
        ),
    );
    assert_cli_error(&e, "BadRequestException", "Identity source must be set");
    let e = apigw_err(
        &srv,
        &on_api(
            "update-authorizer",
            &api,
            &[
                "--authorizer-id",
                &id,
                "--patch-operations",
                "op=add,path=/name,value=x",
            ],
        ),
    );
    assert_cli_error(&e, "BadRequestException", "Must be one of: [replace]");
    // Only nothing was created by the failed calls: the one good authorizer.
    let all = apigw(&srv, &on_api("get-authorizers", &api, &[]));
    assert_eq!(all["items"].as_array().unwrap().len(), 1, "{all:#}");

    // Recorded: a create under an unknown API is a conflict, a read a not-found.
    let e = apigw_err(
        &srv,
        &on_api(
            "create-authorizer",
            "fakeid0000",
            &[
                "--name",
                "a",
                "--type",
                "TOKEN",
                "--authorizer-uri",
                FN_URI,
                "--identity-source",
                "method.request.header.A",
            ],
        ),
    );
    assert_cli_error(
        &e,
        "ConflictException",
        "Unable to complete operation due to concurrent modification. Please try again later.",
    );
    let e = apigw_err(&srv, &on_api("get-authorizers", "fakeid0000", &[]));
    assert_cli_error(&e, "NotFoundException", "Invalid API identifier specified");

    // At most 10 per API.
    for i in 1..10 {
        apigw(
            &srv,
            &on_api(
                "create-authorizer",
                &api,
                &[
                    "--name",
                    &format!("a{i}"),
                    "--type",
                    "TOKEN",
                    "--authorizer-uri",
                    FN_URI,
                    "--identity-source",
                    "method.request.header.A",
                ],
            ),
        );
    }
    let e = create(&[
        "--type",
        "TOKEN",
        "--authorizer-uri",
        FN_URI,
        "--identity-source",
        "method.request.header.A",
    ]);
    assert_cli_error(
        &e,
        "LimitExceededException",
        "Maximum number of Authorizers",
    );
}

#[test]
fn rest_api_resource_policy() {
    let srv = Server::start();
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]})
    .to_string();
    let api = apigw(
        &srv,
        &["create-rest-api", "--name", "p", "--policy", &policy],
    );
    let id = str_of(&api, "id");
    assert_eq!(api["policy"], policy.as_str());
    let e = apigw_err(
        &srv,
        &["create-rest-api", "--name", "p", "--policy", "{\"no\": 1}"],
    );
    assert_cli_error(&e, "BadRequestException", "Invalid policy document.");
    let deny = json!({"Statement": [{"Effect": "Deny", "Principal": "*",
        "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]})
    .to_string();
    let patched = apigw(
        &srv,
        &[
            "update-rest-api",
            "--rest-api-id",
            &id,
            "--patch-operations",
            &json!([{"op": "replace", "path": "/policy", "value": deny}]).to_string(),
        ],
    );
    assert_eq!(patched["policy"], deny.as_str());
    let e = apigw_err(
        &srv,
        &[
            "update-rest-api",
            "--rest-api-id",
            &id,
            "--patch-operations",
            "op=replace,path=/policy,value=nope",
        ],
    );
    assert_cli_error(&e, "BadRequestException", "Invalid policy document.");
    let got = apigw(&srv, &["get-rest-api", "--rest-api-id", &id]);
    assert_eq!(got["policy"], deny.as_str());
}
