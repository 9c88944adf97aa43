//! IAM policy documents as API Gateway evaluates them: the policy a Lambda authorizer
//! returns (and, later, an API's resource policy), compiled once and evaluated against each
//! request's method ARN (lambda-events.md §5.4, auth-throttle-cache.md §7.2).
//!
//! An explicit `Deny` wins; otherwise some `Allow` must match; else the deny is implicit.
//! `Action`/`Resource` (or `NotAction`/`NotResource`) are a string or a list, matched with
//! IAM's wildcards (`*` any run including `/` and `:`, `?` one character; actions without
//! case, resources with). A condition on a key the request does not carry is false, unless
//! its operator ends in `IfExists`; an operator Tollgate does not know fails closed (an
//! `Allow` it guards never matches, a `Deny` always does).

use std::net::IpAddr;

use serde_json::Value;
use tollgate_model::iam::wildcard_match;

/// What a policy decides for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// No statement matched.
    ImplicitDeny,
    /// A `Deny` statement matched.
    ExplicitDeny,
}

/// Why a policy document cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("policy document is not a JSON object with a Statement")]
    NoStatement,
    #[error("statement {0} has no valid Effect")]
    Effect(usize),
    #[error("statement {0} has no Action or NotAction")]
    Action(usize),
    #[error("statement {0} has no Resource or NotResource")]
    Resource(usize),
}

/// The request facts conditions read (`aws:SourceIp`, `aws:UserAgent`, ...). Keys are
/// compared without case, as IAM does.
pub trait ConditionKeys {
    fn values(&self, key: &str) -> Vec<String>;
}

/// No condition keys at all (every condition is then false unless `IfExists`).
impl ConditionKeys for () {
    fn values(&self, _key: &str) -> Vec<String> {
        Vec::new()
    }
}

/// A compiled policy document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Policy {
    statements: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq)]
struct Statement {
    allow: bool,
    actions: Patterns,
    resources: Patterns,
    conditions: Vec<Condition>,
}

/// `Action`/`Resource` (`negated: false`) or `NotAction`/`NotResource`.
#[derive(Debug, Clone, PartialEq)]
struct Patterns {
    negated: bool,
    patterns: Vec<String>,
}

