//! What infrastructure-as-code tools read about a function after creating it: every Lambda
//! path prefix reaches the Lambda service, reads of settings Tollgate does not offer answer
//! in AWS's "not configured" shape, and unimplemented writes answer in Lambda's error shape
//! naming the operation. Driven by the real `aws` CLI.

mod common;

use common::*;
use serde_json::{json, Value};

const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";
const ARN: &str = "arn:aws:lambda:us-east-1:000000000000:function:reader";

fn create_reader(s: &Server) {
    let path = s.data_path().join("reader.zip");
    let code = b"def handler(event, context):\n    return event\n";
    std::fs::write(
        &path,
        tollgate_functions::code::build_zip(&[("app.py", &code[..], 0o644)]),
    )
    .unwrap();
    let zip = format!("fileb://{}", path.display());
    lambda(
        s,
        &[
            "create-function",
            "--function-name",
            "reader",
            "--runtime",
            "python3.12",
            "--handler",
            "app.handler",
            "--role",
            ROLE,
            "--zip-file",
            &zip,
            "--tags",
            "team=core",
        ],
    );
}

fn lambda(s: &Server, args: &[&str]) -> Value {
    cli_ok(s, "lambda", args)
}

fn lambda_err(s: &Server, args: &[&str]) -> AwsError {
    let e = cli_err(s, "lambda", args);
    assert!(
        !e.stderr.contains("scoped to correct service"),
        "a Lambda path reached another service: {}",
        e.stderr
    );
    e
}

#[test]
fn settings_not_offered_read_back_as_not_configured() {
    let s = Server::start();
    create_reader(&s);
    let with = |op: &'static str| vec![op, "--function-name", "reader"];

    let csc = lambda(&s, &with("get-function-code-signing-config"));
    assert_json_eq(
        &csc,
        &json!({"CodeSigningConfigArn": "", "FunctionName": "reader"}),
        "GetFunctionCodeSigningConfig",
    );
    let e = lambda_err(&s, &with("get-function-url-config"));
    assert_cli_error(
        &e,
        "ResourceNotFoundException",
        "The resource you requested does not exist.",
    );
    let urls = lambda(&s, &with("list-function-url-configs"));
    assert_json_eq(
        &urls,
        &json!({"FunctionUrlConfigs": []}),
        "ListFunctionUrlConfigs",
    );
    let pcs = lambda(&s, &with("list-provisioned-concurrency-configs"));
    assert_json_eq(
        &pcs,
        &json!({"ProvisionedConcurrencyConfigs": []}),
        "ListProvisionedConcurrencyConfigs",
    );
    lambda(&s, &with("publish-version"));
    let mut get_pc = with("get-provisioned-concurrency-config");
    get_pc.extend_from_slice(&["--qualifier", "1"]);
    let e = lambda_err(&s, &get_pc);
    assert_cli_error(
        &e,
        "ProvisionedConcurrencyConfigNotFoundException",
        "No Provisioned Concurrency Config found for this function",
    );
    let e = lambda_err(&s, &with("get-function-event-invoke-config"));
    assert_cli_error(
        &e,
        "ResourceNotFoundException",
        &format!("The function {ARN}:$LATEST doesn't have an EventInvokeConfig"),
    );
    let eics = lambda(&s, &with("list-function-event-invoke-configs"));
    assert_json_eq(
        &eics,
        &json!({"FunctionEventInvokeConfigs": []}),
        "ListFunctionEventInvokeConfigs",
    );
    let rmc = lambda(&s, &with("get-runtime-management-config"));
    assert_json_eq(
        &rmc,
        &json!({"UpdateRuntimeOn": "Auto", "FunctionArn": ARN}),
        "GetRuntimeManagementConfig",
    );
    let rec = lambda(&s, &with("get-function-recursion-config"));
    assert_json_eq(
        &rec,
        &json!({"RecursiveLoop": "Terminate"}),
        "GetFunctionRecursionConfig",
    );
    let conc = lambda(&s, &with("get-function-concurrency"));
    assert!(
        conc.is_null() || conc == json!({}),
        "no reserved concurrency: {conc:#}"
    );

    for (op, key) in [
        ("list-layers", "Layers"),
        ("list-event-source-mappings", "EventSourceMappings"),
        ("list-code-signing-configs", "CodeSigningConfigs"),
    ] {
        let v = lambda(&s, &[op]);
        assert_json_eq(&v, &json!({ key: [] }), op);
    }
    let lv = lambda(&s, &["list-layer-versions", "--layer-name", "none"]);
    assert_json_eq(&lv, &json!({"LayerVersions": []}), "ListLayerVersions");

    let account = lambda(&s, &["get-account-settings"]);
    assert_eq!(account["AccountUsage"]["FunctionCount"], 1, "{account:#}");
    assert!(
        account["AccountUsage"]["TotalCodeSize"].as_u64() > Some(0),
        "{account:#}"
    );
    assert_eq!(
        account["AccountLimit"]["UnreservedConcurrentExecutions"], 1000,
        "{account:#}"
    );
}

