//! What every service on the control plane shares: the envelope (request id, SigV4 scoped
//! through the service registry, body limits), AWS errors, body and query parsing, patch
//! operations with their path table, list pagination, and the wire seam (how an entity is
//! shown, apart from how it is stored).

pub mod authorize;
pub(crate) mod budget;
pub mod context;
pub mod credentials;
pub mod domains;
pub mod envelope;
pub mod error;
pub mod model_template;
pub mod pagination;
pub mod patch;
pub mod patch_table;
pub mod query;
pub mod registry;
pub mod tags;
pub mod util;
pub mod wire;
