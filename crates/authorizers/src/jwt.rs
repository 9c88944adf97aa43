//! HTTP APIs' JWT authorizers (auth-throttle-cache.md §6.1): the token from the identity
//! source (bare or after `Bearer `), signed RS256/384/512 by a key the issuer publishes
//! through OIDC discovery, `iss` the configured issuer, `aud` holding a configured
//! audience (or, without `aud`, `client_id` one), `exp` ahead, `nbf` and `iat` behind,
//! no leeway; a route's `authorizationScopes` need one of the token's `scope`/`scp`.
//! Verified tokens are kept (bounded) so a client's next request costs no signature check.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, Validation};
use serde_json::Value;
use tollgate_model::v2::Authorizer;
use tollgate_model::V2AuthorizerType;

use crate::cognito::{unverified_claims, Claims};
use crate::http_identity::HttpIdentitySource;
use crate::jwks::{JwksCache, JwksFetcher, KeyLocation};

/// Tokens one authorizer keeps verified at most, and for how long at most (their own
/// `exp` still applies on every hit).
const VERIFIED_ENTRIES: u64 = 10_000;
const VERIFIED_FOR: Duration = Duration::from_secs(300);

/// Why a JWT authorizer cannot be compiled (its routes then answer 500).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtCompileError {
    #[error("authorizer {0} is not a JWT authorizer")]
    NotJwt(String),
    #[error("authorizer {0} needs one header or query string identity source")]
    IdentitySource(String),
    #[error("authorizer {0}: issuer {1} must be https (http only on a loopback address)")]
    Issuer(String, String),
}

/// Why a token is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtRejection {
    /// 401 without a challenge: no token at all.
    Missing,
    /// 401 with `www-authenticate: Bearer scope="" error="invalid_token"
    /// error_description="{0}"`.
    Invalid(&'static str),
    /// 403 with an `insufficient_scope` challenge naming the route's scopes.
    InsufficientScope,
}

impl JwtRejection {
    /// The `www-authenticate` value AWS sends with the refusal (none for a missing token).
    pub fn challenge(&self, route_scopes: &[String]) -> Option<String> {
        match self {
            JwtRejection::Missing => None,
            JwtRejection::Invalid(why) => Some(format!(
                "Bearer scope=\"\" error=\"invalid_token\" error_description=\"{why}\""
            )),
            JwtRejection::InsufficientScope => {
                let scopes = route_scopes.join(" ");
                Some(format!(
                    "Bearer scope=\"{scopes}\" error=\"insufficient_scope\" error_description=\"expected scopes: [{scopes}]\""
                ))
            }
        }
    }
}

/// A verified token: its claims as text and the scopes it grants.
#[derive(Debug)]
pub struct Verified {
    pub claims: Claims,
    pub scopes: Vec<String>,
    exp: i64,
    nbf: Option<i64>,
}

pub struct JwtAuthorizer {
    pub id: Arc<str>,
    source: HttpIdentitySource,
    issuer: String,
    audiences: Vec<String>,
    verified: moka::sync::Cache<Box<str>, Arc<Verified>>,
}

impl std::fmt::Debug for JwtAuthorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtAuthorizer")
            .field("id", &self.id)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

/// A claim as text: strings as they are, arrays as `[a b]` (what AWS hands on), anything
/// else as its JSON.
fn claim_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(claim_text).collect();
            format!("[{}]", parts.join(" "))
        }
        other => other.to_string(),
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => s
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(Into::into)
            .collect(),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(Into::into).collect(),
        _ => Vec::new(),
    }
}

impl JwtAuthorizer {
    pub fn compile(a: &Authorizer) -> Result<JwtAuthorizer, JwtCompileError> {
        let id = || a.authorizer_id.clone();
        if a.authorizer_type != V2AuthorizerType::Jwt {
            return Err(JwtCompileError::NotJwt(id()));
        }
        let source = match a.identity_source.as_slice() {
            [one] => HttpIdentitySource::parse(one),
            _ => None,
        }
        .filter(|s| {
            matches!(
                s,
                HttpIdentitySource::Header(_) | HttpIdentitySource::QueryString(_)
            )
        })
        .ok_or_else(|| JwtCompileError::IdentitySource(id()))?;
        let (issuer, audiences) = a
            .jwt_configuration
            .as_ref()
            .map(|c| (c.issuer.clone().unwrap_or_default(), c.audience.clone()))
            .unwrap_or_default();
        if !tollgate_model::v2::key_url_allowed(&issuer) {
            return Err(JwtCompileError::Issuer(id(), issuer));
        }
        Ok(JwtAuthorizer {
            id: a.authorizer_id.as_str().into(),
            source,
            issuer,
            audiences,
            verified: moka::sync::Cache::builder()
                .max_capacity(VERIFIED_ENTRIES)
                .time_to_live(VERIFIED_FOR)
                .build(),
        })
    }

