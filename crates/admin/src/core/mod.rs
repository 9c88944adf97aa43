//! What every service on the control plane shares: the envelope (request id, SigV4 scoped
//! through the service registry, body limits), AWS errors, body and query parsing, patch
//! operations with their path table, the front door (calls for services Tollgate does not
//! serve, forwarded to their endpoints), list pagination, and the wire seam (how an entity is
//! shown, apart from how it is stored).

pub mod apigateway_iam;
pub mod authorize;
pub(crate) mod aws_chunked;
pub(crate) mod budget;
pub mod context;
pub mod credentials;
pub mod domains;
pub mod envelope;
pub mod error;
pub(crate) mod foreign_error;
pub mod front_door;
pub mod model_template;
pub mod pagination;
pub mod patch;
pub mod patch_table;
pub mod provisioning;
pub mod query;
pub mod registry;
pub mod tags;
pub mod util;
pub mod vpc_links;
pub mod wire;
