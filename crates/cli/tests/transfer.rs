//! `tollgate export` and `tollgate import`: a state moves from the embedded SQLite store to
//! Postgres and back with every id kept, and is served the same, functions and their code
//! included.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::lambda::{create_function, proxy_api, zip_file};
use common::*;
use serde_json::{json, Value};
use tollgate_store_postgres::testing::TempDatabase;

/// Runs `tollgate ARGS` with `stdin`; (success, stdout, stderr).
fn tollgate(args: &[&str], stdin: &[u8]) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(args)
        .env_remove("TOLLGATE_STORE")
        .env_remove("TOLLGATE_DATA_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tollgate");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    let out = child.wait_with_output().expect("tollgate exits");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn export(source: &[&str]) -> String {
    let mut args = vec!["export"];
    args.extend_from_slice(source);
    let (ok, out, err) = tollgate(&args, b"");
    assert!(ok, "export {source:?}: {err}");
    out
}

fn import(target: &[&str], doc: &str) -> (bool, String) {
    let mut args = vec!["import"];
    args.extend_from_slice(target);
    let (ok, _, err) = tollgate(&args, doc.as_bytes());
    (ok, err)
}

/// What the control plane reports of everything the state holds.
fn listing(s: &Server, api: &str) -> Vec<Value> {
    vec![
        apigw(s, &["get-rest-apis"]),
        apigw(s, &["get-resources", "--rest-api-id", api]),
        apigw(s, &["get-deployments", "--rest-api-id", api]),
        apigw(s, &["get-stages", "--rest-api-id", api]),
        apigw(s, &["get-api-keys", "--include-values"]),
        apigw(s, &["get-usage-plans"]),
    ]
}

#[test]
fn a_state_moves_from_sqlite_to_postgres_and_back_with_every_id() {
    let mut laptop = Server::start();
    let cp = Cp::new(&laptop);
    let (api, root) = cp.create_api("moving");
    let pets = cp.resource(&api, &root, "pets");
    cp.mock(&api, &pets, "GET", "moved");
    cp.deploy(&api, "dev");
    let key = cp.ok(
        "POST",
        "/apikeys",
        Some(&json!({ "name": "k1", "enabled": true })),
    );
    cp.ok(
        "POST",
        "/usageplans",
        Some(&json!({ "name": "plan", "apiStages": [{ "apiId": api, "stage": "dev" }] })),
    );
    // A function behind its own API: its code must travel with the state.
    let zip = zip_file(
        laptop.data_path(),
        "mover.zip",
        &[(
            "app.py",
            "def handler(event, context):\n    return {'statusCode': 200, 'body': 'moved code'}\n",
            0o644,
        )],
    );
    create_function(&laptop, "mover", "python3.12", "app.handler", &zip, &[]);
    let fn_api = proxy_api(&laptop, "mover");
    let before = listing(&laptop, &api);
    assert!(key["id"].is_string());
    laptop.sigterm();
    let data_dir = laptop.data_path().to_str().expect("utf-8 path").to_string();

    let from_sqlite = export(&["--data-dir", &data_dir]);
    let packages = serde_json::from_str::<Value>(&from_sqlite).expect("export is JSON")["code"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(packages, 1, "the function's package is in the export");
    let db = TempDatabase::create();
    let (ok, said) = import(&["--store", &db.url], &from_sqlite);
    assert!(ok, "{said}");
    assert!(said.contains("imported"), "{said}");

    let node = Server::start_with(
        std::sync::Arc::new(tempfile::tempdir().expect("temp dir")),
        &["--store", &db.url],
    );
    assert_eq!(listing(&node, &api), before);
    let r = node.invoke(&api, "/dev/pets");
    assert_eq!((r.status, r.text().as_str()), (200, "moved"), "{r}");
    // The node has never seen the package: it unpacks it from the store it was imported to.
    let r = node.invoke(&fn_api, "/prod/anything");
    assert_eq!((r.status, r.text().as_str()), (200, "moved code"), "{r}");

    // Importing into a store that holds a state is refused and changes nothing.
    let (ok, said) = import(&["--store", &db.url], &from_sqlite);
    assert!(!ok && said.contains("not empty"), "{said}");
    assert_eq!(listing(&node, &api), before);

    // And back into a new SQLite data dir: the same document again.
    let from_postgres = export(&["--store", &db.url]);
    let back = tempfile::tempdir().expect("temp dir");
    let back_dir = back.path().to_str().expect("utf-8 path");
    let (ok, said) = import(&["--data-dir", back_dir], &from_postgres);
    assert!(ok, "{said}");
    let doc = |text: &str| {
        let mut v: Value = serde_json::from_str(text).expect("export is JSON");
        v.as_object_mut().map(|o| o.remove("version"));
        v
    };
    assert_eq!(doc(&export(&["--data-dir", back_dir])), doc(&from_sqlite));
    let home = Server::start_with(std::sync::Arc::new(back), &[]);
    let r = home.invoke(&fn_api, "/prod/anything");
    assert_eq!((r.status, r.text().as_str()), (200, "moved code"), "{r}");
    drop(home);

    // Not a state document: refused before anything is written.
    let empty = tempfile::tempdir().expect("temp dir");
    let empty_dir = empty.path().to_str().expect("utf-8 path");
    let (ok, said) = import(&["--data-dir", empty_dir], "{\"rows\": 1}");
    assert!(
        !ok && said.contains("not a Tollgate state document"),
        "{said}"
    );
}
