//! Functions' deployment packages as the store keeps them (`put_code`, `get_code`,
//! `prune_code`): by SHA-256 in hex, and which of them a state's functions run.

use std::collections::BTreeMap;

use base64::Engine;

use crate::state::State;

/// The name a code package is kept under (`put_code`, `get_code`): a function's
/// `CodeSha256` (base64, as Lambda reports it) in hex; `None` when it is not base64.
pub fn package_key(code_sha256: &str) -> Option<String> {
    base64::engine::general_purpose::STANDARD
        .decode(code_sha256)
        .ok()
        .map(hex::encode)
}

/// Every package the state's functions run (hex SHA-256), with the functions running it.
pub fn packages(state: &State) -> BTreeMap<String, Vec<String>> {
    let mut by_sha = BTreeMap::<String, Vec<String>>::new();
    for f in state.functions.values() {
        let configs = std::iter::once(&f.latest).chain(f.versions.values());
        for c in configs {
            let Some(key) = package_key(&c.code_sha256) else {
                continue;
            };
            let users = by_sha.entry(key).or_default();
            if users.last() != Some(&c.function_name) {
                users.push(c.function_name.clone());
            }
        }
    }
    by_sha
}
