//! Verification of AWS Signature Version 4 (`AWS4-HMAC-SHA256`) on incoming
//! requests, as used by the control plane (`apigateway`), `@connections` and
//! `AWS_IAM` data-plane routes (`execute-api`).
//!
//! The contract is `shared/spec/sigv4.md`. The server only verifies: it rebuilds
//! the canonical request from what arrived on the wire (raw path and query,
//! the headers named in `SignedHeaders`, the body) and compares signatures in
//! constant time. Both the `Authorization` header form and the presigned query
//! form (`X-Amz-Algorithm=…`) are supported.
//!
//! ```
//! use std::collections::HashMap;
//! use tollgate_sigv4::{Credential, IncomingRequest, Verifier};
//!
//! let mut keys = HashMap::new();
//! keys.insert(
//!     "AKIDEXAMPLE".to_string(),
//!     Credential { secret_access_key: "secret".into(), session_token: None },
//! );
//! let verifier = Verifier::new(keys, "apigateway");
//! let headers = http::HeaderMap::new();
//! let req = IncomingRequest {
//!     method: "GET",
//!     raw_path: "/restapis",
//!     raw_query: None,
//!     headers: &headers,
//!     body: b"",
//! };
//! let err = verifier.verify(&req, std::time::SystemTime::now()).unwrap_err();
//! assert_eq!(err.error_type, "MissingAuthenticationTokenException");
//! ```

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use http::HeaderMap;
use percent_encoding::{percent_decode, percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};
use tollgate_model::time::{civil_from_days, days_from_civil, days_in_month};

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const TERMINATOR: &str = "aws4_request";
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// AWS API Gateway accepts requests signed up to 5 minutes away from its clock.
const DEFAULT_MAX_SKEW: Duration = Duration::from_secs(5 * 60);
/// Upper bound of `X-Amz-Expires` (one week), as in every AWS service.
const MAX_EXPIRES: i64 = 604_800;
/// Error messages echo client input; keep them bounded.
const ECHO_LIMIT: usize = 512;

/// Everything except `A-Z a-z 0-9 - _ . ~` is percent-encoded (query parts).
const STRICT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// The canonical URI additionally keeps `/` as segment separator.
const PATH: &AsciiSet = &STRICT.remove(b'/');

const MISMATCH_MESSAGE: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// The secret half of an access key, as stored by the server.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// The secret access key used to derive the signing key.
    pub secret_access_key: String,
    /// When set, requests must carry exactly this `X-Amz-Security-Token`.
    /// When `None`, any token (or none) is accepted (dev mode).
    pub session_token: Option<String>,
}

impl fmt::Debug for Credential {
    // Never print secrets into logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Looks up the secret for an access key id (`AKIA…`/`ASIA…`).
pub trait CredentialProvider: Send + Sync {
    /// Returns the credential for `access_key_id`, or `None` if it is unknown.
    fn lookup(&self, access_key_id: &str) -> Option<Credential>;
}

impl CredentialProvider for HashMap<String, Credential> {
    fn lookup(&self, access_key_id: &str) -> Option<Credential> {
        self.get(access_key_id).cloned()
    }
}

/// What the request looked like on the wire. Paths and queries are RAW (still
/// percent-encoded), exactly as received; many routers normalise them, which
/// would break the signature.
#[derive(Clone, Copy, Debug)]
pub struct IncomingRequest<'a> {
    /// Request method (`GET`, `POST`, …).
    pub method: &'a str,
    /// Raw path of the request target, without the query string.
    pub raw_path: &'a str,
    /// Raw query string without the leading `?`, if any.
    pub raw_query: Option<&'a str>,
    /// Request headers. For HTTP/2 the caller must insert `host` from
    /// `:authority`, because `HeaderMap` does not carry pseudo-headers.
    pub headers: &'a HeaderMap,
    /// The complete request body (needed for the payload hash).
    pub body: &'a [u8],
}

/// The identity established by a valid signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// Access key id from the credential scope.
    pub access_key_id: String,
    /// Region from the credential scope.
    pub region: String,
    /// Service from the credential scope.
    pub service: String,
}

