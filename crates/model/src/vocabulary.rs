//! AWS's closed vocabularies (the enum members of its API models) as Rust enums.
//!
//! Each enum serialises to exactly AWS's spelling, so a stored row or a response body holds
//! the same bytes a `String` field held before. Reading an unknown spelling fails: every one
//! of these members is checked by the control plane before it is stored (see
//! `tollgate-admin`, which answers AWS's own error text for an unknown value), so a stored
//! row never holds one. Matching happens once, when a request or row is parsed; the data
//! plane only ever compares enum values.

use std::fmt;

use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

/// A spelling that is not a member of the vocabulary. `allowed` lists the members in
/// declaration order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value} is not a {vocabulary} (one of {})", allowed.join(", "))]
pub struct UnknownValue {
    pub vocabulary: &'static str,
    pub value: String,
    pub allowed: &'static [&'static str],
}

/// Declares a vocabulary: the enum, its spellings, `as_str`, `FromStr`, `Display` and serde
/// as a plain string.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every member, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every spelling, in declaration order.
            pub const SPELLINGS: &'static [&'static str] = &[$($text),+];

            /// AWS's spelling.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownValue;

            /// Exact, case-sensitive, as AWS compares these members.
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue {
                        vocabulary: stringify!($name),
                        value: s.to_string(),
                        allowed: Self::SPELLINGS,
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse()
                    .map_err(|_| de::Error::unknown_variant(&s, Self::SPELLINGS))
            }
        }
    };
}

vocabulary! {
    /// `Integration.type`.
    IntegrationType {
        Http = "HTTP",
        HttpProxy = "HTTP_PROXY",
        Aws = "AWS",
        AwsProxy = "AWS_PROXY",
        Mock = "MOCK",
    }
}

impl IntegrationType {
    /// `HTTP` and `HTTP_PROXY`: the URI is an HTTP endpoint.
    pub fn is_http(self) -> bool {
        matches!(self, IntegrationType::Http | IntegrationType::HttpProxy)
    }

    /// `AWS` and `AWS_PROXY`: the URI is an AWS service ARN.
    pub fn is_aws(self) -> bool {
        matches!(self, IntegrationType::Aws | IntegrationType::AwsProxy)
    }
}

vocabulary! {
    /// `Integration.passthroughBehavior`: what happens to a request no template maps.
    PassthroughBehavior {
        WhenNoMatch = "WHEN_NO_MATCH",
        WhenNoTemplates = "WHEN_NO_TEMPLATES",
        Never = "NEVER",
    }
}

vocabulary! {
    /// `contentHandling` of integrations and integration responses.
    ContentHandlingStrategy {
        ConvertToBinary = "CONVERT_TO_BINARY",
        ConvertToText = "CONVERT_TO_TEXT",
    }
}

vocabulary! {
    /// `Integration.connectionType`.
    ConnectionType {
        Internet = "INTERNET",
        VpcLink = "VPC_LINK",
    }
}

vocabulary! {
    /// `Method.authorizationType` (the values API Gateway v1 accepts).
    AuthorizationType {
        None = "NONE",
        AwsIam = "AWS_IAM",
        Custom = "CUSTOM",
        CognitoUserPools = "COGNITO_USER_POOLS",
        Jwt = "JWT",
    }
}

impl AuthorizationType {
    /// Types that name one of the API's authorizers (`authorizerId`).
    pub fn needs_authorizer(self) -> bool {
        matches!(
            self,
            AuthorizationType::Custom | AuthorizationType::CognitoUserPools
        )
    }
}

vocabulary! {
    /// `RestApi.apiKeySource`: where API keys are read from.
    ApiKeySourceType {
        Header = "HEADER",
        Authorizer = "AUTHORIZER",
    }
}

vocabulary! {
    /// `EndpointConfiguration.types` members.
    EndpointType {
        Private = "PRIVATE",
        Edge = "EDGE",
        Regional = "REGIONAL",
    }
}

vocabulary! {
    /// `EndpointConfiguration.ipAddressType`.
    IpAddressType {
        Ipv4 = "ipv4",
        Dualstack = "dualstack",
    }
}

vocabulary! {
    /// `Authorizer.type`.
    AuthorizerType {
        Token = "TOKEN",
        Request = "REQUEST",
        CognitoUserPools = "COGNITO_USER_POOLS",
    }
}

vocabulary! {
    /// `DocumentationPartLocation.type`, in the order AWS lists them in its enum error.
    DocumentationPartType {
        ResponseBody = "RESPONSE_BODY",
        Response = "RESPONSE",
        Method = "METHOD",
        Model = "MODEL",
        Authorizer = "AUTHORIZER",
        ResponseHeader = "RESPONSE_HEADER",
        Resource = "RESOURCE",
        PathParameter = "PATH_PARAMETER",
        RequestBody = "REQUEST_BODY",
        QueryParameter = "QUERY_PARAMETER",
        Api = "API",
        RequestHeader = "REQUEST_HEADER",
    }
}

vocabulary! {
    /// `QuotaSettings.period`.
    QuotaPeriodType {
        Day = "DAY",
        Week = "WEEK",
        Month = "MONTH",
    }
}

vocabulary! {
    /// `MethodSetting.loggingLevel`.
    LoggingLevel {
        Off = "OFF",
        Error = "ERROR",
        Info = "INFO",
    }
}

vocabulary! {
    /// `MethodSetting.unauthorizedCacheControlHeaderStrategy`.
    UnauthorizedCacheControlHeaderStrategy {
        FailWith403 = "FAIL_WITH_403",
        SucceedWithResponseHeader = "SUCCEED_WITH_RESPONSE_HEADER",
        SucceedWithoutResponseHeader = "SUCCEED_WITHOUT_RESPONSE_HEADER",
    }
}

