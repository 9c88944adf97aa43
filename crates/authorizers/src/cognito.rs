//! Cognito user-pool authorizers (auth-throttle-cache.md §6.2): the token from the
//! identity-source header is a JWT signed by one of the authorizer's pools (RS256, keys
//! from the pool's JWKS), unexpired, its `iss` the pool's issuer; a method with
//! `authorizationScopes` takes an access token whose `scope` holds one of them, any other
//! method an ID token; `identityValidationExpression` must match `aud`. Its claims become
//! `$context.authorizer.claims.*`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use regex::Regex;
use serde_json::Value;
use tollgate_model::authorizer::{identity_sources, user_pool_id, IdentitySource};
use tollgate_model::{Authorizer, AuthorizerType};

use crate::lambda::CompileError;

/// Largest JWKS document read (auth-throttle-cache.md §6.1).
pub const MAX_JWKS: usize = 150_000;

/// Fetches a JWKS document (the data plane implements it with its HTTP client, bounded
/// by a timeout). `Err` is any failure, logged by the implementation.
pub trait JwksFetcher {
    fn fetch(&self, url: &str) -> impl Future<Output = Result<Bytes, ()>> + Send;
}

/// Why a token is refused (each a 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// `{"message":"Unauthorized"}`
    Unauthorized,
    /// `{"message":"The incoming token has expired"}`
    Expired,
}

/// One user pool: its id and the region its default endpoint is in.
#[derive(Debug, Clone)]
struct Pool {
    id: String,
    region: String,
}

#[derive(Debug)]
pub struct CognitoAuthorizer {
    pub id: Arc<str>,
    header: String,
    pools: Vec<Pool>,
    audience: Option<Regex>,
}

/// Verified tokens' claims, as text (`$context.authorizer.claims.*`).
pub type Claims = Arc<Vec<(String, String)>>;

/// Keys of every pool the data plane has met, by pool issuer: fetched on first use and
/// again when a token names a key id the cached set lacks. Shared by all deployments.
pub struct JwksCache {
    keys: moka::sync::Cache<String, Arc<KeySet>>,
}

/// One pool's keys and when they were fetched.
struct KeySet {
    keys: HashMap<String, DecodingKey>,
    fetched: Instant,
}

/// A token naming a key the cached set lacks fetches the JWKS again at most this often
/// per pool, so tokens with made-up key ids cannot make every request a fetch.
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

/// The payload of a JWT, unverified (to find its issuer before its key).
fn unverified_claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl CognitoAuthorizer {
    pub fn compile(a: &Authorizer) -> Result<CognitoAuthorizer, CompileError> {
        if a.authorizer_type != AuthorizerType::CognitoUserPools {
            return Err(CompileError::NotLambda(a.id.clone()));
        }
        let header = match identity_sources(a.authorizer_type, a.identity_source.as_deref())
            .map_err(|e| CompileError::IdentitySource(a.id.clone(), e))?
            .pop()
        {
            Some(IdentitySource::Header(h)) => h,
            _ => return Err(CompileError::Uri(a.id.clone())),
        };
        let pools = a
            .provider_arns
            .iter()
            .flatten()
            .filter_map(|arn| {
                let id = user_pool_id(arn)?;
                let region = arn
                    .strip_prefix("arn:aws:cognito-idp:")?
                    .split(':')
                    .next()?;
                Some(Pool {
                    id: id.to_string(),
                    region: region.to_string(),
                })
            })
            .collect();
        let audience = match a.identity_validation_expression.as_deref() {
            Some(e) => Some(
                Regex::new(&format!("^(?:{e})$"))
                    .map_err(|_| CompileError::ValidationExpression(a.id.clone()))?,
            ),
            None => None,
        };
        Ok(CognitoAuthorizer {
            id: a.id.as_str().into(),
            header,
            pools,
            audience,
        })
    }

    /// The header that carries the token.
    pub fn header(&self) -> &str {
        &self.header
    }

    /// Verifies `token` for a method with `scopes`. `endpoint` replaces Cognito's
    /// `https://cognito-idp.{region}.amazonaws.com` (`--cognito-endpoint`).
    pub async fn authorize(
        &self,
        token: Option<&str>,
        scopes: &[String],
        endpoint: Option<&str>,
        jwks: &JwksCache,
        fetcher: &impl JwksFetcher,
    ) -> Result<Claims, Rejection> {
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or(Rejection::Unauthorized)?;
        let header = jsonwebtoken::decode_header(token).map_err(|_| Rejection::Unauthorized)?;
        if header.alg != Algorithm::RS256 {
            return Err(Rejection::Unauthorized);
        }
        let kid = header.kid.ok_or(Rejection::Unauthorized)?;
        let iss = unverified_claims(token)
            .and_then(|c| c.get("iss").and_then(Value::as_str).map(str::to_string))
            .ok_or(Rejection::Unauthorized)?;
        let issuer_of = |p: &Pool| match endpoint {
            Some(base) => format!("{}/{}", base.trim_end_matches('/'), p.id),
            None => format!("https://cognito-idp.{}.amazonaws.com/{}", p.region, p.id),
        };
        let issuer = self
            .pools
            .iter()
            .map(issuer_of)
            .find(|i| *i == iss)
            .ok_or(Rejection::Unauthorized)?;
        let key = self.key(&issuer, &kid, jwks, fetcher).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[issuer.as_str()]);
        validation.validate_aud = false;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iss"]);
        let data = jsonwebtoken::decode::<Value>(token, &key, &validation).map_err(|e| match e
            .kind()
        {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => Rejection::Expired,
            _ => Rejection::Unauthorized,
        })?;
        let claims = data.claims;
        let token_use = claims.get("token_use").and_then(Value::as_str);
        if scopes.is_empty() {
            if token_use != Some("id") {
                return Err(Rejection::Unauthorized);
            }
        } else {
            let granted = claims
                .get("scope")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if token_use != Some("access")
                || !granted.split(' ').any(|g| scopes.iter().any(|s| s == g))
            {
                return Err(Rejection::Unauthorized);
            }
        }
        if let Some(re) = &self.audience {
            let aud = claims.get("aud").map(text).unwrap_or_default();
            if !re.is_match(&aud) {
                return Err(Rejection::Unauthorized);
            }
        }
        let Value::Object(map) = claims else {
            return Err(Rejection::Unauthorized);
        };
        Ok(Arc::new(
            map.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
        ))
    }

    /// The pool's key `kid`, fetching the JWKS when it is not known (yet).
    async fn key(
        &self,
        issuer: &str,
        kid: &str,
        jwks: &JwksCache,
        fetcher: &impl JwksFetcher,
    ) -> Result<DecodingKey, Rejection> {
        if let Some(set) = jwks.keys.get(issuer) {
            if let Some(k) = set.keys.get(kid) {
                return Ok(k.clone());
            }
            if set.fetched.elapsed() < REFETCH_AFTER {
                return Err(Rejection::Unauthorized);
            }
        }
        let url = format!("{issuer}/.well-known/jwks.json");
        let doc = fetcher
            .fetch(&url)
            .await
            .map_err(|()| Rejection::Unauthorized)?;
        let keys = parse_jwks(&doc).ok_or_else(|| {
            tracing::info!(url = %url, "JWKS unreadable");
            Rejection::Unauthorized
        })?;
        let key = keys.get(kid).cloned();
        let set = KeySet {
            keys,
            fetched: Instant::now(),
        };
        jwks.keys.insert(issuer.to_string(), Arc::new(set));
        key.ok_or(Rejection::Unauthorized)
    }
}
