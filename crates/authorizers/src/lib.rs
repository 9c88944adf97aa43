//! The authorizer engine: what API Gateway does to decide whether a request may reach its
//! integration, independent of which pipeline asks. REST calls it from its Authorize
//! phase; HTTP and WebSocket APIs add their own event payloads and simple responses on top
//! of the same pieces.
//!
//! - [`lambda`]: Lambda authorizers (TOKEN, REQUEST): identity-source pre-checks, the
//!   identity validation expression, the event, the call through an [`Invoker`] (the
//!   caller's function engine), the output and the decision.
//! - [`event`] and [`output`]: the authorizer's input and output shapes.
//! - IAM policies are evaluated by `tollgate-policy` (re-exported here).
//! - [`cognito`]: Cognito user-pool authorizers (JWTs checked with the pool's JWKS).
//! - [`jwt`]: HTTP APIs' JWT authorizers (OIDC issuers); [`jwks`]: the issuers' keys,
//!   shared by both.
//! - [`http_lambda`]: HTTP APIs' Lambda REQUEST authorizers (payload 1.0/2.0, simple
//!   responses).
//! - [`cache`]: the per-stage result caches, with a per-thread front of decisions
//!   (`front`); [`method_arn`]: the ARN requests are authorized against, formatted lazily.

pub mod cache;
pub mod cognito;
pub mod event;
mod front;
pub mod http_identity;
pub mod http_lambda;
pub mod jwks;
pub mod jwt;
pub mod lambda;
pub mod method_arn;
pub mod output;

pub use cache::{CacheId, ResultCache, ResultCaches, SharedFactory, SharedFuture, SharedResults};
pub use cognito::{Claims, CognitoAuthorizer, Rejection};
pub use jwks::{JwksCache, JwksFetcher};
pub use lambda::{CompileError, Invoked, Invoker, LambdaAuthorizer, Outcome, RequestView};
pub use method_arn::MethodArn;
pub use output::AuthorizerOutput;
pub use tollgate_policy::{ConditionKeys, Decision, Policy, PolicyError};
