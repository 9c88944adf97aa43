//! Policy evaluation as AWS does it: effects, wildcards, principals, and every condition
//! operator family, with property tests for the matcher and the date/number operators.

use proptest::prelude::*;
use serde_json::{json, Value};
use tollgate_policy::{Caller, ConditionKeys, Decision, Policy, Request};

const ARN: &str = "arn:aws:execute-api:us-east-1:000000000000:abc123/dev/GET/pets/7";

/// Condition keys from pairs; a key may repeat (multi-valued).
struct Keys(Vec<(&'static str, String)>);
impl ConditionKeys for Keys {
    fn values(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

fn eval(doc: &Value, caller: Caller<'_>, keys: &dyn ConditionKeys) -> Decision {
    Policy::compile(doc).unwrap().evaluate(&Request {
        action: "execute-api:Invoke",
        resource: ARN,
        caller,
        keys,
    })
}

fn decide(doc: Value) -> Decision {
    eval(&doc, Caller::Anonymous, &())
}

fn stmt(effect: &str, resource: Value) -> Value {
    json!({"Effect": effect, "Action": "execute-api:Invoke", "Resource": resource})
}

/// A policy allowing everything under one condition, evaluated with `keys`.
fn cond(condition: Value, keys: Vec<(&'static str, String)>) -> Decision {
    let doc = json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": condition}});
    eval(&doc, Caller::Anonymous, &Keys(keys))
}

#[test]
fn allow_deny_and_silence() {
    let all = "arn:aws:execute-api:us-east-1:000000000000:abc123/*";
    assert_eq!(
        decide(json!({"Statement": [stmt("Allow", json!(all))]})),
        Decision::Allow
    );
    assert_eq!(
        decide(json!({"Statement": stmt("Allow", json!(["x", all]))})),
        Decision::Allow
    );
    assert_eq!(
        decide(json!({"Statement": [stmt("Allow", json!(all)), stmt("Deny", json!("*/GET/*"))]})),
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

#[test]
fn principals_by_account_root_arn_user_and_service() {
    let alice = Caller::Aws {
        arn: "arn:aws:iam::111122223333:user/alice",
        account: "111122223333",
    };
    let bob = Caller::Aws {
        arn: "arn:aws:iam::444455556666:user/bob",
        account: "444455556666",
    };
    let with = |p: Value| json!({"Statement": {"Effect": "Allow", "Principal": p, "Action": "*", "Resource": "*"}});
    for p in [
        json!({"AWS": "111122223333"}),
        json!({"AWS": ["x", "arn:aws:iam::111122223333:root"]}),
        json!({"AWS": "arn:aws:iam::111122223333:user/alice"}),
        json!("*"),
        json!({"AWS": "*"}),
    ] {
        assert_eq!(eval(&with(p.clone()), alice, &()), Decision::Allow, "{p}");
    }
    assert_eq!(
        eval(&with(json!({"AWS": "111122223333"})), bob, &()),
        Decision::ImplicitDeny
    );
    assert_eq!(
        eval(
            &with(json!({"AWS": "111122223333"})),
            Caller::Anonymous,
            &()
        ),
        Decision::ImplicitDeny
    );
    assert_eq!(
        eval(&with(json!("*")), Caller::Anonymous, &()),
        Decision::Allow
    );
    let svc = with(json!({"Service": "apigateway.amazonaws.com"}));
    assert_eq!(
        eval(&svc, Caller::Service("apigateway.amazonaws.com"), &()),
        Decision::Allow
    );
    assert_eq!(
        eval(&svc, Caller::Service("s3.amazonaws.com"), &()),
        Decision::ImplicitDeny
    );
    let not = json!({"Statement": {"Effect": "Deny", "NotPrincipal": {"AWS": "111122223333"}, "Action": "*", "Resource": "*"}});
    assert_eq!(eval(&not, alice, &()), Decision::ImplicitDeny);
    assert_eq!(eval(&not, bob, &()), Decision::ExplicitDeny);
}

#[test]
fn string_ip_and_unknown_operators() {
    let ip = |v: &str| vec![("aws:sourceip", v.to_string())];
    let c = json!({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}});
    assert_eq!(cond(c.clone(), ip("10.1.2.3")), Decision::Allow);
    assert_eq!(cond(c.clone(), ip("11.1.2.3")), Decision::ImplicitDeny);
    assert_eq!(cond(c.clone(), ip("2001:db8::1")), Decision::Allow);
    assert_eq!(cond(c, vec![]), Decision::ImplicitDeny);
    assert_eq!(
        cond(
            json!({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
            ip("11.0.0.1")
        ),
        Decision::Allow
    );
    assert_eq!(
        cond(json!({"StringNotEquals": {"aws:UserAgent": "x"}}), vec![]),
        Decision::Allow
    );
    assert_eq!(
        cond(
            json!({"StringEqualsIfExists": {"aws:UserAgent": "x"}}),
            vec![]
        ),
        Decision::Allow
    );
    assert_eq!(
        cond(
            json!({"StringEqualsIfExists": {"aws:UserAgent": "x"}}),
            vec![("aws:useragent", "y".into())]
        ),
        Decision::ImplicitDeny
    );
    let unknown = json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {"NumericWeird": {"k": "1"}}}]});
    assert_eq!(decide(unknown), Decision::ExplicitDeny);
    assert_eq!(
        cond(
            json!({"Weird:StringEquals": {"k": "1"}}),
            vec![("k", "1".into())]
        ),
        Decision::ImplicitDeny
    );
}

/// Each row: a condition, the one request value of its key (`None`: absent), whether it holds.
fn check_rows(key: &'static str, rows: &[(Value, Option<&str>, bool)]) {
    for (c, value, holds) in rows {
        let keys = value.map(|v| (key, v.to_string())).into_iter().collect();
        let expect = if *holds {
            Decision::Allow
        } else {
            Decision::ImplicitDeny
        };
        assert_eq!(cond(c.clone(), keys), expect, "{c} with {value:?}");
    }
}

#[test]
fn bool_and_null() {
    check_rows(
        "aws:securetransport",
        &[
            (
                json!({"Bool": {"aws:SecureTransport": "true"}}),
                Some("true"),
                true,
            ),
            (
                json!({"Bool": {"aws:SecureTransport": true}}),
                Some("false"),
                false,
            ),
            (
                json!({"BoolIfExists": {"aws:SecureTransport": true}}),
                None,
                true,
            ),
        ],
    );
    check_rows(
        "aws:referer",
        &[
            (json!({"Null": {"aws:Referer": "true"}}), None, true),
            (json!({"Null": {"aws:Referer": "true"}}), Some("r"), false),
            (json!({"Null": {"aws:Referer": false}}), Some("r"), true),
        ],
    );
}

#[test]
fn numeric_and_date_operators() {
    let n = |op: &str, v: &str| json!({op: {"aws:EpochTime": v}});
    check_rows(
        "aws:epochtime",
        &[
            (
                json!({"NumericLessThan": {"aws:EpochTime": 100}}),
                Some("99"),
                true,
            ),
            (n("NumericLessThan", "100"), Some("100"), false),
            (n("NumericLessThanEquals", "100"), Some("100"), true),
            (n("NumericEquals", "1.5"), Some("1.50"), true),
            (n("NumericNotEquals", "1"), Some("2"), true),
            (n("NumericGreaterThan", "1"), Some("abc"), false),
            (n("NumericGreaterThan", "1"), None, false),
            (n("NumericGreaterThanIfExists", "1"), None, true),
        ],
    );
    let d = |op: &str, v: &str| json!({op: {"aws:CurrentTime": v}});
    let before = d("DateLessThan", "2027-01-01T00:00:00Z");
    check_rows(
        "aws:currenttime",
        &[
            (before.clone(), Some("2026-12-06T02:30:00Z"), true),
            (before.clone(), Some("2027-01-01T00:00:01Z"), false),
            (before, Some("1796515200"), true),
            (
                d("DateGreaterThanEquals", "2026-12-06"),
                Some("2026-12-06T00:00:00Z"),
                true,
            ),
            (
                d("DateNotEquals", "2026-12-06"),
                Some("2026-12-06T00:00:00+00:00"),
                false,
            ),
            (d("DateEquals", "2026-12-06"), Some("not a date"), false),
        ],
    );
}

#[test]
fn set_operators_on_multi_valued_keys() {
    let tags = |v: &[&str]| {
        v.iter()
            .map(|t| ("aws:tagkeys", t.to_string()))
            .collect::<Vec<_>>()
    };
    let any = json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a", "b"]}});
    assert_eq!(cond(any.clone(), tags(&["x", "b"])), Decision::Allow);
    assert_eq!(cond(any.clone(), tags(&["x"])), Decision::ImplicitDeny);
    assert_eq!(cond(any, tags(&[])), Decision::ImplicitDeny);
    let all = json!({"ForAllValues:StringLike": {"aws:TagKeys": ["a*", "b"]}});
    assert_eq!(cond(all.clone(), tags(&["ax", "b"])), Decision::Allow);
    assert_eq!(
        cond(all.clone(), tags(&["ax", "c"])),
        Decision::ImplicitDeny
    );
    assert_eq!(cond(all, tags(&[])), Decision::Allow);
    let none = json!({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["secret"]}});
    assert_eq!(cond(none.clone(), tags(&["a", "b"])), Decision::Allow);
    assert_eq!(cond(none, tags(&["a", "secret"])), Decision::ImplicitDeny);
}

proptest! {
    /// A resource equal to the ARN, or the ARN with any suffix replaced by `*`, allows;
    /// adding a matching Deny always wins.
    #[test]
    fn prefixes_with_a_star_match(cut in 0usize..ARN.len()) {
        let pattern = format!("{}*", &ARN[..cut]);
        prop_assert_eq!(decide(json!({"Statement": [stmt("Allow", json!(pattern))]})), Decision::Allow);
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
        let req = Request { action: "execute-api:Invoke", resource: &arn, caller: Caller::Anonymous, keys: &() };
        prop_assert_ne!(p.evaluate(&req), Decision::Allow);
    }

    /// Numeric operators order numbers as numbers: exactly one of <, =, > holds, and the
    /// negated and `...Equals` forms agree with it.
    #[test]
    fn numeric_operators_are_a_total_order(a in -1_000_000i64..1_000_000, b in -1_000_000i64..1_000_000) {
        let holds = |op: &str| cond(json!({op: {"k": b.to_string()}}), vec![("k", a.to_string())]) == Decision::Allow;
        let (lt, eq, gt) = (holds("NumericLessThan"), holds("NumericEquals"), holds("NumericGreaterThan"));
        prop_assert_eq!([lt, eq, gt].iter().filter(|x| **x).count(), 1);
        prop_assert_eq!(lt, a < b);
        prop_assert_eq!(holds("NumericLessThanEquals"), lt || eq);
        prop_assert_eq!(holds("NumericGreaterThanEquals"), gt || eq);
        prop_assert_eq!(holds("NumericNotEquals"), !eq);
    }

    /// Date operators compare instants (the ISO and epoch forms of one instant read the
    /// same: `value`'s property test).
    #[test]
    fn date_operators_are_a_total_order(a in 0i64..4_000_000_000, b in 0i64..4_000_000_000) {
        let holds = |op: &str| cond(json!({op: {"aws:CurrentTime": b.to_string()}}), vec![("aws:currenttime", a.to_string())]) == Decision::Allow;
        prop_assert_eq!(holds("DateLessThan"), a < b);
        prop_assert_eq!(holds("DateEquals"), a == b);
        prop_assert_eq!(holds("DateNotEquals"), a != b);
        prop_assert_eq!(holds("DateGreaterThanEquals"), a >= b);
        prop_assert_eq!(holds("DateLessThanEquals"), a <= b);
        prop_assert_eq!(holds("DateGreaterThan"), a > b);
    }
}
