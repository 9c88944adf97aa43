//! The tape's parser: one pass over the text, one token per value (module `tape`).

use crate::scan;
use crate::tape::{JsonError, Tape, Tok};

/// Deepest nesting of arrays and objects: serde_json's limit (128 levels refused).
const MAX_NESTING: usize = 127;

/// Parses a whole JSON text (surrounding whitespace allowed).
pub(crate) fn parse(src: &str) -> Result<Tape<'_>, JsonError> {
    let mut p = Parser {
        src,
        b: src.as_bytes(),
        pos: 0,
        depth: 0,
        // About one token per 8 bytes of typical JSON.
        tape: Tape::with_capacity((src.len() / 8).min(1 << 16)),
        error: JsonError {
            offset: 0,
            message: "",
        },
    };
    p.ws();
    let parsed = p.value().and_then(|()| {
        p.ws();
        if p.pos == p.b.len() {
            Ok(())
        } else {
            p.err("trailing characters")
        }
    });
    if parsed.is_err() {
        return Err(p.error);
    }
    Ok(p.tape)
}

fn key_hash(raw: &str) -> usize {
    let b = raw.as_bytes();
    let (first, last) = (b.first().copied(), b.last().copied());
    b.len() + 7 * first.unwrap_or(0) as usize + 13 * last.unwrap_or(0) as usize
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

/// A parse that failed; the parser keeps why (a small error type keeps the hot paths'
/// returns in registers).
struct Failed;

type Parsed<T> = Result<T, Failed>;

struct Parser<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    depth: usize,
    tape: Tape<'a>,
    error: JsonError,
}

impl<'a> Parser<'a> {
    fn err<T>(&mut self, message: &'static str) -> Parsed<T> {
        self.error = JsonError {
            offset: self.pos,
            message,
        };
        Err(Failed)
    }

    fn ws(&mut self) {
        while matches!(self.b.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &str, v: Tok<'a>) -> Parsed<Tok<'a>> {
        if self.b[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(v)
        } else {
            self.err("expected a value")
        }
    }

    /// One value: scalars here, containers through calls, so only containers recurse.
    #[inline]
    fn value(&mut self) -> Parsed<()> {
        let tok = match self.b.get(self.pos) {
            Some(b'"') => self.string()?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(b'n') => self.literal("null", Tok::Null)?,
            Some(b't') => self.literal("true", Tok::Bool(true))?,
            Some(b'f') => self.literal("false", Tok::Bool(false))?,
            Some(b'[') => return self.array(),
            Some(b'{') => return self.object(),
            None => return self.err("unexpected end of input"),
            Some(_) => return self.err("expected a value"),
        };
        self.tape.toks.push(tok);
        Ok(())
    }

    #[inline(never)]
    fn array(&mut self) -> Parsed<()> {
        let (at, mut more) = self.open(b']')?;
        let mut len = 0;
        while more {
            self.ws();
            self.value()?;
            len += 1;
            more = !self.close(b']', "expected ',' or ']'")?;
        }
        self.shut(at, |end| Tok::Array { end, len });
        Ok(())
    }

    #[inline(never)]
    fn object(&mut self) -> Parsed<()> {
        let (at, mut more) = self.open(b'}')?;
        let mut len = 0;
        // Keys seen, by a hash of their length and ends: a key whose bit is already set
        // may repeat one.
        let mut seen = 0u64;
        let mut repeats = false;
        while more {
            self.ws();
            if self.b.get(self.pos) != Some(&b'"') {
                return self.err("expected a key");
            }
            let k = self.string()?;
            if let Some(key) = self.tape.str(k) {
                let bit = 1 << (key_hash(key) % 64);
                repeats |= seen & bit != 0;
                seen |= bit;
            }
            self.tape.toks.push(k);
            self.ws();
            if self.b.get(self.pos) != Some(&b':') {
                return self.err("expected ':'");
            }
            self.pos += 1;
            self.ws();
            self.value()?;
            len += 1;
            more = !self.close(b'}', "expected ',' or '}'")?;
        }
        self.shut(at, |end| Tok::Object { end, len, repeats });
        Ok(())
    }

    /// At `[` or `{`: one level deeper and a placeholder token for the container; its
    /// position, and whether items follow (false when `bracket` closes it at once).
    fn open(&mut self, bracket: u8) -> Parsed<(usize, bool)> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return self.err("recursion limit exceeded");
        }
        self.pos += 1;
        self.tape.toks.push(Tok::Null);
        self.ws();
        let empty = self.b.get(self.pos) == Some(&bracket);
        if empty {
            self.pos += 1;
        }
        Ok((self.tape.toks.len() - 1, !empty))
    }

