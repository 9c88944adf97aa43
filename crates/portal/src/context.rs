//! The portal's state: configuration, consumer sessions and sign-in attempts.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tollgate_console::session::{Cookie, Sessions};
use tollgate_store::Store;

use crate::attempts::Attempts;
use crate::invoke::Invoker;

/// The consumer session cookie (the portal has its own origin, so its path is `/`).
pub(crate) const SESSION: Cookie = Cookie {
    name: "tollgate_portal",
    path: "/",
};
/// Sessions kept at once; a sign-in beyond drops the oldest.
const CAPACITY: usize = 4096;

/// What the portal needs from the process.
pub struct PortalConfig {
    pub store: Arc<Store>,
    /// The control plane's router: API keys are created and usage read through it.
    pub admin: axum::Router,
    /// The credentials the portal signs its control-plane calls with.
    pub root: (String, String),
    pub region: String,
    /// How long a consumer stays signed in.
    pub session_lifetime: Duration,
    /// A deployed API's base URL, `{apiId}` standing for its id (as the control plane's
    /// `api_endpoint`), shown to consumers.
    pub api_endpoint: Option<String>,
}

/// Who sent one request: the client's address (sign-in attempts are limited per address)
/// and whether it came over TLS (the portal's cookies are then `Secure`). The portal's own
/// listener and a custom domain serving the portal may differ there, so it is per request.
#[derive(Clone, Copy, Debug)]
pub struct Visitor {
    pub addr: IpAddr,
    pub tls: bool,
}

/// A signed-in consumer.
pub(crate) struct Consumer {
    pub email: String,
}

pub struct Portal {
    pub(crate) config: PortalConfig,
    pub(crate) sessions: Sessions<Consumer>,
    pub(crate) attempts: Attempts,
    /// What "Try it" calls deployed APIs with.
    pub(crate) invoker: Invoker,
}

impl Portal {
    pub fn new(config: PortalConfig) -> Arc<Portal> {
        Arc::new(Portal {
            sessions: Sessions::new(config.session_lifetime, CAPACITY),
            attempts: Attempts::default(),
            invoker: Invoker::default(),
            config,
        })
    }
}
