//! A payload 2.0 function's output as the client's response (lambda-events.md §4.2).

use base64::Engine;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Response};
use serde_json::Value;
use tollgate_functions::InvokeResponse;

use crate::body::GatewayBody;
use crate::error::HttpApiError;
use crate::pipeline::respond::http_api_passed;
use crate::response_case::ResponseSpellings;

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn malformed(api_id: &str, why: &str) -> HttpApiError {
    tracing::info!(api = %api_id, why, "malformed Lambda response (payload 2.0)");
    HttpApiError::Internal
}

/// The client's response from a payload 2.0 function's output (lambda-events.md §4.2): a
/// JSON object with `statusCode` is structured; any other JSON is the body of a 200.
pub fn output_v2(
    api_id: &str,
    out: &InvokeResponse,
) -> Result<Response<GatewayBody>, HttpApiError> {
    if out.function_error {
        tracing::info!(api = %api_id, "Lambda function error (payload 2.0)");
        return Err(HttpApiError::Internal);
    }
    let v: Value =
        serde_json::from_slice(&out.payload).map_err(|_| malformed(api_id, "not JSON"))?;
    let structured = match &v {
        Value::Object(o) if o.contains_key("statusCode") => Some(o),
        _ => None,
    };
    let Some(obj) = structured else {
        // Inferred: a JSON string is the body as text, anything else its JSON text.
        let body = match v {
            Value::String(s) => Bytes::from(s),
            _ => out.payload.clone(),
        };
        let mut resp = Response::new(GatewayBody::from_bytes(body));
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return Ok(resp);
    };
    let status = match &obj["statusCode"] {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .and_then(|n| u16::try_from(n).ok())
    .and_then(|n| http::StatusCode::from_u16(n).ok())
    .ok_or_else(|| malformed(api_id, "statusCode"))?;
    let mut headers = HeaderMap::new();
    let mut spellings = None;
    if let Some(Value::Object(h)) = obj.get("headers") {
        // Names go out on HTTP/1.1 as the function spelled them, as a backend's do.
        spellings = ResponseSpellings::of(h.keys().map(String::as_str));
        for (k, v) in h {
            let name = HeaderName::from_bytes(k.as_bytes())
                .ok()
                .and_then(|n| http_api_passed(&n));
            if let (Some(n), Ok(v)) = (name, HeaderValue::from_str(&text(v))) {
                headers.insert(n, v);
            }
        }
    }
    if let Some(Value::Array(cookies)) = obj.get("cookies") {
        for c in cookies {
            if let Ok(v) = HeaderValue::from_str(&text(c)) {
                headers.append(http::header::SET_COOKIE, v);
            }
        }
    }
    let body = match obj.get("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(v) => Bytes::from(text(v)),
    };
    let body = if obj.get("isBase64Encoded") == Some(&Value::Bool(true)) {
        base64::engine::general_purpose::STANDARD
            .decode(&body)
            .map(Bytes::from)
            .map_err(|_| malformed(api_id, "body is not base64"))?
    } else {
        body
    };
    if !headers.contains_key(http::header::CONTENT_TYPE) {
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    let mut resp = Response::new(GatewayBody::from_bytes(body));
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    ResponseSpellings::attach(spellings, &mut resp);
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(payload: &str, error: bool) -> InvokeResponse {
        InvokeResponse {
            payload: Bytes::from(payload.to_string()),
            function_error: error,
            log: None,
            executed_version: "$LATEST".into(),
            request_id: "r".into(),
        }
    }

    #[test]
    fn v2_output_inference_and_structure() {
        let r = output_v2("a", &out(r#""hello""#, false)).unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/json");
        let r = output_v2("a", &out(r#"{"a":1}"#, false)).unwrap();
        assert_eq!(r.status(), 200);
        let r = output_v2(
            "a",
            &out(
                r#"{"statusCode":"201","headers":{"x-a":"1"},"cookies":["a=1","b=2"],"body":"aGk=","isBase64Encoded":true,"extra":1}"#,
                false,
            ),
        )
        .unwrap();
        assert_eq!(r.status(), 201);
        assert_eq!(r.headers()["x-a"], "1");
        assert_eq!(r.headers().get_all("set-cookie").iter().count(), 2);
        for (payload, error) in [
            ("nope", false),
            ("{}", true),
            (r#"{"statusCode":"x"}"#, false),
        ] {
            assert_eq!(
                output_v2("a", &out(payload, error)).err(),
                Some(HttpApiError::Internal),
                "{payload}"
            );
        }
    }
}
