//! The `apigatewayv2` control plane for HTTP APIs, driven by the real `aws` CLI and boto3
//! against the real binary: Apis (with quick create), Routes, Integrations, Stages
//! (autoDeploy), Deployments, Tags, pagination and AWS's errors; and the state surviving a
//! restart.

mod common;

use common::*;
use serde_json::{json, Value};

fn is_iso8601(v: &Value) -> bool {
    let s = v.as_str().unwrap_or_default();
    // The CLI prints what it parsed: `2024-01-02T03:04:05+00:00` (or the `Z` form).
    s.len() >= 20 && s.as_bytes()[4] == b'-' && s.as_bytes()[10] == b'T'
}

#[test]
fn cli_walkthrough_api_integration_route_stage_deployment() {
    let s = Server::start();
    let api = v2(
        &s,
        &[
            "create-api",
            "--name",
            "pets",
            "--protocol-type",
            "HTTP",
            "--description",
            "first",
            "--tags",
            "team=a",
        ],
    );
    let id = api["ApiId"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 10);
    assert_eq!(api["ProtocolType"], "HTTP");
    assert_eq!(
        api["RouteSelectionExpression"],
        "$request.method $request.path"
    );
    assert_eq!(
        api["ApiKeySelectionExpression"],
        "$request.header.x-api-key"
    );
    assert_eq!(api["DisableExecuteApiEndpoint"], false);
    assert_eq!(api["Tags"], json!({"team": "a"}));
    assert!(is_iso8601(&api["CreatedDate"]), "{api:#}");
    assert_eq!(
        api["ApiEndpoint"],
        format!("http://{id}.execute-api.localhost:{}", s.port)
    );

    let integration = v2(
        &s,
        &[
            "create-integration",
            "--api-id",
            &id,
            "--integration-type",
            "HTTP_PROXY",
            "--integration-uri",
            "https://example.com/pets",
            "--integration-method",
            "GET",
            "--request-parameters",
            "append:header.x-from=$request.header.x-to",
        ],
    );
    let int_id = integration["IntegrationId"].as_str().unwrap().to_string();
    assert_eq!(int_id.len(), 7);
    assert_eq!(integration["ConnectionType"], "INTERNET");
    assert_eq!(integration["PayloadFormatVersion"], "1.0");
    assert_eq!(integration["TimeoutInMillis"], 30000);
    assert_eq!(
        integration["RequestParameters"],
        json!({"append:header.x-from": "$request.header.x-to"})
    );

    let route = v2(
        &s,
        &[
            "create-route",
            "--api-id",
            &id,
            "--route-key",
            "GET /pets/{id}",
            "--target",
            &format!("integrations/{int_id}"),
        ],
    );
    let route_id = route["RouteId"].as_str().unwrap().to_string();
    assert_eq!(route["AuthorizationType"], "NONE");
    assert_eq!(route["ApiKeyRequired"], false);
    assert_eq!(route["Target"], format!("integrations/{int_id}"));

    let stage = v2(
        &s,
        &["create-stage", "--api-id", &id, "--stage-name", "dev"],
    );
    assert_eq!(stage["AutoDeploy"], false);
    assert_eq!(
        stage["DefaultRouteSettings"],
        json!({"DetailedMetricsEnabled": false})
    );
    assert_eq!(stage["RouteSettings"], json!({}));
    assert_eq!(stage["StageVariables"], json!({}));
    assert!(stage.get("DeploymentId").is_none(), "{stage:#}");

    let dep = v2(
        &s,
        &[
            "create-deployment",
            "--api-id",
            &id,
            "--stage-name",
            "dev",
            "--description",
            "d1",
        ],
    );
    let dep_id = dep["DeploymentId"].as_str().unwrap().to_string();
    assert_eq!(dep["DeploymentStatus"], "DEPLOYED");
    assert_eq!(dep["AutoDeployed"], false);
    assert_eq!(dep["Description"], "d1");
    let stage = v2(&s, &["get-stage", "--api-id", &id, "--stage-name", "dev"]);
    assert_eq!(stage["DeploymentId"], dep_id);

    // A partial update changes only what it names.
    let updated = v2(
        &s,
        &[
            "update-route",
            "--api-id",
            &id,
            "--route-id",
            &route_id,
            "--operation-name",
            "getPet",
        ],
    );
    assert_eq!(updated["OperationName"], "getPet");
    assert_eq!(updated["RouteKey"], "GET /pets/{id}");
    let api2 = v2(&s, &["update-api", "--api-id", &id, "--name", "pets2"]);
    assert_eq!(api2["Name"], "pets2");
    assert_eq!(api2["Description"], "first");

    // Lists, and AWS's errors.
    let routes = v2(&s, &["get-routes", "--api-id", &id]);
    assert_eq!(routes["Items"].as_array().unwrap().len(), 1);
    let e = v2_err(
        &s,
        &[
            "create-route",
            "--api-id",
            &id,
            "--route-key",
            "GET /pets/{id}",
        ],
    );
    assert_cli_error(&e, "ConflictException", "GET /pets/{id}");
    let e = v2_err(
        &s,
        &["create-route", "--api-id", &id, "--route-key", "FETCH /x"],
    );
    assert_cli_error(&e, "BadRequestException", "FETCH /x");
    let e = v2_err(&s, &["get-api", "--api-id", "nonexisten"]);
    assert_cli_error(&e, "NotFoundException", "nonexisten");
    let e = v2_err(
        &s,
        &[
            "delete-integration",
            "--api-id",
            &id,
            "--integration-id",
            &int_id,
        ],
    );
    assert_cli_error(&e, "ConflictException", &int_id);
    let e = v2_err(
        &s,
        &[
            "create-integration",
            "--api-id",
            &id,
            "--integration-type",
            "HTTP_PROXY",
            "--integration-uri",
            "https://example.com",
            "--integration-method",
            "GET",
            "--timeout-in-millis",
            "30001",
        ],
    );
    assert_cli_error(&e, "BadRequestException", "between 50 and 30000");
    let e = v2_err(
        &s,
        &["create-api", "--name", "ws", "--protocol-type", "WEBSOCKET"],
    );
    // WebSocket APIs need their route selection expression (websocket.rs has the rest).
    assert_cli_error(&e, "BadRequestException", "WebSocket");
    let e = v2_err(
        &s,
        &[
            "delete-deployment",
            "--api-id",
            &id,
            "--deployment-id",
            &dep_id,
        ],
    );
    assert_cli_error(&e, "BadRequestException", "dev");

    // Deleting cascades: the API, then nothing is left of it.
    v2(
        &s,
        &["delete-route", "--api-id", &id, "--route-id", &route_id],
    );
    v2(
        &s,
        &[
            "delete-integration",
            "--api-id",
            &id,
            "--integration-id",
            &int_id,
        ],
    );
    v2(&s, &["delete-api", "--api-id", &id]);
    let e = v2_err(&s, &["get-routes", "--api-id", &id]);
    assert_cli_error(&e, "NotFoundException", &id);
}

