//! Why a method (or one of its models) cannot be compiled. Such a method is kept with its
//! error and answers 500; the error is only logged, never shown to the client.

use crate::integrations::aws::target::ServiceUriError;
use crate::integrations::lambda_target::LambdaUriError;

#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("No integration defined for method")]
    NoIntegration,
    #[error("invalid integration method {0}")]
    IntegrationMethod(String),
    #[error("invalid mapping expression {0}")]
    MappingExpression(String),
    #[error("invalid mapping target {0}")]
    MappingTarget(String),
    #[error("invalid header name {0}")]
    HeaderName(String),
    /// AWS refuses mappings to these headers at request time with a 500.
    #[error("illegal header mapping {0}")]
    IllegalHeaderMapping(String),
    /// Lambda is only invoked with POST; AWS answers any other method with a 500.
    #[error("AWS_PROXY integrations invoke Lambda with POST, not {0}")]
    LambdaProxyMethod(String),
    #[error("invalid status {0}")]
    Status(String),
    #[error("invalid selectionPattern {pattern}: {source}")]
    SelectionPattern {
        pattern: String,
        #[source]
        source: regex::Error,
    },
    #[error("mapping template for {content_type} does not parse: {source}")]
    Template {
        content_type: String,
        #[source]
        source: tollgate_vtl::ParseError,
    },
    #[error(transparent)]
    LambdaUri(#[from] LambdaUriError),
    #[error(transparent)]
    ServiceUri(#[from] ServiceUriError),
    #[error("model {0} has no JSON schema")]
    ModelWithoutSchema(String),
    /// The schema is not valid JSON Schema draft 4 (or a `$ref` names no model of the API).
    #[error("model {name}: {reason}")]
    ModelSchema { name: String, reason: String },
}
