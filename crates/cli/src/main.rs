//! `tollgate`: the command line. It only parses flags and wires the crates together:
//! the store, the control plane (admin), the data plane (gateway) and the listeners.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

mod allocator;
mod aws;
mod error;
mod limits;
mod logs;
mod metrics;
mod redis_cache;
mod redis_connections;
mod sam;
mod store;
mod ws;

use clap::{Parser, Subcommand};
use http_body_util::BodyExt;
use tollgate_gateway::body::GatewayBody;
use tollgate_gateway::listener::{
    ClientAddr, ControlPlane, Limits, Listener, OverTls, Role, Timeouts,
};
use tollgate_gateway::Gateway;
use tollgate_model::test_invoke::{TestInvokeRequest, TestInvokeResponse};
use tower::ServiceExt;

use crate::error::CliError;

#[derive(Parser)]
#[command(name = "tollgate", version, about = "A self-hosted Amazon API Gateway")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway: control plane and data plane on one listener (by default).
    Serve(Box<ServeArgs>),
    /// Print a Lambda function's log (START/END/REPORT lines and the function's output), or
    /// with `--api` an API's access or execution log.
    Logs(logs::LogsArgs),
    /// Create or upgrade the schema of a shared (Postgres) store; `serve` also does it at
    /// start.
    Migrate(store::StoreArg),
    /// Write the whole state (APIs, keys, plans, functions' settings, usage) as JSON to
    /// stdout, from --store or the data dir.
    Export(store::TransferArgs),
    /// Read a state written by `export` from stdin into --store or the data dir, which must
    /// hold no state yet; every id is kept.
    Import(store::TransferArgs),
    /// Connect to a WebSocket API: send messages, print what arrives.
    Ws(ws::WsArgs),
    /// Run a SAM application on a running gateway: create or update its functions and
    /// APIs from template.yaml and print the APIs' URLs.
    Sam(sam::SamArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Where state and logs are kept (with --store: node-local files only, such as
    /// unpacked function code and logs).
    #[arg(long, env = "TOLLGATE_DATA_DIR", default_value = "./.tollgate")]
    data_dir: PathBuf,
    #[command(flatten)]
    store: store::StoreArg,
    #[command(flatten)]
    redis: limits::RedisArgs,
    #[command(flatten)]
    aws: aws::AwsArgs,
    /// Address of the main listener (data plane, and control plane unless --admin-listen is
    /// given). `localhost:PORT` binds both 127.0.0.1 and ::1.
    #[arg(long, env = "TOLLGATE_LISTEN", default_value = "localhost:4566")]
    listen: String,
    /// Put the control plane on its own listener (the main one then serves APIs only).
    #[arg(long, env = "TOLLGATE_ADMIN_LISTEN")]
    admin_listen: Option<String>,
    /// This node's name in a cluster: every `/metrics` series carries `node="ID"`, so the
    /// nodes' scrapes never collide. Default with --store: the address --listen bound.
    #[arg(long, env = "TOLLGATE_NODE_ID")]
    node_id: Option<String>,
    /// Where the cluster's other nodes reach this node's main listener, to pass on
    /// `@connections` calls for the WebSocket connections it holds (with --redis).
    /// Default: `http://` (`https://` with --tls-cert) and the address --listen bound,
    /// this host's name in place of an unspecified address (0.0.0.0, ::).
    #[arg(long, env = "TOLLGATE_NODE_URL")]
    node_url: Option<String>,
    /// Region shown in ARNs and accepted in signatures.
    #[arg(long, env = "TOLLGATE_REGION", default_value = "us-east-1")]
    region: String,
    /// Access key id the control plane accepts (default: `test`, loopback only).
    #[arg(long, env = "TOLLGATE_ACCESS_KEY_ID")]
    access_key_id: Option<String>,
    /// Secret access key for --access-key-id.
    #[arg(long, env = "TOLLGATE_SECRET_ACCESS_KEY", hide_env_values = true)]
    secret_access_key: Option<String>,
    /// Where access logs are written (default: DATA_DIR/access-logs).
    #[arg(long, env = "TOLLGATE_ACCESS_LOG_DIR")]
    access_log_dir: Option<PathBuf>,
    /// Threads serving connections (default: one per CPU).
    #[arg(long, env = "TOLLGATE_WORKERS")]
    workers: Option<usize>,
    /// Seconds a client may take to send a request head, from its first byte; then the
    /// connection is closed.
    #[arg(long, env = "TOLLGATE_HEADER_TIMEOUT", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout: u64,
    /// Seconds a connection may stay open with no request in flight and no traffic (and a
    /// control-plane request body may stall).
    #[arg(long, env = "TOLLGATE_IDLE_TIMEOUT", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout: u64,
    /// Seconds a WebSocket connection may go without a frame either way; then it is closed
    /// with 1001 (AWS: 10 minutes).
    #[arg(long, env = "TOLLGATE_WEBSOCKET_IDLE_TIMEOUT", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    websocket_idle_timeout: u64,
    /// Seconds a WebSocket connection may last; then it is closed with 1001 (AWS: 2 hours).
    #[arg(long, env = "TOLLGATE_WEBSOCKET_MAX_DURATION", default_value_t = 7200, value_parser = clap::value_parser!(u64).range(1..))]
    websocket_max_duration: u64,
    /// New WebSocket connections per second for the whole gateway (AWS: 500 per account
    /// and region); more are refused with 429.
    #[arg(long, env = "TOLLGATE_WEBSOCKET_CONNECT_RATE", default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..))]
    websocket_connect_rate: u32,
    /// Accept unsigned `@connections` calls (PostToConnection, GetConnection,
    /// DeleteConnection). For development only; off by default.
    #[arg(long, env = "TOLLGATE_CONNECTIONS_ALLOW_UNSIGNED")]
    connections_allow_unsigned: bool,
    /// Open connections each listener accepts; more are closed at once (and logged).
    #[arg(long, env = "TOLLGATE_MAX_CONNECTIONS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    max_connections: u64,
    /// Replaces `https://cognito-idp.{region}.amazonaws.com` for Cognito user-pool
    /// authorizers: keys are read from `{URL}/{poolId}/.well-known/jwks.json` and tokens
    /// must have `iss` = `{URL}/{poolId}`.
    #[arg(long, env = "TOLLGATE_COGNITO_ENDPOINT")]
    cognito_endpoint: Option<String>,
    /// A JSON file of further IAM callers of `AWS_IAM` methods, besides the account root
    /// (the control-plane credentials): `{"principals": [{"accessKeyId", "secretAccessKey",
    /// "arn", "policies": [...]}]}`.
    #[arg(long, env = "TOLLGATE_PRINCIPALS")]
    principals: Option<PathBuf>,
    /// A Lambda-compatible endpoint (e.g. `https://lambda.eu-west-1.amazonaws.com`) where
    /// functions this instance does not host are invoked, SigV4-signed.
    #[arg(long, env = "TOLLGATE_LAMBDA_ENDPOINT")]
    lambda_endpoint: Option<String>,
    /// Region for --lambda-endpoint signatures (default: --region).
    #[arg(long, env = "TOLLGATE_LAMBDA_REGION")]
    lambda_region: Option<String>,
    /// Access key id for --lambda-endpoint.
    #[arg(long, env = "TOLLGATE_LAMBDA_ACCESS_KEY_ID")]
    lambda_access_key_id: Option<String>,
    /// Secret access key for --lambda-endpoint.
    #[arg(
        long,
        env = "TOLLGATE_LAMBDA_SECRET_ACCESS_KEY",
        hide_env_values = true
    )]
    lambda_secret_access_key: Option<String>,
    /// Session token for --lambda-endpoint (temporary credentials).
    #[arg(long, env = "TOLLGATE_LAMBDA_SESSION_TOKEN", hide_env_values = true)]
    lambda_session_token: Option<String>,
    /// Seconds a call to --lambda-endpoint may take, answer included (Lambda's longest
    /// function timeout by default).
    #[arg(long, env = "TOLLGATE_LAMBDA_ENDPOINT_TIMEOUT", default_value_t = 900)]
    lambda_endpoint_timeout: u64,
    /// Seconds an idle function worker is kept warm before it is stopped.
    #[arg(long, env = "TOLLGATE_LAMBDA_IDLE_TIMEOUT", default_value_t = 600)]
    lambda_idle_timeout: u64,
    /// Seconds before the first and second retry of a failed Event invocation (Lambda's
    /// schedule is 60 and 120).
    #[arg(long, env = "TOLLGATE_LAMBDA_EVENT_RETRY_DELAYS", value_delimiter = ',', default_values_t = [60, 120])]
    lambda_event_retry_delays: Vec<u64>,
    /// `enforce`: API Gateway may invoke a function only if its resource policy allows it
    /// (`aws lambda add-permission`), as on AWS. `warn`: log the denial and invoke anyway.
    #[arg(long, env = "TOLLGATE_LAMBDA_PERMISSIONS", value_enum, default_value_t = LambdaPermissions::Enforce)]
    lambda_permissions: LambdaPermissions,
    /// A PEM certificate chain: every listener then speaks TLS (HTTPS, HTTP/2 by ALPN), with
    /// this certificate for any server name.
    #[arg(long, env = "TOLLGATE_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "TOLLGATE_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// A bearer token that lets a scraper beyond loopback read `GET /metrics` unsigned
    /// (`Authorization: Bearer TOKEN`); SigV4-signed scrapes work without it.
    #[arg(long, env = "TOLLGATE_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// An OpenTelemetry collector's base URL (OTLP over HTTP/protobuf; `/v1/traces` is
    /// appended, as OTEL_EXPORTER_OTLP_ENDPOINT is read), e.g. http://localhost:4318.
    /// Sampled requests (a REST stage's tracingEnabled, or the caller's Sampled=1) are
    /// sent as a span per request with one per phase that did work.
    #[arg(long, env = "TOLLGATE_OTLP_ENDPOINT")]
    otlp_endpoint: Option<String>,
    /// Address of an HTTPS listener for custom domain names (HTTP/2 and HTTP/1.1 by ALPN):
    /// the certificate is the domain's (by SNI), from ACM or uploaded with the domain, and
    /// follows changes without restart; other names get --tls-cert's, if given.
    #[arg(long, env = "TOLLGATE_TLS_LISTEN")]
    tls_listen: Option<String>,
    /// Address of the developer portal's listener (off unless given): published APIs,
    /// consumer sign-up and API keys. Nothing of the control plane answers there.
    #[arg(long, env = "TOLLGATE_PORTAL_LISTEN")]
    portal_listen: Option<String>,
    /// How long a portal consumer stays signed in, in seconds.
    #[arg(long, env = "TOLLGATE_PORTAL_SESSION_TTL", default_value_t = 8 * 3600)]
    portal_session_ttl: u64,
    /// Diagnostics filter (tracing syntax), e.g. `info` or `tollgate_gateway=debug`.
    #[arg(long, env = "TOLLGATE_LOG", default_value = "info")]
    log: String,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LambdaPermissions {
    Enforce,
    Warn,
}

