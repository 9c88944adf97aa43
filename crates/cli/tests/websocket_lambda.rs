//! A chat room on a WebSocket API with a Lambda function (`$connect`, `$disconnect`,
//! `sendmessage`), once in Python and once in Node.js: real WebSocket clients, the function pushing to every
//! member through `@connections` with its own SigV4 signature, the events checked against
//! `aws_lambda_events`' `ApiGatewayWebsocketProxyRequest`, handshake refusals, the
//! sub-protocol copied into the 101, Lambda errors as error frames, and `$disconnect` on a
//! client close, a DeleteConnection and SIGTERM.

mod common;

use std::time::{Duration, Instant};

use common::lambda::*;
use common::websocket::*;
use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

/// The chat function: members are files in `ROOM_DIR`; every event is appended to
/// `events.jsonl` there. `sendmessage` posts the text to every member through
/// `@connections` (signed with SigV4 by hand, stdlib only) and answers `sent`.
const CHAT_PY: &str = r#"
import datetime, hashlib, hmac, json, os, urllib.parse, urllib.request

ROOM = os.environ["ROOM_DIR"]

def _sign(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()

def post(connection_id, data):
    base = os.environ["CONNECTIONS_ENDPOINT"]
    url = base + "/@connections/" + urllib.parse.quote(connection_id, safe="")
    parsed = urllib.parse.urlparse(url)
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    canonical_uri = "/".join(urllib.parse.quote(s, safe="-_.~") for s in parsed.path.split("/"))
    body = data.encode()
    canonical = "\n".join(["POST", canonical_uri, "", "host:" + parsed.netloc,
                           "x-amz-date:" + amz_date, "", "host;x-amz-date",
                           hashlib.sha256(body).hexdigest()])
    scope = day + "/us-east-1/execute-api/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = _sign(("AWS4" + os.environ["SECRET"]).encode(), day)
    for part in ["us-east-1", "execute-api", "aws4_request"]:
        key = _sign(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "x-amz-date": amz_date,
        "Authorization": "AWS4-HMAC-SHA256 Credential=" + os.environ["KEY"] + "/" + scope
                         + ", SignedHeaders=host;x-amz-date, Signature=" + signature})
    urllib.request.urlopen(req).read()

def handler(event, context):
    with open(os.path.join(ROOM, "events.jsonl"), "a") as log:
        log.write(json.dumps(event) + "\n")
    rc = event["requestContext"]
    me, route = rc["connectionId"], rc["routeKey"]
    if route == "$connect":
        query = event.get("queryStringParameters") or {}
        if query.get("name") == "mallory":
            return {"statusCode": 403}
        with open(os.path.join(ROOM, "member-" + me), "w") as f:
            f.write(query.get("name", ""))
        headers = {}
        if "chat" in event["headers"].get("Sec-WebSocket-Protocol", ""):
            headers["Sec-WebSocket-Protocol"] = "chat"
        return {"statusCode": 200, "headers": headers}
    if route == "$disconnect":
        os.remove(os.path.join(ROOM, "member-" + me))
        return {"statusCode": 200}
    message = json.loads(event["body"])
    if message.get("action") == "boom":
        raise RuntimeError("boom")
    for name in os.listdir(ROOM):
        if name.startswith("member-"):
            post(name[len("member-"):], message["text"])
    return {"statusCode": 200, "body": "sent"}
"#;

/// The same chat function in Node.js (stdlib only: `crypto` signs, `fetch` posts).
const CHAT_JS: &str = r#"
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const ROOM = process.env.ROOM_DIR;
const hmac = (key, msg) => crypto.createHmac("sha256", key).update(msg).digest();
const sha256 = (data) => crypto.createHash("sha256").update(data).digest("hex");
const encode = (s) => encodeURIComponent(s)
  .replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());

