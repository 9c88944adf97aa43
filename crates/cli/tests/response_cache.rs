//! REST stage response caching (auth-throttle-cache.md §4), end to end: a real server, an
//! HTTP backend that counts what reaches it, the aws CLI for the stage's cache settings,
//! FlushStageCache and `cacheClusterStatus`. Caching is proven by counting backend hits.

mod common;

use common::*;
use serde_json::{json, Value};

/// Requests that reached the backend on `path`.
fn hits(b: &Backend, path: &str) -> usize {
    b.seen().iter().filter(|s| s.path == path).count()
}

/// The aws CLI's update-stage of `dev` with `ops`.
fn update_stage(s: &Server, api: &str, ops: Value) -> Value {
    common::update_stage(s, api, "dev", &ops)
}

/// Turns on the stage cache of `dev` and caching for `*/*`.
fn enable_cache(s: &Server, api: &str) -> Value {
    update_stage(
        s,
        api,
        json!([
            {"op": "replace", "path": "/cacheClusterEnabled", "value": "true"},
            {"op": "replace", "path": "/*/*/caching/enabled", "value": "true"},
        ]),
    )
}

/// `verb` on `res`: an HTTP (non-proxy) integration to `{backend}{path}` passing `q` on,
/// keyed by `q` in the cache; the response template shows the backend's query and this
/// request's id, so a hit that is mapped again is visible.
fn http_method(cp: &Cp, b: &Backend, (api, res, verb): (&str, &str, &str), path: &str) {
    cp.put_method(
        api,
        res,
        verb,
        json!({ "authorizationType": "NONE",
                "requestParameters": { "method.request.querystring.q": false } }),
    );
    cp.put_integration(
        api,
        res,
        verb,
        json!({ "type": "HTTP", "httpMethod": "GET", "uri": format!("{}{path}", b.url()),
                "requestParameters": { "integration.request.querystring.q": "method.request.querystring.q" },
                "cacheKeyParameters": ["method.request.querystring.q"] }),
    );
    cp.put_method_response(api, res, verb, "200");
    cp.put_integration_response(
        api,
        res,
        verb,
        "200",
        json!({ "selectionPattern": "",
                "responseTemplates": { "application/json":
                    "{\"query\": $input.json('$.query'), \"requestId\": \"$context.requestId\"}" } }),
    );
}

fn get(s: &Server, api: &str, path: &str) -> Response {
    let r = s.invoke(api, path);
    assert_eq!(r.status, 200, "{r}\nserver log:\n{}", s.stderr());
    r
}

/// A cached stage: `/items` GET and POST (HTTP), `/proxy` GET (HTTP_PROXY), caching on for
/// `*/*` (so GETs only).
fn cached_api(s: &Server, b: &Backend) -> String {
    let cp = Cp::new(s);
    let (api, root) = cp.create_api("cached");
    let items = cp.resource(&api, &root, "items");
    http_method(&cp, b, (&api, &items, "GET"), "/items");
    http_method(&cp, b, (&api, &items, "POST"), "/items-post");
    let proxy = cp.resource(&api, &root, "proxy");
    cp.http_proxy(
        &api,
        &proxy,
        "GET",
        &format!("{}/proxied", b.url()),
        &[],
        None,
    );
    cp.deploy(&api, "dev");
    let stage = enable_cache(s, &api);
    // AWS answers the update while the cache is being made.
    assert_eq!(
        stage["cacheClusterStatus"], "CREATE_IN_PROGRESS",
        "{stage:#}"
    );
    api
}