/// An authentication failure, ready to be rendered as
/// `x-amzn-ErrorType: {error_type}` with body `{"message": message}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthError {
    /// AWS error code, e.g. `InvalidSignatureException`.
    pub error_type: &'static str,
    /// HTTP status: 403, or 400 when `x-amz-content-sha256` does not match the body.
    pub status: u16,
    /// AWS message text.
    pub message: String,
}

impl AuthError {
    fn new(error_type: &'static str, status: u16, message: impl Into<String>) -> Self {
        AuthError {
            error_type,
            status,
            message: message.into(),
        }
    }
    fn missing() -> Self {
        Self::new(
            "MissingAuthenticationTokenException",
            403,
            "Missing Authentication Token",
        )
    }
    fn incomplete(message: impl Into<String>) -> Self {
        Self::new("IncompleteSignatureException", 403, message)
    }
    fn invalid(message: impl Into<String>) -> Self {
        Self::new("InvalidSignatureException", 403, message)
    }
    fn mismatch() -> Self {
        Self::invalid(MISMATCH_MESSAGE)
    }
    fn unrecognized() -> Self {
        Self::new(
            "UnrecognizedClientException",
            403,
            "The security token included in the request is invalid.",
        )
    }
    fn payload_mismatch() -> Self {
        Self::new(
            "XAmzContentSHA256Mismatch",
            400,
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

impl std::error::Error for AuthError {}

/// Verifies SigV4 signatures for one signing service (`apigateway` or `execute-api`).
pub struct Verifier<P: CredentialProvider> {
    provider: P,
    service: &'static str,
    /// `None` disables every clock-based check (skew and presigned expiry).
    max_skew: Option<Duration>,
    /// `None` accepts any region in the credential scope.
    regions: Option<Vec<String>>,
}

impl<P: CredentialProvider> Verifier<P> {
    /// A verifier for `service`, any region, with AWS's 5-minute clock window.
    pub fn new(provider: P, service: &'static str) -> Self {
        Verifier {
            provider,
            service,
            max_skew: Some(DEFAULT_MAX_SKEW),
            regions: None,
        }
    }

    /// Changes the allowed distance between the request time and the server clock.
    pub fn with_max_skew(mut self, max_skew: Duration) -> Self {
        self.max_skew = Some(max_skew);
        self
    }

    /// Disables the clock checks (skew and presigned expiry), e.g. to replay
    /// captured requests. Formats and the scope date are still checked.
    pub fn without_clock_check(mut self) -> Self {
        self.max_skew = None;
        self
    }

    /// Restricts the accepted credential-scope regions (default: any).
    pub fn with_regions<I, S>(mut self, regions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.regions = Some(regions.into_iter().map(Into::into).collect());
        self
    }

    /// Verifies `req` against the server clock `now` (spec §2, steps 1–10).
    pub fn verify(
        &self,
        req: &IncomingRequest<'_>,
        now: SystemTime,
    ) -> Result<Verified, AuthError> {
        self.verify_for(req, now, self.service)
    }

    /// As [`Verifier::verify`], for a request addressed to `service` (one endpoint that
    /// serves several services, such as `apigateway` and `lambda`).
    pub fn verify_for(
        &self,
        req: &IncomingRequest<'_>,
        now: SystemTime,
        service: &str,
    ) -> Result<Verified, AuthError> {
        self.check_head(req, now, service)?.verify_signature(req)
    }

    /// Every check that needs only the request head (spec §2 steps 1–6): the auth is present
    /// and well-formed, the time is within the window, the scope names `service` and an
    /// accepted region, the access key is known. `req.body` is not read, so a server can
    /// refuse a request before receiving its body; [`HeadCheck::verify_signature`] finishes
    /// the job once the body is in.
    pub fn check_head(
        &self,
        req: &IncomingRequest<'_>,
        now: SystemTime,
        service: &str,
    ) -> Result<HeadCheck, AuthError> {
        let query = parse_query(req.raw_query);
        let auth = parse_auth(req, &query)?;
        self.check_clock(&auth, epoch_secs(now))?;

        if auth.service != service {
            return Err(AuthError::invalid(format!(
                "Credential should be scoped to correct service: '{service}'. "
            )));
        }
        if let Some(regions) = &self.regions {
            if !regions.contains(&auth.region) {
                return Err(AuthError::invalid(
                    "Credential should be scoped to a valid region. ",
                ));
            }
        }

        let credential = self
            .provider
            .lookup(&auth.access_key_id)
            .ok_or_else(AuthError::unrecognized)?;
        if let Some(expected) = &credential.session_token {
            let ok = auth
                .session_token
                .as_deref()
                .is_some_and(|t| bool::from(t.ct_eq(expected.as_bytes())));
            if !ok {
                return Err(AuthError::unrecognized());
            }
        }

        check_signed_headers_present(&auth, req.headers)?;
        Ok(HeadCheck {
            query,
            auth,
            secret_access_key: credential.secret_access_key,
        })
    }

    fn check_clock(&self, auth: &Auth, now: i64) -> Result<(), AuthError> {
        let Some(max_skew) = self.max_skew else {
            return Ok(());
        };
        let skew = i64::try_from(max_skew.as_secs()).unwrap_or(i64::MAX);
        let t = auth.request_time;
        // Presigned URLs are valid for X-Amz-Expires; header signatures for the skew.
        let window = auth.expires.unwrap_or(skew);
        let earliest = now.saturating_sub(window);
        if t < earliest {
            return Err(AuthError::invalid(format!(
                "Signature expired: {} is now earlier than {} ({} - {}.)",
                format_secs(t),
                format_secs(earliest),
                format_secs(now),
                describe_window(window)
            )));
        }
        let latest = now.saturating_add(skew);
        if t > latest {
            return Err(AuthError::invalid(format!(
                "Signature not yet current: {} is still later than {} ({} + {}.)",
                format_secs(t),
                format_secs(latest),
                format_secs(now),
                describe_window(skew)
            )));
        }
        Ok(())
    }
}

/// A request whose head passed [`Verifier::check_head`]; its signature still needs the body.
pub struct HeadCheck {
    query: Vec<QueryParam>,
    auth: Auth,
    secret_access_key: String,
}

impl fmt::Debug for HeadCheck {
    // The secret never reaches a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeadCheck")
            .field("access_key_id", &self.auth.access_key_id)
            .finish_non_exhaustive()
    }
}

impl HeadCheck {
    /// Steps 7–10: the signature over `req`, which must be the request the head came from,
    /// now with its complete body.
    pub fn verify_signature(self, req: &IncomingRequest<'_>) -> Result<Verified, AuthError> {
        let HeadCheck {
            query,
            auth,
            secret_access_key,
        } = self;
        let key = signing_key(
            &secret_access_key,
            &auth.scope_date,
            &auth.region,
            &auth.service,
        );
        let scope = format!(
            "{}/{}/{}/{TERMINATOR}",
            auth.scope_date, auth.region, auth.service
        );
        // Several payload hashes may be acceptable (presigned GET); the
        // number of candidates is public, each comparison is constant-time.
        let mut matched = Choice::from(0);
        for payload_hash in payload_hashes(req, &auth)? {
            let canonical = build_canonical_request(req, &query, &auth, &payload_hash);
            let sts = string_to_sign(&auth.timestamp, &scope, &canonical);
            let expected = hex::encode(hmac_sha256(&key, sts.as_bytes()));
            matched |= expected.as_bytes().ct_eq(auth.signature.as_bytes());
        }
        if bool::from(matched) {
            Ok(Verified {
                access_key_id: auth.access_key_id,
                region: auth.region,
                service: auth.service,
            })
        } else {
            Err(AuthError::mismatch())
        }
    }
}

/// The canonical request (spec §3) this server builds for `req`, for
/// diagnostics and tests. Uses the first acceptable payload hash (the body's
/// SHA-256 unless `x-amz-content-sha256` says otherwise). Non-UTF-8 header
/// bytes are shown lossily; verification hashes the exact bytes.
pub fn canonical_request(req: &IncomingRequest<'_>) -> Result<String, AuthError> {
    let query = parse_query(req.raw_query);
    let auth = parse_auth(req, &query)?;
    let payload_hash = payload_hashes(req, &auth)?
        .into_iter()
        .next()
        .unwrap_or_default();
    let canonical = build_canonical_request(req, &query, &auth, &payload_hash);
    Ok(String::from_utf8_lossy(&canonical).into_owned())
}

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
    let key = signing_key(&credential.secret_access_key, &date, region, service);
    let signature = hex::encode(hmac_sha256(&key, to_sign.as_bytes()));
    let header = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
        access_key_id, auth.signed_headers
    );
    headers.insert(http::header::AUTHORIZATION, value(&header));
}

