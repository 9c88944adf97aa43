//! What a new user meets first: `tollgate serve` with no flags (state in the relative
//! `./.tollgate`) and the README's Lambda block; diagnostics that read well in a file; a
//! start that runs no interpreter until a function needs one, and functions that run on the
//! interpreter their runtime names.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use common::*;
use serde_json::Value;

const ROLE: &str = "arn:aws:iam::000000000000:role/any";
const HELLO_PY: &str = "def handler(event, context):\n    return {\"statusCode\": 200, \"body\": \"hello from \" + event[\"path\"]}\n";

fn write_zip(dir: &Path, name: &str, files: &[(&str, &str)]) -> String {
    let entries: Vec<(&str, &[u8], u32)> = files
        .iter()
        .map(|(n, c)| (*n, c.as_bytes(), 0o644))
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, tollgate_functions::code::build_zip(&entries)).unwrap();
    format!("fileb://{}", path.display())
}

fn lambda(s: &Server, args: &[&str]) -> Value {
    let mut full = vec!["lambda"];
    full.extend_from_slice(args);
    aws(s, &full).unwrap_or_else(|e| {
        panic!(
            "`aws lambda {}` failed:\n{}\n--- server stderr ---\n{}",
            args.join(" "),
            e.stderr,
            s.stderr()
        )
    })
}

fn create_function(s: &Server, name: &str, runtime: &str, zip: &str) -> Value {
    lambda(
        s,
        &[
            "create-function",
            "--function-name",
            name,
            "--runtime",
            runtime,
            "--handler",
            "app.handler",
            "--role",
            ROLE,
            "--zip-file",
            zip,
        ],
    )
}

/// `aws lambda invoke ... --log-type Tail`: the CLI's output and the payload written.
fn invoke(s: &Server, dir: &Path, name: &str, payload: &str) -> (Value, String) {
    let out = dir.join(format!("{name}-out.json"));
    let v = lambda(
        s,
        &[
            "invoke",
            "--function-name",
            name,
            "--payload",
            payload,
            "--log-type",
            "Tail",
            out.to_str().unwrap(),
        ],
    );
    (v, std::fs::read_to_string(&out).unwrap_or_default())
}

/// `tollgate logs NAME`, run in `cwd` with `extra` flags; waits (bounded) until the log
/// contains `needle` (the log writer drains in the background).
fn function_log(cwd: &Path, name: &str, extra: &[&str], needle: &str) -> String {
    eventually(
        &format!("`tollgate logs {name}` to show {needle:?}"),
        || {
            let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
                .current_dir(cwd)
                .args(["logs", name])
                .args(extra)
                .env_remove("TOLLGATE_DATA_DIR")
                .output()
                .expect("run tollgate logs");
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.contains(needle).then_some(text)
        },
    )
}

