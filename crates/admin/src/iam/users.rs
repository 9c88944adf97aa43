//! Users and their access keys: CreateUser, GetUser, ListUsers, DeleteUser,
//! CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey. A secret access key
//! is shown once, by CreateAccessKey.

use std::sync::Arc;

use tollgate_model::iam::{self, AccessKey, AccessKeyStatus, User};
use tollgate_store::IamState;

use super::params::{check_name, invalid, page, Answer, Params};
use super::roles::conflict;
use super::views;
use crate::core::context::Ctx;
use crate::core::credentials::KeyOwner;
use crate::core::error::{ApiError, ApiResult, Violation};
use crate::core::query::{element, QueryCall};

/// IAM's quota of access keys per user.
const MAX_KEYS: usize = 2;

fn no_user(name: &str) -> ApiError {
    ApiError::new(
        404,
        "NoSuchEntity",
        format!("The user with name {name} cannot be found."),
    )
}

fn user_mut<'s>(iam: &'s mut IamState, name: &str) -> ApiResult<&'s mut User> {
    iam.users
        .get_mut(name)
        .map(Arc::make_mut)
        .ok_or_else(|| no_user(name))
}

/// `UserName`, or the calling user's when it is left out (a call signed with a user's key).
fn user_name(ctx: &Ctx, p: &Params<'_>, call: &QueryCall) -> ApiResult<String> {
    if let Some(n) = p.get("UserName") {
        check_name(n, "UserName", 64)?;
        return Ok(n.to_string());
    }
    match ctx.keys.owner(&call.caller) {
        Some(KeyOwner::User(u)) => Ok(u.user_name.clone()),
        _ => Err(ApiError::new(
            400,
            "ValidationError",
            "Must specify userName when calling with non-User credentials",
        )),
    }
}

pub async fn create(ctx: &Ctx, p: &Params<'_>) -> Answer {
    let name = p.name("UserName", 64)?;
    let path = p.path("Path")?;
    let user = User {
        user_name: name.into(),
        user_id: tollgate_model::ids::iam_unique_id("AIDA"),
        arn: iam::arn("user", &path, name),
        path,
        create_date: tollgate_model::time::now_iso8601(),
        tags: p.tags()?,
        attached_policies: Vec::new(),
        inline_policies: Default::default(),
        access_keys: Vec::new(),
    };
    ctx.store
        .transact(|s| {
            let iam = Arc::make_mut(&mut s.iam);
            if iam.users.keys().any(|k| k.eq_ignore_ascii_case(name)) {
                return Err(ApiError::new(
                    409,
                    "EntityAlreadyExists",
                    format!("User with name {name} already exists."),
                ));
            }
            if iam.users.len() >= 5000 {
                return Err(super::params::quota("UsersPerAccount", 5000));
            }
            iam.users.insert(name.into(), Arc::new(user.clone()));
            Ok(())
        })
        .await?;
    Ok(Some(format!("<User>{}</User>", views::user(&user, true))))
}

pub async fn get(ctx: &Ctx, p: &Params<'_>, call: &QueryCall) -> Answer {
    if p.get("UserName").is_none() && matches!(ctx.keys.owner(&call.caller), Some(KeyOwner::Root)) {
        // The root user, as IAM shows it to its own credentials.
        let account = tollgate_model::ACCOUNT_ID;
        let mut o = String::new();
        element(&mut o, "UserId", account);
        element(&mut o, "Arn", &format!("arn:aws:iam::{account}:root"));
        element(&mut o, "CreateDate", views::AWS_MANAGED_DATE);
        return Ok(Some(format!("<User>{o}</User>")));
    }
    let name = user_name(ctx, p, call)?;
    let state = ctx.store.state();
    let u = state.iam.users.get(&name).ok_or_else(|| no_user(&name))?;
    Ok(Some(format!("<User>{}</User>", views::user(u, true))))
}

pub async fn list(ctx: &Ctx, p: &Params<'_>) -> Answer {
    let prefix = p.get("PathPrefix").unwrap_or("/");
    let state = ctx.store.state();
    let items = state
        .iam
        .users
        .values()
        .filter(|u| u.path.starts_with(prefix))
        .map(|u| (u.user_name.clone(), views::user(u, false)))
        .collect();
    page(p, "Users", items).map(Some)
}

