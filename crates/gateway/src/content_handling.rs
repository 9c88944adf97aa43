//! Binary media types and `contentHandling` for non-proxy integrations
//! (request-pipeline.md §6).
//!
//! A payload is either text (UTF-8) or binary. Mapping templates only ever see text, so
//! conversions happen on both sides of the template: binary becomes base64 text before it
//! (`CONVERT_TO_TEXT`), text becomes binary by base64-decoding after it (`CONVERT_TO_BINARY`,
//! or an unset handling when the client's Accept is a binary media type). Without a
//! template the two steps meet and give AWS's conversion tables.

use base64::Engine;
use bytes::Bytes;
use http::HeaderMap;
use tollgate_model::ContentHandlingStrategy;

use crate::error::GatewayError;

/// A payload between the conversions: `Text` always holds valid UTF-8.
#[derive(Debug, PartialEq, Eq)]
pub enum Payload {
    Text(Bytes),
    Binary(Bytes),
}

/// What an unset `contentHandling` makes of a payload at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unset {
    /// Integration request: text stays text, binary stays binary.
    AsIs,
    /// Integration response, the client's Accept is not a binary media type.
    Text,
    /// Integration response, the client's Accept is a binary media type.
    Binary,
}

/// Whether a media type is one of the API's binary media types (`*/*` and `type/*` included).
pub fn is_binary(types: &[String], content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return false };
    let ct = ct.split(';').next().unwrap_or_default().trim();
    types.iter().any(|t| {
        let t = t.trim();
        t == "*/*"
            || t.eq_ignore_ascii_case(ct)
            || t.strip_suffix("/*").is_some_and(|prefix| {
                ct.split('/')
                    .next()
                    .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
            })
    })
}

/// Whether the request's Content-Type is a binary media type.
pub fn has_binary_content_type(types: &[String], headers: &HeaderMap) -> bool {
    !types.is_empty()
        && is_binary(
            types,
            headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
        )
}

/// Whether the client's Accept asks for a binary media type: only its first entry counts,
/// compared literally (an Accept of `*/*` is not binary unless the API lists `*/*`).
pub fn accepts_binary(types: &[String], headers: &HeaderMap) -> bool {
    !types.is_empty()
        && is_binary(
            types,
            headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .and_then(|a| a.split(',').next()),
        )
}

fn encode(b: &[u8]) -> Bytes {
    Bytes::from(base64::engine::general_purpose::STANDARD.encode(b))
}

/// Base64 with or without padding, as AWS's decoder accepts; anything else is AWS's
/// configuration error (500).
fn decode(text: &[u8]) -> Result<Bytes, GatewayError> {
    const LENIENT: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    LENIENT.decode(text).map(Bytes::from).map_err(|e| {
        tracing::info!(error = %e, "contentHandling: payload is not base64");
        GatewayError::internal()
    })
}

/// Text as API Gateway reads it: UTF-8, invalid sequences replaced by U+FFFD (recorded:
/// a gzip body sent as text reaches the backend with replacement characters).
fn utf8(b: Bytes) -> Bytes {
    match String::from_utf8_lossy(&b) {
        std::borrow::Cow::Borrowed(_) => b,
        std::borrow::Cow::Owned(s) => Bytes::from(s),
    }
}

/// The first conversion, before any template: a binary payload is base64-encoded by
/// `CONVERT_TO_TEXT` and otherwise stays binary; a text payload is read as UTF-8.
pub fn before_template(
    body: Bytes,
    binary: bool,
    handling: Option<ContentHandlingStrategy>,
) -> Payload {
    match (binary, handling) {
        (true, Some(ContentHandlingStrategy::ConvertToText)) => Payload::Text(encode(&body)),
        (true, _) => Payload::Binary(body),
        (false, _) => Payload::Text(utf8(body)),
    }
}

/// The second conversion, after any template: text is base64-decoded by
/// `CONVERT_TO_BINARY` (and by an unset handling when binary output is wanted); binary is
/// base64-encoded only by an unset handling when text output is wanted.
pub fn after_template(
    payload: Payload,
    handling: Option<ContentHandlingStrategy>,
    unset: Unset,
) -> Result<Bytes, GatewayError> {
    match (payload, handling) {
        (Payload::Text(t), Some(ContentHandlingStrategy::ConvertToBinary)) => decode(&t),
        (Payload::Text(t), None) if unset == Unset::Binary => decode(&t),
        (Payload::Binary(b), None) if unset == Unset::Text => Ok(encode(&b)),
        (Payload::Text(b) | Payload::Binary(b), _) => Ok(b),
    }
}

