//! The client side: signing an outgoing request (header form).

use std::time::SystemTime;

use http::HeaderMap;
use sha2::{Digest, Sha256};

use crate::authorization::{parse_query, Auth, ALGORITHM, TERMINATOR};
use crate::canonical::{build_canonical_request, cached_signing_key, hmac_sha256, string_to_sign};
use crate::credential::Credential;
use crate::request::IncomingRequest;
use crate::time::{epoch_secs, format_amz_date};

/// Who signs an outgoing request, for which service and region.
#[derive(Clone, Copy)]
pub struct Signer<'a> {
    pub access_key_id: &'a str,
    pub credential: &'a Credential,
    pub region: &'a str,
    pub service: &'a str,
}

/// Signs an outgoing request (header form) for `service` in `region`: adds `x-amz-date`,
/// `x-amz-content-sha256`, `x-amz-security-token` (with a session token) and
/// `authorization` to `headers`, which must already hold `host`. Used to forward calls
/// to AWS-compatible endpoints (remote Lambda functions).
pub fn sign(
    method: &str,
    raw_path: &str,
    raw_query: Option<&str>,
    headers: &mut HeaderMap,
    body: &[u8],
    signer: &Signer<'_>,
    now: SystemTime,
) {
    let Signer {
        access_key_id,
        credential,
        region,
        service,
    } = *signer;
    let timestamp = format_amz_date(now);
    let date = timestamp[..8].to_string();
    let payload_hash = hex::encode(Sha256::digest(body));
    let value =
        |s: &str| http::HeaderValue::from_str(s).unwrap_or(http::HeaderValue::from_static(""));
    headers.insert("x-amz-date", value(&timestamp));
    headers.insert("x-amz-content-sha256", value(&payload_hash));
    if let Some(token) = &credential.session_token {
        headers.insert("x-amz-security-token", value(token));
    }
    let mut names: Vec<String> = headers
        .keys()
        .map(|k| k.as_str().to_string())
        .filter(|k| k == "host" || k == "content-type" || k.starts_with("x-amz-"))
        .collect();
    names.sort();
    names.dedup();
    let auth = Auth {
        presigned: false,
        access_key_id: access_key_id.to_string(),
        scope_date: date.clone(),
        region: region.to_string(),
        service: service.to_string(),
        signed_headers: names.join(";"),
        signature: String::new(),
        timestamp: timestamp.clone(),
        request_time: epoch_secs(now),
        date_header: Some("x-amz-date"),
        expires: None,
        session_token: None,
    };
    let req = IncomingRequest {
        method,
        raw_path,
        raw_query,
        headers,
        body,
    };
    let canonical = build_canonical_request(&req, &parse_query(raw_query), &auth, &payload_hash);
    let scope = format!("{date}/{region}/{service}/{TERMINATOR}");
    let to_sign = string_to_sign(&timestamp, &scope, &canonical);
    let key = cached_signing_key(&credential.secret_access_key, &date, region, service);
    let signature = hex::encode(hmac_sha256(&key, to_sign.as_bytes()));
    let header = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
        access_key_id, auth.signed_headers
    );
    headers.insert(http::header::AUTHORIZATION, value(&header));
}
