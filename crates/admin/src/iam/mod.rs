//! AWS IAM (query protocol, version 2010-05-08) on the control-plane endpoint: the subset
//! tools and tutorials use. Roles with trust policies and tags, customer managed policies
//! with versions (and the AWS managed policies tutorials attach), users with access keys,
//! and the managed and inline policies of roles and users. Everything is kept in the store
//! (`State.iam`); the data plane takes users' access keys and AssumeRole's credentials as
//! `AWS_IAM` callers with these policies.
//!
//! | module | actions |
//! |---|---|
//! | `roles` | Create/Get/List/DeleteRole, UpdateAssumeRolePolicy, Tag/Untag/ListRoleTags, ListInstanceProfilesForRole |
//! | `policies` | Create/Get/List/DeletePolicy, Create/Get/List/DeletePolicyVersion, SetDefaultPolicyVersion |
//! | `holders` | Attach/Detach/ListAttached{Role,User}Policies, Put/Get/List/Delete{Role,User}Policy |
//! | `users` | Create/Get/List/DeleteUser, Create/List/Update/DeleteAccessKey |

mod actions;
mod documents;
mod holders;
mod params;
mod policies;
mod roles;
mod users;
mod views;

use crate::core::context::Ctx;
use crate::core::error::ApiError;
use crate::core::query::{self, QueryCall, QueryFuture};
use crate::core::registry::{ErrorShape, Recognition, ServiceSpec};
use holders::Holder;
use params::{Answer, Params};

const XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// IAM on the control-plane endpoint: `/`, signed for `iam`.
pub static SERVICE: ServiceSpec<Ctx> = ServiceSpec {
    signing_name: "iam",
    recognition: Recognition::RootScoped,
    routes: axum::Router::new,
    max_body: crate::core::envelope::MAX_BODY,
    error_shape: ErrorShape::Xml(error),
    unknown_operation: crate::core::error::unknown_operation,
    query: Some(handle),
    iam_action: actions::iam_action,
};

fn handle(ctx: Ctx, call: QueryCall) -> QueryFuture {
    Box::pin(async move {
        match action(&ctx, &call).await {
            Ok(result) => query::success(XMLNS, &call.action, result.as_deref(), &call.request_id),
            Err(e) => error(&e, &call.request_id),
        }
    })
}

async fn action(ctx: &Ctx, call: &QueryCall) -> Answer {
    let p = &Params(&call.params);
    let (role, user) = (Holder::Role, Holder::User);
    match call.action.as_str() {
        "CreateRole" => roles::create(ctx, p).await,
        "GetRole" => roles::get(ctx, p).await,
        "ListRoles" => roles::list(ctx, p).await,
        "DeleteRole" => roles::delete(ctx, p).await,
        "UpdateAssumeRolePolicy" => roles::update_assume_role_policy(ctx, p).await,
        "TagRole" => roles::tag(ctx, p).await,
        "UntagRole" => roles::untag(ctx, p).await,
        "ListRoleTags" => roles::list_tags(ctx, p).await,
        "ListInstanceProfilesForRole" => roles::list_instance_profiles(ctx, p).await,
        "CreatePolicy" => policies::create(ctx, p).await,
        "GetPolicy" => policies::get(ctx, p).await,
        "ListPolicies" => policies::list(ctx, p).await,
        "DeletePolicy" => policies::delete(ctx, p).await,
        "CreatePolicyVersion" => policies::create_version(ctx, p).await,
        "GetPolicyVersion" => policies::get_version(ctx, p).await,
        "ListPolicyVersions" => policies::list_versions(ctx, p).await,
        "DeletePolicyVersion" => policies::delete_version(ctx, p).await,
        "SetDefaultPolicyVersion" => policies::set_default_version(ctx, p).await,
        "AttachRolePolicy" => holders::attach(ctx, p, role).await,
        "DetachRolePolicy" => holders::detach(ctx, p, role).await,
        "ListAttachedRolePolicies" => holders::list_attached(ctx, p, role).await,
        "PutRolePolicy" => holders::put_inline(ctx, p, role).await,
        "GetRolePolicy" => holders::get_inline(ctx, p, role).await,
        "ListRolePolicies" => holders::list_inline(ctx, p, role).await,
        "DeleteRolePolicy" => holders::delete_inline(ctx, p, role).await,
        "AttachUserPolicy" => holders::attach(ctx, p, user).await,
        "DetachUserPolicy" => holders::detach(ctx, p, user).await,
        "ListAttachedUserPolicies" => holders::list_attached(ctx, p, user).await,
        "PutUserPolicy" => holders::put_inline(ctx, p, user).await,
        "GetUserPolicy" => holders::get_inline(ctx, p, user).await,
        "ListUserPolicies" => holders::list_inline(ctx, p, user).await,
        "DeleteUserPolicy" => holders::delete_inline(ctx, p, user).await,
        "CreateUser" => users::create(ctx, p).await,
        "GetUser" => users::get(ctx, p, call).await,
        "ListUsers" => users::list(ctx, p).await,
        "DeleteUser" => users::delete(ctx, p).await,
        "CreateAccessKey" => users::create_access_key(ctx, p, call).await,
        "ListAccessKeys" => users::list_access_keys(ctx, p, call).await,
        "UpdateAccessKey" => users::update_access_key(ctx, p, call).await,
        "DeleteAccessKey" => users::delete_access_key(ctx, p, call).await,
        other => Err(ApiError::new(
            400,
            "InvalidAction",
            format!("Could not find operation {other} for version 2010-05-08"),
        )),
    }
}

/// IAM's XML error shape.
pub fn error(e: &ApiError, request_id: &str) -> axum::response::Response {
    query::error(XMLNS, e, request_id)
}
