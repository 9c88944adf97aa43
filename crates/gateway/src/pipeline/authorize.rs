//! Authorization phase. `NONE` passes; the other types (IAM, Lambda and Cognito
//! authorizers) arrive with the authorizer work and until then fail closed with AWS's
//! authorizer configuration error, never letting a protected method through.

use tollgate_model::{AuthorizationType, GatewayResponseType as T};

use crate::compile::CompiledMethod;
use crate::error::GatewayError;

pub fn check(method: &CompiledMethod) -> Result<(), GatewayError> {
    match method.authorization_type {
        AuthorizationType::None => Ok(()),
        other => {
            tracing::warn!(
                authorization_type = other.as_str(),
                "authorization type not supported yet; refusing the request"
            );
            Err(GatewayError::new(T::AuthorizerConfigurationError, "null"))
        }
    }
}
