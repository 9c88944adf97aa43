//! The front door: a control-plane call signed for an AWS service Tollgate does not serve
//! (`s3`, `sqs`, `dynamodb`...) goes on to that service's configured endpoint
//! (`--aws-service-endpoint`, else `--aws-endpoint`), so tools need one endpoint for the
//! whole stack. It is authenticated first as every control-plane call is, then re-signed
//! with the `--aws-*` credentials for the same service and region; the endpoint's answer
//! comes back as it is. Services Tollgate serves are never forwarded, and a service without
//! an endpoint keeps the control plane's own answer.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Uri};
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tollgate_sigv4::endpoint::{AwsCredentials, Endpoint, Endpoints};
use tollgate_sigv4::Signer;

use crate::core::aws_chunked;
use crate::core::budget::Reservation;
use crate::core::error::ApiError;
use crate::core::registry::{scope_field, scope_service, IamAction, IamCall, Registry};

/// How long the endpoint has to answer (its response head) before the caller gets a 504.
pub const TIMEOUT: Duration = Duration::from_secs(30);

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// Where calls for services Tollgate does not serve go, and whom they are signed as.
pub struct FrontDoor {
    endpoints: Endpoints,
    credentials: Option<AwsCredentials>,
    timeout: Duration,
    /// Built on first use: a front door nobody uses loads no root certificates.
    client: OnceLock<Client<Connector, Full<Bytes>>>,
}

/// A call the front door takes: its scope's service and region, and where it goes.
pub struct Target {
    service: String,
    region: String,
    endpoint: Endpoint,
}

/// Refuses aws-chunked bodies whose chunks are signed one by one: their signatures are not
/// checked here, so they are refused before anything is read rather than forwarded
/// unverified. Unsigned chunks with a trailer (what the SDKs send over TLS) are taken
/// apart instead ([`aws_chunked`]).
pub(crate) fn refuse_streaming(headers: &HeaderMap) -> Result<(), ApiError> {
    let streaming = headers
        .get("x-amz-content-sha256")
        .is_some_and(|v| v.as_bytes().starts_with(b"STREAMING-"));
    if streaming && !aws_chunked::is_unsigned_trailer(headers) {
        return Err(ApiError::new(
            501,
            "NotImplemented",
            "Tollgate's front door does not accept streaming (aws-chunked) SigV4 payloads: \
             sign the payload whole (UNSIGNED-PAYLOAD or its SHA-256), or send unsigned chunks \
             (STREAMING-UNSIGNED-PAYLOAD-TRAILER)",
        ));
    }
    Ok(())
}

impl Target {
    /// The service the call's signature is scoped to.
    pub(crate) fn service(&self) -> &str {
        &self.service
    }
}

impl FrontDoor {
    pub fn new(endpoints: Endpoints, credentials: Option<AwsCredentials>) -> FrontDoor {
        FrontDoor {
            endpoints,
            credentials,
            timeout: TIMEOUT,
            client: OnceLock::new(),
        }
    }

    /// Shortens the endpoint's time to answer (tests).
    pub fn with_timeout(mut self, timeout: Duration) -> FrontDoor {
        self.timeout = timeout;
        self
    }

    /// The call's target when its credential scope names a service that no registered
    /// service (nor the data plane's `execute-api`) is, and that has an endpoint.
    pub(crate) fn addressed<S>(
        &self,
        services: Registry<S>,
        uri: &Uri,
        headers: &HeaderMap,
    ) -> Option<Target> {
        let service = scope_service(uri, headers)?;
        let served = service == "execute-api" || services.iter().any(|s| s.signing_name == service);
        if served || service.is_empty() {
            return None;
        }
        Some(Target {
            service: service.to_string(),
            region: scope_field(uri, headers, 2)?.to_string(),
            endpoint: self.endpoints.of(service)?.clone(),
        })
    }

    /// Sends the authenticated call on and returns the endpoint's answer; `reservation` is
    /// the body's room in the budget of bodies in flight, given back once it is sent.
    pub(crate) async fn send(
        &self,
        target: &Target,
        req: Request,
        reservation: Reservation,
    ) -> Result<Response, ApiError> {
        let Some(creds) = &self.credentials else {
            tracing::warn!(
                service = %target.service,
                "front door call without credentials: set --aws-access-key-id and --aws-secret-access-key"
            );
            return Err(ApiError::new(
                500,
                "InternalFailure",
                "Tollgate has no credentials to call this service with",
            ));
        };
        let (parts, body) = req.into_parts();
        // The envelope read it already, within the control plane's limit.
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .map_err(|_| ApiError::bad_request("The request body could not be read"))?;
        let (parts, body) = plain_upload(parts, body)?;
        let outgoing = outgoing(&parts, body, target, creds)?;
        let method = parts.method.clone();
        let path = parts.uri.path().to_string();
        let sent = tokio::time::timeout(self.timeout, self.client().request(outgoing)).await;
        // The body has been sent: its room goes back to the budget.
        drop(reservation);
        let authority = target.endpoint.authority();
        let resp = match sent {
            Ok(Ok(resp)) => resp,
            Ok(Err(e)) => {
                tracing::warn!(service = %target.service, endpoint = %authority, error = %e, "front door endpoint unreachable");
                return Err(ApiError::new(
                    502,
                    "BadGateway",
                    format!("The {} endpoint could not be reached", target.service),
                ));
            }
            Err(_) => {
                tracing::warn!(service = %target.service, endpoint = %authority, "front door endpoint did not answer in time");
                return Err(ApiError::new(
                    504,
                    "GatewayTimeout",
                    format!(
                        "The {} endpoint did not answer within {} s",
                        target.service,
                        self.timeout.as_secs()
                    ),
                ));
            }
        };
        tracing::debug!(service = %target.service, %method, path, status = resp.status().as_u16(), "front door call forwarded");
        let (mut parts, body) = resp.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        Ok(Response::from_parts(parts, Body::new(body)))
    }

