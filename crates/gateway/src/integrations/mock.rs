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
    if let Ok(StatusOnly(found)) = serde_json::from_str::<StatusOnly>(rendered) {
        if let Some(n) = found.as_ref().and_then(serde_json::Value::as_u64) {
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

/// A JSON object's top-level `statusCode` (the last one, as a full parse keeps), every other
/// member skipped: a MOCK request reads one number, so it builds no map (a parse into a
/// `Value` was 1,765 of MOCK's 32,465 instructions per request).
struct StatusOnly(Option<serde_json::Value>);

impl<'de> serde::Deserialize<'de> for StatusOnly {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = StatusOnly;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<StatusOnly, A::Error> {
                let mut found = None;
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        Key::StatusCode => found = Some(map.next_value()?),
                        Key::Other => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(StatusOnly(found))
            }
        }
        d.deserialize_map(Members)
    }
}

/// A member name, compared without keeping it.
enum Key {
    StatusCode,
    Other,
}

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Name;
        impl serde::de::Visitor<'_> for Name {
            type Value = Key;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(if v == "statusCode" {
                    Key::StatusCode
                } else {
                    Key::Other
                })
            }
        }
        d.deserialize_identifier(Name)
    }
}

/// `MOCK`: nothing is sent; the request template's `statusCode` picks the response.
pub struct Mock;

impl Integration for Mock {
    async fn call(
        &self,
        call: &Call<'_, '_>,
        inv: &Invocation<'_>,
        // Nothing is called: only a traced request's template span is recorded.
        rec: &mut CallRecord,
        body: RequestBody,
    ) -> Result<Answer, GatewayError> {
        let body = body.collect(call.body_stall).await?;
        let mapping = CallRecord::mapping_starts(inv);
        let out = invoke(inv, call.integration, call.params, &body);
        rec.mapped(mapping);
        out.map(Answer::Output)
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
        // As a full parse reads them: the last of two, nested members ignored, escapes.
        assert_eq!(
            status_code(r#"{"statusCode": 200, "statusCode": 404}"#),
            Some(404)
        );
        assert_eq!(
            status_code(r#"{"a": {"statusCode": 500}, "statusCode": 201}"#),
            Some(201)
        );
        assert_eq!(status_code(r#"{"status\u0043ode": 202}"#), Some(202));
        assert_eq!(status_code(r#"{"statusCode": 200.0}"#), Some(200));
        assert_eq!(status_code(r#"[{"statusCode": 200}]"#), Some(200));
    }
}
