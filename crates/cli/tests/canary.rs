//! REST canary releases (stages-canary-domains.md §3) through the aws CLI and real HTTP:
//! the recorded creation errors, the traffic split (2,000 requests at 10%, checked within
//! binomial bounds), what changes for a canary request, the canary's own access log,
//! promotion by patch operations, disabling, and a canary sharing the stage cache.

mod common;

use common::*;
use serde_json::{json, Value};

const TEMPLATE: &str = r#"{"deployment": "$context.deploymentId", "canary": "$context.isCanaryRequest", "v": "$stageVariables.v"}"#;

fn create_canary(s: &Server, api: &str, extra: &[&str]) -> Result<Value, AwsError> {
    let mut args = vec![
        "apigateway",
        "create-deployment",
        "--rest-api-id",
        api,
        "--canary-settings",
        r#"{"percentTraffic": 10.0, "stageVariableOverrides": {"v": "canary"}}"#,
    ];
    args.extend_from_slice(extra);
    aws(s, &args)
}

fn ask(s: &Server, api: &str) -> Value {
    let r = s.invoke(api, "/dev/who");
    assert_eq!(r.status, 200, "{r}");
    r.json()
}

fn lines(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[test]
fn canary_split_logs_and_promotion() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("canaried");
    let who = cp.resource(&api, &root, "who");
    cp.mock(&api, &who, "GET", TEMPLATE);
    let base = str_of(
        &apigw(
            &s,
            &[
                "create-deployment",
                "--rest-api-id",
                &api,
                "--stage-name",
                "dev",
                "--variables",
                "v=base",
            ],
        ),
        "id",
    );

    // The recorded creation errors.
    for (extra, message) in [
        (vec![], "Invalid deployment content specified.Non null and non empty stageName must be provided for canary deployment. Provided value is null"),
        (vec!["--stage-name", "nope"], "Invalid deployment content specified.Stage nope must already be created before making a canary release deployment"),
    ] {
        let e = create_canary(&s, &api, &extra).unwrap_err();
        assert_cli_error(&e, "BadRequestException", message);
    }
    // An empty name (the CLI leaves an empty value out, so sent as JSON): AWS names the
    // value as it is, nothing after "is ".
    let r = cp.call(
        "POST",
        &format!("/restapis/{api}/deployments"),
        Some(&json!({"stageName": "", "canarySettings": {"percentTraffic": 10.0}})),
    );
    assert_eq!(r.status, 400, "{r}");
    assert_eq!(
        r.json()["message"],
        "Invalid deployment content specified.Non null and non empty stageName must be provided for canary deployment. Provided value is ",
        "{r}"
    );
    // Without a canary, `$context.isCanaryRequest` is absent.
    assert_eq!(ask(&s, &api)["canary"], "");

    set_access_log(
        &s,
        &api,
        "dev",
        r#"{"requestId":"$context.requestId","canary":"$context.isCanaryRequest"}"#,
    );
    let canary = str_of(
        &create_canary(&s, &api, &["--stage-name", "dev"]).unwrap(),
        "id",
    );
    let stage = apigw(
        &s,
        &["get-stage", "--rest-api-id", &api, "--stage-name", "dev"],
    );
    assert_eq!(
        stage["deploymentId"],
        base.as_str(),
        "not repointed: {stage:#}"
    );
    assert_eq!(stage["canarySettings"]["deploymentId"], canary.as_str());

    // 2,000 independent draws at 10%: the canary count is Binomial(2000, 0.1), mean 200
    // and standard deviation 13.4; [120, 280] is ±6 sd (a false failure about once in
    // 10^9 runs), while a split that ignored the percentage would land far outside.
    const N: usize = 2000;
    let mut canaries = 0;
    for _ in 0..N {
        let r = ask(&s, &api);
        if r["canary"] == "true" {
            canaries += 1;
            assert_eq!(r["deployment"], canary.as_str(), "{r}");
            assert_eq!(r["v"], "canary", "overrides merge into the variables: {r}");
        } else {
            assert_eq!(r["canary"], "false", "{r}");
            assert_eq!(r["deployment"], base.as_str(), "{r}");
            assert_eq!(r["v"], "base", "{r}");
        }
    }
    assert!(
        (120..=280).contains(&canaries),
        "{canaries} of {N} went to the canary"
    );

    // Canary requests are logged to their own file beside the stage's.
    let dir = s.data_path().join("access-logs");
    let stage_log = dir.join(format!("{api}-dev.log"));
    let canary_log = dir.join(format!("{api}-dev-canary.log"));
    eventually("every request logged", || {
        (lines(&stage_log) + lines(&canary_log) >= N).then_some(())
    });
    assert_eq!(lines(&canary_log), canaries);
    assert_eq!(lines(&stage_log), N - canaries);
    let first: Value = serde_json::from_str(
        std::fs::read_to_string(&canary_log)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(first["canary"], "true", "{first}");

    // Promotion: the three patch operations.
    let promoted = update_stage(
        &s,
        &api,
        "dev",
        &json!([
            {"op": "copy", "from": "/canarySettings/deploymentId", "path": "/deploymentId"},
            {"op": "copy", "from": "/canarySettings/stageVariableOverrides", "path": "/variables"},
            {"op": "replace", "path": "/canarySettings/percentTraffic", "value": "0.0"},
        ]),
    );
    assert_eq!(promoted["deploymentId"], canary.as_str(), "{promoted:#}");
    assert_eq!(promoted["variables"]["v"], "canary", "{promoted:#}");
    for _ in 0..20 {
        let r = ask(&s, &api);
        assert_eq!(
            (
                r["deployment"].as_str(),
                r["canary"].as_str(),
                r["v"].as_str()
            ),
            (Some(canary.as_str()), Some("false"), Some("canary")),
            "{r}"
        );
    }

    // Disabled: the canary is gone and so is `isCanaryRequest`.
    update_stage(
        &s,
        &api,
        "dev",
        &json!([{"op": "remove", "path": "/canarySettings"}]),
    );
    assert_eq!(ask(&s, &api)["canary"], "");
}

/// A canary at 100% on another deployment: with `useStageCache` its entries are kept
/// apart from production's; without it canary requests never use the cache.
#[test]
fn canary_and_the_stage_cache() {
    let s = Server::start();
    let b = Backend::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("canary-cache");
    let res = cp.resource(&api, &root, "c");
    cp.http_proxy(&api, &res, "GET", &format!("{}/c", b.url()), &[], None);
    cp.deploy(&api, "dev");
    let patch = |ops: Value| update_stage(&s, &api, "dev", &ops);
    patch(json!([
        {"op": "replace", "path": "/cacheClusterEnabled", "value": "true"},
        {"op": "replace", "path": "/*/*/caching/enabled", "value": "true"},
    ]));
    let path = Server::exec_path(&api, "/dev/c");
    let call = || assert_eq!(Http::get(s.port, &path).send().status, 200);
    call();
    call();
    assert_eq!(b.count(), 1, "production request cached");

    aws(
        &s,
        &[
            "apigateway",
            "create-deployment",
            "--rest-api-id",
            &api,
            "--stage-name",
            "dev",
            "--canary-settings",
            r#"{"percentTraffic": 100.0, "useStageCache": false}"#,
        ],
    )
    .unwrap();
    call();
    call();
    assert_eq!(
        b.count(),
        3,
        "a canary without useStageCache never uses the cache"
    );

    patch(json!([{"op": "replace", "path": "/canarySettings/useStageCache", "value": "true"}]));
    call();
    call();
    assert_eq!(
        b.count(),
        4,
        "the canary's own entry (another deployment) is filled once, then used"
    );
}
