//! JSON documents as a flat tape: one pass validates the text (exactly what
//! `serde_json::from_str` accepts) and records each value as one [`Tok`] in document order,
//! a container followed by its contents. Strings are slices of the text, or of one buffer
//! of the tape when they have escapes; objects are searched where they lie. A render
//! parses its body into two allocations instead of a tree of them.
//!
//! Repeated keys behave as serde_json's `preserve_order` map: first position, last value.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

/// One value of a tape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Tok<'a> {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer above `i64::MAX` (serde_json's `u64` numbers).
    UInt(u64),
    Float(f64),
    /// A string without escapes: the text between the quotes.
    Str(&'a str),
    /// A string with escapes: where its decoded text is in the tape's `text`.
    Esc(usize, usize),
    /// `end` is the position after the container's last token; `len` counts its items, or
    /// its members (key and value tokens) as written, repeats included.
    Array {
        end: usize,
        len: usize,
    },
    /// `repeats` is false when no key can repeat (checked cheaply while parsing, so it
    /// may be true for an object without repeats): lookups then stop at the first match.
    Object {
        end: usize,
        len: usize,
        repeats: bool,
    },
}

/// A parsed document.
#[derive(Debug, Default)]
pub(crate) struct Tape<'a> {
    /// Written only by the parser (`tape_parse`) and the `serde_json` conversions here.
    pub(crate) toks: Vec<Tok<'a>>,
    /// The decoded text of strings with escapes, one after the other.
    pub(crate) text: String,
    /// The members of large objects by key, made on their first lookup.
    sorted: RefCell<HashMap<usize, Sorted>>,
    /// Item positions of large arrays that hold containers, made on their first index.
    positions: RefCell<HashMap<usize, Rc<[usize]>>>,
}

/// A large object's distinct keys in key order: each key's first position (where the
/// member stands) and the position of its last value (the member's value).
type Sorted = Rc<[(usize, usize)]>;

/// Objects this large or larger are searched through a sorted key index, and arrays
/// indexed through a table of their items.
const INDEXED_OBJECT_LEN: usize = 16;

/// A value of a tape: where it is, so copying it is free.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node<'a> {
    tape: &'a Tape<'a>,
    pub at: usize,
}

impl<'a> Tape<'a> {
    pub fn toks(&self) -> &[Tok<'a>] {
        &self.toks
    }

    /// The text of a string token.
    pub fn str(&self, t: Tok<'a>) -> Option<&str> {
        match t {
            Tok::Str(s) => Some(s),
            Tok::Esc(from, to) => self.text.get(from..to),
            _ => None,
        }
    }

