//! Request-body parsing, query strings and JSON responses.

use std::collections::HashMap;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};
use serde::de::DeserializeOwned;

use crate::core::error::{ApiError, ApiResult};
use crate::core::wire::Wire;

/// Parses a JSON body; an empty body is `{}`. Type mismatches are SerializationException,
/// as AWS answers them.
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    let bytes = if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        &b"{}"[..]
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(|e| {
        if e.is_data() {
            // AWS's (Java) wording for the common case of a JSON boolean or number where
            // a string is expected.
            let m = e.to_string();
            let class = if m.starts_with("invalid type: boolean") {
                Some("Boolean")
            } else if m.starts_with("invalid type: integer")
                || m.starts_with("invalid type: floating")
            {
                Some("Integer")
            } else {
                None
            };
            match class {
                Some(c) if m.contains("expected a string") => ApiError::serialization(format!(
                    "class java.lang.{c} can not be converted to an String"
                )),
                _ => ApiError::serialization(m),
            }
        } else {
            ApiError::bad_request(format!("Invalid JSON in request body: {e}"))
        }
    })
}

/// A JSON response showing `v` in its wire shape.
pub fn json<T: Wire + ?Sized>(status: u16, v: &T) -> Response {
    let body = serde_json::to_string(&v.to_wire()).unwrap_or_else(|_| "{}".into());
    let mut resp = (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

pub fn empty(status: u16) -> Response {
    StatusCode::from_u16(status)
        .unwrap_or(StatusCode::ACCEPTED)
        .into_response()
}

pub type Query = HashMap<String, String>;

/// Every value of a query parameter that may repeat (`tagKeys=a&tagKeys=b`), decoded.
pub fn query_values(uri: &http::Uri, name: &str) -> Vec<String> {
    form_pairs(uri.query().unwrap_or_default())
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v)
        .collect()
}

/// The decoded `name=value` pairs of a query string or `application/x-www-form-urlencoded`
/// body, in order (a name without `=` has an empty value).
pub fn form_pairs(s: &str) -> impl Iterator<Item = (String, String)> + '_ {
    let decode = |v: &str| {
        percent_encoding::percent_decode_str(&v.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    s.split('&').filter(|p| !p.is_empty()).map(move |p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        (decode(k), decode(v))
    })
}

pub fn query_bool(q: &Query, name: &str) -> bool {
    q.get(name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// For an optional string member: `""` is absent. SDK-based infrastructure tools send `""`
/// for a member the user left unset, and AWS treats it as unset.
/// Use as `#[serde(default, deserialize_with = "crate::core::util::empty_as_none")]`.
pub fn empty_as_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v: Option<String> = serde::Deserialize::deserialize(d)?;
    Ok(v.filter(|s| !s.is_empty()))
}

/// For an optional structure whose members are all optional: `{}` is absent (no settings),
/// rather than a structure of zeroes.
pub fn empty_object_as_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: DeserializeOwned,
{
    let v: Option<serde_json::Value> = serde::Deserialize::deserialize(d)?;
    match v {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Object(m)) if m.is_empty() => Ok(None),
        Some(v) => serde_json::from_value(v)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_errors_are_aws_shaped() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct B {
            name: Option<String>,
        }
        assert!(parse_body::<B>(b"").is_ok());
        assert_eq!(
            parse_body::<B>(br#"{"name": true}"#)
                .unwrap_err()
                .error_type,
            "SerializationException"
        );
        assert_eq!(
            parse_body::<B>(b"{nope").unwrap_err().error_type,
            "BadRequestException"
        );
    }
}