/// Resolves `host:port`; `localhost` means both loopback addresses.
fn resolve(addr: &str) -> Result<Vec<SocketAddr>, CliError> {
    if let Some(port) = addr.strip_prefix("localhost:") {
        let port: u16 = port
            .parse()
            .map_err(|_| CliError::InvalidPort(addr.to_string()))?;
        return Ok(vec![
            SocketAddr::from(([127, 0, 0, 1], port)),
            SocketAddr::from((IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]), port)),
        ]);
    }
    addr.parse::<SocketAddr>()
        .map(|a| vec![a])
        .map_err(|_| CliError::InvalidListenAddress(addr.to_string()))
}

async fn bind(
    addrs: &[SocketAddr],
    role: Role,
    out: &mut Vec<(tokio::net::TcpListener, Role)>,
) -> Result<(), CliError> {
    let mut bound = 0;
    for (i, a) in addrs.iter().enumerate() {
        match tokio::net::TcpListener::bind(a).await {
            Ok(l) => {
                out.push((l, role));
                bound += 1;
            }
            // ::1 may be missing on hosts without IPv6; the IPv4 loopback is enough.
            Err(e) if i > 0 && bound > 0 => {
                tracing::warn!(address = %a, error = %e, "could not bind; continuing")
            }
            Err(source) => {
                return Err(CliError::Listen {
                    address: *a,
                    source,
                })
            }
        }
    }
    Ok(())
}

