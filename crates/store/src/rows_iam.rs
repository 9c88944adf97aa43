//! IAM's and STS's entities as rows, one per entity:
//!
//! | kind | key | body |
//! |---|---|---|
//! | `iamrole` | role name | the role, with its attached and inline policies |
//! | `iampolicy` | policy ARN | the managed policy with its versions |
//! | `iamuser` | user name | the user, with its policies and access keys |
//! | `stssession` | access key id | AssumeRole's temporary credentials |

use std::sync::Arc;

use crate::backend::{Row, RowOp};
use crate::error::StoreError;
use crate::row_ops::{diff_arcs, parse};
use crate::state::IamState;

pub const KIND_ROLE: &str = "iamrole";
pub const KIND_POLICY: &str = "iampolicy";
pub const KIND_USER: &str = "iamuser";
pub const KIND_SESSION: &str = "stssession";

pub const KINDS: [&str; 4] = [KIND_ROLE, KIND_POLICY, KIND_USER, KIND_SESSION];

/// The row operations that turn `old` into `new` (skipped whole when the `Arc` is the same;
/// entities compared by `Arc` identity).
pub(crate) fn diff(
    ops: &mut Vec<RowOp>,
    old: &Arc<IamState>,
    new: &Arc<IamState>,
) -> Result<(), StoreError> {
    if Arc::ptr_eq(old, new) {
        return Ok(());
    }
    diff_arcs(ops, KIND_ROLE, "", Some(&old.roles), &new.roles)?;
    diff_arcs(ops, KIND_POLICY, "", Some(&old.policies), &new.policies)?;
    diff_arcs(ops, KIND_USER, "", Some(&old.users), &new.users)?;
    diff_arcs(ops, KIND_SESSION, "", Some(&old.sessions), &new.sessions)
}

/// The IAM state of `rows` (all of IAM's kinds).
pub(crate) fn decode(rows: Vec<Row>) -> Result<IamState, StoreError> {
    let mut iam = IamState::default();
    for Row { kind, key, body } in rows {
        match kind.as_str() {
            KIND_ROLE => {
                let r = Arc::new(parse(&kind, &key, &body)?);
                iam.roles.insert(key, r);
            }
            KIND_POLICY => {
                let p = Arc::new(parse(&kind, &key, &body)?);
                iam.policies.insert(key, p);
            }
            KIND_USER => {
                let u = Arc::new(parse(&kind, &key, &body)?);
                iam.users.insert(key, u);
            }
            KIND_SESSION => {
                let s = Arc::new(parse(&kind, &key, &body)?);
                iam.sessions.insert(key, s);
            }
            _ => {}
        }
    }
    Ok(iam)
}
