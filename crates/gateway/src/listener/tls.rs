//! TLS at the edge: a rustls acceptor whose certificate is chosen per connection by the
//! name the client asks for (SNI). Exact names and `*.` wildcards are looked up first; a
//! client naming none of them (or no name) gets the default certificate. The named
//! certificates can be replaced while serving ([`Certificates::set_named`]).
//!
//! A TLS listener's handshake ([`TlsEdge`]) first reads the client's hello: a server name
//! that is a custom domain gets that domain's configuration (its certificate, and for mutual
//! TLS its client verifier: a bad client certificate fails the handshake), any other the
//! default configuration (`--tls-cert`), if there is one.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::domains::{ClientCert, Sites};

/// Why a certificate could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read certificates from {path}: {source}")]
    Certificates {
        path: String,
        source: rustls::pki_types::pem::Error,
    },
    #[error("no certificate in {0}")]
    NoCertificate(String),
    #[error("cannot read the private key from {path}: {source}")]
    Key {
        path: String,
        source: rustls::pki_types::pem::Error,
    },
    #[error("unusable private key in {path}: {source}")]
    KeyType { path: String, source: rustls::Error },
    #[error("cannot build the TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// Loads a PEM certificate chain and its PEM private key.
pub fn load_certified_key(cert: &Path, key: &Path) -> Result<CertifiedKey, TlsError> {
    let cert_path = cert.display().to_string();
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|source| TlsError::Certificates {
            path: cert_path.clone(),
            source,
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate(cert_path));
    }
    let key_path = key.display().to_string();
    let der = PrivateKeyDer::from_pem_file(key).map_err(|source| TlsError::Key {
        path: key_path.clone(),
        source,
    })?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&der).map_err(|source| {
        TlsError::KeyType {
            path: key_path,
            source,
        }
    })?;
    Ok(CertifiedKey::new(chain, signing))
}

/// The SNI certificate resolver.
#[derive(Debug)]
pub struct Certificates {
    default: Arc<CertifiedKey>,
    /// Lower-case names (`api.example.com`, `*.example.com`) to their certificates.
    named: ArcSwap<HashMap<Box<str>, Arc<CertifiedKey>>>,
}

impl Certificates {
    pub fn new(default: CertifiedKey) -> Self {
        Certificates {
            default: Arc::new(default),
            named: ArcSwap::from_pointee(HashMap::new()),
        }
    }

    /// Replaces the named certificates; connections after this see the new set.
    pub fn set_named(&self, named: HashMap<Box<str>, Arc<CertifiedKey>>) {
        let lower = named
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase().into_boxed_str(), v))
            .collect();
        self.named.store(Arc::new(lower));
    }

    /// The certificate for a server name: exact, then `*.` for its parent, then default.
    fn for_name(&self, name: Option<&str>) -> Arc<CertifiedKey> {
        let named = self.named.load();
        let found = name.filter(|_| !named.is_empty()).and_then(|n| {
            let n = n.to_ascii_lowercase();
            named.get(n.as_str()).cloned().or_else(|| {
                let parent = &n[n.find('.')?..];
                named.get(format!("*{parent}").as_str()).cloned()
            })
        });
        found.unwrap_or_else(|| self.default.clone())
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.for_name(hello.server_name()))
    }
}

/// The default configuration of TLS listeners: HTTP/2 and HTTP/1.1 offered by ALPN.
pub fn default_config(
    certificates: Arc<Certificates>,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(certificates);
    config.alpn_protocols = crate::domains::alpn();
    Ok(Arc::new(config))
}

/// An acceptor with the default configuration only.
pub fn acceptor(certificates: Arc<Certificates>) -> Result<tokio_rustls::TlsAcceptor, TlsError> {
    Ok(tokio_rustls::TlsAcceptor::from(default_config(
        certificates,
    )?))
}

/// The handshake of a TLS listener: custom domains by SNI, else the default configuration.
#[derive(Debug, Clone)]
pub struct TlsEdge {
    default: Option<Arc<rustls::ServerConfig>>,
    sites: Arc<Sites>,
}

