//! Template evaluation. Runtime values live in a per-render arena (`Heap`) addressed by
//! index: Java maps and lists have reference semantics (`$m.put` through any alias is
//! visible everywhere), and an arena gives that without `Rc` cycles outliving a render.

use crate::ast::{BinOp, Expr, Node, Reference, Seg};
use crate::java;
use crate::jsonpath::{JsonPath, Selection};
use crate::{Input, Limits, RenderError, Template};
use indexmap::IndexMap;
use regex::Regex;
use serde_json::Value as Json;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::rc::Rc;

#[derive(Debug, Clone)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    List(usize),
    Map(usize),
    /// One `Map.Entry` of `entrySet()`: map and key.
    Entry(usize, Rc<str>),
    /// A `#define` block, rendered each time it is referenced.
    Block(usize),
    /// `$foreach` of the loop at this depth.
    Loop(usize),
    Input,
    Util,
}

struct ListObj {
    items: Vec<Value>,
    /// Lists that came from JSON (`$input.path`, `parseJson`) render as JSON, like
    /// json-smart's JSONArray; lists built in the template render like `ArrayList`.
    json: bool,
}

#[derive(Default)]
struct Heap {
    lists: Vec<ListObj>,
    maps: Vec<IndexMap<String, Value>>,
}

struct LoopFrame {
    index: usize,
    len: usize,
}

#[derive(PartialEq, Eq)]
enum Flow {
    Normal,
    Break,
    Stop,
}

type R<T> = Result<T, RenderError>;

/// Deepest nesting of value-to-text conversion (guards against self-containing maps).
const MAX_VALUE_DEPTH: usize = 64;

pub(crate) struct State<'a> {
    tpl: &'a Template,
    input: &'a Input<'a>,
    limits: &'a Limits,
    heap: Heap,
    vars: HashMap<Box<str>, Value>,
    loops: Vec<LoopFrame>,
    steps: u64,
    depth: usize,
    context: usize,
    body: Rc<str>,
    /// Lazily parsed body: `None` = not parsed yet, `Some(None)` = not JSON.
    body_json: Option<Option<Rc<Json>>>,
    regexes: HashMap<String, Regex>,
}

impl<'a> State<'a> {
    pub(crate) fn new(
        tpl: &'a Template,
        input: &'a Input<'a>,
        context: &serde_json::Map<String, Json>,
        limits: &'a Limits,
    ) -> Self {
        // vtl.md §3: an empty payload is seen as `{}`.
        let body: Rc<str> = if input.body.is_empty() {
            "{}".into()
        } else {
            input.body.into()
        };
        let mut st = State {
            tpl,
            input,
            limits,
            heap: Heap::default(),
            vars: HashMap::new(),
            loops: Vec::new(),
            steps: 0,
            depth: 0,
            context: 0,
            body,
            body_json: None,
            regexes: HashMap::new(),
        };
        let mut ctx = IndexMap::new();
        for (k, v) in context {
            let v = st.from_json(v);
            ctx.insert(k.clone(), v);
        }
        st.context = st.new_map(ctx);
        let sv: IndexMap<String, Value> = input
            .stage_variables
            .iter()
            .map(|(k, v)| (k.clone(), Value::Str(v.as_str().into())))
            .collect();
        let sv = st.new_map(sv);
        st.vars.insert("input".into(), Value::Input);
        st.vars.insert("util".into(), Value::Util);
        st.vars.insert("context".into(), Value::Map(st.context));
        st.vars.insert("stageVariables".into(), Value::Map(sv));
        st
    }

    pub(crate) fn run(&mut self, nodes: &[Node], out: &mut String) -> R<()> {
        self.nodes(nodes, out)?;
        Ok(())
    }

    /// The `$context` map as JSON after rendering (overrides written by the template).
    pub(crate) fn context_json(&self) -> serde_json::Map<String, Json> {
        let mut m = serde_json::Map::new();
        for (k, v) in &self.heap.maps[self.context] {
            m.insert(k.clone(), self.to_json(v, 0));
        }
        m
    }

    // ------------------------------------------------------------ bookkeeping

