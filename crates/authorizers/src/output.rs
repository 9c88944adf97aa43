//! What a Lambda authorizer returns (lambda-events.md §5.3): `principalId`, the IAM
//! `policyDocument`, `context` (string, number and boolean values only, handed on as text)
//! and `usageIdentifierKey`. Anything else is the authorizer's configuration error.

use serde_json::Value;

use tollgate_policy::{Policy, PolicyError};

/// Largest authorizer result API Gateway takes (lambda-events.md §5.3: 8 KB).
pub const MAX_OUTPUT: usize = 8 * 1024;

/// A usable authorizer result, compiled once and kept in the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizerOutput {
    pub principal_id: String,
    pub policy: Policy,
    /// The policy document as returned (TestInvokeAuthorizer shows it).
    pub policy_document: Value,
    /// `context`, each value as text (`3` → `"3"`, `true` → `"true"`), in returned order.
    pub context: Vec<(String, String)>,
    pub usage_identifier_key: Option<String>,
}

/// Why an authorizer's answer cannot be used (each is AUTHORIZER_CONFIGURATION_ERROR).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutputError {
    #[error("authorizer result is larger than {MAX_OUTPUT} bytes")]
    TooLarge,
    #[error("authorizer result is not a JSON object")]
    NotAnObject,
    #[error("authorizer result has no principalId")]
    NoPrincipal,
    #[error("authorizer result has no valid policyDocument: {0}")]
    Policy(#[from] PolicyError),
    #[error("authorizer context value {0:?} is not a string, number or boolean")]
    ContextValue(String),
    #[error("authorizer context uses the reserved key \"claims\"")]
    ReservedKey,
}

impl AuthorizerOutput {
    /// Parses a function's answer.
    pub fn parse(payload: &[u8]) -> Result<AuthorizerOutput, OutputError> {
        if payload.len() > MAX_OUTPUT {
            return Err(OutputError::TooLarge);
        }
        let Ok(Value::Object(mut o)) = serde_json::from_slice::<Value>(payload) else {
            return Err(OutputError::NotAnObject);
        };
        let principal_id = match o.get("principalId") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(OutputError::NoPrincipal),
        };
        let policy_document = o.remove("policyDocument").unwrap_or(Value::Null);
        let policy = Policy::compile(&policy_document)?;
        let context = match o.get("context") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(c)) => c
                .iter()
                .map(|(k, v)| {
                    if k == "claims" {
                        return Err(OutputError::ReservedKey);
                    }
                    let text = match v {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        _ => return Err(OutputError::ContextValue(k.clone())),
                    };
                    Ok((k.clone(), text))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(OutputError::ContextValue("context".into())),
        };
        let usage_identifier_key = o
            .get("usageIdentifierKey")
            .and_then(Value::as_str)
            .map(str::to_string);
        Ok(AuthorizerOutput {
            principal_id,
            policy,
            policy_document,
            context,
            usage_identifier_key,
        })
    }
}

/// A function error is `Unauthorized` (the client's 401) exactly when its `errorMessage`
/// is that word.
pub fn is_unauthorized_error(payload: &[u8]) -> bool {
    serde_json::from_slice::<Value>(payload)
        .ok()
        .and_then(|v| {
            v.get("errorMessage")
                .and_then(Value::as_str)
                .map(|m| m == "Unauthorized")
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn out(v: Value) -> Result<AuthorizerOutput, OutputError> {
        AuthorizerOutput::parse(&serde_json::to_vec(&v).unwrap())
    }

    const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]}"#;

    #[test]
    fn outputs() {
        let doc: Value = serde_json::from_str(DOC).unwrap();
        let o = out(json!({"principalId": "user-1", "policyDocument": doc,
            "context": {"tenant": "t1", "tier": 3, "beta": true, "ratio": 1.5},
            "usageIdentifierKey": "k"}))
        .unwrap();
        assert_eq!(o.principal_id, "user-1");
        assert_eq!(
            o.context,
            vec![
                ("tenant".into(), "t1".into()),
                ("tier".into(), "3".into()),
                ("beta".into(), "true".into()),
                ("ratio".into(), "1.5".into())
            ]
        );
        assert_eq!(o.usage_identifier_key.as_deref(), Some("k"));
        assert_eq!(
            out(json!({"principalId": "u", "policyDocument": doc, "context": {"a": {"b": 1}}})),
            Err(OutputError::ContextValue("a".into()))
        );
        assert_eq!(
            out(json!({"principalId": "u", "policyDocument": doc, "context": {"a": [1]}})),
            Err(OutputError::ContextValue("a".into()))
        );
        assert_eq!(
            out(json!({"principalId": "u", "policyDocument": doc, "context": {"claims": "x"}})),
            Err(OutputError::ReservedKey)
        );
        assert_eq!(
            out(json!({"policyDocument": doc})),
            Err(OutputError::NoPrincipal)
        );
        assert!(matches!(
            out(json!({"principalId": "u"})),
            Err(OutputError::Policy(_))
        ));
        assert_eq!(
            AuthorizerOutput::parse(b"nope"),
            Err(OutputError::NotAnObject)
        );
        assert_eq!(
            AuthorizerOutput::parse(&vec![b' '; MAX_OUTPUT + 1]),
            Err(OutputError::TooLarge)
        );
    }

    #[test]
    fn unauthorized_is_exactly_that_message() {
        assert!(is_unauthorized_error(
            br#"{"errorMessage":"Unauthorized","errorType":"Error"}"#
        ));
        assert!(!is_unauthorized_error(
            br#"{"errorMessage":"unauthorized"}"#
        ));
        assert!(!is_unauthorized_error(
            br#"{"errorMessage":"Unauthorized!"}"#
        ));
        assert!(!is_unauthorized_error(b"Unauthorized"));
    }
}
