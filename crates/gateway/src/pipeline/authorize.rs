//! Authorization phase: `NONE` passes at no cost; a Lambda authorizer (TOKEN, REQUEST) runs
//! through the authorizer engine (`tollgate-authorizers`) with this stage's result cache,
//! and its outcome becomes a gateway response (lambda-events.md §5.4) or
//! `$context.authorizer`; a Cognito authorizer checks the token; `AWS_IAM` checks the
//! SigV4 signature and the caller's identity policies (`crate::iam`, §7.1) and fills
//! `$context.identity`. An authorizer that does not compile fails closed with AWS's
//! authorizer configuration error.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Map, Value};
use tollgate_authorizers::{
    Claims, CognitoAuthorizer, ConditionKeys, Invoked, Invoker, JwksFetcher, LambdaAuthorizer,
    MethodArn, Outcome, Rejection, RequestView, ResultCache,
};
use tollgate_functions::{Functions, InvokeRequest, ServicePermission};
use tollgate_model::lambda::FunctionRef;
use tollgate_model::GatewayResponseType as T;

use super::method_request::{parse_query, Params, Routed};
use super::{iam_caller, resource_policy};
use crate::body::GatewayBody;
use crate::compile::MethodAuthorizer;
use crate::context::AuthorizerContext;
use crate::error::GatewayError;
use crate::iam::CallerIdentity;
use crate::integrations::http::HttpClient;
use crate::integrations::lambda::request_members;
use crate::invocation::{Invocation, RequestBody};
use crate::pipeline::integration_request::BackendRequest;
use crate::Gateway;

/// The region in ARNs when no function engine names one.
const DEFAULT_REGION: &str = "us-east-1";

/// How long an authorizer function may take before the request is refused (500).
const AUTHORIZER_TIMEOUT: Duration = Duration::from_secs(30);

fn configuration_error() -> GatewayError {
    GatewayError::new(T::AuthorizerConfigurationError, "null")
        .with_default_body("{\"message\": null}")
}

/// The method ARN policies are evaluated against:
/// `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path}`, the path as
/// requested (root: `.../GET/`), formatted when first read.
pub fn method_arn<'r>(region: &'r str, inv: &'r Invocation<'_>) -> MethodArn<'r> {
    MethodArn::new(
        region,
        &inv.ctx.api_id,
        &inv.ctx.stage,
        inv.parts.method.as_str(),
        inv.routing_path,
    )
}

/// The region of method ARNs.
pub fn region(gw: &Gateway) -> &str {
    gw.functions
        .as_deref()
        .map_or(DEFAULT_REGION, Functions::region)
}

/// What the Authorize phase lets through.
#[derive(Default)]
pub struct Authorized {
    /// The authorizer's principal and context (`$context.authorizer`).
    pub authorizer: Option<Box<AuthorizerContext>>,
    /// The IAM caller of an `AWS_IAM` method (`$context.identity`).
    pub iam: Option<Arc<CallerIdentity>>,
}

/// Whether the phase has anything to do: an authorizer or a resource policy, outside
/// TestInvokeMethod (which skips authorization, as AWS does).
pub fn needed(inv: &Invocation<'_>, routed: &Routed) -> bool {
    let none = inv.deployment.resource_policy.is_none()
        && matches!(routed.method.authorizer, MethodAuthorizer::None);
    !none && inv.limits.is_some()
}

