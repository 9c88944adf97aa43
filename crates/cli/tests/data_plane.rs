//! The data plane (request-pipeline.md §1-§3, §5, §7, §9) over real sockets: streaming,
//! size limits, timeouts, unreachable backends, header handling, addressing errors,
//! integration response selection and greedy routing. APIs are set up with signed
//! control-plane calls; control-plane writes return once the data plane serves them.

mod common;

use common::*;
use serde_json::json;

const MAX_BODY: usize = 10 * 1024 * 1024;

/// Deterministic bytes that are not valid UTF-8 and not repetitive (xorshift).
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn assert_error_body(r: &Response, status: u16, message: &str) {
    assert_eq!(r.status, status, "{r}");
    assert_json_eq(
        &r.json(),
        &json!({ "message": message }),
        "gateway error body",
    );
    assert!(
        r.header("x-amzn-ErrorType").is_some(),
        "gateway errors carry x-amzn-ErrorType:\n{r}"
    );
    assert_gateway_headers(r);
}

#[test]
fn http_proxy_streams_5mb_both_ways_byte_exact() {
    let backend = Backend::start();
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("stream");
    let upload = cp.resource(&api, &root, "upload");
    // `raw=1`: the backend answers with the body it received.
    cp.http_proxy(
        &api,
        &upload,
        "POST",
        &format!("{}/upload?raw=1", backend.url()),
        &[],
        None,
    );
    cp.deploy(&api, "dev");

    let body = noise(5 * 1024 * 1024);
    for chunked in [false, true] {
        let mut req = Http::post(s.port, &Server::exec_path(&api, "/dev/upload"))
            .header("Content-Type", "application/octet-stream")
            .body(body.clone());
        if chunked {
            req = req.chunked();
        }
        let r = req.send();
        assert_eq!(
            r.status,
            200,
            "chunked={chunked}: HTTP {}: {}",
            r.status,
            String::from_utf8_lossy(&r.body[..r.body.len().min(500)])
        );
        let seen = backend.last();
        let got = seen.body.as_ref().expect("the backend got the whole body");
        assert_eq!(
            got.len(),
            body.len(),
            "chunked={chunked}: bytes that reached the backend"
        );
        assert!(
            *got == body,
            "chunked={chunked}: the backend got different bytes"
        );
        assert_eq!(
            r.body.len(),
            body.len(),
            "chunked={chunked}: bytes that came back"
        );
        assert!(
            r.body == body,
            "chunked={chunked}: the client got different bytes back"
        );
        assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    }
}

#[test]
fn bodies_over_10mb_are_refused_with_413() {
    let backend = Backend::start();
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("big");
    let upload = cp.resource(&api, &root, "upload");
    cp.http_proxy(
        &api,
        &upload,
        "POST",
        &format!("{}/upload?raw=1", backend.url()),
        &[],
        None,
    );
    let mock = cp.resource(&api, &root, "mock");
    cp.mock(&api, &mock, "POST", "{\"ok\": true}");
    cp.deploy(&api, "dev");

    let too_big = noise(MAX_BODY + 1);
    let message = "HTTP content length exceeded 10485760 bytes.";
    // Declared length over the limit; then the same size streamed in chunks (no length
    // known up front), to the proxy and to the mock.
    for (path, chunked) in [
        ("/dev/upload", false),
        ("/dev/upload", true),
        ("/dev/mock", true),
    ] {
        let mut req = Http::post(s.port, &Server::exec_path(&api, path)).body(too_big.clone());
        if chunked {
            req = req.chunked();
        }
        let r = req.send();
        assert_eq!(r.status, 413, "POST {path} chunked={chunked}: {r}");
        assert_error_body(&r, 413, message);
    }
    assert!(
        backend
            .seen()
            .iter()
            .all(|x| x.body.as_ref().is_none_or(|b| b.len() <= MAX_BODY)),
        "no more than 10 MB ever reached the backend"
    );

    // Exactly 10 MB is allowed.
    let r = Http::post(s.port, &Server::exec_path(&api, "/dev/mock"))
        .body(noise(MAX_BODY))
        .send();
    assert_eq!(
        r.status, 200,
        "exactly 10485760 bytes is within the limit:\n{r}"
    );
    // The server is still healthy.
    let r = Http::post(s.port, &Server::exec_path(&api, "/dev/upload"))
        .body("small")
        .send();
    assert_eq!((r.status, r.text()), (200, "small".to_string()));
}

