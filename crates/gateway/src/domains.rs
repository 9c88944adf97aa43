//! Custom domain names at the TLS edge: each domain's rustls server configuration (its
//! certificate from ACM or uploaded with it, the TLS versions of its security policy, and
//! for mutual TLS a client verifier over its truststore), compiled when the domains change
//! and looked up by SNI per connection ([`Sites`]); and the client certificate a mutual TLS
//! connection presented ([`ClientCert`]), as `$context.identity.clientCert` shows it.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use tollgate_model::domain::{CertificateMaterial, CertificateRef, DomainName};
use tollgate_store::DomainsState;

/// Why a domain cannot be served over TLS (logged; the domain's handshakes fail).
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error("its certificate {0} is not in ACM")]
    MissingCertificate(String),
    #[error("it has no certificate")]
    NoCertificate,
    #[error("unreadable PEM: {0}")]
    Pem(#[from] rustls::pki_types::pem::Error),
    #[error("unusable key or configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error("truststore {uri}: {reason}")]
    Truststore { uri: String, reason: String },
    #[error("client verifier: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
}

/// A certificate chain and key from PEM text.
pub fn certified_key(m: &CertificateMaterial) -> Result<CertifiedKey, SiteError> {
    let mut chain =
        CertificateDer::pem_slice_iter(m.certificate.as_bytes()).collect::<Result<Vec<_>, _>>()?;
    for c in CertificateDer::pem_slice_iter(m.chain.as_bytes()) {
        chain.push(c?);
    }
    if chain.is_empty() {
        return Err(SiteError::NoCertificate);
    }
    let key = PrivateKeyDer::from_pem_slice(m.private_key.as_bytes())?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&key)?;
    Ok(CertifiedKey::new(chain, signing))
}