    /// Where the token comes from.
    pub fn source(&self) -> &HttpIdentitySource {
        &self.source
    }

    /// Verifies the identity source's value for a route with `scopes`.
    pub async fn authorize(
        &self,
        value: Option<&str>,
        scopes: &[String],
        jwks: &JwksCache,
        fetcher: &impl JwksFetcher,
    ) -> Result<Arc<Verified>, JwtRejection> {
        let value = value.map(str::trim).filter(|v| !v.is_empty());
        let value = value.ok_or(JwtRejection::Missing)?;
        let token = match value.get(..7) {
            Some(p) if p.eq_ignore_ascii_case("bearer ") => value[7..].trim_start(),
            _ => value,
        };
        let verified = match self.verified.get(token) {
            Some(v) => v,
            None => {
                let v = Arc::new(self.verify(token, jwks, fetcher).await?);
                self.verified.insert(token.into(), v.clone());
                v
            }
        };
        let t = now();
        if verified.exp <= t {
            return Err(JwtRejection::Invalid("the token has expired"));
        }
        if verified.nbf.is_some_and(|nbf| nbf > t) {
            return Err(JwtRejection::Invalid("the token is not valid yet"));
        }
        if !scopes.is_empty() && !verified.scopes.iter().any(|g| scopes.contains(g)) {
            return Err(JwtRejection::InsufficientScope);
        }
        Ok(verified)
    }

