//! Traces (`--otlp-endpoint`): a sampled request leaves a server span and one span per phase
//! that did work, sent over OTLP/HTTP (protobuf) to a collector this test runs and decodes;
//! W3C `traceparent` and `X-Amzn-Trace-Id` are read, and handed on to HTTP backends and to
//! functions (`_X_AMZN_TRACE_ID`); REST stages sample by `tracingEnabled` (X-Ray's default
//! rule), HTTP APIs honour the caller's decision only.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use common::lambda::*;
use common::*;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use prost::Message;
use serde_json::json;

/// One span as the collector decoded it.
#[derive(Debug, Clone)]
struct Got {
    trace_id: String,
    span_id: String,
    parent: String,
    name: String,
    kind: i32,
    attributes: BTreeMap<String, String>,
    resource: BTreeMap<String, String>,
    error: bool,
}

/// An OTLP/HTTP collector on a free port: every `POST /v1/traces` body decoded.
struct Collector {
    port: u16,
    spans: Arc<Mutex<Vec<Got>>>,
    paths: Arc<Mutex<Vec<String>>>,
}

fn text(v: &Option<opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(AnyValue::StringValue(s)) => s.clone(),
        Some(AnyValue::IntValue(n)) => n.to_string(),
        Some(AnyValue::BoolValue(b)) => b.to_string(),
        other => format!("{other:?}"),
    }
}

impl Collector {
    fn start() -> Collector {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let spans: Arc<Mutex<Vec<Got>>> = Arc::default();
        let paths: Arc<Mutex<Vec<String>>> = Arc::default();
        let (s, p) = (spans.clone(), paths.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (s, p) = (s.clone(), p.clone());
                std::thread::spawn(move || serve(conn, &s, &p));
            }
        });
        Collector { port, spans, paths }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The spans of `trace_id` (32 hex digits), once `n` of them arrived.
    fn trace(&self, trace_id: &str, n: usize) -> Vec<Got> {
        eventually(&format!("{n} spans of trace {trace_id}"), || {
            let got: Vec<Got> = self
                .spans
                .lock()
                .unwrap()
                .iter()
                .filter(|s| s.trace_id == trace_id)
                .cloned()
                .collect();
            (got.len() >= n).then_some(got)
        })
    }

    fn all(&self) -> Vec<Got> {
        self.spans.lock().unwrap().clone()
    }
}

/// Answers HTTP/1.1 requests on one connection (the exporter keeps it alive).
fn serve(conn: std::net::TcpStream, spans: &Mutex<Vec<Got>>, paths: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split(' ').nth(1).unwrap_or_default().to_string();
        let mut length = 0;
        let mut content_type = String::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h).unwrap();
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (k, v) = h.split_once(':').unwrap();
            match k.to_ascii_lowercase().as_str() {
                "content-length" => length = v.trim().parse().unwrap(),
                "content-type" => content_type = v.trim().to_string(),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        assert_eq!(content_type, "application/x-protobuf");
        paths.lock().unwrap().push(path);
        let req = ExportTraceServiceRequest::decode(&body[..]).expect("an OTLP trace export");
        for rs in req.resource_spans {
            let resource: BTreeMap<String, String> = rs
                .resource
                .map(|r| r.attributes)
                .unwrap_or_default()
                .into_iter()
                .map(|kv| (kv.key, text(&kv.value)))
                .collect();
            for ss in rs.scope_spans {
                for span in ss.spans {
                    spans.lock().unwrap().push(Got {
                        trace_id: hex::encode(&span.trace_id),
                        span_id: hex::encode(&span.span_id),
                        parent: hex::encode(&span.parent_span_id),
                        name: span.name,
                        kind: span.kind,
                        attributes: span
                            .attributes
                            .into_iter()
                            .map(|kv| (kv.key, text(&kv.value)))
                            .collect(),
                        resource: resource.clone(),
                        error: span.status.is_some_and(|s| s.code == 2),
                    });
                }
            }
        }
        conn.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n",
        )
        .unwrap();
    }
}

