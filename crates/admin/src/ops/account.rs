//! GetAccount and UpdateAccount.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;

use crate::error::{ApiError, ApiResult};
use crate::patch::{invalid_path, PatchBody};
use crate::util::json;
use crate::Ctx;

pub async fn get(State(ctx): State<Ctx>) -> ApiResult<Response> {
    Ok(json(200, ctx.store.state().account.as_ref()))
}

pub async fn update(State(ctx): State<Ctx>, body: Bytes) -> ApiResult<Response> {
    let ops = PatchBody::parse(&body, "updateAccountInput")?;
    let out = ctx.store.transact(|s| {
        let acct = Arc::make_mut(&mut s.account);
        for op in &ops {
            let path = op.path()?;
            let v = op.value().unwrap_or_default().to_string();
            match (op.op.as_str(), path) {
                ("replace", "/cloudwatchRoleArn") => {
                    acct.cloudwatch_role_arn = Some(v).filter(|s| !s.is_empty());
                }
                ("add", "/features") => {
                    if !acct.features.contains(&v) {
                        acct.features.push(v);
                    }
                }
                ("remove", "/features") => acct.features.retain(|f| *f != v),
                // Tollgate extension: the account-level throttle is the gateway's own
                // setting here (on AWS it is a service quota).
                ("replace", "/throttleSettings/burstLimit") => {
                    acct.throttle_settings.burst_limit = crate::util::patch_i64(Some(&v), path)?
                }
                ("replace", "/throttleSettings/rateLimit") => {
                    acct.throttle_settings.rate_limit = crate::util::patch_f64(Some(&v), path)?
                }
                _ => return Err(invalid_path(path)),
            }
        }
        Ok::<_, ApiError>(acct.clone())
    })?;
    Ok(json(200, &out))
}
