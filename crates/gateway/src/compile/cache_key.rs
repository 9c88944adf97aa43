//! A method's response-cache key, compiled from its integration (auth-throttle-cache.md
//! §4): the namespace (`cacheNamespace`, by default the resource id, so resources sharing
//! one share entries) and the request parameters named by `cacheKeyParameters`.

use http::header::HeaderName;
use tollgate_model::Integration;

/// One `cacheKeyParameters` entry: a declared `method.request.{path|querystring|header}.*`.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyParameter {
    Path(Box<str>),
    Query(Box<str>),
    Header(HeaderName),
}

#[derive(Debug, Clone, PartialEq)]
pub struct CacheKeySpec {
    pub namespace: Box<str>,
    pub parameters: Vec<KeyParameter>,
}

/// The key spec of an integration; entries that name no request parameter are skipped
/// (the control plane checks them when they are added).
pub fn compile_cache_key(i: &Integration, resource_id: &str) -> CacheKeySpec {
    let namespace = if i.cache_namespace.is_empty() {
        resource_id
    } else {
        &i.cache_namespace
    };
    let parameters = i
        .cache_key_parameters
        .iter()
        .filter_map(|p| {
            let rest = p.strip_prefix("method.request.")?;
            let (loc, name) = rest.split_once('.')?;
            Some(match loc {
                "path" => KeyParameter::Path(name.into()),
                "querystring" => KeyParameter::Query(name.into()),
                "header" => KeyParameter::Header(HeaderName::from_bytes(name.as_bytes()).ok()?),
                _ => return None,
            })
        })
        .collect();
    CacheKeySpec {
        namespace: namespace.into(),
        parameters,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_defaults_to_the_resource() {
        let mut i: Integration = serde_json::from_value(serde_json::json!({
            "type": "MOCK", "passthroughBehavior": "WHEN_NO_MATCH", "timeoutInMillis": 29000,
            "cacheNamespace": "", "cacheKeyParameters": [
                "method.request.path.id", "method.request.querystring.q",
                "method.request.header.X-Tenant", "integration.request.header.x"]
        }))
        .unwrap();
        let k = compile_cache_key(&i, "res1");
        assert_eq!(&*k.namespace, "res1");
        assert_eq!(
            k.parameters,
            vec![
                KeyParameter::Path("id".into()),
                KeyParameter::Query("q".into()),
                KeyParameter::Header(HeaderName::from_static("x-tenant")),
            ]
        );
        i.cache_namespace = "shared".into();
        assert_eq!(&*compile_cache_key(&i, "res1").namespace, "shared");
    }
}
