//! What AWS shows of an X.509 certificate: ACM's DescribeCertificate fields and mutual
//! TLS's `clientCert` (subject and issuer DNs as `C=US,ST=…,CN=…`, colon-hex serial,
//! validity dates as `May 28 12:30:02 2019 GMT`). Parsing only; no I/O.

use x509_cert::der::{Decode, DecodePem};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::Certificate;

/// A certificate's fields as AWS shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct CertificateInfo {
    /// `C=US,ST=…,CN=…`, attributes in the order the certificate lists them.
    pub subject_dn: String,
    pub issuer_dn: String,
    /// The subject's CN, if any.
    pub common_name: Option<String>,
    /// DNS names of the subjectAltName extension.
    pub dns_names: Vec<String>,
    /// Colon-separated lower-case hex (`0f:a1:…`).
    pub serial: String,
    /// Epoch seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// ACM's name of the key type: `RSA_2048`, `EC_prime256v1`...
    pub key_algorithm: String,
    /// The subjectPublicKey bits (to check a private key is this certificate's).
    pub public_key: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
#[error("unable to parse the certificate: {0}")]
pub struct CertificateParseError(String);

impl CertificateInfo {
    /// The first certificate of a PEM text.
    pub fn from_pem(pem: &str) -> Result<Self, CertificateParseError> {
        let cert = Certificate::from_pem(pem.trim().as_bytes())
            .map_err(|e| CertificateParseError(e.to_string()))?;
        Ok(Self::of(&cert))
    }

    /// A DER certificate (what a TLS handshake carries).
    pub fn from_der(der: &[u8]) -> Result<Self, CertificateParseError> {
        let cert = Certificate::from_der(der).map_err(|e| CertificateParseError(e.to_string()))?;
        Ok(Self::of(&cert))
    }

    fn of(cert: &Certificate) -> Self {
        let tbs = &cert.tbs_certificate;
        let dn = |name: &x509_cert::name::Name| {
            name.0
                .iter()
                .flat_map(|rdn| rdn.0.iter())
                .map(|atv| atv.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        let common_name = tbs
            .subject
            .0
            .iter()
            .flat_map(|rdn| rdn.0.iter())
            .map(|atv| atv.to_string())
            .find_map(|s| s.strip_prefix("CN=").map(str::to_string));
        let dns_names = match tbs.get::<SubjectAltName>() {
            Ok(Some((_, san))) => san
                .0
                .iter()
                .filter_map(|n| match n {
                    GeneralName::DnsName(d) => Some(d.to_string()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let serial = tbs
            .serial_number
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":");
        let secs = |t: x509_cert::time::Time| {
            i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
        };
        CertificateInfo {
            subject_dn: dn(&tbs.subject),
            issuer_dn: dn(&tbs.issuer),
            common_name,
            dns_names,
            serial,
            not_before: secs(tbs.validity.not_before),
            not_after: secs(tbs.validity.not_after),
            key_algorithm: key_algorithm(&tbs.subject_public_key_info),
            public_key: tbs
                .subject_public_key_info
                .subject_public_key
                .raw_bytes()
                .to_vec(),
        }
    }
}

fn key_algorithm(spki: &x509_cert::spki::SubjectPublicKeyInfoOwned) -> String {
    const RSA: &str = "1.2.840.113549.1.1.1";
    const EC: &str = "1.2.840.10045.2.1";
    const P256: &str = "1.2.840.10045.3.1.7";
    const P384: &str = "1.3.132.0.34";
    match spki.algorithm.oid.to_string().as_str() {
        RSA => {
            // The modulus is most of the key: 2048-bit keys are ~270 bytes of DER.
            let bits = spki.subject_public_key.raw_bytes().len() * 8;
            let size = [1024, 2048, 3072, 4096]
                .into_iter()
                .find(|s| bits <= s + 256)
                .unwrap_or(4096);
            format!("RSA_{size}")
        }
        EC => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<x509_cert::der::asn1::ObjectIdentifier>().ok())
                .map(|o| o.to_string());
            match curve.as_deref() {
                Some(P256) => "EC_prime256v1".into(),
                Some(P384) => "EC_secp384r1".into(),
                _ => "EC_secp521r1".into(),
            }
        }
        _ => "UNKNOWN".into(),
    }
}

/// `May 28 12:30:02 2019 GMT`, the date form of mutual TLS's `clientCert.validity`.
pub fn gmt_date(epoch_secs: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = epoch_secs.div_euclid(86_400);
    let rem = epoch_secs.rem_euclid(86_400);
    let (y, m, d) = crate::time::civil_from_days(days);
    let month = MONTHS[(m as usize).saturating_sub(1).min(11)];
    format!(
        "{month} {d} {:02}:{:02}:{:02} {y} GMT",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(gmt_date(1_559_046_602), "May 28 12:30:02 2019 GMT");
        assert_eq!(gmt_date(0), "Jan 1 00:00:00 1970 GMT");
    }

    #[test]
    fn fields_as_aws_shows_them() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../gateway/tests/data/localhost.cert.pem"
        );
        let pem = std::fs::read_to_string(path).unwrap();
        let info = CertificateInfo::from_pem(&pem).unwrap();
        assert_eq!(info.subject_dn, "CN=localhost");
        assert_eq!(info.issuer_dn, "CN=localhost");
        assert_eq!(info.common_name.as_deref(), Some("localhost"));
        assert_eq!(
            info.serial,
            "28:93:50:93:65:87:f1:38:7b:a9:1d:07:5d:cb:e1:00:49:31:76:96"
        );
        assert_eq!(info.key_algorithm, "EC_prime256v1");
        assert_eq!(gmt_date(info.not_before), "Dec 5 01:23:46 2026 GMT");
        assert!(info.not_after > info.not_before);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(CertificateInfo::from_pem("not a certificate").is_err());
        assert!(CertificateInfo::from_der(b"\x30\x03\x02\x01").is_err());
    }
}
