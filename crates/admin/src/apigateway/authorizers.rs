//! CreateAuthorizer, GetAuthorizers, GetAuthorizer, UpdateAuthorizer, DeleteAuthorizer.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use tollgate_model::authorizer::{
    effective_ttl, function_of_invocation_uri, identity_sources, user_pool_id, MAX_RESULT_TTL,
};
use tollgate_model::test_invoke::TestInvokeAuthorizerRequest;
use tollgate_model::{ids, Authorizer, AuthorizerType};

use super::shared::{api, api_mut, def_mut, method_request_using, required_name};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult, Violation};
use crate::core::pagination::page_map;
use crate::core::patch::{patch_i64, PatchBody};
use crate::core::patch_table::{Change, NoMatch, PatchRule, PatchTable};
use crate::core::util::{empty, json, parse_body, Query as Q};

/// `/restapis/{api}/authorizers/{id}`
type AuthorizerPath = Path<(String, String)>;

/// Authorizers per API (control-plane-v1.md, limits).
pub(super) const MAX_AUTHORIZERS: usize = 10;

fn no_authorizer() -> ApiError {
    ApiError::not_found("Invalid Authorizer identifier specified")
}

/// `type`, with the model's enum message for an unknown value.
fn authorizer_type(v: &str, member: &str) -> ApiResult<AuthorizerType> {
    v.parse()
        .map_err(|_| Violation::enum_value(v, member, "TOKEN, REQUEST, COGNITO_USER_POOLS").into())
}

/// The rules an authorizer must satisfy as a whole, checked after a create and after every
/// patch (a patch may change the type and leave members the new type needs unset).
pub(crate) fn check(a: &Authorizer) -> ApiResult<()> {
    if let Some(ttl) = a.authorizer_result_ttl_in_seconds {
        if !(0..=MAX_RESULT_TTL).contains(&ttl) {
            return Err(ApiError::bad_request(format!(
                "Invalid value for authorizerResultTtlInSeconds: {ttl}. Must be between 0 and {MAX_RESULT_TTL}"
            )));
        }
    }
    let sources = identity_sources(a.authorizer_type, a.identity_source.as_deref())
        .map_err(ApiError::bad_request)?;
    match a.authorizer_type {
        AuthorizerType::Token | AuthorizerType::Request => {
            let uri = a.authorizer_uri.as_deref().unwrap_or_default();
            if uri.is_empty() {
                return Err(ApiError::bad_request(
                    "Authorizer URI must be specified for TOKEN and REQUEST authorizers",
                ));
            }
            if function_of_invocation_uri(uri).is_none() {
                return Err(ApiError::bad_request(format!(
                    "Invalid Authorizer URI: {uri}. Must be a Lambda function invocation URI of the form arn:aws:apigateway:{{region}}:lambda:path/2015-03-31/functions/{{functionArn}}/invocations"
                )));
            }
            if a.authorizer_type == AuthorizerType::Request
                && sources.is_empty()
                && effective_ttl(a.authorizer_result_ttl_in_seconds) > 0
            {
                return Err(ApiError::bad_request(
                    "Identity source must be set if authorizer caching is enabled (TTL is greater than 0)",
                ));
            }
        }
        AuthorizerType::CognitoUserPools => {
            let arns = a.provider_arns.as_deref().unwrap_or_default();
            if arns.is_empty() {
                return Err(ApiError::bad_request(
                    "ProviderARNs must be specified for COGNITO_USER_POOLS authorizers",
                ));
            }
            if let Some(bad) = arns.iter().find(|a| user_pool_id(a).is_none()) {
                return Err(ApiError::bad_request(format!(
                    "Invalid provider ARN specified: {bad}"
                )));
            }
        }
    }
    Ok(())
}

/// The authType AWS fills in when none is given.
pub(crate) fn default_auth_type(t: AuthorizerType) -> &'static str {
    match t {
        AuthorizerType::CognitoUserPools => "cognito_user_pools",
        _ => "custom",
    }
}

