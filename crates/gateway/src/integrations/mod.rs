//! Integrations: how a request reaches its backend.

pub mod http;
pub mod lambda;
pub mod lambda_target;
pub mod mock;