/// The README's Lambda block, as a new user runs it: no `--data-dir`, so the state is in
/// the relative `./.tollgate` of the directory the server was started from.
#[test]
fn readme_lambda_block_runs_with_the_default_data_dir() {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let s = Server::launch(
        dir.clone(),
        Launch {
            default_data_dir: true,
            ..Launch::default()
        },
    );
    let api = str_of(&apigw(&s, &["create-rest-api", "--name", "pets"]), "id");
    let root = apigw(&s, &["get-resources", "--rest-api-id", &api])["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let zip = write_zip(dir.path(), "fn.zip", &[("app.py", HELLO_PY)]);
    create_function(&s, "hello", "python3.12", &zip);
    lambda(
        &s,
        &[
            "add-permission",
            "--function-name",
            "hello",
            "--statement-id",
            "apigateway",
            "--action",
            "lambda:InvokeFunction",
            "--principal",
            "apigateway.amazonaws.com",
            "--source-arn",
            &format!("arn:aws:execute-api:us-east-1:000000000000:{api}/*"),
        ],
    );
    let (v, payload) = invoke(&s, dir.path(), "hello", r#"{"path": "/cli"}"#);
    assert!(
        v.get("FunctionError").is_none(),
        "the function failed: {v:#}\n{payload}\n{}",
        decode_log(&v)
    );
    let answer: Value = serde_json::from_str(&payload).expect("JSON payload");
    assert_eq!(answer["body"], "hello from /cli", "{payload}");
    let tail = decode_log(&v);
    assert!(
        tail.contains("START RequestId:") && tail.contains("REPORT RequestId:"),
        "{tail}"
    );

    let proxy = str_of(
        &apigw(
            &s,
            &[
                "create-resource",
                "--rest-api-id",
                &api,
                "--parent-id",
                &root,
                "--path-part",
                "{proxy+}",
            ],
        ),
        "id",
    );
    apigw(
        &s,
        &[
            "put-method",
            "--rest-api-id",
            &api,
            "--resource-id",
            &proxy,
            "--http-method",
            "ANY",
            "--authorization-type",
            "NONE",
        ],
    );
    apigw(
        &s,
        &[
            "put-integration",
            "--rest-api-id",
            &api,
            "--resource-id",
            &proxy,
            "--http-method",
            "ANY",
            "--type",
            "AWS_PROXY",
            "--integration-http-method",
            "POST",
            "--uri",
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:hello/invocations",
        ],
    );
    apigw(
        &s,
        &[
            "create-deployment",
            "--rest-api-id",
            &api,
            "--stage-name",
            "dev",
        ],
    );
    let r = s.invoke(&api, "/dev/any/path");
    assert_eq!(r.status, 200, "{r}\n--- server stderr ---\n{}", s.stderr());
    assert_eq!(String::from_utf8_lossy(&r.body), "hello from /any/path");

    // `tollgate logs` from the same directory finds the same default data dir.
    function_log(dir.path(), "hello", &[], "REPORT RequestId:");
    assert!(s.data_path().join("tollgate.db").is_file());
}

/// Diagnostics written to a file carry no terminal escape codes, and the listen address is
/// announced once.
#[test]
fn diagnostics_in_a_file_are_plain_with_one_listen_line() {
    let mut s = Server::start();
    apigw(&s, &["get-rest-apis"]);
    s.sigterm();
    let stderr = s.stderr();
    assert!(!stderr.contains("\x1b["), "escape codes in:\n{stderr}");
    let listen: Vec<&str> = stderr.lines().filter(|l| l.contains("listening")).collect();
    assert_eq!(listen.len(), 1, "one listen line expected in:\n{stderr}");
    assert!(
        listen[0].ends_with(&format!(
            "listening on http://127.0.0.1:{} (control plane and APIs)",
            s.port
        )),
        "{}",
        listen[0]
    );
}

/// The interpreter this test itself runs Python with (the real executable, not a shim).
fn real_python() -> PathBuf {
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 on PATH");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn real_node() -> PathBuf {
    let out = Command::new("node")
        .args(["-e", "console.log(process.execPath)"])
        .output()
        .expect("node on PATH");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// A fake interpreter `bin/name`: any run with `flag` (a version probe) is counted in
/// `bin/name.probes` and answers the script's own path and `version`; any other run is the
/// real interpreter `real`.
fn fake_interpreter(bin: &Path, name: &str, flag: &str, version: &str, real: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let path = bin.join(name);
    let script = format!(
        "#!/bin/sh\nif [ \"$1\" = \"{flag}\" ]; then\n  echo probe >> '{probes}'\n  printf '%s\\n%s\\n' '{me}' '{version}'\n  exit 0\nfi\nexec '{real}' \"$@\"\n",
        probes = bin.join(format!("{name}.probes")).display(),
        me = path.display(),
        real = real.display(),
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn probes(bin: &Path, name: &str) -> usize {
    std::fs::read_to_string(bin.join(format!("{name}.probes"))).map_or(0, |s| s.lines().count())
}

/// A server whose PATH holds only fake interpreters: python3.12 (3.12.9), python3 (3.11.0)
/// and node (18.20.0).
fn server_with_fake_interpreters() -> (Server, PathBuf) {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let python = real_python();
    fake_interpreter(&bin, "python3.12", "-c", "3.12.9", &python);
    fake_interpreter(&bin, "python3", "-c", "3.11.0", &python);
    fake_interpreter(&bin, "node", "-e", "18.20.0", &real_node());
    let path = bin.to_string_lossy().into_owned();
    let s = Server::launch(
        dir,
        Launch {
            env: &[("PATH", &path)],
            ..Launch::default()
        },
    );
    (s, bin)
}

/// Starting and serving the control plane runs no interpreter; the first function that
/// needs one probes it, once.
#[test]
fn interpreters_are_probed_when_first_needed_and_once() {
    let (s, bin) = server_with_fake_interpreters();
    apigw(&s, &["create-rest-api", "--name", "no-lambda-here"]);
    apigw(&s, &["get-rest-apis"]);
    for name in ["python3.12", "python3", "node"] {
        assert_eq!(
            probes(&bin, name),
            0,
            "{name} ran before any function needed it"
        );
    }

    let zip = write_zip(s.data_path(), "fn.zip", &[("app.py", HELLO_PY)]);
    create_function(&s, "first", "python3.12", &zip);
    assert_eq!(probes(&bin, "python3.12"), 1);
    create_function(&s, "second", "python3.12", &zip);
    let (v, payload) = invoke(&s, s.data_path(), "second", r#"{"path": "/p"}"#);
    assert!(v.get("FunctionError").is_none(), "{v:#}\n{payload}");
    assert_eq!(probes(&bin, "python3.12"), 1, "the probe is cached");
    // python3.12 matched: python3 was never needed.
    assert_eq!(probes(&bin, "python3"), 0);
}

/// Each runtime runs on the interpreter of its version, named in the function's log; when
/// none matches, the best one found runs it and the log says so.
#[test]
fn runtimes_run_on_the_interpreter_of_their_version() {
    let (s, bin) = server_with_fake_interpreters();
    let data = s.data_path().to_string_lossy().into_owned();
    let zip = write_zip(s.data_path(), "fn.zip", &[("app.py", HELLO_PY)]);
    let node_zip = write_zip(
        s.data_path(),
        "node.zip",
        &[(
            "app.mjs",
            "export const handler = async (event) => ({ statusCode: 200, body: 'hello from ' + event.path });\n",
        )],
    );
    let cases = [
        ("py312", "python3.12", &zip, "python3.12", "3.12.9", false),
        ("py311", "python3.11", &zip, "python3", "3.11.0", false),
        ("py313", "python3.13", &zip, "python3", "3.11.0", true),
        ("node20", "nodejs20.x", &node_zip, "node", "18.20.0", true),
    ];
    for (name, runtime, zip, program, version, warned) in cases {
        create_function(&s, name, runtime, zip);
        let (v, payload) = invoke(&s, s.data_path(), name, r#"{"path": "/x"}"#);
        assert!(v.get("FunctionError").is_none(), "{name}: {v:#}\n{payload}");
        assert!(payload.contains("hello from /x"), "{name}: {payload}");
        let chosen = format!(
            "INIT_START Runtime: {runtime} Interpreter: {} (version {version})",
            bin.join(program).display()
        );
        let log = function_log(
            s.data_path(),
            name,
            &["--data-dir", &data],
            "REPORT RequestId:",
        );
        assert!(
            log.contains(&chosen),
            "{name}: expected {chosen:?} in:\n{log}"
        );
        assert_eq!(
            log.contains("WARNING: the runtime"),
            warned,
            "{name}: warning expected: {warned}, log:\n{log}"
        );
    }
    // python3 served two runtimes on one probe.
    assert_eq!(probes(&bin, "python3"), 1);
    assert_eq!(probes(&bin, "python3.12"), 1);
    assert_eq!(probes(&bin, "node"), 1);
}
