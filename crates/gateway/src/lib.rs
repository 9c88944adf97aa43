//! Tollgate's data plane: the listener, the REST API request pipeline and integrations.
//!
//! A [`Gateway`] holds the current [`runtime::Runtime`] behind an `ArcSwap`. A background
//! task spawned by [`Gateway::start`] follows the store's change feed and recompiles what
//! each change touched, so requests never wait on the control plane and never see a
//! half-applied change.

pub mod access_log;
pub mod body;
pub mod client_ip;
pub mod compile;
pub mod compiled;
pub mod compression;
pub mod connections;
pub mod content_handling;
pub mod context;
pub mod cors;
pub mod domains;
pub mod error;
pub mod execution_log;
pub mod frontend;
pub mod header_case;
pub mod http_context;
pub mod iam;
pub mod integrations;
pub mod invocation;
pub mod key_binding;
pub mod listener;
pub mod mapping;
pub mod method_settings;
pub mod metrics;
pub mod pipeline;
pub mod request_ids;
pub mod response_cache;
pub mod response_case;
pub mod router;
pub mod runtime;
pub mod runtime_ws;
pub mod table;
pub mod test_authorizer;
pub mod test_invoke;
pub mod traces;
pub mod uri;
pub mod vpc_link;

use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use tollgate_store::throttle::Buckets;
use tollgate_store::usage::UsageCounters;
use tollgate_store::Store;

use crate::access_log::AccessLogWriter;
use crate::runtime::Runtime;

pub struct Gateway {
    runtime: ArcSwap<Runtime>,
    logs: AccessLogWriter,
    buckets: Arc<dyn Buckets>,
    usage: Arc<dyn UsageCounters>,
    /// The store version the current runtime was built from.
    applied: tokio::sync::watch::Sender<u64>,
    /// Runs Lambda integrations (`None`: they answer 500).
    functions: Option<Arc<tollgate_functions::Functions>>,
    /// How long a request body that is read into memory may stop arriving (`--idle-timeout`).
    body_stall: std::time::Duration,
    /// Lambda authorizers' result caches, kept across rebuilds.
    authorizer_caches: tollgate_authorizers::ResultCaches,
    /// REST stages' response caches, kept across rebuilds.
    response_caches: response_cache::ResponseCaches,
    /// Cognito user pools' keys.
    jwks: tollgate_authorizers::JwksCache,
    /// `--cognito-endpoint`: replaces `https://cognito-idp.{region}.amazonaws.com`.
    cognito_endpoint: Option<String>,
    /// Who may sign requests to `AWS_IAM` methods: recompiled when the store's IAM
    /// entities change (swapped like the runtime; read once per `AWS_IAM` request).
    iam: ArcSwap<iam::Iam>,
    /// The configured callers (the root's keys and `--principals`), IAM's are added to.
    configured_callers: iam::Callers,
    /// Where AWS service integrations send their calls, signed with what.
    aws: Arc<integrations::aws::config::AwsServices>,
    /// VPC links' targets, rebuilt when the links change (read by private integrations).
    vpc_links: ArcSwap<vpc_link::VpcLinks>,
    /// `--vpc-link-target`.
    vpc_link_targets: vpc_link::ConfiguredTargets,
    /// WebSocket connections, by id.
    connections: Arc<dyn connections::ConnectionRegistry>,
    /// Idle timeout, maximum duration and `@connections` signing of WebSocket APIs.
    websocket: connections::WebSocketSettings,
    /// New WebSocket connections of the account (`--websocket-connect-rate`).
    websocket_connects: Arc<dyn tollgate_store::throttle::TokenBucket>,
    /// Where requests are counted (`/metrics`).
    metrics: tollgate_metrics::Registry,
    /// Where execution logs are written.
    execution_log_dir: PathBuf,
    /// Custom domains' TLS configurations, read by TLS listeners per handshake.
    sites: Arc<domains::Sites>,
    /// Where sampled requests' spans go (`--otlp-endpoint`); `None`: nothing is recorded.
    traces: Option<Arc<dyn tollgate_traces::SpanSink>>,
}

/// Where the gateway reports what it does: access logs and metrics.
pub struct Sinks {
    /// Access logs are written under this directory.
    pub access_log_dir: PathBuf,
    /// The registry stages' series are resolved in.
    pub metrics: tollgate_metrics::Registry,
    /// Execution logs are written under this directory.
    pub execution_log_dir: PathBuf,
    /// Where sampled requests' spans are sent (`--otlp-endpoint`), if anywhere.
    pub traces: Option<Arc<dyn tollgate_traces::SpanSink>>,
}