pub async fn delete(ctx: &Ctx, p: &Params<'_>) -> Answer {
    let name = p.name("UserName", 64)?;
    ctx.store
        .transact(|s| {
            let iam = Arc::make_mut(&mut s.iam);
            let u = iam.users.get(name).ok_or_else(|| no_user(name))?;
            if !u.access_keys.is_empty() {
                return Err(conflict(
                    "Cannot delete entity, must delete access keys first.",
                ));
            }
            if !u.attached_policies.is_empty() {
                return Err(conflict(
                    "Cannot delete entity, must detach all policies first.",
                ));
            }
            if !u.inline_policies.is_empty() {
                return Err(conflict(
                    "Cannot delete entity, must delete policies first.",
                ));
            }
            iam.users.remove(name);
            Ok(())
        })
        .await?;
    Ok(None)
}

pub async fn create_access_key(ctx: &Ctx, p: &Params<'_>, call: &QueryCall) -> Answer {
    let name = user_name(ctx, p, call)?;
    let key = AccessKey {
        access_key_id: tollgate_model::ids::access_key_id("AKIA"),
        secret_access_key: tollgate_model::ids::secret_access_key(),
        status: AccessKeyStatus::Active,
        create_date: tollgate_model::time::now_iso8601(),
    };
    ctx.store
        .transact(|s| {
            let u = user_mut(Arc::make_mut(&mut s.iam), &name)?;
            if u.access_keys.len() >= MAX_KEYS {
                return Err(ApiError::new(
                    409,
                    "LimitExceeded",
                    format!("Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS}"),
                ));
            }
            u.access_keys.push(key.clone());
            Ok(())
        })
        .await?;
    let mut o = String::new();
    element(&mut o, "UserName", &name);
    element(&mut o, "AccessKeyId", &key.access_key_id);
    element(&mut o, "Status", key.status.as_str());
    element(&mut o, "SecretAccessKey", &key.secret_access_key);
    element(&mut o, "CreateDate", &key.create_date);
    Ok(Some(format!("<AccessKey>{o}</AccessKey>")))
}

pub async fn list_access_keys(ctx: &Ctx, p: &Params<'_>, call: &QueryCall) -> Answer {
    let name = user_name(ctx, p, call)?;
    let state = ctx.store.state();
    let u = state.iam.users.get(&name).ok_or_else(|| no_user(&name))?;
    let items = u
        .access_keys
        .iter()
        .map(|k| {
            let mut o = String::new();
            element(&mut o, "UserName", &name);
            element(&mut o, "AccessKeyId", &k.access_key_id);
            element(&mut o, "Status", k.status.as_str());
            element(&mut o, "CreateDate", &k.create_date);
            (k.access_key_id.clone(), o)
        })
        .collect();
    let mut out = String::new();
    element(&mut out, "UserName", &name);
    out.push_str(&page(p, "AccessKeyMetadata", items)?);
    Ok(Some(out))
}

fn no_key(id: &str) -> ApiError {
    ApiError::new(
        404,
        "NoSuchEntity",
        format!("The Access Key with id {id} cannot be found."),
    )
}

pub async fn update_access_key(ctx: &Ctx, p: &Params<'_>, call: &QueryCall) -> Answer {
    let name = user_name(ctx, p, call)?;
    let id = p.required("AccessKeyId")?;
    let status = match p.required("Status")? {
        "Active" => AccessKeyStatus::Active,
        "Inactive" => AccessKeyStatus::Inactive,
        other => {
            return Err(invalid(Violation::enum_value(
                other,
                "status",
                "Active, Inactive",
            )))
        }
    };
    ctx.store
        .transact(|s| {
            let u = user_mut(Arc::make_mut(&mut s.iam), &name)?;
            let k = u
                .access_keys
                .iter_mut()
                .find(|k| k.access_key_id == id)
                .ok_or_else(|| no_key(id))?;
            k.status = status;
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(None)
}

pub async fn delete_access_key(ctx: &Ctx, p: &Params<'_>, call: &QueryCall) -> Answer {
    let name = user_name(ctx, p, call)?;
    let id = p.required("AccessKeyId")?;
    ctx.store
        .transact(|s| {
            let u = user_mut(Arc::make_mut(&mut s.iam), &name)?;
            let before = u.access_keys.len();
            u.access_keys.retain(|k| k.access_key_id != id);
            if u.access_keys.len() == before {
                return Err(no_key(id));
            }
            Ok(())
        })
        .await?;
    Ok(None)
}
