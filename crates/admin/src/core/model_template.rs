//! GetModelTemplate (REST and WebSocket APIs): a mapping-template skeleton that copies a
//! model's shape from the request body, as AWS generates it for the console.

/// The whole template for `schema`.
pub fn template(schema: &serde_json::Value) -> String {
    let mut out = String::from("#set($inputRoot = $input.path('$'))\n");
    skeleton(schema, "$inputRoot", 0, &mut out);
    out
}

/// Writes the template text for one schema node read from `var`: objects property by
/// property, arrays with `#foreach`, strings quoted, other scalars as they are.
fn skeleton(schema: &serde_json::Value, var: &str, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth + 1);
    let kind = schema.get("type").and_then(|t| t.as_str()).unwrap_or(
        if schema.get("properties").is_some() {
            "object"
        } else if schema.get("items").is_some() {
            "array"
        } else {
            ""
        },
    );
    match kind {
        "object" => {
            out.push_str("{\n");
            let props = schema.get("properties").and_then(|p| p.as_object());
            let lines: Vec<String> = props
                .into_iter()
                .flatten()
                .map(|(k, sub)| {
                    let mut v = String::new();
                    skeleton(sub, &format!("{var}.{k}"), depth + 1, &mut v);
                    format!("{pad}\"{k}\" : {v}")
                })
                .collect();
            out.push_str(&lines.join(",\n"));
            out.push_str(&format!("\n{}}}", "  ".repeat(depth)));
        }
        "array" => {
            let elem = format!(
                "$elem{}",
                if depth == 0 {
                    String::new()
                } else {
                    depth.to_string()
                }
            );
            out.push_str(&format!("[\n#foreach({elem} in {var})\n{pad}"));
            skeleton(
                schema.get("items").unwrap_or(&serde_json::Value::Null),
                &elem,
                depth + 1,
                out,
            );
            out.push_str(&format!(
                "#if($foreach.hasNext),#end\n#end\n{}]",
                "  ".repeat(depth)
            ));
        }
        "string" => out.push_str(&format!("\"{var}\"")),
        _ => out.push_str(var),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_skeleton_follows_the_schema() {
        let schema = serde_json::json!({
            "type": "array",
            "items": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}
        });
        assert_eq!(
            template(&schema),
            "#set($inputRoot = $input.path('$'))\n[\n#foreach($elem in $inputRoot)\n  {\n    \"id\" : $elem.id,\n    \"name\" : \"$elem.name\"\n  }#if($foreach.hasNext),#end\n#end\n]"
        );
    }
}
