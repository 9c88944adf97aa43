//! Reading a SAM (or CloudFormation) template: YAML or JSON, CloudFormation's short tags
//! (`!Ref`, `!GetAtt`, `!Sub`...) turned into their long forms, and the `Globals` section
//! laid under each serverless resource's properties.

use serde_json::{Map, Value};
use serde_norway::value::TaggedValue;

/// A template as JSON, long-form intrinsics only.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub parameters: Map<String, Value>,
    pub conditions: Map<String, Value>,
    pub mappings: Map<String, Value>,
    /// Logical id → the resource (`Type`, `Properties`, with `Globals` applied).
    pub resources: Vec<(String, Value)>,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("not YAML or JSON: {0}")]
    Syntax(String),
    #[error("the template has no Resources section")]
    NoResources,
}

/// A short-form tag as its long form: `!Ref x` → `{"Ref": x}`, `!GetAtt a.b` →
/// `{"Fn::GetAtt": ["a", "b"]}`, `!Name v` → `{"Fn::Name": v}`.
fn long_form(t: TaggedValue) -> Value {
    let name = t.tag.to_string();
    let name = name.trim_start_matches('!');
    let value = to_json(t.value);
    match (name, value) {
        ("Ref", v) => single("Ref", v),
        // `!Condition X` (inside `Conditions`) is `{"Condition": X}`, not an `Fn::`.
        ("Condition", v) => single("Condition", v),
        ("GetAtt", Value::String(s)) => {
            let parts = match s.split_once('.') {
                Some((a, b)) => vec![Value::from(a), Value::from(b)],
                None => vec![Value::from(s)],
            };
            single("Fn::GetAtt", Value::Array(parts))
        }
        (other, v) => single(&format!("Fn::{other}"), v),
    }
}

fn single(key: &str, v: Value) -> Value {
    let mut m = Map::new();
    m.insert(key.to_string(), v);
    Value::Object(m)
}

fn to_json(v: serde_norway::Value) -> Value {
    use serde_norway::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(&n).unwrap_or(Value::Null),
        Y::String(s) => Value::String(s),
        Y::Sequence(s) => Value::Array(s.into_iter().map(to_json).collect()),
        Y::Mapping(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s,
                        other => serde_norway::to_string(&other)
                            .unwrap_or_default()
                            .trim()
                            .to_string(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(t) => long_form(*t),
    }
}

/// `base` with `over` laid on it: objects merged key by key (`over` wins), anything else
/// replaced (SAM's rule for Globals, except lists, which SAM appends: the only lists in
/// supported Globals are `Layers` and the like, not read here).
fn overlay(base: &Value, over: &Value) -> Value {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            let mut out = b.clone();
            for (k, v) in o {
                let merged = match out.get(k) {
                    Some(prev) => overlay(prev, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (_, o) => o.clone(),
    }
}

/// The `Globals` section that applies to a resource type.
fn globals_key(resource_type: &str) -> Option<&'static str> {
    match resource_type {
        "AWS::Serverless::Function" => Some("Function"),
        "AWS::Serverless::Api" => Some("Api"),
        "AWS::Serverless::HttpApi" => Some("HttpApi"),
        _ => None,
    }
}

/// A YAML or JSON document (a `DefinitionUri` file) as JSON, short tags in long form.
pub fn parse_document(bytes: &[u8]) -> Result<Value, TemplateError> {
    let y: serde_norway::Value =
        serde_norway::from_slice(bytes).map_err(|e| TemplateError::Syntax(e.to_string()))?;
    Ok(to_json(y))
}

/// Parses a template (YAML is a superset of JSON, so one parser reads both).
pub fn parse(bytes: &[u8]) -> Result<Template, TemplateError> {
    let Value::Object(root) = parse_document(bytes)? else {
        return Err(TemplateError::NoResources);
    };
    let globals = root.get("Globals").cloned().unwrap_or(Value::Null);
    let Some(Value::Object(resources)) = root.get("Resources") else {
        return Err(TemplateError::NoResources);
    };
    let resources = resources
        .iter()
        .map(|(id, r)| {
            let ty = r.get("Type").and_then(Value::as_str).unwrap_or_default();
            let global = globals_key(ty).and_then(|k| globals.get(k));
            let r = match (global, r.get("Properties")) {
                (Some(g), props) => {
                    let mut r = r.clone();
                    let props = overlay(g, props.unwrap_or(&Value::Object(Map::new())));
                    r["Properties"] = props;
                    r
                }
                (None, _) => r.clone(),
            };
            (id.clone(), r)
        })
        .collect();
    let section = |name: &str| match root.get(name) {
        Some(Value::Object(p)) => p.clone(),
        _ => Map::new(),
    };
    Ok(Template {
        parameters: section("Parameters"),
        conditions: section("Conditions"),
        mappings: section("Mappings"),
        resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_tags_become_long_forms_and_globals_apply() {
        let t = parse(
            br#"
Globals:
  Function:
    Timeout: 3
    Environment:
      Variables:
        A: "1"
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Environment:
        Variables:
          B: !Ref Param
      Uri: !Sub "x-${Fn.Arn}"
      Arn: !GetAtt Fn.Arn
"#,
        )
        .unwrap();
        let (id, f) = &t.resources[0];
        assert_eq!(id, "Fn");
        let p = &f["Properties"];
        assert_eq!(p["Timeout"], 3);
        assert_eq!(
            p["Environment"]["Variables"],
            json!({"A": "1", "B": {"Ref": "Param"}})
        );
        assert_eq!(p["Uri"], json!({"Fn::Sub": "x-${Fn.Arn}"}));
        assert_eq!(p["Arn"], json!({"Fn::GetAtt": ["Fn", "Arn"]}));
    }

    #[test]
    fn a_template_without_resources_is_refused() {
        assert!(matches!(parse(b"a: 1"), Err(TemplateError::NoResources)));
        assert!(matches!(parse(b"a: [1"), Err(TemplateError::Syntax(_))));
    }
}
