//! The web console at `/_tollgate/`, over HTTP: open to loopback callers addressing the
//! gateway by a loopback name; anyone else logs in (session cookie flags, wrong secret
//! refused); calls without the session's CSRF token or from another origin refused; a
//! session acts with its own credentials (an IAM user's policies apply); not served on
//! `{id}.execute-api.*` hosts. OpenMetrics from `/metrics` when asked for.

mod common;

use common::*;
use serde_json::{json, Value};

/// A host name that is not loopback's: the console asks such callers to log in (a
/// DNS-rebound name must not borrow loopback's openness).
const REMOTE_HOST: &str = "gateway.example";

fn console_call(
    s: &Server,
    host: &str,
    cookie: Option<&str>,
    csrf: Option<&str>,
    call: &Value,
) -> Response {
    let mut r = Http::post(s.port, "/_tollgate/aws")
        .header("Host", host)
        .header("Content-Type", "application/json");
    if let Some(c) = cookie {
        r = r.header("Cookie", c);
    }
    if let Some(t) = csrf {
        r = r.header("X-Tollgate-Csrf", t);
    }
    r.body(call.to_string()).send()
}

fn login(s: &Server, key: &str, secret: &str) -> Response {
    Http::post(s.port, "/_tollgate/login")
        .header("Host", REMOTE_HOST)
        .header("Content-Type", "application/json")
        .body(json!({ "accessKeyId": key, "secretAccessKey": secret }).to_string())
        .send()
}

/// The `name=value` of a `Set-Cookie` answer, and its attributes.
fn session_cookie(r: &Response) -> (String, String) {
    let set = r
        .header("Set-Cookie")
        .unwrap_or_else(|| panic!("no Set-Cookie: {r}"));
    let (pair, attributes) = set.split_once(';').expect("attributes");
    (pair.to_string(), attributes.to_string())
}

fn session(s: &Server, host: &str, cookie: Option<&str>) -> Response {
    let mut r = Http::get(s.port, "/_tollgate/session").header("Host", host);
    if let Some(c) = cookie {
        r = r.header("Cookie", c);
    }
    r.send()
}

const LIST_APIS: fn() -> Value =
    || json!({ "service": "apigateway", "method": "GET", "path": "/restapis" });