async function post(connectionId, data) {
  const url = new URL(process.env.CONNECTIONS_ENDPOINT + "/@connections/" + encode(connectionId));
  const amzDate = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const canonicalUri = url.pathname.split("/").map(encode).join("/");
  const canonical = ["POST", canonicalUri, "", "host:" + url.host, "x-amz-date:" + amzDate, "",
                     "host;x-amz-date", sha256(data)].join("\n");
  const scope = day + "/us-east-1/execute-api/aws4_request";
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
  let key = hmac("AWS4" + process.env.SECRET, day);
  for (const part of ["us-east-1", "execute-api", "aws4_request"]) key = hmac(key, part);
  const signature = crypto.createHmac("sha256", key).update(toSign).digest("hex");
  const res = await fetch(url, { method: "POST", body: data, headers: {
    "x-amz-date": amzDate,
    "Authorization": "AWS4-HMAC-SHA256 Credential=" + process.env.KEY + "/" + scope
                     + ", SignedHeaders=host;x-amz-date, Signature=" + signature } });
  if (!res.ok) throw new Error("PostToConnection answered " + res.status);
}

exports.handler = async (event) => {
  fs.appendFileSync(path.join(ROOM, "events.jsonl"), JSON.stringify(event) + "\n");
  const rc = event.requestContext;
  const me = rc.connectionId, route = rc.routeKey;
  if (route === "$connect") {
    const query = event.queryStringParameters || {};
    if (query.name === "mallory") return { statusCode: 403 };
    fs.writeFileSync(path.join(ROOM, "member-" + me), query.name || "");
    const headers = {};
    if ((event.headers["Sec-WebSocket-Protocol"] || "").includes("chat")) {
      headers["Sec-WebSocket-Protocol"] = "chat";
    }
    return { statusCode: 200, headers };
  }
  if (route === "$disconnect") {
    fs.rmSync(path.join(ROOM, "member-" + me));
    return { statusCode: 200 };
  }
  const message = JSON.parse(event.body);
  if (message.action === "boom") throw new Error("boom");
  for (const name of fs.readdirSync(ROOM)) {
    if (name.startsWith("member-")) await post(name.slice("member-".length), message.text);
  }
  return { statusCode: 200, body: "sent" };
};
"#;

/// A chat function's package: its file, source, runtime and handler.
struct ChatFunction {
    file: &'static str,
    source: &'static str,
    runtime: &'static str,
    handler: &'static str,
}

const PYTHON: ChatFunction = ChatFunction {
    file: "chat.py",
    source: CHAT_PY,
    runtime: "python3.12",
    handler: "chat.handler",
};

const NODE: ChatFunction = ChatFunction {
    file: "chat.js",
    source: CHAT_JS,
    runtime: "nodejs20.x",
    handler: "chat.handler",
};

struct Chat {
    s: Server,
    api: String,
    room: std::path::PathBuf,
}

/// The chat room on the Python function.
fn chat(extra: &[&str]) -> Chat {
    chat_on(&PYTHON, extra)
}

fn chat_on(f: &ChatFunction, extra: &[&str]) -> Chat {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let s = Server::start_with(dir, extra);
    let room = s.data_path().join("room");
    std::fs::create_dir_all(&room).unwrap();
    let zip = zip_file(s.data_path(), "chat.zip", &[(f.file, f.source, 0o644)]);
    let api = v2(
        &s,
        &[
            "create-api",
            "--name",
            "chat",
            "--protocol-type",
            "WEBSOCKET",
            "--route-selection-expression",
            "$request.body.action",
        ],
    )["ApiId"]
        .as_str()
        .unwrap()
        .to_string();
    let env = format!(
        "Variables={{ROOM_DIR={},CONNECTIONS_ENDPOINT={}/_aws/execute-api/{api}/prod,KEY=test,SECRET=test}}",
        room.display(),
        s.endpoint()
    );
    create_function(
        &s,
        "chat",
        f.runtime,
        f.handler,
        &zip,
        &["--environment", &env],
    );
    let source = format!("arn:aws:execute-api:us-east-1:000000000000:{api}/*");
    grant_apigateway(&s, "chat", "ws", &source, None);
    let integration = http_integration(&s, &api, "AWS_PROXY", &fn_uri("chat"), &[]);
    for key in ["$connect", "$disconnect", "boom"] {
        v2_route(&s, &api, key, &integration, &[]);
    }
    let send = v2_route(
        &s,
        &api,
        "sendmessage",
        &integration,
        &["--route-response-selection-expression", "$default"],
    );
    v2(
        &s,
        &[
            "create-route-response",
            "--api-id",
            &api,
            "--route-id",
            &send,
            "--route-response-key",
            "$default",
        ],
    );
    v2(
        &s,
        &[
            "create-stage",
            "--api-id",
            &api,
            "--stage-name",
            "prod",
            "--auto-deploy",
        ],
    );
    Chat { s, api, room }
}

