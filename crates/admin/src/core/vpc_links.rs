//! What v1's and v2's VPC links share (one store, two views, as custom domains): the
//! `tollgate:target` tag's check, creation (PENDING, AVAILABLE once provisioned), lists,
//! reads and deletes. The services' modules keep only their inputs and wire details.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use tollgate_model::ids;
use tollgate_model::vpc_link::{parse_targets, TARGET_TAG};
use tollgate_store::{DomainsState, State};

use super::context::Ctx;
use super::error::{ApiError, ApiResult};
use super::provisioning;
use super::tags::{TagEdit, Tags};

/// A kind of VPC link (v1 or v2) in the store.
pub trait LinkKind: Serialize + Clone + Send + Sync + 'static {
    fn links(d: &DomainsState) -> &BTreeMap<String, Arc<Self>>;
    fn links_mut(d: &mut DomainsState) -> &mut BTreeMap<String, Arc<Self>>;
    /// Provisioned: AVAILABLE with AWS's message.
    fn set_available(&mut self);
    fn tags(&self) -> &BTreeMap<String, String>;
    fn tags_mut(&mut self) -> &mut BTreeMap<String, String>;
}

/// The tags of link `id` (GetTags).
pub fn tags<K: LinkKind>(s: &State, id: &str, missing: ApiError) -> ApiResult<Tags> {
    Ok(K::links(&s.domains).get(id).ok_or(missing)?.tags().clone())
}

/// TagResource/UntagResource on link `id`: a `tollgate:target` tag that is not a target
/// list is refused and nothing changes. The gateway resolves the link's targets anew from
/// the committed state, so a retarget applies to the next request.
pub fn edit_tags<K: LinkKind>(
    s: &mut State,
    id: &str,
    missing: ApiError,
    f: TagEdit<'_>,
) -> ApiResult<()> {
    let links = K::links_mut(Arc::make_mut(&mut s.domains));
    let link = Arc::make_mut(links.get_mut(id).ok_or(missing)?);
    f(link.tags_mut());
    check_tags(link.tags())
}

/// The stored shape is AWS's.
pub fn view<K: LinkKind>(l: &K) -> Value {
    serde_json::to_value(l).unwrap_or_default()
}

/// A `tollgate:target` tag must be a target list.
pub fn check_tags(tags: &BTreeMap<String, String>) -> ApiResult<()> {
    match tags.get(TARGET_TAG) {
        Some(v) if parse_targets(v).is_none() => Err(ApiError::bad_request(format!(
            "Tag {TARGET_TAG} must be host:port[,host:port...], not {v}"
        ))),
        _ => Ok(()),
    }
}

fn make_available<K: LinkKind>(s: &mut State, id: &str) {
    if let Some(l) = K::links_mut(Arc::make_mut(&mut s.domains)).get_mut(id) {
        Arc::make_mut(l).set_available();
    }
}

/// Stores a new link built by `build` from its id; it turns AVAILABLE in a later write.
pub async fn create<K: LinkKind>(
    ctx: &Ctx,
    tags: &BTreeMap<String, String>,
    build: impl Fn(String) -> K + Sync,
) -> ApiResult<Arc<K>> {
    check_tags(tags)?;
    let link = ctx
        .store
        .transact(|s| {
            let id = ids::unique(ids::short_id, |id| K::links(&s.domains).contains_key(id));
            let link = Arc::new(build(id.clone()));
            K::links_mut(Arc::make_mut(&mut s.domains)).insert(id, link.clone());
            Ok::<_, ApiError>(link)
        })
        .await?;
    Ok(link)
}

/// Schedules `id`'s provisioning (after the creating write is committed).
pub fn provision<K: LinkKind>(ctx: &Ctx, id: &str) {
    provisioning::finish_later(&ctx.store, id.to_string(), make_available::<K>);
}

/// Every link's view, by id.
pub fn views<K: LinkKind>(ctx: &Ctx) -> Vec<(String, Value)> {
    let state = ctx.store.state();
    K::links(&state.domains)
        .iter()
        .map(|(k, l)| (k.clone(), view(&**l)))
        .collect()
}

/// One link's view.
pub fn get<K: LinkKind>(ctx: &Ctx, id: &str) -> Option<Value> {
    let state = ctx.store.state();
    K::links(&state.domains).get(id).map(|l| view(&**l))
}

/// Edits link `id` with `edit`; `missing` is the service's error for an unknown id.
pub async fn update<K: LinkKind>(
    ctx: &Ctx,
    id: &str,
    missing: ApiError,
    edit: impl Fn(&mut K) -> ApiResult<()> + Sync,
) -> ApiResult<Value> {
    let updated = ctx
        .store
        .transact(|s| {
            let links = K::links_mut(Arc::make_mut(&mut s.domains));
            let l = links.get_mut(id).ok_or_else(|| missing.clone())?;
            let l = Arc::make_mut(l);
            edit(l)?;
            Ok::<_, ApiError>(l.clone())
        })
        .await?;
    Ok(view(&updated))
}

/// Deletes link `id`.
pub async fn delete<K: LinkKind>(ctx: &Ctx, id: &str, missing: ApiError) -> ApiResult<()> {
    ctx.store
        .transact(|s| {
            let links = K::links_mut(Arc::make_mut(&mut s.domains));
            links.remove(id).map(|_| ()).ok_or_else(|| missing.clone())
        })
        .await
}
