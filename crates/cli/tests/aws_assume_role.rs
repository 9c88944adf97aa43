//! `--aws-assume-role` end to end against moto's server (issue 19): an integration's
//! `credentials` role is assumed with STS AssumeRole and its call signed with the temporary
//! credentials (cached); a refused AssumeRole answers 500 and sends nothing; without the
//! flag the `--aws-*` credentials sign. Every call goes through a recorder in front of
//! moto, since moto does not check who signed.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use common::moto::Moto;
use common::*;
use serde_json::{json, Value};

/// One request the recorder saw: its head (lower-cased) and body.
#[derive(Clone, Debug)]
struct Seen {
    head: String,
    body: String,
}

impl Seen {
    fn is_assume_role(&self) -> bool {
        self.body.contains("Action=AssumeRole")
    }

    /// The access key in the `Authorization` header's credential scope.
    fn access_key(&self) -> String {
        let at = self.head.find("credential=").expect("a signed request") + "credential=".len();
        self.head[at..].split('/').next().unwrap().to_string()
    }
}

/// Forwards each request to moto and records it; with `refuse_sts`, answers AssumeRole
/// with STS's AccessDenied instead.
struct Recorder {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Recorder {
    fn start(moto_port: u16, refuse_sts: bool) -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || serve(conn, moto_port, refuse_sts, &log));
            }
        });
        Recorder { port, seen }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// One request per connection, answered with `Connection: close`.
fn serve(mut conn: TcpStream, moto_port: u16, refuse_sts: bool, log: &Mutex<Vec<Seen>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let seen = Seen {
        head: head.to_ascii_lowercase(),
        body: String::from_utf8_lossy(&buf[head_end..head_end + length]).to_string(),
    };
    let refused = refuse_sts && seen.is_assume_role();
    log.lock().unwrap().push(seen);
    if refused {
        let body = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>\
                    <Type>Sender</Type><Code>AccessDenied</Code><Message>not allowed</Message>\
                    </Error><RequestId>r</RequestId></ErrorResponse>";
        let _ = write!(
            conn,
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        return;
    }
    // moto closes after answering, so its answer is read to the end.
    let forwarded_head: String = head
        .trim_end()
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    let mut upstream = TcpStream::connect(("127.0.0.1", moto_port)).unwrap();
    upstream
        .write_all(format!("{forwarded_head}Connection: close\r\n\r\n").as_bytes())
        .unwrap();
    upstream
        .write_all(&buf[head_end..head_end + length])
        .unwrap();
    let mut answer = Vec::new();
    let _ = upstream.read_to_end(&mut answer);
    let Some(split) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return;
    };
    let answer_head: String = String::from_utf8_lossy(&answer[..split])
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    let _ = conn.write_all(format!("{answer_head}Connection: close\r\n\r\n").as_bytes());
    let _ = conn.write_all(&answer[split + 4..]);
}

fn server(recorder: &Recorder, assume_role: bool) -> Server {
    let endpoint = recorder.endpoint();
    let mut flags = vec![
        "--aws-endpoint",
        &endpoint,
        "--aws-access-key-id",
        "moto",
        "--aws-secret-access-key",
        "moto-secret",
    ];
    if assume_role {
        flags.push("--aws-assume-role");
    }
    Server::start_with(Arc::new(tempfile::tempdir().unwrap()), &flags)
}

fn create_role(moto: &Moto) -> String {
    let trust = json!({ "Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": { "Service": "apigateway.amazonaws.com" },
        "Action": "sts:AssumeRole"
    }] });
    let role = moto.aws(&[
        "iam",
        "create-role",
        "--role-name",
        "sqs-writer",
        "--assume-role-policy-document",
        &trust.to_string(),
    ]);
    role["Role"]["Arn"].as_str().unwrap().to_string()
}

