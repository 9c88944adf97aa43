//! `AWS_PROXY` with an `integrationSubtype` on an HTTP API: the subtype's parameters
//! rendered from the request, the call signed and sent, and the service's answer returned
//! as it is (status, Content-Type, body), as AWS does.

use http::Response;

use super::call::HttpApiCall;
use super::mapping::{mapped_body, MappingSources};
use crate::body::GatewayBody;
use crate::compile::http_api::{FirstClass, HttpIntegration};
use crate::compile::http_mapping::render;
use crate::error::{HttpApiError, MAX_BODY};
use crate::http_context::IntegrationRequestId;
use crate::integrations::aws::as_role;
use crate::integrations::http::HttpClient;
use crate::invocation::RequestBody;

pub async fn aws_service(
    c: &HttpApiCall<'_>,
    i: &HttpIntegration,
    target: &FirstClass,
    body: RequestBody,
) -> Result<Response<GatewayBody>, HttpApiError> {
    let request_body = if i.request_reads_body {
        mapped_body(&body.collect(c.body_stall).await?)
    } else {
        None
    };
    let sources = MappingSources {
        call: c,
        response: None,
        request_body,
        response_body: None,
    };
    let values: Vec<(&str, String)> = target
        .parameters
        .iter()
        .map(|(name, pieces)| (*name, render(pieces, &sources)))
        .collect();
    let region = match &target.region {
        Some(pieces) => render(pieces, &sources),
        None => c.aws.region.clone(),
    };
    let call = target.subtype.call(&region, &values);
    let req = as_role::prepare(c.aws, call, i.credentials.as_deref()).await?;
    let out = HttpClient::current()
        .send_buffered(req, i.timeout, MAX_BODY)
        .await?;
    let mut resp = Response::new(GatewayBody::from_bytes(out.body));
    *resp.status_mut() =
        http::StatusCode::from_u16(out.status).map_err(|_| HttpApiError::Internal)?;
    if let Some(ct) = out.headers.get(http::header::CONTENT_TYPE) {
        resp.headers_mut()
            .insert(http::header::CONTENT_TYPE, ct.clone());
    }
    // The service's own request id, for `$context.awsEndpointRequestId`.
    let request_id = ["x-amzn-requestid", "x-amz-request-id"]
        .iter()
        .find_map(|h| out.headers.get(*h)?.to_str().ok());
    if let Some(id) = request_id {
        resp.extensions_mut()
            .insert(IntegrationRequestId(id.to_string()));
    }
    Ok(resp)
}