/// Where deployed v2 APIs answer (their `apiEndpoint`, `{apiId}` standing for the id): the
/// first listener serving APIs, by `{apiId}.execute-api.localhost` on a loopback address
/// (such names resolve to loopback), else by the path form on its address.
fn api_endpoint(addrs: &[(SocketAddr, Role)], scheme: &str) -> Option<String> {
    let (addr, _) = addrs
        .iter()
        .find(|(_, r)| matches!(r, Role::Shared | Role::DataPlane))?;
    Some(if addr.ip().is_loopback() {
        format!("{scheme}://{{apiId}}.execute-api.localhost:{}", addr.port())
    } else {
        format!("{scheme}://{addr}/_aws/execute-api/{{apiId}}")
    })
}

/// Where function URLs answer (`{urlId}` standing for the id), chosen as for
/// [`api_endpoint`]: `{urlId}.lambda-url.{region}.localhost` on a loopback listener, else the
/// path form.
fn function_url_endpoint(
    addrs: &[(SocketAddr, Role)],
    scheme: &str,
    region: &str,
) -> Option<String> {
    let (addr, _) = addrs
        .iter()
        .find(|(_, r)| matches!(r, Role::Shared | Role::DataPlane))?;
    Some(if addr.ip().is_loopback() {
        format!(
            "{scheme}://{{urlId}}.lambda-url.{region}.localhost:{}/",
            addr.port()
        )
    } else {
        format!("{scheme}://{addr}/_aws/lambda-url/{{urlId}}/")
    })
}