/// A REST API whose `POST /orders` sends its body to the `orders` queue as `role`.
fn orders_api(s: &Server, role: &str) -> String {
    let cp = Cp::new(s);
    let (api, root) = cp.create_api("assume");
    let res = cp.resource(&api, &root, "orders");
    cp.put_method(&api, &res, "POST", json!({ "authorizationType": "NONE" }));
    cp.put_integration(
        &api,
        &res,
        "POST",
        json!({
            "type": "AWS",
            "httpMethod": "POST",
            "uri": "arn:aws:apigateway:us-east-1:sqs:path/123456789012/orders",
            "credentials": role,
            "requestParameters": {
                "integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"
            },
            "requestTemplates": {
                "application/json": "Action=SendMessage&MessageBody=$util.urlEncode($input.body)"
            }
        }),
    );
    cp.put_method_response(&api, &res, "POST", "200");
    cp.put_integration_response(&api, &res, "POST", "200", json!({}));
    cp.deploy(&api, "dev");
    api
}

fn send(s: &Server, api: &str, body: &str) -> Response {
    Http::post(s.port, &Server::exec_path(api, "/dev/orders"))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
}

fn queue(moto: &Moto, name: &str) -> String {
    let q: Value = moto.aws(&["sqs", "create-queue", "--queue-name", name]);
    q["QueueUrl"].as_str().unwrap().to_string()
}