/// Parses an `X-Amz-Date` timestamp (`yyyyMMdd'T'HHmmss'Z'`, UTC).
pub fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let secs = parse_basic_timestamp(s)?;
    if secs >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_secs(secs.unsigned_abs()))
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs()))
    }
}

/// Formats a time as an `X-Amz-Date` timestamp (`yyyyMMdd'T'HHmmss'Z'`, UTC),
/// truncated to whole seconds.
pub fn format_amz_date(t: SystemTime) -> String {
    format_secs(epoch_secs(t))
}

// ---------------------------------------------------------------------------
// Parsing of the authentication data (steps 1–3)

/// The authentication data of one request, validated for form but not yet
/// for time, scope, credentials or signature.
#[derive(Debug)]
struct Auth {
    presigned: bool,
    access_key_id: String,
    scope_date: String,
    region: String,
    service: String,
    /// As received; also the `signedHeaders` line of the canonical request.
    signed_headers: String,
    signature: String,
    /// The request time in `yyyyMMddTHHmmssZ` form, for the string to sign.
    timestamp: String,
    request_time: i64,
    /// Header form: the header the time came from (`x-amz-date` or `date`).
    date_header: Option<&'static str>,
    /// Presigned form: `X-Amz-Expires` in seconds.
    expires: Option<i64>,
    session_token: Option<Vec<u8>>,
}