#[test]
fn quick_create_makes_a_managed_default_route_integration_and_auto_deployed_stage() {
    let s = Server::start();
    let fn_arn = "arn:aws:lambda:us-east-1:000000000000:function:hello";
    let api = v2(
        &s,
        &[
            "create-api",
            "--name",
            "quick",
            "--protocol-type",
            "HTTP",
            "--target",
            fn_arn,
        ],
    );
    let id = api["ApiId"].as_str().unwrap().to_string();
    let ints = v2(&s, &["get-integrations", "--api-id", &id])["Items"].clone();
    let int = &ints[0];
    assert_eq!(int["IntegrationType"], "AWS_PROXY");
    assert_eq!(int["IntegrationUri"], fn_arn);
    assert_eq!(int["IntegrationMethod"], "POST");
    assert_eq!(int["PayloadFormatVersion"], "2.0");
    assert_eq!(int["ApiGatewayManaged"], true);
    let routes = v2(&s, &["get-routes", "--api-id", &id])["Items"].clone();
    assert_eq!(routes[0]["RouteKey"], "$default");
    assert_eq!(routes[0]["ApiGatewayManaged"], true);
    assert_eq!(
        routes[0]["Target"],
        format!("integrations/{}", int["IntegrationId"].as_str().unwrap())
    );
    let stage = v2(
        &s,
        &["get-stage", "--api-id", &id, "--stage-name", "$default"],
    );
    assert_eq!(stage["AutoDeploy"], true);
    assert_eq!(stage["ApiGatewayManaged"], true);
    let first = stage["DeploymentId"].as_str().unwrap().to_string();
    let deps = v2(&s, &["get-deployments", "--api-id", &id])["Items"].clone();
    assert_eq!(deps[0]["DeploymentId"], first);
    assert_eq!(deps[0]["AutoDeployed"], true);
    assert!(stage["LastDeploymentStatusMessage"]
        .as_str()
        .unwrap()
        .contains(&first));

    // Managed parts are changed through the API, not directly.
    let e = v2_err(
        &s,
        &[
            "delete-route",
            "--api-id",
            &id,
            "--route-id",
            routes[0]["RouteId"].as_str().unwrap(),
        ],
    );
    assert_cli_error(&e, "BadRequestException", "managed");
    // With autoDeploy, a new route is deployed by the call that makes it.
    let http = v2(
        &s,
        &[
            "create-integration",
            "--api-id",
            &id,
            "--integration-type",
            "HTTP_PROXY",
            "--integration-uri",
            "http://127.0.0.1:9/x",
            "--integration-method",
            "ANY",
        ],
    );
    v2(
        &s,
        &[
            "create-route",
            "--api-id",
            &id,
            "--route-key",
            "ANY /web/{proxy+}",
            "--target",
            &format!("integrations/{}", http["IntegrationId"].as_str().unwrap()),
        ],
    );
    let stage = v2(
        &s,
        &["get-stage", "--api-id", &id, "--stage-name", "$default"],
    );
    let second = stage["DeploymentId"].as_str().unwrap();
    assert_ne!(second, first);
    let deps = v2(&s, &["get-deployments", "--api-id", &id])["Items"].clone();
    let ids: Vec<&str> = deps
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["DeploymentId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![second],
        "superseded automatic deployments are dropped"
    );
    let e = v2_err(
        &s,
        &[
            "create-deployment",
            "--api-id",
            &id,
            "--stage-name",
            "$default",
        ],
    );
    assert_cli_error(&e, "BadRequestException", "autoDeploy");
    let e = v2_err(
        &s,
        &[
            "create-api",
            "--name",
            "x",
            "--protocol-type",
            "HTTP",
            "--route-key",
            "GET /",
        ],
    );
    assert_cli_error(&e, "BadRequestException", "target");
}

