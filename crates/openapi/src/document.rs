//! Reading a document: JSON or YAML (sniffed, as AWS sends no Content-Type), then which
//! OpenAPI version it is. Both parsers bound their recursion (serde_json at 128 levels,
//! the YAML parser likewise, and it refuses alias expansion beyond a fixed budget), so a
//! hostile document costs at most its own size.

use serde_json::{Map, Value};

/// Which specification a document follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `swagger: "2.0"`
    Swagger2,
    /// `openapi: 3.0.x` (3.1 is read the same way)
    Oas3,
}

/// Why a document is not an OpenAPI document. AWS answers every one of these with
/// `Invalid OpenAPI input.`; the detail is for the server log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("not YAML: {0}")]
    Yaml(String),
    #[error("the document is not an object")]
    NotAnObject,
    #[error("neither `swagger: \"2.0\"` nor `openapi: 3.x`")]
    UnknownVersion,
}

/// A parsed document: its root object and its flavor.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub root: Map<String, Value>,
    pub flavor: Flavor,
}

/// Parses a document, JSON when its first significant character is `{`, else YAML.
pub fn parse(bytes: &[u8]) -> Result<Document, ParseError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let value: Value = if first == Some(&b'{') {
        serde_json::from_slice(bytes).map_err(|e| ParseError::Json(e.to_string()))?
    } else {
        serde_norway::from_slice(bytes).map_err(|e| ParseError::Yaml(e.to_string()))?
    };
    let Value::Object(root) = value else {
        return Err(ParseError::NotAnObject);
    };
    let flavor = if root.get("swagger").and_then(version_text).as_deref() == Some("2.0") {
        Flavor::Swagger2
    } else if root
        .get("openapi")
        .and_then(version_text)
        .is_some_and(|v| v.starts_with("3."))
    {
        Flavor::Oas3
    } else {
        return Err(ParseError::UnknownVersion);
    };
    Ok(Document { root, flavor })
}

/// A version member, which YAML authors often leave unquoted (`swagger: 2.0` is a number).
fn version_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A document as YAML (GetExport and ExportApi with a YAML output type).
pub fn to_yaml(doc: &Value) -> String {
    // Serialising a `serde_json::Value` cannot fail: every key is a string.
    serde_norway::to_string(doc).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_json_and_yaml() {
        let j = parse(br#" {"swagger": "2.0", "paths": {}}"#).unwrap();
        assert_eq!(j.flavor, Flavor::Swagger2);
        let y = parse(b"openapi: 3.0.1\npaths:\n  /a:\n    get:\n      responses:\n        200:\n          description: ok\n").unwrap();
        assert_eq!(y.flavor, Flavor::Oas3);
        // An unquoted status code is a YAML integer; it is read as the key "200".
        assert!(y.root["paths"]["/a"]["get"]["responses"]["200"].is_object());
    }

    #[test]
    fn refuses_what_is_not_openapi() {
        assert!(matches!(parse(b"{\"a\": 1"), Err(ParseError::Json(_))));
        assert!(matches!(parse(b"a: [1"), Err(ParseError::Yaml(_))));
        assert_eq!(parse(b"just text"), Err(ParseError::NotAnObject));
        assert_eq!(
            parse(b"{\"swagger\": \"1.2\"}"),
            Err(ParseError::UnknownVersion)
        );
    }

    #[test]
    fn yaml_round_trip() {
        let v: Value = serde_json::json!({"openapi": "3.0.1", "paths": {"/": {}}});
        let back = parse(to_yaml(&v).as_bytes()).unwrap();
        assert_eq!(Value::Object(back.root), v);
    }
}
