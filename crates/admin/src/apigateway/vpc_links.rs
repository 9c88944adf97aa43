//! CreateVpcLink, GetVpcLinks, GetVpcLink, UpdateVpcLink, DeleteVpcLink (v1, NLB target
//! ARNs), on the rules v1 and v2 share (`core/vpc_links.rs`): created PENDING, AVAILABLE
//! once provisioned; traffic goes where the `tollgate:target` tag (or the gateway's
//! `--vpc-link-target`) says.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use tollgate_model::vpc_link::{VpcLink, AVAILABLE, PENDING};
use tollgate_store::DomainsState;

use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::pagination::page;
use crate::core::patch::PatchBody;
use crate::core::util::{empty, json, parse_body, Query as Q};
use crate::core::vpc_links::{self as links, LinkKind};

impl LinkKind for VpcLink {
    fn links(d: &DomainsState) -> &BTreeMap<String, std::sync::Arc<Self>> {
        &d.vpc_links
    }
    fn links_mut(d: &mut DomainsState) -> &mut BTreeMap<String, std::sync::Arc<Self>> {
        &mut d.vpc_links
    }
    fn set_available(&mut self) {
        self.status = AVAILABLE.into();
        self.status_message = Some("Your vpc link is ready for use".into());
    }
    fn tags(&self) -> &BTreeMap<String, String> {
        &self.tags
    }
    fn tags_mut(&mut self) -> &mut BTreeMap<String, String> {
        &mut self.tags
    }
}

pub(super) fn not_found() -> ApiError {
    ApiError::not_found("Invalid Vpc Link identifier specified")
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateInput {
    #[serde(default)]
    name: String,
    description: Option<String>,
    #[serde(default)]
    target_arns: Vec<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

/// `arn:{partition}:{service}:{region}:{account}:{resource}`.
fn well_formed(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6 && parts[0] == "arn" && !parts[2].is_empty() && !parts[5].is_empty()
}

pub async fn create(State(ctx): State<Ctx>, body: Bytes) -> ApiResult<Response> {
    let i: CreateInput = parse_body(&body)?;
    if i.name.trim().is_empty() {
        return Err(ApiError::bad_request("Name cannot be empty"));
    }
    if i.target_arns.is_empty() {
        return Err(ApiError::bad_request("TargetArns cannot be empty"));
    }
    if let Some(arn) = i.target_arns.iter().find(|a| !well_formed(a)) {
        return Err(ApiError::bad_request(format!(
            "Invalid ARN. ARN is not well formed {arn}"
        )));
    }
    let link = links::create(&ctx, &i.tags, |id| VpcLink {
        id,
        name: i.name.clone(),
        description: i.description.clone(),
        target_arns: i.target_arns.clone(),
        status: PENDING.into(),
        status_message: Some("VPC link is provisioning".into()),
        tags: i.tags.clone(),
    })
    .await?;
    links::provision::<VpcLink>(&ctx, &link.id);
    Ok(json(202, &links::view(&*link)))
}

pub async fn list(State(ctx): State<Ctx>, Query(q): Query<Q>) -> ApiResult<Response> {
    page(links::views::<VpcLink>(&ctx), &q)
}

pub async fn get(State(ctx): State<Ctx>, Path(id): Path<String>) -> ApiResult<Response> {
    let l = links::get::<VpcLink>(&ctx, &id).ok_or_else(not_found)?;
    Ok(json(200, &l))
}

pub async fn update(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let ops = PatchBody::parse(&body, "UpdateVpcLinkRequest")?;
    let updated = links::update(&ctx, &id, not_found(), |l: &mut VpcLink| {
        for op in &ops {
            match (op.op.as_str(), op.path.as_deref()) {
                ("replace", Some("/name")) => {
                    l.name = op.value.clone().unwrap_or_default();
                    if l.name.trim().is_empty() {
                        return Err(ApiError::bad_request("Name cannot be empty"));
                    }
                }
                ("replace", Some("/description")) => l.description = op.value.clone(),
                (_, path) => {
                    return Err(ApiError::bad_request(format!(
                        "Invalid patch path {}",
                        path.unwrap_or_default()
                    )))
                }
            }
        }
        Ok(())
    })
    .await?;
    Ok(json(200, &updated))
}

pub async fn delete(State(ctx): State<Ctx>, Path(id): Path<String>) -> ApiResult<Response> {
    links::delete::<VpcLink>(&ctx, &id, not_found()).await?;
    Ok(empty(202))
}
