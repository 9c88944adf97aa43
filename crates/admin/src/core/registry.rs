//! Which AWS service a control-plane call is addressed to. One endpoint serves several, each
//! described by a [`ServiceSpec`]: how its calls are recognised (a path shape, or `/` with
//! the service named only by the signature's credential scope), the name its signatures are
//! scoped to, its routes, its body limit and its error shape. The envelope and the router
//! iterate the registry (the crate root's `SERVICES`), so a new service is one module plus
//! one entry there.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use axum::response::{IntoResponse, Response};
use axum::Router;
use http::{HeaderMap, Uri};

use crate::core::error::ApiError;

/// One call to `/`: a query-protocol action with its parameters decoded, or a JSON 1.1
/// call (the action named by `X-Amz-Target`, its JSON in `body`).
pub struct QueryCall {
    pub action: String,
    pub params: HashMap<String, String>,
    /// The request body as sent (a JSON 1.1 call's input).
    pub body: bytes::Bytes,
    pub request_id: String,
    /// The verified access key id.
    pub caller: String,
}

pub type QueryFuture = Pin<Box<dyn Future<Output = Response> + Send>>;

/// A query-protocol service's entry point, for services whose handlers get `S`.
pub type QueryHandler<S> = fn(S, QueryCall) -> QueryFuture;

/// How a service's calls are told apart from the others'.
#[derive(Clone, Copy)]
pub enum Recognition {
    /// Paths of this shape belong to the service, whatever the signature says.
    Path(fn(&str) -> bool),
    /// `/` signed with a credential scope naming the service (the query-protocol services).
    RootScoped,
    /// Everything no other service claims.
    Default,
}

/// The wire shape of a service's errors.
#[derive(Clone, Copy)]
pub enum ErrorShape {
    /// restJson1: `x-amzn-ErrorType` plus `{"message": ...}`.
    Json,
    /// The query protocol's XML `ErrorResponse`, which names the request id.
    Xml(fn(&ApiError, &str) -> Response),
}

/// One AWS service served on the control-plane endpoint; `S` is the routers' state (the
/// handlers' context).
pub struct ServiceSpec<S: 'static> {
    /// The service name a signature for its calls must be scoped to.
    pub signing_name: &'static str,
    pub recognition: Recognition,
    /// Its operations.
    pub routes: fn() -> Router<S>,
    /// Largest request body it accepts.
    pub max_body: usize,
    pub error_shape: ErrorShape,
    /// What a call no route serves answers, given its method and path.
    pub unknown_operation: fn(&str, &str) -> ApiError,
    /// A query-protocol service's actions (`/`, see [`crate::core::query`]).
    pub query: Option<QueryHandler<S>>,
    /// The IAM action and resource a call is, for the identity policies of keys IAM and STS
    /// issued (`None`: a call that needs no permission, or that the service checks itself).
    pub iam_action: fn(&IamCall<'_>) -> Option<IamAction>,
}

/// A call as [`ServiceSpec::iam_action`] reads it.
pub struct IamCall<'c> {
    pub state: &'c tollgate_store::State,
    pub parts: &'c http::request::Parts,
    /// The path, percent-decoded (`/restapis/ab%63` names the API `abc`).
    pub path: &'c str,
    pub body: &'c [u8],
    pub region: &'c str,
}