#[test]
fn backend_slower_than_the_timeout_is_504() {
    let backend = Backend::start();
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("slow");
    // HTTP_PROXY, 100 ms timeout, backend sleeps 2 s.
    let proxy = cp.resource(&api, &root, "proxy");
    cp.http_proxy(
        &api,
        &proxy,
        "GET",
        &format!("{}/slow?delay_ms=2000", backend.url()),
        &[],
        Some(100),
    );
    // HTTP (non-proxy), same.
    let plain = cp.resource(&api, &root, "plain");
    cp.put_method(&api, &plain, "GET", json!({ "authorizationType": "NONE" }));
    cp.put_integration(
        &api,
        &plain,
        "GET",
        json!({ "type": "HTTP", "httpMethod": "GET", "uri": format!("{}/slow?delay_ms=2000", backend.url()), "timeoutInMillis": 100 }),
    );
    cp.put_method_response(&api, &plain, "GET", "200");
    cp.put_integration_response(
        &api,
        &plain,
        "GET",
        "200",
        json!({ "selectionPattern": "" }),
    );
    cp.deploy(&api, "dev");

    for path in ["/dev/proxy", "/dev/plain"] {
        let r = s.invoke(&api, path);
        assert_error_body(&r, 504, "Endpoint request timed out");
    }
}

#[test]
fn unreachable_backend_answers_5xx_json() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("down");
    let res = cp.resource(&api, &root, "down");
    cp.http_proxy(
        &api,
        &res,
        "GET",
        &format!("http://127.0.0.1:{}/nothing", closed_port()),
        &[],
        None,
    );
    cp.deploy(&api, "dev");

    let r = Http::get(s.port, &Server::exec_path(&api, "/dev/down"))
        .try_send()
        .expect("an answer, not a hang or a reset");
    assert!(
        (500..600).contains(&r.status),
        "a 5xx for a backend that refuses connections:\n{r}"
    );
    assert!(r.json()["message"].is_string(), "JSON error body:\n{r}");
    assert!(r.header("x-amzn-ErrorType").is_some(), "{r}");
    assert_gateway_headers(&r);
}

#[test]
fn hop_by_hop_headers_are_dropped_and_backend_headers_remapped() {
    let backend = Backend::start();
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("headers");
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

    // Headers of §5.1 ("dropped on entry") next to ordinary ones. (The client also sends
    // `Connection: close`.)
    let dropped = [
        ("Max-Forwards", "10"),
        ("TE", "trailers"),
        ("Trailer", "x-trailer"),
        ("Content-MD5", "Q2hlY2sgSW50ZWdyaXR5IQ=="),
        ("Proxy-Authenticate", "Basic realm=x"),
        ("WWW-Authenticate", "Basic realm=y"),
        ("Server", "client-side-server"),
        // Dropped toward HTTP integrations (§5.2; recorded for HTTP_PROXY).
        ("Via", "1.1 client-proxy"),
        ("Content-Encoding", "deflate"),
    ];
    let mut req = Http::get(s.port, &Server::exec_path(&api, "/dev/echo"))
        .header("X-Custom", "kept")
        .header("User-Agent", "tollgate-test/1.0");
    for (k, v) in dropped {
        req = req.header(k, v);
    }
    let r = req.send();
    assert_eq!(r.status, 200, "{r}");

    let seen = backend.last();
    for (k, _) in dropped {
        assert!(
            seen.header(k).is_none(),
            "{k} must not reach the backend: {:?}",
            seen.headers
        );
    }
    assert_ne!(
        seen.header("connection"),
        Some("close"),
        "the client's Connection header is hop-by-hop"
    );
    assert_eq!(
        seen.header("x-custom"),
        Some("kept"),
        "ordinary headers are forwarded"
    );
    assert_eq!(
        seen.header("user-agent"),
        Some("tollgate-test/1.0"),
        "HTTP_PROXY keeps the client's User-Agent"
    );
    assert_eq!(
        seen.header("host"),
        Some(format!("127.0.0.1:{}", backend.port).as_str()),
        "Host is the backend's"
    );
    assert_eq!(seen.header("x-amzn-apigateway-api-id"), Some(api.as_str()));
    assert!(
        seen.header("x-forwarded-for")
            .is_some_and(|v| v.contains("127.0.0.1")),
        "{:?}",
        seen.headers
    );
    assert_eq!(seen.header("x-forwarded-proto"), Some("http"));

    // Backend response headers: Server, Date, Content-Length and x-amzn-RequestId come out
    // as x-amzn-Remapped-*, Via is dropped, others pass.
    assert_eq!(r.header("x-backend"), Some("yes"), "{r}");
    assert_eq!(
        r.header("x-amzn-Remapped-Server"),
        Some("echo-backend"),
        "{r}"
    );
    assert!(r.header("x-amzn-Remapped-Date").is_some(), "{r}");
    assert_eq!(
        r.header("x-amzn-Remapped-x-amzn-RequestId"),
        Some("backend-request-id"),
        "{r}"
    );
    assert_eq!(
        r.header("x-amzn-Remapped-Content-Length"),
        Some(r.body.len().to_string().as_str()),
        "{r}"
    );
    assert!(
        r.header("via").is_none(),
        "Via from the backend is dropped:\n{r}"
    );
    assert_ne!(r.header("server"), Some("echo-backend"), "{r}");
    assert_ne!(
        r.header("x-amzn-RequestId"),
        Some("backend-request-id"),
        "the gateway's own request id:\n{r}"
    );
    assert_gateway_headers(&r);
}