#[test]
fn loopback_callers_use_the_console_with_the_gateways_credentials() {
    let s = Server::start();
    let page = Http::get(s.port, "/_tollgate/").send();
    assert_eq!(page.status, 200, "{page}");
    assert!(page.text().contains("/_tollgate/js/app.js"), "{page}");
    assert!(page
        .header("Content-Security-Policy")
        .unwrap()
        .contains("script-src 'self'"));
    assert_eq!(page.header("X-Frame-Options"), Some("DENY"));
    let script = Http::get(s.port, "/_tollgate/js/app.js").send();
    assert_eq!(script.status, 200);
    assert!(script
        .header("Content-Type")
        .unwrap()
        .starts_with("text/javascript"));
    assert_eq!(
        Http::get(s.port, "/_tollgate/js/nope.js").send().status,
        404
    );

    let host = format!("127.0.0.1:{}", s.port);
    let who = session(&s, &host, None);
    assert_eq!(who.status, 200, "{who}");
    let who = who.json();
    assert_eq!(who["mode"], "loopback");
    assert_eq!(who["accessKeyId"], "test");
    let csrf = str_of(&who, "csrf");
    // Who, and the token: never the secret.
    assert_eq!(who.as_object().unwrap().len(), 3, "{who}");

    // A call the console makes: created through the console, seen by the aws CLI.
    let create = json!({ "service": "apigateway", "method": "POST", "path": "/restapis",
        "body": json!({ "name": "from-console" }).to_string() });
    let r = console_call(&s, &host, None, Some(&csrf), &create);
    assert_eq!(r.status, 201, "{r}");
    let apis = apigw(&s, &["get-rest-apis"]);
    assert_eq!(apis["items"][0]["name"], "from-console");

    // CSRF: no token, a wrong one, or another origin's page: refused, nothing created.
    let r = console_call(&s, &host, None, None, &create);
    assert_eq!(r.status, 403, "{r}");
    assert_eq!(r.json()["__type"], "AccessDeniedException");
    let r = console_call(&s, &host, None, Some("0".repeat(64).as_str()), &create);
    assert_eq!(r.status, 403, "{r}");
    let r = Http::post(s.port, "/_tollgate/aws")
        .header("Origin", "http://evil.example")
        .header("X-Tollgate-Csrf", &csrf)
        .header("Content-Type", "application/json")
        .body(create.to_string())
        .send();
    assert_eq!(r.status, 403, "{r}");
    assert_eq!(
        apigw(&s, &["get-rest-apis"])["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // A loopback client naming the gateway by another name (DNS rebinding) must log in.
    assert_eq!(session(&s, REMOTE_HOST, None).status, 401);
    let r = console_call(&s, REMOTE_HOST, None, Some(&csrf), &LIST_APIS());
    assert_eq!(r.status, 401, "{r}");

    // Bad calls are AWS-shaped errors.
    let r = console_call(
        &s,
        &host,
        None,
        Some(&csrf),
        &json!({ "service": "s3", "method": "GET", "path": "/" }),
    );
    assert_eq!(r.status, 400, "{r}");
    assert_eq!(r.json()["__type"], "BadRequestException");
    let r = console_call(
        &s,
        &host,
        None,
        Some(&csrf),
        &json!({ "service": "apigateway", "method": "GET", "path": "/restapis",
        "headers": { "authorization": "AWS4-HMAC-SHA256 forged" } }),
    );
    assert_eq!(r.status, 400, "{r}");
}

#[test]
fn beyond_loopback_a_login_makes_a_strict_httponly_session() {
    let s = Server::start();
    // Not logged in: the page loads (it shows the login form), nothing else answers.
    assert_eq!(
        Http::get(s.port, "/_tollgate/")
            .header("Host", REMOTE_HOST)
            .send()
            .status,
        200
    );
    assert_eq!(session(&s, REMOTE_HOST, None).status, 401);

    let wrong = login(&s, "test", "not-the-secret");
    assert_eq!(wrong.status, 401, "{wrong}");
    assert_eq!(wrong.json()["__type"], "UnrecognizedClientException");
    assert!(wrong.header("Set-Cookie").is_none(), "{wrong}");
    assert_eq!(login(&s, "nobody", "test").status, 401);
    // Not JSON (what a cross-site form could send), or from another origin: refused.
    let form = Http::post(s.port, "/_tollgate/login")
        .header("Host", REMOTE_HOST)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("accessKeyId=test&secretAccessKey=test")
        .send();
    assert_eq!(form.status, 415, "{form}");
    let cross = Http::post(s.port, "/_tollgate/login")
        .header("Host", REMOTE_HOST)
        .header("Origin", "https://evil.example")
        .header("Content-Type", "application/json")
        .body(json!({ "accessKeyId": "test", "secretAccessKey": "test" }).to_string())
        .send();
    assert_eq!(cross.status, 403, "{cross}");
    assert!(cross.header("Set-Cookie").is_none());

    let ok = login(&s, "test", "test");
    assert_eq!(ok.status, 200, "{ok}");
    let (cookie, attributes) = session_cookie(&ok);
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/_tollgate"] {
        assert!(
            attributes.split(';').any(|a| a.trim() == flag),
            "{flag} missing: {attributes}"
        );
    }
    assert!(cookie.starts_with("tollgate_console="), "{cookie}");
    assert!(!ok.text().contains("secret"), "{ok}");

    let who = session(&s, REMOTE_HOST, Some(&cookie));
    assert_eq!(who.status, 200, "{who}");
    let who = who.json();
    assert_eq!(who["mode"], "session");
    assert_eq!(who["accessKeyId"], "test");
    let csrf = str_of(&who, "csrf");
    let r = console_call(&s, REMOTE_HOST, Some(&cookie), Some(&csrf), &LIST_APIS());
    assert_eq!(r.status, 200, "{r}");
    // The session's cookie alone (what a cross-site request would carry) is not enough.
    let r = console_call(&s, REMOTE_HOST, Some(&cookie), None, &LIST_APIS());
    assert_eq!(r.status, 403, "{r}");

    let out = Http::post(s.port, "/_tollgate/logout")
        .header("Host", REMOTE_HOST)
        .header("Cookie", &cookie)
        .header("X-Tollgate-Csrf", &csrf)
        .send();
    assert_eq!(out.status, 204, "{out}");
    assert!(out.header("Set-Cookie").unwrap().contains("Max-Age=0"));
    assert_eq!(session(&s, REMOTE_HOST, Some(&cookie)).status, 401);
}

#[test]
fn a_session_acts_with_its_own_credentials_only() {
    let s = Server::start();
    cli_ok(&s, "iam", &["create-user", "--user-name", "viewer"]);
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "apigateway:GET", "Resource": "*"}]});
    cli_ok(
        &s,
        "iam",
        &[
            "put-user-policy",
            "--user-name",
            "viewer",
            "--policy-name",
            "read",
            "--policy-document",
            &policy.to_string(),
        ],
    );
    let key = cli_ok(&s, "iam", &["create-access-key", "--user-name", "viewer"]);
    let (id, secret) = (
        str_of(&key["AccessKey"], "AccessKeyId"),
        str_of(&key["AccessKey"], "SecretAccessKey"),
    );
    let ok = login(&s, &id, &secret);
    assert_eq!(ok.status, 200, "{ok}");
    let (cookie, _) = session_cookie(&ok);
    let csrf = str_of(&session(&s, REMOTE_HOST, Some(&cookie)).json(), "csrf");
    let r = console_call(&s, REMOTE_HOST, Some(&cookie), Some(&csrf), &LIST_APIS());
    assert_eq!(r.status, 200, "{r}");
    let create = json!({ "service": "apigateway", "method": "POST", "path": "/restapis",
        "body": json!({ "name": "not-allowed" }).to_string() });
    let r = console_call(&s, REMOTE_HOST, Some(&cookie), Some(&csrf), &create);
    assert_eq!(r.status, 403, "{r}");
    assert!(
        r.text()
            .contains("is not authorized to perform: apigateway:POST"),
        "{r}"
    );
    assert_eq!(apigw(&s, &["get-rest-apis"])["items"], json!([]));
    // The same cookie on loopback still acts as the user, not as the root.
    let r = console_call(
        &s,
        &format!("127.0.0.1:{}", s.port),
        Some(&cookie),
        Some(&csrf),
        &create,
    );
    assert_eq!(r.status, 403, "{r}");
}