    /// An empty tape with room for `n` tokens.
    pub fn with_capacity(n: usize) -> Tape<'a> {
        Tape {
            toks: Vec::with_capacity(n),
            ..Tape::default()
        }
    }

    pub fn root(&'a self) -> Node<'a> {
        Node { tape: self, at: 0 }
    }

    /// A tape of a `serde_json` object (`$context`), borrowing its strings.
    pub fn from_serde(o: &'a serde_json::Map<String, serde_json::Value>) -> Tape<'a> {
        let mut t = Tape {
            // Room for a typical `$context` without growing.
            toks: Vec::with_capacity(64),
            ..Tape::default()
        };
        t.push_object(o);
        t
    }

    /// A tape of any `serde_json` value.
    pub fn of_serde(v: &'a serde_json::Value) -> Tape<'a> {
        let mut t = Tape::default();
        t.push_serde(v);
        t
    }

    fn push_object(&mut self, o: &'a serde_json::Map<String, serde_json::Value>) {
        let at = self.toks.len();
        self.toks.push(Tok::Null);
        for (k, v) in o {
            self.toks.push(Tok::Str(k));
            self.push_serde(v);
        }
        let end = self.toks.len();
        self.toks[at] = Tok::Object {
            end,
            len: o.len(),
            repeats: false,
        };
    }

    fn push_serde(&mut self, v: &'a serde_json::Value) {
        use serde_json::Value as J;
        let tok = match v {
            J::Null => Tok::Null,
            J::Bool(b) => Tok::Bool(*b),
            J::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => Tok::Int(i),
                (None, Some(u)) => Tok::UInt(u),
                _ => Tok::Float(n.as_f64().unwrap_or(0.0)),
            },
            J::String(s) => Tok::Str(s),
            J::Array(a) => {
                let at = self.toks.len();
                self.toks.push(Tok::Null);
                for x in a {
                    self.push_serde(x);
                }
                let end = self.toks.len();
                self.toks[at] = Tok::Array { end, len: a.len() };
                return;
            }
            J::Object(o) => return self.push_object(o),
        };
        self.toks.push(tok);
    }
}

impl<'a> Node<'a> {
    pub fn tok(self) -> Tok<'a> {
        self.tape.toks[self.at]
    }

    fn at(self, at: usize) -> Node<'a> {
        Node { at, ..self }
    }

    pub fn is_array(self) -> bool {
        matches!(self.tok(), Tok::Array { .. })
    }

    pub fn is_object(self) -> bool {
        matches!(self.tok(), Tok::Object { .. })
    }

    /// The position after this value.
    fn end(self) -> usize {
        match self.tok() {
            Tok::Array { end, .. } | Tok::Object { end, .. } => end,
            _ => self.at + 1,
        }
    }

    /// A string's text.
    pub fn text(self) -> Option<&'a str> {
        self.tape.str(self.tok())
    }

    /// The items of an array (none for anything else).
    pub fn items(self) -> impl Iterator<Item = Node<'a>> {
        let (mut at, end) = match self.tok() {
            Tok::Array { end, .. } => (self.at + 1, end),
            _ => (0, 0),
        };
        std::iter::from_fn(move || {
            (at < end).then(|| {
                let n = self.at(at);
                at = n.end();
                n
            })
        })
    }

    /// The number of items of an array, or of distinct keys of an object.
    pub fn len(self) -> usize {
        match self.tok() {
            Tok::Array { len, .. } => len,
            Tok::Object { len, .. } if len >= INDEXED_OBJECT_LEN => self.sorted().len(),
            Tok::Object { repeats: true, .. } if self.has_repeats() => self.members().len(),
            Tok::Object { len, .. } => len,
            _ => 0,
        }
    }

    /// Item `i` of an array.
    pub fn item(self, i: usize) -> Option<Node<'a>> {
        let Tok::Array { end, len } = self.tok() else {
            return None;
        };
        if i >= len {
            return None;
        }
        // Items of one token each are where their index says.
        if end - self.at - 1 == len {
            return Some(self.at(self.at + 1 + i));
        }
        if len < INDEXED_OBJECT_LEN {
            return self.items().nth(i);
        }
        let cached = self.tape.positions.borrow().get(&self.at).cloned();
        let positions = cached.unwrap_or_else(|| {
            let p: Rc<[usize]> = self.items().map(|n| n.at).collect();
            let mut all = self.tape.positions.borrow_mut();
            all.insert(self.at, p.clone());
            p
        });
        positions.get(i).map(|&at| self.at(at))
    }

    /// Key tokens of an object's members as written, repeats included.
    fn keys(self) -> impl Iterator<Item = usize> + 'a {
        let (mut at, end) = match self.tok() {
            Tok::Object { end, .. } => (self.at + 1, end),
            _ => (0, 0),
        };
        let tape = self.tape;
        std::iter::from_fn(move || {
            (at < end).then(|| {
                let k = at;
                at = Node { tape, at: k + 1 }.end();
                k
            })
        })
    }

    fn key(self, k: usize) -> &'a str {
        self.at(k).text().unwrap_or_default()
    }

    /// The value of member `key` of an object (the last one when the key repeats).
    pub fn get(self, key: &str) -> Option<Node<'a>> {
        // The usual small object, members all scalars and no key repeated, inline: keys
        // at every other token, no values to step over, the first match the value.
        if let Tok::Object {
            end,
            len,
            repeats: false,
        } = self.tok()
        {
            if len < INDEXED_OBJECT_LEN && end - self.at - 1 == 2 * len {
                let members = self.tape.toks.get(self.at + 1..end).unwrap_or_default();
                let i = members.chunks_exact(2).position(|m| match m[0] {
                    Tok::Str(k) => same(k, key),
                    t => self.tape.str(t) == Some(key),
                });
                return i.map(|i| self.at(self.at + 2 + 2 * i));
            }
        }
        self.find(key)
    }

    #[inline(never)]
    fn find(self, key: &str) -> Option<Node<'a>> {
        let Tok::Object {
            len, repeats, end, ..
        } = self.tok()
        else {
            return None;
        };
        if len >= INDEXED_OBJECT_LEN {
            let sorted = self.sorted();
            let i = sorted.partition_point(|&(k, _)| self.key(k) < key);
            return sorted
                .get(i)
                .filter(|&&(k, _)| self.key(k) == key)
                .map(|&(_, v)| self.at(v));
        }
        let toks = &self.tape.toks;
        // Members all scalars: keys at every other token; the last match is the value.
        if end - self.at - 1 == 2 * len {
            let members = toks.get(self.at + 1..end).unwrap_or_default();
            let is_key = |m: &[Tok<'a>]| match m[0] {
                Tok::Str(k) => same(k, key),
                t => self.tape.str(t) == Some(key),
            };
            let i = if repeats {
                members.chunks_exact(2).rposition(is_key)
            } else {
                members.chunks_exact(2).position(is_key)
            };
            return i.map(|i| self.at(self.at + 2 + 2 * i));
        }
        let (mut k, mut found) = (self.at + 1, None);
        while let Some(&t) = toks.get(k) {
            let v = k + 1;
            let hit = match t {
                Tok::Str(k) => same(k, key),
                _ => self.tape.str(t) == Some(key),
            };
            if hit {
                found = Some(self.at(v));
                if !repeats {
                    break;
                }
            }
            // Keys follow values until the object's end, where a value or the end follows.
            k = match toks.get(v) {
                Some(Tok::Array { end, .. } | Tok::Object { end, .. }) => *end,
                _ => v + 1,
            };
            if k >= end {
                break;
            }
        }
        found
    }

    /// See [`Sorted`].
    fn sorted(self) -> Sorted {
        if let Some(s) = self.tape.sorted.borrow().get(&self.at) {
            return s.clone();
        }
        let mut keys: Vec<(&str, usize)> = self.keys().map(|k| (self.key(k), k)).collect();
        // Stable: a repeated key's positions stay in document order.
        keys.sort_by(|a, b| a.0.cmp(b.0));
        let sorted: Sorted = keys
            .chunk_by(|a, b| a.0 == b.0)
            .map(|run| (run[0].1, run[run.len() - 1].1 + 1))
            .collect();
        self.tape
            .sorted
            .borrow_mut()
            .insert(self.at, sorted.clone());
        sorted
    }

    fn has_repeats(self) -> bool {
        let Tok::Object {
            len, repeats: true, ..
        } = self.tok()
        else {
            return false;
        };
        if len >= INDEXED_OBJECT_LEN {
            return self.sorted().len() < len;
        }
        let keys: Vec<usize> = self.keys().collect();
        keys.iter()
            .enumerate()
            .any(|(i, &k)| keys[..i].iter().any(|&e| self.key(e) == self.key(k)))
    }

    /// An object's members in document order, a repeated key at its first position with
    /// its last value.
    pub fn members(self) -> Vec<(&'a str, Node<'a>)> {
        if matches!(self.tok(), Tok::Object { len, .. } if len >= INDEXED_OBJECT_LEN)
            && self.has_repeats()
        {
            let mut kept = self.sorted().to_vec();
            kept.sort_unstable();
            return kept
                .into_iter()
                .map(|(k, v)| (self.key(k), self.at(v)))
                .collect();
        }
        let mut entries: Vec<_> = self.keys().map(|k| (self.key(k), self.at(k + 1))).collect();
        if self.has_repeats() {
            dedupe(&mut entries);
        }
        entries
    }
}

