//! `AWS_PROXY` on an HTTP API: the route's function called with the payload version's
//! event, its output read by that version's rules.

use bytes::Bytes;
use http::Response;
use tollgate_functions::InvokeRequest;
use tollgate_model::PayloadFormatVersion;

use super::call::HttpApiCall;
use super::event::{event_v1, event_v2};
use super::output::output_v2;
use crate::body::GatewayBody;
use crate::compile::http_api::HttpIntegration;
use crate::error::HttpApiError;
use crate::http_context::IntegrationRequestId;
use crate::integrations::lambda::{permit, proxy_output};
use crate::integrations::lambda_target::LambdaTarget;
use crate::invocation::RequestBody;

/// `AWS_PROXY` to a Lambda function.
pub async fn lambda(
    c: &HttpApiCall<'_>,
    i: &HttpIntegration,
    target: &LambdaTarget,
    body: RequestBody,
) -> Result<Response<GatewayBody>, HttpApiError> {
    let functions = c.functions.ok_or(HttpApiError::Internal)?;
    let body = body.collect(c.body_stall).await?;
    let event = match i.payload {
        PayloadFormatVersion::V2 => event_v2(c, &body),
        PayloadFormatVersion::V1 => event_v1(c, &body),
    };
    let f = target.resolve(c.stage_variables, c.api_id)?;
    if !i.has_credentials {
        permit(
            functions,
            &f,
            c.api_id,
            c.stage,
            &c.source_arn(functions.region()),
        )?;
    }
    let call = functions.invoke(
        &f.name,
        f.qualifier.as_deref(),
        InvokeRequest {
            payload: Bytes::from(event),
            log_tail: false,
            client_context: None,
            trace_id: c.context.trace_header(),
        },
    );
    let out = match tokio::time::timeout(i.timeout, call).await {
        Err(_) => return Err(HttpApiError::ServiceUnavailable),
        Ok(Err(e)) => {
            tracing::info!(api = %c.api_id, function = %f.name, error = %e, "Lambda invocation failed");
            return Err(HttpApiError::Internal);
        }
        Ok(Ok(out)) => out,
    };
    let mut resp = match i.payload {
        PayloadFormatVersion::V2 => output_v2(c.api_id, &out)?,
        // HTTP APIs decode an `isBase64Encoded` body whatever the client accepts.
        PayloadFormatVersion::V1 => proxy_output(c.api_id, &out, true, || true)?,
    };
    resp.extensions_mut()
        .insert(IntegrationRequestId(out.request_id));
    Ok(resp)
}
