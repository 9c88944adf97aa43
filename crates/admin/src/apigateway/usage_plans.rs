//! UsagePlan, UsagePlanKey and Usage operations.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{json as j, Value};
use tollgate_model::{
    ids, time, ApiStage, QuotaPeriodType, QuotaSettings, ThrottleSettings, UsagePlan,
};
use tollgate_store::usage::Quota;
use tollgate_store::State as StoreState;

use super::api_keys::no_key;
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult, Violation};
use crate::core::pagination::page;
use crate::core::patch::{invalid_path, PatchBody};
use crate::core::patch::{patch_f64, patch_i64};
use crate::core::patch_table::{Change, NoMatch, PatchRule, PatchTable};
use crate::core::util::{empty, json, parse_body, Query as Q};
use crate::core::wire::Wire;

pub(super) fn no_plan() -> ApiError {
    ApiError::not_found("Invalid Usage Plan ID specified")
}

/// A usage plan on the wire: its keys (UsagePlanKeys) and creation date are Tollgate's own
/// stored members, never shown.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsagePlanWire<'a> {
    id: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    api_stages: &'a [ApiStage],
    #[serde(skip_serializing_if = "Option::is_none")]
    throttle: Option<&'a ThrottleSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quota: Option<&'a QuotaSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    product_code: Option<&'a str>,
    tags: &'a BTreeMap<String, String>,
}

impl Wire for UsagePlan {
    type Shape<'a> = UsagePlanWire<'a>;

    fn to_wire(&self) -> UsagePlanWire<'_> {
        UsagePlanWire {
            id: &self.id,
            name: &self.name,
            description: self.description.as_deref(),
            api_stages: &self.api_stages,
            throttle: self.throttle.as_ref(),
            quota: self.quota.as_ref(),
            product_code: self.product_code.as_deref(),
            tags: &self.tags,
        }
    }
}

/// The plan's view: `tags` only on single-plan reads (or when it has some).
fn view(p: &UsagePlan, with_tags: bool) -> Value {
    let mut v = serde_json::to_value(p.to_wire()).unwrap_or_default();
    if let Value::Object(o) = &mut v {
        if !with_tags && p.tags.is_empty() {
            o.remove("tags");
        }
    }
    v
}

