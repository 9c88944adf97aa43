//! HTTP and HTTP_PROXY integrations. Plain `http://` backends are called by [`h1`] (its own
//! keep-alive connections per worker thread); `https://` ones through one pooled hyper
//! client per worker thread (rustls, with the system's root certificates), and one per stage
//! client certificate or `insecureSkipVerification` the thread meets.

use std::error::Error as _;
use std::future::Future;
use std::time::Duration;

use futures_util::FutureExt;

use http::{Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tollgate_model::GatewayResponseType as T;

use super::backend_head::{self, Capturing};
use super::backend_tls::{self, BackendTls, StageBackendTls};
use super::call::{Answer, Call, CallRecord, Integration};
use super::h1;
use crate::body::GatewayBody;
use crate::error::{GatewayError, MAX_BODY};
use crate::execution_log::{java_map, redacted};
use crate::integrations::lambda::title_case;
use crate::invocation::{IntegrationOutput, Invocation, RequestBody};
use crate::pipeline::integration_request::{self, BackendRequest};
use crate::pipeline::proxy_head;
use crate::pipeline::respond::{self, NameRule};

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

#[derive(Clone)]
pub struct HttpClient {
    client: Client<Capturing<Connector>, GatewayBody>,
}

fn tcp() -> HttpConnector {
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    http.set_connect_timeout(Some(Duration::from_secs(10)));
    http.enforce_http(false);
    http
}

fn pooled(connector: Connector) -> HttpClient {
    let client = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(256)
        .build(Capturing(connector));
    HttpClient { client }
}

impl Default for HttpClient {
    fn default() -> Self {
        let http = tcp();
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let builder = match hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider.clone())
        {
            Ok(b) => b,
            Err(e) => {
                // Still serve http:// backends; https:// ones will fail verification.
                tracing::warn!(error = %e, "no system root certificates found");
                let config = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .expect("ring supports the default TLS versions")
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth();
                hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config)
            }
        };
        pooled(builder.https_or_http().enable_http1().wrap_connector(http))
    }
}

/// Clients of other TLS configurations a thread has used, by configuration id; bounded
/// (stages recompiled many times leave old ids behind).
const MAX_TLS_CLIENTS: usize = 64;

/// `exchange` within the integration's timeout.
pub(crate) async fn with_timeout<T>(
    timeout: Duration,
    exchange: impl std::future::Future<Output = Result<T, GatewayError>>,
) -> Result<T, GatewayError> {
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| timeout_error())?
}

fn timeout_error() -> GatewayError {
    GatewayError::new(T::IntegrationTimeout, "Endpoint request timed out")
}

fn failure(e: &hyper_util::client::legacy::Error) -> GatewayError {
    // The client's body hit the 10 MB limit while streaming to the backend.
    let mut src = e.source();
    while let Some(s) = src {
        if s.is::<http_body_util::LengthLimitError>() {
            return GatewayError::too_large();
        }
        src = s.source();
    }
    tracing::info!(error = %e, "integration request failed");
    if e.is_connect() {
        // No connection to be had (the name does not resolve, nothing listens): AWS calls
        // such an integration's address invalid, a configuration error (recorded).
        return GatewayError::internal().with_log_detail("Invalid endpoint address");
    }
    GatewayError::new(T::IntegrationFailure, "Internal server error")
}

/// A backend call under way.
type Exchange =
    std::pin::Pin<Box<dyn Future<Output = Result<Response<GatewayBody>, GatewayError>> + Send>>;

/// A backend call under way within its timeout (one type for every proxy's call: one
/// state in the future that awaits it, whichever way the request was built).
pub type Timed = futures_util::future::Map<
    tokio::time::Timeout<Exchange>,
    fn(
        Result<Result<Response<GatewayBody>, GatewayError>, tokio::time::error::Elapsed>,
    ) -> Result<Response<GatewayBody>, GatewayError>,
>;

fn timed(exchange: Exchange, timeout: Duration) -> Timed {
    tokio::time::timeout(timeout, exchange).map(|r| r.map_err(|_| timeout_error())?)
}

thread_local! {
    /// One pool per worker thread: a backend connection is used by the thread that owns it.
    static CLIENT: HttpClient = HttpClient::default();
    static TLS_CLIENTS: std::cell::RefCell<Vec<(u64, HttpClient)>> = const { std::cell::RefCell::new(Vec::new()) };
    static INSECURE: Option<BackendTls> = backend_tls::insecure_default();
}

impl HttpClient {
    /// This thread's client.
    pub fn current() -> HttpClient {
        CLIENT.with(HttpClient::clone)
    }

