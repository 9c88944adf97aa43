//! Deployment packages no function runs any more (deleted functions, replaced code). The
//! store's copy goes once no upload can still be on its way to its commit (a package is
//! stored, then the function that runs it committed: [`GRACE_MS`] is far longer than
//! that); this node's unpacked directory goes once it was unused for a whole period, so
//! an invocation still running in it (at most 15 minutes) finishes first.

use std::collections::{BTreeMap, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::Duration;

use tollgate_store::Store;

/// How often packages are looked at; the first time a minute after start.
const EVERY: Duration = Duration::from_secs(3600);
const FIRST: Duration = Duration::from_secs(60);
/// A package stored this long ago and run by no function is deleted from the store.
const GRACE_MS: i64 = 3_600_000;

/// Prunes the packages of `store` and those unpacked under `code_root` every [`EVERY`]
/// while `engine` lives.
pub(crate) fn spawn<T: Send + Sync + 'static>(
    engine: Weak<T>,
    store: Arc<Store>,
    code_root: PathBuf,
) {
    tokio::spawn(async move {
        let start = tokio::time::Instant::now() + FIRST;
        let mut tick = tokio::time::interval_at(start, EVERY);
        let mut unused = HashSet::new();
        loop {
            tick.tick().await;
            if engine.strong_count() == 0 {
                break;
            }
            unused = prune(&store, &code_root, unused).await;
        }
    });
}

/// One pass; `unused` is what the last pass found unused here, and the answer this pass's.
async fn prune(store: &Store, code_root: &Path, unused: HashSet<OsString>) -> HashSet<OsString> {
    let cut_off = tollgate_store::epoch_ms() - GRACE_MS;
    match store.prune_code(cut_off).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(packages = n, "deleted stored code no function runs"),
        Err(e) => tracing::warn!(error = %e, "cannot prune stored code packages"),
    }
    let run = tollgate_store::code::packages(&store.state());
    let root = code_root.to_path_buf();
    tokio::task::spawn_blocking(move || sweep(&root, &run, &unused))
        .await
        .unwrap_or_default()
}

/// Removes the directories under `root` that no function runs and that were unused at the
/// last pass too; answers the ones unused now, for the next.
fn sweep(
    root: &Path,
    run: &BTreeMap<String, Vec<String>>,
    unused_before: &HashSet<OsString>,
) -> HashSet<OsString> {
    let mut unused = HashSet::new();
    let Ok(entries) = std::fs::read_dir(root) else {
        return unused;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name.to_str().is_some_and(|n| run.contains_key(n)) {
            continue;
        }
        if !unused_before.contains(&name) {
            unused.insert(name);
            continue;
        }
        match std::fs::remove_dir_all(entry.path()) {
            Ok(()) => {
                tracing::info!(dir = %entry.path().display(), "removed unpacked code no function runs")
            }
            Err(e) => {
                tracing::warn!(dir = %entry.path().display(), error = %e, "cannot remove unpacked code")
            }
        }
    }
    unused
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_goes_after_two_passes_unused_and_one_in_use_stays() {
        let root = tempfile::tempdir().unwrap();
        for d in ["aa", "bb", ".tmp-x"] {
            std::fs::create_dir(root.path().join(d)).unwrap();
            std::fs::write(root.path().join(d).join("f"), "x").unwrap();
        }
        let run = BTreeMap::from([("aa".to_string(), vec!["f".to_string()])]);
        let first = sweep(root.path(), &run, &HashSet::new());
        assert_eq!(
            first,
            HashSet::from(["bb".into(), ".tmp-x".into()]),
            "marked, not removed"
        );
        assert!(root.path().join("bb").is_dir());
        // `bb` is run again before the second pass (its function re-created).
        let run_bb = BTreeMap::from([("aa".to_string(), vec![]), ("bb".to_string(), vec![])]);
        let second = sweep(root.path(), &run_bb, &first);
        assert!(second.is_empty());
        assert!(root.path().join("aa").is_dir() && root.path().join("bb").is_dir());
        assert!(
            !root.path().join(".tmp-x").exists(),
            "unused twice: removed"
        );
        // A missing root is no error.
        assert!(sweep(&root.path().join("none"), &run, &first).is_empty());
    }
}
