//! The query protocol (IAM, STS): `Action=...&Name=value` in a form body or the query
//! string, answered in XML. One route serves `/` for every query-protocol service and for
//! JSON 1.1 services (ACM: the action in `X-Amz-Target`, JSON in the body); the service the
//! signature is scoped to (see [`crate::core::registry`]) gets the call.

use std::collections::HashMap;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use http::{HeaderValue, StatusCode};

use crate::core::context::Ctx;
use crate::core::error::ApiError;
use crate::core::registry::service_of;
pub use crate::core::registry::{QueryCall, QueryFuture, QueryHandler};
use crate::core::util::form_pairs;

/// The access key whose signature the envelope verified, left in the request's extensions
/// for handlers that answer for the caller (GetCallerIdentity, AssumeRole, GetUser).
#[derive(Debug, Clone)]
pub struct SignedBy(pub String);

/// Query-protocol calls are a few form fields; policy documents are the largest (IAM
/// allows 131,072 characters), URL-encoded.
const MAX_BODY: usize = 512 * 1024;

/// The route for `/`: every query-protocol service's calls.
pub fn routes() -> Router<Ctx> {
    Router::new().route("/", any(root))
}

/// `POST /` (form body) or `GET /?Action=...`, given to the service its signature is scoped
/// to; otherwise `/` is no operation of the addressed service.
async fn root(State(ctx): State<Ctx>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let service = service_of(ctx.services, &parts.uri, &parts.headers);
    let Some(handler) = service.query else {
        return (service.unknown_operation)(parts.method.as_str(), parts.uri.path())
            .into_response();
    };
    let request_id = uuid::Uuid::new_v4().to_string();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        let e = ApiError::new(413, "RequestEntityTooLarge", "Request body too large");
        return service.error_response(e, &request_id);
    };
    let mut params: HashMap<String, String> = HashMap::new();
    // JSON 1.1: `X-Amz-Target: {Service}.{Action}`, the body is the action's JSON.
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|t| t.to_str().ok())
        .and_then(|t| t.rsplit_once('.'))
        .map(|(_, action)| action.to_string());
    if target.is_none() {
        let form = String::from_utf8_lossy(&body);
        let query = parts.uri.query().unwrap_or_default();
        for (k, v) in form_pairs(query).chain(form_pairs(&form)) {
            params.entry(k).or_insert(v);
        }
    }
    let Some(action) = target.or_else(|| params.remove("Action")) else {
        let e = ApiError::new(400, "MissingAction", "Missing Action");
        return service.error_response(e, &request_id);
    };
    let caller = parts
        .extensions
        .get::<SignedBy>()
        .map(|s| s.0.clone())
        .unwrap_or_default();
    let call = QueryCall {
        action,
        params,
        body,
        request_id,
        caller,
    };
    handler(ctx, call).await
}

/// A query-protocol answer: `body` with `text/xml` and the request id it names.
pub fn xml(status: u16, body: String, request_id: &str) -> Response {
    let mut resp = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        body,
    )
        .into_response();
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml"),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-RequestId", v);
    }
    resp
}

/// `<{Action}Response xmlns><{Action}Result>{result}</..Result><ResponseMetadata>...`; an
/// action without a result (`DeleteRole`) has `result: None`.
pub fn success(xmlns: &str, action: &str, result: Option<&str>, request_id: &str) -> Response {
    let result = result
        .map(|r| format!("<{action}Result>{r}</{action}Result>"))
        .unwrap_or_default();
    let body = format!(
        "<{action}Response xmlns=\"{xmlns}\">{result}<ResponseMetadata>\
         <RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
    );
    xml(200, body, request_id)
}

/// The query protocol's XML `ErrorResponse`.
pub fn error(xmlns: &str, e: &ApiError, request_id: &str) -> Response {
    let kind = if e.status >= 500 {
        "Receiver"
    } else {
        "Sender"
    };
    let body = format!(
        "<ErrorResponse xmlns=\"{xmlns}\"><Error><Type>{kind}</Type><Code>{}</Code>\
         <Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
        query_protocol_code(e.error_type),
        escape(&e.message)
    );
    xml(e.status, body, request_id)
}

/// The signature errors' names in the query-protocol services (the verifier names them as
/// the JSON services do).
pub(crate) fn query_protocol_code(error_type: &'static str) -> &'static str {
    match error_type {
        "InvalidSignatureException" => "SignatureDoesNotMatch",
        "IncompleteSignatureException" => "IncompleteSignature",
        "MissingAuthenticationTokenException" => "MissingAuthenticationToken",
        "UnrecognizedClientException" => "InvalidClientTokenId",
        "AccessDeniedException" => "AccessDenied",
        "ExpiredTokenException" => "ExpiredToken",
        other => other,
    }
}

/// Text as XML element content.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// Appends `<{name}>{escaped value}</{name}>`.
pub fn element(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&escape(value));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// The members `{prefix}.member.1`, `.2`, ... of a list parameter, in order (a gap ends it).
pub fn members(params: &HashMap<String, String>, prefix: &str) -> Vec<String> {
    (1..)
        .map_while(|i| params.get(&format!("{prefix}.member.{i}")).cloned())
        .collect()
}
