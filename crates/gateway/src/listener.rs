//! The network edge: TCP listeners, HTTP/1.1 and HTTP/2 connections, and the one
//! classification of every request through the runtime's frontend table: a deployed API's
//! pipeline, or the control plane.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::body::GatewayBody;
use crate::domains::ClientCert;
use crate::frontend;
use crate::header_case::{HeadCapture, RawHead};
use crate::invocation::RequestBody;
use crate::pipeline::inbound::{ConnectionSlot, Inbound};
use crate::response_case::ResponseSpellings;
use crate::Gateway;

mod activity;
mod cap;
mod http1;
mod respell;
pub mod tls;

pub use activity::Timeouts;
use activity::{Activity, Expiry, Tracked, Watched};
use cap::ConnectionCap;
use respell::{NextHead, Respelled};
use tls::TlsEdge;

/// What the listeners allow a client: how long it may take and how many connections all
/// clients together may hold open on one listener.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub timeouts: Timeouts,
    pub max_connections: usize,
    /// Threads serving connections.
    pub workers: usize,
}

/// The control plane as the listener sees it: any async request handler.
pub type ControlPlane = Arc<
    dyn Fn(Request<Incoming>) -> Pin<Box<dyn Future<Output = Response<GatewayBody>> + Send>>
        + Send
        + Sync,
>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Deployed APIs by host or `/_aws/execute-api/`; everything else is the control plane.
    Shared,
    /// Deployed APIs only.
    DataPlane,
    /// The control plane only.
    ControlPlane,
    /// The developer portal only: requests go to the control-plane handler marked with this
    /// role (in their extensions), which hands them to the portal and nothing else. The edge
    /// marks a request for a custom domain serving the portal the same way, on any listener
    /// that serves custom domains.
    Portal,
}

/// hyper's read buffer bounds what a request head may take in memory. The data plane
/// enforces AWS's exact 10240-byte limit itself (with an API Gateway-shaped answer).
const MAX_READ_BUFFER: usize = 32 * 1024;
/// How long SIGTERM waits for requests in flight.
const DRAIN: Duration = Duration::from_secs(30);
/// HTTP/2 streams one connection may have open at once (hyper's default is 200).
const MAX_H2_STREAMS: u32 = 128;
/// HTTP/2 header block limit, like HTTP/1's head (AWS allows 10240 bytes of headers).
const MAX_H2_HEADER_LIST: u32 = 16 * 1024;
/// HTTP/2 peers that stop answering pings are dropped.
const H2_KEEP_ALIVE: Duration = Duration::from_secs(20);

/// One listening socket: what it serves, and whether it speaks TLS.
pub struct Listener {
    pub socket: TcpListener,
    pub role: Role,
    /// `Some`: HTTPS (HTTP/2 or HTTP/1.1 chosen by ALPN), certificates by SNI.
    pub tls: Option<TlsEdge>,
}

