//! API key phase: for methods with `apiKeyRequired`, the `x-api-key` header must name an
//! enabled key of a usage plan that includes this API stage.

use std::sync::Arc;

use http::HeaderMap;
use tollgate_model::{ApiKeySourceType, GatewayResponseType as T};

use crate::compile::CompiledMethod;
use crate::error::GatewayError;
use crate::runtime::{KeyBinding, StageLimits};

fn forbidden() -> GatewayError {
    GatewayError::new(T::InvalidApiKey, "Forbidden")
}

/// Made at compile time (a `&str` name is parsed on every lookup).
const X_API_KEY: http::HeaderName = http::HeaderName::from_static("x-api-key");

/// The key's binding and value when the method requires a key; `None` when it does not.
/// The key is the `x-api-key` header, or with `apiKeySource: AUTHORIZER` the Lambda
/// authorizer's `usageIdentifierKey` (`authorizer_key`).
pub fn check<'l, 'r>(
    method: &CompiledMethod,
    api_key_source: ApiKeySourceType,
    limits: &'l StageLimits,
    headers: &'r HeaderMap,
    authorizer_key: Option<&'r str>,
) -> Result<Option<(&'l Arc<KeyBinding>, &'r str)>, GatewayError> {
    if !method.api_key_required {
        return Ok(None);
    }
    let value = match api_key_source {
        ApiKeySourceType::Header => headers.get(X_API_KEY).and_then(|v| v.to_str().ok()),
        ApiKeySourceType::Authorizer => authorizer_key,
    }
    .ok_or_else(forbidden)?;
    let binding = limits.keys.get(value).ok_or_else(forbidden)?;
    Ok(Some((binding, value)))
}