#[test]
fn unknown_stage_or_api_is_403_forbidden() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("addr");
    let pets = cp.resource(&api, &root, "pets");
    cp.mock(&api, &pets, "GET", "[]");
    cp.deploy(&api, "dev");
    assert_eq!(s.invoke(&api, "/dev/pets").status, 200);

    let host = format!("{api}.execute-api.localhost:{}", s.port);
    let cases = [
        Http::get(s.port, &Server::exec_path(&api, "/nostage/pets")),
        Http::get(s.port, &Server::exec_path(&api, "/DEV/pets")), // stage names are case-sensitive
        Http::get(s.port, &Server::exec_path("nosuchapi0", "/dev/pets")),
        Http::get(s.port, "/nostage/pets").header("Host", &host),
        Http::get(s.port, "/dev/pets").header(
            "Host",
            &format!("nosuchapi0.execute-api.localhost:{}", s.port),
        ),
    ];
    for req in cases {
        let r = req.send();
        assert_eq!(r.status, 403, "{r}");
        assert_json_eq(
            &r.json(),
            &json!({ "message": "Forbidden" }),
            "unknown stage/API body",
        );
        assert_gateway_headers(&r);
    }
    // The stage exists but its root has no method: that is routing, not addressing.
    let r = s.invoke(&api, "/dev");
    assert_error_body(&r, 403, "Missing Authentication Token");
}

#[test]
fn http_integration_does_not_propagate_backend_status() {
    let backend = Backend::start();
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("status");
    // HTTP (non-proxy) with only a default integration response.
    let plain = cp.resource(&api, &root, "plain");
    cp.put_method(&api, &plain, "GET", json!({ "authorizationType": "NONE" }));
    cp.put_integration(
        &api,
        &plain,
        "GET",
        json!({ "type": "HTTP", "httpMethod": "GET", "uri": format!("{}/upstream?status=400", backend.url()) }),
    );
    cp.put_method_response(&api, &plain, "GET", "200");
    cp.put_integration_response(
        &api,
        &plain,
        "GET",
        "200",
        json!({ "selectionPattern": "" }),
    );
    // HTTP_PROXY to the same backend.
    let proxy = cp.resource(&api, &root, "proxy");
    cp.http_proxy(
        &api,
        &proxy,
        "GET",
        &format!("{}/upstream?status=400", backend.url()),
        &[],
        None,
    );
    cp.deploy(&api, "dev");

    let r = Http::get(s.port, &Server::exec_path(&api, "/dev/plain?client=1"))
        .header("x-client", "yes")
        .header("User-Agent", "tollgate-test/1.0")
        .send();
    assert_eq!(
        r.status, 200,
        "HTTP: a backend 400 with only a default integration response is a 200:\n{r}"
    );
    assert_eq!(
        r.json()["path"],
        "/upstream",
        "no template: the backend body passes through:\n{r}"
    );
    let seen = backend.last();
    assert_eq!(
        seen.query, "status=400",
        "non-proxy integrations do not forward the client's query string"
    );
    assert!(
        seen.header("x-client").is_none(),
        "non-proxy integrations do not forward client headers: {:?}",
        seen.headers
    );
    assert_eq!(
        seen.header("user-agent"),
        Some(format!("AmazonAPIGateway_{api}").as_str())
    );
    assert_eq!(seen.header("accept"), Some("application/json"));
    assert_eq!(seen.header("x-amzn-apigateway-api-id"), Some(api.as_str()));

    let r = s.invoke(&api, "/dev/proxy");
    assert_eq!(
        r.status, 400,
        "HTTP_PROXY propagates the backend status:\n{r}"
    );
}

