//! CreateAuthorizer, GetAuthorizers, GetAuthorizer, UpdateAuthorizer, DeleteAuthorizer,
//! ResetAuthorizersCache. Stored and deployed with the API; the data plane does not run
//! them yet (a route that uses one answers 500).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use tollgate_model::v2::{Authorizer, JwtConfiguration};
use tollgate_model::{ids, PayloadFormatVersion, V2AuthorizerType};

use super::shared::{
    api, api_mut, auto_deploy, def_mut, find, fresh_id, get_item, list_items, update_item,
    Collection,
};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::util::{empty, json, parse_body, Query as Q};

#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizerInput {
    name: Option<String>,
    authorizer_type: Option<String>,
    identity_source: Option<Vec<String>>,
    authorizer_credentials_arn: Option<String>,
    authorizer_payload_format_version: Option<String>,
    authorizer_result_ttl_in_seconds: Option<i64>,
    authorizer_uri: Option<String>,
    enable_simple_responses: Option<bool>,
    identity_validation_expression: Option<String>,
    jwt_configuration: Option<JwtConfiguration>,
}

static COLLECTION: Collection<Authorizer> = Collection {
    what: "Authorizer",
    of: |d| &d.authorizers,
    of_mut: |d| &mut d.authorizers,
};

type AuthorizerPath = Path<(String, String)>;

/// AWS's limit of authorizers per API.
pub(super) const MAX_AUTHORIZERS: usize = 10;

impl AuthorizerInput {
    /// Applies the members this body names to `a`, then checks it as a whole.
    fn apply(self, a: &mut Authorizer, websocket: bool) -> ApiResult<()> {
        if let Some(n) = self.name {
            a.name = n;
        }
        if let Some(t) = self.authorizer_type.as_deref() {
            a.authorizer_type = t.parse().map_err(|_| {
                ApiError::bad_request(format!(
                    "Invalid authorizer type specified: {t}. Must be one of [REQUEST, JWT]"
                ))
            })?;
        }
        if let Some(s) = self.identity_source {
            a.identity_source = s;
        }
        if let Some(v) = self.authorizer_payload_format_version.as_deref() {
            a.authorizer_payload_format_version =
                Some(v.parse::<PayloadFormatVersion>().map_err(|_| {
                    ApiError::bad_request(format!(
                        "Invalid authorizer payload format version specified: {v}. Must be one of [1.0, 2.0]"
                    ))
                })?);
        }
        let strings = [
            (
                self.authorizer_credentials_arn,
                &mut a.authorizer_credentials_arn,
            ),
            (self.authorizer_uri, &mut a.authorizer_uri),
            (
                self.identity_validation_expression,
                &mut a.identity_validation_expression,
            ),
        ];
        for (given, field) in strings {
            if given.is_some() {
                *field = given;
            }
        }
        if self.authorizer_result_ttl_in_seconds.is_some() {
            a.authorizer_result_ttl_in_seconds = self.authorizer_result_ttl_in_seconds;
        }
        if self.enable_simple_responses.is_some() {
            a.enable_simple_responses = self.enable_simple_responses;
        }
        if self.jwt_configuration.is_some() {
            a.jwt_configuration = self.jwt_configuration;
        }
        if websocket {
            check_websocket(a)
        } else {
            check(a)
        }
    }
}

