//! Gateway responses: the errors API Gateway itself answers with, customisable per API.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A gateway response as stored (customised) or reported (default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayResponse {
    pub response_type: GatewayResponseType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    #[serde(default)]
    pub response_parameters: BTreeMap<String, String>,
    #[serde(default)]
    pub response_templates: BTreeMap<String, String>,
    pub default_response: bool,
}

/// The template every default gateway response renders.
pub const DEFAULT_TEMPLATE: &str = "{\"message\":$context.error.messageString}";

/// Every gateway response type, with AWS's default status, message and error type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GatewayResponseType {
    AccessDenied,
    ApiConfigurationError,
    AuthorizerConfigurationError,
    AuthorizerFailure,
    BadRequestBody,
    BadRequestParameters,
    Default4xx,
    Default5xx,
    ExpiredToken,
    IntegrationFailure,
    IntegrationTimeout,
    InvalidApiKey,
    InvalidSignature,
    MissingAuthenticationToken,
    QuotaExceeded,
    RequestTooLarge,
    ResourceNotFound,
    Throttled,
    Unauthorized,
    UnsupportedMediaType,
    WafFiltered,
}

use GatewayResponseType as T;

impl GatewayResponseType {
    pub const ALL: [GatewayResponseType; 21] = [
        T::AccessDenied,
        T::ApiConfigurationError,
        T::AuthorizerConfigurationError,
        T::AuthorizerFailure,
        T::BadRequestBody,
        T::BadRequestParameters,
        T::Default4xx,
        T::Default5xx,
        T::ExpiredToken,
        T::IntegrationFailure,
        T::IntegrationTimeout,
        T::InvalidApiKey,
        T::InvalidSignature,
        T::MissingAuthenticationToken,
        T::QuotaExceeded,
        T::RequestTooLarge,
        T::ResourceNotFound,
        T::Throttled,
        T::Unauthorized,
        T::UnsupportedMediaType,
        T::WafFiltered,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            T::AccessDenied => "ACCESS_DENIED",
            T::ApiConfigurationError => "API_CONFIGURATION_ERROR",
            T::AuthorizerConfigurationError => "AUTHORIZER_CONFIGURATION_ERROR",
            T::AuthorizerFailure => "AUTHORIZER_FAILURE",
            T::BadRequestBody => "BAD_REQUEST_BODY",
            T::BadRequestParameters => "BAD_REQUEST_PARAMETERS",
            T::Default4xx => "DEFAULT_4XX",
            T::Default5xx => "DEFAULT_5XX",
            T::ExpiredToken => "EXPIRED_TOKEN",
            T::IntegrationFailure => "INTEGRATION_FAILURE",
            T::IntegrationTimeout => "INTEGRATION_TIMEOUT",
            T::InvalidApiKey => "INVALID_API_KEY",
            T::InvalidSignature => "INVALID_SIGNATURE",
            T::MissingAuthenticationToken => "MISSING_AUTHENTICATION_TOKEN",
            T::QuotaExceeded => "QUOTA_EXCEEDED",
            T::RequestTooLarge => "REQUEST_TOO_LARGE",
            T::ResourceNotFound => "RESOURCE_NOT_FOUND",
            T::Throttled => "THROTTLED",
            T::Unauthorized => "UNAUTHORIZED",
            T::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            T::WafFiltered => "WAF_FILTERED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// AWS's spellings, in [`Self::ALL`]'s order.
    pub const SPELLINGS: [&'static str; 21] = {
        let mut out = [""; 21];
        let mut i = 0;
        while i < 21 {
            out[i] = Self::ALL[i].as_str();
            i += 1;
        }
        out
    };

    /// AWS's default status (none for the DEFAULT_4XX/5XX fallbacks).
    pub fn default_status(self) -> Option<u16> {
        Some(match self {
            T::AccessDenied => 403,
            T::ApiConfigurationError => 500,
            T::AuthorizerConfigurationError => 500,
            T::AuthorizerFailure => 500,
            T::BadRequestBody => 400,
            T::BadRequestParameters => 400,
            T::Default4xx | T::Default5xx => return None,
            T::ExpiredToken => 403,
            T::IntegrationFailure => 504,
            T::IntegrationTimeout => 504,
            T::InvalidApiKey => 403,
            T::InvalidSignature => 403,
            T::MissingAuthenticationToken => 403,
            T::QuotaExceeded => 429,
            T::RequestTooLarge => 413,
            T::ResourceNotFound => 404,
            T::Throttled => 429,
            T::Unauthorized => 401,
            T::UnsupportedMediaType => 415,
            T::WafFiltered => 403,
        })
    }

    /// The `x-amzn-ErrorType` header value AWS sends with this response.
    pub fn error_type(self) -> &'static str {
        match self {
            T::AccessDenied => "AccessDeniedException",
            T::ApiConfigurationError => "InternalServerErrorException",
            T::AuthorizerConfigurationError => "AuthorizerConfigurationException",
            T::AuthorizerFailure => "AuthorizerFailureException",
            T::BadRequestBody | T::BadRequestParameters => "BadRequestException",
            T::Default4xx => "BadRequestException",
            T::Default5xx => "InternalServerErrorException",
            T::ExpiredToken => "ExpiredTokenException",
            T::IntegrationFailure | T::IntegrationTimeout => "InternalServerErrorException",
            T::InvalidApiKey => "ForbiddenException",
            T::InvalidSignature => "InvalidSignatureException",
            T::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            T::QuotaExceeded => "LimitExceededException",
            T::RequestTooLarge => "RequestTooLargeException",
            T::ResourceNotFound => "ResourceNotFoundException",
            T::Throttled => "TooManyRequestsException",
            T::Unauthorized => "UnauthorizedException",
            T::UnsupportedMediaType => "UnsupportedMediaTypeException",
            T::WafFiltered => "WafFilteredException",
        }
    }

