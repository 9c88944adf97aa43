//! What the REST and HTTP importers read alike: `info`, the verbs of a path item, and the
//! base path (`basePath` / `servers[0].url`) with the `basepath` mode.

use serde_json::{Map, Value};

use crate::document::{Document, Flavor};

/// The verbs of a path item, with AWS's `x-amazon-apigateway-any-method` as `ANY`.
pub const VERBS: [(&str, &str); 8] = [
    ("get", "GET"),
    ("put", "PUT"),
    ("post", "POST"),
    ("delete", "DELETE"),
    ("options", "OPTIONS"),
    ("head", "HEAD"),
    ("patch", "PATCH"),
    ("x-amazon-apigateway-any-method", "ANY"),
];

/// The document's `paths`, in document order.
pub fn paths(doc: &Document) -> impl Iterator<Item = (&String, &Value)> {
    doc.root
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
}

/// How the document's base path (Swagger `basePath`, OpenAPI `servers[0].url`) becomes
/// part of the paths (`?basepath=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BasePath {
    #[default]
    Ignore,
    Prepend,
    /// Drops the base path's first segment and prepends the rest.
    Split,
}

impl BasePath {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ignore" => Some(BasePath::Ignore),
            "prepend" => Some(BasePath::Prepend),
            "split" => Some(BasePath::Split),
            _ => None,
        }
    }
}

/// `info.title`, `info.description`, `info.version`: the API's name, description and
/// version.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Info {
    pub title: Option<String>,
    pub description: Option<String>,
    pub version: Option<String>,
}

impl Info {
    pub fn read(doc: &Document) -> Info {
        let info = doc.root.get("info");
        // Versions are often unquoted numbers in YAML.
        let text = |k: &str| {
            info.and_then(|i| i.get(k)).and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        Info {
            title: text("title"),
            description: text("description"),
            version: text("version"),
        }
    }

    /// Sets what the document gives; a missing member keeps the API's.
    pub fn apply(
        &self,
        name: &mut String,
        description: &mut Option<String>,
        version: &mut Option<String>,
    ) {
        if let Some(t) = self.title.clone().filter(|t| !t.is_empty()) {
            *name = t;
        }
        if self.description.is_some() {
            description.clone_from(&self.description);
        }
        if self.version.is_some() {
            version.clone_from(&self.version);
        }
    }
}

/// The base path's segments that `mode` puts in front of every path.
pub fn base_segments(doc: &Document, mode: BasePath) -> Vec<String> {
    let raw = match doc.flavor {
        Flavor::Swagger2 => doc
            .root
            .get("basePath")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        Flavor::Oas3 => doc
            .root
            .get("servers")
            .and_then(|s| s.get(0))
            .map(server_path)
            .unwrap_or_default(),
    };
    let segments: Vec<String> = raw
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    match mode {
        BasePath::Ignore => vec![],
        BasePath::Prepend => segments,
        BasePath::Split => segments.into_iter().skip(1).collect(),
    }
}

/// The path of a server's URL, its `{variables}` replaced by their defaults.
fn server_path(server: &Value) -> String {
    let mut url = server
        .get("url")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    for (name, var) in server
        .get("variables")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let default = var.get("default").and_then(Value::as_str).unwrap_or("");
        url = url.replace(&format!("{{{name}}}"), default);
    }
    match url.split_once("://") {
        Some((_, rest)) => rest
            .find('/')
            .map(|i| rest[i..].to_string())
            .unwrap_or_default(),
        None => url,
    }
}

/// `base` and `path` as one path.
pub fn full_path(base: &[String], path: &str) -> String {
    let segments: Vec<&str> = base
        .iter()
        .map(String::as_str)
        .chain(path.split('/').filter(|s| !s.is_empty()))
        .collect();
    format!("/{}", segments.join("/"))
}

/// Inserts `value` under `key` when there is one (exports leave unset members out).
pub fn insert_some(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        map.insert(key.into(), v);
    }
}