    /// After a container: one level up, and its token in place of the placeholder.
    fn shut(&mut self, at: usize, tok: impl FnOnce(usize) -> Tok<'a>) {
        self.depth -= 1;
        let end = self.tape.toks.len();
        self.tape.toks[at] = tok(end);
    }

    /// After an item: true at the closing bracket, false at a comma.
    fn close(&mut self, bracket: u8, message: &'static str) -> Parsed<bool> {
        self.ws();
        match self.b.get(self.pos) {
            Some(b',') => {
                self.pos += 1;
                Ok(false)
            }
            Some(&c) if c == bracket => {
                self.pos += 1;
                Ok(true)
            }
            _ => self.err(message),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.b.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Parsed<Tok<'a>> {
        let start = self.pos;
        let negative = self.b[self.pos] == b'-';
        if negative {
            self.pos += 1;
        }
        // The integer part's value while it fits in an i64 for sure (18 digits).
        let mut int = 0u64;
        let mut int_digits = 0;
        match self.b.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                while let Some(&c @ b'0'..=b'9') = self.b.get(self.pos) {
                    int = int.wrapping_mul(10).wrapping_add((c - b'0') as u64);
                    int_digits += 1;
                    self.pos += 1;
                }
            }
            _ => return self.err("invalid number"),
        }
        if int_digits <= 18 && !matches!(self.b.get(self.pos), Some(b'.' | b'e' | b'E')) {
            // serde_json reads `-0` as the float -0.0.
            return Ok(match (negative, int) {
                (false, _) => Tok::Int(int as i64),
                (true, 0) => Tok::Float(-0.0),
                (true, _) => Tok::Int(-(int as i64)),
            });
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
                    return Ok(Tok::Float(-0.0));
                }
                return Ok(Tok::Int(i));
            }
            if !negative {
                if let Ok(u) = text.parse::<u64>() {
                    return Ok(Tok::UInt(u));
                }
            }
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Tok::Float(f)),
            _ => {
                self.pos = start;
                self.err("number out of range")
            }
        }
    }

    /// A string at `"`: a slice of the text, or decoded into `text` if it has escapes
    /// (out of line: most strings have none).
    #[inline(always)]
    fn string(&mut self) -> Parsed<Tok<'a>> {
        self.pos += 1;
        let start = self.pos;
        self.skip_plain();
        if self.b.get(self.pos) == Some(&b'"') {
            let s = self.src.get(start..self.pos).unwrap_or_default();
            self.pos += 1;
            return Ok(Tok::Str(s));
        }
        self.escaped(start)
    }

    #[inline(never)]
    fn escaped(&mut self, start: usize) -> Parsed<Tok<'a>> {
        match self.b.get(self.pos) {
            None => return self.err("unterminated string"),
            Some(b'\\') => {}
            Some(_) => return self.err("control character in string"),
        }
        if self.tape.text.capacity() == 0 {
            // Room for the escaped strings of a typical body at once.
            self.tape.text.reserve((self.b.len() - start).min(4096));
        }
        let from = self.tape.text.len();
        self.tape.text.push_str(&self.src[start..self.pos]);
        loop {
            match self.b.get(self.pos) {
                None => return self.err("unterminated string"),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Tok::Esc(from, self.tape.text.len()));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = self.escape()?;
                    self.tape.text.push(c);
                }
                Some(_) => return self.err("control character in string"),
            }
            let seg = self.pos;
            self.skip_plain();
            self.tape.text.push_str(&self.src[seg..self.pos]);
        }
    }

    /// After a backslash: the escaped character.
    fn escape(&mut self) -> Parsed<char> {
        let Some(&e) = self.b.get(self.pos) else {
            return self.err("unterminated string");
        };
        self.pos += 1;
        Ok(match e {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => self.unicode_escape()?,
            _ => return self.err("invalid escape"),
        })
    }

    /// Moves past string content that needs no attention (not `"`, `\\` or a control
    /// character).
    fn skip_plain(&mut self) {
        let mask = |w| scan::below(w, 0x20) | scan::equal(w, b'"') | scan::equal(w, b'\\');
        self.pos = scan::find(self.b, self.pos, mask, |c| SPECIAL_IN_STRING[c as usize]);
    }

    fn hex4(&mut self) -> Parsed<u32> {
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
    fn unicode_escape(&mut self) -> Parsed<char> {
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
        match char::from_u32(cp) {
            Some(c) => Ok(c),
            None => self.err("invalid \\u escape"),
        }
    }
}