#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateAuthorizerInput {
    name: Option<String>,
    #[serde(rename = "type")]
    authorizer_type: Option<String>,
    #[serde(rename = "providerARNs")]
    provider_arns: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    auth_type: Option<String>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    authorizer_uri: Option<String>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    authorizer_credentials: Option<String>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    identity_source: Option<String>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    identity_validation_expression: Option<String>,
    authorizer_result_ttl_in_seconds: Option<i64>,
}

/// The new authorizer (without its id) from a create body, checked.
fn from_input(input: CreateAuthorizerInput) -> ApiResult<Authorizer> {
    let name = required_name(input.name.as_deref())?;
    let t = authorizer_type(
        input
            .authorizer_type
            .as_deref()
            .ok_or_else(|| ApiError::bad_request("Invalid request input: type is required"))?,
        "createAuthorizerInput.type",
    )?;
    let a = Authorizer {
        id: String::new(),
        name,
        authorizer_type: t,
        auth_type: Some(
            input
                .auth_type
                .unwrap_or_else(|| default_auth_type(t).to_string()),
        ),
        authorizer_uri: input.authorizer_uri,
        authorizer_credentials: input.authorizer_credentials,
        identity_source: input.identity_source,
        identity_validation_expression: input.identity_validation_expression,
        authorizer_result_ttl_in_seconds: input.authorizer_result_ttl_in_seconds,
        provider_arns: input.provider_arns.filter(|a| !a.is_empty()),
    };
    check(&a)?;
    Ok(a)
}

pub async fn create(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: CreateAuthorizerInput = parse_body(&body)?;
    let new = from_input(input)?;
    let out = ctx
        .store
        .transact(|s| {
            // Recorded: AWS answers a create under an unknown API with this conflict.
            let a = s.apis.get(&api_id).ok_or_else(|| {
                ApiError::conflict(
                    "Unable to complete operation due to concurrent modification. Please try again later.",
                )
            })?;
            if a.definition.authorizers.len() >= MAX_AUTHORIZERS {
                return Err(ApiError::limit_exceeded(format!(
                    "Maximum number of Authorizers for this API has been reached: {MAX_AUTHORIZERS}"
                )));
            }
            let def = def_mut(api_mut(s, &api_id)?);
            let mut a = new.clone();
            a.id = ids::unique(ids::short_id, |id| def.authorizers.contains_key(id));
            def.authorizers.insert(a.id.clone(), a.clone());
            Ok::<_, ApiError>(a)
        })
        .await?;
    Ok(json(201, &out))
}

pub async fn list(
    State(ctx): State<Ctx>,
    Path(api_id): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    page_map(&api(&st, &api_id)?.definition.authorizers, &q)
}

pub async fn get(
    State(ctx): State<Ctx>,
    Path((api_id, id)): AuthorizerPath,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    let a = st
        .apis
        .get(&api_id)
        .and_then(|a| a.definition.authorizers.get(&id))
        .ok_or_else(no_authorizer)?;
    Ok(json(200, a))
}

/// The TTL from a patch value: an integer, else AWS's message for a bad number.
fn set_ttl(a: &mut Authorizer, c: &Change<'_, ()>) -> ApiResult<()> {
    a.authorizer_result_ttl_in_seconds = Some(patch_i64(c.value, c.path)?);
    Ok(())
}

/// `add`/`remove` one provider ARN; none left is no list.
fn patch_provider_arns(a: &mut Authorizer, c: &Change<'_, ()>) -> ApiResult<()> {
    let arn = c.value.unwrap_or_default().to_string();
    let arns = a.provider_arns.get_or_insert_with(Vec::new);
    if c.op == "add" {
        if !arns.contains(&arn) {
            arns.push(arn);
        }
    } else {
        arns.retain(|x| *x != arn);
    }
    if arns.is_empty() {
        a.provider_arns = None;
    }
    Ok(())
}