/// The quota as the counters apply it.
pub fn quota_of(p: &UsagePlan) -> Option<Quota> {
    p.quota.as_ref().map(|q| Quota {
        limit: q.limit,
        offset: q.offset,
        period: q.period,
        first_day: p.created_date.div_euclid(86_400),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiStageInput {
    api_id: Option<String>,
    stage: Option<String>,
    #[serde(default)]
    throttle: BTreeMap<String, ThrottleSettings>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateUsagePlanInput {
    name: Option<String>,
    description: Option<String>,
    #[serde(default)]
    api_stages: Vec<ApiStageInput>,
    #[serde(default, deserialize_with = "crate::core::util::empty_object_as_none")]
    throttle: Option<ThrottleSettings>,
    #[serde(default, deserialize_with = "crate::core::util::empty_object_as_none")]
    quota: Option<QuotaSettingsInput>,
    product_code: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

/// `quota` as sent: the period is checked by [`quota_period`] with AWS's message rather
/// than refused by the body parser.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct QuotaSettingsInput {
    limit: i64,
    #[serde(default)]
    offset: i64,
    period: String,
}

fn quota_period(v: &str) -> ApiResult<QuotaPeriodType> {
    v.parse()
        .map_err(|_| Violation::enum_value(v, "quota.period", "DAY, WEEK, MONTH").into())
}

fn check_quota(q: &QuotaSettings) -> ApiResult<()> {
    if q.limit < 0 || q.offset < 0 || q.offset >= q.limit.max(1) {
        return Err(ApiError::bad_request(
            "Invalid quota: limit must be positive and offset less than the limit",
        ));
    }
    Ok(())
}

fn check_throttle(t: &ThrottleSettings) -> ApiResult<()> {
    if t.burst_limit < 0 || t.rate_limit < 0.0 || !t.rate_limit.is_finite() {
        return Err(ApiError::bad_request(
            "Invalid throttle: burstLimit and rateLimit must not be negative",
        ));
    }
    Ok(())
}

fn check_api_stage(s: &StoreState, plan_id: &str, api: &str, stage: &str) -> ApiResult<()> {
    // REST API stages, and WebSocket API stages (API keys on `$connect`).
    let rest = s
        .apis
        .get(api)
        .is_some_and(|a| a.stages.contains_key(stage));
    let websocket = s
        .v2_apis
        .get(api)
        .is_some_and(|a| a.definition.is_websocket() && a.stages.contains_key(stage));
    if rest || websocket {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "Invalid API Stage {{api: {api}, stage: {stage}}} specified for usageplan {plan_id}"
        )))
    }
}

/// An API stage may be in only one plan per API key.
fn check_key_conflicts(s: &StoreState, plan: &UsagePlan) -> ApiResult<()> {
    for other in s.usage_plans.values().filter(|o| o.id != plan.id) {
        let shares_key = other.key_ids.iter().any(|k| plan.key_ids.contains(k));
        let shares_stage = other
            .api_stages
            .iter()
            .any(|st| plan.covers(&st.api_id, &st.stage));
        if shares_key && shares_stage {
            return Err(ApiError::conflict(format!(
                "Usage Plan {} cannot be added because API Key is already associated with usage plan {} on the same API stage",
                plan.id, other.id
            )));
        }
    }
    Ok(())
}

pub async fn create(State(ctx): State<Ctx>, body: Bytes) -> ApiResult<Response> {
    let input: CreateUsagePlanInput = parse_body(&body)?;
    let name = input
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad_request("Invalid request input: name is required"))?;
    let quota = match &input.quota {
        Some(q) => {
            let q = QuotaSettings {
                limit: q.limit,
                offset: q.offset,
                period: quota_period(&q.period)?,
            };
            check_quota(&q)?;
            Some(q)
        }
        None => None,
    };
    if let Some(t) = &input.throttle {
        check_throttle(t)?;
    }
    let out = ctx
        .store
        .transact(|s| {
            // The closure may run again (on a conflict): it moves copies.
            let name = name.clone();
            if s.usage_plans.len() >= 300 {
                return Err(ApiError::limit_exceeded(
                    "Maximum number of usage plans reached: 300",
                ));
            }
            let id = ids::unique(ids::short_id, |id| s.usage_plans.contains_key(id));
            let mut api_stages = vec![];
            for st in &input.api_stages {
                let (api, stage) = (
                    st.api_id.clone().unwrap_or_default(),
                    st.stage.clone().unwrap_or_default(),
                );
                check_api_stage(s, &id, &api, &stage)?;
                api_stages.push(ApiStage {
                    api_id: api,
                    stage,
                    throttle: st.throttle.clone(),
                });
            }
            let plan = UsagePlan {
                id: id.clone(),
                name,
                description: input.description.clone(),
                api_stages,
                throttle: input.throttle,
                quota: quota.clone(),
                product_code: input.product_code.clone(),
                tags: input.tags.clone(),
                key_ids: Default::default(),
                created_date: time::now_epoch(),
            };
            Arc::make_mut(&mut s.usage_plans).insert(id, Arc::new(plan.clone()));
            Ok::<_, ApiError>(plan)
        })
        .await?;
    Ok(json(201, &view(&out, false)))
}

pub async fn list(State(ctx): State<Ctx>, Query(q): Query<Q>) -> ApiResult<Response> {
    let st = ctx.store.state();
    let key = q.get("keyId");
    let items = st
        .usage_plans
        .values()
        .filter(|p| key.is_none_or(|k| p.key_ids.contains(k)))
        .map(|p| (p.id.clone(), view(p, false)))
        .collect();
    page(items, &q)
}

pub async fn get(State(ctx): State<Ctx>, Path(id): Path<String>) -> ApiResult<Response> {
    let st = ctx.store.state();
    Ok(json(
        200,
        &view(st.usage_plans.get(&id).ok_or_else(no_plan)?, true),
    ))
}

