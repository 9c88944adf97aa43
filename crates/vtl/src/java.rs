//! Java-flavoured helpers: the text forms and string operations that API Gateway's
//! Java runtime produces, reimplemented so rendered output matches byte for byte.

use crate::scan;
use base64::Engine as _;
use std::fmt::Write as _;

/// `Double.toString`: decimal between 1e-3 and 1e7, otherwise `d.dddE±n`;
/// whole numbers keep a `.0`.
pub fn format_double(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let a = f.abs();
    if (1e-3..1e7).contains(&a) {
        let mut s = format!("{f}");
        if !s.contains('.') {
            s.push_str(".0");
        }
        s
    } else {
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mant = if mant.contains('.') {
            mant.to_string()
        } else {
            format!("{mant}.0")
        };
        format!("{mant}E{exp}")
    }
}

/// Appends the decimal form of `i` (what `write!` does, without the formatting machinery,
/// which costs several times more on the render path).
pub fn push_int(out: &mut String, i: i64) {
    // One or two digits as byte pushes: a copy from a table costs a `memcpy` call.
    if (0..10).contains(&i) {
        out.push((b'0' + i as u8) as char);
        return;
    }
    if (10..100).contains(&i) {
        out.push((b'0' + (i / 10) as u8) as char);
        out.push((b'0' + (i % 10) as u8) as char);
        return;
    }
    let mut buf = [0u8; 20];
    let mut pos = buf.len();
    let mut n = i.unsigned_abs();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        out.push('-');
    }
    // Byte pushes: `from_utf8` on a few digits costs more than the digits themselves.
    out.reserve(buf.len() - pos);
    for &d in &buf[pos..] {
        out.push(d as char);
    }
}

/// Commons-Lang-2 `StringEscapeUtils.escapeJavaScript` (vtl.md §4).
pub fn escape_javascript(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    escape_javascript_into(s, &mut out);
    out
}

/// [`escape_javascript`] appending to `out`; runs of characters that need no escape are
/// copied whole.
pub fn escape_javascript_into(s: &str, out: &mut String) {
    let mask = |w| {
        scan::below(w, 0x20)
            | scan::high(w)
            | scan::equal(w, b'\\')
            | scan::equal(w, b'"')
            | scan::equal(w, b'\'')
            | scan::equal(w, b'/')
    };
    let mut rest = s;
    while !rest.is_empty() {
        let run = scan::find(rest.as_bytes(), 0, mask, |b| !JS_PLAIN[b as usize]);
        out.push_str(&rest[..run]);
        rest = &rest[run..];
        let Some(c) = rest.chars().next() else {
            break;
        };
        rest = &rest[c.len_utf8()..];
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\'' => out.push_str("\\'"),
            '/' => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{:04X}", unit);
                }
            }
        }
    }
}

/// Bytes `escape_javascript` copies as they are: printable ASCII and U+007F (Commons Lang
/// escapes from 0x80) but `\`, `"`, `'` and `/`.
static JS_PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0x20;
    while b < 0x80 {
        t[b] = !matches!(b as u8, b'\\' | b'"' | b'\'' | b'/');
        b += 1;
    }
    t
};

/// Java `URLEncoder.encode(s, "UTF-8")`.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// Java `URLDecoder.decode(s, "UTF-8")`; `None` on a malformed escape (Java throws).
pub fn url_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

pub fn base64_encode(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
}

