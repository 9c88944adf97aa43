//! Where throttle buckets and usage counters live: in this process (the default), or in
//! Redis for a cluster (`--redis`), so limits hold across nodes.

use std::sync::Arc;
use std::time::Duration;

use tollgate_gateway::response_cache::{local_factory, CacheFactory};
use tollgate_store::throttle::{BucketRegistry, Buckets};
use tollgate_store::usage::{LocalUsage, UsageCounters};
use tollgate_store::Store;
use tollgate_store_redis::{is_redis_url, FailureMode, Link, RedisBuckets, RedisUsage};

use crate::error::CliError;

/// How often a node saves its usage counts, and (with a shared store) reloads every
/// node's: GetUsage through any node shows a request within two of these.
const SHARED_USAGE_SYNC: Duration = Duration::from_millis(500);

#[derive(clap::Args)]
pub struct RedisArgs {
    /// A Redis server shared by the cluster's nodes for throttling and quotas
    /// (`redis://host:6379/N`, N the database; `rediss://` for TLS, verified against the
    /// system's roots). Without it, limits are enforced per node.
    #[arg(long, env = "TOLLGATE_REDIS", hide_env_values = true)]
    pub redis: Option<String>,
    /// Prefix of every key this cluster writes in Redis.
    #[arg(long, env = "TOLLGATE_REDIS_PREFIX", default_value = "tollgate:")]
    pub redis_prefix: String,
    /// While Redis is unreachable: `open` lets requests through without distributed
    /// limits, `closed` answers them 503.
    #[arg(long, env = "TOLLGATE_REDIS_FAILURE", value_enum, default_value_t = RedisFailure::Open)]
    pub redis_failure: RedisFailure,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum RedisFailure {
    Open,
    Closed,
}

/// The node's limits: what the gateway and the control plane count with, the local
/// counts to save on shutdown, and where stages' responses are cached.
pub struct Limits {
    pub usage: Arc<dyn UsageCounters>,
    pub buckets: Arc<dyn Buckets>,
    pub local: Arc<LocalUsage>,
    pub response_caches: Box<CacheFactory>,
    /// The shared tier of Lambda authorizer caches (with Redis).
    pub authorizer_results: Option<Box<tollgate_authorizers::SharedFactory>>,
    /// The link to Redis (`--redis`).
    pub link: Option<Arc<Link>>,
}

/// Loads the usage counts, starts saving them, and connects to Redis when asked.
pub async fn start(args: &RedisArgs, store: &Arc<Store>, shared: bool) -> Result<Limits, CliError> {
    let local = Arc::new(LocalUsage::load(store).await?);
    let every = if shared {
        SHARED_USAGE_SYNC
    } else {
        Duration::from_secs(1)
    };
    tollgate_store::usage::spawn_flusher(store.clone(), local.clone(), every, shared);
    let Some(url) = &args.redis else {
        if shared {
            tracing::warn!(
                "cluster store without Redis: throttling, quotas and caches are per node \
                 (quota counts are added up in the database)"
            );
        }
        return Ok(Limits {
            usage: local.clone(),
            buckets: Arc::new(BucketRegistry::default()),
            local,
            response_caches: local_factory(),
            authorizer_results: None,
            link: None,
        });
    };
    if !is_redis_url(url) {
        return Err(CliError::RedisUrl);
    }
    let failure = match args.redis_failure {
        RedisFailure::Open => FailureMode::Open,
        RedisFailure::Closed => FailureMode::Closed,
    };
    let link = Link::open(url, &args.redis_prefix, failure)
        .await
        .map_err(|e| CliError::Redis(e.to_string()))?;
    Ok(Limits {
        usage: Arc::new(RedisUsage::new(local.clone(), link.clone())),
        buckets: Arc::new(RedisBuckets::new(link.clone())),
        local,
        response_caches: crate::redis_cache::factory(link.clone()),
        authorizer_results: Some(crate::redis_cache::authorizer_results(link.clone())),
        link: Some(link),
    })
}
