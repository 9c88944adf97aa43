//! Authorization phase. `NONE` passes; the other types (IAM, Lambda and Cognito
//! authorizers) arrive with the authorizer work and until then fail closed with AWS's
//! authorizer configuration error, never letting a protected method through.
//!
//! The phase is async because an authorizer is a call out (a Lambda function, a token
//! check); what it lets through becomes `$context.authorizer`.

use tollgate_model::{AuthorizationType, GatewayResponseType as T};

use crate::compile::CompiledMethod;
use crate::context::AuthorizerContext;
use crate::error::GatewayError;

/// Authorizes one request for `method`: the authorizer's principal and context when one
/// ran, `None` for `NONE`.
pub async fn check(
    method: &CompiledMethod,
) -> Result<Option<Box<AuthorizerContext>>, GatewayError> {
    match method.authorization_type {
        AuthorizationType::None => Ok(None),
        other => {
            tracing::warn!(
                authorization_type = other.as_str(),
                "authorization type not supported yet; refusing the request"
            );
            Err(GatewayError::new(T::AuthorizerConfigurationError, "null"))
        }
    }
}
