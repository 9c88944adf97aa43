//! `GET /metrics` on the control-plane listener for callers that need no signature: a
//! loopback client, or one with `Authorization: Bearer {--metrics-token}`. Anyone else
//! goes on to the control plane, which answers a SigV4-signed call (the envelope checks
//! the signature) and refuses an unsigned one as it refuses any unsigned call.

use http::{Request, Response};
use hyper::body::Incoming;
use subtle::ConstantTimeEq;
use tollgate_gateway::body::GatewayBody;
use tollgate_gateway::listener::ClientAddr;

pub struct MetricsEndpoint {
    pub registry: tollgate_metrics::Registry,
    /// `--metrics-token`.
    pub token: Option<String>,
}

impl MetricsEndpoint {
    /// The answer when `req` is a `/metrics` scrape this endpoint may answer unsigned.
    pub fn answer(&self, req: &Request<Incoming>) -> Option<Response<GatewayBody>> {
        if req.uri().path() != "/metrics" || req.method() != http::Method::GET {
            return None;
        }
        let host = req
            .headers()
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok());
        if host.is_some_and(tollgate_admin::names_an_api) {
            return None;
        }
        if !(from_loopback(req) || self.bearer_matches(req)) {
            return None;
        }
        let format = tollgate_metrics::Format::from_accept(
            req.headers()
                .get(http::header::ACCEPT)
                .and_then(|h| h.to_str().ok()),
        );
        let mut resp = Response::new(GatewayBody::from_bytes(self.registry.render_as(format)));
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(format.content_type()),
        );
        Some(resp)
    }

    fn bearer_matches(&self, req: &Request<Incoming>) -> bool {
        let Some(token) = self.token.as_deref().filter(|t| !t.is_empty()) else {
            return false;
        };
        req.headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| bool::from(given.as_bytes().ct_eq(token.as_bytes())))
    }
}

/// Whether the client's address is a loopback one.
pub fn from_loopback<B>(req: &Request<B>) -> bool {
    req.extensions()
        .get::<ClientAddr>()
        .is_some_and(|a| a.0.ip().to_canonical().is_loopback())
}
