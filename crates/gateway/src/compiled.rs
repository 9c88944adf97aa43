//! Compiled deployments kept across rebuilds: a deployment never changes, so one compiled
//! for an earlier runtime serves as long as the stage points at the same deployment.

use std::collections::HashMap;
use std::sync::Arc;

/// Compiled deployments by id, each with the deployment it came from.
pub type Compiled<D, C> = HashMap<String, (Arc<D>, Arc<C>)>;

/// The compiled form of deployment `id` (`d`): already compiled in this rebuild, else the
/// previous runtime's when it came from the same deployment, else `compile`d now.
pub fn compiled_for<D, C>(
    id: &str,
    d: &Arc<D>,
    now: &mut Compiled<D, C>,
    prev: Option<&Compiled<D, C>>,
    compile: impl FnOnce(&D) -> C,
) -> Arc<C> {
    if let Some((_, c)) = now.get(id) {
        return c.clone();
    }
    let reused = prev
        .and_then(|p| p.get(id))
        .filter(|(src, _)| Arc::ptr_eq(src, d))
        .map(|(_, c)| c.clone());
    let c = reused.unwrap_or_else(|| Arc::new(compile(d)));
    now.insert(id.to_string(), (d.clone(), c.clone()));
    c
}