/// OTLP's span kinds.
const SERVER: i32 = 2;
const CLIENT: i32 = 3;

fn start(collector: &Collector) -> Server {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    Server::start_with(dir, &["--otlp-endpoint", &collector.url()])
}

/// `Root=1-{8}-{24};Parent={16};Sampled={d}` split into (trace id, parent, sampled).
fn amzn(header: &str) -> (String, String, String) {
    let mut f = header.split(';');
    let root = f
        .next()
        .unwrap()
        .strip_prefix("Root=1-")
        .unwrap()
        .replace('-', "");
    let parent = f
        .next()
        .unwrap()
        .strip_prefix("Parent=")
        .unwrap()
        .to_string();
    let sampled = f
        .next()
        .unwrap()
        .strip_prefix("Sampled=")
        .unwrap()
        .to_string();
    (root, parent, sampled)
}

#[test]
fn rest_stage_traces_phases_and_hands_the_trace_to_its_backend() {
    let collector = Collector::start();
    let mut s = start(&collector);
    let backend = Backend::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("traced");
    let pets = cp.resource(&api, &root, "pets");
    cp.http_proxy(
        &api,
        &pets,
        "GET",
        &format!("{}/pets", backend.url()),
        &[],
        None,
    );
    cp.deploy(&api, "prod");
    cp.deploy(&api, "plain");
    let on = json!([{"op": "replace", "path": "/tracingEnabled", "value": "true"}]);
    assert_eq!(cp.patch_stage(&api, "prod", on)["tracingEnabled"], true);

    // Not sampled: the stage traces nothing, the caller said no.
    let r = s.invoke(&api, "/plain/pets");
    assert_eq!(r.status, 200, "{r}");
    let (plain_trace, _, sampled) = amzn(backend.last().header("x-amzn-trace-id").unwrap());
    assert_eq!(sampled, "0");
    assert_eq!(
        backend.last().header("traceparent"),
        None,
        "none unless asked for"
    );
    let declined = "Root=1-65a1b2c3-00000000000000000000000a;Parent=53995c3f42cd8ad8;Sampled=0";
    // A MOCK's request template is the Integration request span, inside Integration.
    let mock = cp.resource(&api, &root, "mock");
    cp.mock(&api, &mock, "GET", r#"{"statusCode": 200}"#);
    cp.deploy(&api, "prod");
    let r = Http::get(s.port, &Server::exec_path(&api, "/prod/mock"))
        .header(
            "traceparent",
            "00-3af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        )
        .send();
    assert_eq!(r.status, 200, "{r}");
    let spans = collector.trace("3af7651916cd43dd8448eb211c80319c", 4);
    let named = |n: &str| {
        spans
            .iter()
            .find(|s| s.name == n)
            .unwrap_or_else(|| panic!("{n}: {spans:?}"))
    };
    assert_eq!(
        named("Integration request").parent,
        named("Integration").span_id
    );
    assert_eq!(
        named("Integration response").parent,
        named("Integration").span_id
    );
    assert_eq!(named("Integration").parent, named("GET /mock").span_id);
    let r = Http::get(s.port, &Server::exec_path(&api, "/prod/pets"))
        .header("X-Amzn-Trace-Id", declined)
        .send();
    assert_eq!(r.status, 200, "{r}");
    let (_, _, sampled) = amzn(backend.last().header("x-amzn-trace-id").unwrap());
    assert_eq!(sampled, "0", "the caller's decision is kept");

    // The caller's W3C context, sampled: the gateway's spans join its trace.
    let trace = "0af7651916cd43dd8448eb211c80319c";
    let caller_span = "b7ad6b7169203331";
    let r = Http::get(s.port, &Server::exec_path(&api, "/prod/pets"))
        .header("traceparent", &format!("00-{trace}-{caller_span}-01"))
        .header("User-Agent", "trace-test")
        .send();
    assert_eq!(r.status, 200, "{r}");
    let seen = backend.last();
    let tp = seen
        .header("traceparent")
        .expect("the backend is handed the trace");
    let parts: Vec<&str> = tp.split('-').collect();
    assert_eq!((parts[0], parts[1], parts[3]), ("00", trace, "01"), "{tp}");
    let integration_span = parts[2].to_string();
    assert_ne!(integration_span, caller_span);
    let (root, parent, sampled) = amzn(seen.header("x-amzn-trace-id").unwrap());
    assert_eq!(
        (root.as_str(), parent.as_str(), sampled.as_str()),
        (trace, &*integration_span, "1")
    );

    let spans = collector.trace(trace, 2);
    let server = spans
        .iter()
        .find(|s| s.kind == SERVER)
        .expect("the request's span");
    assert_eq!(server.name, "GET /pets");
    assert_eq!(server.parent, caller_span, "a child of the caller's span");
    for (k, v) in [
        ("http.request.method", "GET"),
        ("http.route", "/pets"),
        ("url.path", "/prod/pets"),
        ("http.response.status_code", "200"),
        ("aws.api_gateway.api_id", api.as_str()),
        ("aws.api_gateway.stage", "prod"),
        ("user_agent.original", "trace-test"),
    ] {
        assert_eq!(
            server.attributes.get(k).map(String::as_str),
            Some(v),
            "{k}: {server:?}"
        );
    }
    assert_eq!(
        server.resource.get("service.name").map(String::as_str),
        Some("tollgate")
    );
    assert_eq!(
        server.resource.get("cloud.region").map(String::as_str),
        Some("us-east-1")
    );
    let integration = spans.iter().find(|s| s.name == "Integration").unwrap();
    assert_eq!(
        integration.span_id, integration_span,
        "the backend's parent"
    );
    assert_eq!(
        (integration.parent.as_str(), integration.kind),
        (&*server.span_id, CLIENT)
    );
    assert_eq!(
        integration.attributes["aws.api_gateway.integration.type"],
        "HTTP_PROXY"
    );
    assert_eq!(integration.attributes["http.response.status_code"], "200");
    assert_eq!(
        *collector.paths.lock().unwrap().first().unwrap(),
        "/v1/traces"
    );

    // No header: the stage's own sampling. Within one second the reservoir takes the
    // first request; 5% of the rest follow. Some of 40 requests are sampled, not all.
    let mut sampled_roots = Vec::new();
    for _ in 0..40 {
        let r = s.invoke(&api, "/prod/pets");
        assert_eq!(r.status, 200, "{r}");
        let (root, _, sampled) = amzn(backend.last().header("x-amzn-trace-id").unwrap());
        if sampled == "1" {
            sampled_roots.push(root);
        }
    }
    assert!(
        !sampled_roots.is_empty() && sampled_roots.len() < 40,
        "{sampled_roots:?}"
    );
    // A 5xx is the server span's error.
    let r = Http::get(s.port, &Server::exec_path(&api, "/prod/pets?status=502"))
        .header(
            "traceparent",
            "00-1af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        )
        .send();
    assert_eq!(r.status, 502, "{r}");
    // Spans still queued are sent on a graceful stop.
    assert!(s.sigterm().success());
    let failed = collector.trace("1af7651916cd43dd8448eb211c80319c", 2);
    assert!(
        failed.iter().any(|s| s.kind == SERVER && s.error),
        "{failed:?}"
    );
    for root in &sampled_roots {
        assert!(
            collector.all().iter().any(|s| &s.trace_id == root),
            "{root} sent"
        );
    }
    let unsampled = collector.all();
    assert!(
        !unsampled
            .iter()
            .any(|s| s.trace_id == plain_trace || s.trace_id.starts_with("65a1b2c3")),
        "unsampled requests leave no spans"
    );
}

const TRACE_PY: &str = r#"
import json, os
def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"trace": os.environ.get("_X_AMZN_TRACE_ID")})}
"#;