/// What makes a WebSocket API authorizer valid: a Lambda REQUEST authorizer (no JWT, no
/// payload versions, simple responses or caching) whose identity sources are
/// `route.request.header.X`, `route.request.querystring.X`, `stageVariables.X` or
/// `context.X` (control-plane-v2.md §3.4).
fn check_websocket(a: &Authorizer) -> ApiResult<()> {
    if a.name.is_empty() || a.name.chars().count() > 128 {
        return Err(ApiError::bad_request(
            "Name must be between 1 and 128 characters long",
        ));
    }
    if a.authorizer_type != V2AuthorizerType::Request {
        return Err(ApiError::bad_request(
            "WebSocket APIs support only REQUEST authorizers",
        ));
    }
    if a.authorizer_uri.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::bad_request(
            "REQUEST authorizers need an authorizerUri",
        ));
    }
    let http_only = a.authorizer_payload_format_version.is_some()
        || a.enable_simple_responses.is_some()
        || a.authorizer_result_ttl_in_seconds.is_some()
        || a.jwt_configuration.is_some();
    if http_only {
        return Err(ApiError::bad_request(
            "authorizerPayloadFormatVersion, enableSimpleResponses, authorizerResultTtlInSeconds and jwtConfiguration are supported only for HTTP APIs",
        ));
    }
    for s in &a.identity_source {
        let named = [
            "route.request.header.",
            "route.request.querystring.",
            "stageVariables.",
            "context.",
        ]
        .iter()
        .any(|p| s.strip_prefix(p).is_some_and(|n| !n.is_empty()));
        if !named {
            return Err(ApiError::bad_request(format!(
                "Invalid identity source specified: {s}. Use route.request.header.X, route.request.querystring.X, stageVariables.X or context.X"
            )));
        }
    }
    Ok(())
}

/// What makes an HTTP API authorizer valid (control-plane-v2.md §3.4).
pub(crate) fn check(a: &Authorizer) -> ApiResult<()> {
    if a.name.is_empty() || a.name.chars().count() > 128 {
        return Err(ApiError::bad_request(
            "Name must be between 1 and 128 characters long",
        ));
    }
    if a.authorizer_result_ttl_in_seconds
        .is_some_and(|t| !(0..=3600).contains(&t))
    {
        return Err(ApiError::bad_request(
            "authorizerResultTtlInSeconds must be between 0 and 3600",
        ));
    }
    for s in &a.identity_source {
        let named = [
            "$request.header.",
            "$request.querystring.",
            "$context.",
            "$stageVariables.",
        ]
        .iter()
        .any(|p| s.strip_prefix(p).is_some_and(|n| !n.is_empty()));
        if !named {
            return Err(ApiError::bad_request(format!(
                "Invalid identity source specified: {s}. Use $request.header.X, $request.querystring.X, $context.X or $stageVariables.X"
            )));
        }
    }
    match a.authorizer_type {
        V2AuthorizerType::Jwt => {
            let issuer = a
                .jwt_configuration
                .as_ref()
                .and_then(|j| j.issuer.as_deref());
            let audience = a.jwt_configuration.as_ref().map_or(0, |j| j.audience.len());
            if issuer.is_none_or(str::is_empty) || !(1..=50).contains(&audience) {
                return Err(ApiError::bad_request(
                    "JWT authorizers need a jwtConfiguration with an issuer and 1 to 50 audiences",
                ));
            }
            // The issuer is where its keys are found: an https URL with a host, or http on
            // a loopback address (a local identity provider).
            let issuer = issuer.unwrap_or_default();
            if !tollgate_model::v2::key_url_allowed(issuer) {
                return Err(ApiError::bad_request(format!(
                    "Invalid issuer specified: {issuer}. The issuer must be an https URL (http:// only on a loopback address)"
                )));
            }
            if a.identity_source.len() != 1 {
                return Err(ApiError::bad_request(
                    "JWT authorizers take exactly one identity source",
                ));
            }
            if a.authorizer_uri.is_some() || a.enable_simple_responses.is_some() {
                return Err(ApiError::bad_request(
                    "authorizerUri and enableSimpleResponses apply only to REQUEST authorizers",
                ));
            }
        }
        V2AuthorizerType::Request => {
            if a.authorizer_uri.as_deref().is_none_or(str::is_empty) {
                return Err(ApiError::bad_request(
                    "REQUEST authorizers need an authorizerUri",
                ));
            }
            let version = a.authorizer_payload_format_version.ok_or_else(|| {
                ApiError::bad_request(
                    "authorizerPayloadFormatVersion is required for REQUEST authorizers of HTTP APIs",
                )
            })?;
            if a.enable_simple_responses == Some(true) && version != PayloadFormatVersion::V2 {
                return Err(ApiError::bad_request(
                    "enableSimpleResponses requires authorizerPayloadFormatVersion 2.0",
                ));
            }
            if a.jwt_configuration.is_some() {
                return Err(ApiError::bad_request(
                    "jwtConfiguration applies only to JWT authorizers",
                ));
            }
        }
    }
    Ok(())
}