    /// This thread's client for a stage's client certificate and an integration's
    /// `insecureSkipVerification`.
    pub fn for_backend(stage: Option<&StageBackendTls>, insecure: bool) -> HttpClient {
        let pick = |tls: &BackendTls| Self::with_config(tls);
        match (stage, insecure) {
            (None, false) => Self::current(),
            (Some(t), false) => pick(&t.verified),
            (Some(t), true) => pick(&t.insecure),
            (None, true) => INSECURE.with(|i| i.as_ref().map_or_else(Self::current, pick)),
        }
    }

    fn with_config(tls: &BackendTls) -> HttpClient {
        TLS_CLIENTS.with(|c| {
            let mut clients = c.borrow_mut();
            if let Some((_, client)) = clients.iter().find(|(id, _)| *id == tls.id) {
                return client.clone();
            }
            if clients.len() >= MAX_TLS_CLIENTS {
                clients.remove(0);
            }
            let connector = hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config((*tls.config).clone())
                .https_or_http()
                .enable_http1()
                .wrap_connector(tcp());
            let client = pooled(connector);
            clients.push((tls.id, client.clone()));
            client
        })
    }

    fn build(req: BackendRequest) -> Request<GatewayBody> {
        let mut r = Request::new(req.body);
        *r.method_mut() = req.method;
        *r.uri_mut() = req.uri;
        *r.headers_mut() = req.headers;
        r
    }

    // `send` and `send_buffered` build the request at once and answer a future that owns
    // only what it waits on: as `async fn`s they would also keep their arguments (the
    // request) in the future of every request that calls them.

    /// Sends and returns as soon as the backend's headers arrive (the body streams).
    /// A plain `http://` backend is called by [`h1`], any other through hyper's client.
    pub fn send(
        &self,
        req: BackendRequest,
        timeout: Duration,
    ) -> impl Future<Output = Result<Response<GatewayBody>, GatewayError>> {
        tokio::time::timeout(timeout, self.exchange(req)).map(|r| r.map_err(|_| timeout_error())?)
    }

    /// Sends with no timeout of its own. Boxed, as hyper's client boxes its own: inline,
    /// `h1`'s ~1.5 KB would size every request's future, which is copied whole once per
    /// request (and one box type for both keeps `send`'s future as small as it can be).
    fn exchange(&self, req: BackendRequest) -> Exchange {
        self.exchange_by(req, None)
    }

    /// [`Self::exchange`]; with a `rule`, the answer as a proxy passes it on
    /// ([`respond::proxy_response_by`]), which the `http://` client does as it parses it.
    fn exchange_by(&self, req: BackendRequest, rule: Option<NameRule>) -> Exchange {
        if req.uri.scheme() == Some(&http::uri::Scheme::HTTP) {
            return Box::pin(h1::exchange(req, rule));
        }
        let request = self.client.request(Self::build(req));
        Box::pin(request.map(move |r| match r {
            Err(e) => Err(failure(&e)),
            Ok(r) => {
                let resp = backend_head::into_gateway(r);
                Ok(match rule {
                    Some(rule) => respond::proxy_response_by(resp, rule),
                    None => resp,
                })
            }
        }))
    }

    /// [`Self::send`] for a proxy: the answer's headers are those `rule` passes on, under
    /// its names (hop-by-hop ones dropped).
    pub fn send_proxied(&self, req: BackendRequest, timeout: Duration, rule: NameRule) -> Timed {
        timed(self.exchange_by(req, Some(rule)), timeout)
    }

    /// [`Self::send_proxied`] of a request whose head is written already (to a plain
    /// `http://` backend).
    pub fn send_written(req: h1::WrittenRequest, timeout: Duration, rule: NameRule) -> Timed {
        timed(Box::pin(h1::exchange_written(req, Some(rule))), timeout)
    }

    /// Sends and reads the whole response within the timeout (non-proxy integrations
    /// need the body to select and render the integration response).
    pub fn send_buffered(
        &self,
        req: BackendRequest,
        timeout: Duration,
        max_body: usize,
    ) -> impl Future<Output = Result<IntegrationOutput, GatewayError>> {
        let request = self.exchange(req);
        let exchange = async move { read_output(request.await?, max_body).await };
        tokio::time::timeout(timeout, exchange).map(|r| r.map_err(|_| timeout_error())?)
    }

    /// Sends once, with no timeout of its own; a refused or failed connection is told
    /// apart (a VPC link then tries its next target).
    pub async fn attempt(&self, req: BackendRequest) -> Result<Response<Incoming>, Attempt> {
        self.client.request(Self::build(req)).await.map_err(|e| {
            if e.is_connect() {
                Attempt::Unreachable(failure(&e))
            } else {
                Attempt::Failed(failure(&e))
            }
        })
    }
}

/// Why [`HttpClient::attempt`] got no response.
pub enum Attempt {
    /// No connection could be made.
    Unreachable(GatewayError),
    Failed(GatewayError),
}

