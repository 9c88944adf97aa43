//! What the row encoders of every API kind share: JSON bodies, AWS-shaped corrupt-row
//! errors, and the diffs of keyed collections into row operations.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::backend::RowOp;
use crate::error::StoreError;

pub(crate) fn is_false(b: &bool) -> bool {
    !b
}

pub(crate) fn corrupt(kind: &str, key: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        kind: kind.into(),
        key: key.into(),
        reason: e.to_string(),
    }
}

pub(crate) fn to_json<T: Serialize + ?Sized>(
    kind: &str,
    key: &str,
    v: &T,
) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| corrupt(kind, key, e))
}

pub(crate) fn put<T: Serialize + ?Sized>(
    ops: &mut Vec<RowOp>,
    kind: &'static str,
    key: String,
    v: &T,
) -> Result<(), StoreError> {
    let body = to_json(kind, &key, v)?;
    ops.push(RowOp::Put {
        kind,
        key,
        body,
        snapshot: None,
    });
    Ok(())
}

/// Row ops for one map whose values changed by value (`==`): puts for new or changed
/// entries, deletes for removed ones.
pub(crate) fn diff_values<T: Serialize + PartialEq>(
    ops: &mut Vec<RowOp>,
    kind: &'static str,
    prefix: &str,
    old: Option<&BTreeMap<String, T>>,
    new: &BTreeMap<String, T>,
) -> Result<(), StoreError> {
    for (k, v) in new {
        if old.and_then(|o| o.get(k)) != Some(v) {
            put(ops, kind, format!("{prefix}{k}"), v)?;
        }
    }
    for k in old.into_iter().flat_map(|o| o.keys()) {
        if !new.contains_key(k) {
            ops.push(RowOp::Delete {
                kind,
                key: format!("{prefix}{k}"),
            });
        }
    }
    Ok(())
}

/// Row ops for one map of `Arc`s: an entry is unchanged when it is the same `Arc`.
pub(crate) fn diff_arcs<T: Serialize>(
    ops: &mut Vec<RowOp>,
    kind: &'static str,
    prefix: &str,
    old: Option<&BTreeMap<String, Arc<T>>>,
    new: &BTreeMap<String, Arc<T>>,
) -> Result<(), StoreError> {
    for (k, v) in new {
        let same = old
            .and_then(|o| o.get(k))
            .is_some_and(|o| Arc::ptr_eq(o, v));
        if !same {
            put(ops, kind, format!("{prefix}{k}"), v.as_ref())?;
        }
    }
    for k in old.into_iter().flat_map(|o| o.keys()) {
        if !new.contains_key(k) {
            ops.push(RowOp::Delete {
                kind,
                key: format!("{prefix}{k}"),
            });
        }
    }
    Ok(())
}

pub(crate) fn parse<T: DeserializeOwned>(
    kind: &str,
    key: &str,
    body: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(body).map_err(|e| corrupt(kind, key, e))
}

/// `api/rest` of an api-scoped key.
pub(crate) fn split_api<'k>(kind: &str, key: &'k str) -> Result<(&'k str, &'k str), StoreError> {
    key.split_once('/')
        .ok_or_else(|| corrupt(kind, key, "key has no api id"))
}

/// A deployment snapshot's canonical JSON (the model's serde output: struct fields in
/// declaration order, maps sorted) and its sha256, hex.
pub(crate) fn snapshot_body<T: Serialize>(
    api: &str,
    snapshot: &T,
) -> Result<(String, String), StoreError> {
    let body = to_json("snapshot", api, snapshot)?;
    let hash = hex::encode(Sha256::digest(body.as_bytes()));
    Ok((hash, body))
}
