//! `Principal` / `NotPrincipal`: who a resource policy's statement is about.

use serde_json::Value;

/// Who is asking, as a resource policy's `Principal` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller<'a> {
    /// No identity (a request without IAM authentication).
    Anonymous,
    /// An AWS service acting for the account (`apigateway.amazonaws.com`).
    Service(&'a str),
    /// An IAM identity: its ARN (`arn:aws:iam::{account}:user/alice`, `...:root`) and
    /// account.
    Aws { arn: &'a str, account: &'a str },
}

/// A compiled `Principal` (or, `negated`, `NotPrincipal`) element.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Principals {
    negated: bool,
    /// `"*"` or `{"AWS": "*"}`: everyone, anonymous callers included.
    anyone: bool,
    /// Account ids, account root ARNs and identity ARNs.
    aws: Vec<String>,
    services: Vec<String>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

impl Principals {
    /// The statement's principal element, `None` when it has neither (an identity policy,
    /// or an authorizer's policy: the caller is implied).
    pub(crate) fn compile(statement: &Value) -> Option<Principals> {
        let (v, negated) = match (statement.get("Principal"), statement.get("NotPrincipal")) {
            (Some(p), _) => (p, false),
            (None, Some(p)) => (p, true),
            (None, None) => return None,
        };
        let mut out = Principals {
            negated,
            anyone: v.as_str() == Some("*"),
            aws: Vec::new(),
            services: Vec::new(),
        };
        if let Value::Object(m) = v {
            out.aws = strings(m.get("AWS"));
            out.anyone = out.aws.iter().any(|a| a == "*");
            out.services = strings(m.get("Service"));
        }
        Some(out)
    }

    pub(crate) fn matches(&self, caller: &Caller<'_>) -> bool {
        let named = self.anyone
            || match caller {
                Caller::Anonymous => false,
                Caller::Service(s) => self.services.iter().any(|x| x == s),
                Caller::Aws { arn, account } => self.aws.iter().any(|p| {
                    p == arn
                        || p == account
                        || p.strip_prefix("arn:aws:iam::")
                            .and_then(|r| r.strip_suffix(":root"))
                            == Some(*account)
                }),
            };
        named != self.negated
    }
}
