//! A small Jayway-compatible JSONPath subset, as used by `$input.json()`, `$input.path()`
//! and `method.request.body.*`-style mappings.
//!
//! Supported: `$`, `.name`, `['name']`, `['a','b']`, `[n]` (negative from the end), `[a,b]`,
//! `[*]`, `.*`, `[start:end]`, `..name` / `..*` / `..[…]` (recursive descent), and filters
//! `[?(@.k == 'v')]` with `== != < <= > >=`, existence (`[?(@.k)]`), `&&` and `||`.
//! Jayway semantics: a path made only of names and single indexes is *definite* and yields
//! one value (or nothing); any other path yields a list.
//!
//! Paths run over any [`JsonTree`]: `serde_json::Value`, [`crate::json::Node`] and the
//! engine's body tape.

use serde_json::Value;

/// A value of a JSON document a path can walk: a reference or a cursor, cheap to copy.
pub trait JsonTree: Copy {
    /// The member `key` of an object.
    fn member(self, key: &str) -> Option<Self>;
    /// The number of items of an array.
    fn item_count(self) -> Option<usize>;
    /// Item `i` of an array.
    fn item(self, i: usize) -> Option<Self>;
    /// The items of an array, or the member values of an object, in document order.
    fn children(self) -> Vec<Self>;
    fn as_number(self) -> Option<f64>;
    /// Text order against a string, when this is a string.
    fn cmp_text(self, s: &str) -> Option<std::cmp::Ordering>;
    /// Equality with a filter's literal (`[?(@.k == true)]`).
    fn equals(self, literal: &Value) -> bool;
}

impl JsonTree for &Value {
    fn member(self, key: &str) -> Option<Self> {
        self.as_object()?.get(key)
    }
    fn item_count(self) -> Option<usize> {
        self.as_array().map(Vec::len)
    }
    fn item(self, i: usize) -> Option<Self> {
        self.as_array()?.get(i)
    }
    fn children(self) -> Vec<Self> {
        match self {
            Value::Array(a) => a.iter().collect(),
            Value::Object(o) => o.values().collect(),
            _ => Vec::new(),
        }
    }
    fn as_number(self) -> Option<f64> {
        self.as_f64()
    }
    fn cmp_text(self, s: &str) -> Option<std::cmp::Ordering> {
        self.as_str().map(|t| t.cmp(s))
    }
    fn equals(self, literal: &Value) -> bool {
        self == literal
    }
}

impl JsonTree for &crate::json::Node<'_> {
    fn member(self, key: &str) -> Option<Self> {
        match self {
            crate::json::Node::Object(o) => o.get(key),
            _ => None,
        }
    }
    fn item_count(self) -> Option<usize> {
        match self {
            crate::json::Node::Array(a) => Some(a.len()),
            _ => None,
        }
    }
    fn item(self, i: usize) -> Option<Self> {
        match self {
            crate::json::Node::Array(a) => a.get(i),
            _ => None,
        }
    }
    fn children(self) -> Vec<Self> {
        match self {
            crate::json::Node::Array(a) => a.iter().collect(),
            crate::json::Node::Object(o) => o.values().collect(),
            _ => Vec::new(),
        }
    }
    fn as_number(self) -> Option<f64> {
        match self {
            crate::json::Node::Int(i) => Some(*i as f64),
            crate::json::Node::UInt(u) => Some(*u as f64),
            crate::json::Node::Float(f) => Some(*f),
            _ => None,
        }
    }
    fn cmp_text(self, s: &str) -> Option<std::cmp::Ordering> {
        match self {
            crate::json::Node::Str(t) => Some((**t).cmp(s)),
            _ => None,
        }
    }
    fn equals(self, literal: &Value) -> bool {
        self.to_serde() == *literal
    }
}