/// A finished handshake.
pub struct Accepted<IO> {
    pub stream: tokio_rustls::server::TlsStream<IO>,
    /// The custom domain whose configuration the handshake used (by SNI).
    pub site: Option<Arc<str>>,
    /// For mutual TLS, the client's verified certificate.
    pub client_cert: Option<Arc<ClientCert>>,
}

impl TlsEdge {
    pub fn new(default: Option<Arc<rustls::ServerConfig>>, sites: Arc<Sites>) -> Self {
        TlsEdge { default, sites }
    }

    /// Reads the client hello, picks the configuration by server name and finishes the
    /// handshake. No configuration for the name (no default): the connection is dropped.
    pub async fn accept<IO>(&self, io: IO) -> std::io::Result<Accepted<IO>>
    where
        IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let acceptor = rustls::server::Acceptor::default();
        let start = tokio_rustls::LazyConfigAcceptor::new(acceptor, io).await?;
        let name = start.client_hello().server_name().map(str::to_string);
        let site = name.as_deref().and_then(|n| self.sites.for_name(n));
        let config = site
            .as_ref()
            .map(|s| s.config.clone())
            .or_else(|| self.default.clone())
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("no certificate for server name {name:?}"),
                )
            })?;
        let stream = start.into_stream(config).await?;
        let client_cert = stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(|leaf| ClientCert::from_der(leaf))
            .map(Arc::new);
        Ok(Accepted {
            stream,
            site: site.map(|s| s.name),
            client_cert,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name)
    }

    fn key(name: &str) -> CertifiedKey {
        load_certified_key(
            &data(&format!("{name}.cert.pem")),
            &data(&format!("{name}.key.pem")),
        )
        .unwrap()
    }

    /// Does a handshake asking for `server_name`, trusting `trusted`'s certificate only.
    async fn handshake(
        acceptor: tokio_rustls::TlsAcceptor,
        trusted: &str,
        server_name: &'static str,
    ) -> Result<(), std::io::Error> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let _ = acceptor.accept(tcp).await;
        });
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(data(&format!("{trusted}.cert.pem"))).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from(server_name).unwrap();
        let out = connector.connect(name, tcp).await.map(|_| ());
        server.abort();
        out
    }

    #[tokio::test]
    async fn certificate_by_server_name() {
        let certs = Arc::new(Certificates::new(key("localhost")));
        let acceptor = acceptor(certs.clone()).unwrap();
        handshake(acceptor.clone(), "localhost", "localhost")
            .await
            .unwrap();
        handshake(acceptor.clone(), "localhost", "abc.execute-api.localhost")
            .await
            .unwrap();
        // Not named yet: the default certificate, which the client does not trust.
        assert!(
            handshake(acceptor.clone(), "api.example.com", "api.example.com")
                .await
                .is_err()
        );
        let mut named = HashMap::new();
        named.insert("API.example.com".into(), Arc::new(key("api.example.com")));
        certs.set_named(named);
        handshake(acceptor.clone(), "api.example.com", "api.example.com")
            .await
            .unwrap();
        handshake(acceptor, "api.example.com", "x.execute-api.api.example.com")
            .await
            .unwrap_err();
    }

    #[test]
    fn wildcard_names() {
        let certs = Certificates::new(key("localhost"));
        let other = Arc::new(key("api.example.com"));
        let mut named = HashMap::new();
        named.insert("*.example.com".into(), other.clone());
        certs.set_named(named);
        assert!(Arc::ptr_eq(
            &certs.for_name(Some("Api.Example.com")),
            &other
        ));
        assert!(!Arc::ptr_eq(&certs.for_name(Some("example.com")), &other));
        assert!(!Arc::ptr_eq(&certs.for_name(None), &other));
    }

    #[test]
    fn bad_files() {
        let missing = load_certified_key(&data("nope.pem"), &data("localhost.key.pem"));
        assert!(
            matches!(missing, Err(TlsError::Certificates { .. })),
            "{missing:?}"
        );
        let swapped = load_certified_key(&data("localhost.key.pem"), &data("localhost.key.pem"));
        assert!(
            matches!(swapped, Err(TlsError::NoCertificate(_))),
            "{swapped:?}"
        );
    }
}
