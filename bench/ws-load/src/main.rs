//! Load client for bench/ws_echo.sh. Two modes, both on one thread (the script pins it to
//! one core, the gateway to the other):
//!
//! `ws-load echo URL CONNECTIONS SECONDS`: every connection sends a message and waits for
//! its answer, in a closed loop; prints the round-trip percentiles and the message rate.
//!
//! `ws-load post URL BASE CONNECTIONS SECONDS INFLIGHT`: opens CONNECTIONS sockets, learns
//! each one's connection id (the stage's `$default` route answers it), then INFLIGHT
//! keep-alive HTTP/1.1 clients POST SigV4-signed (`test`/`test`, service `execute-api`)
//! to `BASE/@connections/{id}` round-robin; prints the accepted posts per second and the
//! messages the sockets received.
//!
//! Percentiles come from every sample, sorted; nothing is sampled or estimated.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

type Socket = tokio_tungstenite::WebSocketStream<TcpStream>;

const MESSAGE: &str = r#"{"action":"echo","n":1}"#;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match args.first().map(String::as_str) {
        Some("echo") if args.len() == 4 => rt.block_on(echo(
            &args[1],
            args[2].parse().expect("CONNECTIONS"),
            args[3].parse().expect("SECONDS"),
        )),
        Some("post") if args.len() == 6 => rt.block_on(post(
            &args[1],
            &args[2],
            args[3].parse().expect("CONNECTIONS"),
            args[4].parse().expect("SECONDS"),
            args[5].parse().expect("INFLIGHT"),
        )),
        _ => {
            eprintln!(
                "usage: ws-load echo URL CONNECTIONS SECONDS\n       ws-load post URL BASE CONNECTIONS SECONDS INFLIGHT"
            );
            std::process::exit(2);
        }
    }
}

async fn open(url: &str) -> Socket {
    let host = url.trim_start_matches("ws://").split('/').next().unwrap();
    let tcp = TcpStream::connect(host).await.expect("connect");
    tcp.set_nodelay(true).unwrap();
    let (ws, _) = tokio_tungstenite::client_async(url, tcp)
        .await
        .expect("handshake");
    ws
}

async fn next_text(ws: &mut Socket) -> String {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return t.to_string(),
            Some(Ok(Message::Close(c))) => panic!("closed by the gateway: {c:?}"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => panic!("read: {e}"),
            None => panic!("connection ended"),
        }
    }
}

/// Closed-loop round trips; the first second warms up and is not counted.
async fn echo(url: &str, connections: usize, seconds: u64) {
    let mut sockets = Vec::with_capacity(connections);
    for _ in 0..connections {
        sockets.push(open(url).await);
    }
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(1);
    let end = measure_from + Duration::from_secs(seconds);
    let tasks: Vec<_> = sockets
        .into_iter()
        .map(|mut ws| {
            tokio::spawn(async move {
                let mut samples = Vec::new();
                loop {
                    let sent = Instant::now();
                    if sent >= end {
                        break;
                    }
                    ws.send(Message::text(MESSAGE)).await.expect("send");
                    next_text(&mut ws).await;
                    if sent >= measure_from {
                        samples.push(sent.elapsed().as_nanos() as u64);
                    }
                }
                let _ = ws.close(None).await;
                samples
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    report_latency(connections, seconds, all);
}

fn report_latency(connections: usize, seconds: u64, mut samples: Vec<u64>) {
    samples.sort_unstable();
    let pct = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    println!(
        "echo connections={connections} messages={} rate={:.0}/s p50={:.1}us p90={:.1}us p99={:.1}us",
        samples.len(),
        samples.len() as f64 / seconds as f64,
        pct(0.50) as f64 / 1000.0,
        pct(0.90) as f64 / 1000.0,
        pct(0.99) as f64 / 1000.0,
    );
}

/// Percent-encodes a connection id as one path segment (AWS ids end in `=`).
fn encode_segment(id: &str) -> String {
    let mut out = String::new();
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn post(url: &str, base: &str, connections: usize, seconds: u64, inflight: usize) {
    let mut ids = Vec::with_capacity(connections);
    let received = Arc::new(AtomicU64::new(0));
    let mut readers = Vec::new();
    for _ in 0..connections {
        let mut ws = open(url).await;
        ws.send(Message::text(MESSAGE)).await.expect("send");
        ids.push(next_text(&mut ws).await);
        let received = received.clone();
        readers.push(tokio::spawn(async move {
            while let Some(Ok(m)) = ws.next().await {
                if m.is_text() || m.is_binary() {
                    received.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let authority = base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let prefix = base
        .trim_start_matches("http://")
        .trim_start_matches(&authority)
        .trim_end_matches('/')
        .to_string();
    let paths: Arc<Vec<String>> = Arc::new(
        ids.iter()
            .map(|id| format!("{prefix}/@connections/{}", encode_segment(id)))
            .collect(),
    );
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let end = started + Duration::from_secs(seconds);
    let mut clients = Vec::new();
    for c in 0..inflight {
        let (paths, authority, ok, failed) =
            (paths.clone(), authority.clone(), ok.clone(), failed.clone());
        clients.push(tokio::spawn(async move {
            let tcp = TcpStream::connect(&authority).await.expect("connect");
            tcp.set_nodelay(true).unwrap();
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
                    .await
                    .expect("http handshake");
            tokio::spawn(conn);
            let credential = tollgate_sigv4::Credential {
                secret_access_key: "test".into(),
                session_token: None,
            };
            let signer = tollgate_sigv4::Signer {
                access_key_id: "test",
                credential: &credential,
                region: "us-east-1",
                service: "execute-api",
            };
            let body = Bytes::from_static(b"{\"push\":true}");
            let mut i = c;
            while Instant::now() < end {
                let path = &paths[i % paths.len()];
                i += inflight;
                let mut headers = http::HeaderMap::new();
                headers.insert("host", authority.parse().unwrap());
                tollgate_sigv4::sign(
                    "POST",
                    path,
                    None,
                    &mut headers,
                    &body,
                    &signer,
                    SystemTime::now(),
                );
                let mut req = http::Request::post(path.as_str())
                    .body(Full::new(body.clone()))
                    .unwrap();
                *req.headers_mut() = headers;
                let resp = sender.send_request(req).await.expect("post");
                let status = resp.status();
                let _ = resp.into_body().collect().await;
                if status == 200 {
                    ok.fetch_add(1, Ordering::Relaxed);
                } else if failed.fetch_add(1, Ordering::Relaxed) == 0 {
                    eprintln!("first refused post: {status}");
                }
            }
        }));
    }
    for c in clients {
        c.await.expect("client");
    }
    let elapsed = started.elapsed().as_secs_f64();
    // Let the last pushes reach the sockets before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ok = ok.load(Ordering::Relaxed);
    println!(
        "post connections={connections} inflight={inflight} accepted={ok} refused={} rate={:.0}/s received={}",
        failed.load(Ordering::Relaxed),
        ok as f64 / elapsed,
        received.load(Ordering::Relaxed),
    );
    for r in readers {
        r.abort();
    }
}
