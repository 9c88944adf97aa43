//! The hash map of the tables a request looks up (frontends by host, stages, path segments,
//! API keys). Their keys come from the deployment, so a fast seeded hash is enough; SipHash
//! (std's default) cost ~700 instructions per request over four lookups.

/// A lookup table on the request path.
pub type Table<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
