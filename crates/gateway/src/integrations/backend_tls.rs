//! TLS toward HTTP backends beyond the default client: the client certificate a stage
//! presents (`clientCertificateId`, compiled with the stage into [`StageBackendTls`]) and
//! integrations that skip verifying the backend's certificate
//! (`tlsConfig.insecureSkipVerification`). Each worker thread keeps one pooled client per
//! configuration, found by the configuration's id (no lock shared between threads).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use hyper_rustls::ConfigBuilderExt;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tollgate_model::domain::ClientCertificate;

/// One client configuration with an id unique in the process (clients are keyed by it).
#[derive(Debug)]
pub struct BackendTls {
    pub id: u64,
    pub config: Arc<ClientConfig>,
}

/// A stage's client certificate, with and without backend verification.
#[derive(Debug)]
pub struct StageBackendTls {
    pub verified: BackendTls,
    pub insecure: BackendTls,
}

/// Ids are drawn when a stage is compiled, never per request.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn with_id(config: ClientConfig) -> BackendTls {
    BackendTls {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        config: Arc::new(config),
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn builder() -> Result<rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier>, rustls::Error> {
    ClientConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()
}

/// The stage's client certificate as configurations; `None` if its key is unusable
/// (logged: requests then go without it).
pub fn for_stage(cert: &ClientCertificate) -> Option<Arc<StageBackendTls>> {
    let build = || -> Result<StageBackendTls, Box<dyn std::error::Error>> {
        let key = crate::domains::certified_key(&cert.material)?;
        let chain: Vec<CertificateDer<'static>> = key.cert.clone();
        let der =
            rustls::pki_types::PrivateKeyDer::from_pem_slice(cert.material.private_key.as_bytes())?;
        // The system's roots, as the default client has.
        let verified = builder()?
            .with_native_roots()?
            .with_client_auth_cert(chain.clone(), der.clone_key())?;
        let insecure = builder()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyServer(provider())))
            .with_client_auth_cert(chain, der)?;
        Ok(StageBackendTls {
            verified: with_id(verified),
            insecure: with_id(insecure),
        })
    };
    match build() {
        Ok(t) => Some(Arc::new(t)),
        Err(e) => {
            tracing::warn!(id = %cert.client_certificate_id, error = %e, "client certificate unusable");
            None
        }
    }
}

/// The configuration of integrations that skip verification, without a client certificate.
pub fn insecure_default() -> Option<BackendTls> {
    let config = builder()
        .ok()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyServer(provider())))
        .with_no_client_auth();
    Some(with_id(config))
}

/// `insecureSkipVerification`: any server certificate is accepted; the handshake's
/// signatures are still checked, so the connection is still encrypted to the key the
/// server presented.
#[derive(Debug)]
struct AnyServer(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyServer {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