/// UpdateAuthorizer's paths.
static AUTHORIZER_PATCH: PatchTable<Authorizer, ()> = PatchTable {
    rules: &[
        PatchRule {
            ops: &["replace"],
            path: "/name",
            apply: |a, c| {
                a.name = required_name(c.value)?;
                Ok(())
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/type",
            apply: |a, c| {
                a.authorizer_type =
                    authorizer_type(c.value.unwrap_or_default(), "updateAuthorizerInput.type")?;
                Ok(())
            },
        },
        replace_opt!("/authorizerUri", authorizer_uri),
        replace_opt!("/authorizerCredentials", authorizer_credentials),
        replace_opt!("/identitySource", identity_source),
        replace_opt!(
            "/identityValidationExpression",
            identity_validation_expression
        ),
        replace_opt!("/authType", auth_type),
        PatchRule {
            ops: &["replace"],
            path: "/authorizerResultTtlInSeconds",
            apply: set_ttl,
        },
        PatchRule {
            ops: &["add", "remove"],
            path: "/providerARNs",
            apply: patch_provider_arns,
        },
    ],
    replace_only: &[
        "name",
        "type",
        "authorizerUri",
        "authorizerCredentials",
        "identitySource",
        "identityValidationExpression",
        "authType",
        "authorizerResultTtlInSeconds",
    ],
    no_match: NoMatch::InvalidPath,
};

pub async fn update(
    State(ctx): State<Ctx>,
    Path((api_id, id)): AuthorizerPath,
    body: Bytes,
) -> ApiResult<Response> {
    let ops = PatchBody::parse(&body, "updateAuthorizerInput")?;
    let out = ctx
        .store
        .transact(|s| {
            let mut a = s
                .apis
                .get(&api_id)
                .and_then(|a| a.definition.authorizers.get(&id))
                .ok_or_else(no_authorizer)?
                .clone();
            AUTHORIZER_PATCH.apply(&mut a, &(), &ops)?;
            check(&a)?;
            def_mut(api_mut(s, &api_id)?)
                .authorizers
                .insert(id.clone(), a.clone());
            Ok::<_, ApiError>(a)
        })
        .await?;
    Ok(json(200, &out))
}

pub async fn delete(
    State(ctx): State<Ctx>,
    Path((api_id, id)): AuthorizerPath,
) -> ApiResult<Response> {
    ctx.store
        .transact(|s| {
            let a = s
                .apis
                .get(&api_id)
                .and_then(|a| a.definition.authorizers.get(&id).map(|x| (a, x)));
            let Some((a, authorizer)) = a else {
                return Err(no_authorizer());
            };
            // A method naming a deleted authorizer could never be authorized: refused, as
            // AWS does.
            if let Some(at) = method_request_using(&a.definition, |m| {
                m.authorization_type.needs_authorizer()
                    && m.authorizer_id.as_deref() == Some(id.as_str())
            }) {
                return Err(ApiError::conflict(format!(
                    "Cannot delete authorizer '{}', is referenced in method: {at}",
                    authorizer.name
                )));
            }
            def_mut(api_mut(s, &api_id)?).authorizers.remove(&id);
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(202))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TestInvokeAuthorizerInput {
    path_with_query_string: Option<String>,
    body: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    multi_value_headers: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    stage_variables: BTreeMap<String, String>,
    #[serde(default)]
    additional_context: BTreeMap<String, String>,
}

/// TestInvokeAuthorizer: the data plane runs the current (undeployed) authorizer.
pub async fn test_invoke(
    State(ctx): State<Ctx>,
    Path((api_id, id)): AuthorizerPath,
    body: Bytes,
) -> ApiResult<Response> {
    let input: TestInvokeAuthorizerInput = parse_body(&body)?;
    let st = ctx.store.state();
    let definition = st
        .apis
        .get(&api_id)
        .filter(|a| a.definition.authorizers.contains_key(&id))
        .ok_or_else(no_authorizer)?
        .definition
        .clone();
    let invoker = ctx.test_invoker.clone().ok_or_else(|| {
        ApiError::bad_request("TestInvokeAuthorizer needs the data plane, which is not running")
    })?;
    let out = invoker
        .test_invoke_authorizer(TestInvokeAuthorizerRequest {
            definition,
            authorizer_id: id,
            path_with_query_string: input.path_with_query_string,
            body: input.body,
            headers: input.headers,
            multi_value_headers: input.multi_value_headers,
            stage_variables: input.stage_variables,
            additional_context: input.additional_context,
        })
        .await;
    Ok(json(200, &out))
}
