//! PublishVersion, ListVersionsByFunction, the alias operations, and the resource policy
//! (AddPermission, RemovePermission, GetPolicy).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use tollgate_model::lambda::{
    function_arn, Alias, AliasRoutingConfiguration, Function, FunctionConfiguration,
};

use super::shared::{
    conflict, constraint, function, function_mut, function_ref, invalid_parameter, not_found,
    revision_id,
};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::util::{empty, json, parse_body, Query as Q};

/// Snapshots `$LATEST` as the next version number, unless the newest version already has
/// the same code and configuration (Lambda then returns that version).
pub fn publish_latest(f: &mut Function, description: Option<&str>) -> FunctionConfiguration {
    let same = |c: &FunctionConfiguration| {
        c.code_sha256 == f.latest.code_sha256
            && c.handler == f.latest.handler
            && c.runtime == f.latest.runtime
            && c.environment == f.latest.environment
            && c.timeout == f.latest.timeout
            && c.memory_size == f.latest.memory_size
            && c.role == f.latest.role
    };
    if let Some((_, last)) = f.versions.iter().next_back() {
        if same(last) {
            return last.clone();
        }
    }
    f.last_version += 1;
    let n = f.last_version;
    let mut c = f.latest.clone();
    c.version = n.to_string();
    c.function_arn = format!("{}:{n}", f.latest.function_arn);
    c.revision_id = revision_id();
    if let Some(d) = description {
        c.description = d.to_string();
    }
    f.versions.insert(n, c.clone());
    c
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct PublishInput {
    description: Option<String>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    code_sha256: Option<String>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    revision_id: Option<String>,
}

pub async fn publish(
    State(ctx): State<Ctx>,
    Path(raw): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: PublishInput = parse_body(&body)?;
    let r = function_ref(&raw)?;
    let out = ctx
        .store
        .transact(|s| {
            let f = function_mut(s, &ctx.region, &r)?;
            if input
                .code_sha256
                .as_ref()
                .is_some_and(|c| *c != f.latest.code_sha256)
            {
                return Err(invalid_parameter(
                    "CodeSHA256 (".to_string()
                        + input.code_sha256.as_deref().unwrap_or_default()
                        + ") is different from current CodeSHA256 in $LATEST ("
                        + &f.latest.code_sha256
                        + "). Please try again with the CodeSHA256 in $LATEST.",
                ));
            }
            if input
                .revision_id
                .as_ref()
                .is_some_and(|v| *v != f.latest.revision_id)
            {
                return Err(super::shared::precondition_failed());
            }
            Ok(publish_latest(f, input.description.as_deref()))
        })
        .await?;
    Ok(json(201, &out))
}

pub async fn list_versions(State(ctx): State<Ctx>, Path(raw): Path<String>) -> ApiResult<Response> {
    let r = function_ref(&raw)?;
    let state = ctx.store.state();
    let f = function(&state, &ctx.region, &r)?;
    let mut latest = f.latest.clone();
    latest.function_arn = format!("{}:$LATEST", latest.function_arn);
    let versions: Vec<&FunctionConfiguration> = std::iter::once(&latest)
        .chain(f.versions.values())
        .collect();
    Ok(json(200, &json!({ "Versions": versions })))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct AliasInput {
    name: Option<String>,
    function_version: Option<String>,
    description: Option<String>,
    routing_config: Option<AliasRoutingConfiguration>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    revision_id: Option<String>,
}

fn check_alias_name(name: &str) -> ApiResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.bytes().all(|b| b.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(constraint(
            name,
            "name",
            "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
        ))
    }
}

fn check_version(f: &Function, v: &str) -> ApiResult<()> {
    let exists = v == "$LATEST" || v.parse::<u64>().is_ok_and(|n| f.versions.contains_key(&n));
    if exists {
        Ok(())
    } else {
        Err(not_found(format!(
            "Function not found: {}:{v}",
            f.latest.function_arn
        )))
    }
}

pub async fn create_alias(
    State(ctx): State<Ctx>,
    Path(raw): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: AliasInput = parse_body(&body)?;
    let r = function_ref(&raw)?;
    let name = input.name.clone().unwrap_or_default();
    check_alias_name(&name)?;
    let version = input
        .function_version
        .clone()
        .ok_or_else(|| constraint("null", "functionVersion", "Member must not be null"))?;
    let out = ctx
        .store
        .transact(|s| {
            let f = function_mut(s, &ctx.region, &r)?;
            check_version(f, &version)?;
            if f.aliases.contains_key(&name) {
                return Err(conflict(format!(
                    "Alias already exists: {}:{name}",
                    f.latest.function_arn
                )));
            }
            let alias = Alias {
                alias_arn: format!("{}:{name}", f.latest.function_arn),
                name: name.clone(),
                function_version: version.clone(),
                description: input.description.clone().unwrap_or_default(),
                routing_config: input.routing_config.clone(),
                revision_id: revision_id(),
            };
            f.aliases.insert(name.clone(), alias.clone());
            Ok(alias)
        })
        .await?;
    Ok(json(201, &out))
}

fn alias_of<'a>(f: &'a Function, name: &str) -> ApiResult<&'a Alias> {
    f.aliases
        .get(name)
        .ok_or_else(|| not_found(format!("Alias not found: {}:{name}", f.latest.function_arn)))
}

