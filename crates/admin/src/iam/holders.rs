//! The policies of a role or a user, which IAM handles alike: managed policies attached
//! (Attach/Detach/ListAttached{Role,User}Policies) and inline policies
//! (Put/Get/List/Delete{Role,User}Policy).

use std::collections::BTreeMap;
use std::sync::Arc;

use tollgate_store::IamState;

use super::documents::{aws_managed, check, encoded, DocumentKind};
use super::params::{page, Answer, Params};
use super::policies::attachable;
use crate::core::context::Ctx;
use crate::core::error::{ApiError, ApiResult};
use crate::core::query::element;

/// Whose policies a call is about.
#[derive(Clone, Copy)]
pub enum Holder {
    Role,
    User,
}

/// A holder's two policy lists.
struct Lists<'a> {
    attached: &'a mut Vec<String>,
    inline: &'a mut BTreeMap<String, String>,
}

impl Holder {
    /// `RoleName` or `UserName`.
    fn param(self) -> &'static str {
        match self {
            Holder::Role => "RoleName",
            Holder::User => "UserName",
        }
    }

    /// IAM's quota on all of a role's or user's inline policies together (characters,
    /// whitespace not counted).
    fn inline_quota(self) -> usize {
        match self {
            Holder::Role => 10_240,
            Holder::User => 2_048,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Holder::Role => "role",
            Holder::User => "user",
        }
    }

    fn missing(self, name: &str) -> ApiError {
        ApiError::new(
            404,
            "NoSuchEntity",
            format!("The {} with name {name} cannot be found.", self.word()),
        )
    }

    fn lists<'s>(
        self,
        iam: &'s IamState,
        name: &str,
    ) -> ApiResult<(&'s [String], &'s BTreeMap<String, String>)> {
        match self {
            Holder::Role => iam
                .roles
                .get(name)
                .map(|r| (r.attached_policies.as_slice(), &r.inline_policies)),
            Holder::User => iam
                .users
                .get(name)
                .map(|u| (u.attached_policies.as_slice(), &u.inline_policies)),
        }
        .ok_or_else(|| self.missing(name))
    }

    fn lists_mut<'s>(self, iam: &'s mut IamState, name: &str) -> ApiResult<Lists<'s>> {
        match self {
            Holder::Role => iam.roles.get_mut(name).map(|r| {
                let r = Arc::make_mut(r);
                Lists {
                    attached: &mut r.attached_policies,
                    inline: &mut r.inline_policies,
                }
            }),
            Holder::User => iam.users.get_mut(name).map(|u| {
                let u = Arc::make_mut(u);
                Lists {
                    attached: &mut u.attached_policies,
                    inline: &mut u.inline_policies,
                }
            }),
        }
        .ok_or_else(|| self.missing(name))
    }
}

pub async fn attach(ctx: &Ctx, p: &Params<'_>, h: Holder) -> Answer {
    let name = p.name(h.param(), 64)?;
    let arn = p.required("PolicyArn")?;
    ctx.store
        .transact(|s| {
            let iam = Arc::make_mut(&mut s.iam);
            h.lists(iam, name)?;
            if !attachable(iam, arn) {
                return Err(ApiError::new(
                    404,
                    "NoSuchEntity",
                    format!("Policy {arn} does not exist or is not attachable."),
                ));
            }
            let l = h.lists_mut(iam, name)?;
            if !l.attached.iter().any(|a| a == arn) {
                if l.attached.len() >= 10 {
                    return Err(ApiError::new(
                        409,
                        "LimitExceeded",
                        format!(
                            "Cannot exceed quota for PoliciesPer{}: 10",
                            if matches!(h, Holder::Role) {
                                "Role"
                            } else {
                                "User"
                            }
                        ),
                    ));
                }
                l.attached.push(arn.into());
            }
            Ok(())
        })
        .await?;
    Ok(None)
}

