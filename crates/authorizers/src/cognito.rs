//! Cognito user-pool authorizers (auth-throttle-cache.md §6.2): the token from the
//! identity-source header is a JWT signed by one of the authorizer's pools (RS256, keys
//! from the pool's JWKS), unexpired, its `iss` the pool's issuer; a method with
//! `authorizationScopes` takes an access token whose `scope` holds one of them, any other
//! method an ID token; `identityValidationExpression` must match `aud`. Its claims become
//! `$context.authorizer.claims.*`.

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

#[derive(Debug)]
pub struct CognitoAuthorizer {
    pub id: Arc<str>,
    header: String,
    pools: Vec<Pool>,
    audience: Option<Regex>,
}

/// Verified tokens' claims, as text (`$context.authorizer.claims.*`).
pub type Claims = Arc<Vec<(String, String)>>;

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
}