/// The one line announcing where Tollgate listens, e.g. `listening on http://127.0.0.1:4566
/// and http://[::1]:4566 (control plane and APIs)`.
fn listen_line(addrs: &[(SocketAddr, Role)], scheme: &str) -> String {
    let mut groups: Vec<(Role, Vec<String>)> = Vec::new();
    for (addr, role) in addrs {
        let url = format!("{scheme}://{addr}");
        match groups.iter_mut().find(|(r, _)| r == role) {
            Some((_, urls)) => urls.push(url),
            None => groups.push((*role, vec![url])),
        }
    }
    let described: Vec<String> = groups
        .iter()
        .map(|(role, urls)| {
            let what = match role {
                Role::Shared => "control plane and APIs",
                Role::DataPlane => "APIs",
                Role::ControlPlane => "control plane",
                Role::Portal => "developer portal",
            };
            format!("{} ({what})", urls.join(" and "))
        })
        .collect();
    format!("listening on {}", described.join("; "))
}

/// The data directory as an absolute, canonical path, created if missing: function
/// workers run in other directories, so a relative path would name the wrong place.
fn data_dir(dir: &std::path::Path) -> Result<PathBuf, CliError> {
    // Created its owner's only: it holds the store (private keys) and function code.
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|source| CliError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    std::fs::canonicalize(dir).map_err(|source| CliError::Resolve {
        path: dir.to_path_buf(),
        source,
    })
}

struct Invoker(Arc<Gateway>);

