//! Hand-written Velocity parser. Velocity's lexing is context sensitive (a `$` or `#`
//! that does not start a valid reference/directive is plain text), so the parser works
//! directly on the source bytes instead of a separate token stream.

use crate::ast::{BinOp, Defs, Expr, Macro, Node, Reference, Seg, Slot};
use std::fmt;

/// A template that Velocity would refuse, with the 1-based position of the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {}, column {}",
            self.message, self.line, self.column
        )
    }
}

impl std::error::Error for ParseError {}

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

const DIRECTIVES: &[&str] = &[
    "set", "if", "elseif", "else", "end", "foreach", "break", "stop", "define", "macro",
];

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

    // ---------------------------------------------------------------- text level

    fn block(&mut self) -> Result<(Vec<Node>, Term), ParseError> {
        self.enter()?;
        let r = self.block_inner();
        self.leave();
        r
    }

    fn block_inner(&mut self) -> Result<(Vec<Node>, Term), ParseError> {
        let mut nodes = Vec::new();
        let mut text = String::new();
        macro_rules! flush {
            () => {
                if !text.is_empty() {
                    nodes.push(Node::Text(std::mem::take(&mut text).into_boxed_str()));
                }
            };
        }
        while let Some(c) = self.peek() {
            match c {
                b'\\' => {
                    let start = self.pos;
                    let mut n = 0;
                    while self.peek() == Some(b'\\') {
                        n += 1;
                        self.pos += 1;
                    }
                    if self.peek() == Some(b'$') {
                        let ref_start = self.pos;
                        if let Some(r) = self.try_reference()? {
                            text.extend(std::iter::repeat_n('\\', n / 2));
                            if n % 2 == 1 {
                                text.push_str(&self.src[ref_start..self.pos]);
                            } else {
                                flush!();
                                nodes.push(Node::Ref(r));
                            }
                            continue;
                        }
                        self.pos = start + n;
                        text.push_str(&self.src[start..self.pos]);
                    } else if self.peek() == Some(b'#') && self.directive_word_follows() {
                        text.extend(std::iter::repeat_n('\\', n / 2));
                        if n % 2 == 1 {
                            // Escaped directive: `#` is literal, the word follows as text.
                            text.push('#');
                            self.pos += 1;
                        }
                    } else {
                        text.push_str(&self.src[start..self.pos]);
                    }
                }
                b'$' => {
                    let start = self.pos;
                    match self.try_reference()? {
                        Some(r) => {
                            flush!();
                            nodes.push(Node::Ref(r));
                        }
                        None => {
                            self.pos = start + 1;
                            text.push('$');
                        }
                    }
                }
                b'#' => {
                    if let Some(term) = self.hash(&mut nodes, &mut text)? {
                        flush!();
                        return Ok((nodes, term));
                    }
                }
                _ => {
                    let start = self.pos;
                    while let Some(c) = self.peek() {
                        if matches!(c, b'\\' | b'$' | b'#') {
                            break;
                        }
                        self.pos += 1;
                    }
                    text.push_str(&self.src[start..self.pos]);
                }
            }
        }
        flush!();
        Ok((nodes, Term::Eof))
    }

    /// Reads `#word` or `#{word}` at the cursor without consuming it.
    fn peek_directive_word(&self) -> Option<(&'a str, bool, usize)> {
        let mut i = self.pos + 1;
        let braced = self.b.get(i) == Some(&b'{');
        if braced {
            i += 1;
        }
        let start = i;
        if !self.b.get(i).copied().is_some_and(is_ident_start) {
            return None;
        }
        while self.b.get(i).copied().is_some_and(is_ident_char) {
            i += 1;
        }
        let word = &self.src[start..i];
        if braced {
            if self.b.get(i) != Some(&b'}') {
                return None;
            }
            i += 1;
        }
        Some((word, braced, i))
    }

    fn directive_word_follows(&self) -> bool {
        self.peek_directive_word()
            .is_some_and(|(w, _, _)| DIRECTIVES.contains(&w) || self.defs.macros.contains_key(w))
    }

    /// Handles a `#`: comment, raw block, directive, macro call, or literal text.
    fn hash(
        &mut self,
        nodes: &mut Vec<Node>,
        text: &mut String,
    ) -> Result<Option<Term>, ParseError> {
        let start = self.pos;
        if self.starts_with("##") {
            // Line comment, including its newline.
            while let Some(c) = self.peek() {
                self.pos += 1;
                if c == b'\n' {
                    break;
                }
            }
            return Ok(None);
        }
        if self.starts_with("#*") {
            match self.src[self.pos + 2..].find("*#") {
                Some(i) => self.pos += 2 + i + 2,
                None => return self.err("unterminated #* comment"),
            }
            return Ok(None);
        }
        if self.starts_with("#[[") {
            match self.src[self.pos + 3..].find("]]#") {
                Some(i) => {
                    text.push_str(&self.src[self.pos + 3..self.pos + 3 + i]);
                    self.pos += 3 + i + 3;
                }
                None => return self.err("unterminated #[[ block"),
            }
            return Ok(None);
        }
        let Some((word, braced, after)) = self.peek_directive_word() else {
            self.pos += 1;
            text.push('#');
            return Ok(None);
        };
        let flush = |nodes: &mut Vec<Node>, text: &mut String| {
            if !text.is_empty() {
                nodes.push(Node::Text(std::mem::take(text).into_boxed_str()));
            }
        };
        match word {
            "set" => {
                self.pos = after;
                self.open_paren()?;
                self.skip_ws();
                if self.peek() != Some(b'$') {
                    return self.err("#set needs a reference on the left");
                }
                let Some(target) = self.try_reference()? else {
                    return self.err("#set needs a reference on the left");
                };
                self.skip_ws();
                if self.peek() != Some(b'=') {
                    return self.err("expected '=' in #set");
                }
                self.pos += 1;
                let value = self.expr()?;
                self.close_paren()?;
                gobble_indent(self.b, start, text);
                flush(nodes, text);
                nodes.push(Node::Set(target, value));
                Ok(None)
            }
            "if" => {
                self.pos = after;
                let cond = self.paren_expr()?;
                flush(nodes, text);
                let mut branches = Vec::new();
                let mut otherwise = None;
                let mut cond = Some(cond);
                loop {
                    let (body, term) = self.block()?;
                    match (term, cond.take()) {
                        (Term::ElseIf(next), Some(c)) => {
                            branches.push((c, body));
                            cond = Some(next);
                        }
                        (Term::Else, Some(c)) => {
                            branches.push((c, body));
                        }
                        (Term::End, Some(c)) => {
                            branches.push((c, body));
                            break;
                        }
                        (Term::End, None) => {
                            otherwise = Some(body);
                            break;
                        }
                        (Term::Eof, _) => return self.err_at(start, "#if without #end"),
                        (_, None) => return self.err("#else/#elseif after #else"),
                    }
                }
                nodes.push(Node::If {
                    branches,
                    otherwise,
                });
                Ok(None)
            }
            "elseif" => {
                self.pos = after;
                let cond = self.paren_expr()?;
                Ok(Some(Term::ElseIf(cond)))
            }
            "else" => {
                self.pos = after;
                if !braced {
                    self.eat_newline();
                }
                Ok(Some(Term::Else))
            }
            "end" => {
                self.pos = after;
                if !braced {
                    self.eat_newline();
                }
                Ok(Some(Term::End))
            }
            "foreach" => {
                self.pos = after;
                self.open_paren()?;
                self.skip_ws();
                let var = self.loop_var()?;
                self.skip_ws();
                if !self.word("in") {
                    return self.err("expected 'in' in #foreach");
                }

                let iterable = self.expr()?;
                self.close_paren()?;
                flush(nodes, text);
                let (body, term) = self.block()?;
                if !matches!(term, Term::End) {
                    return self.err_at(start, "#foreach without #end");
                }
                nodes.push(Node::Foreach {
                    var,
                    iterable,
                    body,
                });
                Ok(None)
            }
            "break" | "stop" => {
                self.pos = after;
                flush(nodes, text);
                nodes.push(if word == "break" {
                    Node::Break
                } else {
                    Node::Stop
                });
                Ok(None)
            }
            "define" => {
                self.pos = after;
                self.open_paren()?;
                self.skip_ws();
                let var = self.loop_var()?;
                self.close_paren()?;
                flush(nodes, text);
                let (body, term) = self.block()?;
                if !matches!(term, Term::End) {
                    return self.err_at(start, "#define without #end");
                }
                let block = self.defs.blocks.len();
                self.defs.blocks.push(body);
                nodes.push(Node::Define { var, block });
                Ok(None)
            }
            "macro" => {
                self.pos = after;
                self.open_paren()?;
                self.skip_ws();
                let name_start = self.pos;
                while self.peek().is_some_and(|c| is_ident_char(c) || c == b'-') {
                    self.pos += 1;
                }
                if self.pos == name_start {
                    return self.err("#macro needs a name");
                }
                let name: Box<str> = self.src[name_start..self.pos].into();
                let mut params = Vec::new();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'$') => params.push(self.loop_var()?),
                        _ => break,
                    }
                }
                self.close_paren()?;
                flush(nodes, text);
                // Registered before the body is parsed so the macro may call itself.
                self.defs.macros.insert(
                    name.clone(),
                    Macro {
                        params: params.clone(),
                        body: Vec::new(),
                    },
                );
                let (body, term) = self.block()?;
                if !matches!(term, Term::End) {
                    return self.err_at(start, "#macro without #end");
                }
                self.defs.macros.insert(name, Macro { params, body });
                Ok(None)
            }
            _ if self.defs.macros.contains_key(word) => {
                let save = self.pos;
                self.pos = after;
                self.skip_ws();
                if self.peek() != Some(b'(') {
                    self.pos = save + 1;
                    text.push('#');
                    return Ok(None);
                }
                self.pos += 1;
                let mut args = Vec::new();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b')') => break,
                        Some(b',') => self.pos += 1,
                        None => return self.err("unterminated macro call"),
                        _ => args.push(self.expr()?),
                    }
                }
                self.pos += 1;
                self.eat_newline();
                flush(nodes, text);
                nodes.push(Node::MacroCall {
                    name: word.into(),
                    args,
                });
                Ok(None)
            }
            _ => {
                self.pos += 1;
                text.push('#');
                Ok(None)
            }
        }
    }

    /// `$name` as used by `#foreach`, `#define` and macro parameters.
    fn loop_var(&mut self) -> Result<Slot, ParseError> {
        if self.peek() != Some(b'$') {
            return self.err("expected a $variable");
        }
        self.pos += 1;
        let braced = self.peek() == Some(b'{');
        if braced {
            self.pos += 1;
        }
        let Some(name) = self.ident() else {
            return self.err("expected a variable name");
        };
        if braced {
            if self.peek() != Some(b'}') {
                return self.err("expected '}'");
            }
            self.pos += 1;
        }
        Ok(self.defs.slot(name))
    }

    /// Directive arguments start with `(`, optionally after spaces.
    fn open_paren(&mut self) -> Result<(), ParseError> {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        if self.peek() != Some(b'(') {
            return self.err("expected '('");
        }
        self.pos += 1;
        Ok(())
    }

    fn close_paren(&mut self) -> Result<(), ParseError> {
        self.skip_ws();
        if self.peek() != Some(b')') {
            return self.err("expected ')'");
        }
        self.pos += 1;
        self.eat_newline();
        Ok(())
    }

    fn paren_expr(&mut self) -> Result<Expr, ParseError> {
        self.open_paren()?;
        let e = self.expr()?;
        self.close_paren()?;
        Ok(e)
    }

    /// Velocity 1.x: a directive followed by blanks and a newline swallows them.
    fn eat_newline(&mut self) {
        let mut i = self.pos;
        while matches!(self.b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        match self.b.get(i) {
            Some(b'\n') => self.pos = i + 1,
            Some(b'\r') => {
                self.pos = if self.b.get(i + 1) == Some(&b'\n') {
                    i + 2
                } else {
                    i + 1
                }
            }
            _ => {}
        }
    }

    // ---------------------------------------------------------------- references

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

    /// Parses a reference at `$`. Returns `None` (cursor unspecified) when the text there
    /// is not a reference, in which case the caller emits it as plain text.
    fn try_reference(&mut self) -> Result<Option<Reference>, ParseError> {
        let start = self.pos;
        self.pos += 1;
        if self.peek() == Some(b'!') {
            self.pos += 1;
        }
        let braced = self.peek() == Some(b'{');
        if braced {
            self.pos += 1;
        }
        let Some(name) = self.ident() else {
            self.pos = start;
            return Ok(None);
        };
        let var = self.defs.slot(name);
        let segs = self.segments()?;
        if braced {
            if self.peek() != Some(b'}') {
                self.pos = start;
                return Ok(None);
            }
            self.pos += 1;
        }
        Ok(Some(Reference { var, segs }))
    }

    fn segments(&mut self) -> Result<Vec<Seg>, ParseError> {
        let mut segs = Vec::new();
        loop {
            match self.peek() {
                Some(b'.') if self.peek_at(1).is_some_and(is_ident_start) => {
                    self.pos += 1;
                    let name: Box<str> = self.ident().unwrap_or_default().into();
                    if self.peek() == Some(b'(') {
                        self.pos += 1;
                        let args = self.args()?;
                        segs.push(Seg::Call(name, args));
                    } else {
                        segs.push(Seg::Prop(name));
                    }
                }
                Some(b'[') => {
                    // Index notation; `[` that does not hold an expression is text.
                    let save = self.pos;
                    self.pos += 1;
                    let parsed = self.expr();
                    self.skip_ws();
                    match parsed {
                        Ok(e) if self.peek() == Some(b']') => {
                            self.pos += 1;
                            segs.push(Seg::Index(e));
                        }
                        _ => {
                            self.pos = save;
                            break;
                        }
                    }
                }
                _ => break,
            }
        }
        Ok(segs)
    }

    /// Method-call arguments after `(`, through the closing `)`.
    fn args(&mut self) -> Result<Vec<Expr>, ParseError> {
        let mut args = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b')') {
            self.pos += 1;
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b')') => {
                    self.pos += 1;
                    return Ok(args);
                }
                _ => return self.err("expected ',' or ')' in method arguments"),
            }
        }
    }

    // ---------------------------------------------------------------- expressions

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

    pub(crate) fn expr(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let r = self.or_expr();
        self.leave();
        r
    }

    fn or_expr(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.and_expr()?;
        loop {
            self.skip_ws();
            if self.sym("||") || self.word("or") {
                let r = self.and_expr()?;
                l = Expr::Bin(BinOp::Or, Box::new(l), Box::new(r));
            } else {
                return Ok(l);
            }
        }
    }

    fn and_expr(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.eq_expr()?;
        loop {
            self.skip_ws();
            if self.sym("&&") || self.word("and") {
                let r = self.eq_expr()?;
                l = Expr::Bin(BinOp::And, Box::new(l), Box::new(r));
            } else {
                return Ok(l);
            }
        }
    }

    fn eq_expr(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.rel_expr()?;
        loop {
            self.skip_ws();
            let op = if self.sym("==") || self.word("eq") {
                BinOp::Eq
            } else if self.sym("!=") || self.word("ne") {
                BinOp::Ne
            } else {
                return Ok(l);
            };
            let r = self.rel_expr()?;
            l = Expr::Bin(op, Box::new(l), Box::new(r));
        }
    }

    fn rel_expr(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.add_expr()?;
        loop {
            self.skip_ws();
            let op = if self.sym("<=") || self.word("le") {
                BinOp::Le
            } else if self.sym(">=") || self.word("ge") {
                BinOp::Ge
            } else if self.sym("<") || self.word("lt") {
                BinOp::Lt
            } else if self.sym(">") || self.word("gt") {
                BinOp::Gt
            } else {
                return Ok(l);
            };
            let r = self.add_expr()?;
            l = Expr::Bin(op, Box::new(l), Box::new(r));
        }
    }

    fn add_expr(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.mul_expr()?;
        loop {
            self.skip_ws();
            let op = if self.sym("+") {
                BinOp::Add
            } else if self.sym("-") {
                BinOp::Sub
            } else {
                return Ok(l);
            };
            let r = self.mul_expr()?;
            l = Expr::Bin(op, Box::new(l), Box::new(r));
        }
    }

    fn mul_expr(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.unary()?;
        loop {
            self.skip_ws();
            let op = if self.sym("*") {
                BinOp::Mul
            } else if self.sym("/") {
                BinOp::Div
            } else if self.sym("%") {
                BinOp::Mod
            } else {
                return Ok(l);
            };
            let r = self.unary()?;
            l = Expr::Bin(op, Box::new(l), Box::new(r));
        }
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        self.skip_ws();
        self.enter()?;
        let r = if self.peek() == Some(b'!') && self.peek_at(1) != Some(b'=') {
            self.pos += 1;
            self.unary().map(|e| Expr::Not(Box::new(e)))
        } else if self.word("not") {
            self.unary().map(|e| Expr::Not(Box::new(e)))
        } else if self.peek() == Some(b'-') {
            self.pos += 1;
            self.unary().map(|e| match e {
                Expr::Int(i) => Expr::Int(i.wrapping_neg()),
                Expr::Float(f) => Expr::Float(-f),
                e => Expr::Neg(Box::new(e)),
            })
        } else {
            self.primary()
        };
        self.leave();
        r
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        self.skip_ws();
        let Some(c) = self.peek() else {
            return self.err("unexpected end of template in expression");
        };
        match c {
            b'(' => {
                self.pos += 1;
                let e = self.expr()?;
                self.skip_ws();
                if !self.sym(")") {
                    return self.err("expected ')'");
                }
                Ok(e)
            }
            b'$' => match self.try_reference()? {
                Some(r) => Ok(Expr::Ref(r)),
                None => self.err("invalid reference"),
            },
            b'"' | b'\'' => self.string(),
            b'0'..=b'9' => self.number(),
            b'[' => {
                self.pos += 1;
                self.skip_ws();
                if self.sym("]") {
                    return Ok(Expr::List(Vec::new()));
                }
                let first = self.expr()?;
                self.skip_ws();
                if self.sym("..") {
                    let last = self.expr()?;
                    self.skip_ws();
                    if !self.sym("]") {
                        return self.err("expected ']' after range");
                    }
                    return Ok(Expr::Range(Box::new(first), Box::new(last)));
                }
                let mut items = vec![first];
                loop {
                    self.skip_ws();
                    if self.sym("]") {
                        return Ok(Expr::List(items));
                    }
                    if !self.sym(",") {
                        return self.err("expected ',' or ']' in list");
                    }
                    items.push(self.expr()?);
                }
            }
            b'{' => {
                self.pos += 1;
                let mut entries = Vec::new();
                self.skip_ws();
                if self.sym("}") {
                    return Ok(Expr::Map(entries));
                }
                loop {
                    let k = self.expr()?;
                    self.skip_ws();
                    if !self.sym(":") {
                        return self.err("expected ':' in map literal");
                    }
                    let v = self.expr()?;
                    entries.push((k, v));
                    self.skip_ws();
                    if self.sym("}") {
                        return Ok(Expr::Map(entries));
                    }
                    if !self.sym(",") {
                        return self.err("expected ',' or '}' in map literal");
                    }
                }
            }
            _ if self.word("true") => Ok(Expr::Bool(true)),
            _ if self.word("false") => Ok(Expr::Bool(false)),
            _ if self.word("null") => Ok(Expr::Null),
            _ => self.err("unexpected character in expression"),
        }
    }

    fn number(&mut self) -> Result<Expr, ParseError> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let float =
            self.peek() == Some(b'.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit());
        if float {
            self.pos += 1;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        let s = &self.src[start..self.pos];
        if !float {
            if let Ok(i) = s.parse::<i64>() {
                return Ok(Expr::Int(i));
            }
        }
        match s.parse::<f64>() {
            Ok(f) => Ok(Expr::Float(f)),
            Err(_) => self.err_at(start, "invalid number"),
        }
    }

    /// String literal: the doubled quote escapes itself; a backslash keeps the next
    /// character from closing the string but stays in the text (Java sees it).
    fn string(&mut self) -> Result<Expr, ParseError> {
        let start = self.pos;
        let q = self.b[self.pos];
        self.pos += 1;
        let mut content = String::new();
        let mut seg = self.pos;
        loop {
            match self.peek() {
                None => return self.err_at(start, "unterminated string literal"),
                Some(b'\\') if self.peek_at(1).is_some() => self.pos += 2,
                Some(c) if c == q => {
                    content.push_str(&self.src[seg..self.pos]);
                    if self.peek_at(1) == Some(q) {
                        content.push(q as char);
                        self.pos += 2;
                        seg = self.pos;
                    } else {
                        self.pos += 1;
                        break;
                    }
                }
                Some(_) => self.pos += 1,
            }
        }
        if q == b'\'' || !(content.contains('$') || content.contains('#')) {
            return Ok(Expr::Str(content.into_boxed_str()));
        }
        let mut sub = Parser {
            src: &content,
            b: content.as_bytes(),
            pos: 0,
            depth: self.depth,
            defs: self.defs,
        };
        let parsed = sub.block();
        match parsed {
            Ok((nodes, Term::Eof)) => Ok(Expr::Interp(nodes)),
            Ok(_) => self.err_at(start, "unbalanced directive inside string literal"),
            Err(e) => self.err_at(start, &format!("in string literal: {}", e.message)),
        }
    }
}

/// `#set` at the start of a line also swallows the indentation before it (Velocity 1.x).
fn gobble_indent(src: &[u8], hash_pos: usize, text: &mut String) {
    let mut i = hash_pos;
    while i > 0 && matches!(src[i - 1], b' ' | b'\t') {
        i -= 1;
    }
    let n = hash_pos - i;
    let at_line_start = i == 0 || src[i - 1] == b'\n' || src[i - 1] == b'\r';
    if at_line_start
        && n > 0
        && text.len() >= n
        && text.as_bytes()[text.len() - n..]
            .iter()
            .all(|c| matches!(c, b' ' | b'\t'))
    {
        text.truncate(text.len() - n);
    }
}
