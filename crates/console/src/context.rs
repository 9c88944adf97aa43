//! The console's state: its configuration, sessions and the loopback CSRF token.

use std::path::PathBuf;
use std::sync::Arc;

use crate::session::{self, Sessions};

/// Where the console's pages live.
pub const PREFIX: &str = "/_tollgate";

/// What the console needs from the process.
pub struct ConsoleConfig {
    /// The control plane's router: every console call is a signed request to it.
    pub admin: axum::Router,
    /// The credentials a loopback caller acts with (the account root).
    pub root: (String, String),
    /// The region signatures are scoped to.
    pub region: String,
    /// Whether the listeners speak TLS: the session cookie is then `Secure`, and a login
    /// may come from beyond loopback.
    pub tls: bool,
    /// Access logs (`{api}-{stage}.log`).
    pub access_log_dir: PathBuf,
    /// Execution logs (`{api}-{stage}.log`).
    pub execution_log_dir: PathBuf,
    /// Function logs (`{name}.log`).
    pub function_log_dir: PathBuf,
}

pub struct Console {
    pub(crate) config: ConsoleConfig,
    pub(crate) sessions: Sessions<session::Credentials>,
    /// The CSRF token of loopback callers (who have no session): random per process.
    pub(crate) loopback_csrf: String,
}

impl Console {
    pub fn new(config: ConsoleConfig) -> Arc<Console> {
        Arc::new(Console {
            config,
            sessions: Sessions::default(),
            loopback_csrf: session::random_token(),
        })
    }
}
