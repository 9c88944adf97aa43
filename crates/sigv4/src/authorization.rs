//! Parsing of the authentication data (spec §2 steps 1–3 and 6): the `Authorization`
//! header or the presigned query, the credential scope and `SignedHeaders`.

use http::HeaderMap;
use percent_encoding::percent_decode;

use crate::error::{clip, AuthError};
use crate::request::IncomingRequest;
use crate::time::{format_secs, parse_basic_timestamp, parse_http_date};

pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";
pub(crate) const TERMINATOR: &str = "aws4_request";
/// Upper bound of `X-Amz-Expires` (one week), as in every AWS service.
const MAX_EXPIRES: i64 = 604_800;

/// The authentication data of one request, validated for form but not yet
/// for time, scope, credentials or signature.
#[derive(Debug)]
pub(crate) struct Auth {
    pub(crate) presigned: bool,
    pub(crate) access_key_id: String,
    pub(crate) scope_date: String,
    pub(crate) region: String,
    pub(crate) service: String,
    /// As received; also the `signedHeaders` line of the canonical request.
    pub(crate) signed_headers: String,
    pub(crate) signature: String,
    /// The request time in `yyyyMMddTHHmmssZ` form, for the string to sign.
    pub(crate) timestamp: String,
    pub(crate) request_time: i64,
    /// Header form: the header the time came from (`x-amz-date` or `date`).
    pub(crate) date_header: Option<&'static str>,
    /// Presigned form: `X-Amz-Expires` in seconds.
    pub(crate) expires: Option<i64>,
    pub(crate) session_token: Option<Vec<u8>>,
}

/// One query parameter, percent-decoded (`+` stays `+`).
pub(crate) struct QueryParam {
    pub(crate) name: Vec<u8>,
    pub(crate) value: Vec<u8>,
}

pub(crate) fn parse_query(raw: Option<&str>) -> Vec<QueryParam> {
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

pub(crate) fn parse_auth(
    req: &IncomingRequest<'_>,
    query: &[QueryParam],
) -> Result<Auth, AuthError> {
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
pub(crate) fn check_signed_headers_present(
    auth: &Auth,
    headers: &HeaderMap,
) -> Result<(), AuthError> {
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

/// The value of a header that occurs exactly once and is visible ASCII.
fn single_header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (Some(v), None) => v.to_str().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