#[test]
fn mock_status_selects_the_integration_response() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("select");
    // `{statusCode: N}` is not JSON; AWS (and CDK) accept it.
    let add = |part: &str, code: u16, with_default: bool| {
        let res = cp.resource(&api, &root, part);
        cp.put_method(&api, &res, "GET", json!({ "authorizationType": "NONE" }));
        cp.put_integration(
            &api,
            &res,
            "GET",
            json!({ "type": "MOCK", "requestTemplates": { "application/json": format!("{{statusCode: {code}}}") } }),
        );
        cp.put_method_response(&api, &res, "GET", "200");
        cp.put_method_response(&api, &res, "GET", "404");
        if with_default {
            cp.put_integration_response(
                &api,
                &res,
                "GET",
                "200",
                json!({ "responseTemplates": { "application/json": "{\"ok\": true}" } }),
            );
        }
        cp.put_integration_response(
            &api,
            &res,
            "GET",
            "404",
            json!({ "selectionPattern": "4\\d{2}", "responseTemplates": { "application/json": "{\"error\": \"not found\"}" } }),
        );
    };
    add("lost", 404, true);
    add("broken", 500, true);
    add("unmatched", 500, false);
    cp.deploy(&api, "dev");

    let r = s.invoke(&api, "/dev/lost");
    assert_eq!(
        r.status, 404,
        "404 matches selectionPattern 4\\d{{2}}:\n{r}"
    );
    assert_json_eq(&r.json(), &json!({ "error": "not found" }), "404 template");
    assert_gateway_headers(&r);

    let r = s.invoke(&api, "/dev/broken");
    assert_eq!(
        r.status, 200,
        "500 matches no pattern: the default response:\n{r}"
    );
    assert_json_eq(&r.json(), &json!({ "ok": true }), "default template");

    let r = s.invoke(&api, "/dev/unmatched");
    assert_error_body(&r, 500, "Internal server error");
}

#[test]
fn greedy_proxy_resource_with_any_method() {
    let backend = Backend::start();
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("greedy");
    let base = cp.resource(&api, &root, "api");
    let proxy = cp.resource(&api, &base, "{proxy+}");
    cp.http_proxy(
        &api,
        &proxy,
        "ANY",
        &format!("{}/base/{{proxy}}", backend.url()),
        &[(
            "integration.request.path.proxy",
            "method.request.path.proxy",
        )],
        None,
    );
    let fixed = cp.resource(&api, &base, "static");
    cp.mock(&api, &fixed, "GET", "{\"static\": true}");
    cp.deploy(&api, "dev");

    let cases: [(&str, &str, Option<&str>, &str); 5] = [
        ("GET", "/dev/api/a", None, "/base/a"),
        ("POST", "/dev/api/a/b/c", Some("hello"), "/base/a/b/c"),
        ("PUT", "/dev/api/x/y", Some("put body"), "/base/x/y"),
        ("PATCH", "/dev/api/p", Some("{}"), "/base/p"),
        ("DELETE", "/dev/api/x?y=1", None, "/base/x"),
    ];
    for (method, path, body, backend_path) in cases {
        let mut req = Http::new(s.port, method, &Server::exec_path(&api, path));
        if let Some(b) = body {
            req = req.body(b);
        }
        let r = req.send();
        assert_eq!(r.status, 200, "{method} {path}:\n{r}");
        let seen = backend.last();
        assert_eq!(
            (seen.method.as_str(), seen.path.as_str()),
            (method, backend_path),
            "{method} {path}"
        );
        if let Some(b) = body {
            assert_eq!(
                seen.body.as_deref(),
                Some(b.as_bytes()),
                "{method} {path} body"
            );
        }
    }
    assert_eq!(
        backend.last().query,
        "y=1",
        "query string passed through the greedy proxy"
    );

    // A static sibling wins over the greedy variable.
    let before = backend.count();
    let r = s.invoke(&api, "/dev/api/static");
    assert_eq!(
        (r.status, r.text()),
        (200, "{\"static\": true}".to_string()),
        "{r}"
    );
    assert_eq!(
        backend.count(),
        before,
        "the static resource did not call the backend"
    );

    // {proxy+} needs at least one segment: the parent itself has no method.
    let r = s.invoke(&api, "/dev/api");
    assert_error_body(&r, 403, "Missing Authentication Token");
}

