//! GenerateClientCertificate, GetClientCertificates, GetClientCertificate,
//! UpdateClientCertificate, DeleteClientCertificate. A generated certificate is a real
//! self-signed one (ECDSA P-256, valid 365 days) whose key Tollgate keeps: HTTP
//! integrations of stages naming it present it to their backends.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_model::domain::{CertificateMaterial, ClientCertificate};
use tollgate_model::{ids, time};

use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::pagination::page;
use crate::core::patch::PatchBody;
use crate::core::util::{empty, json, parse_body, Query as Q};

const VALID_DAYS: i64 = 365;

fn view(c: &ClientCertificate) -> Value {
    let mut v = json!({
        "clientCertificateId": c.client_certificate_id,
        "pemEncodedCertificate": c.material.certificate,
        "createdDate": c.created_date,
        "expirationDate": c.expiration_date,
    });
    if let Some(d) = &c.description {
        v["description"] = d.clone().into();
    }
    if !c.tags.is_empty() {
        v["tags"] = serde_json::to_value(&c.tags).unwrap_or_default();
    }
    v
}

fn not_found() -> ApiError {
    ApiError::not_found("Invalid Client Certificate identifier specified")
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenerateInput {
    description: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

/// A key pair and a self-signed certificate valid from now for [`VALID_DAYS`].
fn generate(id: &str, now: i64) -> ApiResult<CertificateMaterial> {
    let failed = |e: rcgen::Error| {
        tracing::error!(error = %e, "cannot generate a client certificate");
        ApiError::new(
            500,
            "InternalFailure",
            "Unable to generate the client certificate",
        )
    };
    let key = rcgen::KeyPair::generate().map_err(failed)?;
    let mut params = rcgen::CertificateParams::default();
    let date = |epoch: i64| {
        let (y, m, d) = time::civil_from_days(epoch.div_euclid(86_400));
        rcgen::date_time_ymd(y as i32, m as u8, d as u8)
    };
    params.not_before = date(now);
    params.not_after = date(now + VALID_DAYS * 86_400);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("ApiGateway {id}"));
    let cert = params.self_signed(&key).map_err(failed)?;
    Ok(CertificateMaterial {
        certificate: cert.pem(),
        chain: String::new(),
        private_key: key.serialize_pem(),
    })
}

pub async fn create(State(ctx): State<Ctx>, body: Bytes) -> ApiResult<Response> {
    let i: GenerateInput = parse_body(&body)?;
    let now = time::now_epoch();
    let id = ids::unique(ids::short_id, |id| {
        ctx.store
            .state()
            .domains
            .client_certificates
            .contains_key(id)
    });
    let material = generate(&id, now)?;
    let cert = Arc::new(ClientCertificate {
        client_certificate_id: id.clone(),
        description: i.description,
        material,
        created_date: now,
        expiration_date: now + VALID_DAYS * 86_400,
        tags: i.tags,
    });
    ctx.store
        .transact(|s| {
            Arc::make_mut(&mut s.domains)
                .client_certificates
                .insert(id.clone(), cert.clone());
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(json(201, &view(&cert)))
}

pub async fn list(State(ctx): State<Ctx>, Query(q): Query<Q>) -> ApiResult<Response> {
    let state = ctx.store.state();
    let items = state
        .domains
        .client_certificates
        .iter()
        .map(|(k, c)| (k.clone(), view(c)))
        .collect();
    page(items, &q)
}

pub async fn get(State(ctx): State<Ctx>, Path(id): Path<String>) -> ApiResult<Response> {
    let state = ctx.store.state();
    let c = state
        .domains
        .client_certificates
        .get(&id)
        .ok_or_else(not_found)?;
    Ok(json(200, &view(c)))
}

pub async fn update(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let ops = PatchBody::parse(&body, "UpdateClientCertificateRequest")?;
    let updated = ctx
        .store
        .transact(|s| {
            let domains = Arc::make_mut(&mut s.domains);
            let c = domains
                .client_certificates
                .get_mut(&id)
                .ok_or_else(not_found)?;
            let c = Arc::make_mut(c);
            for op in &ops {
                match (op.op.as_str(), op.path.as_deref()) {
                    ("replace", Some("/description")) => c.description = op.value.clone(),
                    (_, path) => {
                        return Err(ApiError::bad_request(format!(
                            "Invalid patch path {}",
                            path.unwrap_or_default()
                        )))
                    }
                }
            }
            Ok::<_, ApiError>(c.clone())
        })
        .await?;
    Ok(json(200, &view(&updated)))
}

pub async fn delete(State(ctx): State<Ctx>, Path(id): Path<String>) -> ApiResult<Response> {
    ctx.store
        .transact(|s| {
            if !s.domains.client_certificates.contains_key(&id) {
                return Err(not_found());
            }
            let in_use = s
                .apis
                .values()
                .flat_map(|a| a.stages.values())
                .any(|st| st.client_certificate_id.as_deref() == Some(id.as_str()));
            if in_use {
                return Err(ApiError::bad_request(
                    "The client certificate is used by a stage; remove it from the stage first.",
                ));
            }
            Arc::make_mut(&mut s.domains)
                .client_certificates
                .remove(&id);
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(202))
}
