//! `tollgate sam` beyond hello world (issue 17): a REST API with a Lambda TOKEN authorizer as
//! its `DefaultAuthorizer` (one event opting out with `NONE`) and `Cors`, an HTTP API with a
//! JWT authorizer and `CorsConfiguration`, an API from a `DefinitionUri` file, a function
//! with `AutoPublishAlias` (its events invoke the alias, each change publishes a version),
//! `Conditions`/`Mappings`, a plain `AWS::Lambda::Function` with inline code, and a rerun
//! after resources left the template deleting them.

mod common;

use common::idp::*;
use common::sam::*;
use common::*;
use jsonwebtoken::Algorithm;
use serde_json::json;

const TEMPLATE: &str = r#"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Issuer:
    Type: String
  Env:
    Type: String
    Default: dev
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
Mappings:
  Greetings:
    dev:
      Word: hello-dev
Globals:
  Function:
    Runtime: python3.12
    Timeout: 5
Resources:
  SecureApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: dev
      Cors:
        AllowOrigin: "'https://app.example'"
        AllowHeaders: "'Content-Type,Authorization'"
        MaxAge: 600
      Auth:
        DefaultAuthorizer: TokenAuth
        AddDefaultAuthorizerToCorsPreflight: false
        Authorizers:
          TokenAuth:
            FunctionArn: !GetAtt AuthFunction.Arn
            Identity:
              ReauthorizeEvery: 0
  JwtApi:
    Type: AWS::Serverless::HttpApi
    Properties:
      CorsConfiguration: true
      Auth:
        DefaultAuthorizer: Jwt
        Authorizers:
          Jwt:
            IdentitySource: $request.header.Authorization
            JwtConfiguration:
              issuer: !Ref Issuer
              audience:
                - app
  FileApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      DefinitionUri: api.yaml
  AuthFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: auth/
      Handler: app.handler
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello/
      Handler: app.handler
      AutoPublishAlias: live
      Environment:
        Variables:
          WORD: !FindInMap [Greetings, !Ref Env, Word]
          ONLY_PROD: !If [IsProd, "yes", !Ref AWS::NoValue]
      Events:
        Secure:
          Type: Api
          Properties:
            RestApiId: !Ref SecureApi
            Path: /secure
            Method: get
        Open:
          Type: Api
          Properties:
            RestApiId: !Ref SecureApi
            Path: /open
            Method: get
            Auth:
              Authorizer: NONE
        Me:
          Type: HttpApi
          Properties:
            ApiId: !Ref JwtApi
            Path: /me
            Method: GET
  SpareFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello/
      Handler: app.handler
  PlainFunction:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::000000000000:role/plain
      Code:
        ZipFile: |
          def handler(event, context):
              return {"plain": event["n"] + 1}
  ProdOnlyFunction:
    Type: AWS::Serverless::Function
    Condition: IsProd
    Properties:
      CodeUri: hello/
      Handler: app.handler
"#;