/// One query parameter, percent-decoded (`+` stays `+`).
struct QueryParam {
    name: Vec<u8>,
    value: Vec<u8>,
}

fn parse_query(raw: Option<&str>) -> Vec<QueryParam> {
    let Some(raw) = raw.filter(|q| !q.is_empty()) else {
        return Vec::new();
    };
    raw.split('&')
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            QueryParam {
                name: percent_decode(name.as_bytes()).collect(),
                value: percent_decode(value.as_bytes()).collect(),
            }
        })
        .collect()
}

fn parse_auth(req: &IncomingRequest<'_>, query: &[QueryParam]) -> Result<Auth, AuthError> {
    let authorization: Vec<&[u8]> = req
        .headers
        .get_all(http::header::AUTHORIZATION)
        .iter()
        .map(|v| v.as_bytes())
        .collect();
    let presigned = query.iter().any(|p| p.name == b"X-Amz-Algorithm");
    match (authorization.as_slice(), presigned) {
        ([], false) => Err(AuthError::missing()),
        ([_, ..], true) => Err(AuthError::incomplete(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified",
        )),
        ([value], false) => parse_header_auth(req, value),
        ([_, _, ..], false) => Err(AuthError::incomplete(
            "Only one Authorization header may be specified",
        )),
        ([], true) => parse_query_auth(query),
    }
}