/// ALPN: HTTP/2, then HTTP/1.1.
pub fn alpn() -> Vec<Vec<u8>> {
    vec![b"h2".to_vec(), b"http/1.1".to_vec()]
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A mutual TLS truststore: `file:///absolute/path.pem` (the control plane refused other
/// forms), read when the domain is compiled.
fn truststore(uri: &str) -> Result<rustls::RootCertStore, SiteError> {
    let fail = |reason: String| SiteError::Truststore {
        uri: uri.to_string(),
        reason,
    };
    let path = uri
        .strip_prefix("file://")
        .ok_or_else(|| fail("not a file:// URI".into()))?;
    let text = tollgate_store::files::read_regular(
        std::path::Path::new(path),
        tollgate_store::files::MAX_TRUSTSTORE,
    )
    .map_err(|e| fail(e.to_string()))?;
    let now = tollgate_model::time::now_epoch();
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(&text) {
        let c = c.map_err(|e| fail(e.to_string()))?;
        // Entries with a truststore warning (expired, unparsable) are not trusted, as on
        // AWS: webpki does not check a trust anchor's own validity.
        let usable = tollgate_model::x509::CertificateInfo::from_der(&c)
            .is_ok_and(|info| info.not_after >= now);
        if usable {
            let _ = roots.add(c);
        }
    }
    if roots.is_empty() {
        return Err(fail("no usable CA certificate".into()));
    }
    Ok(roots)
}

/// One domain's server configuration.
fn site(d: &DomainName, domains: &DomainsState) -> Result<ServerConfig, SiteError> {
    let material = match d.certificate_ref() {
        Some(CertificateRef::Acm(arn)) => {
            &domains
                .certificates
                .get(arn)
                .ok_or_else(|| SiteError::MissingCertificate(arn.to_string()))?
                .material
        }
        Some(CertificateRef::Uploaded(m)) => m,
        None => return Err(SiteError::NoCertificate),
    };
    let key = Arc::new(certified_key(material)?);
    // rustls speaks TLS 1.2 and 1.3 only: both policies (TLS_1_0, TLS_1_2) get those.
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?;
    let builder = match &d.mutual_tls_authentication {
        Some(m) => {
            let roots = Arc::new(truststore(&m.truststore_uri)?);
            // Chain, validity, names and signature algorithms (ring's: RSA ≥ 2048, ECDSA
            // P-256/P-384, SHA-256 and up); no revocation, as on AWS.
            let verifier =
                WebPkiClientVerifier::builder_with_provider(roots, provider()).build()?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(Arc::new(Fixed(key)));
    config.alpn_protocols = alpn();
    Ok(config)
}

/// A resolver that always answers one certificate (the domain's).
#[derive(Debug)]
struct Fixed(Arc<CertifiedKey>);

impl rustls::server::ResolvesServerCert for Fixed {
    fn resolve(&self, _: rustls::server::ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// One domain's TLS configuration, with the name it is served under.
#[derive(Clone)]
pub struct Site {
    /// The domain name (lower case; `*.` for a wildcard domain).
    pub name: Arc<str>,
    pub config: Arc<ServerConfig>,
}

/// The TLS configurations of the custom domains by (lower-case) name, `*.` wildcards
/// included; replaced whole when the domains change.
#[derive(Default)]
pub struct Sites {
    by_name: ArcSwap<HashMap<Box<str>, Site>>,
    /// The domains state they were compiled from (a change elsewhere keeps them).
    source: ArcSwap<Option<Arc<DomainsState>>>,
}

impl std::fmt::Debug for Sites {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sites")
            .field("names", &self.by_name.load().len())
            .finish()
    }
}

impl Sites {
    /// Recompiles the configurations when `domains` is not what they were built from.
    pub fn update(&self, domains: &Arc<DomainsState>) {
        if let Some(src) = &**self.source.load() {
            if Arc::ptr_eq(src, domains) {
                return;
            }
        }
        let mut by_name = HashMap::with_capacity(domains.domain_names.len());
        for (name, d) in &domains.domain_names {
            match site(d, domains) {
                Ok(c) => {
                    let name: Arc<str> = name.to_ascii_lowercase().into();
                    let config = Arc::new(c);
                    by_name.insert(name.as_ref().into(), Site { name, config });
                }
                Err(e) => {
                    tracing::warn!(domain = %name, error = %e, "custom domain not served over TLS")
                }
            }
        }
        self.by_name.store(Arc::new(by_name));
        self.source.store(Arc::new(Some(domains.clone())));
    }

    /// The site for a server name: exact, then `*.` for its parent.
    pub fn for_name(&self, name: &str) -> Option<Site> {
        let by_name = self.by_name.load();
        if by_name.is_empty() {
            return None;
        }
        let n = name.to_ascii_lowercase();
        by_name.get(n.as_str()).cloned().or_else(|| {
            let parent = &n[n.find('.')?..];
            by_name.get(format!("*{parent}").as_str()).cloned()
        })
    }
}

/// The certificate a mutual TLS client presented, read once per connection.
#[derive(Debug, Clone)]
pub struct ClientCert {
    pub pem: String,
    pub subject_dn: String,
    pub issuer_dn: String,
    pub serial_number: String,
    /// `May 28 12:30:02 2019 GMT`.
    pub not_before: String,
    pub not_after: String,
}

impl ClientCert {
    /// The leaf of a verified chain; `None` if it does not parse (it was verified, so it
    /// does).
    pub fn from_der(der: &[u8]) -> Option<ClientCert> {
        use base64::Engine;
        let info = tollgate_model::x509::CertificateInfo::from_der(der).ok()?;
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let mut pem = String::with_capacity(b64.len() + 64);
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        for line in b64.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
        Some(ClientCert {
            pem,
            subject_dn: info.subject_dn,
            issuer_dn: info.issuer_dn,
            serial_number: info.serial,
            not_before: tollgate_model::x509::gmt_date(info.not_before),
            not_after: tollgate_model::x509::gmt_date(info.not_after),
        })
    }

    /// The `clientCert` object of proxy events.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "clientCertPem": self.pem,
            "subjectDN": self.subject_dn,
            "issuerDN": self.issuer_dn,
            "serialNumber": self.serial_number,
            "validity": { "notBefore": self.not_before, "notAfter": self.not_after },
        })
    }
}
