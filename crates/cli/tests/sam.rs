//! `tollgate sam` end to end: a SAM template (the `sam init` hello-world shape, Python and
//! Node handlers, an implicit REST API and an implicit HTTP API, Globals, Parameters, a
//! DefinitionBody with extensions, a resource it does not run) deployed onto a real server,
//! then called over HTTP; a rerun updates in place and leaves unchanged functions alone.

mod common;

use std::process::Command;

use common::sam::*;
use common::*;

const TEMPLATE: &str = r#"
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: sam-app, as `sam init` makes it, with a Node function and an HTTP API beside
Parameters:
  Greeting:
    Type: String
    Default: hello
Globals:
  Function:
    Timeout: 3
    MemorySize: 128
    Environment:
      Variables:
        GREETING: !Ref Greeting
Resources:
  HelloWorldFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello_world/
      Handler: app.lambda_handler
      Runtime: python3.12
      Events:
        HelloWorld:
          Type: Api
          Properties:
            Path: /hello
            Method: get
        HelloHttp:
          Type: HttpApi
          Properties:
            Path: /hello
            Method: GET
  NodeFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: node_fn/
      Handler: app.handler
      Runtime: nodejs20.x
      Events:
        Items:
          Type: Api
          Properties:
            Path: /items/{id}
            Method: any
  Bucket:
    Type: AWS::S3::Bucket
Outputs:
  HelloWorldApi:
    Value: !Sub "https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/hello/"
"#;

const PYTHON_APP: &str = r#"import json, os

def lambda_handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"message": os.environ["GREETING"] + " world",
            "path": event.get("rawPath") or event.get("path")})}
"#;

const NODE_APP: &str = r#"exports.handler = async (event) => ({
  statusCode: 200,
  body: JSON.stringify({ id: event.pathParameters.id, method: event.httpMethod }),
});
"#;

#[test]
fn hello_world_template_runs_and_reruns_in_place() {
    let s = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("sam-app");
    write(&app, "template.yaml", TEMPLATE);
    write(&app, "hello_world/app.py", PYTHON_APP);
    write(&app, "node_fn/app.js", NODE_APP);

    let out = sam(&s, &app, &[]);
    let first = urls(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("skipped Bucket: resource type AWS::S3::Bucket"),
        "{stderr}"
    );
    let rest = &first["ServerlessRestApi"];
    let http = &first["ServerlessHttpApi"];
    assert!(rest.ends_with("/Prod/"), "{rest}");
    assert!(http.ends_with("/$default/"), "{http}");

    let r = get(&s, &format!("{rest}hello"), "GET");
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.json()["message"], "hello world");
    let r = get(&s, &format!("{http}hello"), "GET");
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.json()["path"], "/hello");
    let r = get(&s, &format!("{rest}items/42"), "DELETE");
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(
        r.json(),
        serde_json::json!({"id": "42", "method": "DELETE"})
    );
    // A route the template does not have.
    assert_eq!(get(&s, &format!("{rest}nowhere"), "GET").status, 403);

    // Rerun unchanged: the same APIs, both functions left alone.
    let out = sam(&s, &app, &[]);
    assert_eq!(urls(&out), first);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("function HelloWorldFunction (sam-app-HelloWorldFunction) unchanged"),
        "{stderr}"
    );
    assert!(
        stderr.contains("function NodeFunction (sam-app-NodeFunction) unchanged"),
        "{stderr}"
    );

    // New code and a parameter override: updated in place, served at the same URL.
    write(
        &app,
        "hello_world/app.py",
        &PYTHON_APP.replace("\" world\"", "\" there\""),
    );
    let out = sam(&s, &app, &[]);
    assert_eq!(urls(&out), first);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("(sam-app-HelloWorldFunction) updated (code)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("(sam-app-NodeFunction) unchanged"),
        "{stderr}"
    );
    let r = get(&s, &format!("{rest}hello"), "GET");
    assert_eq!(r.json()["message"], "hello there", "{r}");

    // A parameter override reaches every function's environment through Globals.
    let out = sam(&s, &app, &["--parameter-overrides", "Greeting=hi"]);
    assert_eq!(urls(&out), first);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("(sam-app-HelloWorldFunction) updated (Environment)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("(sam-app-NodeFunction) updated (Environment)"),
        "{stderr}"
    );
    let r = get(&s, &format!("{rest}hello"), "GET");
    assert_eq!(r.json()["message"], "hi there", "{r}");

    let apis = apigw(&s, &["get-rest-apis"]);
    assert_eq!(apis["items"].as_array().unwrap().len(), 1, "{apis:#}");
}

