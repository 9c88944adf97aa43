//! Where signed outgoing calls go and whom they are signed as: `--aws-endpoint` (one
//! endpoint for every service, as LocalStack and moto serve), `--aws-service-endpoint
//! SERVICE=URL`, and the `--aws-*` access key. The gateway's AWS integrations and the
//! control plane's front door read the same values.

use http::uri::{Authority, Scheme};
use http::Uri;

use crate::credential::Credential;

/// An endpoint URL given on the command line, parsed once.
#[derive(Debug, Clone)]
pub struct Endpoint {
    scheme: Scheme,
    authority: Authority,
    /// The URL's path without its trailing `/` (usually empty).
    base_path: String,
}

/// Why an endpoint URL is refused.
#[derive(Debug)]
pub struct EndpointError(String);

impl std::fmt::Display for EndpointError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is not an http:// or https:// URL", self.0)
    }
}

impl std::error::Error for EndpointError {}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Endpoint, EndpointError> {
        let bad = || EndpointError(url.to_string());
        let uri: Uri = url.parse().map_err(|_| bad())?;
        let scheme = uri.scheme().cloned().ok_or_else(bad)?;
        if scheme != Scheme::HTTP && scheme != Scheme::HTTPS {
            return Err(bad());
        }
        Ok(Endpoint {
            scheme,
            authority: uri.authority().cloned().ok_or_else(bad)?,
            base_path: uri.path().trim_end_matches('/').to_string(),
        })
    }

    pub fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// The URL's path without its trailing `/`, put before every call's own path.
    pub fn base_path(&self) -> &str {
        &self.base_path
    }
}

/// The endpoints configured: one for every service, and services' own.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    /// `--aws-endpoint`.
    pub default: Option<Endpoint>,
    /// `--aws-service-endpoint SERVICE=URL`, by endpoint prefix (`s3`, `sqs`).
    pub per_service: Vec<(String, Endpoint)>,
}

impl Endpoints {
    /// Where `service` calls go: its own endpoint, else the default one (`None`: AWS's).
    pub fn of(&self, service: &str) -> Option<&Endpoint> {
        self.per_service
            .iter()
            .find(|(s, _)| s == service)
            .map(|(_, e)| e)
            .or(self.default.as_ref())
    }

    pub fn is_empty(&self) -> bool {
        self.default.is_none() && self.per_service.is_empty()
    }
}

/// The access key outgoing calls are signed with.
#[derive(Clone)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub credential: Credential,
}

impl std::fmt::Debug for AwsCredentials {
    // The secret and the token never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_once_and_resolve_per_service_first() {
        let e = Endpoint::parse("http://127.0.0.1:5000/").unwrap();
        assert_eq!(e.authority().as_str(), "127.0.0.1:5000");
        assert_eq!(e.base_path(), "");
        assert!(Endpoint::parse("ftp://x").is_err());
        assert!(Endpoint::parse("localhost").is_err());
        let endpoints = Endpoints {
            default: Some(e),
            per_service: vec![("s3".into(), Endpoint::parse("https://s3:9000/x/").unwrap())],
        };
        assert_eq!(endpoints.of("s3").unwrap().base_path(), "/x");
        assert_eq!(
            endpoints.of("sqs").unwrap().authority().port_u16(),
            Some(5000)
        );
        assert!(Endpoints::default().of("sqs").is_none());
    }
}
