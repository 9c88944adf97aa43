//! v1 list pagination: `limit` and AWS's `position` token.

use crate::core::error::{ApiError, ApiResult};
use crate::core::util::{json, Query};
use crate::core::wire::Wire;
use axum::response::Response;

/// One page of a v1 list: `{"item": [...], "position": "..."}`, in order of the items'
/// keys. The position is the key of the last item returned, so pages never repeat an item
/// even when others are inserted between calls.
pub fn page<T: Wire>(mut items: Vec<(String, T)>, q: &Query) -> ApiResult<Response> {
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
        out.push(serde_json::to_value(item.to_wire()).unwrap_or_default());
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
pub fn page_map<T: Wire>(
    map: &std::collections::BTreeMap<String, T>,
    q: &Query,
) -> ApiResult<Response> {
    page(map.iter().map(|(k, v)| (k.clone(), v)).collect(), q)
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
}