#[test]
fn calls_are_signed_as_the_assumed_role_and_its_credentials_cached() {
    let moto = Moto::start();
    let queue_url = queue(&moto, "orders");
    let role = create_role(&moto);
    let recorder = Recorder::start(moto.port, false);
    let s = server(&recorder, true);
    let api = orders_api(&s, &role);

    // Three first requests at once share one AssumeRole; a later one reads the cache.
    std::thread::scope(|scope| {
        let sends: Vec<_> = (1..=3)
            .map(|n| {
                let (s, api) = (&s, &api);
                scope.spawn(move || send(s, api, &format!(r#"{{"order": {n}}}"#)))
            })
            .collect();
        for r in sends.into_iter().map(|h| h.join().unwrap()) {
            assert_eq!(r.status, 200, "{r}\n{}", s.stderr());
            assert!(r.text().contains("SendMessageResponse"), "{r}");
        }
    });
    let r = send(&s, &api, r#"{"order": 4}"#);
    assert_eq!(r.status, 200, "{r}");
    let orders: Vec<String> = (1..=4).map(|n| format!(r#"{{"order": {n}}}"#)).collect();
    assert_eq!(moto.queue_bodies(&queue_url), orders);

    let seen = recorder.seen();
    let (sts, sqs): (Vec<_>, Vec<_>) = seen.into_iter().partition(Seen::is_assume_role);
    // One AssumeRole for all four requests, signed with the --aws-* key for STS.
    assert_eq!(sts.len(), 1, "{sts:?}");
    let encoded_role = role.replace(':', "%3A").replace('/', "%2F");
    assert!(
        sts[0].body.contains(&format!("RoleArn={encoded_role}")),
        "{sts:?}"
    );
    assert!(sts[0].body.contains("RoleSessionName=tollgate-"), "{sts:?}");
    assert_eq!(sts[0].access_key(), "moto");
    assert!(
        sts[0].head.contains("/us-east-1/sts/aws4_request"),
        "{sts:?}"
    );
    // The SendMessage calls carry the role's temporary key and its token.
    assert_eq!(sqs.len(), 4, "{sqs:?}");
    for call in &sqs {
        assert_ne!(call.access_key(), "moto", "{call:?}");
        // moto's temporary keys are ASIA... (the head is lower-cased).
        assert!(call.access_key().starts_with("asia"), "{call:?}");
        assert!(call.head.contains("x-amz-security-token:"), "{call:?}");
        assert!(
            call.head.contains("/us-east-1/sqs/aws4_request"),
            "{call:?}"
        );
    }
}

#[test]
fn a_refused_assume_role_answers_500_and_sends_nothing() {
    let moto = Moto::start();
    let queue_url = queue(&moto, "orders");
    let recorder = Recorder::start(moto.port, true);
    let s = server(&recorder, true);
    let role = "arn:aws:iam::123456789012:role/nobody";
    let api = orders_api(&s, role);

    let r = send(&s, &api, r#"{"order": 1}"#);
    assert_eq!(r.status, 500, "{r}");
    assert_eq!(r.json(), json!({ "message": "Internal server error" }));
    let log = s.stderr_with("AccessDenied");
    assert!(
        log.lines()
            .any(|l| l.contains("AccessDenied") && l.contains(role)),
        "{log}"
    );
    let seen = recorder.seen();
    assert!(seen.iter().all(Seen::is_assume_role), "{seen:?}");
    assert!(moto.queue_bodies(&queue_url).is_empty());
}

#[test]
fn without_the_flag_the_role_is_only_recorded() {
    let moto = Moto::start();
    let queue_url = queue(&moto, "orders");
    let role = create_role(&moto);
    let recorder = Recorder::start(moto.port, false);
    let s = server(&recorder, false);
    let api = orders_api(&s, &role);

    let r = send(&s, &api, r#"{"order": 1}"#);
    assert_eq!(r.status, 200, "{r}\n{}", s.stderr());
    assert_eq!(moto.queue_bodies(&queue_url), [r#"{"order": 1}"#]);
    let seen = recorder.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(!seen[0].is_assume_role());
    assert_eq!(seen[0].access_key(), "moto");
    assert!(!seen[0].head.contains("x-amz-security-token:"));
}

/// HTTP APIs' first-class integrations sign as their `credentialsArn` role too.
#[test]
fn http_api_first_class_integrations_assume_their_role() {
    let moto = Moto::start();
    let queue_url = queue(&moto, "inbox");
    let role = create_role(&moto);
    let recorder = Recorder::start(moto.port, false);
    let s = server(&recorder, true);
    let api = v2_http_api(&s, "assume");
    let params = json!({ "QueueUrl": queue_url, "MessageBody": "$request.body.message" });
    let integration = v2(
        &s,
        &[
            "create-integration",
            "--api-id",
            &api,
            "--integration-type",
            "AWS_PROXY",
            "--integration-subtype",
            "SQS-SendMessage",
            "--payload-format-version",
            "1.0",
            "--credentials-arn",
            &role,
            "--request-parameters",
            &params.to_string(),
        ],
    )["IntegrationId"]
        .as_str()
        .unwrap()
        .to_string();
    v2_route(&s, &api, "POST /send", &integration, &[]);
    v2_default_stage(&s, &api);

    let r = Http::post(s.port, &Server::exec_path(&api, "/send"))
        .header("Content-Type", "application/json")
        .body(r#"{"message": "as the role"}"#)
        .send();
    assert_eq!(r.status, 200, "{r}\n{}", s.stderr());
    assert_eq!(moto.queue_bodies(&queue_url), ["as the role"]);
    let seen = recorder.seen();
    let (sts, sqs): (Vec<_>, Vec<_>) = seen.into_iter().partition(Seen::is_assume_role);
    assert_eq!(sts.len(), 1, "{sts:?}");
    assert_eq!(sqs.len(), 1, "{sqs:?}");
    assert!(sqs[0].access_key().starts_with("asia"), "{sqs:?}");
    assert!(sqs[0].head.contains("x-amz-security-token:"), "{sqs:?}");
}

/// STS on its own endpoint (`--aws-service-endpoint sts=URL`), unreachable: 500, as a
/// refusal (not a 504), and the service is not called.
#[test]
fn an_unreachable_sts_endpoint_answers_500() {
    let moto = Moto::start();
    let queue_url = queue(&moto, "orders");
    let recorder = Recorder::start(moto.port, false);
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = recorder.endpoint();
    let sts = format!("sts=http://127.0.0.1:{closed}");
    let s = Server::start_with(
        Arc::new(tempfile::tempdir().unwrap()),
        &[
            "--aws-endpoint",
            &endpoint,
            "--aws-service-endpoint",
            &sts,
            "--aws-access-key-id",
            "moto",
            "--aws-secret-access-key",
            "moto-secret",
            "--aws-assume-role",
        ],
    );
    let role = "arn:aws:iam::123456789012:role/sqs-writer";
    let api = orders_api(&s, role);
    let r = send(&s, &api, r#"{"order": 1}"#);
    assert_eq!(r.status, 500, "{r}");
    assert_eq!(r.json(), json!({ "message": "Internal server error" }));
    let log = s.stderr_with("STS AssumeRole could not be called");
    assert!(log.contains(role), "{log}");
    assert!(recorder.seen().is_empty());
    assert!(moto.queue_bodies(&queue_url).is_empty());
}