/// Decodes standard base64 (padding optional, whitespace ignored) into UTF-8 text.
pub fn base64_decode(s: &str) -> Option<String> {
    let cleaned: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let trimmed = cleaned.trim_end_matches('=');
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// JSON string literal with quotes, as a JSON serializer writes it.
pub fn json_quote(s: &str, out: &mut String) {
    out.push('"');
    // Runs without `"`, `\\` or control characters are copied whole.
    let mask = |w| scan::below(w, 0x20) | scan::equal(w, b'"') | scan::equal(w, b'\\');
    let mut rest = s;
    loop {
        let run = scan::find(rest.as_bytes(), 0, mask, |b| {
            b < 0x20 || b == b'"' || b == b'\\'
        });
        out.push_str(&rest[..run]);
        rest = &rest[run..];
        let Some(c) = rest.chars().next() else {
            break;
        };
        rest = &rest[c.len_utf8()..];
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Java strings index by UTF-16 code unit; these helpers keep that contract.
pub fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    }
}

/// `String.substring(begin, end)` on UTF-16 indices; `None` when Java would throw.
pub fn substring(s: &str, begin: i64, end: Option<i64>) -> Option<String> {
    let len = utf16_len(s) as i64;
    let end = end.unwrap_or(len);
    if begin < 0 || end > len || begin > end {
        return None;
    }
    if s.is_ascii() {
        return Some(s[begin as usize..end as usize].to_string());
    }
    let units: Vec<u16> = s.encode_utf16().collect();
    Some(String::from_utf16_lossy(
        &units[begin as usize..end as usize],
    ))
}

/// `String.indexOf` / `lastIndexOf` result in UTF-16 units (-1 when absent).
pub fn index_of(s: &str, needle: &str, last: bool) -> i64 {
    let found = if last {
        s.rfind(needle)
    } else {
        s.find(needle)
    };
    match found {
        Some(b) => utf16_len(&s[..b]) as i64,
        None => -1,
    }
}

/// `String.charAt(i)` as a one-character string.
pub fn char_at(s: &str, i: i64) -> Option<String> {
    substring(s, i, Some(i + 1))
}

/// Converts a Java regex replacement string (`$1`, `\$`) to the `regex` crate's syntax.
pub fn java_replacement(repl: &str) -> String {
    let mut out = String::with_capacity(repl.len());
    let mut chars = repl.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(n) => out.push(n),
                None => {}
            },
            '$' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    digits.push(d);
                    chars.next();
                }
                if digits.is_empty() {
                    out.push_str("$$");
                } else {
                    out.push_str("${");
                    out.push_str(&digits);
                    out.push('}');
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        // Runs of eight bytes and more take the word path, single characters the byte
        // path: both must agree.
        #[test]
        fn escaping_a_string_is_escaping_its_characters(s in "([ -~]{0,24}|\\PC|[\\x00-\\x1f])*") {
            let by_char: String = s
                .chars()
                .map(|c| escape_javascript(c.encode_utf8(&mut [0; 4])))
                .collect();
            proptest::prop_assert_eq!(escape_javascript(&s), by_char);
        }

        // The word scan's runs and the escapes between them: what serde_json writes.
        #[test]
        fn json_quote_writes_what_serde_json_writes(s in "([ -~]{0,24}|\\PC|[\\x00-\\x1f])*") {
            let mut ours = String::new();
            json_quote(&s, &mut ours);
            proptest::prop_assert_eq!(ours, serde_json::to_string(&s).unwrap_or_default());
        }
    }

    #[test]
    fn push_int_writes_what_format_writes() {
        let extremes = [i64::MIN, i64::MIN + 1, i64::MAX, -10_000, 10_000];
        for i in (-1000..1000).chain(extremes) {
            let mut s = String::from("x");
            push_int(&mut s, i);
            assert_eq!(s, format!("x{i}"));
        }
    }

    #[test]
    fn integers() {
        for i in [0, 7, -7, 10, 1234567890, i64::MAX, i64::MIN] {
            let mut s = String::from("x");
            push_int(&mut s, i);
            assert_eq!(s, format!("x{i}"));
        }
    }

    #[test]
    fn doubles_like_java() {
        assert_eq!(format_double(249.99), "249.99");
        assert_eq!(format_double(1.0), "1.0");
        assert_eq!(format_double(-3.5), "-3.5");
        assert_eq!(format_double(1e10), "1.0E10");
        assert_eq!(format_double(1.5e-5), "1.5E-5");
        assert_eq!(format_double(0.001), "0.001");
        assert_eq!(format_double(1234567.0), "1234567.0");
        assert_eq!(format_double(0.0), "0.0");
    }

    #[test]
    fn escape_javascript_table() {
        assert_eq!(
            escape_javascript("a'b\"c\\d/e\té€"),
            "a\\'b\\\"c\\\\d\\/e\\t\\u00E9\\u20AC"
        );
        assert_eq!(escape_javascript("\u{1}\u{7f}"), "\\u0001\u{7f}");
        assert_eq!(escape_javascript("😀"), "\\uD83D\\uDE00");
    }

    #[test]
    fn url_coding() {
        assert_eq!(
            url_encode(r#"{"some": "value"}"#),
            "%7B%22some%22%3A+%22value%22%7D"
        );
        assert_eq!(url_encode("some raw data"), "some+raw+data");
        assert_eq!(url_encode("a.b-c*d_e~é"), "a.b-c*d_e%7E%C3%A9");
        assert_eq!(url_decode("a+b%20c%C3%A9").as_deref(), Some("a b cé"));
        assert_eq!(url_decode("%zz"), None);
    }

    #[test]
    fn base64_roundtrip() {
        assert_eq!(base64_encode(r#"{"foo": "bar1"}"#), "eyJmb28iOiAiYmFyMSJ9");
        assert_eq!(
            base64_decode("eyJmb28iOiAiYmFyMSJ9").as_deref(),
            Some(r#"{"foo": "bar1"}"#)
        );
        assert_eq!(base64_decode("YQ").as_deref(), Some("a"));
        assert_eq!(base64_decode("!!"), None);
    }

    #[test]
    fn utf16_indices() {
        assert_eq!(utf16_len("a😀b"), 4);
        assert_eq!(substring("héllo", 1, Some(3)).as_deref(), Some("él"));
        assert_eq!(substring("abc", 2, Some(1)), None);
        assert_eq!(index_of("a😀b", "b", false), 3);
        assert_eq!(index_of("abcabc", "b", true), 4);
    }

    #[test]
    fn replacement_syntax() {
        assert_eq!(java_replacement("$1-\\$x"), "${1}-$$x");
        assert_eq!(java_replacement("'"), "'");
    }
}
