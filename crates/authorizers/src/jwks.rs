//! Signing keys of token issuers (JWKS), shared by the Cognito authorizer (REST) and the
//! JWT authorizer (HTTP APIs): one cache for every deployment, keyed by issuer, fetched on
//! first use and again when a token names a key id the cached set lacks
//! (auth-throttle-cache.md §6.1: JWKS ≤ 150000 bytes, RSA keys only).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use jsonwebtoken::DecodingKey;
use serde_json::Value;
use tollgate_model::v2::key_url_allowed;

/// Largest JWKS (and discovery) document read (auth-throttle-cache.md §6.1).
pub const MAX_JWKS: usize = 150_000;

/// Fetches a JWKS or discovery document (the data plane implements it with its HTTP
/// client, bounded by a timeout). `Err` is any failure, logged by the implementation.
pub trait JwksFetcher {
    fn fetch(&self, url: &str) -> impl Future<Output = Result<Bytes, ()>> + Send;
}

/// Where an issuer publishes its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyLocation {
    /// `{issuer}/.well-known/jwks.json` (Cognito user pools).
    WellKnownJwks,
    /// OIDC discovery: `{issuer}/.well-known/openid-configuration` names the `jwks_uri`.
    OpenIdDiscovery,
}

/// Keys of every issuer the data plane has met, by issuer.
pub struct JwksCache {
    keys: moka::sync::Cache<String, Arc<KeySet>>,
}

/// One issuer's keys and when they were fetched.
struct KeySet {
    keys: HashMap<String, DecodingKey>,
    fetched: Instant,
}

/// A token naming a key the cached set lacks fetches the JWKS again at most this often
/// per issuer, so tokens with made-up key ids cannot make every request a fetch.
const REFETCH_AFTER: Duration = Duration::from_secs(30);

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JwksCache({} issuers)", self.keys.entry_count())
    }
}

impl Default for JwksCache {
    fn default() -> Self {
        JwksCache {
            keys: moka::sync::Cache::builder()
                .max_capacity(1_000)
                .time_to_live(Duration::from_secs(3600))
                .build(),
        }
    }
}

/// The RSA keys of a JWKS document, by `kid`.
fn parse_jwks(doc: &[u8]) -> Option<HashMap<String, DecodingKey>> {
    if doc.len() > MAX_JWKS {
        return None;
    }
    let v: Value = serde_json::from_slice(doc).ok()?;
    let keys = v.get("keys")?.as_array()?;
    Some(
        keys.iter()
            .filter(|k| k.get("kty").and_then(Value::as_str) == Some("RSA"))
            .filter_map(|k| {
                let kid = k.get("kid")?.as_str()?;
                let n = k.get("n")?.as_str()?;
                let e = k.get("e")?.as_str()?;
                Some((
                    kid.to_string(),
                    DecodingKey::from_rsa_components(n, e).ok()?,
                ))
            })
            .collect(),
    )
}

/// The `jwks_uri` of an OIDC discovery document.
fn jwks_uri(doc: &[u8]) -> Option<String> {
    if doc.len() > MAX_JWKS {
        return None;
    }
    let v: Value = serde_json::from_slice(doc).ok()?;
    v.get("jwks_uri")?.as_str().map(str::to_string)
}

impl JwksCache {
    /// Drops every cached key (tests: a key that must be fetched again).
    #[cfg(test)]
    pub(crate) fn forget_keys(&self) {
        self.keys.invalidate_all();
    }

    /// The issuer's key `kid`, fetching its keys when they are not known (yet). `None`:
    /// no such key, or the keys could not be fetched (each a 401 for the caller).
    pub async fn key(
        &self,
        issuer: &str,
        location: KeyLocation,
        kid: &str,
        fetcher: &impl JwksFetcher,
    ) -> Option<DecodingKey> {
        if let Some(set) = self.keys.get(issuer) {
            if let Some(k) = set.keys.get(kid) {
                return Some(k.clone());
            }
            if set.fetched.elapsed() < REFETCH_AFTER {
                return None;
            }
        }
        let fetched = async {
            let base = issuer.trim_end_matches('/');
            let url = match location {
                KeyLocation::WellKnownJwks => format!("{base}/.well-known/jwks.json"),
                KeyLocation::OpenIdDiscovery => {
                    let discovery = format!("{base}/.well-known/openid-configuration");
                    let doc = fetcher.fetch(&discovery).await.ok()?;
                    jwks_uri(&doc).filter(|u| key_url_allowed(u)).or_else(|| {
                        tracing::info!(url = %discovery, "OpenID configuration names no usable jwks_uri (https, or http on loopback)");
                        None
                    })?
                }
            };
            let doc = fetcher.fetch(&url).await.ok()?;
            parse_jwks(&doc).or_else(|| {
                tracing::info!(url = %url, "JWKS unreadable");
                None
            })
        };
        let Some(keys) = fetched.await else {
            // Remember the attempt (keeping any keys known before), so a failing identity
            // provider is asked again only after REFETCH_AFTER, not by every request that
            // names it.
            let known = self
                .keys
                .get(issuer)
                .map(|s| s.keys.clone())
                .unwrap_or_default();
            let key = known.get(kid).cloned();
            let set = KeySet {
                keys: known,
                fetched: Instant::now(),
            };
            self.keys.insert(issuer.to_string(), Arc::new(set));
            return key;
        };
        let key = keys.get(kid).cloned();
        let set = KeySet {
            keys,
            fetched: Instant::now(),
        };
        self.keys.insert(issuer.to_string(), Arc::new(set));
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// An identity provider that is down, counting what it is asked.
    struct Down(AtomicUsize);
    impl JwksFetcher for Down {
        async fn fetch(&self, _url: &str) -> Result<Bytes, ()> {
            self.0.fetch_add(1, Ordering::Relaxed);
            Err(())
        }
    }

    /// A discovery document naming keys over plain HTTP elsewhere than loopback: the keys
    /// are never fetched.
    #[tokio::test]
    async fn a_plain_http_jwks_uri_is_not_fetched() {
        struct Discovery(std::sync::Mutex<Vec<String>>);
        impl JwksFetcher for Discovery {
            async fn fetch(&self, url: &str) -> Result<Bytes, ()> {
                self.0.lock().unwrap().push(url.to_string());
                Ok(Bytes::from_static(
                    br#"{"jwks_uri": "http://idp.example.com/keys"}"#,
                ))
            }
        }
        let (cache, idp) = (JwksCache::default(), Discovery(Default::default()));
        let key = cache
            .key(
                "https://idp.example.com",
                KeyLocation::OpenIdDiscovery,
                "k1",
                &idp,
            )
            .await;
        assert!(key.is_none());
        assert_eq!(
            *idp.0.lock().unwrap(),
            ["https://idp.example.com/.well-known/openid-configuration"]
        );
    }

    /// A failing provider is asked once per REFETCH_AFTER, not by every token naming it.
    #[tokio::test]
    async fn a_failed_fetch_is_remembered() {
        let (cache, idp) = (JwksCache::default(), Down(AtomicUsize::new(0)));
        for kid in ["k1", "k1", "k2"] {
            let key = cache
                .key("http://idp.test", KeyLocation::OpenIdDiscovery, kid, &idp)
                .await;
            assert!(key.is_none());
        }
        assert_eq!(idp.0.load(Ordering::Relaxed), 1);
    }
}
