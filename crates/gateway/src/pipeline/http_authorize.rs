//! The HTTP API pipeline's authorization phase (request-pipeline.md §8, step 5): `NONE`
//! passes at no cost; a JWT authorizer checks the identity source's token
//! (auth-throttle-cache.md §6.1); a Lambda REQUEST authorizer runs through the authorizer
//! engine with the stage's result cache and the permission check REST uses (source ARN
//! `{api}/authorizers/{id}`). What it lets through becomes `$context.authorizer` and the
//! events' `requestContext.authorizer`; a refusal is HTTP APIs' fixed 401/403/500 (JWT
//! refusals with AWS's `www-authenticate` challenge). An `AWS_IAM` route takes a SigV4
//! caller (the same callers and checks as REST's, `pipeline/iam_caller.rs`) whose identity
//! policies allow `execute-api:Invoke` on the route ARN; any refusal is a 403.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::{Map, Value};
use tollgate_authorizers::http_identity::{HttpIdentitySource, IdentityValues};
use tollgate_authorizers::http_lambda::{HttpAuthRequest, HttpOutcome};
use tollgate_authorizers::jwt::JwtRejection;
use tollgate_authorizers::ConditionKeys;
use tollgate_model::PayloadFormatVersion;

use super::authorize::{FunctionInvoker, JwksHttp};
use super::iam_caller::{self, Refused};
use super::resource_policy::condition_values;
use crate::access_log::ContextVars;
use crate::compile::http_authorizer::RouteAuthorizer;
use crate::error::HttpApiError;
use crate::http_context::HttpAuthorized;
use crate::integrations::http_api::{
    joined_header, query_pairs, request_v1, request_v2, HttpApiCall,
};
use crate::runtime::HttpStageRuntime;
use crate::Gateway;

/// A refusal: the client's fixed answer, why (`$context.authorizer.error`) and the
/// `www-authenticate` challenge of a JWT refusal.
#[derive(Debug)]
pub struct Refusal {
    pub error: HttpApiError,
    pub reason: &'static str,
    pub challenge: Option<String>,
}

impl Refusal {
    fn plain(error: HttpApiError) -> Refusal {
        Refusal {
            error,
            reason: error.message(),
            challenge: None,
        }
    }
}

/// The route ARN Lambda authorizers' policies are evaluated against:
/// `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}{path}`, the path as
/// requested without the stage.
fn route_arn(region: &str, c: &HttpApiCall<'_>) -> String {
    format!(
        "arn:aws:execute-api:{region}:{}:{}/{}/{}{}",
        tollgate_model::ACCOUNT_ID,
        c.api_id,
        c.stage,
        c.parts.method.as_str(),
        c.routing_path
    )
}

/// Authorizes one request for its route; `None` for `NONE`.
pub async fn check(
    gw: &Gateway,
    stage: &HttpStageRuntime,
    c: &HttpApiCall<'_>,
) -> Result<Option<HttpAuthorized>, Refusal> {
    match &c.route.authorizer {
        RouteAuthorizer::None => Ok(None),
        // Needs the body (the signature covers it): the pipeline calls [`iam`] instead.
        RouteAuthorizer::Iam => Err(Refusal::plain(HttpApiError::Internal)),
        RouteAuthorizer::Unusable => {
            tracing::warn!(
                api = %c.api_id, route = %c.route.key,
                authorization_type = c.route.authorization_type.as_str(),
                "route's authorizer cannot be used; refusing the request"
            );
            Err(Refusal::plain(HttpApiError::Internal))
        }
        RouteAuthorizer::Jwt { authorizer, scopes } => {
            let view = AuthView(c);
            let token = view.identity(authorizer.source());
            match authorizer
                .authorize(token.as_deref(), scopes, &gw.jwks, &JwksHttp)
                .await
            {
                Ok(v) => Ok(Some(HttpAuthorized::Jwt {
                    claims: v.claims.clone(),
                    scopes: (!scopes.is_empty()).then(|| v.scopes.clone()),
                })),
                Err(rejection) => {
                    let challenge = rejection.challenge(scopes);
                    let (error, reason) = match rejection {
                        JwtRejection::Missing => (HttpApiError::Unauthorized, "Unauthorized"),
                        JwtRejection::Invalid(why) => (HttpApiError::Unauthorized, why),
                        JwtRejection::InsufficientScope => {
                            (HttpApiError::Forbidden, "insufficient_scope")
                        }
                    };
                    Err(Refusal {
                        error,
                        reason,
                        challenge,
                    })
                }
            }
        }
        RouteAuthorizer::Lambda(authorizer) => {
            let functions = c
                .functions
                .ok_or_else(|| Refusal::plain(HttpApiError::Internal))?;
            let invoker = FunctionInvoker {
                functions,
                api_id: c.api_id,
                authorizer_id: &authorizer.id,
                trace_id: c.context.trace_header().map(std::borrow::Cow::Owned),
            };
            let cache = stage.authorizer_caches.get(&authorizer.id).map(|c| &**c);
            let arn = route_arn(functions.region(), c);
            match authorizer
                .authorize(&AuthView(c), &arn, cache, &invoker)
                .await
            {
                HttpOutcome::Allow(out) => Ok(Some(HttpAuthorized::Lambda(out))),
                HttpOutcome::Unauthorized => Err(Refusal::plain(HttpApiError::Unauthorized)),
                HttpOutcome::Forbidden => Err(Refusal::plain(HttpApiError::Forbidden)),
                HttpOutcome::ConfigurationError => Err(Refusal::plain(HttpApiError::Internal)),
            }
        }
    }
}

