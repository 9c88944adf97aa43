//! CreateApiKey, GetApiKeys, GetApiKey, UpdateApiKey, DeleteApiKey, ImportApiKeys.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;
use tollgate_model::{ids, time, ApiKey};
use tollgate_store::State as StoreState;

use super::shared::set_opt;
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::pagination::page;
use crate::core::patch::patch_bool;
use crate::core::patch::PatchBody;
use crate::core::patch_table::{NoMatch, PatchRule, PatchTable};
use crate::core::util::{empty, json, parse_body, query_bool, Query as Q};

/// AWS's limit on a key's description (recorded: 125001 characters are refused, on
/// CreateApiKey and UpdateApiKey alike).
fn check_description(d: Option<&str>) -> ApiResult<()> {
    if d.is_some_and(|d| d.chars().count() > 125_000) {
        return Err(ApiError::bad_request(
            "Invalid API Key description specified.",
        ));
    }
    Ok(())
}

pub fn no_key() -> ApiError {
    ApiError::not_found("Invalid API Key identifier specified")
}

/// The wire view: the value only when asked for; `tags` only on single-key reads.
pub fn view(k: &ApiKey, include_value: bool, with_tags: bool) -> Value {
    let mut v = serde_json::to_value(k).unwrap_or_default();
    if let Value::Object(o) = &mut v {
        if !include_value {
            o.remove("value");
        }
        if !with_tags && k.tags.is_empty() {
            o.remove("tags");
        }
    }
    v
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StageKeyInput {
    rest_api_id: Option<String>,
    stage_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateApiKeyInput {
    name: Option<String>,
    description: Option<String>,
    #[serde(default)]
    enabled: bool,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    value: Option<String>,
    #[serde(default)]
    stage_keys: Vec<StageKeyInput>,
    #[serde(default, deserialize_with = "crate::core::util::empty_as_none")]
    customer_id: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[allow(dead_code)]
    generate_distinct_id: Option<bool>,
}

fn check_value(v: &str) -> ApiResult<()> {
    if v.len() < 20 {
        return Err(ApiError::bad_request(
            "API Key value should be at least 20 characters",
        ));
    }
    if v.len() > 128 {
        return Err(ApiError::bad_request(
            "API Key value exceeds maximum size of 128 characters",
        ));
    }
    Ok(())
}

fn check_name(n: &str) -> ApiResult<()> {
    if n.len() > 1024 {
        return Err(ApiError::bad_request(
            "Invalid API Key name, can be at most 1024 characters.",
        ));
    }
    Ok(())
}

fn check_stage_key(s: &StoreState, sk: &str) -> ApiResult<()> {
    let (api, stage) = sk
        .split_once('/')
        .ok_or_else(|| ApiError::bad_request("Invalid stage key specified"))?;
    let ok = s
        .apis
        .get(api)
        .is_some_and(|a| a.stages.contains_key(stage));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request("Invalid stage key specified"))
    }
}

/// Creates a key inside a transaction; shared by CreateApiKey and ImportApiKeys.
fn insert_key(s: &mut StoreState, mut key: ApiKey) -> ApiResult<ApiKey> {
    if s.api_keys.values().any(|k| k.value == key.value) {
        return Err(ApiError::conflict("API Key already exists"));
    }
    if s.api_keys.len() >= 10_000 {
        return Err(ApiError::limit_exceeded(
            "Maximum number of API keys reached: 10000",
        ));
    }
    key.id = ids::unique(ids::long_id, |id| s.api_keys.contains_key(id));
    Arc::make_mut(&mut s.api_keys).insert(key.id.clone(), Arc::new(key.clone()));
    Ok(key)
}