pub async fn get_alias(
    State(ctx): State<Ctx>,
    Path((raw, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let r = function_ref(&raw)?;
    let state = ctx.store.state();
    let f = function(&state, &ctx.region, &r)?;
    Ok(json(200, alias_of(f, &name)?))
}

pub async fn list_aliases(
    State(ctx): State<Ctx>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    let r = function_ref(&raw)?;
    let state = ctx.store.state();
    let f = function(&state, &ctx.region, &r)?;
    let aliases: Vec<&Alias> = f
        .aliases
        .values()
        .filter(|a| {
            q.get("FunctionVersion")
                .is_none_or(|v| *v == a.function_version)
        })
        .collect();
    Ok(json(200, &json!({ "Aliases": aliases })))
}

pub async fn update_alias(
    State(ctx): State<Ctx>,
    Path((raw, name)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: AliasInput = parse_body(&body)?;
    let r = function_ref(&raw)?;
    let out = ctx
        .store
        .transact(|s| {
            let f = function_mut(s, &ctx.region, &r)?;
            alias_of(f, &name)?;
            if let Some(v) = &input.function_version {
                check_version(f, v)?;
            }
            let a = f.aliases.get_mut(&name).ok_or_else(ApiError::no_resource)?;
            if input
                .revision_id
                .as_ref()
                .is_some_and(|v| *v != a.revision_id)
            {
                return Err(super::shared::precondition_failed());
            }
            if let Some(v) = &input.function_version {
                a.function_version = v.clone();
            }
            if let Some(d) = &input.description {
                a.description = d.clone();
            }
            if let Some(rc) = &input.routing_config {
                a.routing_config = Some(rc.clone());
            }
            a.revision_id = revision_id();
            Ok(a.clone())
        })
        .await?;
    Ok(json(200, &out))
}

pub async fn delete_alias(
    State(ctx): State<Ctx>,
    Path((raw, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let r = function_ref(&raw)?;
    ctx.store
        .transact(|s| {
            // Lambda answers 204 for an alias that does not exist.
            if s.functions
                .get(&r.name)
                .is_some_and(|f| f.aliases.contains_key(&name))
            {
                function_mut(s, &ctx.region, &r)?.aliases.remove(&name);
            }
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(204))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddPermissionInput {
    statement_id: Option<String>,
    action: Option<String>,
    principal: Option<String>,
    source_arn: Option<String>,
    source_account: Option<String>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    revision_id: Option<String>,
    /// For `lambda:InvokeFunctionUrl`: the statement applies to URLs of this auth type.
    function_url_auth_type: Option<String>,
}

/// An empty `SourceArn` or `SourceAccount` breaks the model's pattern, and would otherwise
/// become a condition no caller ever meets.
fn check_source(input: &AddPermissionInput) -> ApiResult<()> {
    if input.source_arn.as_deref() == Some("") {
        return Err(constraint(
            "",
            "sourceArn",
            "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)",
        ));
    }
    if input.source_account.as_deref() == Some("") {
        return Err(constraint(
            "",
            "sourceAccount",
            "Member must satisfy regular expression pattern: \\d{12}",
        ));
    }
    Ok(())
}

/// The ARN whose policy a call with `qualifier` reads or edits: Lambda keeps one policy per
/// qualifier (the unqualified function's, each version's, each alias's).
fn policy_resource(region: &str, name: &str, qualifier: Option<&str>) -> String {
    let arn = function_arn(region, name);
    match qualifier {
        Some(q) => format!("{arn}:{q}"),
        None => arn,
    }
}

fn policy_document(f: &Function, resource: &str) -> serde_json::Value {
    let statements: Vec<&serde_json::Value> = f
        .policy
        .iter()
        .filter(|st| st["Resource"] == resource)
        .collect();
    json!({
        "Version": "2012-10-17",
        "Id": "default",
        "Statement": statements,
    })
}

pub async fn add_permission(
    State(ctx): State<Ctx>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: AddPermissionInput = parse_body(&body)?;
    let r = function_ref(&raw)?;
    let qual = super::shared::qualifier(&r, &q)?;
    let sid = input.statement_id.clone().unwrap_or_default();
    if sid.is_empty()
        || sid.len() > 100
        || !sid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(constraint(
            &sid,
            "statementId",
            "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)",
        ));
    }
    check_source(&input)?;
    let url_auth_type =
        crate::core::error::parse_enum_opt::<tollgate_model::function_url::FunctionUrlAuthType>(
            input.function_url_auth_type.as_deref(),
            "functionUrlAuthType",
        )?;
    let action = input
        .action
        .clone()
        .ok_or_else(|| constraint("null", "action", "Member must not be null"))?;
    let principal = input
        .principal
        .clone()
        .ok_or_else(|| constraint("null", "principal", "Member must not be null"))?;
    let out = ctx.store.transact(|s| {
        let f = function_mut(s, &ctx.region, &r)?;
        if input.revision_id.as_ref().is_some_and(|v| *v != f.policy_revision_id) {
            return Err(ApiError::new(412, "PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id"));
        }
        if qual.as_deref() == Some("$LATEST") {
            return Err(invalid_parameter(
                "We currently do not support adding policies for $LATEST.",
            ));
        }
        if f.resolve(qual.as_deref()).is_none() {
            return Err(not_found(format!(
                "Function not found: {}",
                policy_resource(&ctx.region, &r.name, qual.as_deref())
            )));
        }
        let resource = policy_resource(&ctx.region, &r.name, qual.as_deref());
        if f
            .policy
            .iter()
            .any(|st| st["Sid"] == sid.as_str() && st["Resource"] == resource.as_str())
        {
            return Err(conflict(format!("The statement id ({sid}) provided already exists. Please provide a new statement id, or remove the existing statement.")));
        }
        let principal_value = if principal.ends_with(".amazonaws.com") {
            json!({"Service": principal})
        } else if principal == "*" {
            json!("*")
        } else {
            json!({"AWS": principal})
        };
        let mut st = json!({
            "Sid": sid,
            "Effect": "Allow",
            "Principal": principal_value,
            "Action": action,
            "Resource": resource,
        });
        let mut condition = serde_json::Map::new();
        if let Some(a) = &input.source_arn {
            condition.insert("ArnLike".into(), json!({"AWS:SourceArn": a}));
        }
        let mut equals = serde_json::Map::new();
        if let Some(a) = &input.source_account {
            equals.insert("AWS:SourceAccount".into(), json!(a));
        }
        if let Some(t) = &url_auth_type {
            equals.insert("lambda:FunctionUrlAuthType".into(), json!(t.as_str()));
        }
        if !equals.is_empty() {
            condition.insert("StringEquals".into(), serde_json::Value::Object(equals));
        }
        if !condition.is_empty() {
            st["Condition"] = serde_json::Value::Object(condition);
        }
        f.policy.push(st.clone());
        f.policy_revision_id = revision_id();
        Ok(st)
    }).await?;
    // The engine evaluates the policy when API Gateway invokes the function.
    Ok(json(201, &json!({ "Statement": out.to_string() })))
}

pub async fn get_policy(
    State(ctx): State<Ctx>,
    Path(raw): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    let r = function_ref(&raw)?;
    let qual = super::shared::qualifier(&r, &q)?;
    let state = ctx.store.state();
    let f = function(&state, &ctx.region, &r)?;
    let resource = policy_resource(&ctx.region, &r.name, qual.as_deref());
    let document = policy_document(f, &resource);
    if document["Statement"]
        .as_array()
        .is_none_or(|a| a.is_empty())
    {
        return Err(not_found("The resource you requested does not exist."));
    }
    Ok(json(
        200,
        &json!({
            "Policy": document.to_string(),
            "RevisionId": f.policy_revision_id,
        }),
    ))
}

pub async fn remove_permission(
    State(ctx): State<Ctx>,
    Path((raw, sid)): Path<(String, String)>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    let r = function_ref(&raw)?;
    let qual = super::shared::qualifier(&r, &q)?;
    let resource = policy_resource(&ctx.region, &r.name, qual.as_deref());
    ctx.store
        .transact(|s| {
            let f = function_mut(s, &ctx.region, &r)?;
            let before = f.policy.len();
            f.policy
                .retain(|st| st["Sid"] != sid.as_str() || st["Resource"] != resource.as_str());
            if f.policy.len() == before {
                return Err(not_found(format!(
                    "Statement {sid} is not found in resource policy."
                )));
            }
            f.policy_revision_id = revision_id();
            Ok(())
        })
        .await?;
    Ok(empty(204))
}