fn parse_header_auth(req: &IncomingRequest<'_>, raw: &[u8]) -> Result<Auth, AuthError> {
    let raw_text = String::from_utf8_lossy(raw);
    let echo = clip(&raw_text);
    let text = std::str::from_utf8(raw).unwrap_or("");
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    // Any other scheme (e.g. `Bearer …`) is answered like AWS does: as a SigV4
    // header that lacks all of its parameters.
    let params = text
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .filter(|rest| !rest.trim().is_empty());
    if let Some(rest) = params {
        for piece in rest.split(',') {
            let Some((key, value)) = piece.trim_matches([' ', '\t']).split_once('=') else {
                return Err(AuthError::incomplete(format!(
                    "Invalid key=value pair (missing equal-sign) in Authorization header. Authorization={echo}"
                )));
            };
            let slot = match key {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed_headers,
                "Signature" => &mut signature,
                _ => {
                    return Err(AuthError::incomplete(format!(
                        "Unsupported parameter '{}' in Authorization header. Authorization={echo}",
                        clip(key)
                    )))
                }
            };
            if slot.is_some() {
                return Err(AuthError::incomplete(format!(
                    "Duplicate parameter '{key}' in Authorization header. Authorization={echo}"
                )));
            }
            // An empty value counts as missing.
            *slot = Some(value).filter(|v| !v.is_empty());
        }
    }

    // The time comes from X-Amz-Date, else from a *signed* Date header.
    let date_signed = signed_headers.is_some_and(|sh: &str| sh.split(';').any(|h| h == "date"));
    let date_source = if req.headers.contains_key("x-amz-date") {
        Some("x-amz-date")
    } else if date_signed && req.headers.contains_key(http::header::DATE) {
        Some("date")
    } else {
        None
    };

    let mut problems = String::new();
    if credential.is_none() {
        problems.push_str("Authorization header requires 'Credential' parameter. ");
    }
    if signature.is_none() {
        problems.push_str("Authorization header requires 'Signature' parameter. ");
    }
    if signed_headers.is_none() {
        problems.push_str("Authorization header requires 'SignedHeaders' parameter. ");
    }
    if date_source.is_none() {
        problems.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    let (Some(credential), Some(signed_headers), Some(signature), Some(date_source)) =
        (credential, signed_headers, signature, date_source)
    else {
        return Err(AuthError::incomplete(format!(
            "{problems}Authorization={echo}"
        )));
    };

    let (timestamp, request_time) = match date_source {
        "x-amz-date" => {
            let value = single_header(req.headers, "x-amz-date").unwrap_or("");
            let secs = parse_basic_timestamp(value).ok_or_else(bad_amz_date)?;
            (value.to_string(), secs)
        }
        _ => {
            let value = single_header(req.headers, "date").unwrap_or("");
            let secs = parse_http_date(value).ok_or_else(|| {
                AuthError::incomplete(
                    "Date must be in the RFC 1123 format \"EEE, dd MMM yyyy HH:mm:ss 'GMT'\"",
                )
            })?;
            (format_secs(secs), secs)
        }
    };

    let session_token = {
        let values: Vec<&[u8]> = req
            .headers
            .get_all("x-amz-security-token")
            .iter()
            .map(|v| v.as_bytes())
            .collect();
        (!values.is_empty()).then(|| values.join(&b","[..]))
    };

    finish_auth(
        false,
        credential,
        signed_headers,
        signature,
        timestamp,
        request_time,
        Some(date_source),
        None,
        session_token,
    )
}

fn parse_query_auth(query: &[QueryParam]) -> Result<Auth, AuthError> {
    let get = |name: &str| -> Result<Option<&str>, AuthError> {
        let mut found = query.iter().filter(|p| p.name == name.as_bytes());
        let Some(first) = found.next() else {
            return Ok(None);
        };
        if found.next().is_some() {
            return Err(AuthError::incomplete(format!(
                "Only one '{name}' query parameter may be specified"
            )));
        }
        match std::str::from_utf8(&first.value) {
            Ok(v) if !v.is_empty() => Ok(Some(v)),
            Ok(_) => Ok(None),
            Err(_) => Err(AuthError::incomplete(format!(
                "The '{name}' query parameter is not valid UTF-8"
            ))),
        }
    };

    if get("X-Amz-Algorithm")? != Some(ALGORITHM) {
        return Err(AuthError::incomplete(
            "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"",
        ));
    }
    let (Some(credential), Some(signature), Some(timestamp), Some(signed_headers), Some(expires)) = (
        get("X-Amz-Credential")?,
        get("X-Amz-Signature")?,
        get("X-Amz-Date")?,
        get("X-Amz-SignedHeaders")?,
        get("X-Amz-Expires")?,
    ) else {
        return Err(AuthError::incomplete(
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
        ));
    };
    let expires = match expires.parse::<i64>() {
        Ok(e) if (1..=MAX_EXPIRES).contains(&e) && expires.bytes().all(|b| b.is_ascii_digit()) => e,
        Ok(e) if e > MAX_EXPIRES => {
            return Err(AuthError::incomplete(
                "X-Amz-Expires must be less than a week (in seconds) that is 604800",
            ))
        }
        _ => {
            return Err(AuthError::incomplete(
                "X-Amz-Expires must be a positive number of seconds",
            ))
        }
    };
    let request_time = parse_basic_timestamp(timestamp).ok_or_else(bad_amz_date)?;
    let session_token = get("X-Amz-Security-Token")?.map(|t| t.as_bytes().to_vec());

    finish_auth(
        true,
        credential,
        signed_headers,
        signature,
        timestamp.to_string(),
        request_time,
        None,
        Some(expires),
        session_token,
    )
}

/// Checks shared by both forms: credential scope shape, `SignedHeaders`
/// syntax and the scope date (spec §2 steps 2–3).
#[allow(clippy::too_many_arguments)]
fn finish_auth(
    presigned: bool,
    credential: &str,
    signed_headers: &str,
    signature: &str,
    timestamp: String,
    request_time: i64,
    date_header: Option<&'static str>,
    expires: Option<i64>,
    session_token: Option<Vec<u8>>,
) -> Result<Auth, AuthError> {
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, scope_date, region, service, terminator] = parts[..] else {
        return Err(AuthError::incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{}'",
            clip(credential)
        )));
    };
    if terminator != TERMINATOR {
        return Err(AuthError::incomplete(format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{}'. ",
            clip(terminator)
        )));
    }
    if !valid_signed_headers(signed_headers) {
        return Err(AuthError::incomplete(format!(
            "SignedHeaders must be a sorted, semicolon-separated list of lower-case header names, got '{}'",
            clip(signed_headers)
        )));
    }
    let date8 = timestamp.get(..8).unwrap_or("");
    if scope_date != date8 {
        return Err(AuthError::invalid(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{date8}', from '{timestamp}'.",
            clip(scope_date)
        )));
    }
    Ok(Auth {
        presigned,
        access_key_id: access_key_id.to_string(),
        scope_date: scope_date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        signed_headers: signed_headers.to_string(),
        signature: signature.to_string(),
        timestamp,
        request_time,
        date_header,
        expires,
        session_token,
    })
}

