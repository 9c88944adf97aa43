//! API keys, usage plans, throttling and quotas (auth-throttle-cache.md §1-§3,
//! control-plane-v1.md §5.6 methodSettings throttling, §5.11-§5.12, cli-walkthrough.md §1
//! steps 17-21) against the real binary, with the real `aws` CLI where users would use it.
//!
//! Throttling is asserted as bounds, never as timings: a bucket of capacity `burst` refilled
//! at `rate`/s admits at most `burst + rate × elapsed` requests over `elapsed` seconds
//! (measured on the client, around the whole run, so it covers the server's view), and at
//! least `burst` when it starts full. Exact counts are asserted only for quotas, which
//! do not refill.

mod common;

use std::time::Instant;

use common::*;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------
// Helpers

/// GET on the data plane, with an `x-api-key` header when `key` is given.
fn get(s: &Server, api: &str, stage_path: &str, key: Option<&str>) -> Response {
    let mut req = Http::get(s.port, &Server::exec_path(api, stage_path));
    if let Some(k) = key {
        req = req.header("x-api-key", k);
    }
    req.send()
}

/// A REST gateway error: status, `x-amzn-ErrorType` and `{"message": ...}` body.
fn assert_gateway_error(r: &Response, status: u16, error_type: &str, message: &str) {
    assert_eq!(r.status, status, "{r}");
    assert_eq!(
        r.header("x-amzn-ErrorType"),
        Some(error_type),
        "x-amzn-ErrorType of:\n{r}"
    );
    assert_json_eq(&r.json(), &json!({ "message": message }), "error body");
    assert_gateway_headers(r);
}

fn assert_forbidden(r: &Response) {
    assert_gateway_error(r, 403, "ForbiddenException", "Forbidden");
}

fn assert_throttled(r: &Response) {
    assert_gateway_error(r, 429, "TooManyRequestsException", "Too Many Requests");
}

fn assert_quota_exceeded(r: &Response) {
    assert_gateway_error(r, 429, "LimitExceededException", "Limit Exceeded");
}

fn assert_ok(r: &Response, body: &str) {
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.text(), body, "{r}");
}

/// What a run of requests got. Every non-200 has been checked to be a throttling 429.
#[derive(Debug)]
struct Run {
    ok: usize,
    throttled: usize,
    /// Seconds from before the first request was sent to after the last answer.
    elapsed: f64,
}

/// `n` GETs one after the other, as fast as the client goes.
fn run_sequential(s: &Server, api: &str, stage_path: &str, key: Option<&str>, n: usize) -> Run {
    let start = Instant::now();
    let mut run = Run {
        ok: 0,
        throttled: 0,
        elapsed: 0.0,
    };
    for _ in 0..n {
        let r = get(s, api, stage_path, key);
        if r.status == 200 {
            run.ok += 1;
        } else {
            assert_throttled(&r);
            run.throttled += 1;
        }
    }
    run.elapsed = start.elapsed().as_secs_f64();
    run
}

/// `threads × per_thread` GETs from parallel clients; returns the 200 count, the elapsed
/// seconds around the whole run, and every non-200 response.
fn run_parallel(
    s: &Server,
    api: &str,
    stage_path: &str,
    key: &str,
    threads: usize,
    per_thread: usize,
) -> (usize, f64, Vec<Response>) {
    let path = Server::exec_path(api, stage_path);
    let port = s.port;
    let start = Instant::now();
    let results: Vec<(usize, Vec<Response>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let path = path.clone();
                scope.spawn(move || {
                    let mut ok = 0;
                    let mut other = vec![];
                    for _ in 0..per_thread {
                        let r = Http::get(port, &path).header("x-api-key", key).send();
                        if r.status == 200 {
                            ok += 1;
                        } else {
                            other.push(r);
                        }
                    }
                    (ok, other)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("client thread"))
            .collect()
    });
    let elapsed = start.elapsed().as_secs_f64();
    let ok = results.iter().map(|(n, _)| n).sum();
    let others = results.into_iter().flat_map(|(_, o)| o).collect();
    (ok, elapsed, others)
}

