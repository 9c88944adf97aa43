//! A reloaded state shares what did not change with the state it replaces: consumers of
//! the feed (the gateway's recompile, the function engine's registry) tell changes by `Arc`
//! identity, so without this a reload after another node's commit (a whole new state)
//! would make them rebuild everything instead of what that commit changed.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::state::{ApiState, State};

/// Makes `new` hold `old`'s `Arc`s wherever the values are equal.
pub(crate) fn keep_unchanged(old: &State, new: &mut State) {
    for (id, api) in new.apis.iter_mut() {
        if let Some(prev) = old.apis.get(id) {
            keep_api(prev, api);
        }
    }
    keep_map(&old.api_keys, &mut new.api_keys);
    keep_map(&old.usage_plans, &mut new.usage_plans);
    keep_map(&old.functions, &mut new.functions);
    keep(&old.account, &mut new.account);
}

fn keep<T: PartialEq>(old: &Arc<T>, new: &mut Arc<T>) {
    if !Arc::ptr_eq(old, new) && **old == **new {
        *new = old.clone();
    }
}

/// Each entry, then the map itself when every entry is the old one.
fn keep_entries<T: PartialEq>(
    old: &BTreeMap<String, Arc<T>>,
    new: &mut BTreeMap<String, Arc<T>>,
) -> bool {
    for (k, v) in new.iter_mut() {
        if let Some(prev) = old.get(k) {
            keep(prev, v);
        }
    }
    old.len() == new.len()
        && new
            .iter()
            .all(|(k, v)| old.get(k).is_some_and(|o| Arc::ptr_eq(o, v)))
}

fn keep_map<T: PartialEq>(
    old: &Arc<BTreeMap<String, Arc<T>>>,
    new: &mut Arc<BTreeMap<String, Arc<T>>>,
) {
    if keep_entries(old, Arc::make_mut(new)) {
        *new = old.clone();
    }
}

fn keep_api(old: &Arc<ApiState>, new: &mut Arc<ApiState>) {
    let api = Arc::make_mut(new);
    keep(&old.definition, &mut api.definition);
    let deployments_same = keep_entries(&old.deployments, &mut api.deployments);
    let stages_same = keep_entries(&old.stages, &mut api.stages);
    if deployments_same && stages_same && Arc::ptr_eq(&old.definition, &api.definition) {
        *new = old.clone();
    }
}
