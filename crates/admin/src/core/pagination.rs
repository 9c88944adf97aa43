//! List pagination: v1's `limit` and `position` token, v2's `maxResults` and `nextToken`.

use crate::core::error::{ApiError, ApiResult};
use crate::core::util::{json, Query};
use crate::core::wire::Wire;
use axum::response::Response;

/// The items after `start` (a key), at most `limit` of them, in key order, with the key
/// to continue from when more are left. Pages never repeat an item even when others are
/// inserted between calls.
fn slice<T: Wire>(
    mut items: Vec<(String, T)>,
    limit: usize,
    start: Option<&str>,
) -> (Vec<serde_json::Value>, Option<String>) {
    items.sort_by(|x, y| x.0.cmp(&y.0));
    let mut out = Vec::new();
    let mut last = None;
    for (key, item) in items {
        if start.is_some_and(|s| key.as_str() <= s) {
            continue;
        }
        if out.len() == limit {
            return (out, last);
        }
        last = Some(key);
        out.push(serde_json::to_value(item.to_wire()).unwrap_or_default());
    }
    (out, None)
}

fn list_body(
    key: &str,
    items: Vec<serde_json::Value>,
    token_name: &str,
    token: Option<String>,
) -> Response {
    let mut body = serde_json::Map::new();
    body.insert(key.into(), serde_json::Value::Array(items));
    if let Some(t) = token {
        body.insert(token_name.into(), t.into());
    }
    json(200, &body)
}

/// One page of a v1 list: `{"item": [...], "position": "..."}`. The position is an opaque
/// token (the last item's key, encoded), so clients never mistake it for an id. A limit of
/// zero or less answers an empty page (recorded: GetApiKeys `limit=-1` → 200, no items);
/// more than 500 is refused.
pub fn page<T: Wire>(items: Vec<(String, T)>, q: &Query) -> ApiResult<Response> {
    let limit = match q.get("limit") {
        None => 25,
        Some(l) => match l.trim().parse::<i64>() {
            Ok(n) if n <= 0 => return Ok(list_body("item", Vec::new(), "position", None)),
            Ok(n) if n <= 500 => n as usize,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "Invalid limit: {l}. Limit must be between 1 and 500"
                )))
            }
        },
    };
    let start = match q.get("position") {
        None => None,
        Some(p) => Some(decode_position(p)?),
    };
    let (out, next) = slice(items, limit, start.as_deref());
    Ok(list_body(
        "item",
        out,
        "position",
        next.map(|k| encode_position(&k)),
    ))
}

fn encode_position(key: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

fn decode_position(token: &str) -> ApiResult<String> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| ApiError::bad_request(format!("Invalid position token: {token}")))
}

/// One page of a map keyed as AWS pages it (model names, validator ids...).
pub fn page_map<T: Wire>(
    map: &std::collections::BTreeMap<String, T>,
    q: &Query,
) -> ApiResult<Response> {
    page(map.iter().map(|(k, v)| (k.clone(), v)).collect(), q)
}

/// One page of a v2 map keyed as AWS pages it (ids, stage names).
pub fn page_map_v2<T: Wire>(
    map: &std::collections::BTreeMap<String, T>,
    q: &Query,
) -> ApiResult<Response> {
    page_v2(map.iter().map(|(k, v)| (k.clone(), v)).collect(), q)
}

/// One page of a v2 list: `{"items": [...], "nextToken": "..."}` (the token omitted on the
/// last page). Without `maxResults` a page holds up to 100 items.
pub fn page_v2<T: Wire>(items: Vec<(String, T)>, q: &Query) -> ApiResult<Response> {
    let limit = match q.get("maxResults") {
        None => 100,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if n >= 1 => n,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "Invalid maxResults: {l}. maxResults must be a positive integer"
                )))
            }
        },
    };
    let (out, next) = slice(items, limit, q.get("nextToken").map(|p| p.as_str()));
    Ok(list_body("items", out, "nextToken", next))
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
        let items: Vec<(String, serde_json::Value)> =
            (0..5).map(|i| (format!("k{i}"), i.into())).collect();
        let mut q = Query::new();
        q.insert("limit".into(), "2".into());
        let p1 = body_of(page(items.clone(), &q).unwrap()).await;
        assert_eq!(p1["item"], serde_json::json!([0, 1]));
        let pos = p1["position"].as_str().unwrap().to_string();
        assert_ne!(pos, "k1", "the position is a token, not the key");
        q.insert("position".into(), pos);
        let p2 = body_of(page(items.clone(), &q).unwrap()).await;
        assert_eq!(p2["item"], serde_json::json!([2, 3]));
        q.insert("position".into(), p2["position"].as_str().unwrap().into());
        let p3 = body_of(page(items.clone(), &q).unwrap()).await;
        assert_eq!(p3["item"], serde_json::json!([4]));
        assert!(p3.get("position").is_none());
        q.insert("position".into(), "not a token!".into());
        assert!(page(items.clone(), &q).is_err());
        q.remove("position");
        for empty in ["0", "-1"] {
            q.insert("limit".into(), empty.into());
            let p = body_of(page(items.clone(), &q).unwrap()).await;
            assert_eq!(p, serde_json::json!({ "item": [] }));
        }
        q.insert("limit".into(), "501".into());
        assert!(page(items, &q).is_err());
    }

    #[tokio::test]
    async fn v2_pages_follow_next_token() {
        let items: Vec<(String, serde_json::Value)> =
            (0..3).map(|i| (format!("k{i}"), i.into())).collect();
        let mut q = Query::new();
        q.insert("maxResults".into(), "2".into());
        let p1 = body_of(page_v2(items.clone(), &q).unwrap()).await;
        assert_eq!(p1["items"], serde_json::json!([0, 1]));
        assert_eq!(p1["nextToken"], "k1");
        q.insert("nextToken".into(), "k1".into());
        let p2 = body_of(page_v2(items.clone(), &q).unwrap()).await;
        assert_eq!(p2["items"], serde_json::json!([2]));
        assert!(p2.get("nextToken").is_none());
        q.insert("maxResults".into(), "x".into());
        assert!(page_v2(items, &q).is_err());
    }
}
