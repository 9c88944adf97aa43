//! SDK-based infrastructure tools send `""`, `{}` and `[]` for optional members the user left
//! unset. boto3 (default configuration, real SigV4) sends them to the real binary: each is
//! read as AWS reads it, mostly as absent, and the few AWS refuses stay refused.

mod common;

use common::*;
use serde_json::Value;

/// Each step prints `[name, "ok", result]` or `[name, "error", code, message]`.
const SCRIPT: &str = r#"
import io, json, sys, zipfile
import boto3
from botocore.exceptions import ClientError

kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1",
          aws_access_key_id="test", aws_secret_access_key="test")
ag = boto3.client("apigateway", **kw)
lm = boto3.client("lambda", **kw)
out = {}

def step(name, f):
    try:
        r = f()
        r.pop("ResponseMetadata", None)
        out[name] = {"ok": json.loads(json.dumps(r, default=str))}
    except ClientError as e:
        out[name] = {"error": e.response["Error"]["Code"], "message": e.response["Error"]["Message"]}
    return out[name].get("ok")

api = step("CreateRestApi", lambda: ag.create_rest_api(name="empty", binaryMediaTypes=[], tags={}, policy=""))
step("CreateRestApi description", lambda: ag.create_rest_api(name="x", description=""))
api_id, root = api["id"], api["rootResourceId"]
step("PutMethod", lambda: ag.put_method(restApiId=api_id, resourceId=root, httpMethod="GET",
     authorizationType="NONE", authorizerId="", operationName="", requestValidatorId="",
     requestParameters={}, requestModels={}))
step("PutIntegration", lambda: ag.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET",
     type="MOCK", integrationHttpMethod="", uri="", connectionType="", credentials="",
     passthroughBehavior="", cacheNamespace="", contentHandling="", requestParameters={},
     requestTemplates={"application/json": '{"statusCode": 200}'}, cacheKeyParameters=[]))
step("PutMethodResponse", lambda: ag.put_method_response(restApiId=api_id, resourceId=root,
     httpMethod="GET", statusCode="200", responseParameters={}, responseModels={}))
step("PutIntegrationResponse", lambda: ag.put_integration_response(restApiId=api_id, resourceId=root,
     httpMethod="GET", statusCode="200", selectionPattern="", contentHandling="",
     responseParameters={}, responseTemplates={}))
step("CreateDeployment", lambda: ag.create_deployment(restApiId=api_id, stageName="",
     stageDescription="", description="", variables={}))
step("GetStages", lambda: ag.get_stages(restApiId=api_id))
step("CreateApiKey", lambda: ag.create_api_key(name="k", description="", enabled=True, value="",
     customerId="", stageKeys=[], tags={}))
step("CreateUsagePlan", lambda: ag.create_usage_plan(name="p", apiStages=[], throttle={}, quota={}, tags={}))

buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("app.py", "def handler(event, context):\n    return event\n")
step("CreateFunction", lambda: lm.create_function(FunctionName="f", Runtime="python3.12",
     Role="arn:aws:iam::000000000000:role/r", Handler="app.handler", Code={"ZipFile": buf.getvalue()},
     Description="", Environment={"Variables": {}}, Tags={}))
step("UpdateFunctionConfiguration", lambda: lm.update_function_configuration(FunctionName="f",
     Description="changed", RevisionId=""))
step("PublishVersion", lambda: lm.publish_version(FunctionName="f", CodeSha256="", RevisionId=""))
step("AddPermission SourceArn", lambda: lm.add_permission(FunctionName="f", StatementId="s",
     Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com", SourceArn=""))
step("GetPolicy", lambda: lm.get_policy(FunctionName="f"))
print(json.dumps(out))
"#;

fn ok<'a>(v: &'a Value, step: &str) -> &'a Value {
    let r = &v[step];
    assert!(r.get("ok").is_some(), "{step} failed: {r:#}");
    &r["ok"]
}

fn refused(v: &Value, step: &str, code: &str, message: &str) {
    let r = &v[step];
    assert_eq!(r["error"], code, "{step}: {r:#}");
    assert!(
        r["message"].as_str().unwrap_or_default().contains(message),
        "{step}: {r:#}"
    );
}

#[test]
fn empty_optional_members_from_boto3_read_as_aws_reads_them() {
    let s = Server::start();
    let v = python_script(SCRIPT, &[&s.endpoint()]);

    let api = ok(&v, "CreateRestApi");
    assert!(
        api.get("policy").is_none(),
        "empty policy is no policy: {api:#}"
    );
    // Recorded on AWS: an empty description of a RestApi is refused.
    refused(
        &v,
        "CreateRestApi description",
        "BadRequestException",
        "Description cannot be an empty string",
    );
    let method = ok(&v, "PutMethod");
    assert!(method.get("requestValidatorId").is_none(), "{method:#}");
    assert!(method.get("authorizerId").is_none(), "{method:#}");
    let integration = ok(&v, "PutIntegration");
    assert_eq!(
        integration["passthroughBehavior"], "WHEN_NO_MATCH",
        "{integration:#}"
    );
    assert!(
        integration.get("contentHandling").is_none(),
        "{integration:#}"
    );
    assert!(
        integration.get("connectionType").is_none() || integration["connectionType"] == "INTERNET",
        "{integration:#}"
    );
    let ir = ok(&v, "PutIntegrationResponse");
    assert!(ir.get("contentHandling").is_none(), "{ir:#}");

    ok(&v, "CreateDeployment");
    let stages = ok(&v, "GetStages");
    assert_eq!(
        stages["item"],
        serde_json::json!([]),
        "an empty stageName creates no stage: {stages:#}"
    );

    let key = ok(&v, "CreateApiKey");
    let value = key["value"].as_str().unwrap_or_default();
    assert!(value.len() >= 20, "an empty value is generated: {key:#}");
    assert!(key.get("customerId").is_none(), "{key:#}");

    let plan = ok(&v, "CreateUsagePlan");
    assert!(
        plan.get("throttle").is_none(),
        "{{}} is no throttle: {plan:#}"
    );
    assert!(plan.get("quota").is_none(), "{{}} is no quota: {plan:#}");

    ok(&v, "CreateFunction");
    let updated = ok(&v, "UpdateFunctionConfiguration");
    assert_eq!(updated["Description"], "changed", "{updated:#}");
    let version = ok(&v, "PublishVersion");
    assert_eq!(version["Version"], "1", "{version:#}");
    // The model's pattern refuses an empty SourceArn (it would be a condition nobody meets).
    refused(
        &v,
        "AddPermission SourceArn",
        "ValidationException",
        "sourceArn",
    );
    refused(&v, "GetPolicy", "ResourceNotFoundException", "");
}
