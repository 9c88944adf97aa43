//! Managed policies and their versions: CreatePolicy, GetPolicy, ListPolicies,
//! DeletePolicy, CreatePolicyVersion, GetPolicyVersion, ListPolicyVersions,
//! DeletePolicyVersion. AWS managed policies (see [`super::documents::AWS_MANAGED`]) can be
//! read, listed and attached, never changed.

use std::sync::Arc;

use tollgate_model::iam::{self, ManagedPolicy, PolicyVersion};
use tollgate_store::IamState;

use super::documents::{aws_managed, check, DocumentKind, AWS_MANAGED};
use super::params::{page, Answer, Params};
use super::roles::conflict;
use super::views::{self, attachment_count, AWS_MANAGED_DATE};
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};

/// IAM keeps at most this many versions of a policy.
const MAX_VERSIONS: usize = 5;

fn not_found(arn: &str) -> ApiError {
    ApiError::new(404, "NoSuchEntity", format!("Policy {arn} was not found."))
}

fn aws_read_only(arn: &str) -> ApiError {
    ApiError::new(
        403,
        "AccessDenied",
        format!("Policy {arn} is an AWS managed policy and cannot be changed."),
    )
}

fn policy_mut<'s>(iam: &'s mut IamState, arn: &str) -> ApiResult<&'s mut ManagedPolicy> {
    if aws_managed(arn).is_some() {
        return Err(aws_read_only(arn));
    }
    iam.policies
        .get_mut(arn)
        .map(Arc::make_mut)
        .ok_or_else(|| not_found(arn))
}

/// Whether `arn` names a policy that can be attached (customer or AWS managed).
pub fn attachable(iam: &IamState, arn: &str) -> bool {
    iam.policies.contains_key(arn) || aws_managed(arn).is_some()
}

pub async fn create(ctx: &Ctx, p: &Params<'_>) -> Answer {
    let name = p.name("PolicyName", 128)?;
    let path = p.path("Path")?;
    let document = p.required("PolicyDocument")?;
    check(document, DocumentKind::Identity)?;
    let now = tollgate_model::time::now_iso8601();
    let policy = ManagedPolicy {
        policy_name: name.into(),
        policy_id: tollgate_model::ids::iam_unique_id("ANPA"),
        arn: iam::arn("policy", &path, name),
        path,
        description: p.get("Description").map(str::to_string),
        create_date: now.clone(),
        update_date: now.clone(),
        default_version_id: "v1".into(),
        versions: vec![PolicyVersion {
            version_id: "v1".into(),
            document: document.into(),
            create_date: now,
        }],
        next_version: 2,
        tags: p.tags()?,
    };
    let state = ctx
        .store
        .transact(|s| {
            let iam = Arc::make_mut(&mut s.iam);
            // Names are unique in the account whatever the path.
            if iam
                .policies
                .values()
                .any(|x| x.policy_name.eq_ignore_ascii_case(name))
            {
                return Err(ApiError::new(
                    409,
                    "EntityAlreadyExists",
                    format!(
                        "A policy called {name} already exists. Duplicate names are not allowed."
                    ),
                ));
            }
            if iam.policies.len() >= 1500 {
                return Err(super::params::quota("PoliciesPerAccount", 1500));
            }
            iam.policies
                .insert(policy.arn.clone(), Arc::new(policy.clone()));
            Ok(s.iam.clone())
        })
        .await?;
    Ok(Some(format!(
        "<Policy>{}</Policy>",
        views::policy(&policy, &state, true)
    )))
}

pub async fn get(ctx: &Ctx, p: &Params<'_>) -> Answer {
    let arn = p.required("PolicyArn")?;
    let state = ctx.store.state();
    let iam = &state.iam;
    let view = match (iam.policies.get(arn), aws_managed(arn)) {
        (Some(x), _) => views::policy(x, iam, true),
        (None, Some(a)) => views::aws_policy(a, iam),
        (None, None) => return Err(not_found(arn)),
    };
    Ok(Some(format!("<Policy>{view}</Policy>")))
}

pub async fn list(ctx: &Ctx, p: &Params<'_>) -> Answer {
    let scope = p.get("Scope").unwrap_or("All");
    let attached_only = p.get("OnlyAttached") == Some("true");
    let prefix = p.get("PathPrefix").unwrap_or("/");
    let state = ctx.store.state();
    let iam = &state.iam;
    let keep = |arn: &str, path: &str| {
        path.starts_with(prefix) && (!attached_only || attachment_count(iam, arn) > 0)
    };
    let mut items = Vec::new();
    if scope != "Local" {
        for a in AWS_MANAGED {
            let arn = a.arn();
            if keep(&arn, a.path) {
                items.push((arn, views::aws_policy(a, iam)));
            }
        }
    }
    if scope != "AWS" {
        for x in iam.policies.values().filter(|x| keep(&x.arn, &x.path)) {
            items.push((x.arn.clone(), views::policy(x, iam, false)));
        }
    }
    page(p, "Policies", items).map(Some)
}

