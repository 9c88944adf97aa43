//! IAM's entities as its XML answers show them.

use tollgate_model::iam::{ManagedPolicy, Role, User};
use tollgate_store::IamState;

use super::documents::{encoded, AwsManaged};
use super::params::tags_xml;
use crate::core::query::element;

/// A role; `tags` is false in lists (ListRoles shows no tags).
pub fn role(r: &Role, tags: bool) -> String {
    let mut o = String::new();
    element(&mut o, "Path", &r.path);
    element(&mut o, "RoleName", &r.role_name);
    element(&mut o, "RoleId", &r.role_id);
    element(&mut o, "Arn", &r.arn);
    element(&mut o, "CreateDate", &r.create_date);
    element(
        &mut o,
        "AssumeRolePolicyDocument",
        &encoded(&r.assume_role_policy_document),
    );
    if let Some(d) = &r.description {
        element(&mut o, "Description", d);
    }
    element(
        &mut o,
        "MaxSessionDuration",
        &r.max_session_duration.to_string(),
    );
    if tags {
        tags_xml(&mut o, &r.tags);
    }
    o
}

pub fn user(u: &User, tags: bool) -> String {
    let mut o = String::new();
    element(&mut o, "Path", &u.path);
    element(&mut o, "UserName", &u.user_name);
    element(&mut o, "UserId", &u.user_id);
    element(&mut o, "Arn", &u.arn);
    element(&mut o, "CreateDate", &u.create_date);
    if tags {
        tags_xml(&mut o, &u.tags);
    }
    o
}

/// How many roles and users have the policy `arn` attached.
pub fn attachment_count(iam: &IamState, arn: &str) -> usize {
    let roles = iam.roles.values().map(|r| &r.attached_policies);
    let users = iam.users.values().map(|u| &u.attached_policies);
    roles
        .chain(users)
        .filter(|a| a.iter().any(|p| p == arn))
        .count()
}

/// The members every managed policy shows.
struct PolicyView<'a> {
    name: &'a str,
    id: &'a str,
    arn: &'a str,
    path: &'a str,
    default_version: &'a str,
    description: Option<&'a str>,
    create_date: &'a str,
    update_date: &'a str,
}

fn policy_view(v: &PolicyView<'_>, attachments: usize) -> String {
    let mut o = String::new();
    element(&mut o, "PolicyName", v.name);
    element(&mut o, "DefaultVersionId", v.default_version);
    element(&mut o, "PolicyId", v.id);
    element(&mut o, "Path", v.path);
    element(&mut o, "Arn", v.arn);
    element(&mut o, "AttachmentCount", &attachments.to_string());
    element(&mut o, "PermissionsBoundaryUsageCount", "0");
    element(&mut o, "IsAttachable", "true");
    if let Some(d) = v.description {
        element(&mut o, "Description", d);
    }
    element(&mut o, "CreateDate", v.create_date);
    element(&mut o, "UpdateDate", v.update_date);
    o
}

/// A customer managed policy; `tags` as for [`role`].
pub fn policy(p: &ManagedPolicy, iam: &IamState, tags: bool) -> String {
    let view = PolicyView {
        name: &p.policy_name,
        id: &p.policy_id,
        arn: &p.arn,
        path: &p.path,
        default_version: &p.default_version_id,
        description: p.description.as_deref(),
        create_date: &p.create_date,
        update_date: &p.update_date,
    };
    let mut o = policy_view(&view, attachment_count(iam, &p.arn));
    if tags {
        tags_xml(&mut o, &p.tags);
    }
    o
}

/// The date AWS managed policies show (they have one version, `v1`, here).
pub const AWS_MANAGED_DATE: &str = "2015-04-09T15:03:43Z";

pub fn aws_policy(p: &AwsManaged, iam: &IamState) -> String {
    let arn = p.arn();
    let view = PolicyView {
        name: p.name,
        id: p.id,
        arn: &arn,
        path: p.path,
        default_version: "v1",
        description: Some(p.description),
        create_date: AWS_MANAGED_DATE,
        update_date: AWS_MANAGED_DATE,
    };
    policy_view(&view, attachment_count(iam, &arn))
}

/// A policy version; the document only where AWS shows it (GetPolicyVersion).
pub fn version(id: &str, document: Option<&str>, default: bool, created: &str) -> String {
    let mut o = String::new();
    if let Some(d) = document {
        element(&mut o, "Document", &encoded(d));
    }
    element(&mut o, "VersionId", id);
    element(
        &mut o,
        "IsDefaultVersion",
        if default { "true" } else { "false" },
    );
    element(&mut o, "CreateDate", created);
    o
}
