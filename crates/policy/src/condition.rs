//! The `Condition` element: `{operator: {key: value or [values]}}`.
//!
//! IAM's rules: several operators, and several keys under one, must all hold (AND); the
//! values of one key are alternatives (OR). A key the request does not carry makes the
//! condition false, unless the operator ends in `IfExists` (then true) or is negated
//! (`StringNotEquals`, `NotIpAddress`, ...: true). `ForAnyValue:` holds when some value of
//! a multi-valued key matches (false without values); `ForAllValues:` when every value does
//! (true without values). An operator Tollgate does not know fails closed: an `Allow` it
//! guards never matches, a `Deny` always does.

use serde_json::Value;

use crate::value::{ip_in, parse_date, parse_number};
use crate::wildcard::wildcard_match;

/// The request facts conditions read (`aws:SourceIp`, `aws:PrincipalArn`, ...). Keys are
/// asked in lower case (IAM compares them without case); a key the request does not carry
/// has no values. A multi-valued key answers all of its values.
pub trait ConditionKeys {
    fn values(&self, key: &str) -> Vec<String>;
}

/// No condition keys at all (every condition is then false unless `IfExists`).
impl ConditionKeys for () {
    fn values(&self, _key: &str) -> Vec<String> {
        Vec::new()
    }
}

/// A comparison of one request value with one policy value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Operator {
    Equals,
    EqualsIgnoreCase,
    Like,
    NumericEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Ip,
    Bool,
    /// `Null`: compares whether the key is absent, not a value.
    Null,
    Unknown,
}

/// How a condition combines the values of a key.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Set {
    /// A single-valued key (any of its values may match).
    Single,
    ForAnyValue,
    ForAllValues,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    operator: Operator,
    negated: bool,
    if_exists: bool,
    set: Set,
    /// Lower case: condition keys compare without case.
    key: String,
    values: Vec<PolicyValue>,
}

/// A policy value with its numeric and date readings, parsed once at compile time.
#[derive(Debug, Clone, PartialEq)]
struct PolicyValue {
    text: String,
    number: Option<f64>,
    /// Milliseconds since the epoch.
    date: Option<i64>,
}

impl PolicyValue {
    fn new(text: String) -> Self {
        PolicyValue {
            number: parse_number(&text),
            date: parse_date(&text),
            text,
        }
    }
}

/// An operator's name → (operator, negated).
fn operator(name: &str) -> (Operator, bool) {
    use Operator as O;
    match name {
        "StringEquals" | "ArnEquals" => (O::Equals, false),
        "StringNotEquals" | "ArnNotEquals" => (O::Equals, true),
        "StringEqualsIgnoreCase" => (O::EqualsIgnoreCase, false),
        "StringNotEqualsIgnoreCase" => (O::EqualsIgnoreCase, true),
        "StringLike" | "ArnLike" => (O::Like, false),
        "StringNotLike" | "ArnNotLike" => (O::Like, true),
        "NumericEquals" => (O::NumericEquals, false),
        "NumericNotEquals" => (O::NumericEquals, true),
        "NumericLessThan" => (O::NumericLessThan, false),
        "NumericLessThanEquals" => (O::NumericLessThanEquals, false),
        "NumericGreaterThan" => (O::NumericGreaterThan, false),
        "NumericGreaterThanEquals" => (O::NumericGreaterThanEquals, false),
        "DateEquals" => (O::DateEquals, false),
        "DateNotEquals" => (O::DateEquals, true),
        "DateLessThan" => (O::DateLessThan, false),
        "DateLessThanEquals" => (O::DateLessThanEquals, false),
        "DateGreaterThan" => (O::DateGreaterThan, false),
        "DateGreaterThanEquals" => (O::DateGreaterThanEquals, false),
        "IpAddress" => (O::Ip, false),
        "NotIpAddress" => (O::Ip, true),
        "Bool" => (O::Bool, false),
        "Null" => (O::Null, false),
        _ => (O::Unknown, false),
    }
}

