//! AWS STS (query protocol, version 2011-06-15) on the control-plane endpoint: only
//! GetCallerIdentity, which tools and test suites call before anything else to check their
//! credentials. Every accepted key belongs to the one account, as its root user.

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use http::{HeaderValue, StatusCode};

use crate::core::context::Ctx;
use crate::core::error::ApiError;
use crate::core::registry::{service_of, ErrorShape, Recognition, ServiceSpec};
use crate::core::util::form_pairs;

const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// STS calls are a few form fields; nothing legitimate comes near this.
const MAX_BODY: usize = 64 * 1024;

/// STS on the control-plane endpoint: `/`, told apart from other services' `/` only by the
/// signature's scope.
pub static SERVICE: ServiceSpec<Ctx> = ServiceSpec {
    signing_name: "sts",
    recognition: Recognition::RootScoped,
    routes,
    // The envelope's limit; the handler holds STS bodies to its own, smaller one.
    max_body: crate::core::envelope::MAX_BODY,
    error_shape: ErrorShape::Xml(error),
    unknown_operation: crate::core::error::unknown_operation,
};

fn routes() -> Router<Ctx> {
    Router::new().route("/", post(handle).get(handle))
}

/// `POST /` (form body) or `GET /?Action=...`, when the signature is scoped to `sts`;
/// otherwise `/` is no operation of API Gateway.
pub async fn handle(State(ctx): State<Ctx>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let service = service_of(ctx.services, &parts.uri, &parts.headers);
    if service.signing_name != SERVICE.signing_name {
        return (service.unknown_operation)(parts.method.as_str(), parts.uri.path())
            .into_response();
    }
    let request_id = uuid::Uuid::new_v4().to_string();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        let e = ApiError::new(413, "RequestEntityTooLarge", "Request body too large");
        return error(&e, &request_id);
    };
    let query = parts.uri.query().unwrap_or_default().to_string();
    let form = String::from_utf8_lossy(&body).into_owned();
    let action = form_pairs(&query)
        .chain(form_pairs(&form))
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v);
    match action.as_deref() {
        Some("GetCallerIdentity") => xml(200, &caller_identity(&request_id), &request_id),
        Some(other) => error(
            &ApiError::new(
                400,
                "InvalidAction",
                format!("Could not find operation {other} for version 2011-06-15"),
            ),
            &request_id,
        ),
        None => error(
            &ApiError::new(400, "MissingAction", "Missing Action"),
            &request_id,
        ),
    }
}

fn caller_identity(request_id: &str) -> String {
    let account = tollgate_model::ACCOUNT_ID;
    format!(
        "<GetCallerIdentityResponse xmlns=\"{XMLNS}\">\
         <GetCallerIdentityResult>\
         <Arn>arn:aws:iam::{account}:root</Arn>\
         <UserId>{account}</UserId>\
         <Account>{account}</Account>\
         </GetCallerIdentityResult>\
         <ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>\
         </GetCallerIdentityResponse>"
    )
}

/// STS's XML error shape (a refused signature as well as a bad action).
pub fn error(e: &ApiError, request_id: &str) -> Response {
    let kind = if e.status >= 500 {
        "Receiver"
    } else {
        "Sender"
    };
    let body = format!(
        "<ErrorResponse xmlns=\"{XMLNS}\"><Error><Type>{kind}</Type><Code>{}</Code>\
         <Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
        query_protocol_code(e.error_type),
        escape(&e.message)
    );
    xml(e.status, &body, request_id)
}

/// The signature errors' names in the query-protocol services (the verifier names them as
/// the JSON services do).
fn query_protocol_code(error_type: &'static str) -> &'static str {
    match error_type {
        "InvalidSignatureException" => "SignatureDoesNotMatch",
        "IncompleteSignatureException" => "IncompleteSignature",
        "MissingAuthenticationTokenException" => "MissingAuthenticationToken",
        "UnrecognizedClientException" => "InvalidClientTokenId",
        other => other,
    }
}

fn xml(status: u16, body: &str, request_id: &str) -> Response {
    let mut resp = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        body.to_string(),
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

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}
