//! Where AWS service integrations send their calls and what they sign them with:
//! `--aws-endpoint` (one endpoint for every service, as LocalStack and moto serve),
//! `--aws-service-endpoint SERVICE=URL`, else the service's regional AWS endpoint; the
//! `--aws-*` credentials, or with `--aws-assume-role` an integration's `credentials` role
//! (`assume_role`). Set once at start; a request only reads it (and the roles' cache).

use std::sync::Arc;
use std::time::SystemTime;

use http::header::HeaderValue;
use http::uri::Scheme;
use http::{Method, Uri};
use tollgate_sigv4::endpoint::{AwsCredentials, Endpoints};
use tollgate_sigv4::Signer;

use super::assume_role::Roles;
use super::wire::ServiceCall;
use crate::body::GatewayBody;
use crate::error::GatewayError;
use crate::pipeline::integration_request::BackendRequest;

/// How AWS service integrations reach their services.
#[derive(Debug, Clone, Default)]
pub struct AwsServices {
    pub endpoints: Endpoints,
    pub credentials: Option<AwsCredentials>,
    /// `--region`: where first-class integrations without a `Region` parameter call.
    pub region: String,
    /// `--aws-assume-role`: the roles assumed so far (`None`: an integration's role is
    /// only recorded and the `--aws-*` credentials sign).
    pub roles: Option<Arc<Roles>>,
}

impl AwsServices {
    /// The call addressed to its endpoint and SigV4-signed with the `--aws-*` credentials.
    pub fn prepare(&self, call: ServiceCall<'_>) -> Result<BackendRequest, GatewayError> {
        let creds = self.base_credentials(call.service)?;
        self.sign(call, creds)
    }

    /// The `--aws-*` credentials (a warning and 500 without them).
    pub fn base_credentials(&self, service: &str) -> Result<&AwsCredentials, GatewayError> {
        self.credentials.as_ref().ok_or_else(|| {
            tracing::warn!(
                service,
                "AWS integration called without credentials: set --aws-access-key-id and --aws-secret-access-key"
            );
            GatewayError::internal()
        })
    }

    /// The call addressed to its endpoint and SigV4-signed with `creds`.
    pub fn sign(
        &self,
        call: ServiceCall<'_>,
        creds: &AwsCredentials,
    ) -> Result<BackendRequest, GatewayError> {
        let ServiceCall {
            method,
            region,
            service,
            subdomain,
            mut path,
            query,
            mut headers,
            body,
        } = call;
        let (scheme, host) = match self.endpoints.of(service) {
            Some(e) => {
                // An AWS-compatible endpoint serves S3 buckets path-style.
                if let (Some(bucket), "s3") = (subdomain, service) {
                    path = format!("/{bucket}{path}");
                }
                path = format!("{}{path}", e.base_path());
                (e.scheme().clone(), e.authority().to_string())
            }
            None => {
                let host = match subdomain {
                    Some(sub) => format!("{sub}.{service}.{region}.amazonaws.com"),
                    None => format!("{service}.{region}.amazonaws.com"),
                };
                (Scheme::HTTPS, host)
            }
        };
        let target = if query.is_empty() {
            format!("{scheme}://{host}{path}")
        } else {
            format!("{scheme}://{host}{path}?{query}")
        };
        let uri: Uri = target.parse().map_err(|_| {
            tracing::warn!(uri = %target, "AWS integration request URI does not parse");
            GatewayError::internal()
        })?;
        headers.insert(
            http::header::HOST,
            HeaderValue::from_str(&host).map_err(|_| GatewayError::internal())?,
        );
        tollgate_sigv4::sign(
            method.as_str(),
            &path,
            (!query.is_empty()).then_some(query.as_str()),
            &mut headers,
            &body,
            &Signer {
                access_key_id: &creds.access_key_id,
                credential: &creds.credential,
                region,
                service,
            },
            SystemTime::now(),
        );
        if !body.is_empty() || method == Method::POST || method == Method::PUT {
            headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        }
        Ok(BackendRequest {
            method,
            uri,
            headers,
            body: GatewayBody::from_bytes(body),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http::HeaderMap;
    use tollgate_sigv4::endpoint::Endpoint;
    use tollgate_sigv4::Credential;

    #[test]
    fn calls_are_addressed_and_signed() {
        let services = AwsServices {
            endpoints: Endpoints {
                default: None,
                per_service: vec![("s3".into(), Endpoint::parse("http://h:1").unwrap())],
            },
            credentials: Some(AwsCredentials {
                access_key_id: "AKID".into(),
                credential: Credential {
                    secret_access_key: "s".into(),
                    session_token: None,
                },
            }),
            region: "us-east-1".into(),
            roles: None,
        };
        let call = |service: &'static str, sub: Option<&'static str>| ServiceCall {
            method: Method::GET,
            region: "eu-west-1",
            service,
            subdomain: sub,
            path: "/k".into(),
            query: String::new(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
        };
        let r = services.prepare(call("s3", Some("b"))).unwrap();
        assert_eq!(r.uri.to_string(), "http://h:1/b/k");
        let auth = r.headers["authorization"].to_str().unwrap();
        assert!(auth.contains("/eu-west-1/s3/aws4_request"), "{auth}");
        let r = services.prepare(call("sqs", None)).unwrap();
        assert_eq!(r.uri.to_string(), "https://sqs.eu-west-1.amazonaws.com/k");
        assert!(AwsServices::default().prepare(call("sqs", None)).is_err());
    }
}