#[test]
fn cached_gets_reach_the_backend_once_per_key() {
    let s = Server::start();
    let b = Backend::start();
    let api = cached_api(&s, &b);
    let got = apigw(
        &s,
        &["get-stage", "--rest-api-id", &api, "--stage-name", "dev"],
    );
    assert_eq!(got["cacheClusterStatus"], "AVAILABLE", "{got:#}");
    assert_eq!(got["cacheClusterSize"], "0.5", "{got:#}");

    let first = get(&s, &api, "/dev/items?q=a").json();
    let second = get(&s, &api, "/dev/items?q=a").json();
    assert_eq!(hits(&b, "/items"), 1, "the second GET is a hit");
    assert_eq!(first["query"], "q=a");
    assert_eq!(second["query"], "q=a", "the hit holds the backend's answer");
    assert_ne!(
        first["requestId"], second["requestId"],
        "integration response mapping runs again on a hit"
    );
    // A key parameter's value is part of the key; other query strings are not.
    get(&s, &api, "/dev/items?q=b");
    assert_eq!(hits(&b, "/items"), 2);
    get(&s, &api, "/dev/items?q=a&other=1");
    get(&s, &api, "/dev/items?q=b");
    assert_eq!(hits(&b, "/items"), 2);
    // `*/*` caches GETs only.
    for _ in 0..2 {
        let r = Http::post(s.port, &Server::exec_path(&api, "/dev/items?q=a")).send();
        assert_eq!(r.status, 200, "{r}");
    }
    assert_eq!(hits(&b, "/items-post"), 2, "POST is not cached by */*");
    // A proxy response is kept as it was sent.
    let p1 = get(&s, &api, "/dev/proxy");
    let p2 = get(&s, &api, "/dev/proxy");
    assert_eq!(hits(&b, "/proxied"), 1);
    assert_eq!(p1.body, p2.body);
    assert_eq!(p2.header("x-backend"), Some("yes"));

    // FlushStageCache empties the stage's cache.
    apigw(
        &s,
        &[
            "flush-stage-cache",
            "--rest-api-id",
            &api,
            "--stage-name",
            "dev",
        ],
    );
    get(&s, &api, "/dev/items?q=a");
    get(&s, &api, "/dev/proxy");
    assert_eq!((hits(&b, "/items"), hits(&b, "/proxied")), (3, 2));

    // A method setting of its own turns POST on and GET off.
    update_stage(
        &s,
        &api,
        json!([
            {"op": "replace", "path": "/~1items/POST/caching/enabled", "value": "true"},
            {"op": "replace", "path": "/~1items/GET/caching/enabled", "value": "false"},
        ]),
    );
    for _ in 0..2 {
        Http::post(s.port, &Server::exec_path(&api, "/dev/items?q=a")).send();
        get(&s, &api, "/dev/items?q=a");
    }
    assert_eq!(hits(&b, "/items-post"), 3, "POST cached by its own setting");
    assert_eq!(hits(&b, "/items"), 5, "GET not cached by its own setting");

    // Turning the stage cache off drops it.
    let off = update_stage(
        &s,
        &api,
        json!([{"op": "replace", "path": "/cacheClusterEnabled", "value": "false"}]),
    );
    assert_eq!(off["cacheClusterEnabled"], false, "{off:#}");
    let got = apigw(
        &s,
        &["get-stage", "--rest-api-id", &api, "--stage-name", "dev"],
    );
    assert_eq!(got["cacheClusterStatus"], "NOT_AVAILABLE", "{got:#}");
    get(&s, &api, "/dev/proxy");
    get(&s, &api, "/dev/proxy");
    assert_eq!(
        hits(&b, "/proxied"),
        4,
        "no cache, every request reaches the backend"
    );
}

#[test]
fn entries_expire_after_their_ttl() {
    let s = Server::start();
    let b = Backend::start();
    let api = cached_api(&s, &b);
    update_stage(
        &s,
        &api,
        json!([{"op": "replace", "path": "/*/*/caching/ttlInSeconds", "value": "1"}]),
    );
    get(&s, &api, "/dev/items?q=t");
    // Well past the 1 s TTL: the entry must be gone (no upper bound is asserted).
    std::thread::sleep(std::time::Duration::from_millis(2500));
    get(&s, &api, "/dev/items?q=t");
    assert_eq!(hits(&b, "/items"), 2);
    // A TTL of 0 caches nothing.
    update_stage(
        &s,
        &api,
        json!([{"op": "replace", "path": "/*/*/caching/ttlInSeconds", "value": "0"}]),
    );
    get(&s, &api, "/dev/items?q=t");
    get(&s, &api, "/dev/items?q=t");
    assert_eq!(hits(&b, "/items"), 4);
}

/// `Cache-Control: max-age=0` from a caller without `execute-api:InvalidateCache`, under
/// each `unauthorizedCacheControlHeaderStrategy`, and from anyone once authorization is
/// not required.
#[test]
fn unauthorized_invalidation_strategies() {
    let s = Server::start();
    let b = Backend::start();
    let api = cached_api(&s, &b);
    let path = Server::exec_path(&api, "/dev/items?q=x");
    let invalidate = || {
        Http::get(s.port, &path)
            .header("Cache-Control", "max-age=0")
            .send()
    };
    get(&s, &api, "/dev/items?q=x");

    // Default: SUCCEED_WITH_RESPONSE_HEADER, served from the cache with a warning.
    let r = invalidate();
    assert_eq!(r.status, 200, "{r}");
    assert!(
        r.header("warning").is_some_and(|w| w.starts_with("199")),
        "{r}"
    );
    assert_eq!(hits(&b, "/items"), 1, "not invalidated");

    let strategy = |v: &str| {
        update_stage(
            &s,
            &api,
            json!([{"op": "replace", "path": "/*/*/caching/unauthorizedCacheControlHeaderStrategy", "value": v}]),
        )
    };
    strategy("SUCCEED_WITHOUT_RESPONSE_HEADER");
    let r = invalidate();
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.header("warning"), None, "{r}");
    assert_eq!(hits(&b, "/items"), 1);

    strategy("FAIL_WITH_403");
    let r = invalidate();
    assert_eq!(r.status, 403, "{r}");
    assert_eq!(
        r.header("x-amzn-ErrorType"),
        Some("AccessDeniedException"),
        "{r}"
    );
    assert!(
        r.text().contains("execute-api:InvalidateCache"),
        "names the action: {r}"
    );
    assert_eq!(hits(&b, "/items"), 1);

    // Without the requirement anyone may invalidate: the backend is called and its answer
    // replaces the entry, which later requests get.
    update_stage(
        &s,
        &api,
        json!([{"op": "replace", "path": "/*/*/caching/requireAuthorizationForCacheControl", "value": "false"}]),
    );
    let r = invalidate();
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(hits(&b, "/items"), 2, "invalidated");
    get(&s, &api, "/dev/items?q=x");
    assert_eq!(hits(&b, "/items"), 2, "the new entry answers");
}

