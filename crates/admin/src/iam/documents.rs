//! Policy documents: checked when they are stored (JSON, IAM's grammar through
//! `tollgate-policy`, the members each kind may not have) and URL-encoded on the wire as IAM
//! returns them.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

use crate::core::error::{ApiError, ApiResult};

/// What a document is for: an identity policy may not name a principal; a trust policy
/// governs who may assume a role and names no resource.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Identity,
    Trust,
}

/// IAM's limit on a policy document (characters).
const MAX_DOCUMENT: usize = 131_072;

fn malformed(m: &str) -> ApiError {
    ApiError::new(400, "MalformedPolicyDocument", m)
}

/// Checks a document before it is stored.
pub fn check(doc: &str, kind: DocumentKind) -> ApiResult<()> {
    if doc.chars().count() > MAX_DOCUMENT {
        return Err(ApiError::new(
            409,
            "LimitExceeded",
            format!("Cannot exceed quota for PolicySize: {MAX_DOCUMENT}"),
        ));
    }
    let v: Value =
        serde_json::from_str(doc).map_err(|_| malformed("This policy contains invalid Json"))?;
    let statements = match v.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s) => vec![s],
        None => vec![],
    };
    for s in statements {
        let has = |m: &str| s.get(m).is_some();
        match kind {
            DocumentKind::Identity if has("Principal") || has("NotPrincipal") => {
                return Err(malformed("Policy document should not specify a principal."))
            }
            DocumentKind::Trust if has("Resource") || has("NotResource") => {
                return Err(malformed("Has prohibited field Resource"))
            }
            DocumentKind::Trust if !has("Principal") && !has("NotPrincipal") => {
                return Err(malformed("Missing required field Principal"))
            }
            _ => {}
        }
    }
    let compiled = match kind {
        DocumentKind::Identity => tollgate_policy::Policy::compile(&v),
        DocumentKind::Trust => tollgate_policy::Policy::compile_trust(&v),
    };
    compiled.map_err(|_| malformed("Syntax errors in policy."))?;
    Ok(())
}

/// What `encodeURIComponent` leaves alone: IAM's encoding of documents in responses.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// A document as IAM answers it (URL-encoded; botocore decodes it).
pub fn encoded(doc: &str) -> String {
    utf8_percent_encode(doc, URI_COMPONENT).to_string()
}

pub use tollgate_model::iam::{aws_managed, AwsManaged, AWS_MANAGED};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_checked_by_kind() {
        let identity = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        assert!(check(identity, DocumentKind::Identity).is_ok());
        assert!(check(trust, DocumentKind::Trust).is_ok());
        for (doc, kind, msg) in [
            ("{nope", DocumentKind::Identity, "invalid Json"),
            (
                r#"{"Statement":[{"Action":"s3:*"}]}"#,
                DocumentKind::Identity,
                "Syntax errors",
            ),
            (
                trust,
                DocumentKind::Identity,
                "should not specify a principal",
            ),
            (identity, DocumentKind::Trust, "prohibited field Resource"),
        ] {
            let e = check(doc, kind).unwrap_err();
            assert_eq!(e.error_type, "MalformedPolicyDocument");
            assert!(e.message.contains(msg), "{}", e.message);
        }
        assert!(encoded(identity).starts_with("%7B%22Version%22%3A%222012-10-17%22"));
        let basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
        assert_eq!(aws_managed(basic).unwrap().arn(), basic);
        assert!(aws_managed("arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole").is_none());
    }
}
