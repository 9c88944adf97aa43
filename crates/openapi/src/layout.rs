//! A document as JSON text laid out as API Gateway lays out its exports (GetExport):
//! Jackson's default pretty printer. Objects take one member a line, two spaces deeper
//! than their parent, written `"key" : value`; arrays stay on their line (`[ "a", "b" ]`,
//! `[ {` … `} ]`) and indent nothing; empty ones are `{ }` and `[ ]`; no newline at
//! the end. Exported files people keep in their repositories look like this, so a
//! Tollgate export diffs cleanly against one taken from AWS.

use serde_json::Value;

/// `doc` as API Gateway writes an exported document.
pub fn to_aws_json(doc: &Value) -> String {
    let mut out = String::new();
    write(&mut out, doc, 0);
    out
}

fn write(out: &mut String, v: &Value, depth: usize) {
    match v {
        Value::Object(map) if map.is_empty() => out.push_str("{ }"),
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                out.push_str(&scalar(&Value::String(k.clone())));
                out.push_str(" : ");
                write(out, v, depth + 1);
            }
            newline(out, depth);
            out.push('}');
        }
        Value::Array(items) if items.is_empty() => out.push_str("[ ]"),
        // Jackson's array indenter is inline: elements follow on the same line and an
        // object inside is one level deeper than the array's owner, not two.
        Value::Array(items) => {
            out.push_str("[ ");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(out, item, depth);
            }
            out.push_str(" ]");
        }
        scalar_value => out.push_str(&scalar(scalar_value)),
    }
}

fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    out.extend(std::iter::repeat_n("  ", depth));
}

/// Strings, numbers, booleans and null: serde_json escapes as Jackson does (`\"`, `\\`,
/// `\n`, `\t`, `\r`, `\b`, `\f`, other control characters as `\u00XX`, the rest as is).
fn scalar(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A fragment of an export as AWS wrote it (its documentation's PetStore example).
    #[test]
    fn lays_out_as_aws_does() {
        let doc = json!({
            "openapi": "3.0.1",
            "paths": {"/pets/{petId}": {"get": {
                "parameters": [{"name": "petId", "in": "path", "required": true,
                                "schema": {"type": "string"}}],
                "responses": {"200": {"description": "200 response", "content": {}}}
            }}},
            "x-amazon-apigateway-binary-media-types": ["image/png", "image/jpg"],
            "security": [{"api_key": []}]
        });
        let expected = r#"{
  "openapi" : "3.0.1",
  "paths" : {
    "/pets/{petId}" : {
      "get" : {
        "parameters" : [ {
          "name" : "petId",
          "in" : "path",
          "required" : true,
          "schema" : {
            "type" : "string"
          }
        } ],
        "responses" : {
          "200" : {
            "description" : "200 response",
            "content" : { }
          }
        }
      }
    }
  },
  "x-amazon-apigateway-binary-media-types" : [ "image/png", "image/jpg" ],
  "security" : [ {
    "api_key" : [ ]
  } ]
}"#;
        assert_eq!(to_aws_json(&doc), expected);
        let back: Value = serde_json::from_str(expected).unwrap();
        assert_eq!(back, doc);
    }
}
