//! Hand-written Velocity parser. Velocity's lexing is context sensitive (a `$` or `#`
//! that does not start a valid reference/directive is plain text), so the parser works
//! directly on the source bytes instead of a separate token stream.
//!
//! This module holds the cursor (position, errors, nesting, words and symbols);
//! [`text`] parses the text level and directives, [`expr`] references and expressions.

mod expr;
mod text;

use crate::ast::{Defs, Expr, Node};
use crate::error::ParseError;

/// Deepest nesting of blocks/expressions accepted; keeps hostile input off the stack.
const MAX_NESTING: usize = 100;

/// How a block ended.
enum Term {
    Eof,
    End,
    Else,
    ElseIf(Expr),
}

pub(crate) struct Parser<'a, 'd> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    depth: usize,
    defs: &'d mut Defs,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

pub(crate) fn parse_template(src: &str, defs: &mut Defs) -> Result<Vec<Node>, ParseError> {
    let mut p = Parser {
        src,
        b: src.as_bytes(),
        pos: 0,
        depth: 0,
        defs,
    };
    let (nodes, term) = p.block()?;
    match term {
        Term::Eof => Ok(nodes),
        Term::End => p.err("#end without a matching directive"),
        Term::Else | Term::ElseIf(_) => p.err("#else/#elseif without #if"),
    }
}

impl<'a> Parser<'a, '_> {
    fn err<T>(&self, msg: &str) -> Result<T, ParseError> {
        self.err_at(self.pos, msg)
    }

    fn err_at<T>(&self, pos: usize, msg: &str) -> Result<T, ParseError> {
        let pos = pos.min(self.b.len());
        let before = &self.b[..pos];
        let line = before.iter().filter(|&&c| c == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |i| i + 1);
        let column = self.src[line_start..pos].chars().count() + 1;
        Err(ParseError {
            line,
            column,
            message: msg.to_string(),
        })
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn peek_at(&self, off: usize) -> Option<u8> {
        self.b.get(self.pos + off).copied()
    }

    fn starts_with(&self, s: &str) -> bool {
        self.b[self.pos..].starts_with(s.as_bytes())
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return self.err("template nesting too deep");
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Matches a word operator (`and`, `eq`…) that is not the prefix of a longer word.
    fn word(&mut self, w: &str) -> bool {
        if self.starts_with(w) && !self.peek_at(w.len()).is_some_and(is_ident_char) {
            self.pos += w.len();
            true
        } else {
            false
        }
    }

    fn sym(&mut self, s: &str) -> bool {
        if self.starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> Option<&'a str> {
        let start = self.pos;
        if !self.peek().is_some_and(is_ident_start) {
            return None;
        }
        loop {
            match self.peek() {
                Some(c) if is_ident_char(c) => self.pos += 1,
                // Velocity allows '-' inside identifiers (`$mud-Slinger`); we only take it
                // when a letter follows so `$a-1` stays a subtraction.
                Some(b'-') if self.peek_at(1).is_some_and(|c| c.is_ascii_alphabetic()) => {
                    self.pos += 1
                }
                _ => break,
            }
        }
        Some(&self.src[start..self.pos])
    }
}
