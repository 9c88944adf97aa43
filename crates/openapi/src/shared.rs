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
    if mode == BasePath::Ignore {
        return vec![];
    }
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
    let template = server.get("url").and_then(Value::as_str).unwrap_or("");
    let variables = server.get("variables").and_then(Value::as_object);
    // One pass over the URL as written: a default is never expanded again, so the result
    // is at most the URL with each `{name}` replaced once (bounded below in any case).
    let mut url = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        url.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match variables.and_then(|v| v.get(name)) {
                    Some(var) => {
                        url.push_str(var.get("default").and_then(Value::as_str).unwrap_or(""))
                    }
                    None => url.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            None => {
                url.push_str(&rest[open..]);
                rest = "";
            }
        }
        if url.len() > MAX_SERVER_URL {
            break;
        }
    }
    url.push_str(rest);
    url.truncate(floor_char_boundary(&url, MAX_SERVER_URL));
    match url.split_once("://") {
        Some((_, rest)) => rest
            .find('/')
            .map(|i| rest[i..].to_string())
            .unwrap_or_default(),
        None => url,
    }
}

/// The longest server URL a base path is read from (a base path is a few segments).
const MAX_SERVER_URL: usize = 2048;

fn floor_char_boundary(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    (0..=max)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_variables_are_replaced_once_and_bounded() {
        let server = serde_json::json!({
            "url": "https://{host}/{stage}/v1",
            "variables": {"host": {"default": "api.example"}, "stage": {"default": "{host}"}}
        });
        assert_eq!(server_path(&server), "/{host}/v1");
        // Defaults that would multiply each other: bounded, not exponential.
        let big = "{a}".repeat(1000);
        let server = serde_json::json!({
            "url": format!("https://h/{big}"),
            "variables": {"a": {"default": big}}
        });
        assert!(server_path(&server).len() <= MAX_SERVER_URL);
    }
}