pub async fn delete(ctx: &Ctx, p: &Params<'_>) -> Answer {
    let arn = p.required("PolicyArn")?;
    ctx.store
        .transact(|s| {
            let iam = Arc::make_mut(&mut s.iam);
            let attached = attachment_count(iam, arn) > 0;
            let x = policy_mut(iam, arn)?;
            if attached {
                return Err(conflict("Cannot delete a policy attached to entities."));
            }
            if x.versions.len() > 1 {
                return Err(conflict(
                    "Cannot delete a policy with multiple versions. Delete all non-default versions first.",
                ));
            }
            iam.policies.remove(arn);
            Ok(())
        })
        .await?;
    Ok(None)
}

pub async fn create_version(ctx: &Ctx, p: &Params<'_>) -> Answer {
    let arn = p.required("PolicyArn")?;
    let document = p.required("PolicyDocument")?;
    check(document, DocumentKind::Identity)?;
    let set_default = p.get("SetAsDefault") == Some("true");
    let version = ctx
        .store
        .transact(|s| {
            let x = policy_mut(Arc::make_mut(&mut s.iam), arn)?;
            if x.versions.len() >= MAX_VERSIONS {
                return Err(ApiError::new(
                    409,
                    "LimitExceeded",
                    "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
                ));
            }
            let now = tollgate_model::time::now_iso8601();
            let v = PolicyVersion {
                version_id: format!("v{}", x.next_version),
                document: document.into(),
                create_date: now.clone(),
            };
            x.next_version += 1;
            x.versions.push(v.clone());
            if set_default {
                x.default_version_id = v.version_id.clone();
                x.update_date = now;
            }
            Ok(v)
        })
        .await?;
    let view = views::version(&version.version_id, None, set_default, &version.create_date);
    Ok(Some(format!("<PolicyVersion>{view}</PolicyVersion>")))
}

fn no_version(arn: &str, id: &str) -> ApiError {
    ApiError::new(
        404,
        "NoSuchEntity",
        format!("Policy {arn} version {id} does not exist or is not attachable."),
    )
}

pub async fn get_version(ctx: &Ctx, p: &Params<'_>) -> Answer {
    let arn = p.required("PolicyArn")?;
    let id = p.required("VersionId")?;
    let state = ctx.store.state();
    let view = match (state.iam.policies.get(arn), aws_managed(arn)) {
        (Some(x), _) => {
            let v = x
                .versions
                .iter()
                .find(|v| v.version_id == id)
                .ok_or_else(|| no_version(arn, id))?;
            let default = x.default_version_id == id;
            views::version(id, Some(&v.document), default, &v.create_date)
        }
        (None, Some(a)) if id == "v1" => {
            views::version(id, Some(a.document), true, AWS_MANAGED_DATE)
        }
        _ => return Err(no_version(arn, id)),
    };
    Ok(Some(format!("<PolicyVersion>{view}</PolicyVersion>")))
}

pub async fn list_versions(ctx: &Ctx, p: &Params<'_>) -> Answer {
    let arn = p.required("PolicyArn")?;
    let state = ctx.store.state();
    let items = match (state.iam.policies.get(arn), aws_managed(arn)) {
        // Newest first, as IAM lists them.
        (Some(x), _) => x
            .versions
            .iter()
            .rev()
            .map(|v| {
                let default = v.version_id == x.default_version_id;
                let view = views::version(&v.version_id, None, default, &v.create_date);
                (v.version_id.clone(), view)
            })
            .collect(),
        (None, Some(_)) => vec![(
            "v1".into(),
            views::version("v1", None, true, AWS_MANAGED_DATE),
        )],
        (None, None) => return Err(not_found(arn)),
    };
    page(p, "Versions", items).map(Some)
}

pub async fn delete_version(ctx: &Ctx, p: &Params<'_>) -> Answer {
    let arn = p.required("PolicyArn")?;
    let id = p.required("VersionId")?;
    ctx.store
        .transact(|s| {
            let x = policy_mut(Arc::make_mut(&mut s.iam), arn)?;
            if x.default_version_id == id {
                return Err(conflict("Cannot delete the default version of a policy."));
            }
            let before = x.versions.len();
            x.versions.retain(|v| v.version_id != id);
            if x.versions.len() == before {
                return Err(no_version(arn, id));
            }
            Ok(())
        })
        .await?;
    Ok(None)
}

/// SetDefaultPolicyVersion.
pub async fn set_default_version(ctx: &Ctx, p: &Params<'_>) -> Answer {
    let arn = p.required("PolicyArn")?;
    let id = p.required("VersionId")?;
    ctx.store
        .transact(|s| {
            let x = policy_mut(Arc::make_mut(&mut s.iam), arn)?;
            if !x.versions.iter().any(|v| v.version_id == id) {
                return Err(no_version(arn, id));
            }
            x.default_version_id = id.into();
            x.update_date = tollgate_model::time::now_iso8601();
            Ok(())
        })
        .await?;
    Ok(None)
}
