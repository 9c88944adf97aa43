//! Tollgate's model: the API Gateway resource types, exactly as AWS names and shapes them,
//! and the validation rules that do not need I/O.
//!
//! The structs serialise to AWS's own JSON (camelCase, unset members omitted), so the wire
//! shape, the stored shape and the in-memory shape are one and the same. The control plane
//! (`tollgate-admin`) builds and edits these; the store persists them; the data plane
//! (`tollgate-gateway`) compiles a [`Deployment`]'s snapshot into its runtime form.

pub mod account;
pub mod deployment;
pub mod gateway_response;
pub mod iam;
pub mod ids;
pub mod lambda;
pub mod rest_api;
pub mod stage;
pub mod test_invoke;
pub mod time;
pub mod usage_plan;
pub mod validate;

pub use account::Account;
pub use deployment::{ApiSummaryEntry, Deployment};
pub use gateway_response::{GatewayResponse, GatewayResponseType};
pub use rest_api::{
    Authorizer, EndpointConfiguration, Integration, IntegrationResponse, Method, MethodResponse,
    Model, RequestValidator, Resource, RestApi, RestApiDefinition, TlsConfig,
};
pub use stage::{AccessLogSettings, CanarySettings, MethodSetting, Stage};
pub use usage_plan::{ApiKey, ApiStage, QuotaSettings, ThrottleSettings, UsagePlan};

/// The account id that appears in ARNs and error messages.
pub const ACCOUNT_ID: &str = "000000000000";

/// HTTP methods a REST API method may be defined for, in AWS's order.
pub const HTTP_METHODS: [&str; 8] = [
    "GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD", "ANY",
];

/// The methods `ANY` stands for at request time (HEAD included, as AWS does).
pub const ANY_COVERS: [&str; 7] = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];
