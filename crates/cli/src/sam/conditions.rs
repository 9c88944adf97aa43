//! CloudFormation `Conditions`, evaluated once per run from the parameters: `Fn::Equals`,
//! `Fn::Not`, `Fn::And`, `Fn::Or` and `Condition` (one condition naming another). `Fn::If`
//! and a resource's `Condition` then read the results from the [`Scope`].

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::intrinsics::{IntrinsicError, Scope};

/// How deep conditions may name each other (a cycle is malformed, not a hang).
const MAX_DEPTH: usize = 32;

/// Every condition of `defs`, by name.
pub fn evaluate(
    defs: &Map<String, Value>,
    scope: &Scope,
) -> Result<BTreeMap<String, bool>, IntrinsicError> {
    defs.iter()
        .map(|(name, _)| Ok((name.clone(), named(defs, scope, name, 0)?)))
        .collect()
}

fn named(
    defs: &Map<String, Value>,
    scope: &Scope,
    name: &str,
    depth: usize,
) -> Result<bool, IntrinsicError> {
    if depth > MAX_DEPTH {
        return Err(IntrinsicError::Malformed("Conditions (a cycle)"));
    }
    let def = defs
        .get(name)
        .ok_or_else(|| IntrinsicError::Unknown("Condition", name.to_string()))?;
    expression(defs, scope, def, depth + 1)
}

fn operands<'v>(arg: &'v Value, f: &'static str) -> Result<&'v [Value], IntrinsicError> {
    arg.as_array()
        .map(Vec::as_slice)
        .ok_or(IntrinsicError::Malformed(f))
}

fn expression(
    defs: &Map<String, Value>,
    scope: &Scope,
    v: &Value,
    depth: usize,
) -> Result<bool, IntrinsicError> {
    let Some((f, arg)) = v
        .as_object()
        .filter(|m| m.len() == 1)
        .and_then(|m| m.iter().next())
    else {
        return Err(IntrinsicError::Malformed("Conditions"));
    };
    let each = |f: &'static str| -> Result<Vec<bool>, IntrinsicError> {
        operands(arg, f)?
            .iter()
            .map(|x| expression(defs, scope, x, depth + 1))
            .collect()
    };
    match f.as_str() {
        "Condition" => {
            let name = arg.as_str().ok_or(IntrinsicError::Malformed("Condition"))?;
            named(defs, scope, name, depth)
        }
        "Fn::Equals" => {
            let [a, b] = operands(arg, "Fn::Equals")? else {
                return Err(IntrinsicError::Malformed("Fn::Equals"));
            };
            // Parameters are strings: `"1"` equals `1`.
            let text = |x: &Value| -> Result<String, IntrinsicError> {
                Ok(match scope.resolve(x)? {
                    Value::String(s) => s,
                    other => other.to_string(),
                })
            };
            Ok(text(a)? == text(b)?)
        }
        "Fn::Not" => match each("Fn::Not")?.as_slice() {
            [x] => Ok(!x),
            _ => Err(IntrinsicError::Malformed("Fn::Not")),
        },
        "Fn::And" => Ok(each("Fn::And")?.iter().all(|x| *x)),
        "Fn::Or" => Ok(each("Fn::Or")?.iter().any(|x| *x)),
        other => Err(IntrinsicError::Unsupported(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conditions_from_parameters_and_each_other() {
        let mut scope = Scope::default();
        scope.values.insert("Env".into(), "prod".into());
        scope.values.insert("Count".into(), "1".into());
        let defs = json!({
            "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
            "One": {"Fn::Equals": [{"Ref": "Count"}, 1]},
            "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "One"}]},
            "Either": {"Fn::Or": [{"Condition": "IsDev"}, {"Fn::Equals": ["a", "b"]}]},
        });
        let got = evaluate(defs.as_object().unwrap(), &scope).unwrap();
        assert_eq!(
            got,
            BTreeMap::from([
                ("Both".to_string(), true),
                ("Either".to_string(), false),
                ("IsDev".to_string(), false),
                ("IsProd".to_string(), true),
                ("One".to_string(), true),
            ])
        );
        let cycle = json!({"A": {"Condition": "B"}, "B": {"Condition": "A"}});
        assert!(evaluate(cycle.as_object().unwrap(), &scope).is_err());
        let bad = json!({"A": {"Fn::Equals": ["x"]}});
        assert!(evaluate(bad.as_object().unwrap(), &scope).is_err());
    }
}