    fn step(&mut self) -> R<()> {
        self.steps += 1;
        if self.steps > self.limits.max_steps {
            return Err(RenderError::LimitExceeded("evaluation steps"));
        }
        Ok(())
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return Err(RenderError::LimitExceeded("recursion depth"));
        }
        Ok(())
    }

    fn write(&self, out: &mut String, s: &str) -> R<()> {
        if out.len() + s.len() > self.limits.max_output_bytes {
            return Err(RenderError::LimitExceeded("output size"));
        }
        out.push_str(s);
        Ok(())
    }

    fn new_map(&mut self, m: IndexMap<String, Value>) -> usize {
        self.heap.maps.push(m);
        self.heap.maps.len() - 1
    }

    fn new_list(&mut self, items: Vec<Value>, json: bool) -> usize {
        self.heap.lists.push(ListObj { items, json });
        self.heap.lists.len() - 1
    }

    fn check_len(&self, n: usize) -> R<()> {
        if n > self.limits.max_collection_len {
            return Err(RenderError::LimitExceeded("collection size"));
        }
        Ok(())
    }

    // ------------------------------------------------------------ nodes

    fn nodes(&mut self, nodes: &[Node], out: &mut String) -> R<Flow> {
        for n in nodes {
            let flow = self.node(n, out)?;
            if flow != Flow::Normal {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    fn node(&mut self, n: &Node, out: &mut String) -> R<Flow> {
        self.step()?;
        match n {
            Node::Text(t) => self.write(out, t)?,
            Node::Ref(r) => {
                let v = self.reference(r)?;
                self.write_value(&v, out)?;
            }
            Node::Set(target, e) => {
                let v = self.expr(e)?;
                self.assign(target, v)?;
            }
            Node::If {
                branches,
                otherwise,
            } => {
                for (cond, body) in branches {
                    let c = self.expr(cond)?;
                    if truthy(&c) {
                        return self.nodes(body, out);
                    }
                }
                if let Some(body) = otherwise {
                    return self.nodes(body, out);
                }
            }
            Node::Foreach {
                var,
                iterable,
                body,
            } => return self.foreach(var, iterable, body, out),
            Node::Break => return Ok(Flow::Break),
            Node::Stop => return Ok(Flow::Stop),
            Node::Define { name, block } => {
                self.vars.insert(name.clone(), Value::Block(*block));
            }
            Node::MacroCall { name, args } => {
                let Some(m) = self.tpl.defs.macros.get(name) else {
                    return Ok(Flow::Normal);
                };
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(self.expr(a)?);
                }
                let mut saved = Vec::new();
                for (i, p) in m.params.iter().enumerate() {
                    let v = vals.get(i).cloned().unwrap_or(Value::Null);
                    saved.push((p.clone(), self.vars.insert(p.clone(), v)));
                }
                self.enter()?;
                let flow = self.nodes(&m.body, out);
                self.depth -= 1;
                for (p, old) in saved.into_iter().rev() {
                    match old {
                        Some(v) => self.vars.insert(p, v),
                        None => self.vars.remove(&p),
                    };
                }
                if flow? == Flow::Stop {
                    return Ok(Flow::Stop);
                }
            }
        }
        Ok(Flow::Normal)
    }

    fn foreach(&mut self, var: &str, iterable: &Expr, body: &[Node], out: &mut String) -> R<Flow> {
        let coll = self.expr(iterable)?;
        let mut items = match coll {
            Value::List(id) => self.heap.lists[id].items.clone(),
            Value::Map(id) => self.heap.maps[id].values().cloned().collect(),
            _ => Vec::new(),
        };
        if items.len() > self.limits.max_foreach_iterations {
            if self.limits.foreach_overflow_is_error {
                return Err(RenderError::LimitExceeded("#foreach iterations"));
            }
            // Velocity's `directive.foreach.maxloops`: the loop silently stops.
            items.truncate(self.limits.max_foreach_iterations);
        }
        let saved = self.vars.remove(var);
        self.loops.push(LoopFrame {
            index: 0,
            len: items.len(),
        });
        let mut result = Ok(Flow::Normal);
        for (i, item) in items.into_iter().enumerate() {
            if let Some(f) = self.loops.last_mut() {
                f.index = i;
            }
            self.vars.insert(var.into(), item);
            match self.nodes(body, out) {
                Ok(Flow::Normal) => {}
                Ok(Flow::Break) => break,
                other => {
                    result = other;
                    break;
                }
            }
        }
        self.loops.pop();
        match saved {
            Some(v) => self.vars.insert(var.into(), v),
            None => self.vars.remove(var),
        };
        result
    }

    fn assign(&mut self, target: &Reference, v: Value) -> R<()> {
        // Velocity 1.x: a null right-hand side leaves the target untouched.
        if matches!(v, Value::Null) {
            return Ok(());
        }
        let Some((last, init)) = target.segs.split_last() else {
            self.vars.insert(target.name.clone(), v);
            return Ok(());
        };
        let mut container = self.lookup(&target.name);
        for s in init {
            container = self.segment(container, s)?;
        }
        match (container, last) {
            (Value::Map(id), Seg::Prop(p)) => {
                self.heap.maps[id].insert(p.to_string(), v);
            }
            (Value::Map(id), Seg::Index(e)) => {
                let k = self.expr(e)?;
                let k = self.java_string(&k, 0)?;
                self.heap.maps[id].insert(k, v);
            }
            (Value::List(id), Seg::Index(e)) => {
                if let Value::Int(i) = self.expr(e)? {
                    if let Some(slot) = usize::try_from(i)
                        .ok()
                        .and_then(|i| self.heap.lists[id].items.get_mut(i))
                    {
                        *slot = v;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    // ------------------------------------------------------------ references

    fn lookup(&self, name: &str) -> Value {
        if !self.loops.is_empty() {
            if name == "foreach" {
                return Value::Loop(self.loops.len() - 1);
            }
            if name == "velocityCount" {
                return Value::Int(self.loops[self.loops.len() - 1].index as i64 + 1);
            }
        }
        self.vars.get(name).cloned().unwrap_or(Value::Null)
    }

    fn reference(&mut self, r: &Reference) -> R<Value> {
        let mut v = self.lookup(&r.name);
        for s in &r.segs {
            v = self.segment(v, s)?;
        }
        Ok(v)
    }

    fn segment(&mut self, v: Value, s: &Seg) -> R<Value> {
        self.step()?;
        match s {
            Seg::Prop(p) => self.property(v, p),
            Seg::Call(m, args) => {
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(self.expr(a)?);
                }
                self.call(v, m, vals)
            }
            Seg::Index(e) => {
                let k = self.expr(e)?;
                Ok(match (&v, k) {
                    (Value::List(id), Value::Int(i)) => usize::try_from(i)
                        .ok()
                        .and_then(|i| self.heap.lists[*id].items.get(i).cloned())
                        .unwrap_or(Value::Null),
                    (Value::Map(_), k) => {
                        let k = self.java_string(&k, 0)?;
                        self.property(v, &k)?
                    }
                    _ => Value::Null,
                })
            }
        }
    }

    fn property(&mut self, v: Value, p: &str) -> R<Value> {
        Ok(match v {
            Value::Map(id) => self.heap.maps[id].get(p).cloned().unwrap_or(Value::Null),
            Value::Input => match p {
                "body" => Value::Str(self.body.clone()),
                "params" => self.call(Value::Input, "params", Vec::new())?,
                _ => Value::Null,
            },
            Value::Loop(d) => self.loop_prop(d, p),
            Value::Entry(..) => match p {
                "key" => self.call(v, "getKey", Vec::new())?,
                "value" => self.call(v, "getValue", Vec::new())?,
                _ => Value::Null,
            },
            Value::Null | Value::Util | Value::Block(_) => Value::Null,
            // JavaBean getters: `$x.empty` → isEmpty(), `$x.foo` → getFoo().
            other => {
                let mut cap = String::with_capacity(p.len() + 3);
                let mut chars = p.chars();
                if let Some(c) = chars.next() {
                    cap.extend(c.to_uppercase());
                    cap.push_str(chars.as_str());
                }
                let got = self.call(other.clone(), &format!("get{cap}"), Vec::new())?;
                if matches!(got, Value::Null) {
                    self.call(other, &format!("is{cap}"), Vec::new())?
                } else {
                    got
                }
            }
        })
    }

    fn loop_prop(&self, d: usize, p: &str) -> Value {
        let f = &self.loops[d];
        match p {
            "hasNext" => Value::Bool(f.index + 1 < f.len),
            "index" => Value::Int(f.index as i64),
            "count" => Value::Int(f.index as i64 + 1),
            "first" => Value::Bool(f.index == 0),
            "last" => Value::Bool(f.index + 1 == f.len),
            "parent" if d > 0 => Value::Loop(d - 1),
            _ => Value::Null,
        }
    }

    // ------------------------------------------------------------ expressions

    fn expr(&mut self, e: &Expr) -> R<Value> {
        self.step()?;
        Ok(match e {
            Expr::Null => Value::Null,
            Expr::Bool(b) => Value::Bool(*b),
            Expr::Int(i) => Value::Int(*i),
            Expr::Float(f) => Value::Float(*f),
            Expr::Str(s) => Value::Str(Rc::from(&**s)),
            Expr::Interp(nodes) => {
                let mut s = String::new();
                self.enter()?;
                let r = self.nodes(nodes, &mut s);
                self.depth -= 1;
                r?;
                Value::Str(s.into())
            }
            Expr::List(items) => {
                let mut vals = Vec::with_capacity(items.len());
                for i in items {
                    vals.push(self.expr(i)?);
                }
                Value::List(self.new_list(vals, false))
            }
            Expr::Map(entries) => {
                let mut m = IndexMap::with_capacity(entries.len());
                for (k, v) in entries {
                    let k = self.expr(k)?;
                    let k = self.java_string(&k, 0)?;
                    let v = self.expr(v)?;
                    m.insert(k, v);
                }
                Value::Map(self.new_map(m))
            }
            Expr::Range(a, b) => {
                let (a, b) = (self.expr(a)?, self.expr(b)?);
                let (Some(a), Some(b)) = (as_int(&a), as_int(&b)) else {
                    return Ok(Value::Null);
                };
                let n = a.abs_diff(b).saturating_add(1);
                self.check_len(usize::try_from(n).unwrap_or(usize::MAX))?;
                let items: Vec<Value> = if a <= b {
                    (a..=b).map(Value::Int).collect()
                } else {
                    (b..=a).rev().map(Value::Int).collect()
                };
                Value::List(self.new_list(items, false))
            }
            Expr::Ref(r) => self.reference(r)?,
            Expr::Not(e) => Value::Bool(!truthy(&self.expr(e)?)),
            Expr::Neg(e) => match self.expr(e)? {
                Value::Int(i) => i
                    .checked_neg()
                    .map_or(Value::Float(-(i as f64)), Value::Int),
                Value::Float(f) => Value::Float(-f),
                _ => Value::Null,
            },
            Expr::Bin(op, l, r) => match op {
                BinOp::And => Value::Bool(truthy(&self.expr(l)?) && truthy(&self.expr(r)?)),
                BinOp::Or => Value::Bool(truthy(&self.expr(l)?) || truthy(&self.expr(r)?)),
                _ => {
                    let (l, r) = (self.expr(l)?, self.expr(r)?);
                    self.binary(*op, l, r)?
                }
            },
        })
    }

    fn binary(&mut self, op: BinOp, l: Value, r: Value) -> R<Value> {
        Ok(match op {
            BinOp::Eq => Value::Bool(self.loose_eq(&l, &r)?),
            BinOp::Ne => Value::Bool(!self.loose_eq(&l, &r)?),
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let ord = match (&l, &r) {
                    (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
                    _ => match (as_f64(&l), as_f64(&r)) {
                        (Some(a), Some(b)) => a.partial_cmp(&b),
                        _ => None,
                    },
                };
                use std::cmp::Ordering::*;
                Value::Bool(match (op, ord) {
                    (_, None) => false,
                    (BinOp::Lt, Some(o)) => o == Less,
                    (BinOp::Le, Some(o)) => o != Greater,
                    (BinOp::Gt, Some(o)) => o == Greater,
                    (_, Some(o)) => o != Less,
                })
            }
            BinOp::Add if matches!(l, Value::Str(_)) || matches!(r, Value::Str(_)) => {
                if matches!(l, Value::Null) || matches!(r, Value::Null) {
                    return Ok(Value::Null);
                }
                let mut s = self.java_string(&l, 0)?;
                s.push_str(&self.java_string(&r, 0)?);
                self.check_len(s.len() / 16)?;
                Value::Str(s.into())
            }
            _ => arith(op, &l, &r),
        })
    }

    /// Velocity `==`: same-type values compare by value, different types by their
    /// `toString()` forms; AWS additionally treats null as equal to "" (vtl.md §2).
    fn loose_eq(&mut self, l: &Value, r: &Value) -> R<bool> {
        Ok(match (l, r) {
            (Value::Null, Value::Null) => true,
            (Value::Null, Value::Str(s)) | (Value::Str(s), Value::Null) => s.is_empty(),
            (Value::Null, _) | (_, Value::Null) => false,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
                as_f64(l) == as_f64(r)
            }
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            _ => self.java_string(l, 0)? == self.java_string(r, 0)?,
        })
    }

    // ------------------------------------------------------------ text forms

    /// Appends a value in output position: null renders as nothing (AWS rule).
    fn write_value(&mut self, v: &Value, out: &mut String) -> R<()> {
        match v {
            Value::Null => Ok(()),
            Value::Str(s) => self.write(out, s),
            Value::Block(b) => {
                let nodes = &self.tpl.defs.blocks[*b];
                self.enter()?;
                let r = self.nodes(nodes, out);
                self.depth -= 1;
                r.map(|_| ())
            }
            other => {
                let s = self.java_string(other, 0)?;
                self.write(out, &s)
            }
        }
    }

    /// Java `String.valueOf(v)`.
    pub(crate) fn java_string(&mut self, v: &Value, depth: usize) -> R<String> {
        if depth > MAX_VALUE_DEPTH {
            return Err(RenderError::LimitExceeded("value nesting"));
        }
        Ok(match v {
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => java::format_double(*f),
            Value::Str(s) => s.to_string(),
            Value::List(id) => {
                if self.heap.lists[*id].json {
                    let mut s = String::new();
                    self.write_json(v, &mut s, depth)?;
                    s
                } else {
                    let items = self.heap.lists[*id].items.clone();
                    let mut s = String::from("[");
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            s.push_str(", ");
                        }
                        s.push_str(&self.java_string(item, depth + 1)?);
                        self.check_output_len(s.len())?;
                    }
                    s.push(']');
                    s
                }
            }
            Value::Map(id) => {
                let entries: Vec<(String, Value)> = self.heap.maps[*id]
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let mut s = String::from("{");
                for (i, (k, item)) in entries.iter().enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    s.push_str(k);
                    s.push('=');
                    s.push_str(&self.java_string(item, depth + 1)?);
                    self.check_output_len(s.len())?;
                }
                s.push('}');
                s
            }
            Value::Entry(m, k) => {
                let val = self.heap.maps[*m].get(&**k).cloned().unwrap_or(Value::Null);
                format!("{k}={}", self.java_string(&val, depth + 1)?)
            }
            Value::Block(_) => {
                let mut s = String::new();
                self.write_value(v, &mut s)?;
                s
            }
            Value::Loop(_) | Value::Input | Value::Util => String::new(),
        })
    }

    fn check_output_len(&self, n: usize) -> R<()> {
        if n > self.limits.max_output_bytes {
            return Err(RenderError::LimitExceeded("output size"));
        }
        Ok(())
    }

    /// Compact JSON, as json-smart serializes (used for JSON-origin lists).
    fn write_json(&mut self, v: &Value, out: &mut String, depth: usize) -> R<()> {
        if depth > MAX_VALUE_DEPTH {
            return Err(RenderError::LimitExceeded("value nesting"));
        }
        self.check_output_len(out.len())?;
        match v {
            Value::Null | Value::Loop(_) | Value::Input | Value::Util => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) if f.is_finite() => out.push_str(&java::format_double(*f)),
            Value::Float(_) => out.push_str("null"),
            Value::Str(s) => java::json_quote(s, out),
            Value::List(id) => {
                let items = self.heap.lists[*id].items.clone();
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    self.write_json(item, out, depth + 1)?;
                }
                out.push(']');
            }
            Value::Map(id) => {
                let entries: Vec<(String, Value)> = self.heap.maps[*id]
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                out.push('{');
                for (i, (k, item)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    java::json_quote(k, out);
                    out.push(':');
                    self.write_json(item, out, depth + 1)?;
                }
                out.push('}');
            }
            Value::Entry(..) | Value::Block(_) => {
                let s = self.java_string(v, depth)?;
                java::json_quote(&s, out);
            }
        }
        Ok(())
    }

    #[allow(clippy::wrong_self_convention)]
    fn from_json(&mut self, j: &Json) -> Value {
        match j {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Json::String(s) => Value::Str(s.as_str().into()),
            Json::Array(a) => {
                let items = a.iter().map(|x| self.from_json(x)).collect();
                Value::List(self.new_list(items, true))
            }
            Json::Object(o) => {
                let m = o
                    .iter()
                    .map(|(k, v)| (k.clone(), self.from_json(v)))
                    .collect();
                Value::Map(self.new_map(m))
            }
        }
    }

    fn to_json(&self, v: &Value, depth: usize) -> Json {
        if depth > MAX_VALUE_DEPTH {
            return Json::Null;
        }
        match v {
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
            Value::Str(s) => Json::String(s.to_string()),
            Value::List(id) => Json::Array(
                self.heap.lists[*id]
                    .items
                    .iter()
                    .map(|x| self.to_json(x, depth + 1))
                    .collect(),
            ),
            Value::Map(id) => Json::Object(
                self.heap.maps[*id]
                    .iter()
                    .map(|(k, x)| (k.clone(), self.to_json(x, depth + 1)))
                    .collect(),
            ),
            _ => Json::Null,
        }
    }

    // ------------------------------------------------------------ methods

    fn regex(&mut self, pattern: &str, full: bool) -> R<Regex> {
        let key = if full {
            format!("^(?:{pattern})$")
        } else {
            pattern.to_string()
        };
        if let Some(r) = self.regexes.get(&key) {
            return Ok(r.clone());
        }
        let re = regex::RegexBuilder::new(&key)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| RenderError::Method(format!("invalid regex {pattern:?}: {e}")))?;
        self.regexes.insert(key, re.clone());
        Ok(re)
    }

    fn body_json(&mut self) -> R<Option<Rc<Json>>> {
        if let Some(parsed) = &self.body_json {
            return Ok(parsed.clone());
        }
        let t = self.body.trim_start();
        let parsed = if t.starts_with(['{', '[', '"', '\'']) {
            match serde_json::from_str::<Json>(&self.body) {
                Ok(j) => Some(Rc::new(j)),
                Err(e) => return Err(RenderError::InvalidBody(e.to_string())),
            }
        } else {
            None
        };
        self.body_json = Some(parsed.clone());
        Ok(parsed)
    }

    /// `$input.json(path)` (as_json) and `$input.path(path)`.
    fn input_path(&mut self, path: &str, as_json: bool) -> R<Value> {
        let jp = JsonPath::parse(path).map_err(RenderError::Method)?;
        let Some(doc) = self.body_json()? else {
            // Not JSON: only the root path has a value, the raw text.
            let is_root = path.trim() == "$";
            return Ok(match (is_root, as_json) {
                (true, false) => Value::Str(self.body.clone()),
                (true, true) => {
                    let mut s = String::new();
                    java::json_quote(&self.body, &mut s);
                    Value::Str(s.into())
                }
                (false, false) => Value::Null,
                (false, true) => Value::Str("\"\"".into()),
            });
        };
        let sel = jp.select(&doc);
        if as_json {
            let text = match sel {
                Selection::Definite(None) => "\"\"".to_string(),
                Selection::Definite(Some(j)) => json_text(j),
                Selection::List(xs) => {
                    let mut s = String::from("[");
                    for (i, x) in xs.iter().enumerate() {
                        if i > 0 {
                            s.push(',');
                        }
                        s.push_str(&json_text(x));
                    }
                    s.push(']');
                    s
                }
            };
            self.check_output_len(text.len())?;
            return Ok(Value::Str(text.into()));
        }
        Ok(match sel {
            Selection::Definite(None) => Value::Null,
            Selection::Definite(Some(j)) => self.from_json(j),
            Selection::List(xs) => {
                let items = xs.into_iter().map(|x| self.from_json(x)).collect();
                Value::List(self.new_list(items, true))
            }
        })
    }

    fn call(&mut self, recv: Value, m: &str, args: Vec<Value>) -> R<Value> {
        self.step()?;
        match recv {
            Value::Null => Ok(Value::Null),
            Value::Input => self.call_input(m, args),
            Value::Util => self.call_util(m, args),
            Value::Str(s) => self.call_string(&s, m, args),
            Value::List(id) => self.call_list(id, m, args),
            Value::Map(id) => self.call_map(id, m, args),
            Value::Entry(map, key) => Ok(match m {
                "getKey" => Value::Str(key),
                "getValue" => self.heap.maps[map]
                    .get(&*key)
                    .cloned()
                    .unwrap_or(Value::Null),
                "toString" => Value::Str(self.java_string(&Value::Entry(map, key), 0)?.into()),
                _ => Value::Null,
            }),
            Value::Loop(d) => Ok(
                match m.strip_prefix("get").or_else(|| m.strip_prefix("is")) {
                    Some(p) if !p.is_empty() => {
                        let mut p = p.to_string();
                        p[..1].make_ascii_lowercase();
                        self.loop_prop(d, &p)
                    }
                    _ => self.loop_prop(d, m),
                },
            ),
            v @ (Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::Block(_)) => {
                self.call_scalar(v, m, args)
            }
        }
    }

    fn call_input(&mut self, m: &str, args: Vec<Value>) -> R<Value> {
        let arg = match args.first() {
            Some(a) => Some(self.java_string(a, 0)?),
            None => None,
        };
        match (m, arg) {
            ("json", Some(p)) => self.input_path(&p, true),
            ("path", Some(p)) => self.input_path(&p, false),
            ("params", None) => {
                let mut all = IndexMap::new();
                let groups = [
                    ("path", self.input.path),
                    ("querystring", self.input.querystring),
                    ("header", self.input.header),
                ];
                for (name, pairs) in groups {
                    let m: IndexMap<String, Value> = pairs
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::Str(v.as_str().into())))
                        .collect();
                    let id = self.new_map(m);
                    all.insert(name.to_string(), Value::Map(id));
                }
                Ok(Value::Map(self.new_map(all)))
            }
            ("params", Some(name)) => {
                let found = last_match(self.input.path, |k| k == name)
                    .or_else(|| last_match(self.input.querystring, |k| k == name))
                    .or_else(|| last_match(self.input.header, |k| k.eq_ignore_ascii_case(&name)));
                Ok(Value::Str(found.unwrap_or("").into()))
            }
            ("getBody", None) => Ok(Value::Str(self.body.clone())),
            _ => Ok(Value::Null),
        }
    }

    fn call_util(&mut self, m: &str, args: Vec<Value>) -> R<Value> {
        let Some(arg) = args.first() else {
            return Ok(Value::Null);
        };
        if matches!(arg, Value::Null) {
            return Ok(Value::Null);
        }
        let s = self.java_string(arg, 0)?;
        Ok(match m {
            "escapeJavaScript" => Value::Str(java::escape_javascript(&s).into()),
            "urlEncode" => Value::Str(java::url_encode(&s).into()),
            "urlDecode" => match java::url_decode(&s) {
                Some(d) => Value::Str(d.into()),
                None => return Err(RenderError::Method("urlDecode: malformed escape".into())),
            },
            "base64Encode" => Value::Str(java::base64_encode(&s).into()),
            "base64Decode" => match java::base64_decode(&s) {
                Some(d) => Value::Str(d.into()),
                None => return Err(RenderError::Method("base64Decode: invalid input".into())),
            },
            "parseJson" => match serde_json::from_str::<Json>(&s) {
                Ok(j) => self.from_json(&j),
                Err(e) => return Err(RenderError::Method(format!("parseJson: {e}"))),
            },
            _ => Value::Null,
        })
    }

    fn str_arg(&mut self, args: &[Value], i: usize) -> R<Option<String>> {
        match args.get(i) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => Ok(Some(self.java_string(v, 0)?)),
        }
    }

    fn call_string(&mut self, s: &Rc<str>, m: &str, args: Vec<Value>) -> R<Value> {
        let a0 = self.str_arg(&args, 0)?;
        let a1 = self.str_arg(&args, 1)?;
        let i0 = args.first().and_then(as_int);
        let i1 = args.get(1).and_then(as_int);
        let str_v = |x: String| Value::Str(x.into());
        let oob = || RenderError::Method(format!("{m}: string index out of range"));
        Ok(match (m, args.len()) {
            ("length", 0) => Value::Int(java::utf16_len(s) as i64),
            ("toString", 0) | ("intern", 0) => Value::Str(s.clone()),
            ("trim", 0) => str_v(s.trim_matches(|c: char| c <= ' ').to_string()),
            ("toLowerCase", 0) => str_v(s.to_lowercase()),
            ("toUpperCase", 0) => str_v(s.to_uppercase()),
            ("isEmpty", 0) => Value::Bool(s.is_empty()),
            ("substring", 1) => match i0 {
                Some(b) => str_v(java::substring(s, b, None).ok_or_else(oob)?),
                None => Value::Null,
            },
            ("substring", 2) => match (i0, i1) {
                (Some(b), Some(e)) => str_v(java::substring(s, b, Some(e)).ok_or_else(oob)?),
                _ => Value::Null,
            },
            ("charAt", 1) => match i0 {
                Some(i) => str_v(java::char_at(s, i).ok_or_else(oob)?),
                None => Value::Null,
            },
            ("indexOf", 1) => a0.map_or(Value::Null, |n| Value::Int(java::index_of(s, &n, false))),
            ("lastIndexOf", 1) => {
                a0.map_or(Value::Null, |n| Value::Int(java::index_of(s, &n, true)))
            }
            ("contains", 1) => a0.map_or(Value::Null, |n| Value::Bool(s.contains(n.as_str()))),
            ("startsWith", 1) => a0.map_or(Value::Null, |n| Value::Bool(s.starts_with(n.as_str()))),
            ("endsWith", 1) => a0.map_or(Value::Null, |n| Value::Bool(s.ends_with(n.as_str()))),
            ("equals", 1) => Value::Bool(matches!(args.first(), Some(Value::Str(o)) if o == s)),
            ("equalsIgnoreCase", 1) => Value::Bool(
                matches!(args.first(), Some(Value::Str(o)) if o.to_lowercase() == s.to_lowercase()),
            ),
            ("concat", 1) => match a0 {
                Some(o) => {
                    self.check_output_len(s.len() + o.len())?;
                    str_v(format!("{s}{o}"))
                }
                None => Value::Null,
            },
            ("replace", 2) => match (a0, a1) {
                (Some(a), Some(b)) => {
                    let r = if a.is_empty() {
                        // Java inserts the replacement between every character.
                        let mut r = b.clone();
                        for c in s.chars() {
                            r.push(c);
                            r.push_str(&b);
                        }
                        r
                    } else {
                        s.replace(a.as_str(), &b)
                    };
                    self.check_output_len(r.len())?;
                    str_v(r)
                }
                _ => Value::Null,
            },
            ("replaceAll" | "replaceFirst", 2) => match (a0, a1) {
                (Some(re), Some(rep)) => {
                    let re = self.regex(&re, false)?;
                    let rep = java::java_replacement(&rep);
                    let r = if m == "replaceAll" {
                        re.replace_all(s, rep.as_str()).into_owned()
                    } else {
                        re.replace(s, rep.as_str()).into_owned()
                    };
                    self.check_output_len(r.len())?;
                    str_v(r)
                }
                _ => Value::Null,
            },
            ("matches", 1) => match a0 {
                Some(re) => Value::Bool(self.regex(&re, true)?.is_match(s)),
                None => Value::Null,
            },
            ("split", 1) => match a0 {
                Some(re) => {
                    let re = self.regex(&re, false)?;
                    let parts = java_split(&re, s);
                    self.check_len(parts.len())?;
                    let items = parts.into_iter().map(|p| Value::Str(p.into())).collect();
                    Value::List(self.new_list(items, false))
                }
                None => Value::Null,
            },
            ("hashCode", 0) => {
                let h = s
                    .encode_utf16()
                    .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(u as i32));
                Value::Int(h as i64)
            }
            ("getBytes", 0) => Value::Null,
            _ => Value::Null,
        })
    }

    fn call_list(&mut self, id: usize, m: &str, args: Vec<Value>) -> R<Value> {
        let len = self.heap.lists[id].items.len();
        let oob = || RenderError::Method(format!("{m}: list index out of range"));
        Ok(match (m, args.len()) {
            ("size" | "count", 0) => Value::Int(len as i64),
            ("isEmpty", 0) => Value::Bool(len == 0),
            ("get", 1) => {
                let i = as_int(&args[0]).ok_or_else(oob)?;
                let i = usize::try_from(i).map_err(|_| oob())?;
                self.heap.lists[id].items.get(i).cloned().ok_or_else(oob)?
            }
            ("add", 1) => {
                self.check_len(len + 1)?;
                self.heap.lists[id].items.push(args[0].clone());
                Value::Bool(true)
            }
            ("add", 2) => {
                let i = as_int(&args[0])
                    .and_then(|i| usize::try_from(i).ok())
                    .filter(|&i| i <= len)
                    .ok_or_else(oob)?;
                self.check_len(len + 1)?;
                self.heap.lists[id].items.insert(i, args[1].clone());
                Value::Null
            }
            ("set", 2) => {
                let i = as_int(&args[0])
                    .and_then(|i| usize::try_from(i).ok())
                    .filter(|&i| i < len)
                    .ok_or_else(oob)?;
                std::mem::replace(&mut self.heap.lists[id].items[i], args[1].clone())
            }
            ("remove", 1) => match args[0] {
                Value::Int(i) => {
                    let i = usize::try_from(i)
                        .ok()
                        .filter(|&i| i < len)
                        .ok_or_else(oob)?;
                    self.heap.lists[id].items.remove(i)
                }
                ref x => {
                    let pos = self.position(id, x)?;
                    if let Some(p) = pos {
                        self.heap.lists[id].items.remove(p);
                    }
                    Value::Bool(pos.is_some())
                }
            },
            ("addAll", 1) => {
                if let Value::List(other) = args[0] {
                    let extra = self.heap.lists[other].items.clone();
                    self.check_len(len + extra.len())?;
                    self.heap.lists[id].items.extend(extra);
                }
                Value::Bool(true)
            }
            ("contains", 1) => Value::Bool(self.position(id, &args[0])?.is_some()),
            ("indexOf", 1) => Value::Int(self.position(id, &args[0])?.map_or(-1, |p| p as i64)),
            ("toString", 0) => Value::Str(self.java_string(&Value::List(id), 0)?.into()),
            ("equals", 1) => {
                let (a, b) = (Value::List(id), args[0].clone());
                Value::Bool(
                    matches!(b, Value::List(_))
                        && self.java_string(&a, 0)? == self.java_string(&b, 0)?,
                )
            }
            _ => Value::Null,
        })
    }

    fn position(&mut self, id: usize, x: &Value) -> R<Option<usize>> {
        let items = self.heap.lists[id].items.clone();
        for (i, item) in items.iter().enumerate() {
            if self.strict_eq(item, x)? {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }

    /// Java `equals`: same kind and same value (numbers compare across int/float kinds
    /// only when both are the same kind).
    fn strict_eq(&mut self, a: &Value, b: &Value) -> R<bool> {
        Ok(match (a, b) {
            (Value::Null, Value::Null) => true,
            (Value::Int(x), Value::Int(y)) => x == y,
            (Value::Float(x), Value::Float(y)) => x == y,
            (Value::Str(x), Value::Str(y)) => x == y,
            (Value::Bool(x), Value::Bool(y)) => x == y,
            (Value::List(_), Value::List(_)) | (Value::Map(_), Value::Map(_)) => {
                self.java_string(a, 0)? == self.java_string(b, 0)?
            }
            _ => false,
        })
    }

    fn call_map(&mut self, id: usize, m: &str, args: Vec<Value>) -> R<Value> {
        let key = self.str_arg(&args, 0)?;
        Ok(match (m, args.len()) {
            ("get", 1) => key
                .and_then(|k| self.heap.maps[id].get(&k).cloned())
                .unwrap_or(Value::Null),
            ("put", 2) => {
                let Some(k) = key else { return Ok(Value::Null) };
                self.check_len(self.heap.maps[id].len() + 1)?;
                self.heap.maps[id]
                    .insert(k, args[1].clone())
                    .unwrap_or(Value::Null)
            }
            ("putAll", 1) => {
                if let Value::Map(other) = args[0] {
                    let extra: Vec<(String, Value)> = self.heap.maps[other]
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    self.check_len(self.heap.maps[id].len() + extra.len())?;
                    self.heap.maps[id].extend(extra);
                }
                Value::Null
            }
            ("remove", 1) => key
                .and_then(|k| self.heap.maps[id].shift_remove(&k))
                .unwrap_or(Value::Null),
            ("containsKey", 1) => {
                Value::Bool(key.is_some_and(|k| self.heap.maps[id].contains_key(&k)))
            }
            ("containsValue", 1) => {
                let vals: Vec<Value> = self.heap.maps[id].values().cloned().collect();
                let mut found = false;
                for v in &vals {
                    if self.strict_eq(v, &args[0])? {
                        found = true;
                        break;
                    }
                }
                Value::Bool(found)
            }
            ("keySet", 0) => {
                let keys = self.heap.maps[id]
                    .keys()
                    .map(|k| Value::Str(k.as_str().into()))
                    .collect();
                Value::List(self.new_list(keys, false))
            }
            ("values", 0) => {
                let vals = self.heap.maps[id].values().cloned().collect();
                Value::List(self.new_list(vals, false))
            }
            ("entrySet", 0) => {
                let entries = self.heap.maps[id]
                    .keys()
                    .map(|k| Value::Entry(id, k.as_str().into()))
                    .collect();
                Value::List(self.new_list(entries, false))
            }
            ("size", 0) => Value::Int(self.heap.maps[id].len() as i64),
            ("isEmpty", 0) => Value::Bool(self.heap.maps[id].is_empty()),
            ("toString", 0) => Value::Str(self.java_string(&Value::Map(id), 0)?.into()),
            ("equals", 1) => {
                let (a, b) = (Value::Map(id), args[0].clone());
                Value::Bool(
                    matches!(b, Value::Map(_))
                        && self.java_string(&a, 0)? == self.java_string(&b, 0)?,
                )
            }
            _ => Value::Null,
        })
    }

    fn call_scalar(&mut self, v: Value, m: &str, args: Vec<Value>) -> R<Value> {
        Ok(match (m, args.len()) {
            ("toString", 0) => Value::Str(self.java_string(&v, 0)?.into()),
            ("equals", 1) => Value::Bool(self.strict_eq(&v, &args[0])?),
            ("intValue" | "longValue", 0) => match v {
                Value::Int(i) => Value::Int(i),
                Value::Float(f) => Value::Int(f as i64),
                _ => Value::Null,
            },
            ("doubleValue" | "floatValue", 0) => as_f64(&v).map_or(Value::Null, Value::Float),
            ("booleanValue", 0) => match v {
                Value::Bool(b) => Value::Bool(b),
                _ => Value::Null,
            },
            _ => Value::Null,
        })
    }
}

fn last_match(pairs: &[(String, String)], f: impl Fn(&str) -> bool) -> Option<&str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| f(k))
        .map(|(_, v)| v.as_str())
}