impl Payload {
    /// The text a template reads; a payload still binary cannot be given to a template
    /// (AWS answers 500).
    pub fn template_input(&self) -> Result<&Bytes, GatewayError> {
        match self {
            Payload::Text(t) => Ok(t),
            Payload::Binary(_) => {
                tracing::info!("a mapping template was selected for a binary payload");
                Err(GatewayError::internal())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_model::ContentHandlingStrategy::{ConvertToBinary as B, ConvertToText as T};

    const RAW: &[u8] = &[0x1f, 0x8b, 0x08, 0x00, 0xff];
    const RAW_B64: &str = "H4sIAP8=";

    fn convert(
        body: &[u8],
        binary: bool,
        h: Option<ContentHandlingStrategy>,
        unset: Unset,
    ) -> Vec<u8> {
        let p = before_template(Bytes::copy_from_slice(body), binary, h);
        after_template(p, h, unset).unwrap().to_vec()
    }

    #[test]
    fn request_table() {
        // Text payload (Content-Type not binary).
        assert_eq!(convert(b"hi", false, None, Unset::AsIs), b"hi");
        assert_eq!(convert(b"hi", false, Some(T), Unset::AsIs), b"hi");
        assert_eq!(
            convert(RAW_B64.as_bytes(), false, Some(B), Unset::AsIs),
            RAW
        );
        // Binary payload.
        assert_eq!(convert(RAW, true, None, Unset::AsIs), RAW);
        assert_eq!(convert(RAW, true, Some(T), Unset::AsIs), RAW_B64.as_bytes());
        assert_eq!(convert(RAW, true, Some(B), Unset::AsIs), RAW);
    }

    #[test]
    fn response_table() {
        let b64 = RAW_B64.as_bytes();
        // Text backend payload.
        assert_eq!(convert(b64, false, None, Unset::Text), b64);
        assert_eq!(convert(b64, false, None, Unset::Binary), RAW);
        assert_eq!(convert(b64, false, Some(T), Unset::Binary), b64);
        assert_eq!(convert(b64, false, Some(B), Unset::Text), RAW);
        // Binary backend payload.
        assert_eq!(convert(RAW, true, None, Unset::Text), b64);
        assert_eq!(convert(RAW, true, None, Unset::Binary), RAW);
        assert_eq!(convert(RAW, true, Some(T), Unset::Binary), b64);
        assert_eq!(convert(RAW, true, Some(B), Unset::Text), RAW);
    }

    #[test]
    fn invalid_utf8_text_is_replaced_and_invalid_base64_is_an_error() {
        assert_eq!(
            convert(RAW, false, None, Unset::Text),
            "\u{1f}\u{fffd}\u{8}\u{0}\u{fffd}".as_bytes()
        );
        let p = before_template(Bytes::from_static(b"not base64!"), false, Some(B));
        assert_eq!(
            after_template(p, Some(B), Unset::AsIs).unwrap_err().kind,
            tollgate_model::GatewayResponseType::ApiConfigurationError
        );
        // Unpadded base64 is accepted.
        assert_eq!(convert(b"aGk", false, Some(B), Unset::AsIs), b"hi");
    }

    #[test]
    fn templates_see_only_text() {
        let p = before_template(Bytes::from_static(RAW), true, None);
        assert!(p.template_input().is_err());
        let p = before_template(Bytes::from_static(RAW), true, Some(T));
        assert_eq!(p.template_input().unwrap().as_ref(), RAW_B64.as_bytes());
    }

    #[test]
    fn binary_types_match_with_wildcards() {
        let types = vec![
            "image/*".to_string(),
            "application/octet-stream".to_string(),
        ];
        assert!(is_binary(&types, Some("image/png")));
        assert!(is_binary(&types, Some("application/octet-stream; q=1")));
        assert!(!is_binary(&types, Some("text/plain")));
        assert!(!is_binary(&types, None));
        assert!(is_binary(&["*/*".to_string()], Some("text/plain")));
    }

    #[test]
    fn only_the_first_accept_entry_counts() {
        let types = vec!["image/png".to_string()];
        let mut h = HeaderMap::new();
        h.insert(
            http::header::ACCEPT,
            "image/webp,image/png".parse().unwrap(),
        );
        assert!(!accepts_binary(&types, &h));
        h.insert(http::header::ACCEPT, "image/png,text/html".parse().unwrap());
        assert!(accepts_binary(&types, &h));
        h.insert(http::header::ACCEPT, "*/*".parse().unwrap());
        assert!(!accepts_binary(&types, &h));
    }
}