    fn client(&self) -> &Client<Connector, Full<Bytes>> {
        self.client.get_or_init(|| {
            let builder = match hyper_rustls::HttpsConnectorBuilder::new().with_native_roots() {
                Ok(b) => b,
                Err(e) => {
                    // Still call http:// endpoints; https:// ones fail verification.
                    tracing::warn!(error = %e, "no system root certificates found");
                    let config = rustls::ClientConfig::builder()
                        .with_root_certificates(rustls::RootCertStore::empty())
                        .with_no_client_auth();
                    hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config)
                }
            };
            let mut tcp = HttpConnector::new();
            tcp.set_connect_timeout(Some(self.timeout));
            tcp.enforce_http(false);
            let connector = builder.https_or_http().enable_http1().wrap_connector(tcp);
            Client::builder(TokioExecutor::new()).build(connector)
        })
    }
}

/// An upload in unsigned chunks with a trailer as a plain one (its data, the trailer's
/// checksums as headers); any other call as it is.
fn plain_upload(
    mut parts: http::request::Parts,
    body: Bytes,
) -> Result<(http::request::Parts, Bytes), ApiError> {
    if !aws_chunked::is_unsigned_trailer(&parts.headers) {
        return Ok((parts, body));
    }
    let decoded = aws_chunked::decode(&body).map_err(|e| {
        ApiError::bad_request(format!("The aws-chunked body is malformed: {}", e.0))
    })?;
    aws_chunked::plain_headers(&mut parts.headers, decoded.trailers);
    Ok((parts, decoded.body))
}

/// The call addressed to the endpoint, with the caller's headers (less those of the hop
/// and of its signature) and signed anew.
fn outgoing(
    parts: &http::request::Parts,
    body: Bytes,
    target: &Target,
    creds: &AwsCredentials,
) -> Result<http::Request<Full<Bytes>>, ApiError> {
    let endpoint = &target.endpoint;
    let path = format!("{}{}", endpoint.base_path(), parts.uri.path());
    let query = parts
        .uri
        .query()
        .map(without_presigning)
        .unwrap_or_default();
    let uri = if query.is_empty() {
        format!("{}://{}{path}", endpoint.scheme(), endpoint.authority())
    } else {
        format!(
            "{}://{}{path}?{query}",
            endpoint.scheme(),
            endpoint.authority()
        )
    };
    let uri: Uri = uri
        .parse()
        .map_err(|_| ApiError::bad_request("The request target cannot be forwarded"))?;
    let mut headers = parts.headers.clone();
    strip_hop_by_hop(&mut headers);
    for name in [
        "host",
        "authorization",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
        "content-length",
        "expect",
    ] {
        headers.remove(name);
    }
    let host = HeaderValue::from_str(endpoint.authority().as_str())
        .map_err(|_| ApiError::bad_request("The endpoint cannot be named in a Host header"))?;
    headers.insert(http::header::HOST, host);
    tollgate_sigv4::sign(
        parts.method.as_str(),
        &path,
        (!query.is_empty()).then_some(query.as_str()),
        &mut headers,
        &body,
        &Signer {
            access_key_id: &creds.access_key_id,
            credential: &creds.credential,
            region: &target.region,
            service: &target.service,
        },
        SystemTime::now(),
    );
    if !body.is_empty() || parts.method == http::Method::POST || parts.method == http::Method::PUT {
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    let mut req = http::Request::new(Full::new(body));
    *req.method_mut() = parts.method.clone();
    *req.uri_mut() = uri;
    *req.headers_mut() = headers;
    Ok(req)
}

/// The query less a presigned URL's signature parameters (the call is signed anew).
fn without_presigning(query: &str) -> String {
    const SIGNING: [&str; 7] = [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
    ];
    query
        .split('&')
        .filter(|p| !SIGNING.contains(&p.split('=').next().unwrap_or("")))
        .collect::<Vec<_>>()
        .join("&")
}

/// Headers that belong to one connection, not to the message (RFC 9110 §7.6.1).
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in [
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ] {
        headers.remove(name);
    }
}