/// JSON text of a value from the request body (`$input.json`).
fn json_text(j: &Json) -> String {
    fn go(j: &Json, out: &mut String) {
        match j {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(n) => match n.as_i64() {
                Some(i) => {
                    let _ = write!(out, "{i}");
                }
                None => match n.as_u64() {
                    Some(u) => {
                        let _ = write!(out, "{u}");
                    }
                    None => out.push_str(&java::format_double(n.as_f64().unwrap_or(0.0))),
                },
            },
            Json::String(s) => java::json_quote(s, out),
            Json::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    go(x, out);
                }
                out.push(']');
            }
            Json::Object(o) => {
                out.push('{');
                for (i, (k, x)) in o.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    java::json_quote(k, out);
                    out.push(':');
                    go(x, out);
                }
                out.push('}');
            }
        }
    }
    let mut s = String::new();
    go(j, &mut s);
    s
}

/// Java `String.split(regex)`: no leading empty piece for a zero-width match at 0,
/// trailing empty pieces dropped.
fn java_split(re: &Regex, s: &str) -> Vec<String> {
    if s.is_empty() {
        return vec![String::new()];
    }
    let mut parts = Vec::new();
    let mut last = 0;
    for m in re.find_iter(s) {
        if m.end() == 0 {
            continue;
        }
        if m.start() == m.end() && m.start() >= s.len() {
            break;
        }
        parts.push(s[last..m.start()].to_string());
        last = m.end();
    }
    parts.push(s[last..].to_string());
    while parts.len() > 1 && parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    if parts.len() == 1 && parts[0].is_empty() {
        return Vec::new();
    }
    parts
}