#[test]
fn the_console_is_not_served_on_execute_api_hosts() {
    let s = Server::start();
    let (api, _) = mock_api(
        &s,
        "pets",
        None,
        &["--authorization-type", "NONE"],
        r#"{"root": true}"#,
    );
    deploy(&s, &api, "_tollgate");
    for host in [
        format!("{api}.execute-api.localhost"),
        "nope.execute-api.localhost".to_string(),
    ] {
        let r = Http::get(s.port, "/_tollgate/")
            .header("Host", &host)
            .send();
        assert!(!r.text().contains("app.js"), "{host}: {r}");
        let r = Http::get(s.port, "/_tollgate/session")
            .header("Host", &host)
            .send();
        assert!(!r.text().contains("csrf"), "{host}: {r}");
    }
    // A stage named `_tollgate` still reaches its API.
    let r = Http::get(s.port, "/_tollgate")
        .header("Host", &format!("{api}.execute-api.localhost"))
        .send();
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.text(), r#"{"root": true}"#);
}

#[test]
fn metrics_answer_openmetrics_when_asked() {
    let s = Server::start();
    let (api, _) = mock_api(&s, "pets", None, &["--authorization-type", "NONE"], "{}");
    deploy(&s, &api, "prod");
    assert_eq!(s.invoke(&api, "/prod").status, 200);
    let r = Http::get(s.port, "/metrics")
        .header("Accept", "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
        .send();
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(
        r.header("Content-Type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    let text = r.text();
    let families = parse_openmetrics(&text);
    let requests = families
        .get("apigateway_requests")
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(requests.0, "counter");
    let counted: f64 = requests
        .1
        .iter()
        .filter(|(name, labels, _)| {
            name == "apigateway_requests_total" && labels.contains(&format!("api_id=\"{api}\""))
        })
        .map(|s| s.2)
        .sum();
    assert_eq!(counted, 1.0, "{text}");
    let latency = &families["apigateway_latency_seconds"];
    assert_eq!(latency.0, "histogram");
    assert!(
        latency
            .1
            .iter()
            .any(|(n, l, _)| n == "apigateway_latency_seconds_bucket" && l.contains("le=\"1.0\"")),
        "{text}"
    );
    // Without the header: the 0.0.4 text, as before.
    let plain = Http::get(s.port, "/metrics").send();
    assert_eq!(
        plain.header("Content-Type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert!(plain
        .text()
        .contains("# TYPE apigateway_requests_total counter"));
    assert!(!plain.text().contains("# EOF"));
}

type Family = (String, Vec<(String, String, f64)>);

/// OpenMetrics text checked line by line: `# TYPE`/`# HELP`/`# UNIT` name a family before
/// its samples, a counter's samples are `{family}_total`, a histogram's `_bucket`, `_sum`,
/// `_count`, every sample belongs to the family declared last, and `# EOF` ends it.
fn parse_openmetrics(text: &str) -> std::collections::BTreeMap<String, Family> {
    let mut families = std::collections::BTreeMap::<String, Family>::new();
    let mut current: Option<String> = None;
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    assert_eq!(lines.last(), Some(&"# EOF"), "no # EOF at the end");
    assert!(text.ends_with("# EOF\n"));
    for line in &lines[..lines.len() - 1] {
        if let Some(meta) = line.strip_prefix("# ") {
            let mut parts = meta.splitn(3, ' ');
            let (kind, name, rest) = (
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap_or(""),
            );
            match kind {
                "TYPE" => {
                    assert!(!families.contains_key(name), "family {name} declared twice");
                    assert!(["counter", "gauge", "histogram"].contains(&rest), "{line}");
                    assert!(
                        !(rest == "counter" && name.ends_with("_total")),
                        "a counter family keeps _total: {line}"
                    );
                    families.insert(name.to_string(), (rest.to_string(), Vec::new()));
                    current = Some(name.to_string());
                }
                "HELP" => {}
                "UNIT" => assert!(name.ends_with(&format!("_{rest}")), "{line}"),
                _ => panic!("unknown metadata: {line}"),
            }
            continue;
        }
        let family = current
            .as_deref()
            .unwrap_or_else(|| panic!("sample before any # TYPE: {line}"));
        let (series, value) = line.rsplit_once(' ').unwrap();
        let (name, labels) = series.split_once('{').map_or((series, ""), |(n, l)| (n, l));
        let kind = families[family].0.clone();
        let suffixes: &[&str] = match kind.as_str() {
            "counter" => &["_total"],
            "histogram" => &["_bucket", "_sum", "_count"],
            _ => &[""],
        };
        assert!(
            suffixes.iter().any(|s| name == format!("{family}{s}")),
            "{name} is not of family {family} ({kind})"
        );
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value of {line}"));
        families
            .get_mut(family)
            .unwrap()
            .1
            .push((name.to_string(), labels.to_string(), value));
    }
    families
}
