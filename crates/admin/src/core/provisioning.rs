//! Resources AWS provisions in the background (VPC links): created PENDING, then made
//! AVAILABLE by a write of their own once the creating write is committed, so a client
//! polling for the status sees AWS's sequence.

use std::sync::Arc;

use tollgate_store::{State, Store};

use super::error::ApiError;

/// Runs `finish` on the state in a write after the current one; a resource deleted in
/// between is `finish`'s to skip. Failures are logged (nobody waits for this write).
pub fn finish_later(store: &Arc<Store>, what: String, finish: fn(&mut State, &str)) {
    let store = store.clone();
    tokio::spawn(async move {
        let done = store
            .transact(|s| {
                finish(s, &what);
                Ok::<_, ApiError>(())
            })
            .await;
        if let Err(e) = done {
            tracing::warn!(resource = %what, error = ?e, "could not finish provisioning");
        }
    });
}