/// A policy value as text (IAM accepts `true` and `3` unquoted).
fn values(v: &Value) -> Vec<PolicyValue> {
    let one = |x: &Value| match x {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match v {
        Value::Array(a) => a.iter().filter_map(one).map(PolicyValue::new).collect(),
        other => one(other).into_iter().map(PolicyValue::new).collect(),
    }
}

impl Condition {
    /// Every condition of a statement's `Condition` element.
    pub(crate) fn compile_all(v: Option<&Value>) -> Vec<Condition> {
        let Some(Value::Object(ops)) = v else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, keys) in ops {
            let (set, rest) = match name.split_once(':') {
                Some(("ForAnyValue", rest)) => (Set::ForAnyValue, rest),
                Some(("ForAllValues", rest)) => (Set::ForAllValues, rest),
                Some(_) => (Set::Single, ""),
                None => (Set::Single, name.as_str()),
            };
            let (base, if_exists) = match rest.strip_suffix("IfExists") {
                Some(b) if b != "Null" => (b, true),
                _ => (rest, false),
            };
            let (mut operator, negated) = operator(base);
            let Value::Object(keys) = keys else {
                operator = Operator::Unknown;
                out.push(Condition {
                    operator,
                    negated,
                    if_exists,
                    set,
                    key: String::new(),
                    values: Vec::new(),
                });
                continue;
            };
            for (key, v) in keys {
                out.push(Condition {
                    operator,
                    negated,
                    if_exists,
                    set,
                    key: key.to_ascii_lowercase(),
                    values: values(v),
                });
            }
        }
        out
    }

    /// Whether the condition holds; `allow` says which way an unknown operator fails.
    pub(crate) fn holds(&self, keys: &dyn ConditionKeys, allow: bool) -> bool {
        if self.operator == Operator::Unknown {
            return !allow;
        }
        let present = keys.values(&self.key);
        if self.operator == Operator::Null {
            let absent = present.is_empty();
            return self.values.iter().any(|v| {
                v.text
                    .eq_ignore_ascii_case(if absent { "true" } else { "false" })
            });
        }
        // One request value against the policy's alternatives.
        let one = |p: &String| self.values.iter().any(|v| self.compare(p, v)) != self.negated;
        match self.set {
            Set::ForAnyValue => present.iter().any(one),
            Set::ForAllValues => present.iter().all(one),
            Set::Single if present.is_empty() => self.if_exists || self.negated,
            Set::Single if self.negated => present.iter().all(one),
            Set::Single => present.iter().any(one),
        }
    }

    /// One request value `p` against one policy value `v`.
    fn compare(&self, p: &str, v: &PolicyValue) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        use Operator as O;
        let numeric = || parse_number(p)?.partial_cmp(&v.number?);
        let date = || Some(parse_date(p)?.cmp(&v.date?));
        match self.operator {
            O::Equals => p == v.text,
            O::EqualsIgnoreCase | O::Bool => p.eq_ignore_ascii_case(&v.text),
            O::Like => wildcard_match(&v.text, p, false),
            O::Ip => ip_in(p, &v.text),
            O::NumericEquals => numeric() == Some(Equal),
            O::NumericLessThan => numeric() == Some(Less),
            O::NumericLessThanEquals => matches!(numeric(), Some(Less | Equal)),
            O::NumericGreaterThan => numeric() == Some(Greater),
            O::NumericGreaterThanEquals => matches!(numeric(), Some(Greater | Equal)),
            O::DateEquals => date() == Some(Equal),
            O::DateLessThan => date() == Some(Less),
            O::DateLessThanEquals => matches!(date(), Some(Less | Equal)),
            O::DateGreaterThan => date() == Some(Greater),
            O::DateGreaterThanEquals => matches!(date(), Some(Greater | Equal)),
            O::Null | O::Unknown => false,
        }
    }
}