pub async fn detach(ctx: &Ctx, p: &Params<'_>, h: Holder) -> Answer {
    let name = p.name(h.param(), 64)?;
    let arn = p.required("PolicyArn")?;
    ctx.store
        .transact(|s| {
            let l = h.lists_mut(Arc::make_mut(&mut s.iam), name)?;
            let before = l.attached.len();
            l.attached.retain(|a| a != arn);
            if l.attached.len() == before {
                return Err(ApiError::new(
                    404,
                    "NoSuchEntity",
                    format!("Policy {arn} was not found."),
                ));
            }
            Ok(())
        })
        .await?;
    Ok(None)
}

pub async fn list_attached(ctx: &Ctx, p: &Params<'_>, h: Holder) -> Answer {
    let name = p.name(h.param(), 64)?;
    let prefix = p.get("PathPrefix").unwrap_or("/");
    let state = ctx.store.state();
    let (attached, _) = h.lists(&state.iam, name)?;
    let items = attached
        .iter()
        .filter_map(|arn| {
            let (policy_name, path) = match (state.iam.policies.get(arn), aws_managed(arn)) {
                (Some(x), _) => (x.policy_name.as_str(), x.path.as_str()),
                (None, Some(a)) => (a.name, a.path),
                (None, None) => return None,
            };
            path.starts_with(prefix).then(|| {
                let mut o = String::new();
                element(&mut o, "PolicyName", policy_name);
                element(&mut o, "PolicyArn", arn);
                (arn.clone(), o)
            })
        })
        .collect();
    page(p, "AttachedPolicies", items).map(Some)
}

pub async fn put_inline(ctx: &Ctx, p: &Params<'_>, h: Holder) -> Answer {
    let name = p.name(h.param(), 64)?;
    let policy = p.name("PolicyName", 128)?;
    let document = p.required("PolicyDocument")?;
    check(document, DocumentKind::Identity)?;
    ctx.store
        .transact(|s| {
            let l = h.lists_mut(Arc::make_mut(&mut s.iam), name)?;
            l.inline.insert(policy.into(), document.into());
            let size: usize = l.inline.values().map(|d| policy_size(d)).sum();
            if size > h.inline_quota() {
                return Err(ApiError::new(
                    409,
                    "LimitExceeded",
                    format!(
                        "Maximum policy size of {} bytes exceeded for {} {name}",
                        h.inline_quota(),
                        h.word()
                    ),
                ));
            }
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(None)
}

fn no_inline(h: Holder, policy: &str) -> ApiError {
    ApiError::new(
        404,
        "NoSuchEntity",
        format!(
            "The {} policy with name {policy} cannot be found.",
            h.word()
        ),
    )
}

pub async fn get_inline(ctx: &Ctx, p: &Params<'_>, h: Holder) -> Answer {
    let name = p.name(h.param(), 64)?;
    let policy = p.name("PolicyName", 128)?;
    let state = ctx.store.state();
    let (_, inline) = h.lists(&state.iam, name)?;
    let doc = inline.get(policy).ok_or_else(|| no_inline(h, policy))?;
    let mut o = String::new();
    element(&mut o, h.param(), name);
    element(&mut o, "PolicyName", policy);
    element(&mut o, "PolicyDocument", &encoded(doc));
    Ok(Some(o))
}

pub async fn list_inline(ctx: &Ctx, p: &Params<'_>, h: Holder) -> Answer {
    let name = p.name(h.param(), 64)?;
    let state = ctx.store.state();
    let (_, inline) = h.lists(&state.iam, name)?;
    let items = inline
        .keys()
        .map(|k| {
            let mut o = String::new();
            o.push_str(&crate::core::query::escape(k));
            (k.clone(), o)
        })
        .collect();
    page(p, "PolicyNames", items).map(Some)
}

pub async fn delete_inline(ctx: &Ctx, p: &Params<'_>, h: Holder) -> Answer {
    let name = p.name(h.param(), 64)?;
    let policy = p.name("PolicyName", 128)?;
    ctx.store
        .transact(|s| {
            let l = h.lists_mut(Arc::make_mut(&mut s.iam), name)?;
            l.inline
                .remove(policy)
                .map(|_| ())
                .ok_or_else(|| no_inline(h, policy))
        })
        .await?;
    Ok(None)
}

/// A policy's size as IAM's quotas count it: its characters but whitespace.
fn policy_size(doc: &str) -> usize {
    doc.chars().filter(|c| !c.is_whitespace()).count()
}