/// The token-bucket bound: never more than `burst + rate × elapsed` (+1 for the token that
/// may be due exactly at the edge).
fn assert_bucket_bound(admitted: usize, burst: f64, rate: f64, elapsed: f64, what: &str) {
    let bound = burst + rate * elapsed + 1.0;
    assert!(
        admitted as f64 <= bound,
        "{what}: {admitted} admitted in {elapsed:.3} s, more than burst {burst} + rate {rate}/s \
         × elapsed (+1) = {bound:.1}"
    );
}

/// `aws apigateway get-usage` for today only; returns the `[used, remaining]` pair of `key`
/// and checks the document's shape.
fn cli_usage_today(s: &Server, plan: &str, key: &str) -> (i64, i64) {
    let today = utc_date(0);
    let u = apigw(
        s,
        &[
            "get-usage",
            "--usage-plan-id",
            plan,
            "--start-date",
            &today,
            "--end-date",
            &today,
        ],
    );
    assert_eq!(u["usagePlanId"], plan, "{u:#}");
    assert_eq!(u["startDate"], today.as_str(), "{u:#}");
    assert_eq!(u["endDate"], today.as_str(), "{u:#}");
    let days = u["items"][key]
        .as_array()
        .unwrap_or_else(|| panic!("no usage for key {key} in {u:#}"));
    assert_eq!(days.len(), 1, "one [used, remaining] pair per day: {u:#}");
    let pair = days[0].as_array().expect("a [used, remaining] pair");
    assert_eq!(pair.len(), 2, "{u:#}");
    (
        pair[0].as_i64().expect("used"),
        pair[1].as_i64().expect("remaining"),
    )
}

fn cp_require_key(cp: &Cp, api: &str, res: &str, verb: &str) {
    cp.ok(
        "PATCH",
        &format!("/restapis/{api}/resources/{res}/methods/{verb}"),
        Some(&json!({ "patchOperations": [
            { "op": "replace", "path": "/apiKeyRequired", "value": "true" }
        ] })),
    );
}

/// Keys and plans as listed by the CLI (with key values), to compare across restarts.
fn listing(s: &Server) -> (Value, Value) {
    (
        apigw(s, &["get-api-keys", "--include-values"]),
        apigw(s, &["get-usage-plans"]),
    )
}

const PETS: &str = "[{\"id\": 1}]";

// ---------------------------------------------------------------------------------------
// 1. The walkthrough with the real CLI, then restarts