/// Signs GETs with botocore (service `execute-api`) and sends them with
/// `Cache-Control: max-age=0`; prints each status and `Warning` header.
const SIGNED_INVALIDATION_PY: &str = r#"
import json, sys, urllib.error, urllib.request
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
out = []
for spec in json.loads(sys.argv[1]):
    req = AWSRequest(method="GET", url=spec["url"], headers={"Cache-Control": "max-age=0"})
    SigV4Auth(Credentials(spec["key"], spec["secret"]), "execute-api", "us-east-1").add_auth(req)
    p = req.prepare()
    r = urllib.request.Request(p.url, method="GET", headers=dict(p.headers))
    try:
        resp = urllib.request.urlopen(r)
        out.append({"status": resp.status, "warning": resp.headers.get("Warning")})
    except urllib.error.HTTPError as e:
        out.append({"status": e.code, "warning": e.headers.get("Warning")})
print(json.dumps(out))
"#;

/// An `AWS_IAM` method: a caller whose policies allow `execute-api:InvalidateCache`
/// invalidates; one allowed only `execute-api:Invoke` gets the strategy's answer.
#[test]
fn iam_callers_allowed_to_invalidate() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let file = dir.path().join("principals.json");
    let allow = |actions: Value| json!([{"Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}]);
    let principals = json!({"principals": [
        {"accessKeyId": "AKIAINVOKER", "secretAccessKey": "invoker-secret",
         "arn": "arn:aws:iam::000000000000:user/invoker",
         "policies": allow(json!("execute-api:Invoke"))},
        {"accessKeyId": "AKIAOPERATOR", "secretAccessKey": "operator-secret",
         "arn": "arn:aws:iam::000000000000:user/operator",
         "policies": allow(json!(["execute-api:Invoke", "execute-api:InvalidateCache"]))},
    ]});
    std::fs::write(&file, principals.to_string()).unwrap();
    let s = Server::start_with(dir.clone(), &["--principals", file.to_str().unwrap()]);
    let b = Backend::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("iam-cached");
    let res = cp.resource(&api, &root, "secure");
    cp.put_method(&api, &res, "GET", json!({ "authorizationType": "AWS_IAM" }));
    cp.put_integration(
        &api,
        &res,
        "GET",
        json!({ "type": "HTTP_PROXY", "httpMethod": "GET", "uri": format!("{}/secure", b.url()) }),
    );
    cp.deploy(&api, "dev");
    enable_cache(&s, &api);
    let url = format!(
        "http://127.0.0.1:{}{}",
        s.port,
        Server::exec_path(&api, "/dev/secure")
    );
    let who = |key: &str, secret: &str| json!({"url": url, "key": key, "secret": secret});
    let out = python_script(
        SIGNED_INVALIDATION_PY,
        &[&json!([
            who("AKIAINVOKER", "invoker-secret"),
            who("AKIAINVOKER", "invoker-secret"),
            who("AKIAOPERATOR", "operator-secret"),
        ])
        .to_string()],
    );
    let out = out.as_array().unwrap();
    // The first request fills the entry (a miss: nothing to invalidate yet, so the call
    // goes through), the second is refused the invalidation and served from the cache.
    assert_eq!(out[0]["status"], 200, "{out:?}");
    assert_eq!(out[1]["status"], 200, "{out:?}");
    assert!(out[1]["warning"].is_string(), "{out:?}");
    // The operator may invalidate: the backend is called again, without a warning. Two
    // backend calls for three requests: the first fill and the operator's.
    assert_eq!(out[2]["status"], 200, "{out:?}");
    assert_eq!(out[2]["warning"], Value::Null, "{out:?}");
    assert_eq!(hits(&b, "/secure"), 2, "{out:?}");
}

/// AWS keeps responses up to 1 MB in the stage cache: a larger one is served whole each
/// time and never kept, a small one under the same key is.
#[test]
fn responses_over_1_mb_are_served_but_not_kept() {
    let s = Server::start();
    let b = Backend::start();
    let api = cached_api(&s, &b);
    let big = 1_048_576 + 1;
    for _ in 0..2 {
        let r = get(&s, &api, &format!("/dev/proxy?size={big}"));
        assert_eq!(r.body.len(), big);
        assert!(r.body.iter().all(|b| *b == b'x'));
    }
    assert_eq!(hits(&b, "/proxied"), 2, "an entry over 1 MB is not kept");
    // The key (the path: no cache key parameters) then takes a small answer, and keeps it.
    for _ in 0..2 {
        assert_eq!(get(&s, &api, "/dev/proxy?size=10").text(), "x".repeat(10));
    }
    assert_eq!(hits(&b, "/proxied"), 3, "a small entry is kept");
}