impl Chat {
    /// The path form (no wildcard DNS needed), with a query string.
    fn url(&self, query: &str) -> String {
        format!(
            "ws://127.0.0.1:{}/_aws/execute-api/{}/prod{query}",
            self.s.port, self.api
        )
    }

    fn members(&self) -> usize {
        std::fs::read_dir(&self.room)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("member-")
            })
            .count()
    }

    /// Waits until the room has `n` members (`$disconnect` runs after the close).
    fn wait_members(&self, n: usize) {
        let until = Instant::now() + PATIENCE;
        while self.members() != n {
            assert!(
                Instant::now() < until,
                "room has {} members, not {n}\n{}",
                self.members(),
                self.s.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(self.room.join("events.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

async fn connect(url: &str, protocol: Option<&str>) -> (Client, http::Response<Option<Vec<u8>>>) {
    let mut req = url.into_client_request().unwrap();
    if let Some(p) = protocol {
        req.headers_mut()
            .insert("sec-websocket-protocol", p.parse().unwrap());
    }
    tokio::time::timeout(PATIENCE, tokio_tungstenite::connect_async(req))
        .await
        .expect("connect in time")
        .unwrap_or_else(|e| panic!("connect {url}: {e}"))
}

fn event_of<'e>(events: &'e [Value], event_type: &str) -> &'e Value {
    events
        .iter()
        .find(|e| e["requestContext"]["eventType"] == event_type)
        .unwrap_or_else(|| panic!("no {event_type} event in {events:#?}"))
}

#[test]
fn chat_room_with_a_python_lambda() {
    chat_room(&chat_on(&PYTHON, &[]));
}

#[test]
fn chat_room_with_a_node_lambda() {
    chat_room(&chat_on(&NODE, &[]));
}

/// Two members chat, a third is refused; every event is what AWS sends.
fn chat_room(c: &Chat) {
    rt().block_on(async {
        // `$connect` refuses with the function's status: the handshake gets it.
        match tokio_tungstenite::connect_async(c.url("?name=mallory")).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
                assert_eq!(r.status(), 403)
            }
            other => panic!("mallory should be refused: {:?}", other.map(|x| x.1)),
        }
        let (mut alice, resp) = connect(&c.url("?name=alice"), Some("chat")).await;
        assert_eq!(
            resp.headers()
                .get("sec-websocket-protocol")
                .map(|v| v.to_str().unwrap()),
            Some("chat")
        );
        let (mut bob, _) = connect(&c.url("?name=bob"), None).await;
        assert_eq!(c.members(), 2);
        alice
            .send(Message::text(r#"{"action":"sendmessage","text":"hi all"}"#))
            .await
            .unwrap();
        assert_eq!(next_text(&mut bob).await, "hi all");
        // Alice gets the broadcast and the two-way answer, in either order.
        let mut got = vec![next_text(&mut alice).await, next_text(&mut alice).await];
        got.sort();
        assert_eq!(got, ["hi all", "sent"]);
        // A function error is the Internal server error frame; the socket stays open.
        alice
            .send(Message::text(r#"{"action":"boom"}"#))
            .await
            .unwrap();
        let frame: Value = serde_json::from_str(&next_text(&mut alice).await).unwrap();
        assert_eq!(frame["message"], "Internal server error");
        // Bob leaves with 1000: `$disconnect` runs and the function forgets him.
        bob.close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "bye".into(),
        }))
        .await
        .unwrap();
        c.wait_members(1);
        alice.close(None).await.unwrap();
        c.wait_members(0);
    });
    let events = c.events();
    let connect = events
        .iter()
        .find(|e| e["queryStringParameters"]["name"] == "alice")
        .expect("alice's $connect");
    let message = event_of(&events, "MESSAGE");
    let disconnect = event_of(&events, "DISCONNECT");
    for e in [connect, message, disconnect] {
        let typed: aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest =
            serde_json::from_value(e.clone()).unwrap_or_else(|err| panic!("{err}: {e:#}"));
        assert_eq!(typed.request_context.stage.as_deref(), Some("prod"));
        assert_eq!(typed.request_context.apiid.as_deref(), Some(c.api.as_str()));
        assert_eq!(e["requestContext"]["messageDirection"], "IN");
        assert_eq!(
            e["requestContext"]["requestId"],
            e["requestContext"]["extendedRequestId"]
        );
    }
    assert_eq!(connect["requestContext"]["routeKey"], "$connect");
    assert_eq!(connect["queryStringParameters"]["name"], "alice");
    assert!(
        connect["headers"]["Sec-WebSocket-Key"].is_string(),
        "{connect:#}"
    );
    assert!(connect.get("body").is_none());
    assert_eq!(message["requestContext"]["routeKey"], "sendmessage");
    assert!(message["requestContext"]["messageId"].is_string());
    assert!(message.get("headers").is_none());
    assert_eq!(
        message["body"],
        r#"{"action":"sendmessage","text":"hi all"}"#
    );
    assert_eq!(message["isBase64Encoded"], false);
    let bye = events
        .iter()
        .find(|e| {
            e["requestContext"]["eventType"] == "DISCONNECT"
                && e["requestContext"]["disconnectStatusCode"] == 1000
        })
        .expect("bob's $disconnect");
    assert_eq!(bye["requestContext"]["disconnectReason"], "bye");
    assert_eq!(disconnect["requestContext"]["routeKey"], "$disconnect");
    let client_no_status = events
        .iter()
        .any(|e| e["requestContext"]["disconnectStatusCode"] == 1005);
    assert!(client_no_status, "alice closed without a status: 1005");
}

#[test]
fn disconnect_runs_after_the_idle_timeout() {
    let c = chat(&["--websocket-idle-timeout", "1"]);
    rt().block_on(async {
        let (mut ws, _) = connect(&c.url("?name=idle"), None).await;
        assert_eq!(c.members(), 1);
        assert_eq!(close_code(&mut ws).await, 1001);
    });
    c.wait_members(0);
    let events = c.events();
    let bye = event_of(&events, "DISCONNECT");
    assert_eq!(
        bye["requestContext"]["disconnectStatusCode"], 1001,
        "{bye:#}"
    );
    assert_eq!(
        bye["requestContext"]["connectionId"],
        event_of(&events, "CONNECT")["requestContext"]["connectionId"]
    );
}

#[test]
fn disconnect_runs_on_delete_connection_and_sigterm() {
    let mut c = chat(&[]);
    let endpoint = format!("{}/_aws/execute-api/{}/prod", c.s.endpoint(), c.api);
    rt().block_on(async {
        let (mut a, _) = connect(&c.url("?name=a"), None).await;
        let (mut b, _) = connect(&c.url("?name=b"), None).await;
        let id = c.events()[0]["requestContext"]["connectionId"]
            .as_str()
            .unwrap()
            .to_string();
        manage(&c.s, "delete-connection", &endpoint, &id, &[])
            .unwrap_or_else(|e| panic!("{}", e.stderr));
        c.wait_members(1);
        // The gateway stops: the other socket is closed with 1001 and `$disconnect` runs.
        c.s.send_sigterm();
        let mut codes = Vec::new();
        for ws in [&mut a, &mut b] {
            loop {
                match tokio::time::timeout(PATIENCE, ws.next()).await.unwrap() {
                    Some(Ok(Message::Close(f))) => {
                        codes.push(f.map(|f| u16::from(f.code)));
                        break;
                    }
                    Some(Ok(_)) => {}
                    _ => {
                        codes.push(None);
                        break;
                    }
                }
            }
        }
        assert!(codes.contains(&Some(1001)), "{codes:?}");
    });
    c.s.wait_exit();
    assert_eq!(c.members(), 0, "{}", c.s.stderr());
}

/// Allows `?token=letmein` with a context, denies any other token.
const AUTH_PY: &str = r#"
def handler(event, context):
    token = (event.get("queryStringParameters") or {}).get("token")
    effect = "Allow" if token == "letmein" else "Deny"
    return {"principalId": "alice",
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}]},
            "context": {"user": "alice", "type": event["type"]}}
