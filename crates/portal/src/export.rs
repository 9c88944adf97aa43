//! A published stage's OpenAPI 3 document, read from the control plane's own GetExport
//! (`GET /restapis/{id}/stages/{stage}/exports/oas30`, so the portal shows exactly what an
//! owner would export), and its operations rendered: parameters, request body and
//! response models with their JSON schemas.

use std::collections::BTreeSet;
use std::fmt::Write;

use http::Method;
use serde_json::Value;

use crate::context::Portal;
use crate::keys::call;
use crate::page::esc;

/// Where a parameter goes, in OpenAPI's words (`in`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Path,
    Query,
    Header,
}

impl Location {
    fn parse(s: &str) -> Option<Location> {
        match s {
            "path" => Some(Location::Path),
            "query" => Some(Location::Query),
            "header" => Some(Location::Header),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Header => "header",
        }
    }
}

pub struct Parameter {
    pub name: String,
    pub location: Location,
    pub required: bool,
}

/// A body's media type and its schema (`$ref` to a model, as exported).
pub struct Content {
    pub media_type: String,
    pub schema: Value,
}

pub struct Answer {
    pub status: String,
    pub description: String,
    pub headers: Vec<String>,
    pub content: Vec<Content>,
}

/// One operation of the document.
pub struct Operation {
    /// `GET`, …, or `ANY` (`x-amazon-apigateway-any-method`).
    pub method: String,
    pub path: String,
    pub parameters: Vec<Parameter>,
    pub request_body: Vec<Content>,
    pub responses: Vec<Answer>,
}

impl Operation {
    /// The id of the operation's section on the page.
    pub fn anchor(&self) -> String {
        let path: String = self
            .path
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        format!("op-{}{path}", self.method.to_ascii_lowercase())
    }
}

/// The document, or the control plane's refusal.
pub async fn fetch(portal: &Portal, api_id: &str, stage: &str) -> Result<Value, String> {
    let path = format!("/restapis/{api_id}/stages/{stage}/exports/oas30");
    let (status, doc) = call(portal, Method::GET, &path, None, None).await;
    if status != 200 {
        let m = doc["message"].as_str().unwrap_or("failed");
        return Err(format!("GetExport answered {status}: {m}"));
    }
    Ok(doc)
}

const VERBS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];
const ANY: &str = "x-amazon-apigateway-any-method";

fn contents(v: &Value) -> Vec<Content> {
    v.as_object()
        .into_iter()
        .flatten()
        .map(|(media_type, c)| Content {
            media_type: media_type.clone(),
            schema: c["schema"].clone(),
        })
        .collect()
}

/// The document's operations, in its order.
pub fn operations(doc: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (key, op) in item.as_object().into_iter().flatten() {
            let method = match key.as_str() {
                ANY => "ANY".to_string(),
                k if VERBS.contains(&k) => k.to_ascii_uppercase(),
                _ => continue,
            };
            let parameters = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    Some(Parameter {
                        name: p["name"].as_str()?.to_string(),
                        location: Location::parse(p["in"].as_str()?)?,
                        required: p["required"].as_bool().unwrap_or(false),
                    })
                })
                .collect();
            let responses = op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(status, r)| Answer {
                    status: status.clone(),
                    description: r["description"].as_str().unwrap_or("").to_string(),
                    headers: r["headers"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(h, _)| h.clone())
                        .collect(),
                    content: contents(&r["content"]),
                })
                .collect();
            out.push(Operation {
                method,
                path: path.clone(),
                parameters,
                request_body: contents(&op["requestBody"]["content"]),
                responses,
            });
        }
    }
    out
}

const MODEL_REF: &str = "#/components/schemas/";

