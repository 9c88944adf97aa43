//! Integrations: how a request reaches its backend.

pub mod http;
pub mod mock;