/// Authorizes one request (auth-throttle-cache.md §9): the resource policy's deny, the
/// method's authorizer, then the resource policy combined with it. Answers what the
/// authorizer let through; nothing for `NONE` (at no cost without a resource policy) and
/// for TestInvokeMethod (which skips authorization, as AWS does).
pub async fn check(
    gw: &Gateway,
    inv: &Invocation<'_>,
    routed: &Routed,
    query: &mut Vec<(String, String)>,
    body: &mut Option<RequestBody>,
) -> Result<Authorized, GatewayError> {
    if !needed(inv, routed) {
        return Ok(Authorized::default());
    }
    let policy = inv.deployment.resource_policy.as_ref();
    let authorizer = &routed.method.authorizer;
    let method_arn = method_arn(region(gw), inv);
    if let MethodAuthorizer::Iam = authorizer {
        let arn = method_arn.as_str();
        // The caller must be known before the policy's principals can be matched.
        let caller = iam_caller::authenticate(gw, inv, body).await?;
        let resource = policy
            .map(|p| resource_policy::phase_one(p, arn, inv, Some(&caller)))
            .transpose()?;
        let keys = resource_policy::Conditions(inv, Some(&caller));
        let identity = caller.decide("execute-api:Invoke", arn, &keys);
        resource_policy::combine_iam(identity, resource, &caller, arn)?;
        return Ok(Authorized {
            authorizer: None,
            iam: Some(caller),
        });
    }
    let decision = policy
        .map(|p| resource_policy::phase_one(p, method_arn.as_str(), inv, None))
        .transpose()?;
    let out = run_authorizer(gw, inv, routed, query, &method_arn).await?;
    if let Some(d) = decision {
        resource_policy::phase_two(d, authorizer, method_arn.as_str())?;
    }
    Ok(Authorized {
        authorizer: out,
        iam: None,
    })
}

/// The method's authorizer for one request.
async fn run_authorizer(
    gw: &Gateway,
    inv: &Invocation<'_>,
    routed: &Routed,
    query: &mut Vec<(String, String)>,
    arn: &MethodArn<'_>,
) -> Result<Option<Box<AuthorizerContext>>, GatewayError> {
    let functions = gw.functions.as_deref();
    let authorizer = match &routed.method.authorizer {
        MethodAuthorizer::None | MethodAuthorizer::Iam => return Ok(None),
        MethodAuthorizer::Cognito { authorizer, scopes } => {
            let token = cognito_token(inv, authorizer);
            let endpoint = gw.cognito_endpoint.as_deref();
            let verified = authorizer
                .authorize(token, scopes, endpoint, &gw.jwks, &JwksHttp)
                .await;
            return cognito_allowed(verified);
        }
        MethodAuthorizer::Unusable => {
            tracing::warn!(
                api = %inv.ctx.api_id,
                authorization_type = routed.method.authorization_type.as_str(),
                "method's authorizer cannot be used; refusing the request"
            );
            return Err(configuration_error());
        }
        MethodAuthorizer::Lambda(a) => a,
    };
    let functions = functions.ok_or_else(configuration_error)?;
    if query.is_empty() {
        *query = parse_query(inv.parts.uri.query());
    }
    let cache = stage_cache(inv, authorizer);
    let req = AuthRequest {
        inv,
        resource_path: &routed.route.resource_path,
        path_params: &routed.path_params,
        query,
    };
    allowed(run(functions, authorizer, &req, arn, cache).await)
}

/// The Authorize phase without awaiting, when it can be: a Lambda authorizer whose decision
/// this thread already holds, or a Cognito token already verified, on an API without a
/// resource policy. Tried before [`check`],
/// whose future is kilobytes and is boxed (an allocation and a copy per request). `None`:
/// run [`check`].
pub fn from_front(
    gw: &Gateway,
    inv: &Invocation<'_>,
    routed: &Routed,
    query: &mut Vec<(String, String)>,
) -> Option<Result<Authorized, GatewayError>> {
    if inv.deployment.resource_policy.is_some() || !needed(inv, routed) {
        return None;
    }
    let authorizer = match &routed.method.authorizer {
        MethodAuthorizer::Lambda(a) => a,
        MethodAuthorizer::Cognito { authorizer, scopes } => {
            let token = cognito_token(inv, authorizer);
            let endpoint = gw.cognito_endpoint.as_deref();
            let known = authorizer.authorize_verified(token, scopes, endpoint)?;
            return Some(cognito_allowed(known).map(|authorizer| Authorized {
                authorizer,
                iam: None,
            }));
        }
        _ => return None,
    };
    let cache = stage_cache(inv, authorizer)?;
    if query.is_empty() {
        *query = parse_query(inv.parts.uri.query());
    }
    let arn = method_arn(region(gw), inv);
    let req = AuthRequest {
        inv,
        resource_path: &routed.route.resource_path,
        path_params: &routed.path_params,
        query,
    };
    let outcome = authorizer.front_decision(&req, &arn, Some(cache))?;
    Some(allowed(outcome).map(|authorizer| Authorized {
        authorizer,
        iam: None,
    }))
}