    async fn verify(
        &self,
        token: &str,
        jwks: &JwksCache,
        fetcher: &impl JwksFetcher,
    ) -> Result<Verified, JwtRejection> {
        use jsonwebtoken::errors::ErrorKind;
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| JwtRejection::Invalid("token contains an invalid number of segments"))?;
        if !matches!(
            header.alg,
            Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512
        ) {
            return Err(JwtRejection::Invalid("signing method is invalid"));
        }
        let kid = header
            .kid
            .ok_or(JwtRejection::Invalid("the token has no key id"))?;
        // An issuer other than ours is refused before any key is fetched for it.
        let iss = unverified_claims(token)
            .and_then(|c| c.get("iss").and_then(Value::as_str).map(str::to_string));
        if iss.as_deref() != Some(self.issuer.as_str()) {
            return Err(JwtRejection::Invalid(
                "the token does not have a valid issuer",
            ));
        }
        let key = jwks
            .key(&self.issuer, KeyLocation::OpenIdDiscovery, &kid, fetcher)
            .await
            .ok_or(JwtRejection::Invalid(
                "the signing key of the token is unknown",
            ))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[self.issuer.as_str()]);
        validation.validate_aud = false;
        validation.validate_nbf = true;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iss"]);
        let data = jsonwebtoken::decode::<Value>(token, &key, &validation).map_err(|e| {
            JwtRejection::Invalid(match e.kind() {
                ErrorKind::ExpiredSignature => "the token has expired",
                ErrorKind::ImmatureSignature => "the token is not valid yet",
                ErrorKind::InvalidSignature => "crypto/rsa: verification error",
                ErrorKind::InvalidIssuer => "the token does not have a valid issuer",
                _ => "the token is not valid",
            })
        })?;
        let Value::Object(claims) = data.claims else {
            return Err(JwtRejection::Invalid("the token is not valid"));
        };
        let audience_ok = match claims.get("aud") {
            Some(aud) => strings(Some(aud))
                .iter()
                .any(|a| self.audiences.contains(a)),
            None => claims
                .get("client_id")
                .and_then(Value::as_str)
                .is_some_and(|c| self.audiences.iter().any(|a| a == c)),
        };
        if !audience_ok {
            return Err(JwtRejection::Invalid(
                "the token does not have a valid audience",
            ));
        }
        let t = now();
        if claims
            .get("iat")
            .and_then(Value::as_i64)
            .is_some_and(|iat| iat > t)
        {
            return Err(JwtRejection::Invalid("the token was issued in the future"));
        }
        let mut scopes = strings(claims.get("scope"));
        scopes.extend(strings(claims.get("scp")));
        Ok(Verified {
            exp: claims.get("exp").and_then(Value::as_i64).unwrap_or(0),
            nbf: claims.get("nbf").and_then(Value::as_i64),
            claims: Arc::new(
                claims
                    .iter()
                    .map(|(k, v)| (k.clone(), claim_text(v)))
                    .collect(),
            ),
            scopes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use jsonwebtoken::{EncodingKey, Header};
    use std::sync::atomic::{AtomicUsize, Ordering};

    const KEY: &str = include_str!("../../cli/tests/data/cognito-test-key.pem");
    const N: &str = "7HxS1V4asvopooe3zzIP7OwXLs1Z1xAZVHftxHA1QU9ilRnpbGgLFPIMJSz2ej9nLfy-57tCEw8OUD3nuy3elayk8vS3VyF4xFGde4TFhW3hM1iOoPewMavtqka9lJbl8bMvoUESC2lUguaOT-3EbHbSuRfBvlDc7mnEG2SKvYYSid7zsojKydnk9J8Cos2BTmG5l9G7IUhIPPAJVInVDz4aO5RKasFLKZ2hoNJ_3YHPOyuMYtoteNbgbT-Sgky_Qwe0KUF3KBVH5a9-hIzPmCpSrE9lhCe8ptICNWmyhy1s-vgWxEgg1eERgJzLbeSpTCxLS1sUZz-5pV7FxqbU8w";
    const ISSUER: &str = "https://idp.example.com/realm";

    /// Serves the issuer's discovery document and JWKS, counting fetches.
    struct Idp(AtomicUsize);
    impl JwksFetcher for Idp {
        async fn fetch(&self, url: &str) -> Result<Bytes, ()> {
            self.0.fetch_add(1, Ordering::SeqCst);
            let doc = match url {
                "https://idp.example.com/realm/.well-known/openid-configuration" => {
                    serde_json::json!({"jwks_uri": "https://keys.example.com/k"})
                }
                "https://keys.example.com/k" => serde_json::json!({"keys": [
                    {"kty": "RSA", "kid": "k1", "n": N, "e": "AQAB"}]}),
                _ => return Err(()),
            };
            Ok(Bytes::from(doc.to_string()))
        }
    }

    fn token(kid: &str, claims: serde_json::Value) -> String {
        let mut h = Header::new(Algorithm::RS512);
        h.kid = Some(kid.into());
        let key = EncodingKey::from_rsa_pem(KEY.as_bytes()).unwrap();
        jsonwebtoken::encode(&h, &claims, &key).unwrap()
    }

    #[tokio::test]
    async fn discovery_keys_and_the_verified_cache() {
        let a: Authorizer = serde_json::from_value(serde_json::json!({
            "authorizerId": "j1", "name": "j", "authorizerType": "JWT",
            "identitySource": ["$request.header.Authorization"],
            "jwtConfiguration": {"issuer": ISSUER, "audience": ["app"]}}))
        .unwrap();
        let a = JwtAuthorizer::compile(&a).unwrap();
        let (jwks, idp) = (JwksCache::default(), Idp(AtomicUsize::new(0)));
        let good = token(
            "k1",
            serde_json::json!({"iss": ISSUER, "aud": ["x", "app"],
            "exp": now() + 60, "scp": "read write", "n": 1}),
        );
        let v = a.authorize(Some(&good), &[], &jwks, &idp).await.unwrap();
        assert!(v.claims.contains(&("n".to_string(), "1".to_string())));
        assert_eq!(v.scopes, ["read", "write"]);
        assert_eq!(idp.0.load(Ordering::SeqCst), 2, "discovery, then the JWKS");
        let bearer = format!("bearer {good}");
        a.authorize(Some(&bearer), &["write".into()], &jwks, &idp)
            .await
            .unwrap();
        assert_eq!(
            a.authorize(Some(&good), &["admin".into()], &jwks, &idp)
                .await
                .err(),
            Some(JwtRejection::InsufficientScope),
            "scopes are checked on a cached token too"
        );
        // A key id the issuer does not publish: no refetch within REFETCH_AFTER.
        let other = token(
            "k2",
            serde_json::json!({"iss": ISSUER, "aud": "app", "exp": now() + 60}),
        );
        assert!(a.authorize(Some(&other), &[], &jwks, &idp).await.is_err());
        assert_eq!(
            idp.0.load(Ordering::SeqCst),
            2,
            "verified and unknown tokens fetch nothing"
        );
        let foreign = token(
            "k1",
            serde_json::json!({"iss": "https://evil.example", "aud": "app", "exp": now() + 60}),
        );
        assert_eq!(
            a.authorize(Some(&foreign), &[], &jwks, &idp).await.err(),
            Some(JwtRejection::Invalid(
                "the token does not have a valid issuer"
            ))
        );
        assert_eq!(
            a.authorize(None, &[], &jwks, &idp).await.err(),
            Some(JwtRejection::Missing)
        );
        assert_eq!(idp.0.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn claim_text_of_values() {
        let v: Value = serde_json::json!(["admin", "users"]);
        assert_eq!(claim_text(&v), "[admin users]");
        assert_eq!(claim_text(&serde_json::json!(5)), "5");
        assert_eq!(
            JwtRejection::Invalid("x").challenge(&[]).unwrap(),
            r#"Bearer scope="" error="invalid_token" error_description="x""#
        );
        assert_eq!(JwtRejection::Missing.challenge(&[]), None);
    }
}
