//! `AWS` integrations that call an AWS service (not Lambda): the URI names the service
//! call (`target`), the service's protocol shapes it (`protocol`, `request`), and the call
//! is addressed and SigV4-signed with the configured endpoint and credentials (`config`).
//! The answer goes through integration-response selection by its status, as HTTP's does.

pub mod as_role;
pub mod assume_role;
pub mod config;
pub mod protocol;
pub mod request;
pub mod service;
pub mod subtype;
pub mod target;
pub mod wire;