#[test]
fn cli_walkthrough_steps_17_to_21() {
    let mut s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("pets");
    let pets = cp.resource(&api, &root, "pets");
    cp.mock(&api, &pets, "GET", PETS);
    cp.deploy(&api, "dev");
    assert_ok(&get(&s, &api, "/dev/pets", None), PETS);

    // 17. update-method apiKeyRequired=true, then redeploy.
    let method = apigw(
        &s,
        &[
            "update-method",
            "--rest-api-id",
            &api,
            "--resource-id",
            &pets,
            "--http-method",
            "GET",
            "--patch-operations",
            "op=replace,path=/apiKeyRequired,value=true",
        ],
    );
    assert_eq!(method["apiKeyRequired"], true, "step 17: {method:#}");
    // Not live until redeployed: the stage still serves the old deployment.
    assert_ok(&get(&s, &api, "/dev/pets", None), PETS);
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
    assert_forbidden(&get(&s, &api, "/dev/pets", None));

    // 18. create-api-key
    let key = apigw(&s, &["create-api-key", "--name", "demo-key", "--enabled"]);
    assert_keys(
        &key,
        &[
            "id",
            "value",
            "name",
            "enabled",
            "stageKeys",
            "createdDate",
            "lastUpdatedDate",
        ],
        "step 18 create-api-key",
    );
    let key_id = str_of(&key, "id");
    assert_id(&key_id, 10, "api key id");
    let key_value = str_of(&key, "value");
    assert!(
        key_value.len() == 40 && key_value.bytes().all(|b| b.is_ascii_alphanumeric()),
        "a generated key value is 40 chars of [A-Za-z0-9]: {key_value:?}"
    );
    assert_eq!(key["name"], "demo-key");
    assert_eq!(key["enabled"], true);
    assert_eq!(key["stageKeys"], json!([]));
    assert!(key["createdDate"].is_number(), "{key:#}");
    assert!(key["lastUpdatedDate"].is_number(), "{key:#}");

    // A valid key that is in no usage plan yet is refused.
    assert_forbidden(&get(&s, &api, "/dev/pets", Some(&key_value)));

    // 19. create-usage-plan
    let api_stage = format!("apiId={api},stage=dev");
    let plan = apigw(
        &s,
        &[
            "create-usage-plan",
            "--name",
            "basic",
            "--throttle",
            "burstLimit=10,rateLimit=5",
            "--quota",
            "limit=1000,offset=0,period=DAY",
            "--api-stages",
            &api_stage,
        ],
    );
    assert_keys(
        &plan,
        &["id", "name", "apiStages", "throttle", "quota"],
        "step 19 create-usage-plan",
    );
    let plan_id = str_of(&plan, "id");
    assert_id(&plan_id, 6, "usage plan id");
    assert_eq!(plan["name"], "basic");
    assert_json_eq(
        &plan["apiStages"],
        &json!([{ "apiId": api, "stage": "dev" }]),
        "step 19 apiStages",
    );
    assert_json_eq(
        &plan["throttle"],
        &json!({ "burstLimit": 10, "rateLimit": 5.0 }),
        "step 19 throttle",
    );
    assert!(
        plan["throttle"]["burstLimit"].is_i64(),
        "burstLimit is an integer: {plan:#}"
    );
    assert!(
        plan["throttle"]["rateLimit"].is_f64(),
        "rateLimit is a double on the wire (5.0, not 5): {plan:#}"
    );
    assert_json_eq(
        &plan["quota"],
        &json!({ "limit": 1000, "offset": 0, "period": "DAY" }),
        "step 19 quota",
    );

    // 20. create-usage-plan-key
    let plan_key = apigw(
        &s,
        &[
            "create-usage-plan-key",
            "--usage-plan-id",
            &plan_id,
            "--key-id",
            &key_id,
            "--key-type",
            "API_KEY",
        ],
    );
    assert_json_eq(
        &plan_key,
        &json!({ "id": key_id, "type": "API_KEY", "value": key_value, "name": "demo-key" }),
        "step 20 create-usage-plan-key",
    );

    // 21. get-usage over a past month: one [0, remaining] pair per day without traffic.
    let month = apigw(
        &s,
        &[
            "get-usage",
            "--usage-plan-id",
            &plan_id,
            "--start-date",
            "2024-01-01",
            "--end-date",
            "2024-01-31",
        ],
    );
    assert_json_eq(
        &month,
        &json!({
            "usagePlanId": plan_id,
            "startDate": "2024-01-01",
            "endDate": "2024-01-31",
            "items": { key_id.as_str(): vec![json!([0, 1000]); 31] },
        }),
        "step 21 get-usage",
    );
    assert_eq!(cli_usage_today(&s, &plan_id, &key_id), (0, 1000));

    // The data plane: the key now opens the method; nothing else does.
    let mut admitted = 0i64;
    assert_forbidden(&get(&s, &api, "/dev/pets", None));
    assert_forbidden(&get(
        &s,
        &api,
        "/dev/pets",
        Some("nosuchkeyvalue00000000000000000000000000"),
    ));
    let lone = apigw(&s, &["create-api-key", "--name", "lonely", "--enabled"]);
    let lone_value = str_of(&lone, "value");
    assert_forbidden(&get(&s, &api, "/dev/pets", Some(&lone_value)));
    assert_ok(&get(&s, &api, "/dev/pets", Some(&key_value)), PETS);
    admitted += 1;
    // The header name is case-insensitive.
    let r = Http::get(s.port, &Server::exec_path(&api, "/dev/pets"))
        .header("X-API-Key", &key_value)
        .send();
    assert_ok(&r, PETS);
    admitted += 1;

    // Disabled → refused; enabled again → admitted.
    let disabled = set_key_enabled(&s, &key_id, false);
    assert_eq!(disabled["enabled"], false, "{disabled:#}");
    assert_forbidden(&get(&s, &api, "/dev/pets", Some(&key_value)));
    let enabled = set_key_enabled(&s, &key_id, true);
    assert_eq!(enabled["enabled"], true, "{enabled:#}");
    assert_ok(&get(&s, &api, "/dev/pets", Some(&key_value)), PETS);
    admitted += 1;
    // Refused requests are not counted.
    assert_eq!(
        cli_usage_today(&s, &plan_id, &key_id),
        (admitted, 1000 - admitted)
    );

    // A rapid loop runs into the plan's throttle (burst 10, rate 5/s). Keep going until
    // something is throttled (bounded), so a slow machine cannot make this flaky.
    let start = Instant::now();
    let (mut ok, mut throttled, mut sent) = (0usize, 0usize, 0usize);
    while (throttled == 0 || sent < 40) && sent < 3000 {
        let r = get(&s, &api, "/dev/pets", Some(&key_value));
        sent += 1;
        if r.status == 200 {
            assert_eq!(r.text(), PETS);
            ok += 1;
        } else {
            assert_throttled(&r);
            throttled += 1;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    assert!(
        throttled > 0,
        "{sent} requests in {elapsed:.3} s and none throttled"
    );
    assert_bucket_bound(ok, 10.0, 5.0, elapsed, "plan throttle, rapid loop");
    admitted += ok as i64;
    // Only admitted requests count against the quota.
    assert_eq!(
        cli_usage_today(&s, &plan_id, &key_id),
        (admitted, 1000 - admitted),
        "get-usage after {admitted} admitted and {throttled} throttled requests"
    );

    // A second plan on the same stage with a small quota and a high throttle.
    let qkey = apigw(&s, &["create-api-key", "--name", "quota-key", "--enabled"]);
    let (qkey_id, qkey_value) = (str_of(&qkey, "id"), str_of(&qkey, "value"));
    let small = apigw(
        &s,
        &[
            "create-usage-plan",
            "--name",
            "small",
            "--throttle",
            "burstLimit=1000,rateLimit=1000",
            "--quota",
            "limit=5,offset=0,period=DAY",
            "--api-stages",
            &api_stage,
        ],
    );
    let small_id = str_of(&small, "id");
    apigw(
        &s,
        &[
            "create-usage-plan-key",
            "--usage-plan-id",
            &small_id,
            "--key-id",
            &qkey_id,
            "--key-type",
            "API_KEY",
        ],
    );
    let statuses: Vec<u16> = (0..12)
        .map(|_| {
            let r = get(&s, &api, "/dev/pets", Some(&qkey_value));
            if r.status != 200 {
                assert_quota_exceeded(&r);
            }
            r.status
        })
        .collect();
    assert_eq!(
        statuses,
        [vec![200; 5], vec![429; 7]].concat(),
        "quota 5: exactly the first 5 requests are admitted"
    );
    assert_eq!(cli_usage_today(&s, &small_id, &qkey_id), (5, 0));

    // update-usage: 2 more requests allowed in this period.
    let updated = apigw(
        &s,
        &[
            "update-usage",
            "--usage-plan-id",
            &small_id,
            "--key-id",
            &qkey_id,
            "--patch-operations",
            "op=replace,path=/remaining,value=2",
        ],
    );
    assert_eq!(updated["usagePlanId"], small_id.as_str(), "{updated:#}");
    let today_pair = updated["items"][qkey_id.as_str()]
        .as_array()
        .and_then(|days| days.last())
        .unwrap_or_else(|| panic!("update-usage returns the key's usage: {updated:#}"));
    assert_eq!(
        today_pair[1], 2,
        "remaining after update-usage: {updated:#}"
    );
    let statuses: Vec<u16> = (0..6)
        .map(|_| {
            let r = get(&s, &api, "/dev/pets", Some(&qkey_value));
            if r.status != 200 {
                assert_quota_exceeded(&r);
            }
            r.status
        })
        .collect();
    assert_eq!(
        statuses,
        [vec![200; 2], vec![429; 4]].concat(),
        "after update-usage remaining=2: exactly 2 more admitted"
    );
    let quota_usage = cli_usage_today(&s, &small_id, &qkey_id);
    assert_eq!(quota_usage.1, 0, "no requests remaining: {quota_usage:?}");
    // A bad op after a good one changes nothing: the good one is not applied either.
    let e = apigw_err(
        &s,
        &[
            "update-usage",
            "--usage-plan-id",
            &small_id,
            "--key-id",
            &qkey_id,
            "--patch-operations",
            "op=replace,path=/remaining,value=3",
            "op=replace,path=/remaining,value=-1",
        ],
    );
    assert!(e.stderr.contains("BadRequestException"), "{}", e.stderr);
    assert_eq!(
        cli_usage_today(&s, &small_id, &qkey_id),
        quota_usage,
        "a refused update-usage left the usage as it was"
    );
    // The first key's plan is unaffected.
    assert_eq!(
        cli_usage_today(&s, &plan_id, &key_id),
        (admitted, 1000 - admitted)
    );

    // Everything survives kill -9 once the 1 s usage flush has run.
    let before = listing(&s);
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let dir = s.dir();
    s.kill9();
    let mut s = Server::start_in(dir);
    let check_after_restart = |s: &Server, admitted: i64, what: &str| {
        assert_eq!(
            listing(s),
            before,
            "{what}: keys (with values) and plans as before"
        );
        assert_eq!(
            cli_usage_today(s, &plan_id, &key_id),
            (admitted, 1000 - admitted),
            "{what}: usage of the first plan"
        );
        assert_eq!(
            cli_usage_today(s, &small_id, &qkey_id),
            quota_usage,
            "{what}: usage of the quota plan"
        );
        assert_quota_exceeded(&get(s, &api, "/dev/pets", Some(&qkey_value)));
        assert_forbidden(&get(s, &api, "/dev/pets", None));
        assert_forbidden(&get(s, &api, "/dev/pets", Some(&lone_value)));
    };
    check_after_restart(&s, admitted, "after kill -9");
    assert_ok(&get(&s, &api, "/dev/pets", Some(&key_value)), PETS);
    admitted += 1;

    // ...and a clean stop saves the counts on the way out (no wait for the flush).
    let status = s.sigterm();
    assert!(
        status.success(),
        "exit status after SIGTERM: {status:?}\n{}",
        s.stderr()
    );
    let s = Server::start_in(s.dir());
    check_after_restart(&s, admitted, "after SIGTERM");
    assert_ok(&get(&s, &api, "/dev/pets", Some(&key_value)), PETS);
}

// ---------------------------------------------------------------------------------------
// 2. Limits under concurrency

#[test]
fn concurrency_bound() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("busy");
    let pets = cp.resource(&api, &root, "pets");
    cp.mock(&api, &pets, "GET", PETS);
    cp_require_key(&cp, &api, &pets, "GET");
    cp.deploy(&api, "dev");

    // Throttle: rate 20/s, burst 10, a quota that never bites.
    let (rate, burst) = (20.0, 10.0);
    let (tkey_id, tkey) = cp.api_key("throttled");
    let tplan = cp.usage_plan(
        &api,
        "dev",
        json!({
            "throttle": { "burstLimit": 10, "rateLimit": 20.0 },
            "quota": { "limit": 1_000_000, "offset": 0, "period": "DAY" },
        }),
        &tkey_id,
    );
    let (admitted, elapsed, others) = run_parallel(&s, &api, "/dev/pets", &tkey, 16, 40);
    assert_eq!(admitted + others.len(), 16 * 40);
    for r in &others {
        assert_throttled(r);
    }
    assert!(
        admitted >= burst as usize,
        "a full bucket admits at least its burst: {admitted}"
    );
    assert_bucket_bound(admitted, burst, rate, elapsed, "16 parallel clients");
    let throttle_usage = cp.usage_today(&tplan, &tkey_id);
    assert_eq!(
        throttle_usage,
        Some((admitted as i64, 1_000_000 - admitted as i64)),
        "only admitted requests are counted"
    );

    // Quota: 30 requests, whatever the concurrency; the throttle is out of the way.
    let (qkey_id, qkey) = cp.api_key("quota");
    let qplan = cp.usage_plan(
        &api,
        "dev",
        json!({
            "throttle": { "burstLimit": 100_000, "rateLimit": 100_000.0 },
            "quota": { "limit": 30, "offset": 0, "period": "DAY" },
        }),
        &qkey_id,
    );
    let (admitted, _, others) = run_parallel(&s, &api, "/dev/pets", &qkey, 16, 10);
    for r in &others {
        assert_quota_exceeded(r);
    }
    assert_eq!(
        admitted, 30,
        "quota 30 under 16 parallel clients: exactly 30 admitted"
    );
    assert_eq!(others.len(), 16 * 10 - 30);
    assert_eq!(cp.usage_today(&qplan, &qkey_id), Some((30, 0)));
    // The other key's plan is untouched by this one's exhaustion.
    assert_eq!(
        cp.usage_today(&tplan, &tkey_id),
        throttle_usage,
        "usage of the throttled key's plan after the quota run"
    );
}

// ---------------------------------------------------------------------------------------
// 3. Stage methodSettings throttling

#[test]
fn stage_method_settings_throttle() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("limited");
    let pets = cp.resource(&api, &root, "pets");
    let other = cp.resource(&api, &root, "other");
    cp.mock(&api, &pets, "GET", PETS);
    cp.mock(&api, &other, "GET", "{\"other\": true}");
    cp.deploy(&api, "dev");

    // Every method of the stage: burst 3, 1 request/s. No redeploy.
    let stage = apigw(
        &s,
        &[
            "update-stage",
            "--rest-api-id",
            &api,
            "--stage-name",
            "dev",
            "--patch-operations",
            "op=replace,path=/*/*/throttling/burstLimit,value=3",
            "op=replace,path=/*/*/throttling/rateLimit,value=1",
        ],
    );
    assert_eq!(stage["methodSettings"]["*/*"]["throttlingBurstLimit"], 3);
    assert_json_eq(
        &stage["methodSettings"]["*/*"]["throttlingRateLimit"],
        &json!(1.0),
        "*/* rate",
    );

    let run = run_sequential(&s, &api, "/dev/pets", None, 20);
    assert!(
        run.ok >= 3 && run.ok as f64 <= 3.0 + run.elapsed.ceil(),
        "burst 3, rate 1/s: expected between 3 and 3 + ceil({:.3}) admitted, got {run:?}",
        run.elapsed
    );
    assert_eq!(run.ok + run.throttled, 20);

    // A per-method override for GET /pets (JSON form: the key holds an escaped `/`).
    let ops = json!([
        { "op": "replace", "path": "/~1pets/GET/throttling/burstLimit", "value": "100" },
        { "op": "replace", "path": "/~1pets/GET/throttling/rateLimit", "value": "100" },
    ])
    .to_string();
    let stage = apigw(
        &s,
        &[
            "update-stage",
            "--rest-api-id",
            &api,
            "--stage-name",
            "dev",
            "--patch-operations",
            &ops,
        ],
    );
    let own = &stage["methodSettings"]["~1pets/GET"];
    assert_eq!(own["throttlingBurstLimit"], 100, "{stage:#}");
    assert_json_eq(
        &own["throttlingRateLimit"],
        &json!(100.0),
        "~1pets/GET rate",
    );

    let run = run_sequential(&s, &api, "/dev/pets", None, 20);
    assert_eq!(
        (run.ok, run.throttled),
        (20, 0),
        "GET /pets has its own burst of 100 now"
    );
    // GET /other is still under `*/*` (with a bucket of its own, still full).
    let run = run_sequential(&s, &api, "/dev/other", None, 20);
    assert!(
        run.ok >= 3 && run.ok as f64 <= 3.0 + run.elapsed.ceil(),
        "GET /other under */*: expected between 3 and 3 + ceil({:.3}) admitted, got {run:?}",
        run.elapsed
    );
}