/// Serves `listeners` until `shutdown` resolves, then drains open connections (bounded).
///
/// Connections are served by `limits.workers` threads, each with its own single-threaded
/// tokio runtime accepting from the same sockets (thread per core, like nginx's workers): a
/// request, its backend connection and its response stay on one thread, with no
/// cross-thread wake-ups. Control-plane calls are handed to the calling (main) runtime,
/// where the store's blocking writes belong.
pub async fn serve(
    listeners: Vec<Listener>,
    gateway: Arc<Gateway>,
    control: ControlPlane,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let main = tokio::runtime::Handle::current();
    let mut sockets = Vec::new();
    for Listener { socket, role, tls } in listeners {
        let name = socket
            .local_addr()
            .map_or_else(|_| "?".to_string(), |a| a.to_string());
        let cap = ConnectionCap::new(limits.max_connections, name);
        match socket.into_std() {
            Ok(l) => sockets.push((l, role, cap, tls)),
            Err(e) => tracing::error!(error = %e, "cannot hand a listener to the workers"),
        }
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut threads = Vec::new();
    for n in 0..limits.workers.max(1) {
        let mut mine = Vec::new();
        for (l, role, cap, tls) in &sockets {
            match l.try_clone() {
                Ok(c) => mine.push((c, *role, cap.clone(), tls.clone())),
                Err(e) => tracing::error!(error = %e, "cannot share a listener with worker {n}"),
            }
        }
        let shared = Shared {
            gateway: gateway.clone(),
            control: control.clone(),
            main: main.clone(),
            timeouts: limits.timeouts,
        };
        let stop = stop_rx.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("tollgate-worker-{n}"))
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => return tracing::error!(error = %e, "worker runtime failed to start"),
                };
                rt.block_on(worker(mine, shared, stop));
            });
        match spawned {
            Ok(t) => threads.push(t),
            Err(e) => tracing::error!(error = %e, "cannot start worker thread {n}"),
        }
    }
    shutdown.await;
    tracing::info!("shutting down: no new connections; draining requests in flight");
    let _ = stop_tx.send(true);
    let _ = tokio::task::spawn_blocking(move || {
        for t in threads {
            let _ = t.join();
        }
    })
    .await;
}

/// What every connection of a worker needs.
#[derive(Clone)]
struct Shared {
    gateway: Arc<Gateway>,
    control: ControlPlane,
    main: tokio::runtime::Handle,
    timeouts: Timeouts,
}

/// What a connection knows of its transport.
#[derive(Clone)]
struct Transport {
    tls: bool,
    /// The custom domain the TLS handshake was for (by SNI).
    site: Option<Arc<str>>,
    /// The certificate a mutual TLS client presented.
    client_cert: Option<Arc<ClientCert>>,
}

/// One worker thread: accepts on every listener until told to stop, then drains.
async fn worker(
    sockets: Vec<(std::net::TcpListener, Role, ConnectionCap, Option<TlsEdge>)>,
    shared: Shared,
    stop: watch::Receiver<bool>,
) {
    // Every connection task holds a sender; all of them dropped means all drained.
    let (open_tx, mut open_rx) = mpsc::channel::<()>(1);
    let mut accept_tasks = Vec::new();
    for (socket, role, cap, tls) in sockets {
        let listener = match TcpListener::from_std(socket) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, "worker cannot use a listener");
                continue;
            }
        };
        let (shared, open, stop) = (shared.clone(), open_tx.clone(), stop.clone());
        accept_tasks.push(tokio::spawn(accept_loop(
            listener, role, cap, tls, shared, open, stop,
        )));
    }
    drop(open_tx);
    for t in accept_tasks {
        let _ = t.await;
    }
    if tokio::time::timeout(DRAIN, open_rx.recv()).await.is_err() {
        tracing::warn!("drain timed out; closing remaining connections");
    }
}

fn connection_builder() -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .max_buf_size(MAX_READ_BUFFER)
        .keep_alive(true)
        // Head and idle timeouts are the connection's own (see `activity`).
        .header_read_timeout(None);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_H2_STREAMS)
        .max_header_list_size(MAX_H2_HEADER_LIST)
        .keep_alive_interval(H2_KEEP_ALIVE)
        .keep_alive_timeout(H2_KEEP_ALIVE);
    builder
}

