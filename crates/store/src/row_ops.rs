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

/// What the deployment rows of one API kind need: its snapshot, and its row with the
/// snapshot replaced by the snapshot's hash.
pub(crate) trait DeploymentRows {
    type Snapshot: Serialize;
    type Row: Serialize;
    fn snapshot(&self) -> &Arc<Self::Snapshot>;
    fn row(&self, snapshot_hash: String) -> Self::Row;
}

/// Row ops for an API's deployments. Deployments are immutable: only new ones are
/// written, and several new deployments of one definition (the same `Arc`) hash it once.
pub(crate) fn diff_deployments<D: DeploymentRows>(
    ops: &mut Vec<RowOp>,
    kind: &'static str,
    api: &str,
    old: Option<&BTreeMap<String, Arc<D>>>,
    new: &BTreeMap<String, Arc<D>>,
) -> Result<(), StoreError> {
    let mut hashed: Vec<(&Arc<D::Snapshot>, String)> = vec![];
    for (id, d) in new {
        if old
            .and_then(|o| o.get(id))
            .is_some_and(|o| Arc::ptr_eq(o, d))
        {
            continue;
        }
        let snapshot = d.snapshot();
        let hash = match hashed.iter().find(|(s, _)| Arc::ptr_eq(s, snapshot)) {
            Some((_, h)) => h.clone(),
            None => {
                let (hash, body) = snapshot_body(api, snapshot.as_ref())?;
                ops.push(RowOp::PutSnapshot {
                    hash: hash.clone(),
                    body,
                });
                hashed.push((snapshot, hash.clone()));
                hash
            }
        };
        let key = format!("{api}/{id}");
        let body = to_json(kind, &key, &d.row(hash.clone()))?;
        ops.push(RowOp::Put {
            kind,
            key,
            body,
            snapshot: Some(hash),
        });
    }
    for id in old.into_iter().flat_map(|o| o.keys()) {
        if !new.contains_key(id) {
            ops.push(RowOp::Delete {
                kind,
                key: format!("{api}/{id}"),
            });
        }
    }
    Ok(())
}

/// Row ops deleting an API: its own row (`kind`, keyed by the id) and every row of `scoped`
/// kinds keyed `{id}/...`.
pub(crate) fn delete_api(
    ops: &mut Vec<RowOp>,
    kind: &'static str,
    scoped: &[&'static str],
    id: &str,
) {
    ops.push(RowOp::Delete {
        kind,
        key: id.to_string(),
    });
    for &kind in scoped {
        ops.push(RowOp::DeletePrefix {
            kind,
            prefix: format!("{id}/"),
        });
    }
}
