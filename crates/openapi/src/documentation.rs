//! `x-amazon-apigateway-documentation`: an API's documentation parts inside a document
//! (ImportDocumentationParts, ImportRestApi/PutRestApi, and GetExport with
//! `extensions=documentation`).

use serde_json::{json, Map, Value};
use tollgate_model::{DocumentationPart, DocumentationPartLocation, DocumentationPartType};

use crate::document::Document;
use crate::problems::Problems;

/// The extension's name.
pub const EXTENSION: &str = "x-amazon-apigateway-documentation";

/// A part read from a document: where it is, and its properties (a JSON object).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedPart {
    pub location: DocumentationPartLocation,
    pub properties: Map<String, Value>,
}

/// The documentation a document carries: its `version` (if named) and its parts. A part
/// that cannot be read is skipped with a warning, as AWS reports it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportedDocumentation {
    pub version: Option<String>,
    pub parts: Vec<ImportedPart>,
}

/// Reads the extension from a document's root (none: no parts).
pub fn read(doc: &Document, p: &mut Problems) -> ImportedDocumentation {
    let mut out = ImportedDocumentation::default();
    let Some(ext) = doc.root.get(EXTENSION) else {
        return out;
    };
    let Some(ext) = ext.as_object() else {
        p.warn(format!("{EXTENSION} must be an object; ignored"));
        return out;
    };
    out.version = ext.get("version").and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    });
    let parts = match ext.get("documentationParts") {
        None => return out,
        Some(Value::Array(a)) => a,
        Some(_) => {
            p.warn("documentationParts must be a list; ignored");
            return out;
        }
    };
    for (i, part) in parts.iter().enumerate() {
        match read_part(part) {
            Ok(part) => out.parts.push(part),
            Err(why) => p.warn(format!("Skipping documentation part {i}: {why}")),
        }
    }
    out
}

fn read_part(v: &Value) -> Result<ImportedPart, String> {
    let o = v.as_object().ok_or("it is not an object")?;
    let loc = o
        .get("location")
        .and_then(Value::as_object)
        .ok_or("it has no location")?;
    let text = |k: &str| loc.get(k).and_then(Value::as_str).map(str::to_string);
    let type_text = text("type").ok_or("its location has no type")?;
    let part_type: DocumentationPartType = type_text
        .parse()
        .map_err(|_| format!("invalid location type '{type_text}'"))?;
    let location = DocumentationPartLocation {
        part_type,
        path: text("path"),
        method: text("method"),
        status_code: loc.get("statusCode").and_then(|s| match s {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }),
        name: text("name"),
    };
    location.validate().map_err(|e| e.to_string())?;
    let properties = match o.get("properties") {
        Some(Value::Object(m)) => m.clone(),
        _ => return Err("its properties are not an object".into()),
    };
    Ok(ImportedPart {
        location,
        properties,
    })
}

/// The extension's value for an export: `version` and the parts, each as its location and
/// its properties (parsed back from the stored JSON text).
pub fn write(version: &str, parts: &[&DocumentationPart]) -> Value {
    let parts: Vec<Value> = parts
        .iter()
        .map(|p| {
            let properties: Value =
                serde_json::from_str(&p.properties).unwrap_or_else(|_| json!({}));
            json!({"location": p.location, "properties": properties})
        })
        .collect();
    json!({"version": version, "documentationParts": parts})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(ext: Value) -> Document {
        let mut root = Map::new();
        root.insert("openapi".into(), json!("3.0.1"));
        root.insert(EXTENSION.into(), ext);
        Document {
            root,
            flavor: crate::Flavor::Oas3,
        }
    }

    #[test]
    fn reads_parts_and_warns_about_broken_ones() {
        let d = doc(json!({"version": "1.0", "documentationParts": [
            {"location": {"type": "API"}, "properties": {"description": "d"}},
            {"location": {"type": "METHOD", "path": "/pets", "method": "GET"},
             "properties": {"summary": "s"}},
            {"location": {"type": "WRONG"}, "properties": {}},
            {"location": {"type": "MODEL"}, "properties": {}},
        ]}));
        let mut p = Problems::default();
        let out = read(&d, &mut p);
        assert_eq!(out.version.as_deref(), Some("1.0"));
        assert_eq!(out.parts.len(), 2);
        assert_eq!(out.parts[1].location.path.as_deref(), Some("/pets"));
        assert_eq!(p.warnings.len(), 2, "{:?}", p.warnings);
    }

    #[test]
    fn writes_properties_as_objects() {
        let part = DocumentationPart {
            id: "abc123".into(),
            location: DocumentationPartLocation {
                part_type: DocumentationPartType::Api,
                path: None,
                method: None,
                status_code: None,
                name: None,
            },
            properties: r#"{"description":"x"}"#.into(),
        };
        let v = write("v1", &[&part]);
        assert_eq!(
            v,
            json!({"version": "v1", "documentationParts": [
                {"location": {"type": "API"}, "properties": {"description": "x"}}]})
        );
    }
}
