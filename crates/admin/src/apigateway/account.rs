//! GetAccount and UpdateAccount.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;

use crate::core::error::{ApiError, ApiResult};
use tollgate_model::Account;

use crate::core::context::Ctx;
use crate::core::patch::{patch_f64, patch_i64, PatchBody};
use crate::core::patch_table::{Change, NoMatch, PatchRule, PatchTable};
use crate::core::util::json;

pub async fn get(State(ctx): State<Ctx>) -> ApiResult<Response> {
    Ok(json(200, ctx.store.state().account.as_ref()))
}

/// UpdateAccount's paths.
static ACCOUNT_PATCH: PatchTable<Account, ()> = PatchTable {
    rules: &[
        PatchRule {
            ops: &["replace"],
            path: "/cloudwatchRoleArn",
            apply: |acct, c| {
                acct.cloudwatch_role_arn = Some(value(c)).filter(|s| !s.is_empty());
                Ok(())
            },
        },
        PatchRule {
            ops: &["add"],
            path: "/features",
            apply: |acct, c| {
                let v = value(c);
                if !acct.features.contains(&v) {
                    acct.features.push(v);
                }
                Ok(())
            },
        },
        PatchRule {
            ops: &["remove"],
            path: "/features",
            apply: |acct, c| {
                let v = value(c);
                acct.features.retain(|f| *f != v);
                Ok(())
            },
        },
        // Tollgate extension: the account-level throttle is the gateway's own setting here
        // (on AWS it is a service quota).
        PatchRule {
            ops: &["replace"],
            path: "/throttleSettings/burstLimit",
            apply: |acct, c| {
                acct.throttle_settings.burst_limit = patch_i64(Some(&value(c)), c.path)?;
                Ok(())
            },
        },
        PatchRule {
            ops: &["replace"],
            path: "/throttleSettings/rateLimit",
            apply: |acct, c| {
                acct.throttle_settings.rate_limit = patch_f64(Some(&value(c)), c.path)?;
                Ok(())
            },
        },
    ],
    replace_only: &[],
    no_match: NoMatch::InvalidPath,
};

/// The op's value; a missing one counts as empty.
fn value(c: &Change<'_, ()>) -> String {
    c.value.unwrap_or_default().to_string()
}

pub async fn update(State(ctx): State<Ctx>, body: Bytes) -> ApiResult<Response> {
    let ops = PatchBody::parse(&body, "updateAccountInput")?;
    let out = ctx
        .store
        .transact(|s| {
            let acct = Arc::make_mut(&mut s.account);
            ACCOUNT_PATCH.apply(acct, &(), &ops)?;
            Ok::<_, ApiError>(acct.clone())
        })
        .await?;
    Ok(json(200, &out))
}