#[test]
fn tags_are_listed_added_and_removed() {
    let s = Server::start();
    create_reader(&s);
    let tags = lambda(&s, &["list-tags", "--resource", ARN]);
    assert_json_eq(&tags, &json!({"Tags": {"team": "core"}}), "ListTags");
    lambda(
        &s,
        &[
            "tag-resource",
            "--resource",
            ARN,
            "--tags",
            "stage=dev,owner=me",
        ],
    );
    lambda(
        &s,
        &[
            "untag-resource",
            "--resource",
            ARN,
            "--tag-keys",
            "team",
            "owner",
        ],
    );
    let tags = lambda(&s, &["list-tags", "--resource", ARN]);
    assert_json_eq(&tags, &json!({"Tags": {"stage": "dev"}}), "after tag/untag");
    let got = lambda(&s, &["get-function", "--function-name", "reader"]);
    assert_json_eq(&got["Tags"], &json!({"stage": "dev"}), "GetFunction Tags");
}

#[test]
fn a_missing_function_is_not_found_on_every_read() {
    let s = Server::start();
    let missing = "Function not found: arn:aws:lambda:us-east-1:000000000000:function:ghost";
    for op in [
        "get-function-code-signing-config",
        "get-function-url-config",
        "list-function-url-configs",
        "list-provisioned-concurrency-configs",
        "get-function-event-invoke-config",
        "get-runtime-management-config",
        "get-function-recursion-config",
    ] {
        let e = lambda_err(&s, &[op, "--function-name", "ghost"]);
        assert_cli_error(&e, "ResourceNotFoundException", missing);
    }
    let ghost = ARN.replace("reader", "ghost");
    let e = lambda_err(&s, &["list-tags", "--resource", &ghost]);
    assert_cli_error(&e, "ResourceNotFoundException", missing);
}

#[test]
fn unimplemented_operations_answer_in_lambdas_shape_and_name_themselves() {
    let s = Server::start();
    create_reader(&s);
    let cases: [(&str, &[&str]); 3] = [
        (
            "PutProvisionedConcurrencyConfig",
            &[
                "put-provisioned-concurrency-config",
                "--function-name",
                "reader",
                "--qualifier",
                "1",
                "--provisioned-concurrent-executions",
                "1",
            ],
        ),
        (
            "PutFunctionCodeSigningConfig",
            &[
                "put-function-code-signing-config",
                "--function-name",
                "reader",
                "--code-signing-config-arn",
                "arn:aws:lambda:us-east-1:000000000000:code-signing-config:csc-0123456789abcdef0",
            ],
        ),
        (
            "CreateEventSourceMapping",
            &[
                "create-event-source-mapping",
                "--function-name",
                "reader",
                "--event-source-arn",
                "arn:aws:sqs:us-east-1:000000000000:queue",
            ],
        ),
    ];
    for (op, args) in cases {
        let e = lambda_err(&s, args);
        assert_cli_error(
            &e,
            "InvalidParameterValueException",
            &format!("{op} is not supported by Tollgate"),
        );
    }
    // Nothing was changed by the refused calls.
    let urls = lambda(
        &s,
        &["list-function-url-configs", "--function-name", "reader"],
    );
    assert_json_eq(&urls, &json!({"FunctionUrlConfigs": []}), "after refusals");
}

/// `Architectures` and `Runtime` are members of Lambda's vocabularies: x86_64 by default,
/// arm64 accepted (workers run on this machine's own architecture either way), anything
/// else refused with AWS's constraint wording and nothing created.
#[test]
fn architectures_and_runtimes_are_checked() {
    use common::lambda::{create_function, try_create_function, zip_file};
    let s = Server::start();
    let code = "def handler(event, context):\n    return event\n";
    let zip = zip_file(s.data_path(), "arch.zip", &[("app.py", code, 0o644)]);
    let f = create_function(&s, "plain", "python3.12", "app.handler", &zip, &[]);
    assert_eq!(f["Architectures"], json!(["x86_64"]));
    let arm = ["--architectures", "arm64"];
    let f = create_function(&s, "arm", "python3.12", "app.handler", &zip, &arm);
    assert_eq!(f["Architectures"], json!(["arm64"]));
    assert_eq!(f["Runtime"], "python3.12");

    let refused = |name: &str, runtime: &str, arch: &str| {
        let arch = ["--architectures", arch];
        try_create_function(&s, name, runtime, "app.handler", &zip, &arch)
            .unwrap_err()
            .stderr
    };
    let e = refused("mips", "python3.12", "mips");
    assert!(
        e.contains("ValidationException")
            && e.contains("Member must satisfy enum value set: [x86_64, arm64]"),
        "{e}"
    );
    let e = refused("java", "java21", "x86_64");
    assert!(
        e.contains("InvalidParameterValueException")
            && e.contains("The runtime parameter of java21 is not supported by Tollgate"),
        "{e}"
    );
    for gone in ["mips", "java"] {
        let e = lambda_err(&s, &["get-function", "--function-name", gone]);
        assert!(
            e.stderr.contains("ResourceNotFoundException"),
            "{}",
            e.stderr
        );
    }
}
