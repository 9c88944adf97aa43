//! ACM's certificate operations.

use std::sync::Arc;

use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_model::domain::{CertificateMaterial, ImportedCertificate};
use tollgate_model::x509::CertificateInfo;

use crate::core::context::Ctx;
use crate::core::error::ApiError;
use crate::core::util::parse_body;

/// An operation's JSON answer, or its error.
type Answer = Result<Value, ApiError>;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ImportInput {
    certificate_arn: Option<String>,
    /// Blobs: base64 in JSON.
    certificate: Option<String>,
    private_key: Option<String>,
    certificate_chain: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    key: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArnInput {
    certificate_arn: Option<String>,
}

fn validation(m: impl Into<String>) -> ApiError {
    ApiError::new(400, "ValidationException", m)
}

fn not_found(arn: &str) -> ApiError {
    ApiError::new(
        400,
        "ResourceNotFoundException",
        format!("Could not find certificate {arn}."),
    )
}

/// A blob member as PEM text.
fn blob(name: &str, v: Option<&str>) -> Result<String, ApiError> {
    let v = v.ok_or_else(|| validation(format!("{name} is required.")))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(v.trim())
        .map_err(|_| validation(format!("Invalid base64 in {name}.")))?;
    String::from_utf8(bytes).map_err(|_| validation(format!("{name} must be PEM text.")))
}

fn arn_of(body: &[u8]) -> Result<String, ApiError> {
    let input: ArnInput = parse_body(body)?;
    input
        .certificate_arn
        .filter(|a| a.starts_with("arn:"))
        .ok_or_else(|| validation("1 validation error detected: Value at 'certificateArn' failed to satisfy constraint: Member must not be null"))
}

pub async fn import(ctx: &Ctx, body: &[u8]) -> Answer {
    let input: ImportInput = parse_body(body)?;
    let certificate = blob("Certificate", input.certificate.as_deref())?;
    let private_key = blob("PrivateKey", input.private_key.as_deref())?;
    let chain = match input.certificate_chain.as_deref() {
        Some(c) => blob("CertificateChain", Some(c))?,
        None => String::new(),
    };
    let info = CertificateInfo::from_pem(&certificate).map_err(|_| {
        validation("Unable to parse certificate. Please ensure the certificate is in PEM format.")
    })?;
    if !chain.trim().is_empty() {
        CertificateInfo::from_pem(&chain).map_err(|_| {
            validation(
                "Unable to parse certificate chain. Please ensure the chain is in PEM format.",
            )
        })?;
    }
    crate::core::domains::check_key(&private_key, &info).map_err(validation)?;
    let now = tollgate_model::time::now_epoch();
    if now > info.not_after {
        return Err(validation("The certificate has expired."));
    }
    // A reimport names a certificate that exists; a new one gets a fresh ARN.
    let reimport = input.certificate_arn.is_some();
    let arn = match input.certificate_arn {
        Some(a) => a,
        None => format!(
            "arn:aws:acm:{}:{}:certificate/{}",
            ctx.region,
            tollgate_model::ACCOUNT_ID,
            uuid::Uuid::new_v4()
        ),
    };
    let domain_name = info
        .common_name
        .clone()
        .or_else(|| info.dns_names.first().cloned())
        .unwrap_or_default();
    let mut sans = info.dns_names.clone();
    if sans.is_empty() && !domain_name.is_empty() {
        sans.push(domain_name.clone());
    }
    let tags = input.tags.into_iter().map(|t| (t.key, t.value)).collect();
    let cert = Arc::new(ImportedCertificate {
        certificate_arn: arn.clone(),
        material: CertificateMaterial {
            certificate,
            chain,
            private_key,
        },
        domain_name,
        subject_alternative_names: sans,
        subject: info.subject_dn,
        issuer: info.issuer_dn,
        serial: info.serial,
        key_algorithm: info.key_algorithm,
        not_before: info.not_before,
        not_after: info.not_after,
        imported_at: now,
        tags,
    });
    ctx.store
        .transact(|state| {
            let domains = Arc::make_mut(&mut state.domains);
            if let Some(old) = domains.certificates.get(&arn) {
                // Reimport keeps the tags it had.
                let mut c = (*cert).clone();
                if c.tags.is_empty() {
                    c.tags = old.tags.clone();
                }
                domains.certificates.insert(arn.clone(), Arc::new(c));
            } else if !reimport {
                domains.certificates.insert(arn.clone(), cert.clone());
            } else {
                return Err(not_found(&arn));
            }
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(json!({ "CertificateArn": arn }))
}

/// The domain names whose certificate this is (`InUseBy`).
fn in_use_by(ctx: &Ctx, arn: &str) -> Vec<String> {
    let state = ctx.store.state();
    state
        .domains
        .domain_names
        .values()
        .filter(|d| {
            d.certificate_arn.as_deref() == Some(arn)
                || d.regional_certificate_arn.as_deref() == Some(arn)
        })
        .map(|d| {
            format!(
                "arn:aws:apigateway:{}::/domainnames/{}",
                ctx.region, d.domain_name
            )
        })
        .collect()
}

fn status(c: &ImportedCertificate) -> &'static str {
    if tollgate_model::time::now_epoch() > c.not_after {
        "EXPIRED"
    } else {
        "ISSUED"
    }
}

/// The certificate the body names.
fn named(ctx: &Ctx, body: &[u8]) -> Result<(String, Arc<ImportedCertificate>), ApiError> {
    let arn = arn_of(body)?;
    let state = ctx.store.state();
    let c = state.domains.certificates.get(&arn).cloned();
    c.map(|c| (arn.clone(), c)).ok_or_else(|| not_found(&arn))
}

pub fn describe(ctx: &Ctx, body: &[u8]) -> Answer {
    let (arn, c) = named(ctx, body)?;
    Ok(json!({ "Certificate": {
        "CertificateArn": c.certificate_arn,
        "DomainName": c.domain_name,
        "SubjectAlternativeNames": c.subject_alternative_names,
        "Serial": c.serial,
        "Subject": c.subject,
        "Issuer": c.issuer,
        "ImportedAt": c.imported_at,
        "Status": status(&c),
        "NotBefore": c.not_before,
        "NotAfter": c.not_after,
        "KeyAlgorithm": c.key_algorithm,
        "InUseBy": in_use_by(ctx, &arn),
        "Type": "IMPORTED",
        "RenewalEligibility": "INELIGIBLE",
    }}))
}

/// The certificate and its chain (never the key).
pub fn get(ctx: &Ctx, body: &[u8]) -> Answer {
    let (_, c) = named(ctx, body)?;
    let mut out = json!({ "Certificate": c.material.certificate });
    if !c.material.chain.is_empty() {
        out["CertificateChain"] = Value::from(c.material.chain.clone());
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListInput {
    #[serde(default)]
    certificate_statuses: Vec<String>,
    max_items: Option<usize>,
    next_token: Option<String>,
}

pub fn list(ctx: &Ctx, body: &[u8]) -> Answer {
    let input: ListInput = parse_body(body)?;
    let max = input.max_items.unwrap_or(1000);
    if max == 0 || max > 1000 {
        return Err(validation("1 validation error detected: Value at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000"));
    }
    let state = ctx.store.state();
    let mut out = Vec::new();
    let mut next = None;
    let start = input.next_token.unwrap_or_default();
    for (arn, c) in state.domains.certificates.range(start..) {
        if out.len() == max {
            next = Some(arn.clone());
            break;
        }
        let st = status(c);
        if !input.certificate_statuses.is_empty()
            && !input.certificate_statuses.iter().any(|s| s == st)
        {
            continue;
        }
        out.push(json!({
            "CertificateArn": arn,
            "DomainName": c.domain_name,
            "SubjectAlternativeNameSummaries": c.subject_alternative_names,
            "Type": "IMPORTED",
            "Status": st,
            "KeyAlgorithm": c.key_algorithm,
            "InUse": !in_use_by(ctx, arn).is_empty(),
            "NotBefore": c.not_before,
            "NotAfter": c.not_after,
            "ImportedAt": c.imported_at,
        }));
    }
    let mut body = json!({ "CertificateSummaryList": out });
    if let Some(n) = next {
        body["NextToken"] = Value::from(n);
    }
    Ok(body)
}

pub async fn delete(ctx: &Ctx, body: &[u8]) -> Answer {
    let arn = arn_of(body)?;
    ctx.store
        .transact(|state| {
            let used = state.domains.domain_names.values().any(|d| {
                d.certificate_arn.as_deref() == Some(arn.as_str())
                    || d.regional_certificate_arn.as_deref() == Some(arn.as_str())
            });
            if used {
                return Err(ApiError::new(
                    400,
                    "ResourceInUseException",
                    format!(
                        "Certificate {arn} in account {} is in use.",
                        tollgate_model::ACCOUNT_ID
                    ),
                ));
            }
            let domains = Arc::make_mut(&mut state.domains);
            domains
                .certificates
                .remove(&arn)
                .map(|_| ())
                .ok_or_else(|| not_found(&arn))
        })
        .await?;
    Ok(json!({}))
}
