//! The one error a `tollgate` command ends with; `main` prints it as `tollgate: {error}`.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// `tollgate sam`: a template, parameter or deployment problem.
    #[error("{0}")]
    Sam(String),
    #[error("WebSocket {0}: {1}")]
    WebSocket(String, String),
    #[error("invalid port in {0}")]
    InvalidPort(String),
    #[error("invalid listen address {0} (use IP:PORT or localhost:PORT)")]
    InvalidListenAddress(String),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot create {}: {source}", .path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot resolve {}: {source}", .path.display())]
    Resolve {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "refusing to start: a listener is on a non-loopback address and no credentials are configured. \
         Set --access-key-id and --secret-access-key (or TOLLGATE_ACCESS_KEY_ID / TOLLGATE_SECRET_ACCESS_KEY)."
    )]
    NoCredentials,
    #[error("--access-key-id and --secret-access-key must be given together")]
    PartialCredentials,
    #[error("--lambda-event-retry-delays takes two values, e.g. 60,120")]
    EventRetryDelays,
    /// An `--aws-*` flag that cannot be used.
    #[error("{0}")]
    AwsEndpoint(String),
    #[error("--otlp-endpoint: {0}")]
    Otlp(#[from] tollgate_traces::otlp::OtlpError),
    #[error("--lambda-endpoint {0} is not a URL")]
    LambdaEndpoint(String),
    #[error("--lambda-endpoint needs --lambda-access-key-id and --lambda-secret-access-key")]
    LambdaEndpointCredentials,
    #[error("cannot read --principals {}: {source}", .path.display())]
    PrincipalsFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--principals {}: {source}", .path.display())]
    Principals {
        path: PathBuf,
        source: tollgate_gateway::iam::PrincipalsError,
    },
    #[error("--store takes a Postgres URL: postgres://user@host/db")]
    StoreUrl,
    #[error("--redis takes a Redis URL: redis://host:6379/N or rediss://...")]
    RedisUrl,
    /// The URL could not be used (never repeated: it may hold a password).
    #[error("--redis: {0}")]
    Redis(String),
    #[error(transparent)]
    Store(#[from] tollgate_store::StoreError),
    #[error(transparent)]
    Transfer(#[from] tollgate_store::transfer::TransferError),
    #[error(transparent)]
    Tls(#[from] tollgate_gateway::listener::tls::TlsError),
    #[error(transparent)]
    Functions(#[from] tollgate_functions::StartError),
    #[error("{0} is not a function name")]
    NotAFunction(String),
    #[error("{0} is not an API id")]
    NotAnApi(String),
    #[error("{0} is not a stage name")]
    NotAStage(String),
    #[error("no {kind} log for API {api} in {} (no request logged yet?)", .dir.display())]
    NoApiLog {
        api: String,
        kind: &'static str,
        dir: PathBuf,
    },
    #[error("no log for function {function} in {} (it has not run yet?)", .data_dir.display())]
    NoLog { function: String, data_dir: PathBuf },
    /// Reading a function's log or writing it out.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