async fn accept_loop(
    listener: TcpListener,
    role: Role,
    cap: ConnectionCap,
    tls: Option<TlsEdge>,
    shared: Shared,
    open: mpsc::Sender<()>,
    mut stop: watch::Receiver<bool>,
) {
    let builder = Arc::new(connection_builder());
    loop {
        let (stream, remote) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        // Over the cap the socket is closed at once: the client sees a reset, not a hang.
        let Some(permit) = cap.admit() else {
            continue;
        };
        let slot = ConnectionSlot(Arc::new(permit));
        let _ = stream.set_nodelay(true);
        let (builder, shared, open, stop, tls) = (
            builder.clone(),
            shared.clone(),
            open.clone(),
            stop.clone(),
            tls.clone(),
        );
        tokio::spawn(async move {
            let conn = |transport| Conn {
                remote,
                role,
                slot: slot.clone(),
                transport,
            };
            match tls {
                None => {
                    let plain = Transport {
                        tls: false,
                        site: None,
                        client_cert: None,
                    };
                    serve_connection(&builder, stream, conn(plain), shared, stop).await
                }
                Some(edge) => {
                    // The handshake is bounded like a request head.
                    let handshake = edge.accept(stream);
                    match tokio::time::timeout(shared.timeouts.header, handshake).await {
                        Ok(Ok(accepted)) => {
                            let t = Transport {
                                tls: true,
                                site: accepted.site,
                                client_cert: accepted.client_cert,
                            };
                            let tls = accepted.stream;
                            serve_connection(&builder, tls, conn(t), shared, stop).await
                        }
                        Ok(Err(e)) => tracing::debug!(%remote, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%remote, "TLS handshake not finished in time"),
                    }
                }
            }
            drop((slot, open));
        });
    }
}

/// One accepted connection: who it is from, which listener took it, its place under the
/// listener's cap, and what its TLS handshake established.
struct Conn {
    remote: SocketAddr,
    role: Role,
    slot: ConnectionSlot,
    transport: Transport,
}

/// Serves one connection until its client closes it, it outstays a timeout, or the server
/// drains: by the edge's own HTTP/1.1 on a data-plane listener, then by hyper if the
/// connection needs it (see [`http1`]).
async fn serve_connection<S>(
    builder: &auto::Builder<TokioExecutor>,
    stream: S,
    conn: Conn,
    shared: Shared,
    mut stop: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Activity::new();
    let heads = Arc::new(HeadCapture::default());
    let timeouts = shared.timeouts;
    let (stream, unread) = if matches!(conn.role, Role::Shared | Role::DataPlane) {
        let seen = stop.clone();
        let peer = http1::Peer {
            role: conn.role,
            shared: &shared,
            remote: conn.remote,
            transport: &conn.transport,
            activity: &activity,
            heads: &heads,
            stop: &seen,
        };
        let mut own = std::pin::pin!(http1::serve(stream, peer));
        let ended = tokio::select! {
            outcome = own.as_mut() => Some(outcome),
            expiry = activity.expired(timeouts) => {
                if expiry == Expiry::HeadTimeout {
                    tracing::debug!(remote = %conn.remote, "request head not received in time; connection closed");
                    return;
                }
                None
            }
            _ = stop.wait_for(|stopping| *stopping) => None,
        };
        // Idle or draining: the answer in flight is finished, then the connection closes.
        let outcome = match ended {
            Some(outcome) => outcome,
            None if !activity.busy() => return,
            None => match tokio::time::timeout(DRAIN, own).await {
                Ok(outcome) => outcome,
                Err(_) => return,
            },
        };
        match outcome {
            http1::Outcome::Closed => return,
            http1::Outcome::Handoff(stream, unread) => (stream, unread),
        }
    } else {
        (stream, bytes::Bytes::new())
    };
    let tracker = activity.clone();
    let sent_heads = heads.clone();
    let next_head = Arc::new(NextHead::default());
    let writer_head = next_head.clone();
    let Conn {
        remote,
        role,
        slot,
        transport,
    } = conn;
    let service = service_fn(move |mut req: Request<Incoming>| {
        let (shared, tracker, transport) = (shared.clone(), tracker.clone(), transport.clone());
        tracker.request_started();
        // HTTP/2 heads are HPACK frames: names arrive lower case, nothing to keep.
        let http1 = req.version() <= http::Version::HTTP_11;
        let raw_head = http1.then(|| RawHead(sent_heads.clone()));
        let next_head = http1.then(|| next_head.clone());
        // Only upgrade requests (which already carry hyper's `OnUpgrade`) get the slot.
        if req
            .extensions()
            .get::<hyper::upgrade::OnUpgrade>()
            .is_some()
        {
            req.extensions_mut().insert(slot.clone());
        }
        async move {
            // Boxed: the pipeline's future holds every phase's state (kilobytes), and
            // hyper moves the service future on each hand-off; a box moves a pointer.
            let from = Client {
                remote,
                transport,
                raw_head,
            };
            let mut resp = Box::pin(dispatch(role, &shared, req, from)).await;
            if let Some(next) = next_head {
                next.set(resp.extensions_mut().remove::<ResponseSpellings>());
            }
            Ok::<_, std::convert::Infallible>(resp.map(|b| Tracked::new(b, tracker)))
        }
    });
    let watched = Watched::new(stream, unread, activity.clone(), heads);
    let io = TokioIo::new(Respelled::new(watched, writer_head));
    let conn = builder.serve_connection_with_upgrades(io, service);
    let mut conn = std::pin::pin!(conn);
    let expiry = tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            return;
        }
        expiry = activity.expired(timeouts) => Some(expiry),
        _ = stop.wait_for(|stopping| *stopping) => None,
    };
    if expiry == Some(Expiry::HeadTimeout) {
        tracing::debug!(%remote, "request head not received in time; connection closed");
        return;
    }
    // Idle or draining: finish what is in flight, then close (HTTP/2: GOAWAY).
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(DRAIN, conn).await;
}