vocabulary! {
    /// `Stage.cacheClusterStatus`.
    CacheClusterStatus {
        CreateInProgress = "CREATE_IN_PROGRESS",
        Available = "AVAILABLE",
        DeleteInProgress = "DELETE_IN_PROGRESS",
        NotAvailable = "NOT_AVAILABLE",
        FlushInProgress = "FLUSH_IN_PROGRESS",
    }
}

vocabulary! {
    /// Lambda's `PackageType`.
    PackageType {
        Zip = "Zip",
        Image = "Image",
    }
}

vocabulary! {
    /// Lambda's `TracingConfig.Mode`.
    TracingMode {
        Active = "Active",
        PassThrough = "PassThrough",
    }
}

vocabulary! {
    /// Lambda's function `State`.
    FunctionState {
        Pending = "Pending",
        Active = "Active",
        Inactive = "Inactive",
        Failed = "Failed",
    }
}

vocabulary! {
    /// Lambda's `LastUpdateStatus`.
    LastUpdateStatus {
        Successful = "Successful",
        Failed = "Failed",
        InProgress = "InProgress",
    }
}

vocabulary! {
    /// Lambda's `LoggingConfig.LogFormat`.
    LogFormat {
        Json = "JSON",
        Text = "Text",
    }
}

vocabulary! {
    /// `Stage.cacheClusterSize`, in GB.
    CacheClusterSize {
        Half = "0.5",
        OnePointSix = "1.6",
        SixPointOne = "6.1",
        ThirteenPointFive = "13.5",
        TwentyEightPointFour = "28.4",
        FiftyEightPointTwo = "58.2",
        OneEighteen = "118",
        TwoThirtySeven = "237",
    }
}

vocabulary! {
    /// `Integration.responseTransferMode`.
    ResponseTransferMode {
        Buffered = "BUFFERED",
        Stream = "STREAM",
    }
}

vocabulary! {
    /// `RestApi.endpointAccessMode`.
    EndpointAccessMode {
        Basic = "BASIC",
        Strict = "STRICT",
    }
}

vocabulary! {
    /// Lambda's `Architectures` member.
    Architecture {
        X86_64 = "x86_64",
        Arm64 = "arm64",
    }
}

vocabulary! {
    /// The members of Lambda's `Runtime` that Tollgate runs: every `python3.Y` and
    /// `nodejsNN.x` Lambda has accepted (each runs on a matching interpreter when the
    /// machine has one, else on the nearest with a warning) and the `provided` ones. AWS's
    /// list is longer; the control plane refuses the others with a message naming these.
    Runtime {
        Python36 = "python3.6",
        Python37 = "python3.7",
        Python38 = "python3.8",
        Python39 = "python3.9",
        Python310 = "python3.10",
        Python311 = "python3.11",
        Python312 = "python3.12",
        Python313 = "python3.13",
        Python314 = "python3.14",
        Python315 = "python3.15",
        Nodejs10 = "nodejs10.x",
        Nodejs12 = "nodejs12.x",
        Nodejs14 = "nodejs14.x",
        Nodejs16 = "nodejs16.x",
        Nodejs18 = "nodejs18.x",
        Nodejs20 = "nodejs20.x",
        Nodejs22 = "nodejs22.x",
        Nodejs24 = "nodejs24.x",
        Nodejs26 = "nodejs26.x",
        Provided = "provided",
        ProvidedAl2 = "provided.al2",
        ProvidedAl2023 = "provided.al2023",
    }
}

vocabulary! {
    /// v2 `Api.protocolType`.
    ProtocolType {
        Http = "HTTP",
        Websocket = "WEBSOCKET",
    }
}

vocabulary! {
    /// v2 `Authorizer.authorizerType` (HTTP and WebSocket APIs).
    V2AuthorizerType {
        Request = "REQUEST",
        Jwt = "JWT",
    }
}

vocabulary! {
    /// v2 `payloadFormatVersion` (integrations) and `authorizerPayloadFormatVersion`.
    PayloadFormatVersion {
        V1 = "1.0",
        V2 = "2.0",
    }
}

vocabulary! {
    /// v2 `Deployment.deploymentStatus`.
    DeploymentStatus {
        Pending = "PENDING",
        Failed = "FAILED",
        Deployed = "DEPLOYED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip_as_plain_strings() {
        for t in IntegrationType::ALL {
            let json = serde_json::to_string(t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
            assert_eq!(serde_json::from_str::<IntegrationType>(&json).unwrap(), *t);
            assert_eq!(t.as_str().parse::<IntegrationType>(), Ok(*t));
        }
        assert_eq!(
            serde_json::to_string(&IpAddressType::Dualstack).unwrap(),
            "\"dualstack\""
        );
    }

    #[test]
    fn unknown_and_differently_cased_spellings_are_refused() {
        let e = "http_proxy".parse::<IntegrationType>().unwrap_err();
        assert_eq!(e.value, "http_proxy");
        assert_eq!(e.allowed, IntegrationType::SPELLINGS);
        assert!(serde_json::from_str::<PassthroughBehavior>("\"ALWAYS\"").is_err());
        assert!("".parse::<ContentHandlingStrategy>().is_err());
        assert!("convert_to_text"
            .parse::<ContentHandlingStrategy>()
            .is_err());
        assert_eq!(
            "CONVERT_TO_TEXT".parse::<ContentHandlingStrategy>(),
            Ok(ContentHandlingStrategy::ConvertToText)
        );
    }
}