/// Reads a backend's whole answer for the integration response.
pub async fn read_output(
    resp: Response<GatewayBody>,
    max_body: usize,
) -> Result<IntegrationOutput, GatewayError> {
    let (parts, body) = resp.into_parts();
    let body = http_body_util::Limited::new(body, max_body)
        .collect()
        .await
        .map_err(|_| GatewayError::new(T::IntegrationFailure, "Internal server error"))?
        .to_bytes();
    Ok(IntegrationOutput {
        selection: crate::invocation::Selection::Status,
        overrides: None,
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    })
}

/// The backend request's URI and headers, when the request keeps an execution log.
fn logged_request(inv: &Invocation<'_>, req: &BackendRequest) -> Option<(String, String)> {
    inv.ctx.execution_log.as_ref()?;
    Some((req.uri.to_string(), logged_headers(&req.headers)))
}

/// Headers as an execution log shows them: a Java map, credentials masked.
fn logged_headers(headers: &http::HeaderMap) -> String {
    let shown: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| {
            let name = title_case(n.as_str());
            let value = redacted(n.as_str(), &String::from_utf8_lossy(v.as_bytes()));
            (name, value)
        })
        .collect();
    java_map(shown.iter().map(|(n, v)| (n.as_str(), v.as_str())))
}

/// `HTTP_PROXY`: the client's request and body stream to the backend, and its answer
/// streams back as it is.
pub struct HttpProxy;

impl Integration for HttpProxy {
    async fn call(
        &self,
        call: &Call<'_, '_>,
        inv: &Invocation<'_>,
        rec: &mut CallRecord,
        body: RequestBody,
    ) -> Result<Answer, GatewayError> {
        let i = call.integration;
        // The head written as the client's is read, no map built (a plain `http://`
        // backend; the execution log shows the map).
        let written = match inv.ctx.execution_log {
            None => proxy_head::written(inv, i, call.params, body),
            Some(_) => Err(body),
        };
        let sent = match written {
            Ok(req) => HttpClient::send_written(req, i.timeout, respond::remapped),
            Err(body) => {
                let req = integration_request::http_proxy(inv, i, call.params, body)?;
                let client = HttpClient::for_backend(inv.backend_tls, i.insecure_skip_verification);
                match logged_request(inv, &req) {
                    // Renamed as it is read: the answer's headers go into one map, not two.
                    None => client.send_proxied(req, i.timeout, respond::remapped),
                    // Boxed: rare, and inline it would size every proxied request's future.
                    Some(sent) => {
                        return Box::pin(Self::logged(inv, rec, client, req, sent, i.timeout)).await
                    }
                }
            }
        };
        let resp = rec.timed(sent).await?;
        rec.status = Some(resp.status().as_u16());
        Ok(Answer::Response(resp))
    }
}

impl HttpProxy {
    /// A call whose execution log shows the backend's headers as it sent them.
    async fn logged(
        inv: &Invocation<'_>,
        rec: &mut CallRecord,
        client: HttpClient,
        req: BackendRequest,
        (uri, headers): (String, String),
        timeout: Duration,
    ) -> Result<Answer, GatewayError> {
        let resp = rec.timed(client.send(req, timeout)).await?;
        rec.status = Some(resp.status().as_u16());
        rec.exchange(
            inv,
            || uri,
            || (Some(headers), logged_headers(resp.headers())),
        );
        Ok(Answer::Response(respond::proxy_response(resp)))
    }
}

/// `HTTP`: the mapped request goes to the backend, whose answer is read for the
/// integration response.
pub struct Http;

impl Integration for Http {
    async fn call(
        &self,
        call: &Call<'_, '_>,
        inv: &Invocation<'_>,
        rec: &mut CallRecord,
        body: RequestBody,
    ) -> Result<Answer, GatewayError> {
        let i = call.integration;
        let r = call.render(inv, rec, body).await?;
        let req =
            integration_request::http(inv, i, call.params, &r.body, r.payload, r.context.as_ref())?;
        let sent = logged_request(inv, &req);
        let client = HttpClient::for_backend(inv.backend_tls, i.insecure_skip_verification);
        let out = rec
            .timed(client.send_buffered(req, i.timeout, MAX_BODY))
            .await;
        let out = out.inspect_err(|e| {
            if e.log_detail.is_some() {
                rec.unsent();
            }
        })?;
        let response_headers = sent.as_ref().map(|_| logged_headers(&out.headers));
        let answer = rec.output(inv, out);
        if let (Some((uri, headers)), Some(response_headers)) = (sent, response_headers) {
            rec.exchange(inv, || uri, || (Some(headers), response_headers));
        }
        Ok(answer)
    }
}
