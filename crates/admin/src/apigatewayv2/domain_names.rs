//! CreateDomainName, GetDomainNames, GetDomainName, UpdateDomainName, DeleteDomainName: v2's
//! view of the one domain namespace v1 shares (see `core/domains.rs`).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_model::domain::{DomainName, MutualTlsAuthentication};
use tollgate_model::EndpointType;

use crate::core::context::Ctx;
use crate::core::domains::{self, NewDomain};
use crate::core::error::{parse_enum, ApiError, ApiResult};
use crate::core::pagination::page_v2;
use crate::core::util::{empty, json, parse_body, Query as Q};

const REGIONAL_ZONE: &str = "Z1UJRXOUMOOFQ8";

/// v2's wire view of a domain.
pub fn view(region: &str, d: &DomainName) -> Value {
    let (arn, name) = match d.endpoint_type {
        EndpointType::Edge => (&d.certificate_arn, &d.certificate_name),
        _ => (&d.regional_certificate_arn, &d.regional_certificate_name),
    };
    let mut config = json!({
        "apiGatewayDomainName": d.regional_domain_name,
        "certificateUploadDate": tollgate_model::time::iso8601(d.certificate_upload_date),
        "domainNameStatus": "AVAILABLE",
        "endpointType": d.endpoint_type.as_str(),
        "hostedZoneId": REGIONAL_ZONE,
        "securityPolicy": d.security_policy,
    });
    if let Some(a) = arn.as_ref().or(d.certificate_arn.as_ref()) {
        config["certificateArn"] = a.clone().into();
    }
    if let Some(n) = name {
        config["certificateName"] = n.clone().into();
    }
    let mut v = json!({
        "apiMappingSelectionExpression": "$request.basepath",
        "domainName": d.domain_name,
        "domainNameArn": domains::domain_arn(region, &d.domain_name),
        "domainNameConfigurations": [config],
        "routingMode": "API_MAPPING_ONLY",
        "tags": d.tags,
    });
    if let Some(m) = &d.mutual_tls_authentication {
        v["mutualTlsAuthentication"] = serde_json::to_value(m).unwrap_or_default();
    }
    v
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct ConfigurationInput {
    certificate_arn: Option<String>,
    certificate_name: Option<String>,
    endpoint_type: Option<String>,
    security_policy: Option<String>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct MutualTlsInput {
    truststore_uri: Option<String>,
    truststore_version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateInput {
    domain_name: Option<String>,
    #[serde(default)]
    domain_name_configurations: Vec<ConfigurationInput>,
    mutual_tls_authentication: Option<MutualTlsInput>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

fn mutual_tls(m: MutualTlsInput) -> ApiResult<Option<MutualTlsAuthentication>> {
    let Some(uri) = m.truststore_uri.filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    let warnings = domains::check_truststore(&uri)?;
    Ok(Some(MutualTlsAuthentication {
        truststore_uri: uri,
        truststore_version: m.truststore_version,
        truststore_warnings: warnings,
    }))
}

fn endpoint_type(c: &ConfigurationInput) -> ApiResult<EndpointType> {
    match c.endpoint_type.as_deref() {
        None => Ok(EndpointType::Regional),
        Some(t) => parse_enum(t, "endpointType"),
    }
}

pub async fn create(State(ctx): State<Ctx>, body: Bytes) -> ApiResult<Response> {
    let i: CreateInput = parse_body(&body)?;
    let name = i
        .domain_name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad_request("Domain name must be specified."))?;
    let config = i
        .domain_name_configurations
        .first()
        .cloned()
        .ok_or_else(|| {
            ApiError::bad_request(
                "A domain name configuration with a certificate must be specified.",
            )
        })?;
    let endpoint_type = endpoint_type(&config)?;
    let mtls = match i.mutual_tls_authentication {
        Some(m) => mutual_tls(m)?,
        None => None,
    };
    let (certificate_arn, regional_certificate_arn) = match endpoint_type {
        EndpointType::Edge => (config.certificate_arn.clone(), None),
        _ => (None, config.certificate_arn.clone()),
    };
    if certificate_arn.is_none() && regional_certificate_arn.is_none() {
        return Err(ApiError::bad_request(
            "A certificate ARN must be specified.",
        ));
    }
    let new = NewDomain {
        name,
        endpoint_type,
        security_policy: config.security_policy.clone(),
        certificate_name: config
            .certificate_name
            .clone()
            .filter(|_| certificate_arn.is_some()),
        regional_certificate_name: config
            .certificate_name
            .clone()
            .filter(|_| regional_certificate_arn.is_some()),
        certificate_arn,
        regional_certificate_arn,
        mutual_tls: mtls,
        tags: i.tags,
    };
    let created = ctx
        .store
        .transact(|s| {
            let d = domains::create(s, &ctx.region, new.clone())?;
            Ok::<_, ApiError>(domains::insert(s, d))
        })
        .await?;
    Ok(json(201, &view(&ctx.region, &created)))
}

pub async fn list(State(ctx): State<Ctx>, Query(q): Query<Q>) -> ApiResult<Response> {
    let items = domains::listed(&ctx.store.state(), |d| view(&ctx.region, d));
    page_v2(items, &q)
}

pub async fn get(State(ctx): State<Ctx>, Path(name): Path<String>) -> ApiResult<Response> {
    let state = ctx.store.state();
    Ok(json(200, &view(&ctx.region, domains::find(&state, &name)?)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateInput {
    domain_name_configurations: Option<Vec<ConfigurationInput>>,
    mutual_tls_authentication: Option<MutualTlsInput>,
}

pub async fn update(
    State(ctx): State<Ctx>,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let i: UpdateInput = parse_body(&body)?;
    let mtls = match i.mutual_tls_authentication.clone() {
        Some(m) => Some(mutual_tls(m)?),
        None => None,
    };
    let updated = ctx
        .store
        .transact(|s| {
            if let Some(c) = i
                .domain_name_configurations
                .as_ref()
                .and_then(|c| c.first())
            {
                if let Some(arn) = &c.certificate_arn {
                    domains::check_certificate(s, arn)?;
                }
            }
            let d = domains::domain_mut(s, &name)?;
            if let Some(c) = i
                .domain_name_configurations
                .as_ref()
                .and_then(|c| c.first())
            {
                if let Some(arn) = &c.certificate_arn {
                    if d.endpoint_type == EndpointType::Edge {
                        d.certificate_arn = Some(arn.clone());
                    } else {
                        d.regional_certificate_arn = Some(arn.clone());
                    }
                    d.certificate_upload_date = tollgate_model::time::now_epoch();
                }
                if c.security_policy.is_some() {
                    d.security_policy =
                        domains::check_security_policy(c.security_policy.as_deref())?;
                }
            }
            if let Some(m) = &mtls {
                domains::check_mutual_tls(m.is_some(), d.endpoint_type)?;
                d.mutual_tls_authentication = m.clone();
            }
            Ok::<_, ApiError>(d.clone())
        })
        .await?;
    Ok(json(200, &view(&ctx.region, &updated)))
}

pub async fn delete(State(ctx): State<Ctx>, Path(name): Path<String>) -> ApiResult<Response> {
    ctx.store.transact(|s| domains::remove(s, &name)).await?;
    Ok(empty(204))
}