#[test]
fn tags_on_apis_and_stages() {
    let s = Server::start();
    let id = v2(
        &s,
        &["create-api", "--name", "t", "--protocol-type", "HTTP"],
    )["ApiId"]
        .as_str()
        .unwrap()
        .to_string();
    v2(
        &s,
        &[
            "create-stage",
            "--api-id",
            &id,
            "--stage-name",
            "prod",
            "--tags",
            "a=1",
        ],
    );
    let api_arn = format!("arn:aws:apigateway:us-east-1::/apis/{id}");
    let stage_arn = format!("{api_arn}/stages/prod");
    v2(
        &s,
        &[
            "tag-resource",
            "--resource-arn",
            &api_arn,
            "--tags",
            "x=1,y=2",
        ],
    );
    assert_eq!(
        v2(&s, &["get-tags", "--resource-arn", &api_arn])["Tags"],
        json!({"x": "1", "y": "2"})
    );
    v2(
        &s,
        &[
            "untag-resource",
            "--resource-arn",
            &api_arn,
            "--tag-keys",
            "x",
        ],
    );
    assert_eq!(
        v2(&s, &["get-api", "--api-id", &id])["Tags"],
        json!({"y": "2"})
    );
    v2(
        &s,
        &[
            "tag-resource",
            "--resource-arn",
            &stage_arn,
            "--tags",
            "b=2",
        ],
    );
    assert_eq!(
        v2(&s, &["get-tags", "--resource-arn", &stage_arn])["Tags"],
        json!({"a": "1", "b": "2"})
    );
    let e = v2_err(
        &s,
        &[
            "get-tags",
            "--resource-arn",
            "arn:aws:apigateway:us-east-1::/apis/nope/x",
        ],
    );
    assert_cli_error(&e, "NotFoundException", "nope");
}

