//! CreateVpcLink, GetVpcLinks, GetVpcLink, UpdateVpcLink, DeleteVpcLink (v2: subnets and
//! security groups), on the rules v1 and v2 share (`core/vpc_links.rs`).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use tollgate_model::time;
use tollgate_model::vpc_link::{VpcLinkV2, AVAILABLE, PENDING};
use tollgate_store::DomainsState;

use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::pagination::page_v2;
use crate::core::util::{json, parse_body, Query as Q};
use crate::core::vpc_links::{self as links, LinkKind};

impl LinkKind for VpcLinkV2 {
    fn links(d: &DomainsState) -> &BTreeMap<String, std::sync::Arc<Self>> {
        &d.vpc_links_v2
    }
    fn links_mut(d: &mut DomainsState) -> &mut BTreeMap<String, std::sync::Arc<Self>> {
        &mut d.vpc_links_v2
    }
    fn set_available(&mut self) {
        self.vpc_link_status = AVAILABLE.into();
        self.vpc_link_status_message = Some("VPC link is ready to route traffic".into());
    }
    fn tags(&self) -> &BTreeMap<String, String> {
        &self.tags
    }
    fn tags_mut(&mut self) -> &mut BTreeMap<String, String> {
        &mut self.tags
    }
}

pub(super) fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Invalid VpcLink identifier specified {id}"))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateInput {
    #[serde(default)]
    name: String,
    #[serde(default)]
    subnet_ids: Vec<String>,
    #[serde(default)]
    security_group_ids: Vec<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct UpdateInput {
    name: Option<String>,
}

pub async fn create(State(ctx): State<Ctx>, body: Bytes) -> ApiResult<Response> {
    let i: CreateInput = parse_body(&body)?;
    if i.name.trim().is_empty() {
        return Err(ApiError::bad_request("Name cannot be empty"));
    }
    if i.subnet_ids.is_empty() {
        return Err(ApiError::bad_request("SubnetIds cannot be empty"));
    }
    let link = links::create(&ctx, &i.tags, |id| VpcLinkV2 {
        vpc_link_id: id,
        name: i.name.clone(),
        created_date: time::now_iso8601(),
        subnet_ids: i.subnet_ids.clone(),
        security_group_ids: i.security_group_ids.clone(),
        tags: i.tags.clone(),
        vpc_link_status: PENDING.into(),
        vpc_link_status_message: Some("VPC link is provisioning ENIs".into()),
        vpc_link_version: "V2".into(),
    })
    .await?;
    links::provision::<VpcLinkV2>(&ctx, &link.vpc_link_id);
    Ok(json(201, &links::view(&*link)))
}

pub async fn list(State(ctx): State<Ctx>, Query(q): Query<Q>) -> ApiResult<Response> {
    page_v2(links::views::<VpcLinkV2>(&ctx), &q)
}

pub async fn get(State(ctx): State<Ctx>, Path(id): Path<String>) -> ApiResult<Response> {
    let l = links::get::<VpcLinkV2>(&ctx, &id).ok_or_else(|| not_found(&id))?;
    Ok(json(200, &l))
}

pub async fn update(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let i: UpdateInput = parse_body(&body)?;
    let updated = links::update(&ctx, &id, not_found(&id), |l: &mut VpcLinkV2| {
        if let Some(name) = &i.name {
            if name.trim().is_empty() {
                return Err(ApiError::bad_request("Name cannot be empty"));
            }
            l.name = name.clone();
        }
        Ok(())
    })
    .await?;
    Ok(json(200, &updated))
}

pub async fn delete(State(ctx): State<Ctx>, Path(id): Path<String>) -> ApiResult<Response> {
    links::delete::<VpcLinkV2>(&ctx, &id, not_found(&id)).await?;
    Ok(json(202, &serde_json::json!({})))
}