/// Lower-case token characters, `;`-separated, strictly ascending (which
/// also rules out duplicates).
fn valid_signed_headers(s: &str) -> bool {
    let is_token =
        |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b);
    let mut previous: Option<&str> = None;
    for name in s.split(';') {
        if name.is_empty() || !name.bytes().all(is_token) {
            return false;
        }
        if previous.is_some_and(|p| p >= name) {
            return false;
        }
        previous = Some(name);
    }
    true
}

fn bad_amz_date() -> AuthError {
    AuthError::incomplete("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
}

/// Step 6: `host` must be signed, a header-form `x-amz-date` must be signed,
/// and every signed header must be present.
fn check_signed_headers_present(auth: &Auth, headers: &HeaderMap) -> Result<(), AuthError> {
    let mut names = auth.signed_headers.split(';');
    if !names.any(|h| h == "host") {
        return Err(AuthError::incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    if auth.date_header == Some("x-amz-date")
        && !auth.signed_headers.split(';').any(|h| h == "x-amz-date")
    {
        return Err(AuthError::incomplete(
            "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    // A signed header that did not arrive cannot have been signed with its
    // value: report it as the signature mismatch AWS would compute.
    if auth
        .signed_headers
        .split(';')
        .any(|h| !headers.contains_key(h))
    {
        return Err(AuthError::mismatch());
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Canonical request and signature (steps 7–10)

/// The payload-hash lines that are acceptable for this request.
fn payload_hashes(req: &IncomingRequest<'_>, auth: &Auth) -> Result<Vec<String>, AuthError> {
    let declared: Vec<&[u8]> = req
        .headers
        .get_all("x-amz-content-sha256")
        .iter()
        .map(|v| v.as_bytes())
        .collect();
    let body_hash = || hex::encode(Sha256::digest(req.body));
    match declared[..] {
        [] => {
            let mut hashes = vec![body_hash()];
            // botocore presigns with the empty-body hash, other signers with
            // UNSIGNED-PAYLOAD; both are fine for GET (incl. WebSocket upgrades).
            if auth.presigned && req.method.eq_ignore_ascii_case("GET") {
                hashes.push(UNSIGNED_PAYLOAD.to_string());
            }
            Ok(hashes)
        }
        [value] if value == UNSIGNED_PAYLOAD.as_bytes() => Ok(vec![UNSIGNED_PAYLOAD.to_string()]),
        [value] if value.eq_ignore_ascii_case(body_hash().as_bytes()) => {
            // Sign with the value as sent (the client hashed its own spelling).
            Ok(vec![String::from_utf8_lossy(value).into_owned()])
        }
        _ => Err(AuthError::payload_mismatch()),
    }
}

fn build_canonical_request(
    req: &IncomingRequest<'_>,
    query: &[QueryParam],
    auth: &Auth,
    payload_hash: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + req.raw_path.len());
    out.extend_from_slice(req.method.to_ascii_uppercase().as_bytes());
    out.push(b'\n');
    out.extend(
        percent_encode(remove_dot_segments(req.raw_path).as_bytes(), PATH).flat_map(str::bytes),
    );
    out.push(b'\n');
    out.extend_from_slice(canonical_query(query, auth.presigned).as_bytes());
    out.push(b'\n');
    for name in auth.signed_headers.split(';') {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        for (i, value) in req.headers.get_all(name).iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_collapsed(&mut out, value.as_bytes());
        }
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(auth.signed_headers.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    out
}

/// Appends a header value trimmed, with inner runs of spaces/tabs collapsed.
fn push_collapsed(out: &mut Vec<u8>, value: &[u8]) {
    let is_ws = |b: &u8| *b == b' ' || *b == b'\t';
    let mut pending_space = false;
    let mut started = false;
    for b in value {
        if is_ws(b) {
            pending_space = started;
        } else {
            if pending_space {
                out.push(b' ');
                pending_space = false;
            }
            out.push(*b);
            started = true;
        }
    }
}

/// Dot-segment removal as botocore and aws-sigv4 do it: `.` and empty
/// segments vanish, `..` pops; the trailing slash is kept.
fn remove_dot_segments(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    out.push('/');
    out.push_str(&segments.join("/"));
    if !segments.is_empty() && path.ends_with('/') {
        out.push('/');
    }
    out
}

fn canonical_query(query: &[QueryParam], presigned: bool) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .filter(|p| !(presigned && p.name == b"X-Amz-Signature"))
        .map(|p| {
            (
                percent_encode(&p.name, STRICT).to_string(),
                percent_encode(&p.value, STRICT).to_string(),
            )
        })
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

fn string_to_sign(timestamp: &str, scope: &str, canonical_request: &[u8]) -> String {
    format!(
        "{ALGORITHM}\n{timestamp}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request))
    )
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, TERMINATOR.as_bytes())
}

// ---------------------------------------------------------------------------
// Small helpers: headers, echo, time

/// The value of a header that occurs exactly once and is visible ASCII.
fn single_header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (Some(v), None) => v.to_str().ok(),
        _ => None,
    }
}

/// Client input echoed in messages, cut at a char boundary.
fn clip(s: &str) -> &str {
    if s.len() <= ECHO_LIMIT {
        return s;
    }
    let mut end = ECHO_LIMIT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// "5 min." / "300 sec." as in AWS's expiry messages.
fn describe_window(secs: i64) -> String {
    if secs % 60 == 0 {
        format!("{} min", secs / 60)
    } else {
        format!("{secs} sec")
    }
}

/// Seconds since the Unix epoch, floored, saturating at the i64 range.
fn epoch_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => {
            let d = e.duration();
            let whole = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            (-whole).saturating_sub(i64::from(d.subsec_nanos() > 0))
        }
    }
}

/// Seconds since the epoch of a validated UTC date and time.
fn civil_to_secs(fields: [i64; 6]) -> Option<i64> {
    let [year, month, day, hour, minute, second] = fields;
    let (month, day) = (u32::try_from(month).ok()?, u32::try_from(day).ok()?);
    let valid = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && (0..24).contains(&hour)
        && (0..60).contains(&minute)
        && (0..60).contains(&second);
    valid.then(|| days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

fn digits(s: &[u8]) -> Option<i64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
}

/// `yyyyMMdd'T'HHmmss'Z'` → seconds since the epoch.
fn parse_basic_timestamp(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    civil_to_secs([
        digits(&b[0..4])?,
        digits(&b[4..6])?,
        digits(&b[6..8])?,
        digits(&b[9..11])?,
        digits(&b[11..13])?,
        digits(&b[13..15])?,
    ])
}

/// RFC 1123 (`Sun, 06 Nov 1994 08:49:37 GMT`) → seconds since the epoch.
/// The weekday is not cross-checked.
fn parse_http_date(s: &str) -> Option<i64> {
    let fields: Vec<&str> = s.split_ascii_whitespace().collect();
    let [weekday, day, month, year, time, "GMT"] = fields[..] else {
        return None;
    };
    if weekday.len() != 4 || !weekday.ends_with(',') || day.len() > 2 || year.len() != 4 {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)? as i64 + 1;
    let t = time.as_bytes();
    if t.len() != 8 || t[2] != b':' || t[5] != b':' {
        return None;
    }
    civil_to_secs([
        digits(year.as_bytes())?,
        month,
        digits(day.as_bytes())?,
        digits(&t[0..2])?,
        digits(&t[3..5])?,
        digits(&t[6..8])?,
    ])
}

/// Seconds since the epoch → `yyyyMMdd'T'HHmmss'Z'`.
fn format_secs(secs: i64) -> String {
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_basic_timestamp("19700101T000000Z"), Some(0));
        assert_eq!(
            parse_basic_timestamp("20240229T235959Z"),
            Some(1_709_251_199)
        );
        assert_eq!(format_secs(1_709_251_199), "20240229T235959Z");
        assert_eq!(format_secs(-1), "19691231T235959Z");
        for bad in [
            "20230229T000000Z",
            "20241301T000000Z",
            "20240100T000000Z",
            "20240101T240000Z",
            "20240101T006000Z",
            "20240101T000060Z",
            "20240101 000000Z",
            "20240101T000000",
            "2024-1-01T00000Z",
            "+2024101T000000Z",
            "２0240101T000000Z",
            "",
        ] {
            assert_eq!(parse_basic_timestamp(bad), None, "{bad}");
        }
        assert_eq!(
            parse_http_date("Sun, 22 Nov 2026 02:52:50 GMT"),
            parse_basic_timestamp("20261122T025250Z")
        );
        assert_eq!(parse_http_date("Sun, 22 Nov 2026 02:52:50 UTC"), None);
        assert_eq!(parse_http_date("Sun, 31 Nov 2026 02:52:50 GMT"), None);
        // Extreme clocks must not overflow.
        let _ = format_secs(i64::MAX);
        let _ = format_secs(i64::MIN);
        let t = parse_amz_date("20261122T025250Z").unwrap();
        assert_eq!(format_amz_date(t), "20261122T025250Z");
        assert_eq!(
            format_amz_date(UNIX_EPOCH - Duration::from_millis(1)),
            "19691231T235959Z"
        );
    }

    #[test]
    fn dot_segments() {
        for (input, expected) in [
            ("", "/"),
            ("/", "/"),
            ("//", "/"),
            ("/a/b/../c/./d", "/a/c/d"),
            ("/a/b/", "/a/b/"),
            ("/..", "/"),
            ("/../a", "/a"),
            ("/a/..", "/"),
            ("/a//b", "/a/b"),
            ("/%2E%2E/a", "/%2E%2E/a"),
        ] {
            assert_eq!(remove_dot_segments(input), expected, "{input}");
        }
    }

    #[test]
    fn collapsing_whitespace() {
        let mut out = Vec::new();
        push_collapsed(&mut out, b" \t a  \t b\tc  ");
        assert_eq!(out, b"a b c");
        let mut out = Vec::new();
        push_collapsed(&mut out, b"   ");
        assert!(out.is_empty());
    }

    #[test]
    fn signing_key_vector_a() {
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20261122",
            "us-east-1",
            "apigateway",
        );
        assert_eq!(
            hex::encode(key),
            "11398e91da6b4520a10328740027d91ac95119dbd68cc11e6a34ed1015d46aa7"
        );
    }

    #[test]
    fn signed_headers_syntax() {
        assert!(valid_signed_headers("host"));
        assert!(valid_signed_headers("accept;host;x-amz-date"));
        assert!(!valid_signed_headers(""));
        assert!(!valid_signed_headers("host;"));
        assert!(!valid_signed_headers("Host"));
        assert!(!valid_signed_headers("x-amz-date;host"));
        assert!(!valid_signed_headers("host;host"));
        assert!(!valid_signed_headers("ho st"));
    }
}
