//! JSON documents as trees of [`Node`]s that borrow their strings from the text (only
//! strings with escapes are copied). The engine itself reads the body as a flat tape
//! (`tape.rs`), from which these trees are made.
//!
//! Accepts exactly what `serde_json::from_str` accepts (RFC 8259, nesting up to 127 levels),
//! with the same number kinds and the same handling of repeated keys (first position,
//! last value), so switching a caller from `serde_json::Value` changes no output. One
//! difference: floats are correctly rounded (as Java's parser does), where serde_json
//! without its `float_roundtrip` feature can be one unit in the last place off.

use crate::tape::{dedupe, Tape, Tok};
use std::borrow::Cow;

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
            dedupe(&mut entries);
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

pub use crate::tape::JsonError;

/// Parses a whole JSON text (surrounding whitespace allowed).
pub fn parse(src: &str) -> Result<Node<'_>, JsonError> {
    let tape = crate::tape_parse::parse(src)?;
    Ok(tree(&tape, &mut 0))
}

/// A string of a tape: borrowed from the text unless it has escapes.
fn text<'a>(tape: &Tape<'a>, t: Tok<'a>) -> Cow<'a, str> {
    match t {
        Tok::Str(s) => Cow::Borrowed(s),
        _ => Cow::Owned(tape.str(t).unwrap_or_default().to_string()),
    }
}

/// The value at `*at` of a tape, as a tree; moves `*at` past it.
fn tree<'a>(tape: &Tape<'a>, at: &mut usize) -> Node<'a> {
    let toks = tape.toks();
    let t = toks[*at];
    *at += 1;
    match t {
        Tok::Null => Node::Null,
        Tok::Bool(b) => Node::Bool(b),
        Tok::Int(i) => Node::Int(i),
        Tok::UInt(u) => Node::UInt(u),
        Tok::Float(f) => Node::Float(f),
        Tok::Str(_) | Tok::Esc(..) => Node::Str(text(tape, t)),
        Tok::Array { end, len } => {
            let mut items = Vec::with_capacity(len);
            while *at < end {
                items.push(tree(tape, at));
            }
            Node::Array(items)
        }
        Tok::Object { end, len, .. } => {
            let mut entries = Vec::with_capacity(len);
            while *at < end {
                let key = text(tape, toks[*at]);
                *at += 1;
                entries.push((key, tree(tape, at)));
            }
            Node::Object(Object::from_entries(entries))
        }
    }
}

impl<'a> Node<'a> {
    /// A view of a `serde_json` value that borrows its strings.
    pub fn from_serde(v: &'a serde_json::Value) -> Node<'a> {
        tree(&Tape::of_serde(v), &mut 0)
    }

    pub fn object_from_serde(o: &'a serde_json::Map<String, serde_json::Value>) -> Object<'a> {
        match tree(&Tape::from_serde(o), &mut 0) {
            Node::Object(o) => o,
            _ => Object::default(),
        }
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
    use crate::tape::tests::same_as_serde;

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
    fn serde_values_are_viewed_as_they_are() {
        let v: serde_json::Value = serde_json::from_str(
            r#"{"a": [1, -2, 2.5, 18446744073709551615, null, true], "b": {"c": "d"}}"#,
        )
        .unwrap_or_default();
        assert_eq!(Node::from_serde(&v).to_serde(), v);
        let serde_json::Value::Object(o) = &v else {
            panic!("object expected");
        };
        assert_eq!(Node::Object(Node::object_from_serde(o)).to_serde(), v);
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