/// The token a Cognito authorizer reads: its header's value.
fn cognito_token<'i>(inv: &'i Invocation<'_>, authorizer: &CognitoAuthorizer) -> Option<&'i str> {
    inv.parts
        .headers
        .get(authorizer.header())
        .and_then(|v| v.to_str().ok())
}

/// What a Cognito authorizer's answer lets through, or the gateway's answer.
fn cognito_allowed(
    verified: Result<Claims, Rejection>,
) -> Result<Option<Box<AuthorizerContext>>, GatewayError> {
    match verified {
        Ok(claims) => Ok(Some(Box::new(AuthorizerContext {
            claims: Some(claims),
            ..Default::default()
        }))),
        Err(Rejection::Expired) => Err(GatewayError::new(
            T::Unauthorized,
            "The incoming token has expired",
        )),
        Err(Rejection::Unauthorized) => Err(GatewayError::new(T::Unauthorized, "Unauthorized")),
    }
}

/// The stage's (or its canary's) result cache of `authorizer`.
fn stage_cache<'i>(
    inv: &'i Invocation<'_>,
    authorizer: &LambdaAuthorizer,
) -> Option<&'i ResultCache> {
    inv.limits
        .and_then(|l| match inv.ctx.is_canary {
            Some(true) => l.canary_authorizer_caches.get(&*authorizer.id),
            _ => l.authorizer_caches.get(&*authorizer.id),
        })
        .map(|c| &**c)
}

/// What a Lambda authorizer's outcome lets through, or the gateway's answer.
fn allowed(outcome: Outcome) -> Result<Option<Box<AuthorizerContext>>, GatewayError> {
    match outcome {
        Outcome::Allow(out) => Ok(Some(Box::new(AuthorizerContext {
            lambda: Some(out),
            claims: None,
        }))),
        Outcome::Unauthorized => Err(GatewayError::new(T::Unauthorized, "Unauthorized")),
        Outcome::Denied { explicit: true, .. } => Err(GatewayError::new(
            T::AccessDenied,
            "User is not authorized to access this resource with an explicit deny",
        )
        .with_default_body(
            "{\"Message\":\"User is not authorized to access this resource with an explicit deny\"}",
        )),
        Outcome::Denied { explicit: false, .. } => Err(GatewayError::new(
            T::AccessDenied,
            "User is not authorized to access this resource",
        )
        .with_default_body("{\"Message\":\"User is not authorized to access this resource\"}")),
        Outcome::ConfigurationError => Err(configuration_error()),
    }
}

/// Runs `authorizer` for one request through the function engine.
pub(crate) async fn run(
    functions: &Functions,
    authorizer: &LambdaAuthorizer,
    req: &AuthRequest<'_, '_>,
    method_arn: &MethodArn<'_>,
    cache: Option<&ResultCache>,
) -> Outcome {
    let invoker = FunctionInvoker {
        functions,
        api_id: &req.inv.ctx.api_id,
        authorizer_id: &authorizer.id,
        trace_id: Some(Cow::Borrowed(&req.inv.ctx.trace_id)),
    };
    authorizer.authorize(req, method_arn, cache, &invoker).await
}

/// The request as the authorizer engine reads it.
pub(crate) struct AuthRequest<'r, 'a> {
    pub inv: &'r Invocation<'a>,
    /// The matched resource's path template (the events' `resource`).
    pub resource_path: &'r str,
    pub path_params: &'r [(std::sync::Arc<str>, String)],
    pub query: &'r [(String, String)],
}

impl ConditionKeys for AuthRequest<'_, '_> {
    fn values(&self, key: &str) -> Vec<String> {
        resource_policy::Conditions(self.inv, None).values(key)
    }
}

impl RequestView for AuthRequest<'_, '_> {
    fn header(&self, name: &str) -> Option<Cow<'_, str>> {
        header_value(&self.inv.parts.headers, name)
    }

    fn query(&self, name: &str) -> Option<Cow<'_, str>> {
        last_query_value(self.query, name)
    }

    fn stage_variables(&self) -> &BTreeMap<String, String> {
        self.inv.stage_variables
    }

    fn context(&self, name: &str) -> Option<Cow<'_, str>> {
        self.inv.ctx.var(name)
    }

    fn request_members(&self) -> Map<String, Value> {
        let params = Params {
            path: self.path_params,
            query: self.query,
            headers: &self.inv.parts.headers,
        };
        request_members(self.inv, self.resource_path, &params)
    }
}