#[test]
fn functions_run_in_the_requests_trace() {
    let collector = Collector::start();
    let s = start(&collector);
    let zip = zip_file(s.data_path(), "trace.zip", &[("app.py", TRACE_PY, 0o644)]);
    create_function(&s, "tracer", "python3.12", "app.handler", &zip, &[]);
    let api = proxy_api(&s, "tracer");
    let root = "Root=1-65a1b2c3-0123456789abcdef01234567";
    let r = Http::get(s.port, &Server::exec_path(&api, "/prod/anything"))
        .header(
            "X-Amzn-Trace-Id",
            &format!("{root};Parent=53995c3f42cd8ad8;Sampled=1"),
        )
        .send();
    assert_eq!(r.status, 200, "{r}");
    let seen = r.json()["trace"].as_str().unwrap().to_string();
    let (trace, parent, sampled) = amzn(&seen);
    assert_eq!(
        (trace.as_str(), sampled.as_str()),
        ("65a1b2c30123456789abcdef01234567", "1"),
        "{seen}"
    );
    let spans = collector.trace(&trace, 2);
    let server = spans.iter().find(|s| s.kind == SERVER).unwrap();
    assert_eq!(
        server.name, "GET /{proxy+}",
        "the method sent, the resource matched"
    );
    assert_eq!(server.parent, "53995c3f42cd8ad8");
    let integration = spans.iter().find(|s| s.name == "Integration").unwrap();
    assert_eq!(
        integration.span_id, parent,
        "the function's Parent is the integration span"
    );
    assert_eq!(
        integration.attributes["aws.api_gateway.integration.type"],
        "AWS_PROXY"
    );
    // Without a caller's trace or tracing on the stage: a trace of its own, not sampled.
    let r = s.invoke(&api, "/prod/other");
    let (other, _, sampled) = amzn(r.json()["trace"].as_str().unwrap());
    assert_ne!(other, trace);
    assert_eq!(sampled, "0");
}