impl JsonTree for crate::tape::Node<'_> {
    fn member(self, key: &str) -> Option<Self> {
        self.get(key)
    }
    fn item_count(self) -> Option<usize> {
        self.is_array().then(|| self.len())
    }
    fn item(self, i: usize) -> Option<Self> {
        crate::tape::Node::item(self, i)
    }
    fn children(self) -> Vec<Self> {
        if self.is_object() {
            self.members().into_iter().map(|(_, v)| v).collect()
        } else {
            self.items().collect()
        }
    }
    fn as_number(self) -> Option<f64> {
        use crate::tape::Tok;
        match self.tok() {
            Tok::Int(i) => Some(i as f64),
            Tok::UInt(u) => Some(u as f64),
            Tok::Float(f) => Some(f),
            _ => None,
        }
    }
    fn cmp_text(self, s: &str) -> Option<std::cmp::Ordering> {
        self.text().map(|t| t.cmp(s))
    }
    fn equals(self, literal: &Value) -> bool {
        self.to_serde() == *literal
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Name(String),
    Names(Vec<String>),
    Index(i64),
    Indexes(Vec<i64>),
    Wildcard,
    Slice(Option<i64>, Option<i64>),
    Recursive(Box<Step>),
    Filter(Filter),
}

#[derive(Debug, Clone, PartialEq)]
enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Exists(Vec<Step>),
    Cmp(Vec<Step>, CmpOp, Value),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A compiled JSONPath expression.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    steps: Vec<Step>,
}

/// Result of evaluating a path: definite paths give at most one value, others a list.
#[derive(Debug, PartialEq)]
pub enum Selection<T> {
    Definite(Option<T>),
    List(Vec<T>),
}

impl JsonPath {
    /// Parses a path. Like Jayway, a path that does not start with `$` is taken relative
    /// to the root (`foo.bar` means `$.foo.bar`).
    pub fn parse(src: &str) -> Result<JsonPath, String> {
        let src = src.trim();
        let mut p = PathParser {
            s: src.as_bytes(),
            src,
            pos: 0,
        };
        if p.peek() == Some(b'$') {
            p.pos += 1;
        } else if !src.is_empty() && !src.starts_with('.') && !src.starts_with('[') {
            // Relative path: behave as if `$.` were prepended.
            let first = p.name()?;
            let mut steps = vec![Step::Name(first)];
            steps.extend(p.steps(false)?);
            return Ok(JsonPath { steps });
        }
        let steps = p.steps(false)?;
        Ok(JsonPath { steps })
    }

    /// True when the path can only ever select a single value.
    pub fn is_definite(&self) -> bool {
        self.steps
            .iter()
            .all(|s| matches!(s, Step::Name(_) | Step::Index(_)))
    }

