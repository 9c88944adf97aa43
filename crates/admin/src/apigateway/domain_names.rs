//! CreateDomainName, GetDomainNames, GetDomainName, UpdateDomainName, DeleteDomainName (v1's
//! view of the one domain namespace v2 shares; see `core/domains.rs`).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_model::domain::{CertificateMaterial, DomainName, MutualTlsAuthentication};
use tollgate_model::EndpointType;

use crate::core::context::Ctx;
use crate::core::domains::{self, NewDomain};
use crate::core::error::{parse_enum, ApiError, ApiResult};
use crate::core::pagination::page;
use crate::core::patch::PatchBody;
use crate::core::util::{empty, json, parse_body, Query as Q};

/// Route 53's hosted zones of API Gateway's regional and CloudFront's endpoints.
const REGIONAL_ZONE: &str = "Z1UJRXOUMOOFQ8";
const CLOUDFRONT_ZONE: &str = "Z2FDTNDATAQYW2";

/// v1's wire view of a domain (never its certificate's key).
pub fn view(region: &str, d: &DomainName) -> Value {
    let mut v = json!({
        "domainName": d.domain_name,
        "certificateUploadDate": d.certificate_upload_date,
        "endpointConfiguration": { "types": [d.endpoint_type.as_str()] },
        "domainNameStatus": "AVAILABLE",
        "securityPolicy": d.security_policy,
        "domainNameArn": domains::domain_arn(region, &d.domain_name),
    });
    let o = v.as_object_mut().expect("an object");
    let mut set = |k: &str, val: Option<&String>| {
        if let Some(val) = val {
            o.insert(k.into(), val.clone().into());
        }
    };
    set("certificateName", d.certificate_name.as_ref());
    set("certificateArn", d.certificate_arn.as_ref());
    set(
        "regionalCertificateName",
        d.regional_certificate_name.as_ref(),
    );
    set(
        "regionalCertificateArn",
        d.regional_certificate_arn.as_ref(),
    );
    if d.endpoint_type == EndpointType::Edge {
        o.insert(
            "distributionDomainName".into(),
            d.distribution_domain_name.clone().into(),
        );
        o.insert("distributionHostedZoneId".into(), CLOUDFRONT_ZONE.into());
    } else {
        o.insert(
            "regionalDomainName".into(),
            d.regional_domain_name.clone().into(),
        );
        o.insert("regionalHostedZoneId".into(), REGIONAL_ZONE.into());
    }
    if let Some(m) = &d.mutual_tls_authentication {
        o.insert(
            "mutualTlsAuthentication".into(),
            serde_json::to_value(m).unwrap_or_default(),
        );
    }
    if !d.tags.is_empty() {
        o.insert(
            "tags".into(),
            serde_json::to_value(&d.tags).unwrap_or_default(),
        );
    }
    v
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EndpointConfigurationInput {
    #[serde(default)]
    types: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MutualTlsInput {
    truststore_uri: Option<String>,
    truststore_version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateInput {
    domain_name: Option<String>,
    certificate_name: Option<String>,
    certificate_arn: Option<String>,
    regional_certificate_name: Option<String>,
    regional_certificate_arn: Option<String>,
    certificate_body: Option<String>,
    certificate_private_key: Option<String>,
    certificate_chain: Option<String>,
    endpoint_configuration: Option<EndpointConfigurationInput>,
    security_policy: Option<String>,
    mutual_tls_authentication: Option<MutualTlsInput>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

/// A mutual TLS input, its truststore read and checked.
fn mutual_tls(
    truststore_uri: Option<String>,
    truststore_version: Option<String>,
) -> ApiResult<MutualTlsAuthentication> {
    let uri =
        truststore_uri.ok_or_else(|| ApiError::bad_request("Truststore URI must be specified."))?;
    let warnings = domains::check_truststore(&uri)?;
    Ok(MutualTlsAuthentication {
        truststore_uri: uri,
        truststore_version,
        truststore_warnings: warnings,
    })
}

/// v1's uploaded certificate (`certificateBody` + `certificatePrivateKey`).
fn uploaded(i: &CreateInput) -> ApiResult<Option<CertificateMaterial>> {
    let (Some(body), Some(key)) = (&i.certificate_body, &i.certificate_private_key) else {
        if i.certificate_body.is_some() || i.certificate_private_key.is_some() {
            return Err(ApiError::bad_request(
                "certificateBody and certificatePrivateKey must be given together.",
            ));
        }
        return Ok(None);
    };
    let info = tollgate_model::x509::CertificateInfo::from_pem(body)
        .map_err(|e| ApiError::bad_request(format!("Invalid certificate body: {e}")))?;
    domains::check_key(key, &info).map_err(ApiError::bad_request)?;
    Ok(Some(CertificateMaterial {
        certificate: body.clone(),
        chain: i.certificate_chain.clone().unwrap_or_default(),
        private_key: key.clone(),
    }))
}

pub async fn create(State(ctx): State<Ctx>, body: Bytes) -> ApiResult<Response> {
    let i: CreateInput = parse_body(&body)?;
    let name = i
        .domain_name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad_request("Domain name must be specified."))?;
    let endpoint_type = match i
        .endpoint_configuration
        .as_ref()
        .and_then(|e| e.types.first())
    {
        Some(t) => parse_enum::<EndpointType>(t, "endpointConfiguration.types")?,
        None => EndpointType::Edge,
    };
    if endpoint_type == EndpointType::Private {
        return Err(ApiError::bad_request(
            "Private custom domain names are not supported.",
        ));
    }
    let upload = uploaded(&i)?;
    if upload.is_none() && i.certificate_arn.is_none() && i.regional_certificate_arn.is_none() {
        return Err(ApiError::bad_request(
            "A certificate must be specified: certificateArn, regionalCertificateArn or certificateBody.",
        ));
    }
    let mtls = match i.mutual_tls_authentication {
        Some(m) => Some(mutual_tls(m.truststore_uri, m.truststore_version)?),
        None => None,
    };
    let new = NewDomain {
        name,
        endpoint_type,
        security_policy: i.security_policy,
        certificate_name: i.certificate_name,
        certificate_arn: i.certificate_arn,
        regional_certificate_name: i.regional_certificate_name,
        regional_certificate_arn: i.regional_certificate_arn,
        mutual_tls: mtls,
        tags: i.tags,
    };
    let created = ctx
        .store
        .transact(|s| {
            let mut d = domains::create(s, &ctx.region, new.clone())?;
            d.uploaded_certificate = upload.clone();
            Ok::<_, ApiError>(domains::insert(s, d))
        })
        .await?;
    Ok(json(201, &view(&ctx.region, &created)))
}

pub async fn list(State(ctx): State<Ctx>, Query(q): Query<Q>) -> ApiResult<Response> {
    let items = domains::listed(&ctx.store.state(), |d| view(&ctx.region, d));
    page(items, &q)
}

pub async fn get(State(ctx): State<Ctx>, Path(name): Path<String>) -> ApiResult<Response> {
    let state = ctx.store.state();
    let d = domains::find(&state, &name)?;
    Ok(json(200, &view(&ctx.region, d)))
}

pub async fn update(
    State(ctx): State<Ctx>,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let ops = PatchBody::parse(&body, "UpdateDomainNameRequest")?;
    let updated = ctx
        .store
        .transact(|s| {
            let certificates = s.domains.certificates.clone();
            let d = domains::domain_mut(s, &name)?;
            for op in &ops {
                let path = op.path.as_deref().unwrap_or_default();
                if op.op != "replace" {
                    return Err(ApiError::bad_request(format!(
                        "Invalid patch operation specified. Must be 'replace' for path {path}"
                    )));
                }
                let value = op.value.clone();
                match path {
                    "/certificateName" => d.certificate_name = value,
                    "/regionalCertificateName" => d.regional_certificate_name = value,
                    "/certificateArn" | "/regionalCertificateArn" => {
                        let arn = value.ok_or_else(|| {
                            ApiError::bad_request("A certificate ARN must be specified.")
                        })?;
                        if !certificates.contains_key(&arn) {
                            return Err(ApiError::bad_request(format!(
                                "Certificate {arn} not found. Import it first: aws acm import-certificate"
                            )));
                        }
                        if path == "/certificateArn" {
                            d.certificate_arn = Some(arn);
                        } else {
                            d.regional_certificate_arn = Some(arn);
                        }
                        d.certificate_upload_date = tollgate_model::time::now_epoch();
                    }
                    "/securityPolicy" => {
                        d.security_policy = domains::check_security_policy(value.as_deref())?
                    }
                    "/mutualTlsAuthentication/truststoreUri" => {
                        let version = d
                            .mutual_tls_authentication
                            .as_ref()
                            .and_then(|m| m.truststore_version.clone());
                        d.mutual_tls_authentication = match value {
                            Some(uri) if !uri.is_empty() => {
                                domains::check_mutual_tls(true, d.endpoint_type)?;
                                Some(mutual_tls(Some(uri), version)?)
                            }
                            _ => None,
                        };
                    }
                    "/mutualTlsAuthentication/truststoreVersion" => {
                        if let Some(m) = &mut d.mutual_tls_authentication {
                            m.truststore_version = value;
                        }
                    }
                    other => {
                        return Err(ApiError::bad_request(format!(
                            "Invalid patch path {other}"
                        )))
                    }
                }
            }
            Ok::<_, ApiError>(d.clone())
        })
        .await?;
    Ok(json(200, &view(&ctx.region, &updated)))
}

pub async fn delete(State(ctx): State<Ctx>, Path(name): Path<String>) -> ApiResult<Response> {
    ctx.store.transact(|s| domains::remove(s, &name)).await?;
    Ok(empty(202))
}
