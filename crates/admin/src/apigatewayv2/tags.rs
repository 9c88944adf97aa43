//! TagResource, UntagResource, GetTags for v2 Apis, their Stages, custom domain names
//! (a domain tagged `tollgate:portal=true` serves the developer portal) and VPC links (the
//! `tollgate:target` tag says where a link leads).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use tollgate_store::State as StoreState;

use super::shared::{api, api_mut, def_mut, find, stage_mut};
use crate::core::context::Ctx;
use crate::core::domains;
use crate::core::error::{ApiError, ApiResult};
use crate::core::tags::{self, TagEdit, Tagging, Tags};
use crate::core::util::json;
use crate::core::vpc_links as links;
use tollgate_model::vpc_link::VpcLinkV2;

/// What an ARN names: `arn:aws:apigateway:{region}::/apis/{id}[/stages/{stage}]` or
/// `arn:aws:apigateway:{region}::/domainnames/{name}` or
/// `arn:aws:apigateway:{region}::/vpclinks/{id}`.
enum Target {
    Api(String, Option<String>),
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
        ["apis", id] => Ok(Target::Api(id.to_string(), None)),
        ["apis", id, "stages", stage] => Ok(Target::Api(id.to_string(), Some(stage.to_string()))),
        ["domainnames", name] => Ok(Target::DomainName(name.to_string())),
        ["vpclinks", id] => Ok(Target::VpcLink(id.to_string())),
        _ => Err(bad()),
    }
}

fn read(st: &StoreState, arn: &str) -> ApiResult<Tags> {
    let (id, stage) = match target(arn)? {
        Target::Api(id, stage) => (id, stage),
        Target::DomainName(name) => return Ok(domains::find(st, &name)?.tags.clone()),
        Target::VpcLink(id) => {
            return links::tags::<VpcLinkV2>(st, &id, super::vpc_links::not_found(&id))
        }
    };
    let a = api(st, &id)?;
    Ok(match stage {
        None => a.definition.api.tags.clone(),
        Some(name) => find(&a.stages, "Stage", &name)?.tags.clone(),
    })
}

fn edit(s: &mut StoreState, arn: &str, f: TagEdit<'_>) -> ApiResult<()> {
    let (id, stage) = match target(arn)? {
        Target::Api(id, stage) => (id, stage),
        Target::DomainName(name) => {
            f(&mut domains::domain_mut(s, &name)?.tags);
            return Ok(());
        }
        Target::VpcLink(id) => {
            let missing = super::vpc_links::not_found(&id);
            return links::edit_tags::<VpcLinkV2>(s, &id, missing, f);
        }
    };
    let a = api_mut(s, &id)?;
    match stage {
        None => f(&mut def_mut(a).api.tags),
        Some(name) => f(&mut stage_mut(a, &name)?.tags),
    }
    Ok(())
}

static TAGGING: Tagging = Tagging {
    read,
    edit,
    tagged: || json(201, &serde_json::json!({})),
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
