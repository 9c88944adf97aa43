//! Tollgate's model: the API Gateway resource types, exactly as AWS names and shapes them,
//! and the validation rules that do not need I/O.
//!
//! The types' serde is the STORED shape: what the store writes as a row and reads back. It
//! is AWS's own JSON (camelCase, unset members omitted) and stays stable: renaming or
//! dropping a member, or changing a spelling, would rewrite stored rows, so
//! `tests/stored_shape.rs` pins one fully populated row of every kind. What the control
//! plane answers (the wire) is drawn from these types by `tollgate-admin`'s wire seam,
//! which today shows the stored shape minus Tollgate's own members (deployment snapshots,
//! usage plan key ids) and is where a wire-only rename or a v2 view goes.
//!
//! AWS's closed vocabularies (integration types, authorization types, passthrough
//! behaviours...) are enums ([`vocabulary`]) spelled as AWS spells them, so matching on
//! them happens once, when a request body or a row is read.
//!
//! The control plane (`tollgate-admin`) builds and edits these; the store persists them;
//! the data plane (`tollgate-gateway`) compiles a [`Deployment`]'s snapshot into its runtime
//! form.

pub mod account;
pub mod authorizer;
pub mod deployment;
pub mod documentation;
pub mod domain;
pub mod function_url;
pub mod gateway_response;
pub mod iam;
pub mod ids;
pub mod lambda;
pub mod portal;
pub mod rest_api;
pub mod selection;
pub mod stage;
pub mod test_invoke;
pub mod time;
pub mod usage_plan;
pub mod v2;
pub mod validate;
pub mod vocabulary;
pub mod vpc_link;
pub mod x509;

pub use account::Account;
pub use deployment::{ApiSummaryEntry, Deployment};
pub use documentation::{DocumentationPart, DocumentationPartLocation, DocumentationVersion};
pub use gateway_response::{GatewayResponse, GatewayResponseType};
pub use rest_api::{
    Authorizer, EndpointConfiguration, Integration, IntegrationResponse, Method, MethodResponse,
    Model, RequestValidator, Resource, RestApi, RestApiDefinition, TlsConfig,
};
pub use stage::{AccessLogSettings, CanarySettings, MethodSetting, Stage};
pub use usage_plan::{ApiKey, ApiStage, QuotaSettings, ThrottleSettings, UsagePlan};
pub use vocabulary::{
    ApiKeySourceType, Architecture, AuthorizationType, AuthorizerType, CacheClusterSize,
    CacheClusterStatus, ConnectionType, ContentHandlingStrategy, DeploymentStatus,
    DocumentationPartType, EndpointAccessMode, EndpointType, FunctionState, IntegrationType,
    IpAddressType, LastUpdateStatus, LogFormat, LoggingLevel, PackageType, PassthroughBehavior,
    PayloadFormatVersion, ProtocolType, QuotaPeriodType, ResponseTransferMode, Runtime,
    TracingMode, UnauthorizedCacheControlHeaderStrategy, UnknownValue, V2AuthorizerType,
};

/// The account id that appears in ARNs and error messages.
pub const ACCOUNT_ID: &str = "000000000000";

/// HTTP methods a REST API method may be defined for, in AWS's order.
pub const HTTP_METHODS: [&str; 8] = [
    "GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD", "ANY",
];

/// The methods `ANY` stands for at request time (HEAD included, as AWS does).
pub const ANY_COVERS: [&str; 7] = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];
