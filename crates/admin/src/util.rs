//! Request-body parsing, JSON responses and v1 pagination.

use std::collections::HashMap;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{ApiError, ApiResult};

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

pub fn json<T: Serialize>(status: u16, v: &T) -> Response {
    let body = serde_json::to_string(v).unwrap_or_else(|_| "{}".into());
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

/// One page of a v1 list: `{"item": [...], "position": "..."}`, in order of the items'
/// keys. The position is the key of the last item returned, so pages never repeat an item
/// even when others are inserted between calls.
pub fn page<T: Serialize>(mut items: Vec<(String, T)>, q: &Query) -> ApiResult<Response> {
    items.sort_by(|x, y| x.0.cmp(&y.0));
    let limit = match q.get("limit") {
        None => 25,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=500).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "Invalid limit: {l}. Limit must be between 1 and 500"
                )))
            }
        },
    };
    let start = q.get("position").map(|p| p.as_str());
    let mut out = Vec::new();
    let mut last = None;
    let mut more = false;
    for (key, item) in items {
        if start.is_some_and(|s| key.as_str() <= s) {
            continue;
        }
        if out.len() == limit {
            more = true;
            break;
        }
        last = Some(key);
        out.push(serde_json::to_value(item).unwrap_or_default());
    }
    let mut body = serde_json::Map::new();
    body.insert("item".into(), serde_json::Value::Array(out));
    if more {
        if let Some(last) = last {
            body.insert("position".into(), last.into());
        }
    }
    Ok(json(200, &body))
}

/// One page of a map keyed as AWS pages it (model names, validator ids...).
pub fn page_map<T: Serialize>(
    map: &std::collections::BTreeMap<String, T>,
    q: &Query,
) -> ApiResult<Response> {
    page(map.iter().map(|(k, v)| (k.clone(), v)).collect(), q)
}

/// Bool from a patch value (`"true"`/`"false"`).
pub fn patch_bool(v: Option<&str>, path: &str) -> ApiResult<bool> {
    match v.map(|s| s.to_ascii_lowercase()) {
        Some(s) if s == "true" => Ok(true),
        Some(s) if s == "false" => Ok(false),
        other => Err(ApiError::bad_request(format!(
            "Invalid value '{}' for path {path}: must be true or false",
            other.unwrap_or_default()
        ))),
    }
}

pub fn patch_i64(v: Option<&str>, path: &str) -> ApiResult<i64> {
    v.and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|f| f.fract() == 0.0 && f.is_finite())
        .map(|f| f as i64)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid value '{}' for path {path}: must be an integer",
                v.unwrap_or_default()
            ))
        })
}

pub fn patch_f64(v: Option<&str>, path: &str) -> ApiResult<f64> {
    v.and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|f| f.is_finite())
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid value '{}' for path {path}: must be a number",
                v.unwrap_or_default()
            ))
        })
}

/// For an optional string member: `""` is absent. SDK-based infrastructure tools send `""`
/// for a member the user left unset, and AWS treats it as unset.
/// Use as `#[serde(default, deserialize_with = "crate::util::empty_as_none")]`.
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
    use http_body_util::BodyExt;

    async fn body_of(r: Response) -> serde_json::Value {
        let b = r.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&b).unwrap()
    }

    #[tokio::test]
    async fn pages_follow_position() {
        let items: Vec<(String, u32)> = (0..5).map(|i| (format!("k{i}"), i)).collect();
        let mut q = Query::new();
        q.insert("limit".into(), "2".into());
        let p1 = body_of(page(items.clone(), &q).unwrap()).await;
        assert_eq!(p1["item"], serde_json::json!([0, 1]));
        assert_eq!(p1["position"], "k1");
        q.insert("position".into(), "k1".into());
        let p2 = body_of(page(items.clone(), &q).unwrap()).await;
        assert_eq!(p2["item"], serde_json::json!([2, 3]));
        q.insert("position".into(), "k3".into());
        let p3 = body_of(page(items.clone(), &q).unwrap()).await;
        assert_eq!(p3["item"], serde_json::json!([4]));
        assert!(p3.get("position").is_none());
        q.insert("limit".into(), "0".into());
        assert!(page(items, &q).is_err());
    }

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

    #[test]
    fn patch_values() {
        assert!(patch_bool(Some("TRUE"), "/x").unwrap());
        assert!(patch_bool(Some("yes"), "/x").is_err());
        assert_eq!(patch_i64(Some("200"), "/x").unwrap(), 200);
        assert!(patch_i64(Some("2.5"), "/x").is_err());
        assert_eq!(patch_f64(Some("100"), "/x").unwrap(), 100.0);
        assert!(patch_f64(None, "/x").is_err());
    }
}