    /// True for `$` alone: the whole document.
    pub fn is_root(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn select<T: JsonTree>(&self, root: T) -> Selection<T> {
        if self.is_definite() {
            // No intermediate lists: a definite path follows one value.
            let mut cur = Some(root);
            for step in &self.steps {
                cur = cur.and_then(|v| match step {
                    Step::Name(n) => v.member(n),
                    Step::Index(i) => item_at(v, *i),
                    _ => None,
                });
            }
            return Selection::Definite(cur);
        }
        Selection::List(eval_steps(&self.steps, root))
    }
}

fn eval_steps<T: JsonTree>(steps: &[Step], root: T) -> Vec<T> {
    let mut cur = vec![root];
    for step in steps {
        let mut next = Vec::new();
        for v in cur {
            apply(step, v, &mut next);
        }
        cur = next;
    }
    cur
}

/// Item `i` of an array, negative counting from the end.
fn item_at<T: JsonTree>(v: T, i: i64) -> Option<T> {
    let len = v.item_count()? as i64;
    let i = if i < 0 { len + i } else { i };
    (0..len).contains(&i).then(|| v.item(i as usize))?
}

fn apply<T: JsonTree>(step: &Step, v: T, out: &mut Vec<T>) {
    match step {
        Step::Name(n) => {
            if let Some(x) = v.member(n) {
                out.push(x);
            }
        }
        Step::Names(ns) => out.extend(ns.iter().filter_map(|n| v.member(n))),
        Step::Index(i) => out.extend(item_at(v, *i)),
        Step::Indexes(is) => out.extend(is.iter().filter_map(|i| item_at(v, *i))),
        Step::Wildcard => out.extend(v.children()),
        Step::Slice(start, end) => {
            if let Some(len) = v.item_count() {
                let len = len as i64;
                let norm = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
                let s = start.map(norm).unwrap_or(0);
                let e = end.map(norm).unwrap_or(len);
                if s < e {
                    let items = v.children();
                    out.extend(&items[s as usize..e as usize]);
                }
            }
        }
        Step::Recursive(inner) => {
            // Depth-first, parent before children, like Jayway's scan.
            let mut stack = vec![v];
            while let Some(node) = stack.pop() {
                apply(inner, node, out);
                stack.extend(node.children().into_iter().rev());
            }
        }
        Step::Filter(f) => out.extend(v.children().into_iter().filter(|x| filter_matches(f, *x))),
    }
}

fn filter_matches<T: JsonTree>(f: &Filter, item: T) -> bool {
    match f {
        Filter::Or(a, b) => filter_matches(a, item) || filter_matches(b, item),
        Filter::And(a, b) => filter_matches(a, item) && filter_matches(b, item),
        Filter::Exists(steps) => !eval_steps(steps, item).is_empty(),
        Filter::Cmp(steps, op, rhs) => {
            let Some(lhs) = eval_steps(steps, item).into_iter().next() else {
                return false;
            };
            compare(lhs, *op, rhs)
        }
    }
}

fn compare<T: JsonTree>(l: T, op: CmpOp, r: &Value) -> bool {
    use std::cmp::Ordering;
    let text_ord = || r.as_str().and_then(|b| l.cmp_text(b));
    let ord = match (l.as_number(), r.as_f64()) {
        (Some(a), Some(b)) => a.partial_cmp(&b),
        _ => text_ord().or_else(|| l.equals(r).then_some(Ordering::Equal)),
    };
    match op {
        CmpOp::Eq => ord == Some(Ordering::Equal),
        CmpOp::Ne => ord != Some(Ordering::Equal),
        CmpOp::Lt => ord == Some(Ordering::Less),
        CmpOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
        CmpOp::Gt => ord == Some(Ordering::Greater),
        CmpOp::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
    }
}

struct PathParser<'a> {
    s: &'a [u8],
    src: &'a str,
    pos: usize,
}

impl PathParser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn err<T>(&self, msg: &str) -> Result<T, String> {
        Err(format!(
            "invalid JSONPath {:?} at {}: {msg}",
            self.src, self.pos
        ))
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// Parses steps until the end (or, inside a filter, until a delimiter).
    fn steps(&mut self, in_filter: bool) -> Result<Vec<Step>, String> {
        let mut steps = Vec::new();
        loop {
            match self.peek() {
                None => break,
                Some(b'.') => {
                    if self.s.get(self.pos + 1) == Some(&b'.') {
                        self.pos += 2;
                        let inner = match self.peek() {
                            Some(b'[') => self.bracket()?,
                            Some(b'*') => {
                                self.pos += 1;
                                Step::Wildcard
                            }
                            _ => Step::Name(self.name()?),
                        };
                        steps.push(Step::Recursive(Box::new(inner)));
                    } else {
                        self.pos += 1;
                        if self.peek() == Some(b'*') {
                            self.pos += 1;
                            steps.push(Step::Wildcard);
                        } else {
                            steps.push(Step::Name(self.name()?));
                        }
                    }
                }
                Some(b'[') => steps.push(self.bracket()?),
                Some(_) if in_filter => break,
                Some(_) => return self.err("unexpected character"),
            }
        }
        Ok(steps)
    }

