//! The immutable syntax tree a template parses into (shared read-only across requests).

use std::collections::HashMap;

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Text(Box<str>),
    /// A reference in output position, e.g. `$input.json('$')`.
    Ref(Reference),
    /// `#set($target = expr)`.
    Set(Reference, Expr),
    If {
        branches: Vec<(Expr, Vec<Node>)>,
        otherwise: Option<Vec<Node>>,
    },
    Foreach {
        var: Box<str>,
        iterable: Expr,
        body: Vec<Node>,
    },
    Break,
    Stop,
    /// `#define($name) … #end`: binds `$name` to block `block` of the template.
    Define {
        name: Box<str>,
        block: usize,
    },
    MacroCall {
        name: Box<str>,
        args: Vec<Expr>,
    },
}

/// `$name` followed by properties, method calls and index accesses.
#[derive(Debug, Clone)]
pub(crate) struct Reference {
    pub name: Box<str>,
    pub segs: Vec<Seg>,
}

#[derive(Debug, Clone)]
pub(crate) enum Seg {
    Prop(Box<str>),
    Call(Box<str>, Vec<Expr>),
    Index(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Single-quoted string, or a double-quoted one with nothing to interpolate.
    Str(Box<str>),
    /// Double-quoted string with `$`/`#` content, rendered like a small template.
    Interp(Vec<Node>),
    List(Vec<Expr>),
    Map(Vec<(Expr, Expr)>),
    Range(Box<Expr>, Box<Expr>),
    Ref(Reference),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone)]
pub(crate) struct Macro {
    pub params: Vec<Box<str>>,
    pub body: Vec<Node>,
}

/// Everything `Template` owns besides its top-level nodes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Defs {
    pub blocks: Vec<Vec<Node>>,
    pub macros: HashMap<Box<str>, Macro>,
}
