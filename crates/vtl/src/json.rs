//! JSON documents read in place. A request body is parsed once per render into [`Node`]s
//! that borrow their strings from the body text (only strings with escapes are copied), so
//! `$input.path`/`$input.json` read it without building maps; the engine copies a node
//! only when a template changes it.
//!
//! Accepts exactly what `serde_json::from_str` accepts (RFC 8259, nesting up to 127 levels),
//! with the same number kinds and the same handling of repeated keys (first position,
//! last value), so switching a caller from `serde_json::Value` changes no output. One
//! difference: floats are correctly rounded (as Java's parser does), where serde_json
//! without its `float_roundtrip` feature can be one unit in the last place off.

use std::borrow::Cow;
use std::fmt;

/// One JSON value of a parsed document.
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer above `i64::MAX` (serde_json's `u64` numbers).
    UInt(u64),
    Float(f64),
    Str(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    Object(Object<'a>),
}

/// Objects this large or larger get a sorted key index instead of a linear scan.
const INDEXED_OBJECT_LEN: usize = 16;

/// A JSON object: members in document order, keys unique.
#[derive(Debug, Clone, Default)]
pub struct Object<'a> {
    entries: Vec<(Cow<'a, str>, Node<'a>)>,
    /// Positions of `entries` sorted by key, for large objects only (boxed: most objects
    /// are small, and a smaller node makes parsing cheaper).
    sorted: Option<Box<[u32]>>,
}

impl PartialEq for Object<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl<'a> Object<'a> {
    /// Builds an object from members in document order; a repeated key keeps its first
    /// position and takes its last value (what serde_json's `preserve_order` map does).
    pub fn from_entries(mut entries: Vec<(Cow<'a, str>, Node<'a>)>) -> Object<'a> {
        if entries.len() < INDEXED_OBJECT_LEN {
            let mut i = 1;
            while i < entries.len() {
                if let Some(first) = entries[..i].iter().position(|(k, _)| *k == entries[i].0) {
                    let (_, v) = entries.remove(i);
                    entries[first].1 = v;
                } else {
                    i += 1;
                }
            }
            return Object {
                entries,
                sorted: None,
            };
        }
        let mut sorted = sorted_positions(&entries);
        let has_repeats = sorted
            .windows(2)
            .any(|w| entries[w[0] as usize].0 == entries[w[1] as usize].0);
        if has_repeats {
            // In each run of equal keys (positions ascending), the first keeps its place
            // and receives the value of the last; the others are dropped.
            let mut keep = vec![true; entries.len()];
            let mut run = 0;
            while run < sorted.len() {
                let mut end = run + 1;
                while end < sorted.len()
                    && entries[sorted[end] as usize].0 == entries[sorted[run] as usize].0
                {
                    end += 1;
                }
                if end - run > 1 {
                    let first = sorted[run] as usize;
                    let last = sorted[end - 1] as usize;
                    let v = std::mem::replace(&mut entries[last].1, Node::Null);
                    entries[first].1 = v;
                    for &p in &sorted[run + 1..end] {
                        keep[p as usize] = false;
                    }
                }
                run = end;
            }
            let mut k = keep.into_iter();
            entries.retain(|_| k.next().unwrap_or(true));
            sorted = sorted_positions(&entries);
        }
        Object {
            entries,
            sorted: Some(sorted.into_boxed_slice()),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        let Some(sorted) = &self.sorted else {
            return self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        };
        sorted
            .binary_search_by(|&p| (*self.entries[p as usize].0).cmp(key))
            .ok()
            .map(|i| &self.entries[sorted[i] as usize].1)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&str, &Node<'a>)> {
        self.entries.iter().map(|(k, v)| (&**k, v))
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Node<'a>> {
        self.entries.iter().map(|(_, v)| v)
    }
}

fn sorted_positions(entries: &[(Cow<'_, str>, Node<'_>)]) -> Vec<u32> {
    let mut sorted: Vec<u32> = (0..entries.len() as u32).collect();
    // Stable: equal keys stay in document order.
    sorted.sort_by(|&a, &b| entries[a as usize].0.cmp(&entries[b as usize].0));
    sorted
}

/// Why a text is not JSON, with the byte offset of the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub offset: usize,
    pub message: &'static str,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.message, self.offset)
    }
}

impl std::error::Error for JsonError {}

/// Deepest nesting of arrays and objects: serde_json's limit (128 levels refused).
const MAX_NESTING: usize = 127;

/// Parses a whole JSON text (surrounding whitespace allowed).
pub fn parse(src: &str) -> Result<Node<'_>, JsonError> {
    let mut p = JsonParser {
        src,
        b: src.as_bytes(),
        pos: 0,
        depth: 0,
        items: Vec::new(),
        members: Vec::new(),
    };
    p.ws();
    let v = p.value()?;
    p.ws();
    if p.pos != p.b.len() {
        return p.err("trailing characters");
    }
    Ok(v)
}

/// Bytes that end a run of plain string content.
static SPECIAL_IN_STRING: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