/// The request as the authorizer engine reads it.
struct AuthView<'r, 'a>(&'r HttpApiCall<'a>);

impl IdentityValues for AuthView<'_, '_> {
    fn identity(&self, source: &HttpIdentitySource) -> Option<Cow<'_, str>> {
        let c = self.0;
        match source {
            HttpIdentitySource::Header(n) => joined_header(&c.parts.headers, n),
            HttpIdentitySource::QueryString(n) => {
                let values: Vec<String> = query_pairs(c.parts.uri.query().unwrap_or_default())
                    .filter(|(k, _)| k == n)
                    .map(|(_, v)| v)
                    .collect();
                (!values.is_empty()).then(|| Cow::Owned(values.join(",")))
            }
            HttpIdentitySource::Context(n) => c.context.var(n),
            HttpIdentitySource::StageVariable(n) => {
                c.stage_variables.get(n).map(|v| Cow::Borrowed(v.as_str()))
            }
        }
        .filter(|v| !v.is_empty())
    }
}

impl ConditionKeys for AuthView<'_, '_> {
    fn values(&self, key: &str) -> Vec<String> {
        condition_values(key, self.0.parts, self.0.remote, self.0.tls)
    }
}

impl HttpAuthRequest for AuthView<'_, '_> {
    fn stage_variables(&self) -> &BTreeMap<String, String> {
        self.0.stage_variables
    }

    fn event_members(&self, version: PayloadFormatVersion) -> Map<String, Value> {
        let mut m = match version {
            PayloadFormatVersion::V2 => request_v2(self.0),
            PayloadFormatVersion::V1 => request_v1(self.0),
        };
        // The authorizer's event names its own version first.
        m.remove("version");
        m
    }
}

/// `AWS_IAM` on an HTTP API route: the SigV4 caller (reading `body`, which is kept for the
/// integration), then its identity policies for `execute-api:Invoke` on the route ARN. A
/// missing, wrong or expired signature and a policy that does not allow the route are all
/// HTTP APIs' fixed 403 (`{"message":"Forbidden"}`).
pub async fn iam(
    gw: &Gateway,
    c: &HttpApiCall<'_>,
    body: &mut Option<crate::invocation::RequestBody>,
) -> Result<HttpAuthorized, Refusal> {
    let caller = match iam_caller::caller(gw, c.parts, body).await {
        Ok(caller) => caller,
        Err(Refused::Iam(r)) => {
            tracing::debug!(api = %c.api_id, rejection = ?r, "IAM caller refused");
            return Err(Refusal::plain(HttpApiError::Forbidden));
        }
        Err(Refused::Body(e)) => {
            let error = if e.kind == tollgate_model::GatewayResponseType::RequestTooLarge {
                HttpApiError::TooLarge
            } else {
                HttpApiError::Internal
            };
            return Err(Refusal::plain(error));
        }
    };
    let region = gw
        .functions
        .as_deref()
        .map_or("us-east-1", tollgate_functions::Functions::region);
    let arn = route_arn(region, c);
    match caller.decide("execute-api:Invoke", &arn, &IamKeys(c, &caller)) {
        tollgate_authorizers::Decision::Allow => Ok(HttpAuthorized::Iam(caller)),
        _ => Err(Refusal::plain(HttpApiError::Forbidden)),
    }
}

/// The condition keys of an IAM caller's request: the request's, the caller's and the time
/// (as REST's `resource_policy::Conditions` has them).
struct IamKeys<'r, 'a>(&'r HttpApiCall<'a>, &'r crate::iam::CallerIdentity);

impl ConditionKeys for IamKeys<'_, '_> {
    fn values(&self, key: &str) -> Vec<String> {
        let (c, caller) = (self.0, self.1);
        let epoch_secs = c.time_epoch_ms.div_euclid(1000);
        match key {
            "aws:currenttime" => vec![tollgate_model::time::iso8601(epoch_secs)],
            "aws:epochtime" => vec![epoch_secs.to_string()],
            "aws:principalaccount" => vec![caller.account.clone()],
            "aws:principalarn" => vec![caller.arn.clone()],
            "aws:userid" => vec![caller.user_id.clone()],
            _ => condition_values(key, c.parts, c.remote, c.tls),
        }
    }
}
