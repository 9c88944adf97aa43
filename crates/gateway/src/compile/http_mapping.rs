//! HTTP API parameter mapping (request-pipeline.md §8 step 6 and 8), parsed once per
//! deployment: `append|overwrite|remove:header.{name}`, `…:querystring.{name}`,
//! `overwrite:path` on the request; `…:header.{name}` and `overwrite:statuscode` on the
//! response, per backend status code. Values mix literal text with `$request.header.x`,
//! `$request.querystring.x`, `$request.path`, `$request.path.x`, `$context.x`,
//! `$stageVariables.x`, `$response.header.x`, and `$request.body.{path}` /
//! `$response.body.{path}` (a JSONPath of member names and `[n]` indexes, read from a JSON
//! body), bare or as `${...}`.

use std::borrow::Cow;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Append,
    Overwrite,
    Remove,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Header(http::HeaderName),
    QueryString(String),
    Path,
    StatusCode,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Literal(String),
    RequestHeader(String),
    RequestQuery(String),
    RequestPath,
    PathParameter(String),
    Context(String),
    StageVariable(String),
    ResponseHeader(String),
    RequestBody(JsonPath),
    ResponseBody(JsonPath),
    /// A source AWS does not define: empty.
    Unsupported,
}

/// One step of a body JSONPath.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Member(String),
    Index(usize),
}

/// `a.b[0].c` (an optional leading `$.` as JSONPath writes the root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath(Vec<Step>);

impl JsonPath {
    /// `None`: not a path this dialect reads.
    pub fn parse(p: &str) -> Option<JsonPath> {
        let p = p.strip_prefix("$.").unwrap_or(p);
        let mut steps = Vec::new();
        for part in p.split('.') {
            let (name, mut rest) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            if !name.is_empty() {
                steps.push(Step::Member(name.to_string()));
            } else if rest.is_empty() {
                return None;
            }
            while let Some(r) = rest.strip_prefix('[') {
                let end = r.find(']')?;
                let inner = r[..end].trim_matches(|c| c == '\'' || c == '"');
                steps.push(match inner.parse::<usize>() {
                    Ok(n) if !r[..end].starts_with(['\'', '"']) => Step::Index(n),
                    _ => Step::Member(inner.to_string()),
                });
                rest = &r[end + 1..];
            }
            if !rest.is_empty() {
                return None;
            }
        }
        Some(JsonPath(steps))
    }

    /// The value at this path: a string as it is, anything else as its JSON.
    pub fn text(&self, body: &serde_json::Value) -> Option<String> {
        let mut v = body;
        for s in &self.0 {
            v = match s {
                Step::Member(m) => v.get(m.as_str())?,
                Step::Index(n) => v.get(*n)?,
            };
        }
        Some(match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub action: Action,
    pub target: Target,
    pub value: Vec<Piece>,
}

/// Where a mapping's values come from for one request.
pub trait Sources {
    fn request_header(&self, name: &str) -> Option<Cow<'_, str>>;
    fn request_query(&self, name: &str) -> Option<Cow<'_, str>>;
    fn request_path(&self) -> &str;
    fn path_parameter(&self, name: &str) -> Option<&str>;
    fn context(&self, name: &str) -> Option<Cow<'_, str>>;
    fn stage_variable(&self, name: &str) -> Option<&str>;
    fn response_header(&self, name: &str) -> Option<Cow<'_, str>>;
    /// The request's body as JSON, when it is.
    fn request_body(&self) -> Option<&serde_json::Value> {
        None
    }
    /// The backend's response body as JSON, when it is.
    fn response_body(&self) -> Option<&serde_json::Value> {
        None
    }
}

fn source(expr: &str) -> Piece {
    let (group, rest) = expr.split_once('.').unwrap_or((expr, ""));
    match (group, rest) {
        ("request", "path") => Piece::RequestPath,
        ("request", r) => match r.split_once('.') {
            Some(("header", n)) => Piece::RequestHeader(n.to_string()),
            Some(("querystring", n)) => Piece::RequestQuery(n.to_string()),
            Some(("path", n)) => Piece::PathParameter(n.to_string()),
            Some(("body", p)) => JsonPath::parse(p).map_or(Piece::Unsupported, Piece::RequestBody),
            _ => Piece::Unsupported,
        },
        ("response", r) => match r.split_once('.') {
            Some(("header", n)) => Piece::ResponseHeader(n.to_string()),
            Some(("body", p)) => JsonPath::parse(p).map_or(Piece::Unsupported, Piece::ResponseBody),
            _ => Piece::Unsupported,
        },
        ("context", n) if !n.is_empty() => Piece::Context(n.to_string()),
        ("stageVariables", n) if !n.is_empty() => Piece::StageVariable(n.to_string()),
        _ => Piece::Literal(format!("${expr}")),
    }
}

/// Splits a value into literal text and `$source` / `${source}` references.
pub fn parse_value(v: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut rest = v;
    while let Some(i) = rest.find('$') {
        lit.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (expr, next) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], &braced[end + 1..]),
                None => ("", after),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || "._-".contains(c)))
                .unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        if expr.is_empty() {
            lit.push('$');
            rest = after;
            continue;
        }
        if !lit.is_empty() {
            out.push(Piece::Literal(std::mem::take(&mut lit)));
        }
        out.push(source(expr));
        rest = next;
    }
    lit.push_str(rest);
    if !lit.is_empty() {
        out.push(Piece::Literal(lit));
    }
    out
}