pub async fn create(
    State(ctx): State<Ctx>,
    Query(q): Query<Q>,
    body: Bytes,
) -> ApiResult<Response> {
    if q.get("mode").is_some_and(|m| m == "import") {
        return import(ctx, q, body).await;
    }
    let input: CreateApiKeyInput = parse_body(&body)?;
    if let Some(v) = &input.value {
        check_value(v)?;
    }
    if let Some(n) = &input.name {
        check_name(n)?;
    }
    check_description(input.description.as_deref())?;
    let out = ctx
        .store
        .transact(|s| {
            let mut stage_keys = vec![];
            for sk in &input.stage_keys {
                let k = format!(
                    "{}/{}",
                    sk.rest_api_id.as_deref().unwrap_or_default(),
                    sk.stage_name.as_deref().unwrap_or_default()
                );
                check_stage_key(s, &k)?;
                stage_keys.push(k);
            }
            let now = time::now_epoch();
            insert_key(
                s,
                ApiKey {
                    id: String::new(),
                    value: input.value.clone().unwrap_or_else(ids::api_key_value),
                    name: input.name.clone().filter(|n| !n.is_empty()),
                    description: input.description.clone(),
                    enabled: input.enabled,
                    customer_id: input.customer_id.clone(),
                    stage_keys,
                    created_date: now,
                    last_updated_date: now,
                    tags: input.tags.clone(),
                },
            )
        })
        .await?;
    Ok(json(201, &view(&out, true, false)))
}

/// ImportApiKeys: CSV with a header row (`name`, `key`, `description`, `enabled`,
/// `usageplanIds`, case-insensitive).
async fn import(ctx: Ctx, q: Q, body: Bytes) -> ApiResult<Response> {
    if q.get("format").map(|f| f.to_ascii_lowercase()) != Some("csv".into()) {
        return Err(ApiError::bad_request(
            "Invalid format specified. Valid formats are: [csv]",
        ));
    }
    let fail_on_warnings = query_bool(&q, "failonwarnings");
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::bad_request("Invalid CSV: not UTF-8"))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = csv_fields(
        lines
            .next()
            .ok_or_else(|| ApiError::bad_request("Invalid CSV: missing header row"))?,
    )
    .into_iter()
    .map(|h| h.trim().to_ascii_lowercase())
    .collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let key_col = col("key")
        .ok_or_else(|| ApiError::bad_request("Invalid CSV: a 'key' column is required"))?;
    let rows: Vec<Vec<String>> = lines.map(csv_fields).collect();
    let out = ctx
        .store
        .transact(|s| {
            let mut ids_out = vec![];
            let mut warnings = vec![];
            for (i, row) in rows.iter().enumerate() {
                let get = |c: Option<usize>| {
                    c.and_then(|c| row.get(c))
                        .filter(|v| !v.is_empty())
                        .cloned()
                };
                let Some(value) = get(Some(key_col)) else {
                    warnings.push(format!("Row {}: missing key value", i + 1));
                    continue;
                };
                if let Err(e) = check_value(&value) {
                    warnings.push(format!("Row {}: {}", i + 1, e.message));
                    continue;
                }
                let now = time::now_epoch();
                let key = ApiKey {
                    id: String::new(),
                    value,
                    name: get(col("name")),
                    description: get(col("description")),
                    enabled: get(col("enabled")).is_some_and(|e| e.eq_ignore_ascii_case("true")),
                    customer_id: get(col("customerid")),
                    stage_keys: vec![],
                    created_date: now,
                    last_updated_date: now,
                    tags: BTreeMap::new(),
                };
                match insert_key(s, key) {
                    Ok(k) => {
                        for plan in get(col("usageplanids"))
                            .unwrap_or_default()
                            .split(';')
                            .filter(|p| !p.is_empty())
                        {
                            match Arc::make_mut(&mut s.usage_plans).get_mut(plan) {
                                Some(p) => {
                                    Arc::make_mut(p).key_ids.insert(k.id.clone());
                                }
                                None => warnings
                                    .push(format!("Row {}: invalid usage plan {plan}", i + 1)),
                            }
                        }
                        ids_out.push(k.id);
                    }
                    Err(e) => warnings.push(format!("Row {}: {}", i + 1, e.message)),
                }
            }
            if fail_on_warnings && !warnings.is_empty() {
                return Err(ApiError::bad_request(format!(
                    "Import failed: {}",
                    warnings.join("; ")
                )));
            }
            Ok::<_, ApiError>(serde_json::json!({ "ids": ids_out, "warnings": warnings }))
        })
        .await?;
    Ok(json(201, &out))
}