struct JsonParser<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    depth: usize,
    /// Items and members of the containers being parsed, innermost last: each container
    /// takes its own off the top when it closes, into a vector of exactly its size.
    items: Vec<Node<'a>>,
    members: Vec<(Cow<'a, str>, Node<'a>)>,
}

impl<'a> JsonParser<'a> {
    fn err<T>(&self, message: &'static str) -> Result<T, JsonError> {
        Err(JsonError {
            offset: self.pos,
            message,
        })
    }

    fn ws(&mut self) {
        while matches!(self.b.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &str, v: Node<'a>) -> Result<Node<'a>, JsonError> {
        if self.b[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(v)
        } else {
            self.err("expected a value")
        }
    }

    fn value(&mut self) -> Result<Node<'a>, JsonError> {
        match self.b.get(self.pos) {
            None => self.err("unexpected end of input"),
            Some(b'n') => self.literal("null", Node::Null),
            Some(b't') => self.literal("true", Node::Bool(true)),
            Some(b'f') => self.literal("false", Node::Bool(false)),
            Some(b'"') => Ok(Node::Str(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') => {
                self.nest()?;
                self.pos += 1;
                let start = self.items.len();
                self.ws();
                if self.b.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                } else {
                    loop {
                        self.ws();
                        let v = self.value()?;
                        self.items.push(v);
                        self.ws();
                        match self.b.get(self.pos) {
                            Some(b',') => self.pos += 1,
                            Some(b']') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return self.err("expected ',' or ']'"),
                        }
                    }
                }
                self.depth -= 1;
                Ok(Node::Array(self.items.drain(start..).collect()))
            }
            Some(b'{') => {
                self.nest()?;
                self.pos += 1;
                let start = self.members.len();
                self.ws();
                if self.b.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                } else {
                    loop {
                        self.ws();
                        if self.b.get(self.pos) != Some(&b'"') {
                            return self.err("expected a key");
                        }
                        let k = self.string()?;
                        self.ws();
                        if self.b.get(self.pos) != Some(&b':') {
                            return self.err("expected ':'");
                        }
                        self.pos += 1;
                        self.ws();
                        let v = self.value()?;
                        self.members.push((k, v));
                        self.ws();
                        match self.b.get(self.pos) {
                            Some(b',') => self.pos += 1,
                            Some(b'}') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return self.err("expected ',' or '}'"),
                        }
                    }
                }
                self.depth -= 1;
                let entries = self.members.drain(start..).collect();
                Ok(Node::Object(Object::from_entries(entries)))
            }
            Some(_) => self.err("expected a value"),
        }
    }

    fn nest(&mut self) -> Result<(), JsonError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return self.err("recursion limit exceeded");
        }
        Ok(())
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.b.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Node<'a>, JsonError> {
        let start = self.pos;
        let negative = self.b[self.pos] == b'-';
        if negative {
            self.pos += 1;
        }
        match self.b.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return self.err("invalid number"),
        }
        let mut float = false;
        if self.b.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return self.err("invalid number");
            }
            float = true;
        }
        if matches!(self.b.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.b.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return self.err("invalid number");
            }
            float = true;
        }
        let text = &self.src[start..self.pos];
        if !float {
            if let Ok(i) = text.parse::<i64>() {
                // serde_json reads `-0` as the float -0.0.
                if i == 0 && negative {
                    return Ok(Node::Float(-0.0));
                }
                return Ok(Node::Int(i));
            }
            if !negative {
                if let Ok(u) = text.parse::<u64>() {
                    return Ok(Node::UInt(u));
                }
            }
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Node::Float(f)),
            _ => Err(JsonError {
                offset: start,
                message: "number out of range",
            }),
        }
    }

    /// A string at `"`: borrowed from the source unless it has escapes.
    fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        self.pos += 1;
        let start = self.pos;
        self.skip_plain();
        match self.b.get(self.pos) {
            None => return self.err("unterminated string"),
            Some(b'"') => {
                let s = &self.src[start..self.pos];
                self.pos += 1;
                return Ok(Cow::Borrowed(s));
            }
            Some(b'\\') => {}
            Some(_) => return self.err("control character in string"),
        }
        let mut out = String::with_capacity(self.pos - start + 16);
        out.push_str(&self.src[start..self.pos]);
        loop {
            let seg = self.pos;
            self.skip_plain();
            out.push_str(&self.src[seg..self.pos]);
            match self.b.get(self.pos) {
                None => return self.err("unterminated string"),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let Some(&e) = self.b.get(self.pos) else {
                        return self.err("unterminated string");
                    };
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => out.push(self.unicode_escape()?),
                        _ => return self.err("invalid escape"),
                    }
                }
                Some(_) => return self.err("control character in string"),
            }
        }
    }

    /// Moves past string content that needs no attention (not `"`, `\\` or a control
    /// character).
    fn skip_plain(&mut self) {
        self.pos += self.b[self.pos..]
            .iter()
            .position(|&c| SPECIAL_IN_STRING[c as usize])
            .unwrap_or(self.b.len() - self.pos);
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let Some(h) = self.b.get(self.pos..self.pos + 4) else {
            return self.err("invalid \\u escape");
        };
        let mut n = 0;
        for &c in h {
            let d = (c as char).to_digit(16);
            let Some(d) = d else {
                return self.err("invalid \\u escape");
            };
            n = n * 16 + d;
        }
        self.pos += 4;
        Ok(n)
    }

    /// After `\u`: one code point, joining a surrogate pair; lone surrogates are errors.
    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let hi = self.hex4()?;
        let cp = match hi {
            0xD800..=0xDBFF => {
                if !self.b[self.pos..].starts_with(b"\\u") {
                    return self.err("lone leading surrogate in hex escape");
                }
                self.pos += 2;
                let lo = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return self.err("lone leading surrogate in hex escape");
                }
                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
            }
            0xDC00..=0xDFFF => return self.err("lone trailing surrogate in hex escape"),
            cp => cp,
        };
        char::from_u32(cp).map_or_else(|| self.err("invalid \\u escape"), Ok)
    }
}