const AUTHORIZER: &str = r#"
def handler(event, context):
    if event["authorizationToken"] != "allow":
        raise Exception("Unauthorized")
    return {"principalId": "me", "policyDocument": {"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}]}}
"#;

fn hello(version: &str) -> String {
    format!(
        r#"import json, os
def handler(event, context):
    return {{"statusCode": 200, "body": json.dumps({{"v": "{version}",
            "function": context.invoked_function_arn, "word": os.environ.get("WORD"),
            "only_prod": os.environ.get("ONLY_PROD")}})}}
"#
    )
}

const FILE_API: &str = r#"
openapi: 3.0.1
info: {title: from-a-file, version: "1"}
paths:
  /ping:
    get:
      responses: {"200": {description: ok}}
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: {application/json: '{"statusCode": 200}'}
        responses:
          default:
            statusCode: "200"
            responseTemplates: {application/json: '{"from": "DefinitionUri"}'}
"#;

fn aws_json(s: &Server, args: &[&str]) -> serde_json::Value {
    aws(s, args).unwrap_or_else(|e| panic!("aws {args:?}: {}", e.stderr))
}

/// The version the alias `live` of the hello function names.
fn live_version(s: &Server) -> String {
    let args = [
        "lambda",
        "get-alias",
        "--function-name",
        "sam-app-HelloFunction",
        "--name",
        "live",
    ];
    aws_json(s, &args)["FunctionVersion"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn auth_cors_definition_uri_alias_and_deletes() {
    let s = Server::start();
    let idp_dir = tempfile::tempdir().unwrap();
    let (base, _idp) = serve_dir(idp_dir.path());
    let issuer = oidc_issuer(idp_dir.path(), &base, "realm");
    let dir = tempfile::tempdir().unwrap();
    let app = &dir.path().join("sam-app");
    write(app, "template.yaml", TEMPLATE);
    write(app, "auth/app.py", AUTHORIZER);
    write(app, "hello/app.py", &hello("one"));
    write(app, "api.yaml", FILE_API);
    let param = format!("Issuer={issuer}");
    let out = sam(&s, app, &["--parameter-overrides", &param]);
    let u = urls(&out);

    // REST: the default TOKEN authorizer guards /secure; /open opted out.
    let secure = format!("{}secure", u["SecureApi"]);
    let r = get(&s, &secure, "GET");
    assert_eq!(r.status, 401, "{r}");
    let path = secure.strip_prefix(&s.endpoint()).unwrap();
    let r = Http::get(s.port, path)
        .header("Authorization", "deny")
        .send();
    assert_eq!(r.status, 401, "{r}");
    let r = Http::get(s.port, path)
        .header("Authorization", "allow")
        .send();
    assert_eq!(r.status, 200, "{r}");
    // The route invokes the alias `live`, version 1.
    let body = r.json();
    assert_eq!(body["v"], "one");
    // Mappings and Conditions: FindInMap by the parameter, a false Fn::If dropping the
    // variable, a resource whose condition is false not created.
    assert_eq!(body["word"], "hello-dev", "{body}");
    assert_eq!(body["only_prod"], serde_json::Value::Null, "{body}");
    assert!(
        body["function"].as_str().unwrap().ends_with(":live"),
        "{body}"
    );
    let r = get(&s, &format!("{}open", u["SecureApi"]), "GET");
    assert_eq!(r.status, 200, "{r}");
    // CORS preflight, answered by the generated MOCK OPTIONS method without the authorizer.
    let r = Http::new(s.port, "OPTIONS", path)
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "GET")
        .send();
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some("GET,OPTIONS")
    );
    assert_eq!(r.header("access-control-max-age"), Some("600"));

    // HTTP API: the JWT authorizer, and the gateway's own CORS.
    let me = format!("{}me", u["JwtApi"]);
    let me_path = me.strip_prefix(&s.endpoint()).unwrap().to_string();
    assert_eq!(get(&s, &me, "GET").status, 401);
    let token = sign_with(
        Algorithm::RS256,
        "k1",
        &json!({"iss": issuer, "aud": "app", "sub": "u1", "exp": now() + 600}),
    );
    let r = Http::get(s.port, &me_path)
        .header("Authorization", &format!("Bearer {token}"))
        .header("Origin", "https://elsewhere.example")
        .send();
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.header("access-control-allow-origin"), Some("*"), "{r}");

    // DefinitionUri.
    let r = get(&s, &format!("{}ping", u["FileApi"]), "GET");
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.json(), json!({"from": "DefinitionUri"}));

    let first = live_version(&s);

    // A plain AWS::Lambda::Function with its source inline.
    let out_file = s.data_path().join("plain.json");
    aws_json(
        &s,
        &[
            "lambda",
            "invoke",
            "--function-name",
            "sam-app-PlainFunction",
            "--payload",
            r#"{"n": 41}"#,
            out_file.to_str().unwrap(),
        ],
    );
    let got: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    assert_eq!(got, json!({"plain": 42}));

    // Changed code publishes a new version for the alias; FileApi and SpareFunction left
    // the template and are deleted; a function the template never made is untouched.
    let zip =
        common::lambda::zip_file(s.data_path(), "mine.zip", &[("app.py", &hello("x"), 0o644)]);
    common::lambda::create_function(&s, "not-from-sam", "python3.12", "app.handler", &zip, &[]);
    write(app, "hello/app.py", &hello("two"));
    let shrunk = TEMPLATE
        .replace(
            "  FileApi:\n    Type: AWS::Serverless::Api\n    Properties:\n      StageName: v1\n      DefinitionUri: api.yaml\n",
            "",
        )
        .replace(
            "  SpareFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: hello/\n      Handler: app.handler\n",
            "",
        );
    assert_ne!(shrunk, TEMPLATE);
    write(app, "template.yaml", &shrunk);
    let out = sam(&s, app, &["--parameter-overrides", &param]);
    let u2 = urls(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("deleted function sam-app-SpareFunction"),
        "{stderr}"
    );
    assert!(stderr.contains("deleted API sam-app-FileApi"), "{stderr}");
    assert_eq!(u2["SecureApi"], u["SecureApi"], "updated in place");
    let r = Http::get(s.port, path)
        .header("Authorization", "allow")
        .send();
    assert_eq!(r.json()["v"], "two", "{r}");
    let alias = live_version(&s);
    assert_ne!(alias, first);
    let gone = aws(
        &s,
        &[
            "lambda",
            "get-function",
            "--function-name",
            "sam-app-SpareFunction",
        ],
    );
    assert!(gone.is_err_and(|e| e.stderr.contains("ResourceNotFoundException")));
    let apis = aws_json(&s, &["apigateway", "get-rest-apis"]);
    let names: Vec<&str> = apis["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert!(!names.contains(&"sam-app-FileApi"), "{names:?}");
    assert!(names.contains(&"sam-app-SecureApi"), "{names:?}");
    aws_json(
        &s,
        &["lambda", "get-function", "--function-name", "not-from-sam"],
    );

    // A third run with nothing changed publishes nothing and deletes nothing.
    let out = sam(&s, app, &["--parameter-overrides", &param]);
    urls(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("deleted"), "{stderr}");
    assert!(!stderr.contains("published"), "{stderr}");
}

const PLAIN: &str = r#"
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::000000000000:role/plain
      Code:
        ZipFile: |
          def handler(event, context):
              return {"statusCode": 200, "body": "plain " + event["path"] + " " + event["stageVariables"]["v"]}
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties:
      Name: plain-api
      Body:
        openapi: 3.0.1
        info: {title: plain, version: "1"}
        paths:
          /hi:
            get:
              x-amazon-apigateway-integration:
                type: aws_proxy
                httpMethod: POST
                uri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations
  Deployment:
    Type: AWS::ApiGateway::Deployment
    Properties:
      RestApiId: !Ref Api
  Stage:
    Type: AWS::ApiGateway::Stage
    Properties:
      RestApiId: !Ref Api
      DeploymentId: !Ref Deployment
      StageName: live
      Variables:
        v: "7"
"#;

const PERMISSION: &str = r#"  Perm:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Fn
      Action: lambda:InvokeFunction
      Principal: apigateway.amazonaws.com
      SourceArn: !Sub arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/GET/hi
"#;

/// CloudFormation's own resources: a RestApi with a `Body`, its Stage, a Lambda function
/// and, as on AWS, no invoke permission until an `AWS::Lambda::Permission` grants it.
#[test]
fn plain_cloudformation_rest_api_stage_and_permission() {
    let s = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let app = &dir.path().join("plain");
    write(app, "template.yaml", PLAIN);
    let u = urls(&sam(&s, app, &[]));
    let url = format!("{}hi", u["Api"]);
    assert!(url.contains("/live/hi"), "{url}");
    assert_eq!(get(&s, &url, "GET").status, 500, "no permission yet");
    write(app, "template.yaml", &format!("{PLAIN}{PERMISSION}"));
    let u2 = urls(&sam(&s, app, &[]));
    assert_eq!(u2["Api"], u["Api"], "updated in place");
    let r = get(&s, &url, "GET");
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.text(), "plain /hi 7");
}