"#;

#[test]
fn lambda_authorizer_on_connect() {
    let c = chat(&[]);
    let s = &c.s;
    let zip = zip_file(s.data_path(), "auth.zip", &[("auth.py", AUTH_PY, 0o644)]);
    create_function(s, "auth", "python3.12", "auth.handler", &zip, &[]);
    grant_authorizer(s, "auth", &c.api);
    // HTTP APIs' members are refused on a WebSocket API.
    let e = v2_err(
        s,
        &[
            "create-authorizer",
            "--api-id",
            &c.api,
            "--name",
            "a",
            "--authorizer-type",
            "REQUEST",
            "--authorizer-uri",
            &fn_uri("auth"),
            "--identity-source",
            "route.request.querystring.token",
            "--authorizer-payload-format-version",
            "2.0",
        ],
    );
    assert!(e.stderr.contains("BadRequestException"), "{}", e.stderr);
    let authorizer = v2(
        s,
        &[
            "create-authorizer",
            "--api-id",
            &c.api,
            "--name",
            "a",
            "--authorizer-type",
            "REQUEST",
            "--authorizer-uri",
            &fn_uri("auth"),
            "--identity-source",
            "route.request.querystring.token",
        ],
    )["AuthorizerId"]
        .as_str()
        .unwrap()
        .to_string();
    let routes = v2(s, &["get-routes", "--api-id", &c.api]);
    let connect_route = routes["Items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["RouteKey"] == "$connect")
        .unwrap()["RouteId"]
        .as_str()
        .unwrap()
        .to_string();
    let e = v2_err(
        s,
        &[
            "update-route",
            "--api-id",
            &c.api,
            "--route-id",
            &connect_route,
            "--authorization-type",
            "JWT",
            "--authorizer-id",
            &authorizer,
        ],
    );
    assert!(e.stderr.contains("BadRequestException"), "{}", e.stderr);
    let custom = [
        "--authorization-type",
        "CUSTOM",
        "--authorizer-id",
        &authorizer,
    ];
    update_route(s, &c.api, &connect_route, &custom);
    rt().block_on(async {
        for (query, status) in [("", 401), ("?token=nope", 403)] {
            match tokio_tungstenite::connect_async(c.url(query)).await {
                Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
                    assert_eq!(r.status(), status, "{query}")
                }
                other => panic!("{query} should be refused: {:?}", other.map(|x| x.1)),
            }
        }
        assert_eq!(
            c.members(),
            0,
            "refused clients never reach $connect's integration"
        );
        let (mut ws, _) = connect(&c.url("?token=letmein&name=alice"), None).await;
        ws.send(Message::text(r#"{"action":"sendmessage","text":"hello"}"#))
            .await
            .unwrap();
        let mut got = vec![next_text(&mut ws).await, next_text(&mut ws).await];
        got.sort();
        assert_eq!(got, ["hello", "sent"]);
        ws.close(None).await.unwrap();
        c.wait_members(0);
    });
    // The authorizer's context reaches every event of the connection.
    for e in c.events() {
        let a = &e["requestContext"]["authorizer"];
        assert_eq!(a["principalId"], "alice", "{e:#}");
        assert_eq!(a["user"], "alice");
        assert_eq!(a["type"], "REQUEST");
    }
}
