//! The text level: literal text, references embedded in it, comments and directives
//! (`#set`, `#if`, `#foreach`, `#define`, `#macro`, macro calls).

use super::{is_ident_char, is_ident_start, Parser, Term};
use crate::ast::{Expr, Macro, Node, Slot};
use crate::error::ParseError;

const DIRECTIVES: &[&str] = &[
    "set", "if", "elseif", "else", "end", "foreach", "break", "stop", "define", "macro",
];

impl<'a> Parser<'a, '_> {
    pub(super) fn block(&mut self) -> Result<(Vec<Node>, Term), ParseError> {
        self.enter()?;
        let r = self.block_inner();
        self.leave();
        r
    }

    pub(super) fn block_inner(&mut self) -> Result<(Vec<Node>, Term), ParseError> {
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
    pub(super) fn peek_directive_word(&self) -> Option<(&'a str, bool, usize)> {
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

    pub(super) fn directive_word_follows(&self) -> bool {
        self.peek_directive_word()
            .is_some_and(|(w, _, _)| DIRECTIVES.contains(&w) || self.defs.macros.contains_key(w))
    }

    /// Handles a `#`: comment, raw block, directive, macro call, or literal text.
    pub(super) fn hash(
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
    pub(super) fn loop_var(&mut self) -> Result<Slot, ParseError> {
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
    pub(super) fn open_paren(&mut self) -> Result<(), ParseError> {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        if self.peek() != Some(b'(') {
            return self.err("expected '('");
        }
        self.pos += 1;
        Ok(())
    }

    pub(super) fn close_paren(&mut self) -> Result<(), ParseError> {
        self.skip_ws();
        if self.peek() != Some(b')') {
            return self.err("expected ')'");
        }
        self.pos += 1;
        self.eat_newline();
        Ok(())
    }

    pub(super) fn paren_expr(&mut self) -> Result<Expr, ParseError> {
        self.open_paren()?;
        let e = self.expr()?;
        self.close_paren()?;
        Ok(e)
    }

    /// Velocity 1.x: a directive followed by blanks and a newline swallows them.
    pub(super) fn eat_newline(&mut self) {
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