#[cfg(test)]
pub(crate) fn call_for_test<T>(
    method: &str,
    uri: &str,
    body: &[u8],
    f: impl FnOnce(&IamCall<'_>) -> T,
) -> T {
    let state = tollgate_store::State::default();
    let parts = http::Request::builder()
        .method(method)
        .uri(uri)
        .body(())
        .unwrap()
        .into_parts()
        .0;
    let path = percent_encoding::percent_decode_str(parts.uri.path()).decode_utf8_lossy();
    f(&IamCall {
        state: &state,
        parts: &parts,
        path: &path,
        body,
        region: "us-east-1",
    })
}

/// What an identity policy is asked about one call.
pub struct IamAction {
    pub action: String,
    pub resource: String,
    /// The call's own condition keys (lower-case names, a name repeated per value), beside
    /// the caller's and the time's that every call has.
    pub keys: Vec<(String, String)>,
}

impl<S> ServiceSpec<S> {
    /// `e` in this service's error shape.
    pub fn error_response(&self, e: ApiError, request_id: &str) -> Response {
        match self.error_shape {
            ErrorShape::Json => e.into_response(),
            ErrorShape::Xml(render) => render(&e, request_id),
        }
    }
}

/// The services served, in the order they are tried; exactly one should be the default.
pub type Registry<S> = &'static [&'static ServiceSpec<S>];

/// The service a call is addressed to: the first whose recognition matches, else the
/// default one.
pub fn service_of<S>(
    registry: Registry<S>,
    uri: &Uri,
    headers: &HeaderMap,
) -> &'static ServiceSpec<S> {
    let path = uri.path();
    let claimed = registry.iter().find(|s| match s.recognition {
        Recognition::Path(matches) => matches(path),
        Recognition::RootScoped => {
            path == "/" && scope_service(uri, headers) == Some(s.signing_name)
        }
        Recognition::Default => false,
    });
    claimed
        .or_else(|| {
            registry
                .iter()
                .find(|s| matches!(s.recognition, Recognition::Default))
        })
        .copied()
        .unwrap_or(registry[0])
}

/// The service in the credential scope (`AKID/date/region/SERVICE/aws4_request`) of the
/// Authorization header or of a presigned URL's `X-Amz-Credential`. Only routes the call:
/// the verifier checks the whole signature afterwards.
pub(crate) fn scope_service<'a>(uri: &'a Uri, headers: &'a HeaderMap) -> Option<&'a str> {
    scope_field(uri, headers, 3)
}

/// Field `index` of the credential scope (`2`: the region, `3`: the service).
pub(crate) fn scope_field<'a>(
    uri: &'a Uri,
    headers: &'a HeaderMap,
    index: usize,
) -> Option<&'a str> {
    let from_header = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once("Credential="))
        .map(|(_, rest)| rest.split([',', ' ']).next().unwrap_or(""));
    let from_query = || {
        uri.query().and_then(|q| {
            q.split('&')
                .find_map(|p| p.strip_prefix("X-Amz-Credential="))
        })
    };
    let credential = from_header.or_else(from_query)?;
    // In a query the slashes may be percent-encoded.
    let sep = if credential.contains('/') { "/" } else { "%2F" };
    credential.split(sep).nth(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(path: &str, auth: Option<&str>) -> &'static str {
        let mut headers = HeaderMap::new();
        if let Some(a) = auth {
            headers.insert("authorization", a.parse().unwrap());
        }
        service_of(crate::SERVICES, &path.parse().unwrap(), &headers).signing_name
    }

    #[test]
    fn services_by_path_and_scope() {
        let sts = "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00";
        let apigw = sts.replace("/sts/", "/apigateway/");
        assert_eq!(service("/", Some(sts)), "sts");
        assert_eq!(service("/", Some(&apigw)), "apigateway");
        let iam = sts.replace("/sts/", "/iam/");
        assert_eq!(service("/", Some(&iam)), "iam");
        assert_eq!(service("/", None), "apigateway");
        assert_eq!(service("/restapis", Some(sts)), "apigateway");
        assert_eq!(
            service("/2020-06-30/functions/f/code-signing-config", None),
            "lambda"
        );
        assert_eq!(
            service(
                "/?Action=GetCallerIdentity&X-Amz-Credential=test%2F20240101%2Fus-east-1%2Fsts%2Faws4_request",
                None
            ),
            "sts"
        );
        assert_eq!(service("/2015-03-31", None), "lambda");
        assert_eq!(service("/restapis/2015-03-31/x", None), "apigateway");
    }
}
