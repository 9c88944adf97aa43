//! Cognito user-pool authorizers (auth-throttle-cache.md §6.2): the token from the
//! identity-source header is a JWT signed by one of the authorizer's pools (RS256, keys
//! from the pool's JWKS), unexpired, its `iss` the pool's issuer; a method with
//! `authorizationScopes` takes an access token whose `scope` holds one of them, any other
//! method an ID token; `identityValidationExpression` must match `aud`. Its claims become
//! `$context.authorizer.claims.*`. A token whose signature was verified is remembered by
//! its signature until it expires, so a repeated token costs no RSA work (the per-method
//! checks, issuer, token use, scopes and audience, still run on every request).

use std::sync::Arc;

use base64::Engine;
use jsonwebtoken::{Algorithm, Validation};
use regex::Regex;
use serde_json::Value;
use tollgate_model::authorizer::{identity_sources, user_pool_id, IdentitySource};
use tollgate_model::{Authorizer, AuthorizerType};

use crate::jwks::{JwksCache, JwksFetcher, KeyLocation};
use crate::lambda::CompileError;

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

impl Pool {
    /// The `iss` of its tokens: `endpoint` replaces Cognito's
    /// `https://cognito-idp.{region}.amazonaws.com`.
    fn issuer(&self, endpoint: Option<&str>) -> String {
        match endpoint {
            Some(base) => format!("{}/{}", base.trim_end_matches('/'), self.id),
            None => format!(
                "https://cognito-idp.{}.amazonaws.com/{}",
                self.region, self.id
            ),
        }
    }

    /// Whether `iss` is [`Pool::issuer`], without building it (every cached token asks).
    fn issues(&self, endpoint: Option<&str>, iss: &str) -> bool {
        let base = match endpoint {
            Some(base) => iss.strip_prefix(base.trim_end_matches('/')),
            None => iss
                .strip_prefix("https://cognito-idp.")
                .and_then(|r| r.strip_prefix(self.region.as_str()))
                .and_then(|r| r.strip_prefix(".amazonaws.com")),
        };
        base.and_then(|r| r.strip_prefix('/')) == Some(self.id.as_str())
    }
}

pub struct CognitoAuthorizer {
    pub id: Arc<str>,
    header: String,
    pools: Vec<Pool>,
    audience: Option<Regex>,
    /// Tokens already verified, by signature (kept while the deployment is served).
    verified: moka::sync::Cache<Box<str>, Arc<Verified>>,
}

impl std::fmt::Debug for CognitoAuthorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CognitoAuthorizer")
            .field("id", &self.id)
            .field("header", &self.header)
            .field("pools", &self.pools)
            .field("verified", &self.verified.entry_count())
            .finish()
    }
}

/// Verified tokens' claims, as text (`$context.authorizer.claims.*`).
pub type Claims = Arc<Vec<(String, String)>>;

/// A token whose signature, issuer and expiry were checked once.
struct Verified {
    /// The signed part (`header.payload`): a cached signature vouches only for it.
    signed: Box<str>,
    iss: String,
    /// `exp`, seconds since the epoch: the entry is no use after it.
    exp: i64,
    token_use: Option<String>,
    scope: String,
    aud: String,
    claims: Claims,
}

/// Verified tokens kept at most per authorizer (about 1 KB each).
const VERIFIED_TOKENS: u64 = 10_000;

fn verified_cache() -> moka::sync::Cache<Box<str>, Arc<Verified>> {
    // Cognito tokens live an hour at most; `exp` is checked on every hit.
    moka::sync::Cache::builder()
        .max_capacity(VERIFIED_TOKENS)
        .time_to_live(std::time::Duration::from_secs(3600))
        .build()
}

/// The payload of a JWT, unverified (to find its issuer before its key).
pub(crate) fn unverified_claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

