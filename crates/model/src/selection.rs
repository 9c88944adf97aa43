//! WebSocket APIs' selection expressions (websocket.md §2): route, template, model,
//! integration response and API key selection all share one small language of literal
//! text and variables (`$request.body.action`, `${request.body.a}/${request.body.b}`,
//! `\$default`). Parsed once (the control plane refuses what does not parse, the data
//! plane compiles each expression with the deployment) and evaluated per message.

use serde_json::Value;

/// One step of a body path: a member name or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Member(String),
    Index(usize),
}

/// What a variable reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Variable {
    /// `request.body` followed by a JSONPath of members and indexes (empty: the body).
    Body(Vec<Step>),
    Header(String),
    QueryString(String),
    Context(String),
    StageVariable(String),
    IntegrationStatusCode,
    IntegrationHeader(String),
}

/// A piece of an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Literal(String),
    Variable(Variable),
}

/// A parsed selection expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expression {
    pub pieces: Vec<Piece>,
}

/// Why an expression does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectionError(pub String);

fn is_var_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '[' | ']')
}

fn body_path(rest: &str, whole: &str) -> Result<Vec<Step>, SelectionError> {
    let bad = || SelectionError(format!("Invalid selection expression specified: {whole}"));
    let mut steps = Vec::new();
    if rest.is_empty() {
        return Ok(steps);
    }
    for part in rest.split('.') {
        let (name, mut indexes) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if name.is_empty() && indexes.is_empty() {
            return Err(bad());
        }
        if !name.is_empty() {
            steps.push(Step::Member(name.to_string()));
        }
        while !indexes.is_empty() {
            let close = indexes.find(']').ok_or_else(bad)?;
            let n = indexes[1..close].parse::<usize>().map_err(|_| bad())?;
            steps.push(Step::Index(n));
            indexes = &indexes[close + 1..];
            if !indexes.is_empty() && !indexes.starts_with('[') {
                return Err(bad());
            }
        }
    }
    Ok(steps)
}

fn variable(name: &str, whole: &str) -> Result<Variable, SelectionError> {
    let named = |prefix: &str| {
        name.strip_prefix(prefix)
            .filter(|n| !n.is_empty())
            .map(str::to_string)
    };
    if name == "request.body" {
        return Ok(Variable::Body(Vec::new()));
    }
    if let Some(rest) = name.strip_prefix("request.body.") {
        return body_path(rest, whole).map(Variable::Body);
    }
    if name == "integration.response.statuscode" {
        return Ok(Variable::IntegrationStatusCode);
    }
    let found = named("request.header.")
        .map(Variable::Header)
        .or_else(|| named("request.querystring.").map(Variable::QueryString))
        .or_else(|| named("context.").map(Variable::Context))
        .or_else(|| named("stageVariables.").map(Variable::StageVariable))
        .or_else(|| named("integration.response.header.").map(Variable::IntegrationHeader))
        .or_else(|| {
            named("integration.response.multivalueheader.").map(Variable::IntegrationHeader)
        });
    found.ok_or_else(|| SelectionError(format!("Invalid selection expression specified: {whole}")))
}

impl Expression {
    /// Parses `text`. The whole expression `$default` is the literal `$default` (route
    /// response and template selection use it so).
    pub fn parse(text: &str) -> Result<Expression, SelectionError> {
        let mut pieces = Vec::new();
        if text == crate::v2::DEFAULT {
            pieces.push(Piece::Literal(text.to_string()));
            return Ok(Expression { pieces });
        }
        let mut literal = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if let Some(after) = rest.strip_prefix("\\$") {
                literal.push('$');
                rest = after;
                continue;
            }
            if c != '$' {
                literal.push(c);
                rest = &rest[c.len_utf8()..];
                continue;
            }
            let (name, after) = if let Some(braced) = rest.strip_prefix("${") {
                let close = braced.find('}').ok_or_else(|| {
                    SelectionError(format!("Invalid selection expression specified: {text}"))
                })?;
                (&braced[..close], &braced[close + 1..])
            } else {
                let body = &rest[1..];
                let end = body.find(|c| !is_var_char(c)).unwrap_or(body.len());
                (&body[..end], &body[end..])
            };
            if !literal.is_empty() {
                pieces.push(Piece::Literal(std::mem::take(&mut literal)));
            }
            pieces.push(Piece::Variable(variable(name, text)?));
            rest = after;
        }
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        Ok(Expression { pieces })
    }

    /// The expression's value; `read` answers each variable (`None`: empty string).
    pub fn evaluate(&self, mut read: impl FnMut(&Variable) -> Option<String>) -> String {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Literal(l) => out.push_str(l),
                Piece::Variable(v) => out.push_str(read(v).as_deref().unwrap_or("")),
            }
        }
        out
    }

    /// Whether any variable reads the message body (then it must be parsed as JSON).
    pub fn reads_body(&self) -> bool {
        self.pieces
            .iter()
            .any(|p| matches!(p, Piece::Variable(Variable::Body(_))))
    }
}

/// The value at `steps` in `body` as a selection key: strings as they are, other scalars
/// as JSON text, arrays as `[a, b]`, missing or `null` as `None`.
pub fn body_value(body: &Value, steps: &[Step]) -> Option<String> {
    let mut at = body;
    for s in steps {
        at = match s {
            Step::Member(m) => at.get(m.as_str())?,
            Step::Index(i) => at.get(*i)?,
        };
    }
    Some(scalar_text(at)).filter(|_| !at.is_null())
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(scalar_text).collect();
            format!("[{}]", inner.join(", "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(expr: &str, body: &str) -> String {
        let body: Value = serde_json::from_str(body).unwrap();
        Expression::parse(expr).unwrap().evaluate(|v| match v {
            Variable::Body(steps) => body_value(&body, steps),
            _ => None,
        })
    }

    #[test]
    fn websocket_md_section_2_examples() {
        let m = r#"{"service":"chat","action":"join","data":{"room":"r1"}}"#;
        assert_eq!(eval("$request.body.action", m), "join");
        assert_eq!(eval("${request.body.action}", m), "join");
        assert_eq!(
            eval("${request.body.service}/${request.body.action}", m),
            "chat/join"
        );
        assert_eq!(eval("$request.body.data.room", m), "r1");
        assert_eq!(
            eval("${request.body.action}-${request.body.nope}", m),
            "join-"
        );
        assert_eq!(eval("action", m), "action");
        assert_eq!(eval("\\$default", m), "$default");
        assert_eq!(eval("$default", m), "$default");
        assert_eq!(eval("$request.body.a[1]", r#"{"a":[1,"x"]}"#), "x");
        assert_eq!(eval("$request.body.a", r#"{"a":["i1","i2"]}"#), "[i1, i2]");
        assert_eq!(eval("$request.body.n", r#"{"n":3}"#), "3");
    }

    #[test]
    fn refusals() {
        for bad in [
            "$request.nope",
            "${request.body.a",
            "$foo",
            "$request.body.a[x]",
            "$request.header.",
        ] {
            assert!(Expression::parse(bad).is_err(), "{bad}");
        }
        assert!(Expression::parse("${integration.response.statuscode}").is_ok());
        assert!(Expression::parse("$request.header.x-api-key").is_ok());
    }
}
