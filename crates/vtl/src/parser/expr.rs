//! References (`$a.b(c)[d]`) and expressions (operators, literals, interpolated strings).

use super::{is_ident_start, Parser, Term};
use crate::ast::{BinOp, Expr, Reference, Seg};
use crate::error::ParseError;

impl<'a> Parser<'a, '_> {
    /// Parses a reference at `$`. Returns `None` (cursor unspecified) when the text there
    /// is not a reference, in which case the caller emits it as plain text.
    pub(super) fn try_reference(&mut self) -> Result<Option<Reference>, ParseError> {
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

    pub(super) fn segments(&mut self) -> Result<Vec<Seg>, ParseError> {
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
    pub(super) fn args(&mut self) -> Result<Vec<Expr>, ParseError> {
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

    pub(crate) fn expr(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let r = self.or_expr();
        self.leave();
        r
    }

    pub(super) fn or_expr(&mut self) -> Result<Expr, ParseError> {
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

    pub(super) fn and_expr(&mut self) -> Result<Expr, ParseError> {
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

    pub(super) fn eq_expr(&mut self) -> Result<Expr, ParseError> {
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

    pub(super) fn rel_expr(&mut self) -> Result<Expr, ParseError> {
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

    pub(super) fn add_expr(&mut self) -> Result<Expr, ParseError> {
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

    pub(super) fn mul_expr(&mut self) -> Result<Expr, ParseError> {
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

    pub(super) fn unary(&mut self) -> Result<Expr, ParseError> {
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

    pub(super) fn primary(&mut self) -> Result<Expr, ParseError> {
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

    pub(super) fn number(&mut self) -> Result<Expr, ParseError> {
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
    pub(super) fn string(&mut self) -> Result<Expr, ParseError> {
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
