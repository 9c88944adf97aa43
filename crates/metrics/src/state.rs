//! What a registry holds: interned label sets by schema, and the threads' shards.

use std::collections::HashMap;
use std::sync::Arc;

use crate::schema::Schema;
use crate::shard::Shard;

#[derive(Default)]
pub(crate) struct Interned {
    pub(crate) next: u32,
    pub(crate) by_key: HashMap<(usize, Arc<str>), u32>,
    /// Schemas in the order they were first used, each with its blocks in that order.
    pub(crate) schemas: Vec<(&'static Schema, Vec<Block>)>,
}

pub(crate) struct Block {
    pub(crate) labels: Arc<str>,
    pub(crate) base: u32,
}

/// The shards of live threads, and what exited threads counted.
#[derive(Default)]
pub(crate) struct Threads {
    pub(crate) live: Vec<Arc<Shard>>,
    pub(crate) retired: Vec<u64>,
}