pub async fn create(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: AuthorizerInput = parse_body(&body)?;
    let (Some(_), Some(t), Some(_)) = (&input.name, &input.authorizer_type, &input.identity_source)
    else {
        return Err(ApiError::bad_request(
            "Name, AuthorizerType and IdentitySource are required",
        ));
    };
    let authorizer_type: V2AuthorizerType = t.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "Invalid authorizer type specified: {t}. Must be one of [REQUEST, JWT]"
        ))
    })?;
    let out = ctx
        .store
        .transact(|s| {
            let a = api_mut(s, &api_id)?;
            if a.definition.authorizers.len() >= MAX_AUTHORIZERS {
                return Err(ApiError::bad_request(format!(
                    "An API may have at most {MAX_AUTHORIZERS} authorizers"
                )));
            }
            let mut authorizer = Authorizer {
                authorizer_id: fresh_id(&a.definition.authorizers, ids::short_id),
                name: String::new(),
                authorizer_type,
                identity_source: vec![],
                authorizer_credentials_arn: None,
                authorizer_payload_format_version: None,
                authorizer_result_ttl_in_seconds: None,
                authorizer_uri: None,
                enable_simple_responses: None,
                identity_validation_expression: None,
                jwt_configuration: None,
            };
            let websocket = a.definition.is_websocket();
            input.clone().apply(&mut authorizer, websocket)?;
            def_mut(a)
                .authorizers
                .insert(authorizer.authorizer_id.clone(), authorizer.clone());
            auto_deploy(a);
            Ok::<_, ApiError>(authorizer)
        })
        .await?;
    Ok(json(201, &out))
}

pub async fn list(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    list_items(&ctx, &api_id, &q, &COLLECTION)
}

pub async fn get(
    State(ctx): State<Ctx>,
    Path((api_id, id)): AuthorizerPath,
) -> ApiResult<Response> {
    get_item(&ctx, &api_id, &id, &COLLECTION)
}

pub async fn update(
    State(ctx): State<Ctx>,
    Path((api_id, id)): AuthorizerPath,
    body: Bytes,
) -> ApiResult<Response> {
    let input: AuthorizerInput = parse_body(&body)?;
    update_item(&ctx, &api_id, &id, &COLLECTION, |a, def| {
        input.clone().apply(a, def.is_websocket())
    })
    .await
}

pub async fn delete(
    State(ctx): State<Ctx>,
    Path((api_id, id)): AuthorizerPath,
) -> ApiResult<Response> {
    ctx.store
        .transact(|s| {
            let a = api_mut(s, &api_id)?;
            find(&a.definition.authorizers, "Authorizer", &id)?;
            let used_by = a
                .definition
                .routes
                .values()
                .find(|r| r.authorizer_id.as_deref() == Some(id.as_str()));
            if let Some(r) = used_by {
                return Err(ApiError::conflict(format!(
                    "Authorizer {id} is in use by route {} ({})",
                    r.route_id, r.route_key
                )));
            }
            def_mut(a).authorizers.remove(&id);
            auto_deploy(a);
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(204))
}

/// ResetAuthorizersCache: the data plane empties the stage's Lambda authorizer result
/// caches.
pub async fn reset_cache(
    State(ctx): State<Ctx>,
    Path((api_id, stage)): Path<(String, String)>,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    find(&api(&st, &api_id)?.stages, "Stage", &stage)?;
    if let Some(t) = &ctx.test_invoker {
        t.flush_authorizer_cache(&api_id, &stage).await;
    }
    Ok(empty(204))
}