/// Where the edge sends a request.
enum Route<'r, B> {
    /// A deployed API's pipeline.
    Api(Inbound<'r>),
    /// The control plane.
    Control(Request<B>),
    /// Answered at the edge.
    Answer(Response<GatewayBody>),
}

/// The edge's one decision: a request the frontend table takes goes to its API kind's
/// pipeline; any other is the control plane's (on a data-plane-only listener, the REST
/// pipeline's 403).
fn route<'r, B: Into<RequestBody>>(
    role: Role,
    runtime: &'r crate::runtime::Runtime,
    req: Request<B>,
    from: Client,
) -> Route<'r, B> {
    let Client {
        remote,
        transport,
        raw_head,
    } = from;
    if role == Role::ControlPlane || role == Role::Portal {
        let mut req = req;
        req.extensions_mut().insert(ClientAddr(remote));
        if role == Role::Portal {
            // The control plane's router hands a portal listener's requests to the portal.
            to_portal(req.extensions_mut(), transport.tls);
        }
        return Route::Control(req);
    }
    let (mut parts, body) = req.into_parts();
    if let Some(path) = parts
        .uri
        .path_and_query()
        .and_then(|p| frontend::user_request_path(p.as_str()))
    {
        if let Ok(uri) = path.parse() {
            // A SigV4 signature covers the path as the client sent it.
            let sent = std::mem::replace(&mut parts.uri, uri);
            parts.extensions.insert(frontend::SignedUri(sent));
        }
    }
    let addressed = runtime
        .frontends
        .classify(frontend::host_of(&parts), parts.uri.path());
    if let Some(domain) = addressed.as_ref().and_then(|a| a.mutual_tls_domain) {
        // A mutual TLS domain only over its own handshake with a verified client
        // certificate: not by Host on another name's connection, nor in plain HTTP.
        let verified = transport.client_cert.is_some() && transport.site.as_deref() == Some(domain);
        if !verified {
            return Route::Answer(forbidden());
        }
    }
    if addressed.as_ref().is_some_and(|a| a.portal) {
        // A custom domain that serves the developer portal: every request is the portal's,
        // as on the portal's own listener, with the path the client sent.
        if let Some(frontend::SignedUri(sent)) = parts.extensions.remove() {
            parts.uri = sent;
        }
        parts.extensions.insert(ClientAddr(remote));
        to_portal(&mut parts.extensions, transport.tls);
        return Route::Control(Request::from_parts(parts, body));
    }
    if addressed.as_ref().is_some_and(|a| a.health_check) {
        // `/ping` and `/sping` on a custom domain: API Gateway's own health checks.
        return Route::Answer(Response::new(GatewayBody::empty()));
    }
    if addressed.is_some() || role == Role::DataPlane {
        return Route::Api(Inbound {
            parts,
            body: body.into(),
            remote,
            tls: transport.tls,
            client_cert: transport.client_cert,
            raw_head,
            addressed,
        });
    }
    parts.extensions.insert(ClientAddr(remote));
    Route::Control(Request::from_parts(parts, body))
}