#[test]
fn get_apis_pages_with_items_and_next_token() {
    let s = Server::start();
    let cp = Cp::new(&s);
    for i in 0..3 {
        cp.ok(
            "POST",
            "/v2/apis",
            Some(&json!({"name": format!("a{i}"), "protocolType": "HTTP"})),
        );
    }
    let p1 = cp
        .request("GET", "/v2/apis", &[("maxResults", "2")], None)
        .json();
    assert_eq!(p1["items"].as_array().unwrap().len(), 2);
    let token = p1["nextToken"].as_str().unwrap();
    let p2 = cp
        .request(
            "GET",
            "/v2/apis",
            &[("maxResults", "2"), ("nextToken", token)],
            None,
        )
        .json();
    assert_eq!(p2["items"].as_array().unwrap().len(), 1);
    assert!(p2.get("nextToken").is_none());
    // camelCase on the wire, ISO-8601 dates.
    let item = &p2["items"][0];
    assert!(item["apiId"].is_string() && item["createdDate"].as_str().unwrap().ends_with('Z'));
    let all = v2(&s, &["get-apis", "--page-size", "1"]);
    assert_eq!(
        all["Items"].as_array().unwrap().len(),
        3,
        "the CLI follows nextToken"
    );
    let bad = cp.request("GET", "/v2/apis", &[("maxResults", "0")], None);
    assert_eq!(bad.status, 400);
    assert_eq!(bad.header("x-amzn-ErrorType"), Some("BadRequestException"));
}

/// boto3: partial updates, CORS, stage settings merged per key and deleted by their
/// (URL-encoded) route key, access log settings, and the state surviving a restart.
const SCRIPT: &str = r#"
import json, sys
import boto3
from botocore.exceptions import ClientError