    /// The DEFAULT_4XX / DEFAULT_5XX family this type falls back to.
    pub fn family(self) -> Option<Self> {
        match self.default_status()? {
            400..=499 => Some(T::Default4xx),
            _ => Some(T::Default5xx),
        }
    }

    /// AWS's names in the order its ValidationException lists them (not alphabetical;
    /// recorded: test_gateway_response_validation).
    pub const VALIDATION_ORDER: [GatewayResponseType; 21] = [
        T::RequestTooLarge,
        T::ResourceNotFound,
        T::AuthorizerConfigurationError,
        T::MissingAuthenticationToken,
        T::BadRequestBody,
        T::InvalidSignature,
        T::InvalidApiKey,
        T::BadRequestParameters,
        T::AuthorizerFailure,
        T::Unauthorized,
        T::IntegrationTimeout,
        T::AccessDenied,
        T::Default4xx,
        T::Default5xx,
        T::WafFiltered,
        T::QuotaExceeded,
        T::Throttled,
        T::ApiConfigurationError,
        T::UnsupportedMediaType,
        T::IntegrationFailure,
        T::ExpiredToken,
    ];

    /// The response in effect for this type given an API's customisations: its own, else
    /// its family's (DEFAULT_4XX / DEFAULT_5XX: their parameters and templates, their status
    /// if they set one), else AWS's default. An inherited one is still reported as
    /// `defaultResponse: true` (recorded: test_gateway_response_put, `get-gateway-responses`).
    pub fn effective(self, customised: &BTreeMap<String, GatewayResponse>) -> GatewayResponse {
        if let Some(own) = customised.get(self.as_str()) {
            return own.clone();
        }
        let inherited = self.family().and_then(|f| customised.get(f.as_str()));
        match inherited {
            Some(family) => GatewayResponse {
                response_type: self,
                status_code: family
                    .status_code
                    .clone()
                    .or_else(|| self.default_status().map(|s| s.to_string())),
                response_parameters: family.response_parameters.clone(),
                response_templates: family.response_templates.clone(),
                default_response: true,
            },
            None => self.default_response(),
        }
    }

    /// The response AWS reports for this type when the API has not customised it.
    pub fn default_response(self) -> GatewayResponse {
        let mut templates = BTreeMap::new();
        templates.insert("application/json".to_string(), DEFAULT_TEMPLATE.to_string());
        GatewayResponse {
            response_type: self,
            status_code: self.default_status().map(|s| s.to_string()),
            response_parameters: BTreeMap::new(),
            response_templates: templates,
            default_response: true,
        }
    }
}

impl Serialize for GatewayResponseType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for GatewayResponseType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).ok_or_else(|| serde::de::Error::unknown_variant(&s, &Self::SPELLINGS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_types_round_trip() {
        assert_eq!(GatewayResponseType::ALL.len(), 21);
        for t in GatewayResponseType::ALL {
            assert_eq!(GatewayResponseType::parse(t.as_str()), Some(t));
        }
        assert_eq!(GatewayResponseType::parse("NOPE"), None);
    }

    #[test]
    fn families() {
        assert_eq!(T::Throttled.family(), Some(T::Default4xx));
        assert_eq!(T::IntegrationTimeout.family(), Some(T::Default5xx));
        assert_eq!(T::Default4xx.family(), None);
        let d = T::MissingAuthenticationToken.default_response();
        assert_eq!(d.status_code.as_deref(), Some("403"));
        assert!(d.default_response);
    }
}
