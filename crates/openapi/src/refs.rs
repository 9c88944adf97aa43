//! Local `$ref`s: following them inside the document, and rewriting model references
//! between the document's form and API Gateway's model URLs.

use serde_json::Value;

/// How many `$ref` hops are followed before giving up (a cycle of references).
const MAX_HOPS: usize = 16;

/// The value a `$ref` object points at (itself when it is not a local reference).
pub fn resolve<'a>(root: &'a Value, mut v: &'a Value) -> &'a Value {
    for _ in 0..MAX_HOPS {
        let Some(target) = v
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|p| root.pointer(p))
        else {
            return v;
        };
        v = target;
    }
    v
}

/// The model a schema names: `{"$ref": "#/definitions/Pet"}`,
/// `#/components/schemas/Pet` or an API Gateway model URL.
pub fn model_name(schema: &Value) -> Option<&str> {
    let r = schema.get("$ref")?.as_str()?;
    let name = r
        .strip_prefix("#/definitions/")
        .or_else(|| r.strip_prefix("#/components/schemas/"))
        .or_else(|| r.split_once("/models/").map(|(_, n)| n))?;
    (!name.is_empty() && !name.contains('/')).then_some(name)
}

/// Rewrites every model reference inside `schema` with `to(name)`.
pub fn rewrite(schema: &mut Value, to: &dyn Fn(&str) -> String) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                let probe = Value::Object(
                    [("$ref".to_string(), Value::String(r.clone()))]
                        .into_iter()
                        .collect(),
                );
                if let Some(name) = model_name(&probe) {
                    let new = to(name);
                    map.insert("$ref".into(), Value::String(new));
                }
            }
            for (k, v) in map.iter_mut() {
                if k != "$ref" {
                    rewrite(v, to);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite(v, to)),
        _ => {}
    }
}

/// API Gateway's URL of a model, the form a stored model's `$ref` takes.
pub fn model_url(api_id: &str, name: &str) -> String {
    format!("https://apigateway.amazonaws.com/restapis/{api_id}/models/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn follows_and_stops_on_cycles() {
        let root = json!({"a": {"$ref": "#/b"}, "b": {"x": 1}, "c": {"$ref": "#/c"}});
        assert_eq!(resolve(&root, &root["a"]), &json!({"x": 1}));
        assert_eq!(resolve(&root, &root["c"]), &json!({"$ref": "#/c"}));
    }

    #[test]
    fn rewrites_nested_refs() {
        let mut s = json!({"items": {"$ref": "#/definitions/Pet"}, "p": [{"$ref": "#/components/schemas/A"}]});
        rewrite(&mut s, &|n| model_url("abc", n));
        assert_eq!(
            s["items"]["$ref"],
            "https://apigateway.amazonaws.com/restapis/abc/models/Pet"
        );
        assert_eq!(
            s["p"][0]["$ref"],
            "https://apigateway.amazonaws.com/restapis/abc/models/A"
        );
    }
}