/// The models `schema` names, and those they name in turn, each once.
fn referenced(doc: &Value, schema: &Value, seen: &mut BTreeSet<String>, out: &mut Vec<String>) {
    match schema {
        Value::Object(o) => {
            for (k, v) in o {
                let name = v.as_str().and_then(|r| r.strip_prefix(MODEL_REF));
                match (k.as_str(), name) {
                    ("$ref", Some(name)) => {
                        if seen.insert(name.to_string()) {
                            out.push(name.to_string());
                            let model = &doc["components"]["schemas"][name];
                            referenced(doc, model, seen, out);
                        }
                    }
                    _ => referenced(doc, v, seen, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| referenced(doc, v, seen, out)),
        _ => {}
    }
}

/// A body's schema: each model it uses, by name, with its JSON schema.
fn schema_html(doc: &Value, c: &Content) -> String {
    let mut names = Vec::new();
    referenced(doc, &c.schema, &mut BTreeSet::new(), &mut names);
    let mut out = format!("<p>Media type <code>{}</code>", esc(&c.media_type));
    if names.is_empty() {
        let json = serde_json::to_string_pretty(&c.schema).unwrap_or_default();
        let _ = write!(out, "</p><pre class=\"schema\">{}</pre>", esc(&json));
        return out;
    }
    out.push_str("</p>");
    for name in names {
        let model = &doc["components"]["schemas"][name.as_str()];
        let json = serde_json::to_string_pretty(model).unwrap_or_default();
        let _ = write!(
            out,
            "<p>Model <strong class=\"model\">{}</strong></p><pre class=\"schema\">{}</pre>",
            esc(&name),
            esc(&json)
        );
    }
    out
}

fn parameters_html(op: &Operation) -> String {
    if op.parameters.is_empty() {
        return "<p>No parameters.</p>".to_string();
    }
    let mut out = String::from(
        "<table class=\"parameters\"><tr><th>Parameter</th><th>In</th><th>Required</th></tr>",
    );
    for p in &op.parameters {
        let _ = write!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(&p.name),
            p.location.as_str(),
            if p.required { "required" } else { "optional" }
        );
    }
    out.push_str("</table>");
    out
}

/// One operation's section: `about` is its documentation part, `try_it` its form.
pub fn operation_html(doc: &Value, op: &Operation, about: Option<&str>, try_it: &str) -> String {
    let mut out = format!(
        "<section class=\"operation\" id=\"{}\"><h3><span class=\"method\">{}</span> <code>{}</code></h3>",
        esc(&op.anchor()),
        esc(&op.method),
        esc(&op.path)
    );
    if let Some(about) = about {
        let _ = write!(out, "<p class=\"documentation\">{}</p>", esc(about));
    }
    out.push_str("<h4>Parameters</h4>");
    out.push_str(&parameters_html(op));
    if !op.request_body.is_empty() {
        out.push_str("<h4>Request body</h4>");
        for c in &op.request_body {
            out.push_str(&schema_html(doc, c));
        }
    }
    out.push_str("<h4>Responses</h4>");
    for r in &op.responses {
        let _ = write!(
            out,
            "<p>Status <strong>{}</strong>: {}</p>",
            esc(&r.status),
            esc(&r.description)
        );
        if !r.headers.is_empty() {
            let names: Vec<String> = r.headers.iter().map(|h| esc(h)).collect();
            let _ = write!(out, "<p>Headers: <code>{}</code></p>", names.join(", "));
        }
        for c in &r.content {
            out.push_str(&schema_html(doc, c));
        }
    }
    out.push_str(try_it);
    out.push_str("</section>");
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn operations_carry_parameters_and_their_models() {
        let doc = json!({
            "paths": {"/pets/{petId}": {
                "get": {
                    "parameters": [
                        {"name": "petId", "in": "path", "required": true, "schema": {"type": "string"}},
                        {"name": "verbose", "in": "query", "schema": {"type": "string"}}
                    ],
                    "responses": {"200": {"description": "200 response", "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}}
                },
                "x-amazon-apigateway-any-method": {"responses": {}}
            }},
            "components": {"schemas": {
                "Pet": {"type": "object", "properties": {"owner": {"$ref": "#/components/schemas/Owner"}}},
                "Owner": {"type": "string"}
            }}
        });
        let ops = super::operations(&doc);
        assert_eq!(ops.len(), 2);
        assert_eq!(
            (ops[0].method.as_str(), ops[1].method.as_str()),
            ("GET", "ANY")
        );
        assert!(ops[0].parameters[0].required && !ops[0].parameters[1].required);
        let html = super::operation_html(&doc, &ops[0], Some("<b>"), "");
        assert!(html.contains("<td><code>petId</code></td><td>path</td><td>required</td>"));
        assert!(
            html.contains("<strong class=\"model\">Pet</strong>"),
            "{html}"
        );
        assert!(
            html.contains("<strong class=\"model\">Owner</strong>"),
            "{html}"
        );
        assert!(
            html.contains("&lt;b&gt;") && html.contains("&quot;type&quot;"),
            "{html}"
        );
    }
}