impl<'a> Node<'a> {
    /// A view of a `serde_json` value that borrows its strings.
    pub fn from_serde(v: &'a serde_json::Value) -> Node<'a> {
        use serde_json::Value as J;
        match v {
            J::Null => Node::Null,
            J::Bool(b) => Node::Bool(*b),
            J::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => Node::Int(i),
                (None, Some(u)) => Node::UInt(u),
                _ => Node::Float(n.as_f64().unwrap_or(0.0)),
            },
            J::String(s) => Node::Str(Cow::Borrowed(s)),
            J::Array(a) => Node::Array(a.iter().map(Node::from_serde).collect()),
            J::Object(o) => Node::Object(Node::object_from_serde(o)),
        }
    }

    pub fn object_from_serde(o: &'a serde_json::Map<String, serde_json::Value>) -> Object<'a> {
        Object::from_entries(
            o.iter()
                .map(|(k, v)| (Cow::Borrowed(k.as_str()), Node::from_serde(v)))
                .collect(),
        )
    }

    /// The same value as an owned `serde_json` value.
    pub fn to_serde(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Node::Null => J::Null,
            Node::Bool(b) => J::Bool(*b),
            Node::Int(i) => J::from(*i),
            Node::UInt(u) => J::from(*u),
            Node::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Node::Str(s) => J::String(s.to_string()),
            Node::Array(a) => J::Array(a.iter().map(Node::to_serde).collect()),
            Node::Object(o) => J::Object(
                o.iter()
                    .map(|(k, v)| (k.to_string(), v.to_serde()))
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_as_serde(src: &str) {
        let ours = parse(src).map(|n| n.to_serde());
        let theirs = serde_json::from_str::<serde_json::Value>(src);
        match (&ours, &theirs) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{src:?}"),
            (Err(_), Err(_)) => {}
            _ => panic!("{src:?}: ours {ours:?}, serde_json {theirs:?}"),
        }
    }

    #[test]
    fn agrees_with_serde_json() {
        for src in [
            "{}",
            "[]",
            " {\"a\": [1, -2, 3.5, -0, 0.0, 1e2, 1E-2, true, false, null]} ",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775809",
            "1e400",
            "1e-400",
            "01",
            "1.",
            "-",
            ".5",
            "\"\\ud83d\\ude00\"",
            "\"\\ud83d\"",
            "\"\\ude00\"",
            "\"\\u00e9\\n\\/\"",
            "\"a\u{1}\"",
            "\"\\x\"",
            "{\"a\":1,}",
            "[1,]",
            "{\"a\" 1}",
            "nul",
            "true false",
            "{\"a\":1,\"b\":2,\"a\":3}",
        ] {
            same_as_serde(src);
        }
    }

    #[test]
    fn nesting_limit_matches_serde_json() {
        for depth in [127, 128, 129] {
            same_as_serde(&format!("{}{}", "[".repeat(depth), "]".repeat(depth)));
        }
    }

    #[test]
    fn repeated_keys_keep_first_place_and_last_value() {
        let many: Vec<String> = (0..40).map(|i| format!("\"k{}\": {i}", i % 25)).collect();
        let src = format!("{{{}}}", many.join(","));
        same_as_serde(&src);
        let Ok(Node::Object(o)) = parse(&src) else {
            panic!("object expected");
        };
        assert_eq!(o.len(), 25);
        assert_eq!(o.get("k3"), Some(&Node::Int(28)));
        assert_eq!(o.get("k24"), Some(&Node::Int(24)));
        assert_eq!(o.get("k25"), None);
    }

    #[test]
    fn unescaped_strings_are_borrowed() {
        let Ok(Node::Object(o)) = parse(r#"{"plain": "text", "esc": "a\nb"}"#) else {
            panic!("object expected");
        };
        assert!(matches!(
            o.get("plain"),
            Some(Node::Str(Cow::Borrowed("text")))
        ));
        assert!(matches!(o.get("esc"), Some(Node::Str(Cow::Owned(s))) if s == "a\nb"));
    }
}