fn parse_key(key: &str) -> Option<(Action, Target)> {
    let (action, target) = key.split_once(':')?;
    let action = match action {
        "append" => Action::Append,
        "overwrite" => Action::Overwrite,
        "remove" => Action::Remove,
        _ => return None,
    };
    let target = match target.split_once('.') {
        None if target == "path" => Target::Path,
        None if target == "statuscode" => Target::StatusCode,
        Some(("header", n)) => Target::Header(http::HeaderName::from_bytes(n.as_bytes()).ok()?),
        Some(("querystring", n)) => Target::QueryString(n.to_string()),
        _ => return None,
    };
    Some((action, target))
}

/// The mappings of one map (keys the control plane checked; anything else is skipped).
pub fn compile_mappings(map: &BTreeMap<String, String>) -> Vec<Mapping> {
    map.iter()
        .filter_map(|(k, v)| {
            let (action, target) = parse_key(k)?;
            Some(Mapping {
                action,
                target,
                value: parse_value(v),
            })
        })
        .collect()
}

/// Whether any of `mappings` reads a body (which must then be read whole first).
pub fn reads_body(mappings: &[Mapping]) -> bool {
    mappings.iter().any(|m| {
        m.value
            .iter()
            .any(|p| matches!(p, Piece::RequestBody(_) | Piece::ResponseBody(_)))
    })
}

/// A value for one request.
pub fn render(pieces: &[Piece], s: &dyn Sources) -> String {
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Literal(l) => out.push_str(l),
            Piece::RequestHeader(n) => out.push_str(&s.request_header(n).unwrap_or_default()),
            Piece::RequestQuery(n) => out.push_str(&s.request_query(n).unwrap_or_default()),
            Piece::RequestPath => out.push_str(s.request_path()),
            Piece::PathParameter(n) => out.push_str(s.path_parameter(n).unwrap_or_default()),
            Piece::Context(n) => out.push_str(&s.context(n).unwrap_or_default()),
            Piece::StageVariable(n) => out.push_str(s.stage_variable(n).unwrap_or_default()),
            Piece::ResponseHeader(n) => out.push_str(&s.response_header(n).unwrap_or_default()),
            Piece::RequestBody(p) => {
                out.push_str(&s.request_body().and_then(|b| p.text(b)).unwrap_or_default())
            }
            Piece::ResponseBody(p) => out.push_str(
                &s.response_body()
                    .and_then(|b| p.text(b))
                    .unwrap_or_default(),
            ),
            Piece::Unsupported => {}
        }
    }
    out
}

/// Applies header mappings to `headers`.
pub fn apply_headers(mappings: &[Mapping], s: &dyn Sources, headers: &mut http::HeaderMap) {
    for m in mappings {
        let Target::Header(name) = &m.target else {
            continue;
        };
        match m.action {
            Action::Remove => {
                headers.remove(name);
            }
            action => {
                let Ok(v) = http::HeaderValue::from_str(&render(&m.value, s)) else {
                    continue;
                };
                if action == Action::Append {
                    headers.append(name.clone(), v);
                } else {
                    headers.insert(name.clone(), v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_mix_literals_and_sources() {
        assert_eq!(
            parse_value("Bearer ${request.header.x-token}!"),
            vec![
                Piece::Literal("Bearer ".into()),
                Piece::RequestHeader("x-token".into()),
                Piece::Literal("!".into())
            ]
        );
        assert_eq!(
            parse_value("$context.requestId"),
            vec![Piece::Context("requestId".into())]
        );
        assert_eq!(
            parse_value("/v2$request.path"),
            vec![Piece::Literal("/v2".into()), Piece::RequestPath]
        );
        assert_eq!(parse_value("$5"), vec![Piece::Literal("$5".into())]);
        assert_eq!(
            parse_value("${request.body.items[1].id}"),
            vec![Piece::RequestBody(JsonPath(vec![
                Step::Member("items".into()),
                Step::Index(1),
                Step::Member("id".into())
            ]))]
        );
        assert_eq!(parse_value("$request.body."), vec![Piece::Unsupported]);
    }

    #[test]
    fn body_paths() {
        let body = serde_json::json!({"a": {"b": [1, {"c": "x"}]}, "n": 5, "k.j": true});
        let text = |p: &str| JsonPath::parse(p).and_then(|p| p.text(&body));
        assert_eq!(text("a.b[1].c").as_deref(), Some("x"));
        assert_eq!(text("$.n").as_deref(), Some("5"));
        assert_eq!(text("a.b").as_deref(), Some(r#"[1,{"c":"x"}]"#));
        assert_eq!(
            text("['k.j']").as_deref(),
            None,
            "a quoted member holding a dot is not read"
        );
        assert_eq!(text("a.missing"), None);
        assert_eq!(text("a.b[9]"), None);
        assert!(JsonPath::parse("a[1").is_none());
    }

    #[test]
    fn keys() {
        let m = compile_mappings(&BTreeMap::from([
            ("append:header.x-a".to_string(), "1".to_string()),
            ("overwrite:statuscode".to_string(), "204".to_string()),
            ("remove:querystring.q".to_string(), "''".to_string()),
            ("nonsense".to_string(), "x".to_string()),
        ]));
        assert_eq!(m.len(), 3);
        assert!(m.iter().any(|m| m.target == Target::StatusCode));
    }
}