/// A header's value as an authorizer reads it.
pub(crate) fn header_value<'h>(h: &'h http::HeaderMap, name: &str) -> Option<Cow<'h, str>> {
    h.get(name).and_then(|v| v.to_str().ok()).map(Cow::Borrowed)
}

/// A query parameter's last value, as an authorizer reads it.
pub(crate) fn last_query_value<'q>(q: &'q [(String, String)], name: &str) -> Option<Cow<'q, str>> {
    q.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| Cow::Borrowed(v.as_str()))
}

/// Calls authorizer functions through the function engine, with API Gateway's permission
/// check: the function's policy must let `apigateway.amazonaws.com` invoke it for
/// `arn:aws:execute-api:{region}:{account}:{api}/authorizers/{id}`.
pub(crate) struct FunctionInvoker<'r> {
    pub functions: &'r Functions,
    pub api_id: &'r str,
    pub authorizer_id: &'r str,
    /// The request's `X-Amzn-Trace-Id`, for the function's invocation.
    pub trace_id: Option<Cow<'r, str>>,
}

impl Invoker for FunctionInvoker<'_> {
    async fn invoke(&self, function: &FunctionRef, payload: Vec<u8>) -> Result<Invoked, ()> {
        let source_arn = format!(
            "arn:aws:execute-api:{}:{}:{}/authorizers/{}",
            self.functions.region(),
            tollgate_model::ACCOUNT_ID,
            self.api_id,
            self.authorizer_id
        );
        let qualifier = function.qualifier.as_deref();
        if let ServicePermission::Denied { enforced } = self.functions.service_permission(
            &function.name,
            qualifier,
            "apigateway.amazonaws.com",
            &source_arn,
        ) {
            tracing::warn!(
                api = %self.api_id, authorizer = %self.authorizer_id, function = %function.name,
                source_arn = %source_arn,
                "Execution failed due to configuration error: Invalid permissions on Lambda function"
            );
            if enforced {
                return Err(());
            }
        }
        let call = self.functions.invoke(
            &function.name,
            qualifier,
            InvokeRequest {
                payload: Bytes::from(payload),
                log_tail: false,
                client_context: None,
                trace_id: self.trace_id.as_deref().map(str::to_string),
            },
        );
        match tokio::time::timeout(AUTHORIZER_TIMEOUT, call).await {
            Ok(Ok(out)) => Ok(Invoked {
                payload: out.payload,
                function_error: out.function_error,
            }),
            Ok(Err(e)) => {
                tracing::info!(api = %self.api_id, function = %function.name, error = %e, "authorizer invocation failed");
                Err(())
            }
            Err(_) => {
                tracing::info!(api = %self.api_id, function = %function.name, "authorizer timed out");
                Err(())
            }
        }
    }
}

/// How long a JWKS fetch may take (auth-throttle-cache.md §6.1).
const JWKS_TIMEOUT: Duration = Duration::from_millis(1500);

/// Fetches JWKS and OIDC discovery documents with this thread's HTTP client.
pub(crate) struct JwksHttp;

impl JwksFetcher for JwksHttp {
    async fn fetch(&self, url: &str) -> Result<Bytes, ()> {
        let uri = url.parse().map_err(|_| ())?;
        let req = BackendRequest {
            method: http::Method::GET,
            uri,
            headers: http::HeaderMap::new(),
            body: GatewayBody::empty(),
        };
        // Read no more than a key document may hold.
        let limit = tollgate_authorizers::jwks::MAX_JWKS + 1;
        match HttpClient::current()
            .send_buffered(req, JWKS_TIMEOUT, limit)
            .await
        {
            Ok(out) if out.status == 200 => Ok(out.body),
            Ok(out) => {
                tracing::info!(url, status = out.status, "JWKS fetch refused");
                Err(())
            }
            Err(e) => {
                tracing::info!(url, error = %e.message, "JWKS fetch failed");
                Err(())
            }
        }
    }
}
