//! JSON-Patch-like `patchOperations` of every v1 Update* call.

use serde::Deserialize;

use crate::core::error::{validation_errors, ApiError, ApiResult, Violation};

#[derive(Debug, Clone, Deserialize)]
pub struct PatchOp {
    pub op: String,
    pub path: Option<String>,
    pub value: Option<String>,
    pub from: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatchBody {
    #[serde(default)]
    pub patch_operations: Vec<PatchOp>,
}

const OPS: [&str; 6] = ["add", "remove", "replace", "move", "test", "copy"];

impl PatchBody {
    /// Parses the body and checks every `op` against the enum (ValidationException, with
    /// AWS's 1-based index in the message, all failures joined).
    pub fn parse(bytes: &[u8], input_shape: &str) -> ApiResult<Vec<PatchOp>> {
        Self::parse_checked(bytes, input_shape, vec![])
    }

    /// Like [`PatchBody::parse`], reporting `other` constraint violations (e.g. of path
    /// parameters) in the same ValidationException, after the patch op ones, as AWS does.
    pub fn parse_checked(
        bytes: &[u8],
        input_shape: &str,
        other: Vec<Violation>,
    ) -> ApiResult<Vec<PatchOp>> {
        let body: PatchBody = crate::core::util::parse_body(bytes)?;
        let mut bad: Vec<Violation> = body
            .patch_operations
            .iter()
            .enumerate()
            .filter(|(_, p)| !OPS.contains(&p.op.as_str()))
            .map(|(i, p)| {
                Violation::enum_value(
                    &p.op,
                    format!("{input_shape}.patchOperations.{}.member.op", i + 1),
                    "add, remove, move, test, replace, copy",
                )
            })
            .collect();
        bad.extend(other);
        if !bad.is_empty() {
            return Err(validation_errors(&bad));
        }
        Ok(body.patch_operations)
    }
}

impl PatchOp {
    /// The path, or AWS's error for a missing one.
    pub fn path(&self) -> ApiResult<&str> {
        self.path
            .as_deref()
            .ok_or_else(|| ApiError::bad_request("Invalid patch path null"))
    }

    /// Path segments after the leading `/`, each with `~1` → `/` and `~0` → `~`.
    pub fn segments(&self) -> ApiResult<Vec<String>> {
        let p = self.path()?;
        let rest = p.strip_prefix('/').ok_or_else(|| invalid_path(p))?;
        Ok(rest.split('/').map(unescape).collect())
    }

    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }
}

pub fn unescape(seg: &str) -> String {
    seg.replace("~1", "/").replace("~0", "~")
}

pub fn invalid_path(path: &str) -> ApiError {
    ApiError::bad_request(format!("Invalid patch path {path}"))
}

/// `Invalid patch path  '{path}' specified for op '{op}'. Must be one of: [...]`
pub fn invalid_path_for_op(path: &str, op: &str, allowed: &[&str]) -> ApiError {
    ApiError::bad_request(format!(
        "Invalid patch path  '{path}' specified for op '{op}'. Must be one of: [{}]",
        allowed.join(", ")
    ))
}

/// `Invalid patch path  '{path}' specified for op '{op}'. Please choose supported operations`
pub fn unsupported_op(path: &str, op: &str) -> ApiError {
    ApiError::bad_request(format!(
        "Invalid patch path  '{path}' specified for op '{op}'. Please choose supported operations"
    ))
}

pub fn replace_only() -> ApiError {
    ApiError::bad_request("Invalid patch operation specified. Must be one of: [replace]")
}

/// Bool from a patch value as AWS reads it (Java's `Boolean.parseBoolean`): `true` in any
/// case is true, anything else (`yes`, `1`, no value) is false, never an error (recorded:
/// UpdateMethod `/apiKeyRequired` with a non-boolean value answers 200 and `false`).
pub fn patch_bool(v: Option<&str>) -> bool {
    v.is_some_and(|s| s.eq_ignore_ascii_case("true"))
}

pub fn patch_i64(v: Option<&str>, path: &str) -> ApiResult<i64> {
    v.and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|f| f.fract() == 0.0 && f.is_finite())
        .map(|f| f as i64)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid value '{}' for path {path}: must be an integer",
                v.unwrap_or_default()
            ))
        })
}

pub fn patch_f64(v: Option<&str>, path: &str) -> ApiResult<f64> {
    v.and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|f| f.is_finite())
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid value '{}' for path {path}: must be a number",
                v.unwrap_or_default()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_ops_are_validation_errors() {
        let e = PatchBody::parse(
            br#"{"patchOperations":[{"op":"replace","path":"/a","value":"x"},{"op":"wrong-op","path":"/b"}]}"#,
            "updateGatewayResponseInput",
        )
        .unwrap_err();
        assert_eq!(e.error_type, "ValidationException");
        assert_eq!(e.message, "1 validation error detected: Value 'wrong-op' at 'updateGatewayResponseInput.patchOperations.2.member.op' failed to satisfy constraint: Member must satisfy enum value set: [add, remove, move, test, replace, copy]");
    }

    #[test]
    fn segments_unescape() {
        let op = PatchOp {
            op: "add".into(),
            path: Some("/requestTemplates/application~1json".into()),
            value: None,
            from: None,
        };
        assert_eq!(
            op.segments().unwrap(),
            vec!["requestTemplates", "application/json"]
        );
        let none = PatchOp {
            op: "add".into(),
            path: None,
            value: None,
            from: None,
        };
        assert_eq!(none.path().unwrap_err().message, "Invalid patch path null");
    }

    #[test]
    fn patch_values() {
        assert!(patch_bool(Some("TRUE")));
        assert!(!patch_bool(Some("yes")));
        assert!(!patch_bool(None));
        assert_eq!(patch_i64(Some("200"), "/x").unwrap(), 200);
        assert!(patch_i64(Some("2.5"), "/x").is_err());
        assert_eq!(patch_f64(Some("100"), "/x").unwrap(), 100.0);
        assert!(patch_f64(None, "/x").is_err());
    }
}
