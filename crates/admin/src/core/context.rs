//! The control plane's shared context: the store, credentials, engines, and the services
//! served.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tollgate_model::test_invoke::{
    TestInvokeAuthorizerRequest, TestInvokeAuthorizerResponse, TestInvokeRequest,
    TestInvokeResponse,
};
use tollgate_store::Store;

use crate::core::credentials::{ControlPlaneKeys, StaticCredentials};

/// What the control plane asks of the data plane (implemented by the gateway, wired in by
/// the binary, so the control plane does not depend on the data plane): TestInvokeMethod
/// runs a method through it, FlushStageAuthorizersCache and FlushStageCache empty its
/// caches, and a stage's `cacheClusterStatus` says whether its response cache exists.
pub trait TestInvoker: Send + Sync {
    fn test_invoke(
        &self,
        req: TestInvokeRequest,
    ) -> Pin<Box<dyn Future<Output = TestInvokeResponse> + Send + 'static>>;

    /// Runs an authorizer for TestInvokeAuthorizer.
    fn test_invoke_authorizer(
        &self,
        req: TestInvokeAuthorizerRequest,
    ) -> Pin<Box<dyn Future<Output = TestInvokeAuthorizerResponse> + Send + 'static>>;

    /// Empties the authorizer result caches of one stage (for every node when they are
    /// shared).
    fn flush_authorizer_cache(
        &self,
        api: &str,
        stage: &str,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

    /// Empties the response cache of one stage (for every node when the cache is
    /// shared).
    fn flush_stage_cache(
        &self,
        api: &str,
        stage: &str,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

    /// Whether the data plane holds a response cache for the stage.
    fn stage_cache_exists(&self, api: &str, stage: &str) -> bool;
}

pub struct AdminConfig {
    pub region: String,
    pub credentials: StaticCredentials,
    /// A request body that stops arriving for this long is abandoned.
    pub body_stall: std::time::Duration,
    /// Where deployed v2 APIs answer, with `{apiId}` for the API's id (a v2 Api's
    /// `apiEndpoint`); `None` is AWS's `https://{apiId}.execute-api.{region}.amazonaws.com`.
    pub api_endpoint: Option<String>,
    /// Where function URLs answer, with `{urlId}` for the URL's id; `None` is AWS's
    /// `https://{urlId}.lambda-url.{region}.on.aws/`.
    pub function_url_endpoint: Option<String>,
    /// Renders the gateway's metrics for a signed `GET /metrics` (`None`: no such route).
    pub metrics: Option<MetricsText>,
    /// Where calls for services Tollgate does not serve go (`None`: nowhere).
    pub front_door: Option<crate::core::front_door::FrontDoor>,
}

/// What renders `/metrics` (Prometheus text or OpenMetrics).
pub type MetricsText = Arc<dyn Fn(tollgate_metrics::Format) -> String + Send + Sync>;

pub struct AdminContext {
    pub store: Arc<Store>,
    /// `AdminConfig::metrics`.
    pub metrics: Option<MetricsText>,
    pub region: String,
    pub verifier: tollgate_sigv4::Verifier<ControlPlaneKeys>,
    /// The same keys, to name the owner of a verified one.
    pub keys: ControlPlaneKeys,
    pub test_invoker: Option<Arc<dyn TestInvoker>>,
    /// The store version the data plane serves; writes wait for it (read-your-writes).
    pub data_plane_version: Option<tokio::sync::watch::Receiver<u64>>,
    /// Usage-plan counters (GetUsage, UpdateUsage).
    pub usage: Option<Arc<dyn tollgate_store::usage::UsageCounters>>,
    /// The Lambda engine (the `lambda` service's operations).
    pub functions: Option<Arc<tollgate_functions::Functions>>,
    /// The services served (normally [`crate::SERVICES`]).
    pub services: crate::core::registry::Registry<Ctx>,
    /// Memory all request bodies in flight may hold together.
    pub(crate) body_budget: crate::core::budget::BodyBudget,
    pub(crate) body_stall: std::time::Duration,
    /// [`AdminConfig::api_endpoint`], resolved.
    pub api_endpoint: String,
    /// [`AdminConfig::function_url_endpoint`], resolved.
    pub function_url_endpoint: String,
    /// [`AdminConfig::front_door`].
    pub front_door: Option<crate::core::front_door::FrontDoor>,
}

impl AdminContext {
    /// A v2 Api's `apiEndpoint`.
    pub fn api_endpoint(&self, api_id: &str) -> String {
        self.api_endpoint.replace("{apiId}", api_id)
    }

    /// A function URL's `FunctionUrl`.
    pub fn function_url(&self, url_id: &str) -> String {
        self.function_url_endpoint.replace("{urlId}", url_id)
    }
}

pub type Ctx = Arc<AdminContext>;
