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

/// The key's binding when the method requires a key; `None` when it does not.
pub fn check<'l>(
    method: &CompiledMethod,
    api_key_source: ApiKeySourceType,
    limits: &'l StageLimits,
    headers: &HeaderMap,
) -> Result<Option<&'l Arc<KeyBinding>>, GatewayError> {
    if !method.api_key_required {
        return Ok(None);
    }
    // AUTHORIZER keys come from a Lambda authorizer's usageIdentifierKey, which arrives
    // with the authorizer work; until then such methods refuse every key.
    if api_key_source != ApiKeySourceType::Header {
        return Err(forbidden());
    }
    let value = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(forbidden)?;
    limits.keys.get(value).map(Some).ok_or_else(forbidden)
}
