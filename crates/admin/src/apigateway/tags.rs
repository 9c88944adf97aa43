//! TagResource, UntagResource, GetTags for RestApis, Stages, usage plans (the developer
//! portal offers plans tagged `tollgate:portal-plan=true`), custom domain names (a
//! domain tagged `tollgate:portal=true` serves the developer portal) and VPC links (the
//! `tollgate:target` tag says where a link leads).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use tollgate_store::State as StoreState;

use super::shared::{api, api_mut, def_mut};
use super::usage_plans::no_plan;
use crate::core::context::Ctx;
use crate::core::domains;
use crate::core::error::{ApiError, ApiResult};
use crate::core::tags::{self, TagEdit, Tagging, Tags};
use crate::core::util::empty;
use crate::core::vpc_links as links;
use tollgate_model::vpc_link::VpcLink;

/// What an ARN names: `arn:aws:apigateway:{region}::/restapis/{id}[/stages/{stage}]` or
/// `arn:aws:apigateway:{region}::/usageplans/{id}` or
/// `arn:aws:apigateway:{region}::/domainnames/{name}` or
/// `arn:aws:apigateway:{region}::/vpclinks/{id}`.
enum Target {
    RestApi(String),
    Stage(String, String),
    UsagePlan(String),
    DomainName(String),
    VpcLink(String),
}

fn target(arn: &str) -> ApiResult<Target> {
    let bad = || ApiError::not_found(format!("Invalid resource ARN specified: {arn}"));
    let path = arn
        .strip_prefix("arn:aws:apigateway:")
        .and_then(|r| r.split_once("::"))
        .map(|(_, p)| p)
        .ok_or_else(bad)?;
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segs.as_slice() {
        ["restapis", id] => Ok(Target::RestApi(id.to_string())),
        ["restapis", id, "stages", stage] => Ok(Target::Stage(id.to_string(), stage.to_string())),
        ["usageplans", id] => Ok(Target::UsagePlan(id.to_string())),
        ["domainnames", name] => Ok(Target::DomainName(name.to_string())),
        ["vpclinks", id] => Ok(Target::VpcLink(id.to_string())),
        _ => Err(bad()),
    }
}

fn edit(s: &mut StoreState, arn: &str, f: TagEdit<'_>) -> ApiResult<()> {
    match target(arn)? {
        Target::RestApi(id) => f(&mut def_mut(api_mut(s, &id)?).api.tags),
        Target::Stage(id, stage) => {
            let a = api_mut(s, &id)?;
            let st = a.stages.get_mut(&stage).ok_or_else(ApiError::no_stage)?;
            f(&mut Arc::make_mut(st).tags)
        }
        Target::UsagePlan(id) => {
            let plans = Arc::make_mut(&mut s.usage_plans);
            let plan = plans.get_mut(&id).ok_or_else(no_plan)?;
            f(&mut Arc::make_mut(plan).tags)
        }
        Target::DomainName(name) => f(&mut domains::domain_mut(s, &name)?.tags),
        Target::VpcLink(id) => {
            links::edit_tags::<VpcLink>(s, &id, super::vpc_links::not_found(), f)?
        }
    }
    Ok(())
}

fn read(st: &StoreState, arn: &str) -> ApiResult<Tags> {
    Ok(match target(arn)? {
        Target::RestApi(id) => api(st, &id)?.definition.api.tags.clone(),
        Target::Stage(id, stage) => api(st, &id)?
            .stages
            .get(&stage)
            .ok_or_else(ApiError::no_stage)?
            .tags
            .clone(),
        Target::UsagePlan(id) => st.usage_plans.get(&id).ok_or_else(no_plan)?.tags.clone(),
        Target::DomainName(name) => domains::find(st, &name)?.tags.clone(),
        Target::VpcLink(id) => links::tags::<VpcLink>(st, &id, super::vpc_links::not_found())?,
    })
}

static TAGGING: Tagging = Tagging {
    read,
    edit,
    tagged: || empty(204),
};

pub async fn get(State(ctx): State<Ctx>, Path(arn): Path<String>) -> ApiResult<Response> {
    tags::get(&ctx, &arn, &TAGGING).await
}

pub async fn tag(
    State(ctx): State<Ctx>,
    Path(arn): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    tags::tag(&ctx, &arn, &body, &TAGGING).await
}

pub async fn untag(
    State(ctx): State<Ctx>,
    Path(arn): Path<String>,
    uri: http::Uri,
) -> ApiResult<Response> {
    tags::untag(&ctx, &arn, &uri, &TAGGING).await
}