impl tollgate_admin::TestInvoker for Invoker {
    fn test_invoke(
        &self,
        req: TestInvokeRequest,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = TestInvokeResponse> + Send + 'static>>
    {
        let gw = self.0.clone();
        Box::pin(async move { gw.test_invoke(req).await })
    }

    fn test_invoke_authorizer(
        &self,
        req: tollgate_model::test_invoke::TestInvokeAuthorizerRequest,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<
                    Output = tollgate_model::test_invoke::TestInvokeAuthorizerResponse,
                > + Send
                + 'static,
        >,
    > {
        let gw = self.0.clone();
        Box::pin(async move { gw.test_invoke_authorizer(req).await })
    }

    fn flush_authorizer_cache(
        &self,
        api: &str,
        stage: &str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'static>> {
        let (gw, api, stage) = (self.0.clone(), api.to_string(), stage.to_string());
        Box::pin(async move { gw.flush_authorizer_cache(&api, &stage).await })
    }

    fn flush_stage_cache(
        &self,
        api: &str,
        stage: &str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'static>> {
        let (gw, api, stage) = (self.0.clone(), api.to_string(), stage.to_string());
        Box::pin(async move { gw.flush_stage_cache(&api, &stage).await })
    }

    fn stage_cache_exists(&self, api: &str, stage: &str) -> bool {
        self.0.stage_cache_exists(api, stage)
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// The IAM callers of `AWS_IAM` methods: the control-plane credentials (the account root)
/// and `--principals`. A file that cannot be used stops the start, naming the problem.
fn callers(
    root: &[(String, String)],
    principals: Option<&std::path::Path>,
) -> Result<tollgate_gateway::iam::Callers, CliError> {
    let callers = tollgate_gateway::iam::Callers::new(root.iter().cloned());
    let Some(path) = principals else {
        return Ok(callers);
    };
    let text = std::fs::read_to_string(path).map_err(|source| CliError::PrincipalsFile {
        path: path.to_path_buf(),
        source,
    })?;
    let callers = callers
        .with_principals(&text)
        .map_err(|source| CliError::Principals {
            path: path.to_path_buf(),
            source,
        })?;
    tracing::info!(callers = callers.len(), "IAM callers loaded");
    Ok(callers)
}

async fn serve(mut args: ServeArgs) -> Result<(), CliError> {
    args.data_dir = data_dir(&args.data_dir)?;
    let main_addrs = resolve(&args.listen)?;
    let admin_addrs = args.admin_listen.as_deref().map(resolve).transpose()?;
    let all_loopback = main_addrs
        .iter()
        .chain(admin_addrs.iter().flatten())
        .all(|a| a.ip().is_loopback());
    let credentials = match (args.access_key_id, args.secret_access_key) {
        (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => vec![(id, secret)],
        (None, None) if all_loopback => vec![("test".to_string(), "test".to_string())],
        (None, None) => return Err(CliError::NoCredentials),
        _ => return Err(CliError::PartialCredentials),
    };
    let callers = callers(&credentials, args.principals.as_deref())?;
    let store = store::open(&args.store, &args.data_dir).await?;
    let log_dir = args
        .access_log_dir
        .unwrap_or_else(|| args.data_dir.join("access-logs"));
    let log_dir_for_console = log_dir.clone();
    let counters = limits::start(&args.redis, &store, args.store.store.is_some()).await?;
    let usage = counters.usage.clone();
    // Bound first: a cluster node is named by the address it really listens on.
    let mut sockets = Vec::new();
    match &admin_addrs {
        None => bind(&main_addrs, Role::Shared, &mut sockets).await?,
        Some(admin) => {
            bind(&main_addrs, Role::DataPlane, &mut sockets).await?;
            bind(admin, Role::ControlPlane, &mut sockets).await?;
        }
    }
    let node = args.node_id.clone().or_else(|| {
        let main = sockets.first().and_then(|(l, _)| l.local_addr().ok());
        args.store
            .store
            .is_some()
            .then(|| main.map_or(args.listen.clone(), |a| a.to_string()))
    });
    let connections = redis_connections::registry(
        redis_connections::NodeAddress {
            url: args.node_url.clone(),
            tls: args.tls_cert.is_some(),
            listen: &args.listen,
        },
        std::time::Duration::from_secs(args.websocket_max_duration),
        &counters,
        &sockets,
    );
    let registry = match &node {
        Some(n) => tollgate_metrics::Registry::with_constant_labels(&[("node", n)]),
        None => tollgate_metrics::Registry::new(),
    };
    let mut functions_config =
        tollgate_functions::FunctionsConfig::new(args.data_dir.clone(), args.region.clone());
    functions_config.metrics = registry.clone();
    functions_config.idle_timeout = std::time::Duration::from_secs(args.lambda_idle_timeout.max(1));
    functions_config.permissions = match args.lambda_permissions {
        LambdaPermissions::Enforce => tollgate_functions::PermissionMode::Enforce,
        LambdaPermissions::Warn => tollgate_functions::PermissionMode::Warn,
    };
    let [first, second] = args.lambda_event_retry_delays[..] else {
        return Err(CliError::EventRetryDelays);
    };
    functions_config.event_retry_delays = [
        std::time::Duration::from_secs(first),
        std::time::Duration::from_secs(second),
    ];
    if let Some(endpoint) = &args.lambda_endpoint {
        let endpoint: http::Uri = endpoint
            .parse()
            .map_err(|_| CliError::LambdaEndpoint(endpoint.clone()))?;
        let (Some(id), Some(secret)) = (
            args.lambda_access_key_id.clone(),
            args.lambda_secret_access_key.clone(),
        ) else {
            return Err(CliError::LambdaEndpointCredentials);
        };
        functions_config.remote = Some(tollgate_functions::remote::RemoteConfig {
            endpoint,
            region: args
                .lambda_region
                .clone()
                .unwrap_or_else(|| args.region.clone()),
            access_key_id: id,
            credential: tollgate_sigv4::Credential {
                secret_access_key: secret,
                session_token: args.lambda_session_token.clone(),
            },
            timeout: std::time::Duration::from_secs(args.lambda_endpoint_timeout),
        });
    }
    let functions = tollgate_functions::Functions::start(functions_config, &store)?;
    let otlp = match &args.otlp_endpoint {
        Some(base) => {
            let resource = vec![("cloud.region", args.region.clone())];
            let sink = tollgate_traces::otlp::OtlpSink::start(base, resource)?;
            tracing::info!(endpoint = %tollgate_traces::otlp::traces_url(base), "sending traces over OTLP");
            Some(Arc::new(sink))
        }
        None => None,
    };
    let gateway = Gateway::start(
        &store,
        tollgate_gateway::Sinks {
            access_log_dir: log_dir,
            metrics: registry.clone(),
            execution_log_dir: args.data_dir.join("execution-logs"),
            traces: otlp
                .clone()
                .map(|s| s as Arc<dyn tollgate_traces::SpanSink>),
        },
        tollgate_gateway::Shared {
            usage: usage.clone(),
            buckets: counters.buckets.clone(),
            response_caches: counters.response_caches,
            connections,
            authorizer_results: counters.authorizer_results,
        },
        Some(functions.clone()),
        tollgate_gateway::Timing {
            body_stall: std::time::Duration::from_secs(args.idle_timeout),
            websocket: tollgate_gateway::connections::WebSocketSettings {
                idle_timeout: std::time::Duration::from_secs(args.websocket_idle_timeout),
                max_duration: std::time::Duration::from_secs(args.websocket_max_duration),
                connect_rate: args.websocket_connect_rate,
                allow_unsigned: args.connections_allow_unsigned,
            },
        },
        tollgate_gateway::Identities {
            cognito_endpoint: args
                .cognito_endpoint
                .as_deref()
                .map(|e| e.trim_end_matches('/').to_string()),
            callers,
            aws: args.aws.services(&args.region)?,
            vpc_link_targets: args.aws.vpc_link_targets()?,
        },
    );
    if let Some(link) = &counters.link {
        redis_cache::follow_authorizer_flushes(link.clone(), Arc::downgrade(&gateway));
    }
    use tollgate_gateway::listener::tls;
    let default_tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let default = tls::load_certified_key(cert, key)?;
            let certificates = Arc::new(tls::Certificates::new(default));
            Some(tls::default_config(certificates)?)
        }
        _ => None,
    };
    let edge = tls::TlsEdge::new(default_tls.clone(), gateway.sites());
    // The portal's line comes before the main one, which tells a watcher the process is up.
    let mut portal_sockets = Vec::new();
    if let Some(addr) = &args.portal_listen {
        bind(&resolve(addr)?, Role::Portal, &mut portal_sockets).await?;
        let scheme = if default_tls.is_some() {
            "https"
        } else {
            "http"
        };
        for a in portal_sockets
            .iter()
            .filter_map(|(s, _)| s.local_addr().ok())
        {
            tracing::info!("developer portal on {scheme}://{a}");
        }
    }
    let bound: Vec<(SocketAddr, Role)> = sockets
        .iter()
        .filter_map(|(l, role)| Some((l.local_addr().ok()?, *role)))
        .collect();
    let scheme = if default_tls.is_some() {
        "https"
    } else {
        "http"
    };
    tracing::info!("{}", listen_line(&bound, scheme));
    let main_tls = default_tls.is_some().then(|| edge.clone());
    let mut listeners: Vec<Listener> = sockets
        .into_iter()
        .map(|(socket, role)| Listener {
            socket,
            role,
            tls: main_tls.clone(),
        })
        .collect();
    if let Some(addr) = &args.tls_listen {
        let mut tls_sockets = Vec::new();
        bind(&resolve(addr)?, Role::DataPlane, &mut tls_sockets).await?;
        for (socket, role) in tls_sockets {
            if let Ok(a) = socket.local_addr() {
                tracing::info!("TLS listening on https://{a} (custom domains)");
            }
            let tls = Some(edge.clone());
            listeners.push(Listener { socket, role, tls });
        }
    }
    for (socket, role) in portal_sockets {
        listeners.push(Listener {
            socket,
            role,
            tls: main_tls.clone(),
        });
    }
    let root = credentials[0].clone();
    let admin = tollgate_admin::router(tollgate_admin::context(
        store.clone(),
        tollgate_admin::AdminConfig {
            region: args.region.clone(),
            credentials: tollgate_admin::StaticCredentials::new(credentials),
            body_stall: std::time::Duration::from_secs(args.idle_timeout),
            api_endpoint: api_endpoint(&bound, scheme),
            function_url_endpoint: function_url_endpoint(&bound, scheme, &args.region),
            metrics: Some({
                let registry = registry.clone();
                let render: tollgate_admin::MetricsText =
                    Arc::new(move |format| registry.render_as(format));
                render
            }),
            front_door: args.aws.front_door(&args.region)?,
        },
        Some(Arc::new(Invoker(gateway.clone()))),
        Some(gateway.applied_version()),
        Some(usage.clone()),
        Some(functions.clone()),
    ));
    let portal = tollgate_portal::Portal::new(tollgate_portal::PortalConfig {
        store: store.clone(),
        admin: admin.clone(),
        root: root.clone(),
        region: args.region.clone(),
        session_lifetime: std::time::Duration::from_secs(args.portal_session_ttl),
        api_endpoint: api_endpoint(&bound, scheme),
    });
    let console = tollgate_console::Console::new(tollgate_console::ConsoleConfig {
        admin: admin.clone(),
        root,
        region: args.region.clone(),
        tls: default_tls.is_some(),
        access_log_dir: log_dir_for_console,
        execution_log_dir: args.data_dir.join("execution-logs"),
        function_log_dir: args.data_dir.join("functions").join("logs"),
    });
    let scrapes = Arc::new(metrics::MetricsEndpoint {
        registry,
        token: args.metrics_token.clone(),
    });
    let control: ControlPlane = Arc::new(move |req| {
        let admin = admin.clone();
        let scrapes = scrapes.clone();
        let console = console.clone();
        let portal = portal.clone();
        Box::pin(async move {
            // The portal's listener, and a custom domain serving the portal, reach the
            // portal and nothing else.
            if req.extensions().get::<Role>() == Some(&Role::Portal) {
                let addr = req
                    .extensions()
                    .get::<ClientAddr>()
                    .map_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |c| {
                        c.0.ip()
                    });
                let tls = req.extensions().get::<OverTls>().is_some();
                let visitor = tollgate_portal::Visitor { addr, tls };
                let resp = portal.handle(req.map(axum::body::Body::new), visitor).await;
                return resp.map(|b| GatewayBody::Boxed(b.map_err(Into::into).boxed_unsync()));
            }
            if let Some(resp) = scrapes.answer(&req) {
                return resp;
            }
            if tollgate_console::Console::claims(&req) {
                let loopback = metrics::from_loopback(&req);
                let resp = console
                    .handle(req.map(axum::body::Body::new), loopback)
                    .await;
                return resp.map(|b| GatewayBody::Boxed(b.map_err(Into::into).boxed_unsync()));
            }
            let resp = match admin.oneshot(req.map(axum::body::Body::new)).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            resp.map(|b| GatewayBody::Boxed(b.map_err(Into::into).boxed_unsync()))
        })
    });
    let limits = Limits {
        timeouts: Timeouts {
            header: std::time::Duration::from_secs(args.header_timeout),
            idle: std::time::Duration::from_secs(args.idle_timeout),
        },
        max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
        workers: args
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
    };
    let ws_gateway = gateway.clone();
    let logs_gateway = gateway.clone();
    let shutdown = async move {
        shutdown_signal().await;
        // WebSocket connections close with 1001 (going away) and run `$disconnect`; they
        // are given a moment to send their close frames before the workers stop.
        ws_gateway.close_websockets();
        let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while ws_gateway.websocket_connections() > 0 && std::time::Instant::now() < until {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    tollgate_gateway::listener::serve(listeners, gateway, control, limits, shutdown).await;
    // Requests are drained: save the last usage counts and stop the function workers.
    counters.local.flush(&store).await;
    functions.stop_all();
    // The last requests' spans.
    if let Some(otlp) = &otlp {
        otlp.flush(std::time::Duration::from_secs(5)).await;
    }
    // The workers' buffered log lines: waits for the log writer's disk writes.
    tokio::task::block_in_place(|| logs_gateway.flush_logs());
    Ok(())
}

/// The runtime of a one-shot command (migrate, export, import).
fn current_thread() -> Result<tokio::runtime::Runtime, CliError> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Runs the command; its one error is reported by `main`.
fn run(cli: Cli) -> Result<(), CliError> {
    let args = match cli.command {
        Command::Serve(args) => args,
        Command::Logs(args) => return logs::run(args),
        Command::Migrate(arg) => {
            println!("{}", current_thread()?.block_on(store::migrate(&arg))?);
            return Ok(());
        }
        Command::Export(args) => return current_thread()?.block_on(store::export(&args)),
        Command::Import(args) => {
            eprintln!("{}", current_thread()?.block_on(store::import(&args))?);
            return Ok(());
        }
        Command::Ws(args) => return current_thread()?.block_on(ws::run(args)),
        Command::Sam(args) => return current_thread()?.block_on(sam::run(args)),
    };
    let diagnostics = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Escape codes only for a terminal: a file or a pipe gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // A plain level (the default `info`) needs no directive parser: EnvFilter and its regex
    // engine are built only for per-target filters such as `tollgate_gateway=debug`.
    match args.log.parse::<tracing_subscriber::filter::LevelFilter>() {
        Ok(level) => diagnostics.with_max_level(level).init(),
        Err(_) => diagnostics
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_new(&args.log).unwrap_or_else(|_| "info".into()),
            )
            .init(),
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = rt.block_on(serve(*args));
    // Requests are drained and usage is saved by now; do not wait for idle background
    // tasks (the usage flusher's blocking thread, the log writer) to notice.
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    result
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("tollgate: {e}");
        std::process::exit(2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_names_every_listen_address() {
        let v4 = SocketAddr::from(([127, 0, 0, 1], 4566));
        let v6 = SocketAddr::from((IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]), 4566));
        assert_eq!(
            listen_line(&[(v4, Role::Shared), (v6, Role::Shared)], "http"),
            "listening on http://127.0.0.1:4566 and http://[::1]:4566 (control plane and APIs)"
        );
        let admin = SocketAddr::from(([127, 0, 0, 1], 4567));
        assert_eq!(
            listen_line(
                &[(v4, Role::DataPlane), (admin, Role::ControlPlane)],
                "http"
            ),
            "listening on http://127.0.0.1:4566 (APIs); http://127.0.0.1:4567 (control plane)"
        );
    }
}
