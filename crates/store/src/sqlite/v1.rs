//! Reading the v1 layout (for the migration only): whole definitions in `restapi` rows,
//! full snapshots inside `deployment` rows, keys of deployments and stages `{api}/{id}`.

use std::sync::Arc;

use rusqlite::Transaction;
use serde::de::DeserializeOwned;
use tollgate_model::lambda::Function;
use tollgate_model::{ApiKey, Deployment, RestApiDefinition, Stage, UsagePlan};

use crate::error::StoreError;
use crate::state::{ApiState, State};

use super::tables::err;

fn parse<T: DeserializeOwned>(kind: &str, key: &str, body: &str) -> Result<T, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt {
        kind: kind.into(),
        key: key.into(),
        reason: e.to_string(),
    })
}

pub(super) fn read(tx: &Transaction) -> Result<State, StoreError> {
    let rows: Vec<(String, String, String)> = {
        let mut stmt = tx
            .prepare("SELECT kind, key, body FROM rows")
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)?
    };
    let mut state = State::default();
    let mut deployments = vec![];
    let mut stages = vec![];
    for (kind, key, body) in rows {
        match kind.as_str() {
            "restapi" => {
                let def: RestApiDefinition = parse(&kind, &key, &body)?;
                state.apis.insert(key, Arc::new(ApiState::new(def)));
            }
            "deployment" => deployments.push((key, body)),
            "stage" => stages.push((key, body)),
            "account" => state.account = Arc::new(parse(&kind, &key, &body)?),
            "apikey" => {
                let k: ApiKey = parse(&kind, &key, &body)?;
                Arc::make_mut(&mut state.api_keys).insert(key, Arc::new(k));
            }
            "usageplan" => {
                let p: UsagePlan = parse(&kind, &key, &body)?;
                Arc::make_mut(&mut state.usage_plans).insert(key, Arc::new(p));
            }
            "function" => {
                let f: Function = parse(&kind, &key, &body)?;
                Arc::make_mut(&mut state.functions).insert(key, Arc::new(f));
            }
            other => tracing::warn!(kind = other, key, "ignoring v1 row of unknown kind"),
        }
    }
    for (key, body) in deployments {
        let d: Deployment = parse("deployment", &key, &body)?;
        let api_id = key.split('/').next().unwrap_or_default();
        if let Some(api) = state.apis.get_mut(api_id) {
            Arc::make_mut(api)
                .deployments
                .insert(d.id.clone(), Arc::new(d));
        }
    }
    for (key, body) in stages {
        let s: Stage = parse("stage", &key, &body)?;
        let api_id = key.split('/').next().unwrap_or_default();
        if let Some(api) = state.apis.get_mut(api_id) {
            Arc::make_mut(api)
                .stages
                .insert(s.stage_name.clone(), Arc::new(s));
        }
    }
    Ok(state)
}
