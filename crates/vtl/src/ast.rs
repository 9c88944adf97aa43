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
        var: Slot,
        iterable: Expr,
        body: Vec<Node>,
    },
    Break,
    Stop,
    /// `#define($name) … #end`: binds `$name` to block `block` of the template.
    Define {
        var: Slot,
        block: usize,
    },
    MacroCall {
        name: Box<str>,
        args: Vec<Expr>,
    },
}

/// A variable, resolved to its slot at parse time so a render looks variables up by
/// index instead of hashing names.
pub(crate) type Slot = usize;

/// Slots every template has, in this order.
pub(crate) const INPUT: Slot = 0;
pub(crate) const UTIL: Slot = 1;
pub(crate) const CONTEXT: Slot = 2;
pub(crate) const STAGE_VARIABLES: Slot = 3;
/// `$foreach` and `$velocityCount` name the innermost loop while one runs.
pub(crate) const FOREACH: Slot = 4;
pub(crate) const VELOCITY_COUNT: Slot = 5;
const PREDEFINED: [&str; 6] = [
    "input",
    "util",
    "context",
    "stageVariables",
    "foreach",
    "velocityCount",
];

/// `$name` followed by properties, method calls and index accesses.
#[derive(Debug, Clone)]
pub(crate) struct Reference {
    pub var: Slot,
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
    pub params: Vec<Slot>,
    pub body: Vec<Node>,
}

/// Everything `Template` owns besides its top-level nodes.
#[derive(Debug, Clone)]
pub(crate) struct Defs {
    pub blocks: Vec<Vec<Node>>,
    pub macros: HashMap<Box<str>, Macro>,
    /// Variable names by slot.
    pub vars: Vec<Box<str>>,
    slots: HashMap<Box<str>, Slot>,
}

impl Default for Defs {
    fn default() -> Self {
        let vars: Vec<Box<str>> = PREDEFINED.iter().map(|&n| n.into()).collect();
        let slots = vars.iter().cloned().zip(0..).collect();
        Defs {
            blocks: Vec::new(),
            macros: HashMap::new(),
            vars,
            slots,
        }
    }
}

impl Defs {
    /// The slot of variable `name`, allocating one on first sight.
    pub fn slot(&mut self, name: &str) -> Slot {
        if let Some(&s) = self.slots.get(name) {
            return s;
        }
        let s = self.vars.len();
        self.vars.push(name.into());
        self.slots.insert(name.into(), s);
        s
    }
}