/// Serves one request. Not an `async fn`, and the decision is a plain function: the
/// future (copied whole once per request) keeps neither its arguments twice nor the
/// decision's temporaries.
#[allow(clippy::manual_async_fn)] // an `async fn` would keep its arguments twice
fn dispatch(
    role: Role,
    shared: &Shared,
    req: Request<Incoming>,
    from: Client,
) -> impl Future<Output = Response<GatewayBody>> + Send + '_ {
    async move {
        let (gw, control, main) = (&shared.gateway, &shared.control, &shared.main);
        let runtime = gw.runtime.load();
        let to = route(role, &runtime, req, from);
        let inbound = match to {
            Route::Api(inbound) => inbound,
            Route::Answer(resp) => return resp,
            Route::Control(req) => {
                // The control plane does not read the runtime; release it before waiting.
                drop(runtime);
                return control_plane(control, main, req).await;
            }
        };
        gw.serve(inbound).await
    }
}

/// Who sent one request: the peer, the connection's transport, and (HTTP/1) its head.
struct Client {
    remote: SocketAddr,
    transport: Transport,
    raw_head: Option<RawHead>,
}

/// The address a control-plane request came from (in its extensions): `/metrics` is
/// open to loopback callers only.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub SocketAddr);

/// In a request's extensions: it came over TLS (the developer portal's cookies are then
/// `Secure`).
#[derive(Clone, Copy, Debug)]
pub struct OverTls;

/// Marks a request for the developer portal: the control-plane handler gives a request
/// marked `Role::Portal` to the portal and nothing else.
fn to_portal(extensions: &mut http::Extensions, tls: bool) {
    extensions.insert(Role::Portal);
    if tls {
        extensions.insert(OverTls);
    }
}

/// API Gateway's 403 for a request a mutual TLS domain refuses.
fn forbidden() -> Response<GatewayBody> {
    let mut r = Response::new(GatewayBody::from_bytes(&b"{\"message\":\"Forbidden\"}"[..]));
    *r.status_mut() = http::StatusCode::FORBIDDEN;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

/// Runs a control-plane call on the main runtime.
async fn control_plane(
    control: &ControlPlane,
    main: &tokio::runtime::Handle,
    req: Request<Incoming>,
) -> Response<GatewayBody> {
    match main.spawn(control(req)).await {
        Ok(resp) => resp,
        Err(e) => {
            tracing::error!(error = %e, "control-plane handler failed");
            let mut r = Response::new(GatewayBody::from_bytes(
                &b"{\"message\":\"Internal failure\"}"[..],
            ));
            *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            r
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn future_size<A, B, C, F: Future>(_: impl FnOnce(A, B, C) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    /// A request's future is copied whole once per request (into the box it is polled in),
    /// and from 4 KiB on glibc copies byte by byte (`rep movsb`: 9,000 of MOCK's 40,000
    /// instructions when it was 9 KB). The rare paths (authorizers, caches, Lambda, HTTP
    /// non-proxy, WebSocket and function URL pipelines) are boxed to keep it under that: a
    /// phase or pipeline that inlines a large future fails here (sizes of this build's
    /// profile; the release build's are smaller).
    #[test]
    fn a_request_s_future_stays_under_4_kib() {
        let size = future_size(
            |shared: &'static Shared, req: Request<Incoming>, from: Client| {
                dispatch(Role::Shared, shared, req, from)
            },
        );
        assert!(size <= 4096, "the request future is {size} bytes");
    }
}