/// What a node shares with the cluster's other nodes (or keeps to itself when alone):
/// usage counts, throttle buckets and response caches.
pub struct Shared {
    pub usage: Arc<dyn UsageCounters>,
    pub buckets: Arc<dyn Buckets>,
    /// Makes each stage's response cache ([`response_cache::local_factory`] for one node).
    pub response_caches: Box<response_cache::CacheFactory>,
    /// The WebSocket connections ([`connections::LocalConnections`] for one node).
    pub connections: Arc<dyn connections::ConnectionRegistry>,
    /// Makes the shared tier of each Lambda authorizer's result cache (`None`: each node
    /// keeps its own only).
    pub authorizer_results: Option<Box<tollgate_authorizers::SharedFactory>>,
}

/// How long things may take: request bodies, and WebSocket connections.
pub struct Timing {
    /// How long a request body that is read into memory may stop arriving.
    pub body_stall: std::time::Duration,
    /// WebSocket idle timeout and maximum duration (and `@connections` signing).
    pub websocket: connections::WebSocketSettings,
}

/// Who the gateway's authorizers know: Cognito's endpoint and the IAM callers.
pub struct Identities {
    /// `--cognito-endpoint`, without a trailing slash.
    pub cognito_endpoint: Option<String>,
    /// The control plane's credentials (the account root) and `--principals`.
    pub callers: iam::Callers,
    /// The endpoints and credentials of AWS service integrations (`--aws-*`).
    pub aws: integrations::aws::config::AwsServices,
    /// `--vpc-link-target ID_OR_ARN=host:port[,...]`.
    pub vpc_link_targets: vpc_link::ConfiguredTargets,
}

impl Gateway {
    /// Builds the gateway from the store's current state and starts following it.
    /// Access logs are written under `sinks.access_log_dir`. Needs a tokio runtime.
    pub fn start(
        store: &Store,
        sinks: Sinks,
        shared: Shared,
        functions: Option<Arc<tollgate_functions::Functions>>,
        timing: Timing,
        identities: Identities,
    ) -> Arc<Gateway> {
        let Timing {
            body_stall,
            websocket,
        } = timing;
        let Shared {
            usage,
            buckets,
            response_caches,
            connections,
            authorizer_results,
        } = shared;
        let logs = AccessLogWriter::start(sinks.access_log_dir);
        let mut feed = store.subscribe();
        let state = feed.current().state.clone();
        let (applied, _) = tokio::sync::watch::channel(state.version);
        let rate = websocket.connect_rate.max(1);
        let websocket_connects =
            buckets.bucket("websocket-connect".into(), f64::from(rate), i64::from(rate));
        let gw = Arc::new(Gateway {
            runtime: ArcSwap::from_pointee(Runtime::default()),
            logs,
            buckets,
            usage,
            applied,
            functions,
            body_stall,
            authorizer_caches: authorizer_results
                .map(tollgate_authorizers::ResultCaches::shared)
                .unwrap_or_default(),
            response_caches: response_cache::ResponseCaches::new(response_caches),
            jwks: Default::default(),
            cognito_endpoint: identities.cognito_endpoint,
            iam: ArcSwap::from_pointee(iam::Iam::with_iam(&identities.callers, &state.iam)),
            configured_callers: identities.callers,
            aws: Arc::new(identities.aws),
            vpc_links: ArcSwap::from_pointee(vpc_link::VpcLinks::build(
                &state.domains,
                &identities.vpc_link_targets,
                &vpc_link::VpcLinks::default(),
            )),
            vpc_link_targets: identities.vpc_link_targets,
            connections,
            websocket,
            websocket_connects,
            metrics: sinks.metrics,
            execution_log_dir: sinks.execution_log_dir,
            sites: Arc::default(),
            traces: sinks.traces,
        });
        gw.runtime
            .store(Arc::new(gw.rebuild(&state, &Runtime::default())));
        let weak = Arc::downgrade(&gw);
        tokio::spawn(async move {
            while let Some(change) = feed.next().await {
                let Some(gw) = weak.upgrade() else { break };
                let state = &change.state;
                let next = gw.rebuild(state, &gw.runtime.load());
                gw.runtime.store(Arc::new(next));
                gw.applied.send_replace(state.version);
                tracing::debug!(version = state.version, "data plane updated");
            }
        });
        gw
    }