    fn name(&mut self) -> Result<String, String> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if matches!(
                c,
                b'.' | b'[' | b']' | b' ' | b'=' | b'!' | b'<' | b'>' | b')' | b'&' | b'|'
            ) {
                break;
            }
            self.pos += 1;
        }
        if self.pos == start {
            return self.err("expected a property name");
        }
        Ok(self.src[start..self.pos].to_string())
    }

    fn quoted(&mut self) -> Result<String, String> {
        let q = self.peek().unwrap_or(b'\'');
        self.pos += 1;
        let mut out = String::new();
        let start = self.pos;
        let mut seg = start;
        while let Some(c) = self.peek() {
            if c == b'\\' && self.pos + 1 < self.s.len() {
                out.push_str(&self.src[seg..self.pos]);
                self.pos += 1;
                seg = self.pos;
                self.pos += 1;
                continue;
            }
            if c == q {
                out.push_str(&self.src[seg..self.pos]);
                self.pos += 1;
                return Ok(out);
            }
            self.pos += 1;
        }
        self.err("unterminated quoted name")
    }

    fn int(&mut self) -> Result<i64, String> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.src[start..self.pos]
            .parse()
            .or_else(|_| self.err("expected an integer"))
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            self.err(&format!("expected '{}'", c as char))
        }
    }

    fn bracket(&mut self) -> Result<Step, String> {
        self.pos += 1; // '['
        self.skip_ws();
        let step = match self.peek() {
            Some(b'*') => {
                self.pos += 1;
                Step::Wildcard
            }
            Some(b'?') => {
                self.pos += 1;
                self.expect(b'(')?;
                let f = self.filter_or()?;
                self.expect(b')')?;
                Step::Filter(f)
            }
            Some(b'\'' | b'"') => {
                let mut names = vec![self.quoted()?];
                loop {
                    self.skip_ws();
                    if self.peek() != Some(b',') {
                        break;
                    }
                    self.pos += 1;
                    self.skip_ws();
                    names.push(self.quoted()?);
                }
                if names.len() == 1 {
                    Step::Name(names.pop().unwrap_or_default())
                } else {
                    Step::Names(names)
                }
            }
            Some(b':') => {
                self.pos += 1;
                self.skip_ws();
                let end = if self.peek() == Some(b']') {
                    None
                } else {
                    Some(self.int()?)
                };
                Step::Slice(None, end)
            }
            Some(b'-' | b'0'..=b'9') => {
                let first = self.int()?;
                self.skip_ws();
                match self.peek() {
                    Some(b':') => {
                        self.pos += 1;
                        self.skip_ws();
                        let end = if self.peek() == Some(b']') {
                            None
                        } else {
                            Some(self.int()?)
                        };
                        Step::Slice(Some(first), end)
                    }
                    Some(b',') => {
                        let mut is = vec![first];
                        while self.peek() == Some(b',') {
                            self.pos += 1;
                            self.skip_ws();
                            is.push(self.int()?);
                            self.skip_ws();
                        }
                        Step::Indexes(is)
                    }
                    _ => Step::Index(first),
                }
            }
            _ => return self.err("unexpected character in brackets"),
        };
        self.expect(b']')?;
        Ok(step)
    }

    fn filter_or(&mut self) -> Result<Filter, String> {
        let mut left = self.filter_and()?;
        loop {
            self.skip_ws();
            if self.s[self.pos..].starts_with(b"||") {
                self.pos += 2;
                let right = self.filter_and()?;
                left = Filter::Or(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn filter_and(&mut self) -> Result<Filter, String> {
        let mut left = self.filter_atom()?;
        loop {
            self.skip_ws();
            if self.s[self.pos..].starts_with(b"&&") {
                self.pos += 2;
                let right = self.filter_atom()?;
                left = Filter::And(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn filter_atom(&mut self) -> Result<Filter, String> {
        self.skip_ws();
        if self.peek() == Some(b'(') {
            self.pos += 1;
            let f = self.filter_or()?;
            self.expect(b')')?;
            return Ok(f);
        }
        if self.peek() != Some(b'@') {
            return self.err("expected '@' in filter");
        }
        self.pos += 1;
        let steps = self.steps(true)?;
        self.skip_ws();
        let rest = &self.s[self.pos..];
        let (op, len) = if rest.starts_with(b"==") {
            (CmpOp::Eq, 2)
        } else if rest.starts_with(b"!=") {
            (CmpOp::Ne, 2)
        } else if rest.starts_with(b"<=") {
            (CmpOp::Le, 2)
        } else if rest.starts_with(b">=") {
            (CmpOp::Ge, 2)
        } else if rest.starts_with(b"<") {
            (CmpOp::Lt, 1)
        } else if rest.starts_with(b">") {
            (CmpOp::Gt, 1)
        } else {
            return Ok(Filter::Exists(steps));
        };
        self.pos += len;
        self.skip_ws();
        let rhs = match self.peek() {
            Some(b'\'' | b'"') => Value::String(self.quoted()?),
            _ => {
                let start = self.pos;
                while let Some(c) = self.peek() {
                    if matches!(c, b')' | b' ' | b'&' | b'|') {
                        break;
                    }
                    self.pos += 1;
                }
                match serde_json::from_str::<Value>(&self.src[start..self.pos]) {
                    Ok(v) => v,
                    Err(_) => return self.err("bad filter literal"),
                }
            }
        };
        Ok(Filter::Cmp(steps, op, rhs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sel(path: &str, v: &Value) -> Value {
        match JsonPath::parse(path).unwrap().select(v) {
            Selection::Definite(x) => x.cloned().unwrap_or(Value::Null),
            Selection::List(xs) => Value::Array(xs.into_iter().cloned().collect()),
        }
    }

    fn doc() -> Value {
        json!({"store": {"book": [
            {"title": "A", "price": 8, "tag": "x"},
            {"title": "B", "price": 12},
            {"title": "C", "price": 20, "tag": "y"}
        ], "bicycle": {"price": 19}}, "k": "v", "a b": 1})
    }

    #[test]
    fn root_and_names() {
        let d = doc();
        assert_eq!(sel("$", &d), d);
        assert_eq!(sel("$.k", &d), json!("v"));
        assert_eq!(sel("$['k']", &d), json!("v"));
        assert_eq!(sel("$[\"a b\"]", &d), json!(1));
        assert_eq!(sel("k", &d), json!("v"));
        assert_eq!(sel("$.missing", &d), Value::Null);
        assert_eq!(sel("$.store.bicycle.price", &d), json!(19));
    }

    #[test]
    fn indexes_and_slices() {
        let d = doc();
        assert_eq!(sel("$.store.book[0].title", &d), json!("A"));
        assert_eq!(sel("$.store.book[-1].title", &d), json!("C"));
        assert_eq!(sel("$.store.book[5]", &d), Value::Null);
        assert_eq!(sel("$.store.book[0,2].title", &d), json!(["A", "C"]));
        assert_eq!(sel("$.store.book[1:].title", &d), json!(["B", "C"]));
        assert_eq!(sel("$.store.book[:2].title", &d), json!(["A", "B"]));
        assert_eq!(sel("$.store.book[-2:].title", &d), json!(["B", "C"]));
    }

    #[test]
    fn wildcard_and_recursive() {
        let d = doc();
        assert_eq!(sel("$.store.book[*].title", &d), json!(["A", "B", "C"]));
        assert_eq!(sel("$.store.bicycle.*", &d), json!([19]));
        assert_eq!(sel("$..price", &d), json!([8, 12, 20, 19]));
        assert_eq!(sel("$..book[0].title", &d), json!(["A"]));
        assert!(!JsonPath::parse("$..price").unwrap().is_definite());
        assert!(JsonPath::parse("$.a[0].b").unwrap().is_definite());
    }

    #[test]
    fn filters() {
        let d = doc();
        assert_eq!(
            sel("$.store.book[?(@.price < 15)].title", &d),
            json!(["A", "B"])
        );
        assert_eq!(sel("$.store.book[?(@.tag)].title", &d), json!(["A", "C"]));
        assert_eq!(sel("$.store.book[?(@.tag == 'y')].title", &d), json!(["C"]));
        assert_eq!(
            sel("$.store.book[?(@.price > 10 && @.tag)].title", &d),
            json!(["C"])
        );
        assert_eq!(
            sel("$.store.book[?(@.price < 10 || @.price > 15)].title", &d),
            json!(["A", "C"])
        );
    }

    #[test]
    fn invalid_paths_error() {
        for p in ["$.", "$[", "$['a", "$[?(x)]", "$.a]"] {
            assert!(JsonPath::parse(p).is_err(), "{p}");
        }
    }
}
