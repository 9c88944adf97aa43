//! Shared test helpers: request building and an independent, deliberately
//! naive signer (it only handles inputs that need no canonicalisation, so it
//! does not share the verifier's encoding logic).
#![allow(dead_code)]

use std::collections::HashMap;
use std::time::SystemTime;

use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName, HeaderValue};
use sha2::{Digest, Sha256};
use tollgate_sigv4::{parse_amz_date, Credential, IncomingRequest, Verifier};

pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
pub const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// An owned request; `as_incoming` borrows it for the verifier.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Req {
    pub fn new(method: &str, path: &str, query: Option<&str>) -> Self {
        Req {
            method: method.into(),
            path: path.into(),
            query: query.map(Into::into),
            headers: HeaderMap::new(),
            body: Vec::new(),
        }
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
        self
    }
    pub fn set(&mut self, name: &str, value: &str) {
        self.headers.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    pub fn body(mut self, body: &[u8]) -> Self {
        self.body = body.to_vec();
        self
    }
    pub fn as_incoming(&self) -> IncomingRequest<'_> {
        IncomingRequest {
            method: &self.method,
            raw_path: &self.path,
            raw_query: self.query.as_deref(),
            headers: &self.headers,
            body: &self.body,
        }
    }
}

pub fn provider(entries: &[(&str, &str, Option<&str>)]) -> HashMap<String, Credential> {
    entries
        .iter()
        .map(|(id, secret, token)| {
            (
                id.to_string(),
                Credential {
                    secret_access_key: secret.to_string(),
                    session_token: token.map(Into::into),
                },
            )
        })
        .collect()
}

/// Verifier for `service` knowing AKIDEXAMPLE with the spec's secret.
pub fn verifier(service: &'static str) -> Verifier<HashMap<String, Credential>> {
    Verifier::new(provider(&[("AKIDEXAMPLE", SECRET, None)]), service)
}

pub fn at(amz_date: &str) -> SystemTime {
    parse_amz_date(amz_date).expect("valid test timestamp")
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// What the naive signer needs to know.
pub struct Signing<'a> {
    pub secret: &'a str,
    pub access_key_id: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    pub amz_date: &'a str,
}

impl Signing<'_> {
    pub fn spec(service: &'static str, amz_date: &'static str) -> Signing<'static> {
        Signing {
            secret: SECRET,
            access_key_id: "AKIDEXAMPLE",
            region: "us-east-1",
            service,
            amz_date,
        }
    }

    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            &self.amz_date[..8],
            self.region,
            self.service
        )
    }

    /// Signs `canonical` (a complete canonical request written by the test).
    pub fn signature(&self, canonical: &str) -> String {
        let sts = format!(
            "AWS4-HMAC-SHA256\n{}\n{}\n{}",
            self.amz_date,
            self.scope(),
            sha256_hex(canonical.as_bytes())
        );
        let k = hmac(
            format!("AWS4{}", self.secret).as_bytes(),
            &self.amz_date[..8],
        );
        let k = hmac(&k, self.region);
        let k = hmac(&k, self.service);
        let k = hmac(&k, "aws4_request");
        hex::encode(hmac(&k, &sts))
    }

    /// Header-form signing of `req` over `signed` (sorted lower-case names,
    /// values used verbatim), with the given payload hash line. The request
    /// path and query must already be canonical.
    pub fn sign_header_form(&self, req: &mut Req, signed: &[&str], payload: &str) {
        let mut canonical = format!(
            "{}\n{}\n{}\n",
            req.method,
            req.path,
            req.query.clone().unwrap_or_default()
        );
        for name in signed {
            let value = req
                .headers
                .get(*name)
                .map(|v| v.to_str().unwrap())
                .unwrap_or("");
            canonical.push_str(&format!("{name}:{value}\n"));
        }
        canonical.push_str(&format!("\n{}\n{payload}", signed.join(";")));
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={}",
            self.access_key_id,
            self.scope(),
            signed.join(";"),
            self.signature(&canonical)
        );
        req.set("authorization", &auth);
    }

    /// Presigned-URL signing with `SignedHeaders=host`. `extra` are plain
    /// query parameters needing no encoding; the result replaces `req.query`.
    pub fn presign(&self, req: &mut Req, extra: &[(&str, &str)], expires: u32, payload: &str) {
        let host = req
            .headers
            .get("host")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let credential = format!(
            "{}%2F{}",
            self.access_key_id,
            self.scope().replace('/', "%2F")
        );
        let expires = expires.to_string();
        let mut params: Vec<(&str, &str)> = vec![
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", &credential),
            ("X-Amz-Date", self.amz_date),
            ("X-Amz-Expires", &expires),
            ("X-Amz-SignedHeaders", "host"),
        ];
        params.extend_from_slice(extra);
        params.sort();
        let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let query = query.join("&");
        let canonical = format!(
            "{}\n{}\n{query}\nhost:{host}\n\nhost\n{payload}",
            req.method, req.path
        );
        req.query = Some(format!(
            "{query}&X-Amz-Signature={}",
            self.signature(&canonical)
        ));
    }
}
