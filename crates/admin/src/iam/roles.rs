//! Roles: CreateRole, GetRole, ListRoles, DeleteRole, UpdateAssumeRolePolicy, TagRole,
//! UntagRole, ListRoleTags, ListInstanceProfilesForRole.

use std::sync::Arc;

use tollgate_model::iam::{self, Role};
use tollgate_store::IamState;

use super::documents::{check, DocumentKind};
use super::params::{invalid, page, quota, Answer, Params};
use super::views;
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult, Violation};
use crate::core::query::{element, members};

pub fn no_role(name: &str) -> ApiError {
    ApiError::new(
        404,
        "NoSuchEntity",
        format!("The role with name {name} cannot be found."),
    )
}

pub fn get_role<'s>(iam: &'s IamState, name: &str) -> ApiResult<&'s Arc<Role>> {
    iam.roles.get(name).ok_or_else(|| no_role(name))
}

fn role_mut<'s>(iam: &'s mut IamState, name: &str) -> ApiResult<&'s mut Role> {
    iam.roles
        .get_mut(name)
        .map(Arc::make_mut)
        .ok_or_else(|| no_role(name))
}

/// `MaxSessionDuration`: 3600 to 43200 seconds, 3600 by default.
fn max_session(p: &Params<'_>) -> ApiResult<u32> {
    let Some(v) = p.get("MaxSessionDuration") else {
        return Ok(3600);
    };
    match v.parse::<u32>() {
        Ok(n @ 3600..=43200) => Ok(n),
        _ => Err(invalid(Violation::new(
            v,
            "maxSessionDuration",
            "Member must have value less than or equal to 43200",
        ))),
    }
}

pub async fn create(ctx: &Ctx, p: &Params<'_>) -> Answer {
    let name = p.name("RoleName", 64)?;
    let path = p.path("Path")?;
    let document = p.required("AssumeRolePolicyDocument")?;
    check(document, DocumentKind::Trust)?;
    let description = p.get("Description").map(str::to_string);
    let max_session_duration = max_session(p)?;
    let tags = p.tags()?;
    let role = Role {
        role_name: name.into(),
        role_id: tollgate_model::ids::iam_unique_id("AROA"),
        arn: iam::arn("role", &path, name),
        path,
        create_date: tollgate_model::time::now_iso8601(),
        assume_role_policy_document: document.into(),
        description,
        max_session_duration,
        tags,
        attached_policies: Vec::new(),
        inline_policies: Default::default(),
    };
    ctx.store
        .transact(|s| {
            let iam = Arc::make_mut(&mut s.iam);
            if iam.roles.keys().any(|k| k.eq_ignore_ascii_case(name)) {
                return Err(ApiError::new(
                    409,
                    "EntityAlreadyExists",
                    format!("Role with name {name} already exists."),
                ));
            }
            if iam.roles.len() >= 1000 {
                return Err(quota("RolesPerAccount", 1000));
            }
            iam.roles.insert(name.into(), Arc::new(role.clone()));
            Ok(())
        })
        .await?;
    Ok(Some(format!("<Role>{}</Role>", views::role(&role, true))))
}

pub async fn get(ctx: &Ctx, p: &Params<'_>) -> Answer {
    let name = p.name("RoleName", 64)?;
    let state = ctx.store.state();
    let r = get_role(&state.iam, name)?;
    Ok(Some(format!(
        "<Role>{}<RoleLastUsed/></Role>",
        views::role(r, true)
    )))
}

pub async fn list(ctx: &Ctx, p: &Params<'_>) -> Answer {
    let prefix = p.get("PathPrefix").unwrap_or("/");
    let state = ctx.store.state();
    let items = state
        .iam
        .roles
        .values()
        .filter(|r| r.path.starts_with(prefix))
        .map(|r| (r.role_name.clone(), views::role(r, false)))
        .collect();
    page(p, "Roles", items).map(Some)
}

pub async fn delete(ctx: &Ctx, p: &Params<'_>) -> Answer {
    let name = p.name("RoleName", 64)?;
    ctx.store
        .transact(|s| {
            let iam = Arc::make_mut(&mut s.iam);
            let r = get_role(iam, name)?;
            if !r.attached_policies.is_empty() {
                return Err(conflict(
                    "Cannot delete entity, must detach all policies first.",
                ));
            }
            if !r.inline_policies.is_empty() {
                return Err(conflict(
                    "Cannot delete entity, must delete policies first.",
                ));
            }
            iam.roles.remove(name);
            Ok(())
        })
        .await?;
    Ok(None)
}

pub fn conflict(m: &str) -> ApiError {
    ApiError::new(409, "DeleteConflict", m)
}

pub async fn update_assume_role_policy(ctx: &Ctx, p: &Params<'_>) -> Answer {
    let name = p.name("RoleName", 64)?;
    let document = p.required("PolicyDocument")?;
    check(document, DocumentKind::Trust)?;
    ctx.store
        .transact(|s| {
            role_mut(Arc::make_mut(&mut s.iam), name)?.assume_role_policy_document =
                document.into();
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(None)
}

pub async fn tag(ctx: &Ctx, p: &Params<'_>) -> Answer {
    let name = p.name("RoleName", 64)?;
    let tags = p.tags()?;
    ctx.store
        .transact(|s| {
            let r = role_mut(Arc::make_mut(&mut s.iam), name)?;
            for t in &tags {
                // A key already there gets the new value, in its place.
                match r.tags.iter_mut().find(|x| x.key == t.key) {
                    Some(x) => x.value = t.value.clone(),
                    None => r.tags.push(t.clone()),
                }
            }
            if r.tags.len() > 50 {
                return Err(ApiError::new(
                    409,
                    "LimitExceeded",
                    "Cannot exceed quota for TagsPerRole: 50",
                ));
            }
            Ok(())
        })
        .await?;
    Ok(None)
}

pub async fn untag(ctx: &Ctx, p: &Params<'_>) -> Answer {
    let name = p.name("RoleName", 64)?;
    let keys = members(p.0, "TagKeys");
    ctx.store
        .transact(|s| {
            let r = role_mut(Arc::make_mut(&mut s.iam), name)?;
            r.tags.retain(|t| !keys.contains(&t.key));
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(None)
}

pub async fn list_tags(ctx: &Ctx, p: &Params<'_>) -> Answer {
    let name = p.name("RoleName", 64)?;
    let state = ctx.store.state();
    let r = get_role(&state.iam, name)?;
    let items = r
        .tags
        .iter()
        .map(|t| {
            let mut o = String::new();
            element(&mut o, "Key", &t.key);
            element(&mut o, "Value", &t.value);
            (t.key.clone(), o)
        })
        .collect();
    page(p, "Tags", items).map(Some)
}

/// Instance profiles are EC2's; none exist here, but the role must.
pub async fn list_instance_profiles(ctx: &Ctx, p: &Params<'_>) -> Answer {
    let name = p.name("RoleName", 64)?;
    get_role(&ctx.store.state().iam, name)?;
    page(p, "InstanceProfiles", Vec::new()).map(Some)
}