    fn rebuild(&self, state: &tollgate_store::State, old: &Runtime) -> Runtime {
        let env = runtime::Env {
            logs: &self.logs,
            buckets: self.buckets.as_ref(),
            usage: self.usage.as_ref(),
            authorizer_caches: &self.authorizer_caches,
            response_caches: &self.response_caches,
            region: self
                .functions
                .as_deref()
                .map_or("us-east-1", tollgate_functions::Functions::region),
            metrics: &self.metrics,
            execution_log_dir: &self.execution_log_dir,
        };
        self.sites.update(&state.domains);
        let links = vpc_link::VpcLinks::build(
            &state.domains,
            &self.vpc_link_targets,
            &self.vpc_links.load(),
        );
        self.vpc_links.store(Arc::new(links));
        if !self.iam.load().compiled_from(&state.iam) {
            let iam = iam::Iam::with_iam(&self.configured_callers, &state.iam);
            self.iam.store(Arc::new(iam));
        }
        let next = runtime::rebuild(state, old, &env);
        // A cache whose stage is gone or serves another deployment now is dropped.
        self.authorizer_caches.retain(|c| {
            next.apis
                .get(&*c.api.to_ascii_lowercase())
                .and_then(|a| a.stages.get(&c.stage))
                .is_some_and(|s| {
                    *s.deployment.deployment_id == *c.deployment
                        || s.canary
                            .as_ref()
                            .is_some_and(|k| *k.deployment.deployment_id == *c.deployment)
                })
        });
        // A stage whose cache was turned off (or that is gone) loses it.
        self.response_caches.retain(|api, stage| {
            next.apis
                .get(&*api.to_ascii_lowercase())
                .and_then(|a| a.stages.get(stage))
                .is_some_and(|s| s.cache.is_some())
        });
        next
    }

    /// FlushStageCache: empties the stage's response cache.
    pub async fn flush_stage_cache(&self, api: &str, stage: &str) {
        self.response_caches.flush_stage(api, stage).await;
    }

    /// Whether the stage's response cache exists on this node (`cacheClusterStatus`).
    pub fn stage_cache_exists(&self, api: &str, stage: &str) -> bool {
        self.response_caches.exists(api, stage)
    }

    /// FlushStageAuthorizersCache (REST) and ResetAuthorizersCache (HTTP APIs): empties
    /// the stage's authorizer result caches, for every node of a cluster.
    pub async fn flush_authorizer_cache(&self, api: &str, stage: &str) {
        for shared in self.flush_authorizer_cache_here(api, stage) {
            shared.await;
        }
    }

    /// Empties this node's copies of the stage's authorizer result caches (another node
    /// flushed them); the futures that empty their shared tiers.
    pub fn flush_authorizer_cache_here(
        &self,
        api: &str,
        stage: &str,
    ) -> Vec<tollgate_authorizers::SharedFuture<'static, ()>> {
        let mut shared = self.authorizer_caches.flush_stage(api, stage);
        let runtime = self.runtime.load();
        let http_stage = runtime
            .http_apis
            .get(api.to_ascii_lowercase().as_str())
            .and_then(|a| a.stages.get(stage));
        for cache in http_stage.iter().flat_map(|s| s.authorizer_caches.values()) {
            cache.flush();
            shared.extend(cache.flush_shared());
        }
        shared
    }

    /// Closes every WebSocket connection with 1001 (going away), as the gateway stops;
    /// each runs its `$disconnect`.
    pub fn close_websockets(&self) {
        self.connections.close_all(1001, "Going away");
    }

    /// Writes every access and execution log line buffered so far (the requests are
    /// drained: the last lines must not be lost on a graceful stop).
    pub fn flush_logs(&self) {
        self.logs.flush();
    }

    /// The registry requests are counted in.
    pub fn metrics(&self) -> &tollgate_metrics::Registry {
        &self.metrics
    }

    /// Open WebSocket connections.
    pub fn websocket_connections(&self) -> usize {
        self.connections.len()
    }

    /// Follows the store version the data plane serves, so a control-plane write can wait
    /// until it is live.
    /// The custom domains' TLS configurations (for [`listener::tls::TlsEdge`]).
    pub fn sites(&self) -> Arc<domains::Sites> {
        self.sites.clone()
    }

    pub fn applied_version(&self) -> tokio::sync::watch::Receiver<u64> {
        self.applied.subscribe()
    }
}
