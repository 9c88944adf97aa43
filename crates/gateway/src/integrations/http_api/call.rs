//! What an HTTP API integration knows of one request ([`HttpApiCall`]), and what the
//! events and the backend URL derive from it.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde_json::{json, Map, Value};
use tollgate_functions::Functions;

use crate::compile::http_api::HttpRoute;
use crate::http_context::HttpContext;

/// What an HTTP API integration knows of one request.
pub struct HttpApiCall<'a> {
    pub parts: &'a http::request::Parts,
    pub remote: SocketAddr,
    pub tls: bool,
    pub api_id: &'a str,
    pub stage: &'a str,
    pub stage_variables: &'a BTreeMap<String, String>,
    pub route: &'a HttpRoute,
    pub path_params: &'a [(&'a str, String)],
    /// The path as the client sent it after the API's address (with `/{stage}` for a
    /// named stage): the event's `rawPath`.
    pub raw_path: &'a str,
    /// The path the route matched (without the stage).
    pub routing_path: &'a str,
    pub request_id: &'a str,
    pub domain_name: &'a str,
    pub time_epoch_ms: i64,
    pub functions: Option<&'a std::sync::Arc<Functions>>,
    /// Where AWS service integrations send their calls, signed with what.
    pub aws: &'a crate::integrations::aws::config::AwsServices,
    /// VPC links' targets (read only by private integrations).
    pub vpc_links: &'a arc_swap::ArcSwap<crate::vpc_link::VpcLinks>,
    pub body_stall: std::time::Duration,
    /// The `$context` so far (parameter mappings read it).
    pub context: &'a HttpContext,
}

impl HttpApiCall<'_> {
    pub(super) fn source_ip(&self) -> String {
        crate::client_ip::ip_string(self.remote.ip())
    }

    pub(super) fn user_agent(&self) -> &str {
        self.parts
            .headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    pub(super) fn protocol(&self) -> &'static str {
        match self.parts.version {
            http::Version::HTTP_2 => "HTTP/2.0",
            http::Version::HTTP_10 => "HTTP/1.0",
            _ => "HTTP/1.1",
        }
    }

    pub(super) fn domain_prefix(&self) -> &str {
        crate::frontend::domain_prefix(self.domain_name)
    }

    pub(super) fn path_parameters(&self) -> Value {
        if self.path_params.is_empty() {
            return Value::Null;
        }
        let m: Map<String, Value> = self
            .path_params
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.clone())))
            .collect();
        Value::Object(m)
    }

    pub(super) fn stage_variables_value(&self) -> Value {
        if self.stage_variables.is_empty() {
            return Value::Null;
        }
        json!(self.stage_variables)
    }

    /// The Lambda permission's `SourceArn` for this route.
    pub(super) fn source_arn(&self, region: &str) -> String {
        let method = if self.route.method.is_some() || *self.route.arn_path != *"$default" {
            self.parts.method.as_str()
        } else {
            ""
        };
        format!(
            "arn:aws:execute-api:{region}:{}:{}/{}/{method}{}",
            tollgate_model::ACCOUNT_ID,
            self.api_id,
            self.stage,
            self.route.arn_path
        )
    }
}

/// What a path parameter's value is encoded with in a backend URL.
pub(super) const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