/// What identity policies are asked about a forwarded call: `{service}:{Operation}` when
/// the call names its operation (JSON `X-Amz-Target`, query `Action`), else `{service}:*`,
/// which only a policy allowing the whole service matches; on any resource.
pub(crate) fn forwarded_action(call: &IamCall<'_>) -> Option<IamAction> {
    let headers = &call.parts.headers;
    let service = scope_service(&call.parts.uri, headers).unwrap_or("");
    let from_target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(|t| t.rsplit('.').next().unwrap_or(t).to_string());
    let from_action = || {
        let form = headers.get(http::header::CONTENT_TYPE).is_some_and(|v| {
            v.as_bytes()
                .starts_with(b"application/x-www-form-urlencoded")
        });
        let query = call.parts.uri.query().unwrap_or("").as_bytes();
        let pairs = form
            .then_some(call.body)
            .into_iter()
            .chain([query])
            .flat_map(|b| b.split(|c| *c == b'&'));
        pairs
            .filter_map(|p| p.strip_prefix(b"Action="))
            .find_map(|a| std::str::from_utf8(a).ok())
            .map(str::to_string)
    };
    let operation = from_target.or_else(from_action);
    let operation = operation
        .filter(|o| !o.is_empty() && o.bytes().all(|b| b.is_ascii_alphanumeric()))
        .unwrap_or_else(|| "*".to_string());
    Some(IamAction {
        action: format!("{service}:{operation}"),
        resource: "*".to_string(),
        keys: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn door_to(url: &str) -> (FrontDoor, Target) {
        let endpoint = Endpoint::parse(url).unwrap();
        let creds = AwsCredentials {
            access_key_id: "AKID".into(),
            credential: tollgate_sigv4::Credential {
                secret_access_key: "secret".into(),
                session_token: None,
            },
        };
        let door = FrontDoor::new(Endpoints::default(), Some(creds))
            .with_timeout(Duration::from_millis(300));
        let target = Target {
            service: "sqs".into(),
            region: "us-east-1".into(),
            endpoint,
        };
        (door, target)
    }

    async fn status_of(door: &FrontDoor, target: &Target) -> (u16, String) {
        let budget = crate::core::budget::BodyBudget::new(1024);
        let reservation = budget.reserve(0).await.unwrap();
        let req = Request::builder()
            .method("POST")
            .uri("/")
            .body(Body::from("{}"))
            .unwrap();
        match door.send(target, req, reservation).await {
            Ok(resp) => (resp.status().as_u16(), String::new()),
            Err(e) => (e.status, e.error_type.to_string()),
        }
    }

    #[tokio::test]
    async fn an_endpoint_that_does_not_answer_is_a_504_and_one_that_refuses_a_502() {
        // Accepts the connection and never answers.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = silent.local_addr().unwrap().port();
        let held = tokio::spawn(async move {
            let (_conn, _) = silent.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
        });
        let (door, target) = door_to(&format!("http://127.0.0.1:{port}"));
        assert_eq!(
            status_of(&door, &target).await,
            (504, "GatewayTimeout".to_string())
        );
        held.abort();

        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let (door, target) = door_to(&format!("http://127.0.0.1:{port}"));
        assert_eq!(
            status_of(&door, &target).await,
            (502, "BadGateway".to_string())
        );
    }

    #[test]
    fn presigning_parameters_are_dropped() {
        assert_eq!(
            without_presigning("list-type=2&X-Amz-Algorithm=A&X-Amz-Signature=s&prefix=a"),
            "list-type=2&prefix=a"
        );
    }

    #[test]
    fn hop_by_hop_headers_go() {
        let mut h = HeaderMap::new();
        h.insert("connection", "close, x-private".parse().unwrap());
        h.insert("x-private", "1".parse().unwrap());
        h.insert("transfer-encoding", "chunked".parse().unwrap());
        h.insert("x-amz-meta-a", "b".parse().unwrap());
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1, "{h:?}");
    }

    #[test]
    fn forwarded_actions_name_the_operation_when_the_call_does() {
        let auth = "AWS4-HMAC-SHA256 Credential=k/20240101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0";
        let action = |target: Option<&str>, uri: &str, body: &[u8]| {
            crate::core::registry::call_for_test("POST", uri, body, |c| {
                let mut parts = c.parts.clone();
                parts.headers.insert("authorization", auth.parse().unwrap());
                if let Some(t) = target {
                    parts.headers.insert("x-amz-target", t.parse().unwrap());
                }
                let call = IamCall {
                    parts: &parts,
                    ..*c
                };
                forwarded_action(&call).unwrap().action
            })
        };
        assert_eq!(
            action(Some("AmazonSQS.SendMessage"), "/", b""),
            "sqs:SendMessage"
        );
        assert_eq!(action(None, "/?Action=ListQueues", b""), "sqs:ListQueues");
        assert_eq!(action(None, "/b/k", b""), "sqs:*");
    }
}