/// `/apiStages/{apiId}:{stage}/throttle/{escaped path}/{METHOD}[/rateLimit|/burstLimit]`
fn patch_method_throttle(
    plan: &mut UsagePlan,
    path: &str,
    op: &str,
    v: Option<&str>,
) -> ApiResult<()> {
    let rest = path
        .strip_prefix("/apiStages/")
        .ok_or_else(|| invalid_path(path))?;
    let (api_stage, throttle_path) = rest
        .split_once("/throttle/")
        .ok_or_else(|| invalid_path(path))?;
    let (api, stage) = api_stage
        .split_once(':')
        .ok_or_else(|| ApiError::bad_request("Invalid API Stage specified"))?;
    let st = plan
        .api_stages
        .iter_mut()
        .find(|s| s.api_id == api && s.stage == stage)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "Invalid API Stage {{api: {api}, stage: {stage}}} specified for usageplan {}",
                plan.id
            ))
        })?;
    let unescaped = crate::core::patch::unescape(throttle_path);
    match op {
        "remove" => {
            st.throttle.remove(&unescaped);
        }
        "replace" | "add" => {
            let (key, field) = unescaped
                .rsplit_once('/')
                .ok_or_else(|| invalid_path(path))?;
            let t = st
                .throttle
                .entry(key.to_string())
                .or_insert(ThrottleSettings {
                    burst_limit: 0,
                    rate_limit: 0.0,
                });
            match field {
                "rateLimit" => t.rate_limit = patch_f64(v, path)?,
                "burstLimit" => t.burst_limit = patch_i64(v, path)?,
                _ => return Err(invalid_path(path)),
            }
            check_throttle(t)?;
        }
        _ => return Err(invalid_path(path)),
    }
    Ok(())
}

