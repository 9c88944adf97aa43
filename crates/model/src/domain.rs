//! Custom domain names and what they serve with: the domain (one object for API Gateway v1
//! and v2), its API mappings (v1 base path mappings and v2 API mappings are two views of
//! the same table), ACM's imported certificates, and API Gateway's client certificates.
//!
//! Private keys are kept in these stored shapes (the gateway needs them to serve TLS); the
//! control plane never renders them: its answers are built member by member.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::vocabulary::EndpointType;

/// A custom domain name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainName {
    pub domain_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_name: Option<String>,
    /// An ACM certificate (EDGE), or the one uploaded with the domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regional_certificate_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regional_certificate_arn: Option<String>,
    /// v1's `certificateBody`/`certificatePrivateKey`/`certificateChain`, kept with the
    /// domain (AWS shows no ARN for them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uploaded_certificate: Option<CertificateMaterial>,
    pub endpoint_type: EndpointType,
    /// `TLS_1_0` or `TLS_1_2`.
    pub security_policy: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutual_tls_authentication: Option<MutualTlsAuthentication>,
    /// `d-{10 chars}.execute-api.{region}.amazonaws.com` (REGIONAL and v2).
    pub regional_domain_name: String,
    /// `d{13 chars}.cloudfront.net` (EDGE).
    pub distribution_domain_name: String,
    /// Epoch seconds.
    pub certificate_upload_date: i64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// The mappings, in creation order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mappings: Vec<ApiMapping>,
}

/// The tag that makes a custom domain name serve the developer portal instead of its API
/// mappings (`tollgate:portal=true`, as a stage is published with the same tag).
pub const PORTAL_DOMAIN_TAG: &str = "tollgate:portal";

impl DomainName {
    /// Whether the domain serves the developer portal (tagged `tollgate:portal=true`): every
    /// request to it is the portal's, and its mappings are kept but not routed.
    pub fn serves_portal(&self) -> bool {
        self.tags
            .get(PORTAL_DOMAIN_TAG)
            .is_some_and(|v| v == "true")
    }

    /// The certificate the domain is served with: ACM's by ARN (regional first), else the
    /// uploaded one.
    pub fn certificate_ref(&self) -> Option<CertificateRef<'_>> {
        let arn = match self.endpoint_type {
            EndpointType::Edge => self
                .certificate_arn
                .as_deref()
                .or(self.regional_certificate_arn.as_deref()),
            _ => self
                .regional_certificate_arn
                .as_deref()
                .or(self.certificate_arn.as_deref()),
        };
        match (arn, &self.uploaded_certificate) {
            (Some(arn), _) => Some(CertificateRef::Acm(arn)),
            (None, Some(m)) => Some(CertificateRef::Uploaded(m)),
            (None, None) => None,
        }
    }

    /// The mapping with this key (`""` for v1's `(none)`).
    pub fn mapping_by_key(&self, key: &str) -> Option<&ApiMapping> {
        self.mappings.iter().find(|m| m.api_mapping_key == key)
    }
}

/// Where a domain's certificate is.
#[derive(Debug, Clone, Copy)]
pub enum CertificateRef<'a> {
    Acm(&'a str),
    Uploaded(&'a CertificateMaterial),
}

/// PEM material of a certificate with its key.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateMaterial {
    pub certificate: String,
    /// Intermediate certificates, PEM, possibly empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub chain: String,
    pub private_key: String,
}

// Never print a private key, even in a debug log.
impl std::fmt::Debug for CertificateMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateMaterial")
            .field("certificate", &self.certificate.len())
            .field("chain", &self.chain.len())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MutualTlsAuthentication {
    pub truststore_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truststore_version: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub truststore_warnings: Vec<String>,
}

/// One mapping of a domain: a v1 base path mapping (`apiMappingKey` `""` is `(none)`) or a
/// v2 API mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiMapping {
    pub api_mapping_id: String,
    /// Without leading or trailing `/`; may be multi-level (`v1/orders`).
    pub api_mapping_key: String,
    pub api_id: String,
    /// `None`: a v1 mapping without a stage (the stage is the first path segment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
}

/// The longest mapping key a domain takes.
pub const MAX_MAPPING_KEY: usize = 300;

/// Whether `key` is a well-formed mapping key: AWS's characters, no empty segment.
pub fn valid_mapping_key(key: &str) -> bool {
    key.len() <= MAX_MAPPING_KEY
        && key.split('/').all(|s| !s.is_empty())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"$-_.+!*'()/".contains(&b))
}

/// A certificate imported into ACM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportedCertificate {
    pub certificate_arn: String,
    pub material: CertificateMaterial,
    /// The subject's common name, else the first DNS name.
    pub domain_name: String,
    pub subject_alternative_names: Vec<String>,
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub key_algorithm: String,
    /// Epoch seconds.
    pub not_before: i64,
    pub not_after: i64,
    pub imported_at: i64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// API Gateway's client certificate, presented to HTTP backends by stages that name it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientCertificate {
    pub client_certificate_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub material: CertificateMaterial,
    /// Epoch seconds.
    pub created_date: i64,
    pub expiration_date: i64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_keys() {
        assert!(valid_mapping_key("v1"));
        assert!(valid_mapping_key("orders/v1/items"));
        assert!(valid_mapping_key("a$-_.+!*'()"));
        assert!(!valid_mapping_key("/v1"));
        assert!(!valid_mapping_key("v1/"));
        assert!(!valid_mapping_key("a//b"));
        assert!(!valid_mapping_key("a b"));
        assert!(!valid_mapping_key(&"a".repeat(301)));
    }

    #[test]
    fn debug_hides_the_key() {
        let m = CertificateMaterial {
            certificate: "CERT".into(),
            chain: String::new(),
            private_key: "SECRET".into(),
        };
        assert!(!format!("{m:?}").contains("SECRET"));
    }
}
