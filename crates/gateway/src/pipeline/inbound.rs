//! What the edge hands a pipeline: an [`Inbound`] request, and the [`ApiPipeline`] contract
//! every API kind's pipeline meets.

use std::net::SocketAddr;
use std::sync::Arc;

use http::Response;

use crate::body::GatewayBody;
use crate::frontend::Addressed;
use crate::runtime::ApiEntry;
use crate::Gateway;

/// A request the edge addressed to a deployed API, handed to its kind's pipeline. An
/// upgrade request keeps its `hyper::upgrade::OnUpgrade` in `parts.extensions`, for a
/// pipeline that takes upgrades (WebSocket APIs).
pub struct Inbound<'t> {
    pub parts: http::request::Parts,
    pub body: crate::invocation::RequestBody,
    pub remote: SocketAddr,
    /// The connection is TLS.
    pub tls: bool,
    /// The certificate a mutual TLS client presented (custom domains with a truststore).
    pub client_cert: Option<std::sync::Arc<crate::domains::ClientCert>>,
    /// The request head as an HTTP/1 client sent it (its header names' case).
    pub raw_head: Option<crate::header_case::RawHead>,
    /// `None`: no frontend entry matched (a data-plane-only listener answers 403).
    pub addressed: Option<Addressed<'t, ApiEntry>>,
}

/// The connection's place under `--max-connections`, held by the edge while it serves the
/// connection. Upgrade requests carry a clone in their extensions: a pipeline that takes
/// the socket over (WebSocket APIs) keeps it for the socket's life, so an upgraded
/// connection still counts against the cap after hyper lets go of it.
#[derive(Clone)]
pub struct ConnectionSlot(pub Arc<tokio::sync::OwnedSemaphorePermit>);

/// The pipeline of one API kind: what the edge hands an addressed request to. Dispatched
/// by a `match` on [`crate::frontend::ApiKind`], so a request pays no boxed future.
// Only called inside this crate with concrete types, so the futures' `Send` is known.
#[allow(async_fn_in_trait)]
pub trait ApiPipeline {
    async fn serve(&self, gw: &Gateway, req: Inbound<'_>) -> Response<GatewayBody>;
}