#[test]
fn definition_body_with_extensions_and_a_named_stage() {
    let s = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let template = r#"
Transform: AWS::Serverless-2016-10-31
Parameters:
  StageName:
    Type: String
    Default: dev
Resources:
  PetsApi:
    Type: AWS::Serverless::Api
    Properties:
      Name: pets
      StageName: !Ref StageName
      Variables:
        color: blue
      DefinitionBody:
        openapi: 3.0.1
        info: {title: ignored, version: "1"}
        paths:
          /pets:
            get:
              x-amazon-apigateway-integration:
                type: aws_proxy
                httpMethod: POST
                uri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${PetsFunction.Arn}/invocations
          /health:
            get:
              responses:
                "200": {description: ok}
              x-amazon-apigateway-integration:
                type: mock
                requestTemplates: {application/json: '{"statusCode": 200}'}
                responses:
                  default:
                    statusCode: "200"
                    responseTemplates: {application/json: '{"ok": true}'}
  PetsFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src
      Handler: pets.handler
      Runtime: python3.12
      AutoPublishAlias: live
      Environment:
        Variables:
          WHERE: !ImportValue shared-where
  Other:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src
      Handler: pets.handler
      Runtime: python3.12
"#;
    write(dir.path(), "app.yaml", template);
    write(
        dir.path(),
        "src/pets.py",
        "def handler(event, context):\n    return {'statusCode': 200, 'body': event['stageVariables']['color']}\n",
    );
    let out = sam(&s, dir.path(), &["app.yaml", "--stack-name", "pets-app"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    // The function using Fn::ImportValue is skipped, named once, and so is the API naming
    // it; what could run runs, and that is success.
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("unsupported intrinsic functions: Fn::ImportValue"),
        "{stderr}"
    );
    assert!(stderr.contains("skipped PetsFunction"), "{stderr}");
    assert!(stderr.contains("skipped PetsApi"), "{stderr}");
    assert!(
        stderr.contains("function Other (pets-app-Other) created"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).trim().is_empty());

    let fixed = template.replace("!ImportValue shared-where", "dev");
    write(dir.path(), "app.yaml", &fixed);
    let out = sam(&s, dir.path(), &["app.yaml", "--stack-name", "pets-app"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(stderr.contains("published as live"), "{stderr}");
    let found = urls(&out);
    let api = &found["PetsApi"];
    assert!(api.ends_with("/dev/"), "{api}");
    let r = get(&s, &format!("{api}pets"), "GET");
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.text(), "blue");
    let r = get(&s, &format!("{api}health"), "GET");
    assert_eq!(r.json(), serde_json::json!({"ok": true}));
    let apis = apigw(&s, &["get-rest-apis"]);
    assert_eq!(apis["items"][0]["name"], "pets");
}

#[test]
fn a_broken_template_is_reported() {
    let s = Server::start();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "template.yaml", "Resources: [unclosed");
    let out = sam(&s, dir.path(), &[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("template.yaml: not YAML or JSON"),
        "{stderr}"
    );
    let out = sam(&s, dir.path(), &["missing.yaml"]);
    assert!(!out.status.success());
}

/// `--watch`: a saved change to a function's code is deployed without a rerun.
#[test]
fn watch_redeploys_changed_code() {
    use std::io::{BufRead, BufReader};
    let s = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("watched");
    write(&app, "template.yaml", TEMPLATE);
    write(&app, "hello_world/app.py", PYTHON_APP);
    write(&app, "node_fn/app.js", NODE_APP);
    let mut child = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["sam", "--watch", "--endpoint-url", &s.endpoint()])
        .current_dir(&app)
        .env_remove("AWS_ENDPOINT_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("tollgate sam --watch");
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stdout = child.stdout.take().unwrap();
    let _child = Kill(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let rest = loop {
        let line = rx
            .recv_timeout(PATIENCE)
            .expect("a URL from tollgate sam --watch");
        if let Some(url) = line.strip_prefix("ServerlessRestApi ") {
            break url.to_string();
        }
    };
    let r = get(&s, &format!("{rest}hello"), "GET");
    assert_eq!(r.json()["message"], "hello world", "{r}");

    write(
        &app,
        "hello_world/app.py",
        &PYTHON_APP.replace("\" world\"", "\" again\""),
    );
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let r = get(&s, &format!("{rest}hello"), "GET");
        if r.status == 200 && r.json()["message"] == "hello again" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never redeployed: {r}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
