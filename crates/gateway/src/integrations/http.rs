//! HTTP and HTTP_PROXY integrations: one pooled keep-alive client per worker thread, for
//! `http://` and `https://` backends (rustls, with the system's root certificates), and one
//! per stage client certificate or `insecureSkipVerification` the thread meets.

use std::error::Error as _;
use std::time::Duration;

use http::{Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tollgate_model::GatewayResponseType as T;

use super::backend_tls::{self, BackendTls, StageBackendTls};
use super::call::{Answer, Call, CallRecord, Integration};
use crate::body::GatewayBody;
use crate::error::{GatewayError, MAX_BODY};
use crate::invocation::{IntegrationOutput, Invocation, RequestBody};
use crate::pipeline::integration_request::{self, BackendRequest};
use crate::pipeline::respond;

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

#[derive(Clone)]
pub struct HttpClient {
    client: Client<Connector, GatewayBody>,
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
        .build(connector);
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
    GatewayError::new(T::IntegrationFailure, "Internal server error")
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

    fn build(req: BackendRequest) -> Result<Request<GatewayBody>, GatewayError> {
        let mut r = Request::new(req.body);
        *r.method_mut() = req.method;
        *r.uri_mut() = req.uri;
        *r.headers_mut() = req.headers;
        Ok(r)
    }

    /// Sends and returns as soon as the backend's headers arrive (the body streams).
    pub async fn send(
        &self,
        req: BackendRequest,
        timeout: Duration,
    ) -> Result<Response<Incoming>, GatewayError> {
        let req = Self::build(req)?;
        match tokio::time::timeout(timeout, self.client.request(req)).await {
            Err(_) => Err(timeout_error()),
            Ok(Err(e)) => Err(failure(&e)),
            Ok(Ok(r)) => Ok(r),
        }
    }

    /// Sends and reads the whole response within the timeout (non-proxy integrations
    /// need the body to select and render the integration response).
    pub async fn send_buffered(
        &self,
        req: BackendRequest,
        timeout: Duration,
        max_body: usize,
    ) -> Result<IntegrationOutput, GatewayError> {
        let req = Self::build(req)?;
        let exchange = async {
            let resp = self.client.request(req).await.map_err(|e| failure(&e))?;
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
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| timeout_error())?
    }
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
        let req = integration_request::http_proxy(inv, i, call.params, body)?;
        let client = HttpClient::for_backend(inv.backend_tls, i.insecure_skip_verification);
        let resp = rec.timed(client.send(req, i.timeout)).await;
        let resp = resp?;
        rec.status = Some(resp.status().as_u16());
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
        let body = body.collect(call.body_stall).await?;
        let (payload, context) = integration_request::payload(inv, i, call.params, &body)?;
        rec.endpoint_request(inv, &payload);
        let req = integration_request::http(inv, i, call.params, &body, payload, context.as_ref())?;
        let client = HttpClient::for_backend(inv.backend_tls, i.insecure_skip_verification);
        let out = rec
            .timed(client.send_buffered(req, i.timeout, MAX_BODY))
            .await;
        let out = out?;
        rec.status = Some(out.status);
        rec.endpoint_response(inv, &out.body);
        Ok(Answer::Output(out))
    }
}