/// UpdateUsagePlan's paths; adding an API stage checks it against the state.
static PLAN_PATCH: PatchTable<UsagePlan, StoreState> = PatchTable {
    rules: &[
        PatchRule {
            ops: &["replace"],
            path: "/name",
            apply: |plan, c| {
                plan.name = super::shared::required_name(c.value)?;
                Ok(())
            },
        },
        replace_opt!("/description", description),
        replace_opt!("/productCode", product_code),
        PatchRule {
            ops: &["replace"],
            path: "/throttle/burstLimit",
            apply: |plan, c| {
                throttle(plan).burst_limit = patch_i64(c.value, c.path)?;
                Ok(())
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/throttle/rateLimit",
            apply: |plan, c| {
                throttle(plan).rate_limit = patch_f64(c.value, c.path)?;
                Ok(())
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/quota/limit",
            apply: |plan, c| {
                quota(plan).limit = patch_i64(c.value, c.path)?;
                Ok(())
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/quota/offset",
            apply: |plan, c| {
                quota(plan).offset = patch_i64(c.value, c.path)?;
                Ok(())
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/quota/period",
            apply: |plan, c| {
                quota(plan).period = quota_period(c.value.unwrap_or_default())?;
                Ok(())
            },
        },
        PatchRule {
            ops: &["remove"],
            path: "/throttle",
            apply: |plan, _| {
                plan.throttle = None;
                Ok(())
            },
        },
        PatchRule {
            ops: &["remove"],
            path: "/quota",
            apply: |plan, _| {
                plan.quota = None;
                Ok(())
            },
        },
        PatchRule {
            ops: &["add", "remove"],
            path: "/apiStages",
            apply: patch_api_stages,
        },
        PatchRule {
            ops: &["add", "remove", "replace", "move", "test", "copy"],
            path: "/apiStages/**",
            apply: |plan, c| patch_method_throttle(plan, c.path, c.op, c.value),
        },
    ],
    replace_only: &[],
    no_match: NoMatch::InvalidPath,
};

/// The plan's throttle, created empty on first patch.
fn throttle(plan: &mut UsagePlan) -> &mut ThrottleSettings {
    plan.throttle.get_or_insert(ThrottleSettings {
        burst_limit: 0,
        rate_limit: 0.0,
    })
}

/// The plan's quota, created empty on first patch.
fn quota(plan: &mut UsagePlan) -> &mut QuotaSettings {
    plan.quota.get_or_insert(QuotaSettings {
        limit: 0,
        offset: 0,
        period: QuotaPeriodType::Day,
    })
}

/// `add`/`remove` `/apiStages` with value `{api}:{stage}`.
fn patch_api_stages(plan: &mut UsagePlan, c: &Change<'_, StoreState>) -> ApiResult<()> {
    let (api, stage) = c
        .value
        .and_then(|x| x.split_once(':'))
        .filter(|(a, st)| !a.is_empty() && !st.is_empty())
        .ok_or_else(|| ApiError::bad_request("Invalid API Stage specified"))?;
    if c.op == "add" {
        check_api_stage(c.ctx, &plan.id, api, stage)?;
        if !plan.covers(api, stage) {
            plan.api_stages.push(ApiStage {
                api_id: api.into(),
                stage: stage.into(),
                throttle: BTreeMap::new(),
            });
        }
    } else {
        if !plan.covers(api, stage) {
            return Err(ApiError::not_found(format!(
                "Invalid API Stage {{api: {api}, stage: {stage}}} specified for usageplan {}",
                plan.id
            )));
        }
        plan.api_stages
            .retain(|x| !(x.api_id == api && x.stage == stage));
    }
    Ok(())
}

pub async fn update(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let ops = PatchBody::parse(&body, "updateUsagePlanInput")?;
    let out = ctx
        .store
        .transact(|s| {
            let mut plan = s.usage_plans.get(&id).ok_or_else(no_plan)?.as_ref().clone();
            PLAN_PATCH.apply(&mut plan, s, &ops)?;
            if let Some(q) = &plan.quota {
                check_quota(q)?;
            }
            if let Some(t) = &plan.throttle {
                check_throttle(t)?;
            }
            check_key_conflicts(s, &plan)?;
            Arc::make_mut(&mut s.usage_plans).insert(id.clone(), Arc::new(plan.clone()));
            Ok::<_, ApiError>(plan)
        })
        .await?;
    Ok(json(200, &view(&out, true)))
}

pub async fn delete(State(ctx): State<Ctx>, Path(id): Path<String>) -> ApiResult<Response> {
    ctx.store
        .transact(|s| {
            Arc::make_mut(&mut s.usage_plans)
                .remove(&id)
                .ok_or_else(no_plan)?;
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(202))
}

fn key_view(s: &StoreState, key_id: &str) -> Option<Value> {
    let k = s.api_keys.get(key_id)?;
    let mut v = j!({ "id": k.id, "type": "API_KEY", "value": k.value });
    if let Some(n) = &k.name {
        v["name"] = n.clone().into();
    }
    Some(v)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateUsagePlanKeyInput {
    key_id: Option<String>,
    key_type: Option<String>,
}

pub async fn create_key(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: CreateUsagePlanKeyInput = parse_body(&body)?;
    if input.key_type.as_deref() != Some("API_KEY") {
        return Err(ApiError::bad_request(
            "Invalid key type specified. Valid key types are: [API_KEY]",
        ));
    }
    let key_id = input.key_id.unwrap_or_default();
    let out = ctx
        .store
        .transact(|s| {
            let mut plan = s.usage_plans.get(&id).ok_or_else(no_plan)?.as_ref().clone();
            let view = key_view(s, &key_id).ok_or_else(no_key)?;
            if !plan.key_ids.insert(key_id.clone()) {
                return Err(ApiError::conflict(format!(
                    "Usage Plan {id} already has API Key {key_id}"
                )));
            }
            if s.usage_plans
                .values()
                .filter(|p| p.key_ids.contains(&key_id))
                .count()
                >= 10
            {
                return Err(ApiError::limit_exceeded(
                    "An API key can be in at most 10 usage plans",
                ));
            }
            check_key_conflicts(s, &plan)?;
            Arc::make_mut(&mut s.usage_plans).insert(id.clone(), Arc::new(plan));
            Ok::<_, ApiError>(view)
        })
        .await?;
    Ok(json(201, &out))
}

pub async fn list_keys(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    // An unknown plan lists no keys, as AWS does.
    let keys = st
        .usage_plans
        .get(&id)
        .map(|p| p.key_ids.clone())
        .unwrap_or_default();
    let name = q.get("name");
    let items = keys
        .iter()
        .filter_map(|k| key_view(&st, k).map(|v| (k.clone(), v)))
        .filter(|(_, v)| {
            name.is_none_or(|n| {
                v["name"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with(n.as_str())
            })
        })
        .collect();
    page(items, &q)
}

pub async fn get_key(
    State(ctx): State<Ctx>,
    Path((id, key_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    let plan = st.usage_plans.get(&id).ok_or_else(no_plan)?;
    if !plan.key_ids.contains(&key_id) {
        return Err(ApiError::not_found(
            "Invalid Usage Plan Key identifier specified",
        ));
    }
    Ok(json(200, &key_view(&st, &key_id).ok_or_else(no_key)?))
}

pub async fn delete_key(
    State(ctx): State<Ctx>,
    Path((id, key_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    ctx.store
        .transact(|s| {
            let plans = Arc::make_mut(&mut s.usage_plans);
            let plan = plans.get_mut(&id).ok_or_else(no_plan)?;
            if !Arc::make_mut(plan).key_ids.remove(&key_id) {
                return Err(ApiError::not_found(
                    "Invalid Usage Plan Key identifier specified",
                ));
            }
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(empty(202))
}

fn usage_body(
    ctx: &Ctx,
    plan: &UsagePlan,
    keys: &[String],
    start: &str,
    end: &str,
) -> ApiResult<Value> {
    let from = time::parse_ymd(start)
        .ok_or_else(|| ApiError::bad_request(format!("Invalid start date: {start}")))?;
    let to = time::parse_ymd(end)
        .ok_or_else(|| ApiError::bad_request(format!("Invalid end date: {end}")))?;
    if to < from || to - from > 366 {
        return Err(ApiError::bad_request(
            "The end date must be after the start date and within 366 days of it",
        ));
    }
    let usage = ctx
        .usage
        .as_ref()
        .ok_or_else(|| ApiError::bad_request("Usage is not recorded by this server"))?;
    let quota = quota_of(plan);
    let mut values = serde_json::Map::new();
    for k in keys {
        values.insert(
            k.clone(),
            serde_json::to_value(usage.daily(&plan.id, k, from, to, quota.as_ref()))
                .unwrap_or_default(),
        );
    }
    Ok(j!({ "usagePlanId": plan.id, "startDate": start, "endDate": end, "values": values }))
}

pub async fn get_usage(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
    Query(q): Query<Q>,
) -> ApiResult<Response> {
    let st = ctx.store.state();
    let plan = st.usage_plans.get(&id).ok_or_else(no_plan)?;
    let start = q
        .get("startDate")
        .ok_or_else(|| ApiError::bad_request("startDate is required"))?;
    let end = q
        .get("endDate")
        .ok_or_else(|| ApiError::bad_request("endDate is required"))?;
    let keys: Vec<String> = match q.get("keyId") {
        Some(k) => vec![k.clone()],
        None => plan.key_ids.iter().cloned().collect(),
    };
    // Pages run over keys (sorted ids); the position is the last key returned. Without an
    // explicit limit every key comes back: botocore's paginator cannot merge the `values`
    // map across pages, so the CLI's automatic paging would drop keys.
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => usize::MAX,
        Some(Ok(n)) if (1..=500).contains(&n) => n,
        Some(_) => {
            return Err(ApiError::bad_request(
                "Invalid limit: must be between 1 and 500",
            ))
        }
    };
    let after = q.get("position");
    let mut page: Vec<String> = keys
        .into_iter()
        .filter(|k| after.is_none_or(|p| k > p))
        .collect();
    let more = page.len() > limit;
    page.truncate(limit);
    let mut body = usage_body(&ctx, plan, &page, start, end)?;
    if more {
        if let Some(last) = page.last() {
            body["position"] = last.clone().into();
        }
    }
    Ok(json(200, &body))
}

/// UpdateUsage's one path: `replace /remaining` (each value is collected, then applied).
static USAGE_PATCH: PatchTable<Vec<i64>, ()> = PatchTable {
    rules: &[PatchRule {
        ops: &["replace"],
        path: "/remaining",
        apply: |values, c| {
            let remaining = patch_i64(c.value, c.path)?;
            if remaining < 0 {
                return Err(ApiError::bad_request("remaining must not be negative"));
            }
            values.push(remaining);
            Ok(())
        },
    }],
    replace_only: &[],
    no_match: NoMatch::InvalidPath,
};

pub async fn update_usage(
    State(ctx): State<Ctx>,
    Path((id, key_id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    let ops = PatchBody::parse(&body, "updateUsageInput")?;
    let st = ctx.store.state();
    let plan = st.usage_plans.get(&id).ok_or_else(no_plan)?;
    if !plan.key_ids.contains(&key_id) {
        return Err(ApiError::not_found(
            "Invalid Usage Plan Key identifier specified",
        ));
    }
    let quota =
        quota_of(plan).ok_or_else(|| ApiError::bad_request("The usage plan has no quota"))?;
    let usage = ctx
        .usage
        .as_ref()
        .ok_or_else(|| ApiError::bad_request("Usage is not recorded by this server"))?;
    let today = time::now_epoch().div_euclid(86_400);
    // Every op is checked before any is applied: a bad op changes nothing.
    let mut values = Vec::with_capacity(ops.len());
    USAGE_PATCH.apply(&mut values, &(), &ops)?;
    for remaining in values {
        if let Some(write) = usage.set_remaining(&id, &key_id, today, &quota, remaining) {
            write.await;
        }
    }
    let (from, _) = tollgate_model::usage_plan::quota_period(quota.period, today);
    let fmt = |d: i64| {
        let (y, m, dd) = time::civil_from_days(d);
        format!("{y:04}-{m:02}-{dd:02}")
    };
    Ok(json(
        200,
        &usage_body(&ctx, plan, &[key_id], &fmt(from), &fmt(today))?,
    ))
}
