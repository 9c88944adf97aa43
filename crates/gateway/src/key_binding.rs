//! An API key as a stage admits it: the key's usage plan throttles, quota and usage
//! counter, resolved when the runtime is built (shared by the REST and WebSocket runtimes).

use std::collections::HashMap;
use std::sync::Arc;

use tollgate_store::throttle::TokenBucket;
use tollgate_store::usage::{KeyCounter, Quota};

/// Buckets per resource path, indexed by method slot (see [`crate::router::method_slot`]).
pub type MethodBuckets = HashMap<Box<str>, [Option<Arc<dyn TokenBucket>>; 8]>;

/// An API key allowed on a stage, with what its usage plan imposes.
pub struct KeyBinding {
    pub key_id: Arc<str>,
    pub plan_id: Arc<str>,
    pub plan_bucket: Option<Arc<dyn TokenBucket>>,
    pub method_buckets: MethodBuckets,
    pub quota: Option<Quota>,
    pub counter: Arc<dyn KeyCounter>,
}

impl std::fmt::Debug for KeyBinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyBinding")
            .field("key_id", &self.key_id)
            .field("plan_id", &self.plan_id)
            .finish()
    }
}
