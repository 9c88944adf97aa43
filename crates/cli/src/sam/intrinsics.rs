//! CloudFormation's intrinsic functions, resolved against what `tollgate sam` knows:
//! parameters, pseudo parameters, and the resources it has created (their `Ref` and
//! `Fn::GetAtt` values). `Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, `Fn::Select`,
//! `Fn::If` (with the template's evaluated `Conditions`) and `Fn::FindInMap` are supported;
//! any other `Fn::` is reported by name and the resource using it is skipped.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

/// What intrinsics resolve against.
#[derive(Debug, Default, Clone)]
pub struct Scope {
    /// Parameters and pseudo parameters (`AWS::Region`...) by name.
    pub values: BTreeMap<String, String>,
    /// Logical id → attribute name (`""` for `Ref`) → value.
    pub resources: BTreeMap<String, BTreeMap<String, String>>,
    /// The template's `Conditions`, evaluated (see `super::conditions`).
    pub conditions: BTreeMap<String, bool>,
    /// The template's `Mappings`.
    pub mappings: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntrinsicError {
    #[error("unsupported intrinsic function {0}")]
    Unsupported(String),
    #[error("{0} refers to {1}, which is not known (a parameter, or a resource created so far)")]
    Unknown(&'static str, String),
    #[error("malformed {0}")]
    Malformed(&'static str),
}

/// `AWS::NoValue`: the member it is the value of disappears.
const NO_VALUE: &str = "AWS::NoValue";

/// The intrinsics [`Scope::resolve`] evaluates.
const SUPPORTED: [&str; 6] = [
    "Fn::GetAtt",
    "Fn::Sub",
    "Fn::Join",
    "Fn::Select",
    "Fn::If",
    "Fn::FindInMap",
];

impl Scope {
    fn reference(&self, name: &str) -> Result<String, IntrinsicError> {
        if let Some(v) = self.values.get(name) {
            return Ok(v.clone());
        }
        self.attribute(name, "")
            .ok_or_else(|| IntrinsicError::Unknown("Ref", name.to_string()))
    }

    fn attribute(&self, id: &str, attr: &str) -> Option<String> {
        self.resources.get(id).and_then(|a| a.get(attr)).cloned()
    }

    /// `${Name}` or `${Id.Attr}` inside `Fn::Sub`.
    fn sub_variable(
        &self,
        name: &str,
        vars: &Map<String, Value>,
    ) -> Result<String, IntrinsicError> {
        if let Some(v) = vars.get(name) {
            return text(self.resolve(v)?, "Fn::Sub");
        }
        match name.split_once('.') {
            Some((id, attr)) if !self.values.contains_key(name) => self
                .attribute(id, attr)
                .ok_or_else(|| IntrinsicError::Unknown("Fn::Sub", name.to_string())),
            _ => self.reference(name),
        }
    }

    fn sub(&self, template: &str, vars: &Map<String, Value>) -> Result<String, IntrinsicError> {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            // `${!Literal}` writes `${Literal}`.
            if let Some(lit) = after.strip_prefix('!') {
                out.push_str("${");
                rest = lit;
                continue;
            }
            let end = after
                .find('}')
                .ok_or(IntrinsicError::Malformed("Fn::Sub"))?;
            out.push_str(&self.sub_variable(after[..end].trim(), vars)?);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// `v` with every intrinsic replaced by its value.
    pub fn resolve(&self, v: &Value) -> Result<Value, IntrinsicError> {
        match v {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    let v = self.resolve(i)?;
                    if !is_no_value(&v) {
                        out.push(v);
                    }
                }
                Ok(Value::Array(out))
            }
            Value::Object(m) if m.len() == 1 => {
                let Some((k, arg)) = m.iter().next() else {
                    return self.object(m);
                };
                match k.as_str() {
                    "Ref" => {
                        let name = arg.as_str().ok_or(IntrinsicError::Malformed("Ref"))?;
                        if name == NO_VALUE {
                            // Kept as it is: the array or object holding it drops it.
                            return Ok(v.clone());
                        }
                        Ok(Value::String(self.reference(name)?))
                    }
                    "Fn::If" => self.fn_if(arg),
                    "Fn::FindInMap" => self.find_in_map(arg),
                    "Fn::GetAtt" => self.get_att(arg),
                    "Fn::Sub" => self.fn_sub(arg),
                    "Fn::Join" => self.join(arg),
                    "Fn::Select" => self.select(arg),
                    f if f.starts_with("Fn::") => Err(IntrinsicError::Unsupported(f.to_string())),
                    _ => self.object(m),
                }
            }
            Value::Object(m) => self.object(m),
            other => Ok(other.clone()),
        }
    }

    fn object(&self, m: &Map<String, Value>) -> Result<Value, IntrinsicError> {
        let mut out = Map::new();
        for (k, v) in m {
            let v = self.resolve(v)?;
            if !is_no_value(&v) {
                out.insert(k.clone(), v);
            }
        }
        Ok(Value::Object(out))
    }

    /// Whether the named condition holds.
    pub fn condition(&self, name: &str) -> Result<bool, IntrinsicError> {
        self.conditions
            .get(name)
            .copied()
            .ok_or_else(|| IntrinsicError::Unknown("Condition", name.to_string()))
    }

    /// `Fn::If: [Condition, IfTrue, IfFalse]`: only the chosen branch is resolved.
    fn fn_if(&self, arg: &Value) -> Result<Value, IntrinsicError> {
        let Some([Value::String(name), yes, no]) = arg.as_array().map(Vec::as_slice) else {
            return Err(IntrinsicError::Malformed("Fn::If"));
        };
        self.resolve(if self.condition(name)? { yes } else { no })
    }

    /// `Fn::FindInMap: [MapName, TopLevelKey, SecondLevelKey]`.
    fn find_in_map(&self, arg: &Value) -> Result<Value, IntrinsicError> {
        let Value::Array(keys) = self.resolve(arg)? else {
            return Err(IntrinsicError::Malformed("Fn::FindInMap"));
        };
        let [map, top, second] = keys.as_slice() else {
            return Err(IntrinsicError::Malformed("Fn::FindInMap"));
        };
        let key = |v: &Value| text(v.clone(), "Fn::FindInMap");
        let (map, top, second) = (key(map)?, key(top)?, key(second)?);
        self.mappings
            .get(&map)
            .and_then(|m| m.get(&top))
            .and_then(|m| m.get(&second))
            .cloned()
            .ok_or_else(|| {
                IntrinsicError::Unknown("Fn::FindInMap", format!("{map}.{top}.{second}"))
            })
    }

    fn get_att(&self, arg: &Value) -> Result<Value, IntrinsicError> {
        let parts: Vec<String> = match self.resolve(arg)? {
            Value::Array(a) => a
                .iter()
                .filter_map(|p| p.as_str().map(String::from))
                .collect(),
            Value::String(s) => s.splitn(2, '.').map(String::from).collect(),
            _ => return Err(IntrinsicError::Malformed("Fn::GetAtt")),
        };
        let [id, attr] = parts.as_slice() else {
            return Err(IntrinsicError::Malformed("Fn::GetAtt"));
        };
        self.attribute(id, attr)
            .map(Value::String)
            .ok_or_else(|| IntrinsicError::Unknown("Fn::GetAtt", format!("{id}.{attr}")))
    }

    fn fn_sub(&self, arg: &Value) -> Result<Value, IntrinsicError> {
        let empty = Map::new();
        let (template, vars) = match arg {
            Value::String(s) => (s.as_str(), &empty),
            Value::Array(a) => match a.as_slice() {
                [Value::String(s), Value::Object(vars)] => (s.as_str(), vars),
                [Value::String(s)] => (s.as_str(), &empty),
                _ => return Err(IntrinsicError::Malformed("Fn::Sub")),
            },
            _ => return Err(IntrinsicError::Malformed("Fn::Sub")),
        };
        Ok(Value::String(self.sub(template, vars)?))
    }

    fn join(&self, arg: &Value) -> Result<Value, IntrinsicError> {
        let Value::Array(a) = arg else {
            return Err(IntrinsicError::Malformed("Fn::Join"));
        };
        let [Value::String(sep), list] = a.as_slice() else {
            return Err(IntrinsicError::Malformed("Fn::Join"));
        };
        let Value::Array(items) = self.resolve(list)? else {
            return Err(IntrinsicError::Malformed("Fn::Join"));
        };
        let texts = items
            .into_iter()
            .map(|i| text(i, "Fn::Join"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Value::String(texts.join(sep)))
    }

    fn select(&self, arg: &Value) -> Result<Value, IntrinsicError> {
        let Value::Array(a) = self.resolve(arg)? else {
            return Err(IntrinsicError::Malformed("Fn::Select"));
        };
        let [index, Value::Array(items)] = a.as_slice() else {
            return Err(IntrinsicError::Malformed("Fn::Select"));
        };
        let i = match index {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        };
        i.and_then(|i| items.get(i as usize).cloned())
            .ok_or(IntrinsicError::Malformed("Fn::Select"))
    }
}

fn is_no_value(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|m| m.len() == 1 && m.get("Ref").and_then(Value::as_str) == Some(NO_VALUE))
}

fn text(v: Value, f: &'static str) -> Result<String, IntrinsicError> {
    match v {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(IntrinsicError::Malformed(f)),
    }
}

/// Every intrinsic function name `v` uses that [`Scope::resolve`] does not support.
pub fn unsupported(v: &Value, found: &mut BTreeSet<String>) {
    match v {
        Value::Array(a) => a.iter().for_each(|i| unsupported(i, found)),
        Value::Object(m) => {
            for (k, v) in m {
                if k.starts_with("Fn::") && !SUPPORTED.contains(&k.as_str()) {
                    found.insert(k.clone());
                }
                unsupported(v, found);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope() -> Scope {
        let mut s = Scope::default();
        s.values.insert("AWS::Region".into(), "us-east-1".into());
        s.values.insert("Stage".into(), "dev".into());
        s.resources.insert(
            "Fn".into(),
            BTreeMap::from([
                (String::new(), "app-Fn".into()),
                (
                    "Arn".into(),
                    "arn:aws:lambda:us-east-1:000000000000:function:app-Fn".into(),
                ),
            ]),
        );
        s
    }

    #[test]
    fn resolves_the_supported_functions() {
        let s = scope();
        let v = json!({
            "uri": {"Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:path/functions/${Fn.Arn}/invocations"},
            "name": {"Ref": "Fn"},
            "arn": {"Fn::GetAtt": ["Fn", "Arn"]},
            "joined": {"Fn::Join": ["-", [{"Ref": "Stage"}, "x"]]},
            "picked": {"Fn::Select": [1, ["a", "b"]]},
            "vars": {"Fn::Sub": ["${X}/${!Literal}", {"X": {"Ref": "Stage"}}]},
            "gone": {"Ref": "AWS::NoValue"},
        });
        assert_eq!(
            s.resolve(&v).unwrap(),
            json!({
                "uri": "arn:aws:apigateway:us-east-1:lambda:path/functions/arn:aws:lambda:us-east-1:000000000000:function:app-Fn/invocations",
                "name": "app-Fn",
                "arn": "arn:aws:lambda:us-east-1:000000000000:function:app-Fn",
                "joined": "dev-x",
                "picked": "b",
                "vars": "dev/${Literal}",
            })
        );
    }

    #[test]
    fn unknown_and_unsupported_are_named() {
        let s = scope();
        assert_eq!(
            s.resolve(&json!({"Ref": "Nope"})),
            Err(IntrinsicError::Unknown("Ref", "Nope".into()))
        );
        assert_eq!(
            s.resolve(&json!({"Fn::Base64": "x"})),
            Err(IntrinsicError::Unsupported("Fn::Base64".into()))
        );
        let mut found = BTreeSet::new();
        unsupported(
            &json!({"a": [{"Fn::ImportValue": []}], "b": {"Fn::Sub": "x"}, "c": {"Fn::If": []}}),
            &mut found,
        );
        assert_eq!(found, BTreeSet::from(["Fn::ImportValue".to_string()]));
    }

    #[test]
    fn if_find_in_map_and_no_value() {
        let mut s = scope();
        s.conditions.insert("IsProd".into(), false);
        s.mappings = json!({"Sizes": {"dev": {"Memory": 128}}})
            .as_object()
            .unwrap()
            .clone();
        let v = json!({
            "memory": {"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]},
            "name": {"Fn::If": ["IsProd", "prod", {"Ref": "Stage"}]},
            "gone": {"Fn::If": ["IsProd", 1, {"Ref": "AWS::NoValue"}]},
            "list": [{"Fn::If": ["IsProd", "a", {"Ref": "AWS::NoValue"}]}, "b"],
            "untouched": {"Fn::If": ["IsProd", {"Ref": "Nope"}, 0]},
        });
        assert_eq!(
            s.resolve(&v).unwrap(),
            json!({"memory": 128, "name": "dev", "list": ["b"], "untouched": 0})
        );
        assert_eq!(
            s.resolve(&json!({"Fn::If": ["Missing", 1, 2]})),
            Err(IntrinsicError::Unknown("Condition", "Missing".into()))
        );
    }
}
