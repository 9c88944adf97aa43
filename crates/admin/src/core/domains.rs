//! What API Gateway v1 and v2 share about custom domain names: one domain namespace and
//! one mapping table (v1 base path mappings and v2 API mappings are two views of it), the
//! certificate a domain names, its mutual TLS truststore, and what a mapping may point to.

use std::sync::Arc;

use tollgate_model::domain::{ApiMapping, DomainName, MutualTlsAuthentication};
use tollgate_model::EndpointType;
use tollgate_store::State;

use crate::core::error::{ApiError, ApiResult};

/// The domain named `name` (case-insensitive, as DNS is).
pub fn find<'a>(state: &'a State, name: &str) -> ApiResult<&'a Arc<DomainName>> {
    state
        .domains
        .domain_names
        .get(&name.to_ascii_lowercase())
        .ok_or_else(no_domain)
}

pub fn no_domain() -> ApiError {
    ApiError::not_found("Invalid domain name identifier specified")
}

/// `arn:aws:apigateway:{region}::/domainnames/{name}`.
pub fn domain_arn(region: &str, name: &str) -> String {
    format!("arn:aws:apigateway:{region}::/domainnames/{name}")
}

use tollgate_model::ids::lower_alnum as random_label;

/// What a create call gives about a new domain.
#[derive(Clone)]
pub struct NewDomain {
    pub name: String,
    pub endpoint_type: EndpointType,
    pub security_policy: Option<String>,
    pub certificate_name: Option<String>,
    pub certificate_arn: Option<String>,
    pub regional_certificate_name: Option<String>,
    pub regional_certificate_arn: Option<String>,
    pub mutual_tls: Option<MutualTlsAuthentication>,
    pub tags: std::collections::BTreeMap<String, String>,
}

/// Checks a new domain against the state and makes it (not yet inserted).
pub fn create(state: &State, region: &str, d: NewDomain) -> ApiResult<DomainName> {
    check_name(&d.name)?;
    if state
        .domains
        .domain_names
        .contains_key(&d.name.to_ascii_lowercase())
    {
        return Err(ApiError::conflict(
            "The domain name you provided already exists.",
        ));
    }
    let security_policy = check_security_policy(d.security_policy.as_deref())?;
    for arn in [&d.certificate_arn, &d.regional_certificate_arn]
        .into_iter()
        .flatten()
    {
        check_certificate(state, arn)?;
    }
    check_mutual_tls(d.mutual_tls.is_some(), d.endpoint_type)?;
    Ok(DomainName {
        domain_name: d.name.to_ascii_lowercase(),
        certificate_name: d.certificate_name,
        certificate_arn: d.certificate_arn,
        regional_certificate_name: d.regional_certificate_name,
        regional_certificate_arn: d.regional_certificate_arn,
        uploaded_certificate: None,
        endpoint_type: d.endpoint_type,
        security_policy,
        mutual_tls_authentication: d.mutual_tls,
        regional_domain_name: format!("d-{}.execute-api.{region}.amazonaws.com", random_label(10)),
        distribution_domain_name: format!("d{}.cloudfront.net", random_label(13)),
        certificate_upload_date: tollgate_model::time::now_epoch(),
        tags: d.tags,
        mappings: Vec::new(),
    })
}

fn check_name(name: &str) -> ApiResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name.split('.').count() >= 2
        && name.split('.').enumerate().all(|(i, label)| {
            (i == 0 && label == "*")
                || (!label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        })
        // A top-level label is never all digits: no IP literal (`127.0.0.1`) can become
        // a domain and take requests meant for the control plane's own address.
        && !name
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "Invalid domain name specified: {name}"
        )))
    }
}

/// `TLS_1_0` or `TLS_1_2` (the default).
/// Mutual TLS needs a REGIONAL domain (on creation and on UpdateDomainName alike).
pub fn check_mutual_tls(on: bool, endpoint_type: EndpointType) -> Result<(), ApiError> {
    if on && endpoint_type != EndpointType::Regional {
        return Err(ApiError::bad_request(
            "Mutual TLS is only supported on REGIONAL domain names.",
        ));
    }
    Ok(())
}

pub fn check_security_policy(p: Option<&str>) -> ApiResult<String> {
    match p.unwrap_or("TLS_1_2") {
        p @ ("TLS_1_0" | "TLS_1_2") => Ok(p.to_string()),
        other => Err(ApiError::bad_request(format!(
            "Invalid security policy specified: {other}. Must be one of: [TLS_1_0, TLS_1_2]"
        ))),
    }
}

/// The certificate must be one ACM (this endpoint's) holds: a domain serves HTTPS with it.
pub fn check_certificate(state: &State, arn: &str) -> ApiResult<()> {
    if state.domains.certificates.contains_key(arn) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "Certificate {arn} not found. Import it first: aws acm import-certificate"
        )))
    }
}

/// The private key must parse and be the certificate's (the message says what is wrong).
pub fn check_key(
    pem: &str,
    info: &tollgate_model::x509::CertificateInfo,
) -> Result<(), &'static str> {
    let key = rcgen::KeyPair::from_pem(pem)
        .map_err(|_| "The private key is not supported (a PKCS#8 PEM RSA or ECDSA key is).")?;
    if key.public_key_raw() != info.public_key.as_slice() {
        return Err("The private key does not match the public key in the certificate.");
    }
    Ok(())
}