fn truthy(v: &Value) -> bool {
    !matches!(v, Value::Null | Value::Bool(false))
}

fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        _ => None,
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// Numeric operators; integer division truncates, division by zero and non-numbers
/// give null (Velocity logs and yields null), overflow falls back to floating point.
fn arith(op: BinOp, l: &Value, r: &Value) -> Value {
    match (l, r) {
        (Value::Int(a), Value::Int(b)) => {
            let (a, b) = (*a, *b);
            let r = match op {
                BinOp::Add => a.checked_add(b),
                BinOp::Sub => a.checked_sub(b),
                BinOp::Mul => a.checked_mul(b),
                BinOp::Div if b == 0 => return Value::Null,
                BinOp::Div => a.checked_div(b),
                BinOp::Mod if b == 0 => return Value::Null,
                BinOp::Mod => a.checked_rem(b),
                _ => return Value::Null,
            };
            match r {
                Some(i) => Value::Int(i),
                None => arith(op, &Value::Float(a as f64), &Value::Float(b as f64)),
            }
        }
        _ => {
            let (Some(a), Some(b)) = (as_f64(l), as_f64(r)) else {
                return Value::Null;
            };
            match op {
                BinOp::Add => Value::Float(a + b),
                BinOp::Sub => Value::Float(a - b),
                BinOp::Mul => Value::Float(a * b),
                BinOp::Div if b == 0.0 => Value::Null,
                BinOp::Div => Value::Float(a / b),
                BinOp::Mod if b == 0.0 => Value::Null,
                BinOp::Mod => Value::Float(a % b),
                _ => Value::Null,
            }
        }
    }
}