impl Patterns {
    fn matches(&self, value: &str, ignore_case: bool) -> bool {
        let any = self
            .patterns
            .iter()
            .any(|p| wildcard_match(p, value, ignore_case));
        any != self.negated
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Condition {
    operator: Operator,
    negated: bool,
    if_exists: bool,
    key: String,
    values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Operator {
    Equals,
    EqualsIgnoreCase,
    Like,
    Ip,
    Bool,
    Unknown,
}

/// One string or a list of strings (anything else: nothing).
fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    match v? {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(a) => Some(
            a.iter()
                .filter_map(|x| match x {
                    Value::String(s) => Some(s.clone()),
                    Value::Bool(b) => Some(b.to_string()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect(),
        ),
        Value::Bool(b) => Some(vec![b.to_string()]),
        Value::Number(n) => Some(vec![n.to_string()]),
        _ => None,
    }
}

fn patterns(s: &Value, plain: &str, negated: &str) -> Option<Patterns> {
    if let Some(p) = strings(s.get(plain)) {
        return Some(Patterns {
            negated: false,
            patterns: p,
        });
    }
    strings(s.get(negated)).map(|p| Patterns {
        negated: true,
        patterns: p,
    })
}

fn operator(name: &str) -> (Operator, bool, bool) {
    let (name, if_exists) = match name.strip_suffix("IfExists") {
        Some(n) => (n, true),
        None => (name, false),
    };
    let (op, negated) = match name {
        "StringEquals" | "ArnEquals" => (Operator::Equals, false),
        "StringNotEquals" | "ArnNotEquals" => (Operator::Equals, true),
        "StringEqualsIgnoreCase" => (Operator::EqualsIgnoreCase, false),
        "StringNotEqualsIgnoreCase" => (Operator::EqualsIgnoreCase, true),
        "StringLike" | "ArnLike" => (Operator::Like, false),
        "StringNotLike" | "ArnNotLike" => (Operator::Like, true),
        "IpAddress" => (Operator::Ip, false),
        "NotIpAddress" => (Operator::Ip, true),
        "Bool" => (Operator::Bool, false),
        _ => (Operator::Unknown, false),
    };
    (op, negated, if_exists)
}

fn conditions(s: &Value) -> Vec<Condition> {
    let Some(Value::Object(ops)) = s.get("Condition") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (op_name, keys) in ops {
        let (operator, negated, if_exists) = operator(op_name);
        let Value::Object(keys) = keys else {
            out.push(Condition {
                operator: Operator::Unknown,
                negated,
                if_exists,
                key: String::new(),
                values: Vec::new(),
            });
            continue;
        };
        for (key, values) in keys {
            out.push(Condition {
                operator,
                negated,
                if_exists,
                key: key.to_ascii_lowercase(),
                values: strings(Some(values)).unwrap_or_default(),
            });
        }
    }
    out
}

impl Policy {
    /// Compiles a policy document (`Statement` one object or a list).
    pub fn compile(doc: &Value) -> Result<Policy, PolicyError> {
        let statements = match doc.get("Statement") {
            Some(Value::Array(a)) => a.iter().collect::<Vec<_>>(),
            Some(o @ Value::Object(_)) => vec![o],
            _ => return Err(PolicyError::NoStatement),
        };
        let statements = statements
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let allow = match s.get("Effect").and_then(Value::as_str) {
                    Some("Allow") => true,
                    Some("Deny") => false,
                    _ => return Err(PolicyError::Effect(i)),
                };
                Ok(Statement {
                    allow,
                    actions: patterns(s, "Action", "NotAction").ok_or(PolicyError::Action(i))?,
                    resources: patterns(s, "Resource", "NotResource")
                        .ok_or(PolicyError::Resource(i))?,
                    conditions: conditions(s),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Policy { statements })
    }

    /// An API's resource policy (auth-throttle-cache.md §7.2) as it applies to callers
    /// without IAM identity: only statements whose `Principal` is `*` (or `{"AWS": "*"}`)
    /// can match them, so the others are left out; `execute-api:/{stage}/{METHOD}/{path}`
    /// resources are expanded to the API's ARNs (any region: the API id is unique).
    pub fn compile_resource_policy(doc: &Value, api_id: &str) -> Result<Policy, PolicyError> {
        let mut policy = Policy::compile(doc)?;
        let statements = match doc.get("Statement") {
            Some(Value::Array(a)) => a.iter().collect::<Vec<_>>(),
            Some(o) => vec![o],
            None => Vec::new(),
        };
        let anyone = |s: &Value| match s.get("Principal") {
            Some(Value::String(p)) => p == "*",
            Some(Value::Object(o)) => o
                .get("AWS")
                .and_then(|a| strings(Some(a)))
                .is_some_and(|a| a.iter().any(|p| p == "*")),
            _ => false,
        };
        let prefix = format!(
            "arn:aws:execute-api:*:{}:{api_id}",
            tollgate_model::ACCOUNT_ID
        );
        policy.statements = policy
            .statements
            .into_iter()
            .zip(statements)
            .filter(|(_, raw)| anyone(raw))
            .map(|(mut st, _)| {
                for p in &mut st.resources.patterns {
                    if let Some(rest) = p.strip_prefix("execute-api:") {
                        *p = format!("{prefix}{rest}");
                    }
                }
                st
            })
            .collect();
        Ok(policy)
    }

    /// The decision for `action` (e.g. `execute-api:Invoke`) on `resource` (the method ARN).
    pub fn evaluate(&self, action: &str, resource: &str, keys: &dyn ConditionKeys) -> Decision {
        let mut allowed = false;
        for s in &self.statements {
            if !s.actions.matches(action, true) || !s.resources.matches(resource, false) {
                continue;
            }
            if !s.conditions.iter().all(|c| c.holds(keys, s.allow)) {
                continue;
            }
            if !s.allow {
                return Decision::ExplicitDeny;
            }
            allowed = true;
        }
        if allowed {
            Decision::Allow
        } else {
            Decision::ImplicitDeny
        }
    }
}

impl Condition {
    /// Whether the condition holds; `allow` says which way an unknown operator fails.
    fn holds(&self, keys: &dyn ConditionKeys, allow: bool) -> bool {
        if self.operator == Operator::Unknown {
            return !allow;
        }
        let present = keys.values(&self.key);
        if present.is_empty() {
            return self.if_exists || self.negated;
        }
        let any = present.iter().any(|p| {
            self.values.iter().any(|v| match self.operator {
                Operator::Equals => p == v,
                Operator::EqualsIgnoreCase => p.eq_ignore_ascii_case(v),
                Operator::Like => wildcard_match(v, p, false),
                Operator::Ip => ip_in(p, v),
                Operator::Bool => p.eq_ignore_ascii_case(v),
                Operator::Unknown => false,
            })
        });
        any != self.negated
    }
}

/// Whether `ip` lies in `cidr` (`10.0.0.0/8`, `2001:db8::/32`, or a bare address).
pub fn ip_in(ip: &str, cidr: &str) -> bool {
    let Ok(ip) = ip.parse::<IpAddr>() else {
        return false;
    };
    let (net, bits) = match cidr.split_once('/') {
        Some((n, b)) => match b.parse::<u32>() {
            Ok(b) => (n, Some(b)),
            Err(_) => return false,
        },
        None => (cidr, None),
    };
    let Ok(net) = net.parse::<IpAddr>() else {
        return false;
    };
    let (a, b, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128, 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        (IpAddr::V6(a), IpAddr::V4(b)) => match a.to_ipv4_mapped() {
            Some(a) => (u32::from(a) as u128, u32::from(b) as u128, 32),
            None => return false,
        },
        _ => return false,
    };
    let bits = bits.unwrap_or(width);
    if bits > width {
        return false;
    }
    if bits == 0 {
        return true;
    }
    let shift = width - bits;
    (a >> shift) == (b >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:execute-api:us-east-1:000000000000:abc123/dev/GET/pets/7";

    fn decide(doc: Value) -> Decision {
        Policy::compile(&doc)
            .unwrap()
            .evaluate("execute-api:Invoke", ARN, &())
    }

    fn stmt(effect: &str, resource: Value) -> Value {
        json!({"Effect": effect, "Action": "execute-api:Invoke", "Resource": resource})
    }

    #[test]
    fn allow_deny_and_silence() {
        let all = "arn:aws:execute-api:us-east-1:000000000000:abc123/*";
        assert_eq!(
            decide(json!({"Statement": [stmt("Allow", json!(all))]})),
            Decision::Allow
        );
        assert_eq!(
            decide(json!({"Statement": stmt("Allow", json!([ "x", all ]))})),
            Decision::Allow
        );
        assert_eq!(
            decide(
                json!({"Statement": [stmt("Allow", json!(all)), stmt("Deny", json!("*/GET/*"))]})
            ),
            Decision::ExplicitDeny
        );
        assert_eq!(
            decide(
                json!({"Statement": [stmt("Allow", json!("arn:aws:execute-api:us-east-1:000000000000:abc123/dev/POST/*"))]})
            ),
            Decision::ImplicitDeny
        );
        assert_eq!(
            decide(
                json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
            ),
            Decision::ImplicitDeny
        );
        assert_eq!(
            decide(
                json!({"Statement": [{"Effect": "Allow", "Action": "execute-api:*", "NotResource": "*/POST/*"}]})
            ),
            Decision::Allow
        );
        assert_eq!(
            decide(
                json!({"Statement": [{"Effect": "Allow", "NotAction": "execute-api:Invoke", "Resource": "*"}]})
            ),
            Decision::ImplicitDeny
        );
        assert!(Policy::compile(
            &json!({"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]})
        )
        .is_err());
        assert!(Policy::compile(&json!({"Version": "2012-10-17"})).is_err());
    }

    struct Keys(&'static str, &'static str);
    impl ConditionKeys for Keys {
        fn values(&self, key: &str) -> Vec<String> {
            if key == self.0 {
                vec![self.1.to_string()]
            } else {
                vec![]
            }
        }
    }

    #[test]
    fn conditions() {
        let doc = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}}}]});
        let p = Policy::compile(&doc).unwrap();
        let d = |ip| p.evaluate("execute-api:Invoke", ARN, &Keys("aws:sourceip", ip));
        assert_eq!(d("10.1.2.3"), Decision::Allow);
        assert_eq!(d("11.1.2.3"), Decision::ImplicitDeny);
        assert_eq!(d("2001:db8::1"), Decision::Allow);
        assert_eq!(
            p.evaluate("execute-api:Invoke", ARN, &()),
            Decision::ImplicitDeny
        );
        let unknown = json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"NumericWeird": {"k": "1"}}}]});
        assert_eq!(decide(unknown), Decision::ExplicitDeny);
    }

    #[test]
    fn resource_policies_expand_shorthand_and_keep_anonymous_statements() {
        let doc = json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/dev/GET/*"},
            {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::1:user/x"}, "Action": "*", "Resource": "*"}]});
        let p = Policy::compile_resource_policy(&doc, "abc123").unwrap();
        assert_eq!(p.evaluate("execute-api:Invoke", ARN, &()), Decision::Allow);
        let other = "arn:aws:execute-api:us-east-1:000000000000:other/dev/GET/pets/7";
        assert_eq!(
            p.evaluate("execute-api:Invoke", other, &()),
            Decision::ImplicitDeny
        );
    }

    proptest! {
        /// A resource equal to the ARN, or the ARN with any suffix replaced by `*`, allows;
        /// adding a matching Deny always wins.
        #[test]
        fn prefixes_with_a_star_match(cut in 0usize..ARN.len()) {
            let pattern = format!("{}*", &ARN[..cut]);
            let allow = json!({"Statement": [stmt("Allow", json!(pattern))]});
            prop_assert_eq!(decide(allow), Decision::Allow);
            let both = json!({"Statement": [stmt("Allow", json!(ARN)), stmt("Deny", json!(pattern))]});
            prop_assert_eq!(decide(both), Decision::ExplicitDeny);
        }

        /// `?` stands for exactly one character anywhere.
        #[test]
        fn question_marks_stand_for_one_character(at in 0usize..ARN.len()) {
            let mut p = ARN.to_string();
            p.replace_range(at..at + 1, "?");
            prop_assert_eq!(decide(json!({"Statement": [stmt("Allow", json!(p))]})), Decision::Allow);
            let longer = format!("{p}?");
            prop_assert_eq!(decide(json!({"Statement": [stmt("Allow", json!(longer))]})), Decision::ImplicitDeny);
        }

        /// Evaluation never panics on arbitrary resources and statements, and a policy whose
        /// only statement is a Deny never allows.
        #[test]
        fn arbitrary_patterns_never_allow_through_a_deny(pattern in "[a-z0-9:/*?-]{0,40}", arn in "[a-z0-9:/-]{0,40}") {
            let p = Policy::compile(&json!({"Statement": [stmt("Deny", json!(pattern))]})).unwrap();
            prop_assert_ne!(p.evaluate("execute-api:Invoke", &arn, &()), Decision::Allow);
        }

        /// Every address is in its own /32 (or /128) and in /0.
        #[test]
        fn addresses_are_in_their_own_networks(a in any::<u32>(), b in any::<u128>()) {
            let v4 = std::net::Ipv4Addr::from(a).to_string();
            let net4 = format!("{}/32", v4);
            prop_assert!(ip_in(&v4, &net4));
            prop_assert!(ip_in(&v4, "0.0.0.0/0"));
            let v6 = std::net::Ipv6Addr::from(b).to_string();
            let net6 = format!("{}/128", v6);
            prop_assert!(ip_in(&v6, &net6));
            prop_assert!(!ip_in(&v6, "not-an-ip/8"));
        }
    }
}
