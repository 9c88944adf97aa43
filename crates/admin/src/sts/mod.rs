//! AWS STS (query protocol, version 2011-06-15) on the control-plane endpoint:
//! GetCallerIdentity, which tools and test suites call before anything else to check their
//! credentials (for every key: the root's, an IAM user's, an assumed role's), and
//! AssumeRole, which hands out temporary credentials (`ASIA...` with a session token) that
//! act with the role's policies until they expire.

mod assume_role;

use crate::core::context::Ctx;
use crate::core::credentials::KeyOwner;
use crate::core::error::ApiError;
use crate::core::query::{self, QueryCall, QueryFuture};
use crate::core::registry::{ErrorShape, Recognition, ServiceSpec};

pub(crate) const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// STS on the control-plane endpoint: `/`, told apart from other services' `/` only by the
/// signature's scope.
pub static SERVICE: ServiceSpec<Ctx> = ServiceSpec {
    signing_name: "sts",
    recognition: Recognition::RootScoped,
    routes: axum::Router::new,
    max_body: crate::core::envelope::MAX_BODY,
    error_shape: ErrorShape::Xml(error),
    unknown_operation: crate::core::error::unknown_operation,
    query: Some(handle),
    iam_action: no_permission,
};

fn handle(ctx: Ctx, call: QueryCall) -> QueryFuture {
    Box::pin(async move {
        let result = match call.action.as_str() {
            "GetCallerIdentity" => Ok(caller_identity(&ctx, &call.caller)),
            "AssumeRole" => assume_role::assume_role(&ctx, &call).await,
            other => Err(ApiError::new(
                400,
                "InvalidAction",
                format!("Could not find operation {other} for version 2011-06-15"),
            )),
        };
        match result {
            Ok(r) => query::success(XMLNS, &call.action, Some(&r), &call.request_id),
            Err(e) => error(&e, &call.request_id),
        }
    })
}

/// The caller's ARN and unique id: the root's (`{account}`), a user's (`AIDA...`), or an
/// assumed role's (`AROA...:{session}`).
fn caller_identity(ctx: &Ctx, key: &str) -> String {
    let account = tollgate_model::ACCOUNT_ID;
    let (arn, user_id) = match ctx.keys.owner(key) {
        Some(KeyOwner::User(u)) => (u.arn.clone(), u.user_id.clone()),
        Some(KeyOwner::Session(s)) => {
            let state = ctx.store.state();
            let role_id = state
                .iam
                .roles
                .get(&s.role_name)
                .map_or_else(String::new, |r| r.role_id.clone());
            (s.arn(), format!("{role_id}:{}", s.role_session_name))
        }
        Some(KeyOwner::Root) | None => (format!("arn:aws:iam::{account}:root"), account.into()),
    };
    let mut out = String::new();
    query::element(&mut out, "Arn", &arn);
    query::element(&mut out, "UserId", &user_id);
    query::element(&mut out, "Account", account);
    out
}

/// STS's XML error shape (a refused signature as well as a bad action).
pub fn error(e: &ApiError, request_id: &str) -> axum::response::Response {
    query::error(XMLNS, e, request_id)
}

/// STS checks its own calls (AssumeRole's trust and identity policies) or needs no
/// permission (GetCallerIdentity).
fn no_permission(
    _: &crate::core::registry::IamCall<'_>,
) -> Option<crate::core::registry::IamAction> {
    None
}