pub(crate) fn text(v: &Value) -> String {
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
            verified: verified_cache(),
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
        if let Some(known) = self.authorize_verified(token, scopes, endpoint) {
            return known;
        }
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or(Rejection::Unauthorized)?;
        let (_, signature) = token.rsplit_once('.').ok_or(Rejection::Unauthorized)?;
        let v = Arc::new(self.verify(token, endpoint, jwks, fetcher).await?);
        self.verified.insert(signature.into(), v.clone());
        self.grant(&v, scopes)
    }

    /// [`CognitoAuthorizer::authorize`] without awaiting, when it needs no RSA work: a
    /// missing or malformed token, or one already verified (checked against `exp` and the
    /// pools again). `None`: the token must be verified. A caller can try this before
    /// building `authorize`'s future, which is large.
    pub fn authorize_verified(
        &self,
        token: Option<&str>,
        scopes: &[String],
        endpoint: Option<&str>,
    ) -> Option<Result<Claims, Rejection>> {
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Some(Err(Rejection::Unauthorized));
        };
        let Some((signed, signature)) = token.rsplit_once('.') else {
            return Some(Err(Rejection::Unauthorized));
        };
        let v = self
            .verified
            .get(signature)
            .filter(|v| *v.signed == *signed)?;
        if v.exp <= tollgate_model::time::now_epoch() {
            return Some(Err(Rejection::Expired));
        }
        if !self.pools.iter().any(|p| p.issues(endpoint, &v.iss)) {
            return Some(Err(Rejection::Unauthorized));
        }
        Some(self.grant(&v, scopes))
    }

    /// A verified token's claims if it carries what the method asks (an ID token, or an
    /// access token with one of the scopes) for this authorizer's audience.
    fn grant(&self, v: &Verified, scopes: &[String]) -> Result<Claims, Rejection> {
        let ok = if scopes.is_empty() {
            v.token_use.as_deref() == Some("id")
        } else {
            v.token_use.as_deref() == Some("access")
                && v.scope.split(' ').any(|g| scopes.iter().any(|s| s == g))
        };
        if !ok
            || self
                .audience
                .as_ref()
                .is_some_and(|re| !re.is_match(&v.aud))
        {
            return Err(Rejection::Unauthorized);
        }
        Ok(v.claims.clone())
    }

    /// The RSA work: the token's signature with its pool's key, its issuer (one of this
    /// authorizer's pools) and its expiry.
    async fn verify(
        &self,
        token: &str,
        endpoint: Option<&str>,
        jwks: &JwksCache,
        fetcher: &impl JwksFetcher,
    ) -> Result<Verified, Rejection> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| Rejection::Unauthorized)?;
        if header.alg != Algorithm::RS256 {
            return Err(Rejection::Unauthorized);
        }
        let kid = header.kid.ok_or(Rejection::Unauthorized)?;
        let iss = unverified_claims(token)
            .and_then(|c| c.get("iss").and_then(Value::as_str).map(str::to_string))
            .ok_or(Rejection::Unauthorized)?;
        let issuer = self
            .pools
            .iter()
            .map(|p| p.issuer(endpoint))
            .find(|i| *i == iss)
            .ok_or(Rejection::Unauthorized)?;
        let key = jwks
            .key(&issuer, KeyLocation::WellKnownJwks, &kid, fetcher)
            .await
            .ok_or(Rejection::Unauthorized)?;
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
        let Value::Object(map) = data.claims else {
            return Err(Rejection::Unauthorized);
        };
        let field = |k: &str| map.get(k).map(text);
        Ok(Verified {
            signed: token.rsplit_once('.').map_or("", |(s, _)| s).into(),
            exp: map.get("exp").and_then(Value::as_i64).unwrap_or(0),
            token_use: field("token_use"),
            scope: field("scope").unwrap_or_default(),
            aud: field("aud").unwrap_or_default(),
            claims: Arc::new(map.iter().map(|(k, v)| (k.clone(), text(v))).collect()),
            iss: issuer,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use jsonwebtoken::{EncodingKey, Header};
    use std::sync::Mutex;
    use std::time::Duration;

    /// The private key of the end-to-end Cognito tests, and its public modulus.
    const KEY: &str = include_str!("../../cli/tests/data/cognito-test-key.pem");
    const N: &str = "7HxS1V4asvopooe3zzIP7OwXLs1Z1xAZVHftxHA1QU9ilRnpbGgLFPIMJSz2ej9nLfy-57tCEw8OUD3nuy3elayk8vS3VyF4xFGde4TFhW3hM1iOoPewMavtqka9lJbl8bMvoUESC2lUguaOT-3EbHbSuRfBvlDc7mnEG2SKvYYSid7zsojKydnk9J8Cos2BTmG5l9G7IUhIPPAJVInVDz4aO5RKasFLKZ2hoNJ_3YHPOyuMYtoteNbgbT-Sgky_Qwe0KUF3KBVH5a9-hIzPmCpSrE9lhCe8ptICNWmyhy1s-vgWxEgg1eERgJzLbeSpTCxLS1sUZz-5pV7FxqbU8w";
    const BASE: &str = "http://idp.test";

    /// Serves the pool's JWKS until it is switched off.
    struct Idp(Mutex<bool>);
    impl JwksFetcher for Idp {
        async fn fetch(&self, _url: &str) -> Result<Bytes, ()> {
            if !*self.0.lock().unwrap() {
                return Err(());
            }
            let doc =
                serde_json::json!({"keys": [{"kty": "RSA", "kid": "k1", "n": N, "e": "AQAB"}]});
            Ok(Bytes::from(doc.to_string()))
        }
    }

    fn token(sub: &str, exp: i64) -> String {
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some("k1".into());
        let claims = serde_json::json!({"sub": sub, "token_use": "id", "iss": format!("{BASE}/pool1"), "exp": exp});
        let key = EncodingKey::from_rsa_pem(KEY.as_bytes()).unwrap();
        jsonwebtoken::encode(&h, &claims, &key).unwrap()
    }

    /// A verified token is accepted again with no key at hand (so without RSA work) until
    /// it expires; a token the cache has not seen still needs the key, and a cached
    /// signature vouches for nothing but its own payload.
    #[tokio::test]
    async fn verified_tokens_are_remembered_by_signature_until_exp() {
        let a = Authorizer {
            id: "a1".into(),
            name: "c".into(),
            authorizer_type: AuthorizerType::CognitoUserPools,
            auth_type: None,
            authorizer_uri: None,
            authorizer_credentials: None,
            identity_source: Some("method.request.header.Authorization".into()),
            identity_validation_expression: None,
            authorizer_result_ttl_in_seconds: None,
            provider_arns: Some(vec![
                "arn:aws:cognito-idp:us-east-1:000000000000:userpool/pool1".into(),
            ]),
        };
        let auth = CognitoAuthorizer::compile(&a).unwrap();
        let (jwks, idp) = (JwksCache::default(), Idp(Mutex::new(true)));
        let now = tollgate_model::time::now_epoch();
        let (t1, short) = (token("u-1", now + 3600), token("u-2", now + 2));
        let run = |t: String| {
            let (auth, jwks, idp) = (&auth, &jwks, &idp);
            async move { auth.authorize(Some(&t), &[], Some(BASE), jwks, idp).await }
        };
        assert_eq!(run(t1.clone()).await.unwrap()[0].1, "u-1");
        assert!(run(short.clone()).await.is_ok());

        // The pool's keys are gone and cannot be fetched again.
        jwks.forget_keys();
        *idp.0.lock().unwrap() = false;
        assert_eq!(run(t1.clone()).await.unwrap()[0].1, "u-1");
        assert_eq!(
            run(token("u-3", now + 3600)).await,
            Err(Rejection::Unauthorized)
        );
        let (_, signature) = t1.rsplit_once('.').unwrap();
        let (signed, _) = token("u-9", now + 3600)
            .rsplit_once('.')
            .map(|(s, x)| (s.to_string(), x.to_string()))
            .unwrap();
        assert_eq!(
            run(format!("{signed}.{signature}")).await,
            Err(Rejection::Unauthorized)
        );

        std::thread::sleep(Duration::from_millis(2100));
        assert_eq!(run(short).await, Err(Rejection::Expired));
    }
}
