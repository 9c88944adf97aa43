//! HTTP API integrations (API Gateway v2): HTTP_PROXY, and AWS_PROXY to Lambda with the
//! payload 2.0 event (lambda-events.md §2.1) or 1.0 (§2.2), the function's output read by
//! §4.2 or §4.1. They share the REST integrations' pooled HTTP client, Lambda target
//! resolution, permission check and 1.0 output rules.
//!
//! - `call`: what an integration knows of one request ([`HttpApiCall`]);
//! - `event`: the payload 2.0 and 1.0 events (and their members, which Lambda
//!   authorizers' events carry too);
//! - `output`: a payload 2.0 function's output as the client's response;
//! - `mapping`: `requestParameters` / `responseParameters` and their sources;
//! - `lambda` and `http_proxy`: the two integration kinds.

mod aws;
mod call;
mod event;
mod http_proxy;
mod lambda;
mod mapping;
mod output;

pub use aws::aws_service;
pub use call::HttpApiCall;
pub use event::{event_v1, event_v2, request_v1, request_v2};
pub use http_proxy::{http_proxy, ProxyTarget};
pub use lambda::lambda;
pub(crate) use mapping::{joined_header, map_response, query_pairs};
pub use output::output_v2;