c = boto3.client("apigatewayv2", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test")
out = {}
def err(f):
    try:
        f()
        return None
    except ClientError as e:
        return e.response["Error"]["Code"]

api = c.create_api(Name="b", ProtocolType="HTTP",
                   CorsConfiguration={"AllowOrigins": ["https://a.example"], "MaxAge": 60},
                   RouteSelectionExpression="${request.method} ${request.path}")
aid = api["ApiId"]
out["rse"] = api["RouteSelectionExpression"]
out["cors"] = c.get_api(ApiId=aid)["CorsConfiguration"]
c.update_api(ApiId=aid, Description="d")
g = c.get_api(ApiId=aid)
out["after_update"] = [g["Name"], g["Description"], "CorsConfiguration" in g]
c.delete_cors_configuration(ApiId=aid)
out["cors_deleted"] = "CorsConfiguration" not in c.get_api(ApiId=aid)
out["bad_cors"] = err(lambda: c.update_api(ApiId=aid, CorsConfiguration={"AllowOrigins": ["*"], "AllowCredentials": True}))
out["bad_rse"] = err(lambda: c.update_api(ApiId=aid, RouteSelectionExpression="$request.body.x"))
i = c.create_integration(ApiId=aid, IntegrationType="HTTP_PROXY", IntegrationUri="http://127.0.0.1:9",
                         IntegrationMethod="ANY", PayloadFormatVersion="1.0")
r = c.create_route(ApiId=aid, RouteKey="GET /pets/{id}", Target="integrations/" + i["IntegrationId"])
c.create_stage(ApiId=aid, StageName="$default", AutoDeploy=True,
               StageVariables={"v": "1"},
               RouteSettings={"GET /pets/{id}": {"ThrottlingBurstLimit": 5, "ThrottlingRateLimit": 1.0}},
               AccessLogSettings={"DestinationArn": "arn:aws:logs:us-east-1:000000000000:log-group:g", "Format": "$context.requestId"})
st = c.get_stage(ApiId=aid, StageName="$default")
out["auto_deployed"] = "DeploymentId" in st
c.update_stage(ApiId=aid, StageName="$default",
               RouteSettings={"GET /pets/{id}": {"ThrottlingRateLimit": 2.0}},
               DefaultRouteSettings={"ThrottlingBurstLimit": 9}, StageVariables={"w": "2"})
st = c.get_stage(ApiId=aid, StageName="$default")
out["merged"] = [st["RouteSettings"]["GET /pets/{id}"], st["DefaultRouteSettings"], st["StageVariables"]]
out["unknown_route_key"] = err(lambda: c.update_stage(ApiId=aid, StageName="$default", RouteSettings={"GET /nope": {}}))
c.delete_route_settings(ApiId=aid, StageName="$default", RouteKey="GET /pets/{id}")
c.delete_access_log_settings(ApiId=aid, StageName="$default")
st = c.get_stage(ApiId=aid, StageName="$default")
out["deleted_settings"] = [st["RouteSettings"], "AccessLogSettings" in st]
out["dup_stage"] = err(lambda: c.create_stage(ApiId=aid, StageName="$default"))
out["bad_stage"] = err(lambda: c.create_stage(ApiId=aid, StageName="a b"))
out["lambda_without_pfv"] = err(lambda: c.create_integration(ApiId=aid, IntegrationType="AWS_PROXY",
    IntegrationUri="arn:aws:lambda:us-east-1:000000000000:function:f"))
out["api_id"] = aid
print(json.dumps(out))
"#;

#[test]
fn boto3_partial_updates_cors_and_stage_settings_survive_a_restart() {
    let mut s = Server::start();
    let v = python_script(SCRIPT, &[&s.endpoint()]);
    assert_eq!(v["rse"], "$request.method $request.path");
    assert_eq!(
        v["cors"],
        json!({"AllowOrigins": ["https://a.example"], "MaxAge": 60})
    );
    assert_eq!(v["after_update"], json!(["b", "d", true]));
    assert_eq!(v["cors_deleted"], true);
    assert_eq!(v["bad_cors"], "BadRequestException");
    assert_eq!(v["bad_rse"], "BadRequestException");
    assert_eq!(v["auto_deployed"], true);
    assert_eq!(
        v["merged"],
        json!([
            {"ThrottlingBurstLimit": 5, "ThrottlingRateLimit": 2.0},
            {"DetailedMetricsEnabled": false, "ThrottlingBurstLimit": 9},
            {"v": "1", "w": "2"}
        ])
    );
    assert_eq!(v["unknown_route_key"], "NotFoundException");
    assert_eq!(v["deleted_settings"], json!([{}, false]));
    assert_eq!(v["dup_stage"], "ConflictException");
    assert_eq!(v["bad_stage"], "BadRequestException");
    assert_eq!(v["lambda_without_pfv"], "BadRequestException");

    let id = v["api_id"].as_str().unwrap().to_string();
    let before = v2(
        &s,
        &["get-stage", "--api-id", &id, "--stage-name", "$default"],
    );
    s.sigterm();
    let s = Server::start_in(s.dir());
    let after = v2(
        &s,
        &["get-stage", "--api-id", &id, "--stage-name", "$default"],
    );
    assert_eq!(before, after);
    assert_eq!(
        v2(&s, &["get-routes", "--api-id", &id])["Items"][0]["RouteKey"],
        "GET /pets/{id}"
    );
}

#[test]
fn authorizers_are_stored_checked_and_referenced_by_routes() {
    let s = Server::start();
    let id = v2(
        &s,
        &["create-api", "--name", "auth", "--protocol-type", "HTTP"],
    )["ApiId"]
        .as_str()
        .unwrap()
        .to_string();
    let jwt = v2(
        &s,
        &[
            "create-authorizer",
            "--api-id",
            &id,
            "--name",
            "jwt",
            "--authorizer-type",
            "JWT",
            "--identity-source",
            "$request.header.Authorization",
            "--jwt-configuration",
            "Audience=client1,Issuer=http://127.0.0.1:9/issuer",
        ],
    );
    let jwt_id = jwt["AuthorizerId"].as_str().unwrap().to_string();
    assert_eq!(jwt_id.len(), 6);
    assert_eq!(jwt["JwtConfiguration"]["Audience"], json!(["client1"]));
    let lambda_uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:auth/invocations";
    let req = v2(
        &s,
        &[
            "create-authorizer",
            "--api-id",
            &id,
            "--name",
            "fn",
            "--authorizer-type",
            "REQUEST",
            "--identity-source",
            "$request.header.x-token",
            "--authorizer-uri",
            lambda_uri,
            "--authorizer-payload-format-version",
            "2.0",
            "--enable-simple-responses",
            "--authorizer-result-ttl-in-seconds",
            "300",
        ],
    );
    let req_id = req["AuthorizerId"].as_str().unwrap().to_string();
    assert_eq!(req["EnableSimpleResponses"], true);
    let e = v2_err(
        &s,
        &[
            "create-authorizer",
            "--api-id",
            &id,
            "--name",
            "bad",
            "--authorizer-type",
            "REQUEST",
            "--identity-source",
            "$request.header.x",
            "--authorizer-uri",
            lambda_uri,
        ],
    );
    assert_cli_error(&e, "BadRequestException", "authorizerPayloadFormatVersion");
    // Identity sources in an HTTP API's forms only; a JWT issuer is a URL.
    let e = v2_err(
        &s,
        &[
            "create-authorizer",
            "--api-id",
            &id,
            "--name",
            "bad-source",
            "--authorizer-type",
            "REQUEST",
            "--authorizer-payload-format-version",
            "2.0",
            "--identity-source",
            "method.request.header.x",
            "--authorizer-uri",
            lambda_uri,
        ],
    );
    assert_cli_error(
        &e,
        "BadRequestException",
        "Invalid identity source specified: method.request.header.x",
    );
    // An issuer is an https URL; plain http only for an identity provider on this machine.
    for (issuer, message) in [
        ("issuer.example", "Invalid issuer specified"),
        ("http://idp.example.com/realm", "loopback"),
    ] {
        let config = format!("Audience=a,Issuer={issuer}");
        let e = v2_err(
            &s,
            &[
                "create-authorizer",
                "--api-id",
                &id,
                "--name",
                "bad-issuer",
                "--authorizer-type",
                "JWT",
                "--identity-source",
                "$request.header.Authorization",
                "--jwt-configuration",
                &config,
            ],
        );
        assert_cli_error(&e, "BadRequestException", message);
    }

    let route = v2(
        &s,
        &[
            "create-route",
            "--api-id",
            &id,
            "--route-key",
            "GET /me",
            "--authorization-type",
            "JWT",
            "--authorizer-id",
            &jwt_id,
            "--authorization-scopes",
            "read",
        ],
    );
    assert_eq!(route["AuthorizationScopes"], json!(["read"]));
    let e = v2_err(
        &s,
        &[
            "create-route",
            "--api-id",
            &id,
            "--route-key",
            "GET /x",
            "--authorization-type",
            "CUSTOM",
            "--authorizer-id",
            &jwt_id,
        ],
    );
    assert_cli_error(&e, "BadRequestException", "REQUEST");
    v2(
        &s,
        &[
            "update-route",
            "--api-id",
            &id,
            "--route-id",
            route["RouteId"].as_str().unwrap(),
            "--authorization-type",
            "CUSTOM",
            "--authorizer-id",
            &req_id,
            "--authorization-scopes",
            "[]",
        ],
    );
    let e = v2_err(
        &s,
        &[
            "delete-authorizer",
            "--api-id",
            &id,
            "--authorizer-id",
            &req_id,
        ],
    );
    assert_cli_error(&e, "ConflictException", &req_id);
    v2(
        &s,
        &[
            "delete-authorizer",
            "--api-id",
            &id,
            "--authorizer-id",
            &jwt_id,
        ],
    );
    let items = v2(&s, &["get-authorizers", "--api-id", &id])["Items"].clone();
    assert_eq!(items.as_array().unwrap().len(), 1);

    // The route's REQUEST authorizer runs: without its identity source the request is a 401
    // before any function is called (http_apis_authorizers.rs covers the rest).
    v2(
        &s,
        &[
            "create-stage",
            "--api-id",
            &id,
            "--stage-name",
            "$default",
            "--auto-deploy",
        ],
    );
    let r = Http::get(s.port, "/me")
        .header("Host", &format!("{id}.execute-api.localhost:{}", s.port))
        .send();
    assert_eq!(r.status, 401, "{r}");
    assert_eq!(r.json(), json!({"message": "Unauthorized"}), "{r}");
}
