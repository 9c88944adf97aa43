//! Durability and shutdown: state written before a crash (SIGKILL) or a stop (SIGTERM) is
//! served identically by a new process on the same data dir, and SIGTERM lets requests in
//! flight finish before the process exits with status 0.

mod common;

use common::*;
use serde_json::json;

/// `GET /pets` (MOCK) and `GET /echo` (HTTP_PROXY to `backend`), deployed to `dev`.
fn build_api(cp: &Cp, backend: &Backend) -> String {
    let (api, root) = cp.create_api("durable");
    let pets = cp.resource(&api, &root, "pets");
    cp.mock(&api, &pets, "GET", "[{\"id\": 1}]");
    let echo = cp.resource(&api, &root, "echo");
    cp.http_proxy(
        &api,
        &echo,
        "GET",
        &format!("{}/echo", backend.url()),
        &[],
        None,
    );
    cp.deploy(&api, "dev");
    api
}

/// What a client can observe of the API: status and body of `/pets`, status and backend
/// path of `/echo`, and the gateway error for an unknown path.
fn observe(s: &Server, api: &str) -> (u16, String, u16, String, u16, String) {
    let pets = s.invoke(api, "/dev/pets");
    let echo = s.invoke(api, "/dev/echo");
    let missing = s.invoke(api, "/dev/missing");
    let echo_path = if echo.status == 200 {
        echo.json()["path"].as_str().unwrap_or_default().to_string()
    } else {
        echo.text()
    };
    (
        pets.status,
        pets.text(),
        echo.status,
        echo_path,
        missing.status,
        missing.text(),
    )
}

fn assert_listed(s: &Server, api: &str) {
    let apis = apigw(s, &["get-rest-apis"]);
    let items = apis["items"]
        .as_array()
        .unwrap_or_else(|| panic!("get-rest-apis: {apis:#}"));
    assert!(
        items
            .iter()
            .any(|a| a["id"] == api && a["name"] == "durable"),
        "get-rest-apis after restart should list {api}: {apis:#}"
    );
}

#[test]
fn state_survives_sigkill() {
    let backend = Backend::start();
    let mut s = Server::start();
    let cp = Cp::new(&s);
    let api = build_api(&cp, &backend);
    let before = observe(&s, &api);
    assert_eq!(
        (before.0, before.1.as_str()),
        (200, "[{\"id\": 1}]"),
        "before the crash: {before:?}"
    );
    assert_eq!(
        (before.2, before.3.as_str()),
        (200, "/echo"),
        "before the crash: {before:?}"
    );
    // The last write before the crash must survive too (committed = durable).
    cp.patch_stage(
        &api,
        "dev",
        json!([{ "op": "replace", "path": "/variables/color", "value": "blue" }]),
    );

    let dir = s.dir();
    s.kill9();
    let s = Server::start_in(dir);

    assert_eq!(
        observe(&s, &api),
        before,
        "the API answers identically after kill -9 and restart"
    );
    assert_listed(&s, &api);
    let stage = apigw(
        &s,
        &["get-stage", "--rest-api-id", &api, "--stage-name", "dev"],
    );
    assert_json_eq(
        &stage["variables"],
        &json!({ "color": "blue" }),
        "stage variables written just before the crash",
    );
}

#[test]
fn sigterm_drains_requests_in_flight_and_exits_zero() {
    let backend = Backend::start();
    let mut s = Server::start();
    let cp = Cp::new(&s);
    let api = build_api(&cp, &backend);
    let before = observe(&s, &api);
    let seen_before = backend.count();

    // A request the backend holds for 1.5 s is in flight when SIGTERM arrives.
    let port = s.port;
    let path = Server::exec_path(&api, "/dev/echo?delay_ms=1500");
    let in_flight = std::thread::spawn(move || Http::get(port, &path).try_send());
    eventually("the slow request reached the backend", || {
        (backend.count() > seen_before).then_some(())
    });
    s.send_sigterm();

    let r = in_flight
        .join()
        .expect("client thread")
        .expect("the request in flight gets its answer");
    assert_eq!(
        r.status, 200,
        "the request in flight completes normally:\n{r}"
    );
    assert_eq!(r.json()["path"], "/echo", "{r}");
    let status = s.wait_exit();
    assert!(
        status.success(),
        "tollgate exits with status 0 after SIGTERM, got {status:?}; stderr:\n{}",
        s.stderr()
    );

    let s = Server::start_in(s.dir());
    assert_eq!(
        observe(&s, &api),
        before,
        "the API answers identically after SIGTERM and restart"
    );
    assert_listed(&s, &api);
}
