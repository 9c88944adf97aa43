//! Method request: the route and method a request addresses, and the request parameters
//! (`method.request.path|querystring|header.*`) that mappings and validation read.

use std::sync::Arc;

use http::HeaderMap;

use crate::compile::{CompiledDeployment, CompiledMethod};
use crate::router::Route;

use crate::error::GatewayError;

/// The matched resource and method, with path parameters as (name, value) pairs.
pub struct Routed {
    pub route: Arc<Route<CompiledMethod>>,
    pub method: Arc<CompiledMethod>,
    pub path_params: Vec<(Arc<str>, String)>,
}

/// A path no resource with this method takes answers MISSING_AUTHENTICATION_TOKEN (403),
/// as AWS does, whether or not some resource has the path.
pub fn route(
    deployment: &CompiledDeployment,
    verb: &str,
    routing_path: &str,
) -> Result<Routed, GatewayError> {
    let m = deployment
        .router
        .find(routing_path, verb)
        .ok_or_else(GatewayError::missing_token)?;
    let method = m.method.clone();
    let path_params = m
        .params
        .iter()
        .map(|(n, r)| (n.clone(), routing_path[r.clone()].to_string()))
        .collect();
    Ok(Routed {
        route: m.route.clone(),
        method,
        path_params,
    })
}

/// Query parameters in order: percent-decoded with `+` as space; a fragment is ignored.
pub fn parse_query(raw: Option<&str>) -> Vec<(String, String)> {
    let Some(raw) = raw else { return vec![] };
    let raw = raw.split('#').next().unwrap_or_default();
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s)
        .decode_utf8_lossy()
        .into_owned()
}

/// The request parameters of one request, read lazily by mappings.
pub struct Params<'a> {
    pub path: &'a [(Arc<str>, String)],
    pub query: &'a [(String, String)],
    pub headers: &'a HeaderMap,
}

impl Params<'_> {
    pub fn path(&self, name: &str) -> Option<&str> {
        self.path
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| v.as_str())
    }
    /// Last value wins, as AWS's single-value view does.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn multi_query(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get_all(name)
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
    }
    pub fn multi_header(&self, name: &str) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_rules() {
        let q = parse_query(Some(
            "price=10&price=20&plus=test+alias%40gmail.com&enc=%2B&flag#frag=1",
        ));
        let h = HeaderMap::new();
        let p = Params {
            path: &[],
            query: &q,
            headers: &h,
        };
        assert_eq!(p.query("price"), Some("20"));
        assert_eq!(p.multi_query("price"), vec!["10", "20"]);
        assert_eq!(p.query("plus"), Some("test alias@gmail.com"));
        assert_eq!(p.query("enc"), Some("+"));
        assert_eq!(p.query("flag"), Some(""));
        assert_eq!(p.query("frag"), None);
    }
}
