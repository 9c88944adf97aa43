//! The pipelines: one per API kind behind [`ApiPipeline`], each built from phases.
//!
//! The REST pipeline ([`rest`]) runs these phases, in AWS's own order; the ones between
//! routing and the method response are data ([`phases::REST`]), run in a loop over one
//! [`phases::Exchange`], and any of them may answer early:
//!
//! | phase | module |
//! |---|---|
//! | addressing (stage, canary, `$context`) | [`rest`], [`addressing`], [`crate::frontend`] |
//! | method request (route, parameters) | [`method_request`] |
//! | authorization (async: may call out, fills `$context.authorizer` or, for `AWS_IAM`, `$context.identity`) | [`authorize`], [`iam_caller`], [`resource_policy`] |
//! | API key | [`api_key`] |
//! | throttling and quota | [`throttle`] |
//! | request validation (parameters, body against the model) | [`request_validation`] |
//! | cache lookup (the stage's response cache) | [`response_cache`], [`crate::response_cache`] |
//! | integration request (mappings, templates, contentHandling, URI) | [`integration_request`], [`crate::mapping`], [`crate::content_handling`] |
//! | integration (HTTP, HTTP_PROXY, MOCK, AWS, AWS_PROXY), behind one trait | [`crate::integrations`] |
//! | integration response (selection, mappings) | [`integration_response`] |
//! | cache store | [`response_cache`] |
//! | method response / response enrichment, access log, compression | [`respond`], [`crate::compression`] |
//!
//! Any phase can stop the request with a [`crate::error::GatewayError`], which is answered
//! with the deployment's gateway response for that type ([`gateway_response`]).
//!
//! HTTP APIs have their own pipeline ([`http`]): stage selection with `$default`, v2 route
//! priorities, HTTP_PROXY and Lambda payload 1.0/2.0, fixed error bodies. WebSocket APIs
//! have theirs ([`websocket`]): `$connect` before the 101, the session, route selection per
//! message, `$disconnect`, and the `@connections` API. Lambda function URLs have a small
//! one ([`function_url`]) built from HTTP APIs' payload 2.0 rules.

pub mod addressing;
pub mod api_key;
pub mod authorize;
pub mod function_url;
pub mod gateway_response;
pub mod http;
pub mod http_authorize;
pub mod iam_caller;
pub mod inbound;
pub mod integration_request;
pub mod integration_response;
pub mod method_request;
pub mod phases;
pub mod proxy_head;
pub mod request_validation;
pub mod resource_policy;
pub mod respond;
pub mod response_cache;
pub mod rest;
pub mod throttle;
pub mod websocket;

use std::future::Future;
use std::pin::Pin;

use futures_util::future::Either::{Left, Right};

use ::http::Response;

use crate::body::GatewayBody;
use crate::frontend::{Addressed, ApiKind};
use crate::Gateway;
use inbound::{ApiPipeline, Inbound};

impl Gateway {
    /// Serves one data-plane request with its API kind's pipeline.
    // Not an `async fn`: a plain `match` picks the pipeline's future, so the request is
    // not also kept in an outer future (the whole future is copied once per request).
    pub fn serve<'s>(
        &'s self,
        req: Inbound<'s>,
    ) -> impl Future<Output = Response<GatewayBody>> + Send + 's {
        let kind = req
            .addressed
            .as_ref()
            .map_or(ApiKind::Rest, Addressed::kind);
        match kind {
            ApiKind::Rest => Left(Left(rest::RestPipeline.serve(self, req))),
            ApiKind::Http => Left(Right(self::http::HttpPipeline.serve(self, req))),
            // Boxed: their futures are larger and would size every request's.
            ApiKind::FunctionUrl => {
                Right(boxed(function_url::FunctionUrlPipeline.serve(self, req)))
            }
            ApiKind::WebSocket => Right(boxed(websocket::WebSocketPipeline.serve(self, req))),
        }
    }
}

type Boxed<'s> = Pin<Box<dyn Future<Output = Response<GatewayBody>> + Send + 's>>;

fn boxed<'s>(f: impl Future<Output = Response<GatewayBody>> + Send + 's) -> Boxed<'s> {
    Box::pin(f)
}