// ---------------------------------------------------------------------------------------
// 4. Control-plane shapes and errors

#[test]
fn control_plane_shapes() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("shapes");
    let pets = cp.resource(&api, &root, "pets");
    cp.mock(&api, &pets, "GET", PETS);
    cp_require_key(&cp, &api, &pets, "GET");
    cp.deploy(&api, "dev");
    cp.deploy(&api, "prod");

    // get-api-key: the value only with --include-value.
    let alpha1 = apigw(&s, &["create-api-key", "--name", "alpha-1", "--enabled"]);
    let alpha2 = apigw(
        &s,
        &[
            "create-api-key",
            "--name",
            "alpha-2",
            "--value",
            "alpha2-value-0123456789",
            "--description",
            "second",
        ],
    );
    let beta = apigw(&s, &["create-api-key", "--name", "beta-1", "--enabled"]);
    assert_eq!(alpha2["value"], "alpha2-value-0123456789");
    assert_eq!(alpha2["enabled"], false, "enabled defaults to false");
    let a1 = str_of(&alpha1, "id");
    let a2 = str_of(&alpha2, "id");
    let b1 = str_of(&beta, "id");
    let without = apigw(&s, &["get-api-key", "--api-key", &a1]);
    assert!(
        without.get("value").is_none(),
        "no value without --include-value: {without:#}"
    );
    assert_eq!(without["id"], a1.as_str());
    assert_eq!(without["name"], "alpha-1");
    assert_eq!(without["enabled"], true);
    assert_eq!(without["stageKeys"], json!([]));
    let with = apigw(&s, &["get-api-key", "--api-key", &a1, "--include-value"]);
    assert_eq!(with["value"], alpha1["value"], "{with:#}");

    // get-api-keys --name-query: a prefix filter.
    let ids_of = |v: &Value| {
        let mut ids: Vec<String> = v["items"]
            .as_array()
            .unwrap_or_else(|| panic!("no items in {v:#}"))
            .iter()
            .map(|k| str_of(k, "id"))
            .collect();
        ids.sort();
        ids
    };
    let alphas = apigw(&s, &["get-api-keys", "--name-query", "alpha"]);
    let mut expected = vec![a1.clone(), a2.clone()];
    expected.sort();
    assert_eq!(ids_of(&alphas), expected, "{alphas:#}");
    assert!(
        alphas["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k.get("value").is_none()),
        "no values without --include-values: {alphas:#}"
    );
    let betas = apigw(
        &s,
        &["get-api-keys", "--name-query", "beta", "--include-values"],
    );
    assert_eq!(ids_of(&betas), vec![b1.clone()]);
    assert_eq!(betas["items"][0]["value"], beta["value"]);
    assert_eq!(
        ids_of(&apigw(&s, &["get-api-keys", "--name-query", "lpha"])),
        Vec::<String>::new(),
        "prefix, not substring"
    );
    assert_eq!(ids_of(&apigw(&s, &["get-api-keys"])).len(), 3);

    // update-api-key with a path that cannot be patched.
    let e = apigw_err(
        &s,
        &[
            "update-api-key",
            "--api-key",
            &a1,
            "--patch-operations",
            "op=replace,path=/id,value=x",
        ],
    );
    assert_cli_error(
        &e,
        "BadRequestException",
        "Invalid patch path  '/id' specified for op 'replace'. Must be one of: [/description, /enabled, /name, /customerId]",
    );
    // A key value that is too short.
    let e = apigw_err(
        &s,
        &["create-api-key", "--name", "short", "--value", "0123456789"],
    );
    assert_cli_error(
        &e,
        "BadRequestException",
        "API Key value should be at least 20 characters",
    );

    // create-usage-plan on an API stage that does not exist.
    let e = apigw_err(
        &s,
        &[
            "create-usage-plan",
            "--name",
            "nowhere",
            "--api-stages",
            "apiId=nosuchapi0,stage=dev",
        ],
    );
    assert_cli_error(
        &e,
        "NotFoundException",
        "Invalid API Stage {api: nosuchapi0, stage: dev} specified for usageplan ",
    );

    let plan = apigw(
        &s,
        &[
            "create-usage-plan",
            "--name",
            "shapes",
            "--description",
            "two stages",
            "--api-stages",
            &format!("apiId={api},stage=dev"),
            &format!("apiId={api},stage=prod"),
        ],
    );
    let plan_id = str_of(&plan, "id");
    assert_keys(
        &plan,
        &["id", "name", "description", "apiStages"],
        "a plan without throttle/quota omits them",
    );

    // update-usage-plan add /apiStages without a value.
    let e = apigw_err(
        &s,
        &[
            "update-usage-plan",
            "--usage-plan-id",
            &plan_id,
            "--patch-operations",
            "op=add,path=/apiStages",
        ],
    );
    assert_cli_error(&e, "BadRequestException", "Invalid API Stage specified");

    // An unknown plan, for get, update and delete.
    for args in [
        vec!["get-usage-plan", "--usage-plan-id", "nosuch"],
        vec![
            "update-usage-plan",
            "--usage-plan-id",
            "nosuch",
            "--patch-operations",
            "op=replace,path=/name,value=x",
        ],
        vec!["delete-usage-plan", "--usage-plan-id", "nosuch"],
    ] {
        let e = apigw_err(&s, &args);
        assert_cli_error(&e, "NotFoundException", "Invalid Usage Plan ID specified");
    }

    // create-usage-plan-key twice.
    let add_key = [
        "create-usage-plan-key",
        "--usage-plan-id",
        &plan_id,
        "--key-id",
        &a1,
        "--key-type",
        "API_KEY",
    ];
    apigw(&s, &add_key);
    let e = apigw_err(&s, &add_key);
    assert_cli_error(&e, "ConflictException", "");

    // delete-stage removes the stage from the plan.
    apigw(
        &s,
        &[
            "delete-stage",
            "--rest-api-id",
            &api,
            "--stage-name",
            "prod",
        ],
    );
    let after = apigw(&s, &["get-usage-plan", "--usage-plan-id", &plan_id]);
    assert_json_eq(
        &after["apiStages"],
        &json!([{ "apiId": api, "stage": "dev" }]),
        "apiStages after delete-stage prod",
    );

    // import-api-keys from CSV, adding the first key to the plan.
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("keys.csv");
    std::fs::write(
        &csv,
        format!(
            "name,key,description,enabled,usageplanIds\n\
             imported-1,importedkeyvalue000000000001,first,true,{plan_id}\n\
             imported-2,importedkeyvalue000000000002,second,false,\n"
        ),
    )
    .expect("write csv");
    let imported = apigw(
        &s,
        &[
            "import-api-keys",
            "--body",
            &format!("fileb://{}", csv.display()),
            "--format",
            "csv",
        ],
    );
    let ids: Vec<String> = imported["ids"]
        .as_array()
        .unwrap_or_else(|| panic!("no ids in {imported:#}"))
        .iter()
        .map(|v| v.as_str().expect("id").to_string())
        .collect();
    assert_eq!(ids.len(), 2, "{imported:#}");
    assert_eq!(
        imported["warnings"].as_array().map_or(0, Vec::len),
        0,
        "{imported:#}"
    );
    let k1 = apigw(
        &s,
        &["get-api-key", "--api-key", &ids[0], "--include-value"],
    );
    assert_eq!(k1["name"], "imported-1");
    assert_eq!(k1["value"], "importedkeyvalue000000000001");
    assert_eq!(k1["description"], "first");
    assert_eq!(k1["enabled"], true);
    let k2 = apigw(
        &s,
        &["get-api-key", "--api-key", &ids[1], "--include-value"],
    );
    assert_eq!(k2["name"], "imported-2");
    assert_eq!(k2["value"], "importedkeyvalue000000000002");
    assert_eq!(k2["enabled"], false);
    let plan_keys = apigw(&s, &["get-usage-plan-keys", "--usage-plan-id", &plan_id]);
    let mut in_plan = ids_of(&plan_keys);
    let mut expected = vec![a1.clone(), ids[0].clone()];
    expected.sort();
    in_plan.sort();
    assert_eq!(
        in_plan, expected,
        "the imported key joined the plan: {plan_keys:#}"
    );
    // The imported key works on the data plane; the disabled one does not.
    assert_ok(
        &get(&s, &api, "/dev/pets", Some("importedkeyvalue000000000001")),
        PETS,
    );
    assert_forbidden(&get(
        &s,
        &api,
        "/dev/pets",
        Some("importedkeyvalue000000000002"),
    ));
}