impl Node<'_> {
    /// The same value as an owned `serde_json` value.
    pub fn to_serde(self) -> serde_json::Value {
        use serde_json::Value as J;
        match self.tok() {
            Tok::Null => J::Null,
            Tok::Bool(b) => J::Bool(b),
            Tok::Int(i) => J::from(i),
            Tok::UInt(u) => J::from(u),
            Tok::Float(f) => serde_json::Number::from_f64(f).map_or(J::Null, J::Number),
            Tok::Str(_) | Tok::Esc(..) => J::String(self.text().unwrap_or_default().into()),
            Tok::Array { .. } => J::Array(self.items().map(Node::to_serde).collect()),
            Tok::Object { .. } => J::Object(
                self.members()
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_serde()))
                    .collect(),
            ),
        }
    }
}

/// Keeps each key's first position and gives it the key's last value.
pub(crate) fn dedupe<K: PartialEq, V>(entries: &mut Vec<(K, V)>) {
    let mut i = 1;
    while i < entries.len() {
        if let Some(first) = entries[..i].iter().position(|(k, _)| *k == entries[i].0) {
            let (_, v) = entries.remove(i);
            entries[first].1 = v;
        } else {
            i += 1;
        }
    }
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

/// String equality, inline: keys are short and mostly differ in length or first byte,
/// where a `memcmp` call costs more than the comparison.
#[inline(always)]
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    // 4 to 8 bytes: the first four and the last four (overlapping) cover them all.
    if (4..=8).contains(&n) {
        let word = |s: &[u8], at: usize| s.get(at..at + 4).and_then(|w| w.try_into().ok());
        let (a0, b0): (Option<[u8; 4]>, _) = (word(a, 0), word(b, 0));
        return a0 == b0 && word(a, n - 4) == word(b, n - 4);
    }
    a.iter().zip(b).all(|(x, y)| x == y)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::tape_parse::parse;

    /// The tape, and the tree made from it, read as serde_json (`preserve_order`) reads
    /// the same text.
    pub(crate) fn same_as_serde(src: &str) {
        let theirs = serde_json::from_str::<serde_json::Value>(src);
        let tape = parse(src).map(|t| t.root().to_serde());
        let tree = crate::json::parse(src).map(|n| n.to_serde());
        for ours in [tape, tree] {
            match (&ours, &theirs) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{src:?}"),
                (Err(_), Err(_)) => {}
                _ => panic!("{src:?}: ours {ours:?}, serde_json {theirs:?}"),
            }
        }
    }

    #[test]
    fn repeated_keys_keep_first_place_and_last_value() {
        let many: Vec<String> = (0..40).map(|i| format!("\"k{}\": {i}", i % 25)).collect();
        let large = format!("{{{}}}", many.join(","));
        // The same key spelled with and without escapes is one key.
        let escaped = r#"{"a": 1, "b": 2, "\u0061": 3, "\"": 4, "\u0022": 5}"#;
        for src in [
            &large,
            escaped,
            r#"{"x": {"y": 1, "y": [2]}, "x": {"z": 3}}"#,
        ] {
            same_as_serde(src);
        }
        let t = parse(&large).unwrap();
        let o = t.root();
        assert_eq!(o.len(), 25);
        assert_eq!(o.get("k3").map(|n| n.tok()), Some(Tok::Int(28)));
        assert_eq!(o.get("k24").map(|n| n.tok()), Some(Tok::Int(24)));
        assert!(o.get("k25").is_none());
        let t = parse(escaped).unwrap();
        let o = t.root();
        assert_eq!(o.len(), 3);
        assert_eq!(o.get("a").map(|n| n.tok()), Some(Tok::Int(3)));
        assert_eq!(o.get("\"").map(|n| n.tok()), Some(Tok::Int(5)));
    }

    #[test]
    fn lookups_in_any_order_find_every_member() {
        let src = r#"{"a": 1, "b": [2], "c": {"d": 3, "a": 5}, "e": 4}"#;
        let t = parse(src).unwrap();
        let (o, v) = (
            t.root(),
            serde_json::from_str::<serde_json::Value>(src).unwrap(),
        );
        let inner = o.get("c").unwrap();
        for key in [
            "c", "a", "e", "x", "b", "e", "a", "d", "", "e", "e", "b", "a",
        ] {
            assert_eq!(
                o.get(key).map(|n| n.to_serde()),
                v.get(key).cloned(),
                "{key}"
            );
            // Lookups in another object move the hint away and back.
            assert_eq!(
                inner.get(key).map(|n| n.to_serde()),
                v["c"].get(key).cloned()
            );
        }
        let empty = parse("{}").unwrap();
        assert!(empty.root().get("a").is_none());
    }

    #[test]
    fn items_by_index() {
        let flat: Vec<String> = (0..40).map(|i| i.to_string()).collect();
        let nested: Vec<String> = (0..40).map(|i| format!("[{i}]")).collect();
        for src in [
            format!("[{}]", flat.join(",")),
            format!("[{}]", nested.join(",")),
            "[[1],2,{\"a\":3}]".to_string(),
        ] {
            let t = parse(&src).unwrap();
            let a = t.root();
            let walked: Vec<usize> = a.items().map(|n| n.at).collect();
            let indexed: Vec<usize> = (0..a.len())
                .filter_map(|i| a.item(i))
                .map(|n| n.at)
                .collect();
            assert_eq!(walked, indexed, "{src}");
            assert!(a.item(a.len()).is_none());
        }
    }

    #[test]
    fn large_objects_stay_n_log_n() {
        // One key 20,000 times: a quadratic merge of repeats would take seconds.
        let many: Vec<String> = (0..20_000).map(|i| format!("\"k\": {i}")).collect();
        let src = format!("{{{}, \"z\": 0}}", many.join(","));
        let t = parse(&src).unwrap();
        let o = t.root();
        assert_eq!(o.len(), 2);
        assert_eq!(o.get("k").map(|n| n.tok()), Some(Tok::Int(19_999)));
        let keys: Vec<&str> = o.members().iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["k", "z"]);
    }

    #[test]
    fn strings_are_unescaped_when_read() {
        let t = parse(r#"["plain", "a\nb\/\u00e9\ud83d\ude00"]"#).unwrap();
        let items: Vec<_> = t.root().items().map(|n| n.text().unwrap()).collect();
        assert_eq!(items[0], "plain");
        assert_eq!(items[1], "a\nb/é😀");
    }

    proptest::proptest! {
        // Every length: the byte loop below 4 and above 8, the two words between.
        #[test]
        fn same_is_string_equality(a in "[ab]{0,12}", b in "[ab]{0,12}") {
            proptest::prop_assert_eq!(same(&a, &b), a == b);
            proptest::prop_assert!(same(&a, &a.clone()));
        }
    }

    proptest::proptest! {
        #[test]
        fn numbers_read_as_serde_json_reads_them(i: i64, u: u64, f: f64, e in -400i32..400) {
            for src in [i.to_string(), u.to_string()] {
                same_as_serde(&src);
                same_as_serde(&format!("[{src}]"));
            }
            // Beyond 64 bits numbers are floats, correctly rounded (module docs of `json`)
            // as Rust reads them.
            for src in [format!("{f:e}"), format!("{i}e{e}"), format!("{i}.5"), format!("{i}0"), format!("-{u}")] {
                let ours = parse(&src).map(|t| t.root().to_serde().as_f64());
                match src.parse::<f64>() {
                    Ok(x) if x.is_finite() => proptest::prop_assert_eq!(ours, Ok(Some(x))),
                    _ => proptest::prop_assert!(ours.is_err()),
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn strings_read_back_as_written(s in "([ -~]{0,24}|\\PC|[\\x00-\\x1f])*") {
            let src = serde_json::to_string(&s).unwrap_or_default();
            let t = parse(&src).unwrap();
            proptest::prop_assert_eq!(t.root().text(), Some(s.as_str()));
        }
    }

    #[test]
    fn rejects_what_serde_json_rejects() {
        for src in [
            "{\"a\":1,}",
            "[1,]",
            "\"\\x\"",
            "\"\\ud83d\"",
            "01",
            "[",
            "{\"a\" 1}",
        ] {
            same_as_serde(src);
        }
    }
}
