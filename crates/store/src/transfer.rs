//! A whole state as one JSON document, to move it between stores (`tollgate export` and
//! `tollgate import`: SQLite to Postgres and back). The document holds the store's own rows
//! (the model's serde shape, every id as it is), the deployment snapshots, the usage
//! totals and the functions' deployment packages, so nothing is renamed or renumbered on
//! the way and every function runs where it lands.

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::backend::{Loaded, Row, RowOp, UsageRow};
use crate::code::packages;
use crate::error::StoreError;
use crate::rows;
use crate::state::State;
use crate::store::Store;

/// What the document says it is; a document of another format is refused.
pub const FORMAT: &str = "tollgate-state/1";

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Export {
    pub format: String,
    /// The version of the store it was taken from (informative: an import starts a new
    /// history).
    pub version: u64,
    pub rows: Vec<ExportRow>,
    pub snapshots: Vec<ExportSnapshot>,
    pub usage: Vec<ExportUsage>,
    /// The deployment packages the functions and their versions run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub code: Vec<ExportCode>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportCode {
    /// The zip's SHA-256, hex (the function's `CodeSha256`, base64, names the same bytes).
    pub sha256: String,
    /// The zip, base64.
    pub zip: String,
}

/// An export, and the functions whose package the source store does not hold (uploaded
/// before the store kept packages: they must be uploaded again where the state lands).
pub struct Exported {
    pub doc: Export,
    pub missing_code: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportRow {
    pub kind: String,
    pub key: String,
    pub body: Value,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportSnapshot {
    pub hash: String,
    pub body: Value,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportUsage {
    pub plan_id: String,
    pub key_id: String,
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    pub used: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error("not a Tollgate state document: {0}")]
    Format(String),
    #[error(
        "the target store is not empty: import only into a new store (its APIs, keys, \
         plans or functions would be mixed with the imported ones)"
    )]
    NotEmpty,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn json(kind: &str, key: &str, body: &str) -> Result<Value, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt {
        kind: kind.into(),
        key: key.into(),
        reason: e.to_string(),
    })
}

/// The store's current state, saved usage and packages, as rows (the rows a commit of the
/// whole state would write, so exactly what the store holds).
pub async fn export(store: &Store) -> Result<Exported, StoreError> {
    let state = store.state();
    let mut export = Export {
        format: FORMAT.into(),
        version: state.version,
        rows: vec![],
        snapshots: vec![],
        usage: vec![],
        code: vec![],
    };
    for op in rows::diff(&State::default(), &state)? {
        match op {
            RowOp::Put {
                kind, key, body, ..
            } => {
                let body = json(kind, &key, &body)?;
                export.rows.push(ExportRow {
                    kind: kind.into(),
                    key,
                    body,
                });
            }
            RowOp::PutSnapshot { hash, body } => {
                let body = json("snapshot", &hash, &body)?;
                export.snapshots.push(ExportSnapshot { hash, body });
            }
            RowOp::Delete { .. } | RowOp::DeletePrefix { .. } => {}
        }
    }
    export.usage = store
        .load_usage()
        .await?
        .into_iter()
        .map(|u| ExportUsage {
            plan_id: u.plan_id,
            key_id: u.key_id,
            day: u.day,
            used: u.used,
        })
        .collect();
    let mut missing_code = vec![];
    for (sha256, functions) in packages(&state) {
        match store.get_code(sha256.clone()).await? {
            Some(zip) => export.code.push(ExportCode {
                sha256,
                zip: base64::engine::general_purpose::STANDARD.encode(zip),
            }),
            None => missing_code.extend(functions),
        }
    }
    Ok(Exported {
        doc: export,
        missing_code,
    })
}

/// The packages of `export`, checked against their names.
fn decode_code(code: &[ExportCode]) -> Result<Vec<(String, bytes::Bytes)>, TransferError> {
    code.iter()
        .map(|c| {
            let zip = base64::engine::general_purpose::STANDARD
                .decode(&c.zip)
                .map_err(|e| TransferError::Format(format!("package {}: {e}", c.sha256)))?;
            if hex::encode(Sha256::digest(&zip)) != c.sha256 {
                return Err(TransferError::Format(format!(
                    "package {}: the bytes have another SHA-256",
                    c.sha256
                )));
            }
            Ok((c.sha256.clone(), bytes::Bytes::from(zip)))
        })
        .collect()
}

fn is_empty(s: &State) -> bool {
    s.apis.is_empty()
        && s.api_keys.is_empty()
        && s.usage_plans.is_empty()
        && s.functions.is_empty()
        && *s.account == tollgate_model::Account::default()
}

/// Writes `export` into `store`, which must hold no state yet, as one commit (checked and
/// decoded first: a bad document changes nothing). Returns the store's new version.
pub async fn import(store: &Store, export: Export) -> Result<u64, TransferError> {
    if export.format != FORMAT {
        return Err(TransferError::Format(format!(
            "format {:?}, expected {FORMAT:?}",
            export.format
        )));
    }
    let loaded = Loaded {
        version: 0,
        rows: export
            .rows
            .into_iter()
            .map(|r| Row {
                body: r.body.to_string(),
                kind: r.kind,
                key: r.key,
            })
            .collect(),
        snapshots: export
            .snapshots
            .into_iter()
            .map(|s| (s.hash, s.body.to_string()))
            .collect(),
    };
    let imported = rows::decode(loaded)?;
    let code = decode_code(&export.code)?;
    // Packages first (content-addressed, so a package stored for an import that then
    // fails is only ever a spare copy), into a store checked empty.
    if !is_empty(&store.state()) {
        return Err(TransferError::NotEmpty);
    }
    for (sha256, zip) in code {
        store.put_code(sha256, zip).await?;
    }
    store
        .transact(|s| {
            if !is_empty(s) {
                return Err(TransferError::NotEmpty);
            }
            let version = s.version;
            *s = imported.clone();
            s.version = version;
            Ok(())
        })
        .await?;
    let usage = export
        .usage
        .into_iter()
        .map(|u| UsageRow {
            plan_id: u.plan_id,
            key_id: u.key_id,
            day: u.day,
            used: u.used,
        })
        .collect();
    store.add_usage(usage).await?;
    Ok(store.state().version)
}
