//! Lambda helpers shared by the test files: packages, functions, and REST APIs in front of
//! them (with the resource-policy statement API Gateway needs to invoke a function).

use serde_json::Value;

use super::*;

pub const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";

pub fn zip_file(dir: &std::path::Path, name: &str, files: &[(&str, &str, u32)]) -> String {
    let entries: Vec<(&str, &[u8], u32)> = files
        .iter()
        .map(|(n, c, m)| (*n, c.as_bytes(), *m))
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, tollgate_functions::code::build_zip(&entries)).unwrap();
    format!("fileb://{}", path.display())
}

pub fn create_function(
    s: &Server,
    name: &str,
    runtime: &str,
    handler: &str,
    zip: &str,
    extra: &[&str],
) -> Value {
    try_create_function(s, name, runtime, handler, zip, extra)
        .unwrap_or_else(|e| panic!("create-function {name}: {}", e.stderr))
}

/// `aws lambda create-function`, its error kept for tests that expect one.
pub fn try_create_function(
    s: &Server,
    name: &str,
    runtime: &str,
    handler: &str,
    zip: &str,
    extra: &[&str],
) -> Result<Value, AwsError> {
    let mut args = vec![
        "lambda",
        "create-function",
        "--function-name",
        name,
        "--runtime",
        runtime,
        "--handler",
        handler,
        "--role",
        ROLE,
        "--zip-file",
        zip,
    ];
    args.extend_from_slice(extra);
    aws(s, &args)
}

/// Creates a REST API with `/{proxy+}` ANY → AWS_PROXY `function`, deployed to `prod`.
pub fn proxy_api(s: &Server, function: &str) -> String {
    let api = proxy_api_without_permission(s, function);
    grant_api(s, function, &api, None);
    api
}

/// [`proxy_api`] without the `lambda add-permission` that lets the API invoke `function`.
pub fn proxy_api_without_permission(s: &Server, function: &str) -> String {
    let api = apigw(s, &["create-rest-api", "--name", "lambda-proxy"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    proxy_resource(s, &api, function, &["--authorization-type", "NONE"]);
    apigw(
        s,
        &[
            "create-deployment",
            "--rest-api-id",
            &api,
            "--stage-name",
            "prod",
            "--variables",
            "color=blue",
        ],
    );
    api
}

/// Adds `/{proxy+}` ANY (`put-method` with `method_args`) → AWS_PROXY `function` to `api`.
pub fn proxy_resource(s: &Server, api: &str, function: &str, method_args: &[&str]) {
    let root = apigw(s, &["get-resources", "--rest-api-id", api])["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = apigw(
        s,
        &[
            "create-resource",
            "--rest-api-id",
            api,
            "--parent-id",
            &root,
            "--path-part",
            "{proxy+}",
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut args = vec![
        "put-method",
        "--rest-api-id",
        api,
        "--resource-id",
        &res,
        "--http-method",
        "ANY",
    ];
    args.extend_from_slice(method_args);
    apigw(s, &args);
    let uri = format!("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:{function}/invocations");
    apigw(
        s,
        &[
            "put-integration",
            "--rest-api-id",
            api,
            "--resource-id",
            &res,
            "--http-method",
            "ANY",
            "--type",
            "AWS_PROXY",
            "--integration-http-method",
            "POST",
            "--uri",
            &uri,
        ],
    );
}

/// `aws lambda add-permission` letting API Gateway invoke `function` (with `qualifier`)
/// from any stage, method and resource of `api`, as the console and SAM add it.
pub fn grant_api(s: &Server, function: &str, api: &str, qualifier: Option<&str>) {
    let source = format!("arn:aws:execute-api:us-east-1:000000000000:{api}/*/*/*");
    let sid = format!("apigw-{api}-{}", qualifier.unwrap_or("unqualified"));
    grant_apigateway(s, function, &sid, &source, qualifier);
}

/// `aws lambda add-permission` for API Gateway to invoke `function` as an authorizer of
/// `api` (AWS's source ARN for authorizers: `{api}/authorizers/{id}`).
pub fn grant_authorizer(s: &Server, function: &str, api: &str) {
    let source = format!("arn:aws:execute-api:us-east-1:000000000000:{api}/authorizers/*");
    grant_apigateway(s, function, "authorizer", &source, None);
}

/// `aws lambda add-permission` letting `apigateway.amazonaws.com` invoke `function` from
/// `source_arn`.
pub fn grant_apigateway(
    s: &Server,
    function: &str,
    sid: &str,
    source_arn: &str,
    qualifier: Option<&str>,
) {
    let mut args = vec![
        "lambda",
        "add-permission",
        "--function-name",
        function,
        "--statement-id",
        sid,
        "--action",
        "lambda:InvokeFunction",
        "--principal",
        "apigateway.amazonaws.com",
        "--source-arn",
        source_arn,
    ];
    if let Some(q) = qualifier {
        args.extend_from_slice(&["--qualifier", q]);
    }
    aws(s, &args).unwrap_or_else(|e| panic!("add-permission {function}: {}", e.stderr));
}

/// The invocation URI authorizers name a function by.
pub fn fn_uri(name: &str) -> String {
    format!("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:{name}/invocations")
}

/// Invocations an authorizer made so far (lines in its mark file).
pub fn calls(mark: &std::path::Path) -> usize {
    std::fs::read_to_string(mark)
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

/// A function example of `tollgate-functions` (built with AWS's Rust runtime crates) zipped
/// as a `provided.al2023` bootstrap; `cargo test` builds the workspace's examples, and it is
/// built here when missing.
pub fn example_function_zip(s: &Server, example: &str) -> String {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|d| d.parent()).unwrap().to_path_buf();
    let bin = profile_dir.join("examples").join(example);
    if !bin.is_file() {
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "-p", "tollgate-functions", "--example", example])
            .status()
            .unwrap();
        assert!(status.success(), "cannot build the {example} example");
    }
    let binary = std::fs::read(&bin).unwrap();
    let path = s.data_path().join(format!("{example}.zip"));
    std::fs::write(
        &path,
        tollgate_functions::code::build_zip(&[("bootstrap", &binary, 0o755)]),
    )
    .unwrap();
    format!("fileb://{}", path.display())
}