#[test]
fn oversized_request_headers_are_refused() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("heads");
    let pets = cp.resource(&api, &root, "pets");
    cp.mock(&api, &pets, "GET", "[]");
    cp.deploy(&api, "dev");
    let path = Server::exec_path(&api, "/dev/pets");

    // Well under the 10240-byte limit for request line + headers: served.
    let r = Http::get(s.port, &path)
        .header("x-big", &"a".repeat(8000))
        .send();
    assert_eq!(
        r.status, 200,
        "an 8000-byte header is within the limit:\n{r}"
    );

    // One 12 KB header, then many small headers adding up to 12 KB: refused with a 4xx.
    let r = Http::get(s.port, &path)
        .header("x-big", &"a".repeat(12 * 1024))
        .send();
    assert!(
        (400..500).contains(&r.status),
        "a 12 KB header is refused with a 4xx:\n{r}"
    );
    let mut req = Http::get(s.port, &path);
    for i in 0..100 {
        req = req.header(&format!("x-h{i:03}"), &"b".repeat(120));
    }
    let r = req.send();
    assert!(
        (400..500).contains(&r.status),
        "12 KB of headers are refused with a 4xx:\n{r}"
    );

    // And the server keeps serving.
    assert_eq!(s.invoke(&api, "/dev/pets").status, 200);
}

#[test]
fn route_matching_rules() {
    let s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("routes");
    let pets = cp.resource(&api, &root, "pets");
    cp.mock(&api, &pets, "GET", "\"get\"");
    // ANY next to an exact method on the same resource.
    cp.mock(&api, &pets, "ANY", "\"any\"");
    cp.deploy(&api, "dev");
    let call = |method: &str, path: &str| Http::new(s.port, method, path).send();
    let exec = |p: &str| Server::exec_path(&api, p);

    // The exact method wins over ANY; ANY covers the others.
    let r = call("GET", &exec("/dev/pets"));
    assert_eq!((r.status, r.text()), (200, "\"get\"".to_string()), "{r}");
    let r = call("POST", &exec("/dev/pets"));
    assert_eq!((r.status, r.text()), (200, "\"any\"".to_string()), "{r}");

    // A trailing slash is ignored for matching; extra slashes before the stage are tolerated.
    let r = call("GET", &exec("/dev/pets/"));
    assert_eq!(
        (r.status, r.text()),
        (200, "\"get\"".to_string()),
        "trailing slash:\n{r}"
    );
    let r = call("GET", &exec("//dev/pets"));
    assert_eq!(
        (r.status, r.text()),
        (200, "\"get\"".to_string()),
        "//stage:\n{r}"
    );
    let r = Http::get(s.port, "//dev/pets")
        .header("Host", &format!("{api}.execute-api.localhost:{}", s.port))
        .send();
    assert_eq!(r.status, 200, "//stage by host:\n{r}");

    // Paths are case-sensitive.
    let r = call("GET", &exec("/dev/Pets"));
    assert_error_body(&r, 403, "Missing Authentication Token");
}
