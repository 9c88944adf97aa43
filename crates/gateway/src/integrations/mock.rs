//! MOCK integration: the status code comes from the request template's `statusCode`.

use bytes::Bytes;

use super::call::{Answer, Call, CallRecord, Integration};
use crate::compile::CompiledIntegration;
use crate::content_handling::Payload;
use crate::error::GatewayError;
use crate::invocation::{IntegrationOutput, Invocation, RequestBody};
use crate::pipeline::integration_request::render_request;
use crate::pipeline::integration_response::empty_output;
use crate::pipeline::method_request::Params;

pub fn invoke(
    inv: &Invocation<'_>,
    i: &CompiledIntegration,
    params: &Params<'_>,
    body: &Bytes,
) -> Result<IntegrationOutput, GatewayError> {
    // The rendered template is the whole "endpoint request": nothing is sent, so the
    // outgoing conversion does not apply.
    let (rendered, context) = match render_request(inv, i, params, body)? {
        (Payload::Text(t), Some(context)) => (t, context),
        // No template: nothing to read a status from; AWS answers 200.
        _ => return Ok(empty_output(200)),
    };
    let status = status_code(&String::from_utf8_lossy(&rendered)).ok_or_else(|| {
        tracing::info!(api = %inv.ctx.api_id, "MOCK request template has no integer statusCode");
        GatewayError::internal()
    })?;
    let mut out = empty_output(status);
    out.overrides = crate::invocation::overrides_of(&context);
    Ok(out)
}

/// Reads `statusCode` from a rendered template. Lenient, like AWS: `{"statusCode": 200}`,
/// `{statusCode: 200}` and `{'statusCode': 404}` all work.
pub fn status_code(rendered: &str) -> Option<u16> {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(rendered) {
        if let Some(n) = v.get("statusCode").and_then(|s| s.as_u64()) {
            return u16::try_from(n).ok().filter(|s| (100..=599).contains(s));
        }
    }
    let idx = rendered.find("statusCode")?;
    let rest =
        rendered[idx + "statusCode".len()..].trim_start_matches(['"', '\'', ' ', '\t', '\n', '\r']);
    let rest = rest.strip_prefix(':')?.trim_start();
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits
        .parse::<u16>()
        .ok()
        .filter(|s| (100..=599).contains(s))
}

/// `MOCK`: nothing is sent; the request template's `statusCode` picks the response.
pub struct Mock;

impl Integration for Mock {
    async fn call(
        &self,
        call: &Call<'_, '_>,
        inv: &Invocation<'_>,
        // Nothing is called, so there is nothing to record.
        _rec: &mut CallRecord,
        body: RequestBody,
    ) -> Result<Answer, GatewayError> {
        let body = body.collect(call.body_stall).await?;
        invoke(inv, call.integration, call.params, &body).map(Answer::Output)
    }
}

#[cfg(test)]
mod tests {
    use super::status_code;

    #[test]
    fn lenient_status() {
        assert_eq!(status_code("{\"statusCode\": 200}"), Some(200));
        assert_eq!(status_code("{statusCode: 404}"), Some(404));
        assert_eq!(status_code("{ 'statusCode' : 201 , 'x': 1}"), Some(201));
        assert_eq!(status_code("{\"statusCode\": \"200\"}"), None);
        assert_eq!(status_code("{\"statusCode\": 999}"), None);
        assert_eq!(status_code("nothing"), None);
    }
}