#[test]
fn http_apis_trace_what_the_caller_sampled() {
    let collector = Collector::start();
    let s = start(&collector);
    let backend = Backend::start();
    let api = v2_http_api(&s, "traced-http");
    let integration = v2_http_proxy(&s, &api, "GET", &format!("{}/items", backend.url()), &[]);
    v2_route(&s, &api, "GET /items/{id}", &integration, &[]);
    v2_default_stage(&s, &api);

    let path = "/items/7";
    let host = format!("{api}.execute-api.localhost:{}", s.port);
    // Unsampled: the caller's headers pass as they are, nothing is exported.
    let r = Http::get(s.port, path).header("Host", &host).send();
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(backend.last().header("traceparent"), None);
    let trace = "2af7651916cd43dd8448eb211c80319c";
    let r = Http::get(s.port, path)
        .header("Host", &host)
        .header("traceparent", &format!("00-{trace}-b7ad6b7169203331-01"))
        .send();
    assert_eq!(r.status, 200, "{r}");
    let seen = backend.last();
    let tp = seen.header("traceparent").unwrap().to_string();
    assert!(
        tp.starts_with(&format!("00-{trace}-")) && tp.ends_with("-01"),
        "{tp}"
    );
    let (root, parent, sampled) = amzn(seen.header("x-amzn-trace-id").unwrap());
    assert_eq!((root.as_str(), sampled.as_str()), (trace, "1"));
    assert_eq!(tp.split('-').nth(2), Some(parent.as_str()));
    let spans = collector.trace(trace, 2);
    let server = spans.iter().find(|s| s.kind == SERVER).unwrap();
    assert_eq!(server.name, "GET /items/{id}");
    assert_eq!(server.attributes["http.route"], "/items/{id}");
    assert_eq!(server.parent, "b7ad6b7169203331");
    let integration = spans.iter().find(|s| s.name == "Integration").unwrap();
    assert_eq!(integration.span_id, parent);
    assert_eq!(
        collector.all().len(),
        2,
        "only the sampled request: {:?}",
        collector.all()
    );
}

#[test]
fn an_otlp_endpoint_that_is_not_http_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--otlp-endpoint",
            "ftp://collector:4318",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--otlp-endpoint") && err.contains("ftp://collector:4318/v1/traces"),
        "{err}"
    );
}