/// The fields of one CSV line (RFC 4180 quoting: `"a, b"`, `""` for a quote), trimmed.
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![];
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut cur).trim().to_string()),
            (c, _) => cur.push(c),
        }
    }
    fields.push(cur.trim().to_string());
    fields
}

pub async fn list(State(ctx): State<Ctx>, Query(q): Query<Q>) -> ApiResult<Response> {
    let st = ctx.store.state();
    let include = query_bool(&q, "includeValues");
    let name = q.get("name");
    let customer = q.get("customerId");
    let items = st
        .api_keys
        .values()
        .filter(|k| {
            name.is_none_or(|n| {
                k.name
                    .as_deref()
                    .unwrap_or_default()
                    .starts_with(n.as_str())
            })
        })
        .filter(|k| customer.is_none_or(|c| k.customer_id.as_deref() == Some(c.as_str())))
        .map(|k| (k.id.clone(), view(k, include, false)))
        .collect();
    page(items, &q)
}

pub async fn get(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    let k = st.api_keys.get(&id).ok_or_else(no_key)?;
    Ok(json(200, &view(k, query_bool(&q, "includeValue"), true)))
}

/// UpdateApiKey's paths; adding a stage checks it against the state.
static API_KEY_PATCH: PatchTable<ApiKey, StoreState> = PatchTable {
    rules: &[
        PatchRule {
            ops: &["replace"],
            path: "/name",
            apply: |k, c| {
                check_name(c.value.unwrap_or_default())?;
                set_opt(&mut k.name, c.value);
                Ok(())
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/description",
            apply: |k, c| {
                check_description(c.value)?;
                set_opt(&mut k.description, c.value);
                Ok(())
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/enabled",
            apply: |k, c| {
                k.enabled = patch_bool(c.value);
                Ok(())
            },
        },
        replace_opt!("/customerId", customer_id),
        PatchRule {
            ops: &["add"],
            path: "/stages",
            apply: |k, c| {
                let sk = c.value.unwrap_or_default().to_string();
                check_stage_key(c.ctx, &sk)?;
                if !k.stage_keys.contains(&sk) {
                    k.stage_keys.push(sk);
                }
                Ok(())
            },
        },
        PatchRule {
            ops: &["remove"],
            path: "/stages",
            apply: |k, c| {
                k.stage_keys.retain(|x| Some(x.as_str()) != c.value);
                Ok(())
            },
        },
    ],
    replace_only: &[],
    no_match: NoMatch::InvalidPathForOp(&["/description", "/enabled", "/name", "/customerId"]),
};

pub async fn update(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let ops = PatchBody::parse(&body, "updateApiKeyInput")?;
    let out = ctx
        .store
        .transact(|s| {
            let mut k = s.api_keys.get(&id).ok_or_else(no_key)?.as_ref().clone();
            API_KEY_PATCH.apply(&mut k, s, &ops)?;
            k.last_updated_date = time::now_epoch();
            Arc::make_mut(&mut s.api_keys).insert(id.clone(), Arc::new(k.clone()));
            Ok::<_, ApiError>(k)
        })
        .await?;
    Ok(json(200, &view(&out, false, true)))
}

pub async fn delete(State(ctx): State<Ctx>, Path(id): Path<String>) -> ApiResult<Response> {
    ctx.store
        .transact(|s| {
            Arc::make_mut(&mut s.api_keys)
                .remove(&id)
                .ok_or_else(no_key)?;
            let plans = Arc::make_mut(&mut s.usage_plans);
            for p in plans.values_mut().filter(|p| p.key_ids.contains(&id)) {
                Arc::make_mut(p).key_ids.remove(&id);
            }
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(202))
}

#[cfg(test)]
mod tests {
    use super::csv_fields;

    #[test]
    fn csv_quoting() {
        assert_eq!(csv_fields("a, b ,c"), vec!["a", "b", "c"]);
        assert_eq!(
            csv_fields("\"a, b\",\"say \"\"hi\"\"\",,x"),
            vec!["a, b", "say \"hi\"", "", "x"]
        );
        assert_eq!(csv_fields(""), vec![""]);
    }
}
