//! The developer portal (`--portal-listen`), over HTTP with the aws CLI as the API owner:
//! publishing by tags (stages and usage plans, tags on usage-plan ARNs), sign-up and
//! sign-in (stored across a restart), a key created on a published plan that calls the
//! API and is counted on its usage page, then disabled with the CLI; an API's reference
//! (GetExport's parameters and models) and "Try it" through the real gateway with the
//! consumer's own key only; CSRF refusals, sign-in throttling, session expiry, and no
//! control plane on the portal's listener.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;

const EMAIL: &str = "dev@example.com";
const PASSWORD: &str = "correct horse battery";

/// `http://127.0.0.1:PORT` of the portal, from the server's log.
fn portal_port(s: &Server) -> u16 {
    let log = s.stderr();
    let (_, rest) = log
        .split_once("developer portal on http://127.0.0.1:")
        .unwrap_or_else(|| panic!("no portal line in:\n{log}"));
    rest.chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

fn start(dir: Arc<tempfile::TempDir>, extra: &[&str]) -> (Server, u16) {
    let mut flags = vec!["--portal-listen", "127.0.0.1:0"];
    flags.extend_from_slice(extra);
    let s = Server::start_with(dir, &flags);
    let port = portal_port(&s);
    (s, port)
}

/// A browser's view of the portal: its cookies, sent back on each request.
struct Visitor {
    port: u16,
    /// The Host it addresses the portal by (a custom domain's name); else `127.0.0.1:{port}`.
    host: Option<String>,
    cookies: BTreeMap<String, String>,
}

impl Visitor {
    fn new(port: u16) -> Visitor {
        Visitor {
            port,
            host: None,
            cookies: BTreeMap::new(),
        }
    }

    /// A browser that reached `port` by the name `host` (as DNS would send it there).
    fn on_domain(port: u16, host: &str) -> Visitor {
        Visitor {
            host: Some(host.to_string()),
            ..Visitor::new(port)
        }
    }

    /// The origin its pages are from.
    fn origin(&self) -> String {
        match &self.host {
            Some(h) => format!("http://{h}"),
            None => format!("http://127.0.0.1:{}", self.port),
        }
    }

    fn keep_cookies(&mut self, r: &Response) {
        for c in r.headers_named("set-cookie") {
            let pair = c.split(';').next().unwrap_or("");
            let (name, value) = pair.split_once('=').unwrap();
            if c.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
    }

    fn send(&mut self, req: Http) -> Response {
        let cookie: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let req = match &self.host {
            Some(h) => req.header("Host", h),
            None => req,
        };
        let req = if cookie.is_empty() {
            req
        } else {
            req.header("Cookie", &cookie.join("; "))
        };
        let r = req.send();
        self.keep_cookies(&r);
        r
    }

    fn get(&mut self, path: &str) -> Response {
        self.send(Http::get(self.port, path))
    }

    /// Posts `fields` (url-encoded) as a form of the portal's own pages would.
    fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        let req = Http::post(self.port, path)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Origin", &self.origin())
            .body(body.join("&"));
        self.send(req)
    }

    /// Fills and posts the sign-up or sign-in form.
    fn account(&mut self, form: &str, email: &str, password: &str) -> Response {
        let page = self.get(form);
        assert_eq!(page.status, 200, "{page}");
        let csrf = csrf_of(&page);
        self.post(
            form,
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
    }
}

fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `Set-Cookie` of the session a sign-up or sign-in opened.
fn session_cookie(r: &Response) -> String {
    r.headers_named("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("tollgate_portal="))
        .unwrap_or_else(|| panic!("no session cookie in {r}"))
        .to_string()
}

/// The CSRF token of the page's first form.
fn csrf_of(page: &Response) -> String {
    let text = page.text();
    let (_, rest) = text
        .split_once("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("no form in {page}"));
    rest.split('"').next().unwrap().to_string()
}

/// A MOCK API `Pets` (GET / requiring an API key) deployed to `prod`; its id.
fn pets_api(s: &Server) -> String {
    let (api, _) = mock_api(
        s,
        "Pets",
        None,
        &["--authorization-type", "NONE", "--api-key-required"],
        r#"{"pets": []}"#,
    );
    deploy(s, &api, "prod");
    api
}

fn tag(s: &Server, arn: &str, tags: &str) {
    apigw(s, &["tag-resource", "--resource-arn", arn, "--tags", tags]);
}

fn untag(s: &Server, arn: &str, key: &str) {
    apigw(
        s,
        &["untag-resource", "--resource-arn", arn, "--tag-keys", key],
    );
}

/// Lists `api`'s `prod` stage on the portal.
fn publish(s: &Server, api: &str) {
    let arn = format!("arn:aws:apigateway:us-east-1::/restapis/{api}/stages/prod");
    tag(s, &arn, "tollgate:portal=true");
}

/// A usage plan `Gold` on `api`'s `prod` stage, 100 requests a day, with `extra` flags; its id.
fn gold_plan(s: &Server, api: &str, extra: &[&str]) -> String {
    let stage = format!("apiId={api},stage=prod");
    let mut args = vec![
        "create-usage-plan",
        "--name",
        "Gold",
        "--api-stages",
        &stage,
    ];
    args.extend_from_slice(&["--quota", "limit=100,period=DAY"]);
    args.extend_from_slice(extra);
    str_of(&apigw(s, &args), "id")
}

/// Polls `f` until it answers `Some` (the usage counters save every second).
fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < until, "never: {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn publish_sign_up_create_key_call_count_and_revoke() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let (mut s, port) = start(dir.clone(), &[]);
    let api = pets_api(&s);
    let mut v = Visitor::new(port);
    assert!(v.get("/").text().contains("No API is published yet"));

    // Publishing: the stage's tag lists it; the plan's tag offers it, at once.
    publish(&s, &api);
    let first = v.get("/");
    assert_eq!(
        first.header("referrer-policy"),
        Some("same-origin"),
        "{first}"
    );
    let landing = first.text();
    assert!(
        landing.contains(&format!("href=\"/apis/{api}/prod\">Pets</a>")),
        "{landing}"
    );
    let plan_id = gold_plan(&s, &api, &["--throttle", "rateLimit=50,burstLimit=10"]);
    let plan_arn = format!("arn:aws:apigateway:us-east-1::/usageplans/{plan_id}");
    let api_page = format!("/apis/{api}/prod");
    assert!(!v.get(&api_page).text().contains("Gold"));
    tag(&s, &plan_arn, "tollgate:portal-plan=true,team=sales");
    let tags = apigw(&s, &["get-tags", "--resource-arn", &plan_arn]);
    assert_eq!(tags["tags"]["tollgate:portal-plan"], "true", "{tags}");
    assert_eq!(tags["tags"]["team"], "sales", "{tags}");
    assert!(apigw(&s, &["get-usage-plan", "--usage-plan-id", &plan_id])["tags"]["team"] == "sales");
    untag(&s, &plan_arn, "team");
    let tags = apigw(&s, &["get-tags", "--resource-arn", &plan_arn]);
    assert!(tags["tags"].get("team").is_none(), "{tags}");
    for (location, properties) in [
        ("type=API", r#"{"description": "Pets for sale."}"#),
        (
            "type=METHOD,path=/,method=GET",
            r#"{"summary": "Lists the pets."}"#,
        ),
    ] {
        apigw(
            &s,
            &[
                "create-documentation-part",
                "--rest-api-id",
                &api,
                "--location",
                location,
                "--properties",
                properties,
            ],
        );
    }
    let page = v.get(&api_page).text();
    assert!(
        page.contains("Gold") && page.contains("quota 100 requests per day"),
        "{page}"
    );
    assert!(
        page.contains("Pets for sale.") && page.contains("Lists the pets."),
        "{page}"
    );
    assert!(
        page.contains("<td>GET</td><td><code>/</code></td><td>required</td>"),
        "{page}"
    );
    assert!(
        page.contains("Sign up") && !page.contains("Create API key"),
        "{page}"
    );
    let missing = apigw_err(
        &s,
        &[
            "get-tags",
            "--resource-arn",
            "arn:aws:apigateway:us-east-1::/usageplans/nope",
        ],
    );
    assert!(
        missing.stderr.contains("NotFoundException"),
        "{}",
        missing.stderr
    );

    // Sign up: a form without its token changes nothing.
    let refused = v.post("/signup", &[("email", EMAIL), ("password", PASSWORD)]);
    assert_eq!(refused.status, 403, "{refused}");
    assert!(refused.text().contains("AccessDeniedException"));
    let signed_up = v.account("/signup", EMAIL, PASSWORD);
    assert_eq!(signed_up.status, 303, "{signed_up}");
    let cookie = session_cookie(&signed_up);
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let again = Visitor::new(port).account("/signup", EMAIL, PASSWORD);
    assert_eq!(again.status, 409, "{again}");

    // Create API key: refused without the session's token, then shown once.
    let page = v.get(&api_page);
    assert!(page.text().contains("Create API key"), "{page}");
    let csrf = csrf_of(&page);
    let refused = v.post(&format!("{api_page}/keys"), &[("planId", &plan_id)]);
    assert_eq!(refused.status, 403, "{refused}");
    let created = v.post(
        &format!("{api_page}/keys"),
        &[("csrf", &csrf), ("planId", &plan_id)],
    );
    assert_eq!(created.status, 200, "{created}");
    let text = created.text();
    let (_, rest) = text.split_once("id=\"new-key\">").expect("key shown");
    let value = rest.split('<').next().unwrap().to_string();
    assert!(
        !v.get(&api_page).text().contains(&value),
        "a key is shown once"
    );

    // The owner sees it as an API key of the consumer, in the plan.
    let keys = apigw(
        &s,
        &["get-api-keys", "--customer-id", EMAIL, "--include-values"],
    );
    let items = keys["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{keys}");
    assert_eq!(items[0]["value"], value.as_str());
    let key_id = str_of(&items[0], "id");
    let in_plan = apigw(&s, &["get-usage-plan-keys", "--usage-plan-id", &plan_id]);
    assert_eq!(in_plan["items"][0]["id"], key_id.as_str(), "{in_plan}");

    // The key calls the API, and the call is counted on its usage page.
    assert_eq!(s.invoke(&api, "/prod/").status, 403);
    let call = Http::get(s.port, &Server::exec_path(&api, "/prod/"))
        .header("x-api-key", &value)
        .send();
    assert_eq!(call.status, 200, "{call}");
    let usage_path = format!("/keys/{key_id}/usage");
    assert!(v
        .get(&api_page)
        .text()
        .contains(&format!("href=\"{usage_path}\">Usage</a>")));
    let usage = eventually("the call counted on the usage page", || {
        let page = v.get(&usage_path).text();
        page.contains("<td class=\"used\">1</td><td class=\"remaining\">99</td>")
            .then_some(page)
    });
    assert!(
        usage.contains("<svg") && usage.contains("throttle 50 requests/s, burst 10"),
        "{usage}"
    );
    // Another consumer cannot read it.
    let mut other = Visitor::new(port);
    assert_eq!(
        other
            .account("/signup", "other@example.com", PASSWORD)
            .status,
        303
    );
    assert_eq!(other.get(&usage_path).status, 404);

    // The owner disables the key: refused at once.
    set_key_enabled(&s, &key_id, false);
    let call = Http::get(s.port, &Server::exec_path(&api, "/prod/"))
        .header("x-api-key", &value)
        .send();
    assert_eq!(call.status, 403, "{call}");

    // Accounts are stored: after a restart the password still signs in.
    s.sigterm();
    let (_s, port) = start(dir, &[]);
    let mut v = Visitor::new(port);
    assert_eq!(v.account("/signin", EMAIL, "wrong password").status, 401);
    assert_eq!(v.account("/signin", EMAIL, PASSWORD).status, 303);
    assert!(v.get("/").text().contains(EMAIL));
}

#[test]
fn sign_in_is_throttled_per_email() {
    let (_s, port) = start(Arc::new(tempfile::tempdir().unwrap()), &[]);
    let mut v = Visitor::new(port);
    assert_eq!(v.account("/signup", EMAIL, PASSWORD).status, 303);
    let mut other = Visitor::new(port);
    for _ in 0..5 {
        assert_eq!(
            other.account("/signin", EMAIL, "not the password").status,
            401
        );
    }
    let limited = other.account("/signin", EMAIL, PASSWORD);
    assert_eq!(limited.status, 429, "{limited}");
    assert!(limited.text().contains("Too many attempts"));
    // Another email is not affected.
    assert_eq!(
        other
            .account("/signup", "second@example.com", PASSWORD)
            .status,
        303
    );
}

#[test]
fn a_session_ends_after_its_lifetime() {
    let (_s, port) = start(
        Arc::new(tempfile::tempdir().unwrap()),
        &["--portal-session-ttl", "3"],
    );
    let mut v = Visitor::new(port);
    assert_eq!(v.account("/signup", EMAIL, PASSWORD).status, 303);
    let page = v.get("/");
    assert!(page.text().contains(EMAIL));
    let csrf = csrf_of(&page);
    std::thread::sleep(Duration::from_millis(3500));
    let page = v.get("/").text();
    assert!(!page.contains(EMAIL) && page.contains("Sign in"), "{page}");
    let out = v.post("/signout", &[("csrf", &csrf)]);
    assert_eq!(out.status, 403, "{out}");
}

#[test]
fn the_portal_listener_answers_no_control_plane_call() {
    let (s, port) = start(Arc::new(tempfile::tempdir().unwrap()), &[]);
    let portal = format!("http://127.0.0.1:{port}");
    let e = aws(
        &s,
        &["--endpoint-url", &portal, "apigateway", "get-rest-apis"],
    )
    .unwrap_err();
    assert!(e.stderr.contains("NotFoundException"), "{}", e.stderr);
    let e = aws(&s, &["--endpoint-url", &portal, "lambda", "list-functions"]).unwrap_err();
    assert!(
        e.stderr.contains("NotFoundException") || e.stderr.contains("404"),
        "{}",
        e.stderr
    );
    for path in [
        "/restapis",
        "/_tollgate/",
        "/metrics",
        "/2015-03-31/functions",
    ] {
        let r = Http::get(port, path).send();
        assert_eq!(r.status, 404, "{path}: {r}");
    }
    // The main listener still serves the control plane, and no portal is there.
    assert!(aws(&s, &["apigateway", "get-rest-apis"]).is_ok());
    let main = Http::get(s.port, "/signup").send();
    assert!(
        main.status != 200 && !main.text().contains("Sign up"),
        "{main}"
    );
    // Off unless asked for.
    let plain = Server::start();
    assert!(!plain.stderr().contains("developer portal"));
}

#[test]
fn a_consumer_signs_up_gets_a_key_and_sees_its_usage_in_a_real_browser() {
    let (s, port) = start(Arc::new(tempfile::tempdir().unwrap()), &[]);
    let api = pets_api(&s);
    publish(&s, &api);
    let plan_id = gold_plan(&s, &api, &[]);
    let plan_arn = format!("arn:aws:apigateway:us-east-1::/usageplans/{plan_id}");
    tag(&s, &plan_arn, "tollgate:portal-plan=true");

    let shots = tempfile::tempdir().unwrap();
    let shot = shots.path().join("portal.png");
    let try_shot = shots.path().join("portal-try.png");
    let seen = common::browser::browse(
        "portal_browser.py",
        &s,
        "consumer",
        serde_json::json!({
            "portal": format!("http://127.0.0.1:{port}"),
            "api_name": "Pets", "plan_name": "Gold",
            "email": EMAIL, "password": PASSWORD,
            "invoke_url": format!("{}{}", s.endpoint(), Server::exec_path(&api, "/prod/")),
            "shot": shot.display().to_string(),
            "try_shot": try_shot.display().to_string(),
        }),
    );
    assert_eq!(seen["try_status"], "200", "{seen:#}");
    assert_eq!(seen["try_body"], r#"{"pets": []}"#, "{seen:#}");
    assert_eq!(seen["call_status"], 200, "{seen:#}");
    let usage = seen["usage"].as_str().unwrap_or_default();
    assert!(usage.contains("quota 100 requests per day"), "{seen:#}");
    assert!(seen["bars"].as_u64().unwrap_or(0) >= 1, "{seen:#}");

    // The owner disables the consumer's key with the CLI: refused at once.
    let key = seen["key"].as_str().unwrap();
    let keys = apigw(&s, &["get-api-keys", "--customer-id", EMAIL]);
    set_key_enabled(&s, &str_of(&keys["items"][0], "id"), false);
    let call = Http::get(s.port, &Server::exec_path(&api, "/prod/"))
        .header("x-api-key", key)
        .send();
    assert_eq!(call.status, 403, "{call}");
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
    for (from, to) in [(&shot, "portal.png"), (&try_shot, "portal-try.png")] {
        std::fs::copy(from, docs.join(to)).expect("keep the screenshots for the README");
    }
}

/// `apigateway {op} --rest-api-id {api} --resource-id {res} --http-method {verb} {rest...}`.
fn on_method(s: &Server, op: &str, (api, res, verb): (&str, &str, &str), rest: &[&str]) {
    let mut args = vec![
        op,
        "--rest-api-id",
        api,
        "--resource-id",
        res,
        "--http-method",
        verb,
    ];
    args.extend_from_slice(rest);
    apigw(s, &args);
}

/// An API `Shop` published on `prod` with a tagged plan `Gold`, documented by a model
/// `Pet`: `GET /pets/{petId}` (path, query and header parameters; answers them back) and
/// `POST /pets` (a body validated against `Pet`), both MOCK and requiring an API key.
/// The API's id and the plan's.
fn shop_api(s: &Server) -> (String, String) {
    let api = str_of(&apigw(s, &["create-rest-api", "--name", "Shop"]), "id");
    let root = str_of(
        &apigw(s, &["get-resources", "--rest-api-id", &api])["items"][0],
        "id",
    );
    let pets = create_resource(s, &api, &root, "pets");
    let pet = create_resource(s, &api, &pets, "{petId}");
    let schema = r#"{"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "description": "The pet's <name>"}}}"#;
    apigw(
        s,
        &[
            "create-model",
            "--rest-api-id",
            &api,
            "--name",
            "Pet",
            "--content-type",
            "application/json",
            "--schema",
            schema,
        ],
    );
    let get = [
        "--request-parameters",
        "method.request.path.petId=true,method.request.querystring.verbose=false,method.request.header.x-trace=false",
    ];
    let validator = apigw(
        s,
        &[
            "create-request-validator",
            "--rest-api-id",
            &api,
            "--name",
            "body",
            "--validate-request-body",
        ],
    );
    let validator = str_of(&validator, "id");
    let post = [
        "--request-models",
        "application/json=Pet",
        "--request-validator-id",
        &validator,
    ];
    let operations = [
        (
            &pet,
            "GET",
            &get[..],
            r#"{"id": "$input.params('petId')", "verbose": "$input.params('verbose')", "trace": "$input.params('x-trace')"}"#,
        ),
        (&pets, "POST", &post[..], r#"{"created": true}"#),
    ];
    for (res, verb, extra, answer) in operations {
        let mut method = vec!["--authorization-type", "NONE", "--api-key-required"];
        method.extend_from_slice(extra);
        on_method(s, "put-method", (&api, res, verb), &method);
        let request = r#"{"application/json": "{\"statusCode\": 200}"}"#;
        on_method(
            s,
            "put-integration",
            (&api, res, verb),
            &["--type", "MOCK", "--request-templates", request],
        );
        on_method(
            s,
            "put-method-response",
            (&api, res, verb),
            &[
                "--status-code",
                "200",
                "--response-models",
                "application/json=Pet",
            ],
        );
        let templates = serde_json::json!({ "application/json": answer }).to_string();
        on_method(
            s,
            "put-integration-response",
            (&api, res, verb),
            &["--status-code", "200", "--response-templates", &templates],
        );
    }
    deploy(s, &api, "prod");
    publish(s, &api);
    let plan = gold_plan(s, &api, &[]);
    tag(
        s,
        &format!("arn:aws:apigateway:us-east-1::/usageplans/{plan}"),
        "tollgate:portal-plan=true",
    );
    (api, plan)
}

/// Signs `email` up and creates a key on `plan`: the key's id.
fn consumer_with_key(v: &mut Visitor, email: &str, api_page: &str, plan: &str) -> String {
    assert_eq!(v.account("/signup", email, PASSWORD).status, 303);
    let csrf = csrf_of(&v.get(api_page));
    let created = v.post(
        &format!("{api_page}/keys"),
        &[("csrf", &csrf), ("planId", plan)],
    );
    assert_eq!(created.status, 200, "{created}");
    let text = created.text();
    let (_, rest) = text.split_once("(id <code>").expect("key id shown");
    rest.split('<').next().unwrap().to_string()
}

#[test]
fn the_api_page_shows_the_export_and_try_it_calls_the_api_with_the_consumers_own_key() {
    let (s, port) = start(Arc::new(tempfile::tempdir().unwrap()), &[]);
    let (api, plan) = shop_api(&s);
    let api_page = format!("/apis/{api}/prod");
    let try_path = format!("{api_page}/try");

    // The reference, from GetExport: every operation's parameters and models, escaped.
    let mut v = Visitor::new(port);
    let page = v.get(&api_page).text();
    for expected in [
        "<span class=\"method\">GET</span> <code>/pets/{petId}</code>",
        "<td><code>petId</code></td><td>path</td><td>required</td>",
        "<td><code>verbose</code></td><td>query</td><td>optional</td>",
        "<td><code>x-trace</code></td><td>header</td><td>optional</td>",
        "<span class=\"method\">POST</span> <code>/pets</code>",
        "<h4>Request body</h4><p>Media type <code>application/json</code></p><p>Model <strong class=\"model\">Pet</strong></p>",
        "&quot;description&quot;: &quot;The pet&#39;s &lt;name&gt;&quot;",
        "To try this operation, <a href=\"/signin\">sign in</a>",
    ] {
        assert!(page.contains(expected), "{expected} not in {page}");
    }
    assert!(!page.contains(">Try it</button>"), "{page}");

    // Signed in with a key: "Try it" sends a real request through the gateway.
    let key_id = consumer_with_key(&mut v, EMAIL, &api_page, &plan);
    let page = v.get(&api_page);
    assert!(page.text().contains(">Try it</button>"), "{page}");
    let csrf = csrf_of(&page);
    let get_pet = |csrf: &str, key: &str, pet: &str| {
        vec![
            ("csrf".to_string(), csrf.to_string()),
            ("method".to_string(), "GET".to_string()),
            ("path".to_string(), "/pets/{petId}".to_string()),
            ("keyId".to_string(), key.to_string()),
            ("path.petId".to_string(), pet.to_string()),
            ("querystring.verbose".to_string(), "yes please".to_string()),
            ("header.x-trace".to_string(), "t-1".to_string()),
        ]
    };
    let post = |v: &mut Visitor, f: Vec<(String, String)>| {
        let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        v.post(&try_path, &pairs)
    };
    let answer = post(&mut v, get_pet(&csrf, &key_id, "42"));
    assert_eq!(answer.status, 200, "{answer}");
    let text = answer.text();
    assert!(text.contains("id=\"try-status\">200<"), "{text}");
    assert!(
        text.contains("{&quot;id&quot;: &quot;42&quot;, &quot;verbose&quot;: &quot;yes please&quot;, &quot;trace&quot;: &quot;t-1&quot;}"),
        "{text}"
    );
    assert!(
        text.contains("/prod/pets/42?verbose=yes%20please</code>"),
        "{text}"
    );
    assert!(
        text.contains("<td>content-type</td><td>application/json</td>"),
        "{text}"
    );
    let body = vec![
        ("csrf", csrf.as_str()),
        ("method", "POST"),
        ("path", "/pets"),
        ("keyId", &key_id),
        ("contentType", "application/json"),
        ("body", r#"{"name": "Rex"}"#),
    ];
    let created = v.post(&try_path, &body);
    assert_eq!(created.status, 200, "{created}");
    assert!(
        created.text().contains("{&quot;created&quot;: true}"),
        "{created}"
    );
    // The body is the one sent: the stage validates it against the model.
    let invalid: Vec<(&str, &str)> = body[..5].iter().copied().chain([("body", "{}")]).collect();
    let invalid = v.post(&try_path, &invalid);
    assert!(
        invalid.text().contains("id=\"try-status\">400<"),
        "{invalid}"
    );
    assert!(invalid.text().contains("Invalid request body"), "{invalid}");
    // The calls went through the data plane: counted against the key.
    eventually("the calls counted", || {
        let page = v.get(&format!("/keys/{key_id}/usage")).text();
        page.contains("<td class=\"used\">3</td>").then_some(())
    });

    // Refusals send nothing: no token, another consumer's key, bad input.
    let no_token: Vec<(String, String)> =
        get_pet(&csrf, &key_id, "42").into_iter().skip(1).collect();
    let refused = post(&mut v, no_token);
    assert_eq!(refused.status, 403, "{refused}");
    assert!(
        refused.text().contains("AccessDeniedException"),
        "{refused}"
    );
    let mut other = Visitor::new(port);
    let other_key = consumer_with_key(&mut other, "other@example.com", &api_page, &plan);
    let theirs = post(&mut v, get_pet(&csrf, &other_key, "42"));
    assert_eq!(theirs.status, 403, "{theirs}");
    assert!(
        theirs.text().contains("That API key is not one of yours"),
        "{theirs}"
    );
    assert!(!theirs.text().contains("try-status"), "{theirs}");
    let missing = post(&mut v, get_pet(&csrf, &key_id, ""));
    assert_eq!(missing.status, 400, "{missing}");
    assert!(missing.text().contains("Enter the path parameter petId."));
    let mut unknown = get_pet(&csrf, &key_id, "42");
    unknown[1].1 = "DELETE".to_string();
    let unknown = post(&mut v, unknown);
    assert_eq!(unknown.status, 404, "{unknown}");
    assert!(unknown
        .text()
        .contains("This API has no operation DELETE /pets/{petId}."));
    let mut reserved = get_pet(&csrf, &key_id, "42");
    reserved.push(("header.x-api-key".to_string(), "stolen".to_string()));
    assert_eq!(post(&mut v, reserved).status, 400);
    // Counters are saved every second: a refused call that went out would show by now.
    std::thread::sleep(Duration::from_millis(2500));
    let mine = v.get(&format!("/keys/{key_id}/usage")).text();
    assert!(mine.contains("<td class=\"used\">3</td>"), "{mine}");
    let theirs = other.get(&format!("/keys/{other_key}/usage")).text();
    assert!(!theirs.contains("<td class=\"used\">1</td>"), "{theirs}");
}

/// `arn:aws:apigateway:us-east-1::/domainnames/{name}`.
fn domain_arn(name: &str) -> String {
    format!("arn:aws:apigateway:us-east-1::/domainnames/{name}")
}

#[test]
fn a_custom_domain_tagged_for_the_portal_serves_it_on_the_apis_listener() {
    // No --portal-listen: the domain alone makes the portal reachable.
    let s = Server::start_with(Arc::new(tempfile::tempdir().unwrap()), &[]);
    assert!(!s.stderr().contains("developer portal on"));
    let (api, plan) = shop_api(&s);
    let certs = tempfile::tempdir().unwrap();
    let (_, cert_arn) = certs::imported(&s, certs.path(), "dev", "developer.example.com");
    let name = "developer.example.com";
    certs::regional_domain(&s, name, &cert_arn, &["--tags", "tollgate:portal=true"]);
    // A mapping on it is kept, but not routed while the domain serves the portal.
    certs::base_path_mapping(&s, name, "", &api, "prod");
    let host = format!("{name}:{}", s.port);
    let mut v = Visitor::on_domain(s.port, &host);
    let landing = v.get("/");
    assert_eq!(landing.status, 200, "{landing}");
    assert!(
        landing
            .text()
            .contains(&format!("href=\"/apis/{api}/prod\">Shop</a>")),
        "{landing}"
    );
    assert_eq!(landing.header("referrer-policy"), Some("same-origin"));
    // The same listener still serves the control plane and the API on other names.
    assert!(Http::get(s.port, "/signup").send().status != 200);
    assert!(aws(&s, &["apigateway", "get-rest-apis"]).is_ok());

    // Nothing but the portal answers on the domain: no control plane, console, metrics,
    // API mapping, default-endpoint path or edge health check.
    let pet_path = Server::exec_path(&api, "/prod/pets/7");
    for path in [
        "/restapis",
        "/_tollgate/",
        "/metrics",
        "/2015-03-31/functions",
        "/v2/apis",
        "/pets/7",
        pet_path.as_str(),
        "/ping",
    ] {
        let r = Http::get(s.port, path).header("Host", &host).send();
        assert_eq!(r.status, 404, "{path}: {r}");
        assert!(
            r.header("referrer-policy") == Some("same-origin")
                && r.text().contains("No such page."),
            "{path}: not the portal's answer: {r}"
        );
    }
    let sts = Http::post(s.port, "/")
        .header("Host", &host)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("Action=GetCallerIdentity&Version=2011-06-15");
    let sts = sts.send();
    assert!(!sts.text().contains("GetCallerIdentityResult"), "{sts}");

    // Sign up on the domain: CSRF and the domain's own origin are checked, the cookies are
    // host-only (no Domain), HttpOnly, SameSite=Strict, and not Secure over plain HTTP.
    let refused = v.post("/signup", &[("email", EMAIL), ("password", PASSWORD)]);
    assert_eq!(refused.status, 403, "{refused}");
    let form = v.get("/signup");
    let csrf = csrf_of(&form);
    let cross = Http::post(s.port, "/signup")
        .header("Host", &host)
        .header("Origin", &format!("http://127.0.0.1:{}", s.port))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Cookie", &format!("tollgate_portal_form={csrf}"))
        .body(format!(
            "csrf={csrf}&email={}&password={}",
            encode(EMAIL),
            encode(PASSWORD)
        ))
        .send();
    assert_eq!(cross.status, 403, "another origin's post: {cross}");
    let signed_up = v.account("/signup", EMAIL, PASSWORD);
    assert_eq!(signed_up.status, 303, "{signed_up}");
    let cookie = session_cookie(&signed_up);
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/;")
            && !cookie.contains("Domain")
            && !cookie.contains("Secure"),
        "{cookie}"
    );
    assert!(v.get("/").text().contains(EMAIL));
    let out = v.post("/signout", &[("csrf", "wrong")]);
    assert_eq!(out.status, 403, "{out}");

    // A key on the published plan, and "Try it" through the gateway with it.
    let api_page = format!("/apis/{api}/prod");
    let mut c = Visitor::on_domain(s.port, &host);
    let key_id = consumer_with_key(&mut c, "other@example.com", &api_page, &plan);
    let csrf = csrf_of(&c.get(&api_page));
    let tried = c.post(
        &format!("{api_page}/try"),
        &[
            ("csrf", &csrf),
            ("method", "GET"),
            ("path", "/pets/{petId}"),
            ("keyId", &key_id),
            ("path.petId", "42"),
        ],
    );
    assert_eq!(tried.status, 200, "{tried}");
    assert!(tried.text().contains("id=\"try-status\">200<"), "{tried}");
    assert!(
        tried.text().contains("&quot;id&quot;: &quot;42&quot;"),
        "{tried}"
    );
    assert_eq!(c.get(&format!("/keys/{key_id}/usage")).status, 200);
    let keys = apigw(
        &s,
        &[
            "get-api-keys",
            "--customer-id",
            "other@example.com",
            "--include-values",
        ],
    );
    let value = str_of(&keys["items"][0], "value");

    // Untagged (without restart): the domain routes its mappings again; tagged: the portal.
    let arn = domain_arn(name);
    let tags = apigw(&s, &["get-tags", "--resource-arn", &arn]);
    assert_eq!(tags["tags"]["tollgate:portal"], "true", "{tags}");
    untag(&s, &arn, "tollgate:portal");
    let call = Http::get(s.port, "/pets/7")
        .header("Host", &host)
        .header("x-api-key", &value)
        .send();
    assert_eq!(call.status, 200, "{call}");
    assert!(call.text().contains("\"id\": \"7\""), "{call}");
    let gone = Http::get(s.port, "/signup").header("Host", &host).send();
    assert!(!gone.text().contains("Sign up"), "{gone}");
    assert_eq!(gone.header("referrer-policy"), None, "{gone}");
    assert_eq!(
        Http::get(s.port, "/ping")
            .header("Host", &host)
            .send()
            .status,
        200
    );
    // v2's TagResource names the same domain.
    v2(
        &s,
        &[
            "tag-resource",
            "--resource-arn",
            &arn,
            "--tags",
            "tollgate:portal=true",
        ],
    );
    let back = v.get("/");
    assert!(back.status == 200 && back.text().contains(EMAIL), "{back}");
    let call = Http::get(s.port, "/pets/7")
        .header("Host", &host)
        .header("x-api-key", &value)
        .send();
    assert_eq!(call.status, 404, "{call}");
    let d = v2(&s, &["get-domain-name", "--domain-name", name]);
    assert_eq!(d["Tags"]["tollgate:portal"], "true", "{d}");
}
