//! The network edge: TCP listeners, HTTP/1.1 and HTTP/2 connections, and the split between
//! the data plane and the control plane on a shared listener.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::body::GatewayBody;
use crate::pipeline::addressing;
use crate::Gateway;

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
}

/// hyper's read buffer bounds what a request head may take in memory. The data plane
/// enforces AWS's exact 10240-byte limit itself (with an API Gateway-shaped answer).
const MAX_READ_BUFFER: usize = 32 * 1024;
/// How long SIGTERM waits for requests in flight.
const DRAIN: Duration = Duration::from_secs(30);

/// Serves `listeners` until `shutdown` resolves, then drains open connections (bounded).
///
/// Connections are served by `workers` threads, each with its own single-threaded tokio
/// runtime accepting from the same sockets (thread per core, like nginx's workers): a
/// request, its backend connection and its response stay on one thread, with no
/// cross-thread wake-ups. Control-plane calls are handed to the calling (main) runtime,
/// where the store's blocking writes belong.
pub async fn serve(
    listeners: Vec<(TcpListener, Role)>,
    gateway: Arc<Gateway>,
    control: ControlPlane,
    workers: usize,
    shutdown: impl Future<Output = ()>,
) {
    let main = tokio::runtime::Handle::current();
    let mut sockets = Vec::new();
    for (listener, role) in listeners {
        match listener.into_std() {
            Ok(l) => sockets.push((l, role)),
            Err(e) => tracing::error!(error = %e, "cannot hand a listener to the workers"),
        }
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut threads = Vec::new();
    for n in 0..workers.max(1) {
        let mut mine = Vec::new();
        for (l, role) in &sockets {
            match l.try_clone() {
                Ok(c) => mine.push((c, *role)),
                Err(e) => tracing::error!(error = %e, "cannot share a listener with worker {n}"),
            }
        }
        let (gateway, control, main, stop) = (
            gateway.clone(),
            control.clone(),
            main.clone(),
            stop_rx.clone(),
        );
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
                rt.block_on(worker(mine, gateway, control, main, stop));
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

/// One worker thread: accepts on every listener until told to stop, then drains.
async fn worker(
    sockets: Vec<(std::net::TcpListener, Role)>,
    gateway: Arc<Gateway>,
    control: ControlPlane,
    main: tokio::runtime::Handle,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let graceful = Arc::new(GracefulShutdown::new());
    let mut accept_tasks = Vec::new();
    for (socket, role) in sockets {
        let listener = match TcpListener::from_std(socket) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, "worker cannot use a listener");
                continue;
            }
        };
        let (gateway, control, main, graceful, mut stop) = (
            gateway.clone(),
            control.clone(),
            main.clone(),
            graceful.clone(),
            stop.clone(),
        );
        accept_tasks.push(tokio::spawn(async move {
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .max_buf_size(MAX_READ_BUFFER)
                .keep_alive(true);
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
                let _ = stream.set_nodelay(true);
                let (gateway, control, main) = (gateway.clone(), control.clone(), main.clone());
                let service = service_fn(move |req: Request<Incoming>| {
                    let (gateway, control, main) = (gateway.clone(), control.clone(), main.clone());
                    async move {
                        Ok::<_, std::convert::Infallible>(
                            dispatch(role, &gateway, &control, &main, req, remote).await,
                        )
                    }
                });
                let conn = builder
                    .serve_connection_with_upgrades(TokioIo::new(stream), service)
                    .into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
        }));
    }
    for t in accept_tasks {
        let _ = t.await;
    }
    let graceful = Arc::try_unwrap(graceful).unwrap_or_else(|_| GracefulShutdown::new());
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("drain timed out; closing remaining connections");
    }
}

async fn dispatch(
    role: Role,
    gw: &Gateway,
    control: &ControlPlane,
    main: &tokio::runtime::Handle,
    req: Request<Incoming>,
    remote: SocketAddr,
) -> Response<GatewayBody> {
    let is_data = role == Role::DataPlane || {
        let host = req
            .headers()
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .or(req.uri().host());
        role == Role::Shared && addressing::classify(host, req.uri().path()).is_some()
    };
    if is_data {
        return gw.serve(req, remote).await;
    }
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