/// The truststore of a domain's mutual TLS: a PEM bundle of CA certificates at
/// `file:///absolute/path.pem`. Answers the warnings for entries that are not usable CA
/// certificates; a store without one usable certificate is refused.
pub fn check_truststore(uri: &str) -> ApiResult<Vec<String>> {
    let Some(path) = uri.strip_prefix("file://").filter(|p| p.starts_with('/')) else {
        return Err(ApiError::bad_request(format!(
            "Invalid truststore URI {uri}: Tollgate reads truststores from local files; \
             use a file:///absolute/path.pem URI (s3:// is not supported)."
        )));
    };
    let unreadable =
        |e: String| ApiError::bad_request(format!("Unable to read the truststore at {uri}: {e}"));
    let bytes = tollgate_store::files::read_regular(
        std::path::Path::new(path),
        tollgate_store::files::MAX_TRUSTSTORE,
    )
    .map_err(|e| unreadable(e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|e| unreadable(e.to_string()))?;
    let now = tollgate_model::time::now_epoch();
    let mut usable = 0;
    let mut warnings = Vec::new();
    for (i, block) in pem_blocks(&text).enumerate() {
        match tollgate_model::x509::CertificateInfo::from_pem(block) {
            Ok(info) if info.not_after < now => warnings.push(format!(
                "Certificate {} ({}) in the truststore has expired.",
                i + 1,
                info.subject_dn
            )),
            Ok(_) => usable += 1,
            Err(e) => warnings.push(format!("Certificate {} in the truststore: {e}", i + 1)),
        }
    }
    if usable == 0 {
        return Err(ApiError::bad_request(format!(
            "The truststore at {uri} holds no usable certificate."
        )));
    }
    Ok(warnings)
}

/// The `-----BEGIN CERTIFICATE-----` blocks of a PEM text.
fn pem_blocks(text: &str) -> impl Iterator<Item = &str> {
    const END: &str = "-----END CERTIFICATE-----";
    text.match_indices("-----BEGIN CERTIFICATE-----")
        .filter_map(move |(start, _)| {
            let end = text[start..].find(END)? + start + END.len();
            Some(&text[start..end])
        })
}

/// A mapping's target: a REST, HTTP or WebSocket API and, if named, one of its stages.
pub fn check_target(state: &State, api_id: &str, stage: Option<&str>) -> ApiResult<()> {
    let stage_exists = if let Some(api) = state.apis.get(api_id) {
        stage.is_none_or(|s| api.stages.contains_key(s))
    } else if let Some(api) = state.v2_apis.get(api_id) {
        stage.is_none_or(|s| api.stages.contains_key(s))
    } else {
        return Err(ApiError::bad_request("Invalid API identifier specified"));
    };
    if stage_exists {
        Ok(())
    } else {
        Err(ApiError::bad_request("Invalid stage identifier specified"))
    }
}

/// Adds `m` to the domain's table; a key already taken is a conflict.
pub fn add_mapping(domain: &mut DomainName, m: ApiMapping) -> ApiResult<()> {
    if domain.mapping_by_key(&m.api_mapping_key).is_some() {
        return Err(ApiError::conflict(
            "Base path already exists for this domain name",
        ));
    }
    domain.mappings.push(m);
    Ok(())
}

/// A fresh mapping id (10 characters, unique on the domain).
pub fn mapping_id(domain: &DomainName) -> String {
    loop {
        let id = random_label(10);
        if !domain.mappings.iter().any(|m| m.api_mapping_id == id) {
            return id;
        }
    }
}

/// Inserts a domain `create` made; the shared copy it is stored as.
pub fn insert(state: &mut State, d: DomainName) -> Arc<DomainName> {
    let d = Arc::new(d);
    Arc::make_mut(&mut state.domains)
        .domain_names
        .insert(d.domain_name.clone(), d.clone());
    d
}

/// Deletes a domain with its mappings.
pub fn remove(state: &mut State, name: &str) -> ApiResult<()> {
    find(state, name)?;
    Arc::make_mut(&mut state.domains)
        .domain_names
        .remove(&name.to_ascii_lowercase());
    Ok(())
}

/// The domains, shown by `view`, keyed by name (for a list page).
pub fn listed<T>(state: &State, view: impl Fn(&DomainName) -> T) -> Vec<(String, T)> {
    state
        .domains
        .domain_names
        .iter()
        .map(|(k, d)| (k.clone(), view(d)))
        .collect()
}

/// The domain for a write (a copy of the stored one).
pub fn domain_mut<'a>(state: &'a mut State, name: &str) -> ApiResult<&'a mut DomainName> {
    let domains = Arc::make_mut(&mut state.domains);
    let d = domains
        .domain_names
        .get_mut(&name.to_ascii_lowercase())
        .ok_or_else(no_domain)?;
    Ok(Arc::make_mut(d))
}

/// Drops mappings to an API (or one of its stages) that is gone.
pub fn unlink(state: &mut State, api_id: &str, stage: Option<&str>) {
    let uses =
        |m: &ApiMapping| m.api_id == api_id && (stage.is_none() || m.stage.as_deref() == stage);
    if !state
        .domains
        .domain_names
        .values()
        .any(|d| d.mappings.iter().any(uses))
    {
        return;
    }
    let domains = Arc::make_mut(&mut state.domains);
    for d in domains.domain_names.values_mut() {
        if d.mappings.iter().any(uses) {
            Arc::make_mut(d).mappings.retain(|m| !uses(m));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("api.example.com").is_ok());
        assert!(check_name("*.example.com").is_ok());
        assert!(check_name("example").is_err());
        assert!(check_name("a..b").is_err());
        assert!(check_name("a b.com").is_err());
    }

    #[test]
    fn truststore_uris() {
        let e = check_truststore("s3://bucket/truststore.pem").unwrap_err();
        assert_eq!(e.error_type, "BadRequestException");
        assert!(
            e.message.contains("file:///absolute/path.pem"),
            "{}",
            e.message
        );
        assert!(check_truststore("file://relative.pem").is_err());
        assert!(check_truststore("file:///nonexistent/tollgate.pem").is_err());
    }
}
