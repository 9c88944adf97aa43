//! Template evaluation.
//!
//! Values a template builds live in a per-render arena (`Heap`) addressed by index: Java
//! maps and lists have reference semantics (`$m.put` through any alias is visible
//! everywhere), and an arena gives that without `Rc` cycles outliving a render.
//!
//! JSON documents (the request body, `$context`) are read in place: `$input.path('$')`
//! is a [`Value::Json`] pointing into the body parsed once per render, and property reads
//! walk the document without copying it. Only when a template changes a JSON object or
//! array (`put`, `#set($r.x = …)`, `add`) is that one node copied into the heap, and
//! the copy is remembered under the node's tape position and *origin*, so every alias
//! sees the change. The origin tells apart values that must not share changes: each
//! `$input.path()` call is its own origin (AWS hands out a fresh object per call), and
//! `$context` is origin 0.

use crate::ast::{
    BinOp, Defs, Expr, Node, Reference, Seg, Slot, CONTEXT, FOREACH, INPUT, STAGE_VARIABLES, UTIL,
    VELOCITY_COUNT,
};
use crate::error::RenderError;
use crate::input::Input;
use crate::java;
use crate::jsonpath::{JsonPath, Selection};
use crate::limits::Limits;
use crate::tape::{Node as Doc, Tape, Tok};
use indexmap::IndexMap;
use regex::Regex;
use serde_json::Value as Json;
use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::ops::Deref;
use std::rc::Rc;

/// A string value: borrowed from the template, the request or a JSON document when it
/// can be, shared when the render made it.
#[derive(Debug, Clone)]
pub(crate) enum Text<'a> {
    Borrowed(&'a str),
    Shared(Rc<str>),
}

impl Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Text::Borrowed(s) => s,
            Text::Shared(s) => s,
        }
    }
}

impl From<String> for Text<'_> {
    fn from(s: String) -> Self {
        Text::Shared(s.into())
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Value<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Text<'a>),
    /// An array or object of a JSON document, read in place (module docs); the `u32` is
    /// its origin.
    Json(u32, Doc<'a>),
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

impl<'a> Value<'a> {
    fn is_list(&self) -> bool {
        match self {
            Value::List(_) => true,
            Value::Json(_, n) => n.is_array(),
            _ => false,
        }
    }

    fn is_map(&self) -> bool {
        match self {
            Value::Map(_) => true,
            Value::Json(_, n) => n.is_object(),
            _ => false,
        }
    }
}

/// The value of a JSON node: scalars become engine values (strings borrowed from the
/// document), arrays and objects stay in place.
#[inline]
fn from_doc(origin: u32, n: Doc<'_>) -> Value<'_> {
    match n.tok() {
        Tok::Str(_) | Tok::Esc(..) => Value::Str(Text::Borrowed(n.text().unwrap_or_default())),
        Tok::Array { .. } | Tok::Object { .. } => Value::Json(origin, n),
        Tok::Bool(b) => Value::Bool(b),
        Tok::Int(i) => Value::Int(i),
        // Beyond a Java long: json-smart gives a BigInteger, which we treat as a double.
        Tok::UInt(u) => Value::Float(u as f64),
        Tok::Float(f) => Value::Float(f),
        Tok::Null => Value::Null,
    }
}

struct ListObj<'a> {
    items: Vec<Value<'a>>,
    /// Lists that came from JSON (`$input.path`, `parseJson`) render as JSON, like
    /// json-smart's JSONArray; lists built in the template render like `ArrayList`.
    json: bool,
}

#[derive(Default)]
struct Heap<'a> {
    lists: Vec<ListObj<'a>>,
    maps: Vec<IndexMap<String, Value<'a>>>,
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

/// `$context`'s origin; body values get origins from 1 up.
const CONTEXT_ORIGIN: u32 = 0;

/// The request body parsed as JSON, once per render: `None` when it does not look like
/// JSON (vtl.md §3), an error when it looks like JSON but does not parse.
pub(crate) type BodyDoc<'a> = OnceCell<Result<Option<Tape<'a>>, String>>;

pub(crate) struct State<'a> {
    defs: &'a Defs,
    input: &'a Input<'a>,
    limits: &'a Limits,
    heap: Heap<'a>,
    vars: Vec<Option<Value<'a>>>,
    loops: Vec<LoopFrame>,
    steps: u64,
    /// `limits.max_steps`, kept here: `step` runs about a thousand times per render.
    max_steps: u64,
    depth: usize,
    body: &'a str,
    body_doc: &'a BodyDoc<'a>,
    context: Doc<'a>,
    /// Heap copies of JSON nodes the template changed, by (origin, node address).
    copies: HashMap<(u32, usize), Value<'a>>,
    context_changed: bool,
    next_origin: u32,
    regexes: HashMap<(String, bool), Regex>,
}

impl<'a> State<'a> {
    pub(crate) fn new(
        defs: &'a Defs,
        input: &'a Input<'a>,
        context: Doc<'a>,
        body_doc: &'a BodyDoc<'a>,
        limits: &'a Limits,
    ) -> Self {
        // vtl.md §3: an empty payload is seen as `{}`.
        let body = if input.body.is_empty() {
            "{}"
        } else {
            input.body
        };
        let mut vars = vec![None; defs.vars.len()];
        vars[INPUT] = Some(Value::Input);
        vars[UTIL] = Some(Value::Util);
        vars[CONTEXT] = Some(Value::Json(CONTEXT_ORIGIN, context));
        // `$stageVariables` is built on first use (`lookup`).
        State {
            defs,
            input,
            limits,
            heap: Heap::default(),
            vars,
            loops: Vec::new(),
            steps: 0,
            max_steps: limits.max_steps,
            depth: 0,
            body,
            body_doc,
            context,
            copies: HashMap::new(),
            context_changed: false,
            next_origin: CONTEXT_ORIGIN + 1,
            regexes: HashMap::new(),
        }
    }

    pub(crate) fn run(&mut self, nodes: &'a [Node], out: &mut String) -> R<()> {
        self.nodes(nodes, out)?;
        Ok(())
    }

    /// The `$context` map after rendering, when the template changed any part of it.
    pub(crate) fn changed_context(&self) -> Option<serde_json::Map<String, Json>> {
        if !self.context_changed {
            return None;
        }
        match self.to_json(&Value::Json(CONTEXT_ORIGIN, self.context), 0) {
            Json::Object(m) => Some(m),
            _ => Some(serde_json::Map::new()),
        }
    }

    // ------------------------------------------------------------ bookkeeping

    #[inline]
    fn step(&mut self) -> R<()> {
        self.steps += 1;
        if self.steps > self.max_steps {
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

    #[inline]
    fn write(&self, out: &mut String, s: &str) -> R<()> {
        self.check_output_len(out.len() + s.len())?;
        out.push_str(s);
        Ok(())
    }

    fn check_output_len(&self, n: usize) -> R<()> {
        if n > self.limits.max_output_bytes {
            return Err(RenderError::LimitExceeded("output size"));
        }
        Ok(())
    }

    /// Charges work that copies data: a step per 64 bytes of string built or per 8 items
    /// copied, so a loop that keeps copying large values runs out of steps instead of
    /// time or memory (the next `step` fails).
    fn charge_bytes(&mut self, n: usize) {
        self.steps = self.steps.saturating_add(n as u64 / 64);
    }

    fn charge_items(&mut self, n: usize) {
        self.steps = self.steps.saturating_add(n as u64 / 8);
    }

    fn new_map(&mut self, m: IndexMap<String, Value<'a>>) -> usize {
        self.charge_items(m.len());
        self.heap.maps.push(m);
        self.heap.maps.len() - 1
    }

    fn new_list(&mut self, items: Vec<Value<'a>>, json: bool) -> usize {
        self.charge_items(items.len());
        self.heap.lists.push(ListObj { items, json });
        self.heap.lists.len() - 1
    }

    fn check_len(&self, n: usize) -> R<()> {
        if n > self.limits.max_collection_len {
            return Err(RenderError::LimitExceeded("collection size"));
        }
        Ok(())
    }

    // ------------------------------------------------------------ JSON in place

    /// The current form of a value: a JSON node the template changed is its heap copy.
    #[inline(always)]
    fn resolve(&self, v: Value<'a>) -> Value<'a> {
        // Most renders change no JSON: one test, inlined, and no call.
        if self.copies.is_empty() {
            return v;
        }
        self.copy_of(v)
    }

    #[inline(never)]
    fn copy_of(&self, v: Value<'a>) -> Value<'a> {
        if let Value::Json(origin, n) = v {
            if let Some(copy) = self.copies.get(&(origin, n.at)) {
                return copy.clone();
            }
        }
        v
    }

    /// A JSON array or object about to change: its heap copy (made on first change, one
    /// level deep; children stay in place until they change themselves).
    fn materialize(&mut self, v: Value<'a>) -> Value<'a> {
        let v = self.resolve(v);
        let Value::Json(origin, n) = v else {
            return v;
        };
        let copy = match n.tok() {
            Tok::Array { .. } => {
                let items = n.items().map(|x| from_doc(origin, x)).collect();
                Value::List(self.new_list(items, true))
            }
            Tok::Object { .. } => {
                let m = n
                    .members()
                    .into_iter()
                    .map(|(k, x)| (k.to_string(), from_doc(origin, x)))
                    .collect();
                Value::Map(self.new_map(m))
            }
            _ => return from_doc(origin, n),
        };
        if origin == CONTEXT_ORIGIN {
            self.context_changed = true;
        }
        self.copies.insert((origin, n.at), copy.clone());
        copy
    }

    /// The items of a list value, wherever it lives.
    fn list_items(&self, v: &Value<'a>) -> Option<Vec<Value<'a>>> {
        match self.resolve(v.clone()) {
            Value::List(id) => Some(self.heap.lists[id].items.clone()),
            Value::Json(o, a) if a.is_array() => Some(a.items().map(|x| from_doc(o, x)).collect()),
            _ => None,
        }
    }

    /// The entries of a map value, wherever it lives.
    fn map_entries(&self, v: &Value<'a>) -> Option<Vec<(Cow<'a, str>, Value<'a>)>> {
        match self.resolve(v.clone()) {
            Value::Map(id) => Some(
                self.heap.maps[id]
                    .iter()
                    .map(|(k, v)| (Cow::Owned(k.clone()), v.clone()))
                    .collect(),
            ),
            Value::Json(o, m) if m.is_object() => Some(
                m.members()
                    .into_iter()
                    .map(|(k, x)| (Cow::Borrowed(k), from_doc(o, x)))
                    .collect(),
            ),
            _ => None,
        }
    }

    // ------------------------------------------------------------ nodes

    fn nodes(&mut self, nodes: &'a [Node], out: &mut String) -> R<Flow> {
        for n in nodes {
            let flow = self.node(n, out)?;
            if flow != Flow::Normal {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    fn node(&mut self, n: &'a Node, out: &mut String) -> R<Flow> {
        self.step()?;
        match n {
            Node::Text(t) => self.write(out, t)?,
            Node::Ref(r) => {
                if !self.escape_into_output(r, out)? {
                    let v = self.reference(r)?;
                    self.write_value(&v, out)?;
                }
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
            } => return self.foreach(*var, iterable, body, out),
            Node::Break => return Ok(Flow::Break),
            Node::Stop => return Ok(Flow::Stop),
            Node::Define { var, block } => {
                self.vars[*var] = Some(Value::Block(*block));
            }
            Node::MacroCall { name, args } => {
                let Some(m) = self.defs.macros.get(name) else {
                    return Ok(Flow::Normal);
                };
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(self.expr(a)?);
                }
                let mut saved = Vec::with_capacity(m.params.len());
                for (i, &p) in m.params.iter().enumerate() {
                    let v = vals.get(i).cloned().unwrap_or(Value::Null);
                    saved.push((p, self.vars[p].replace(v)));
                }
                self.enter()?;
                let flow = self.nodes(&m.body, out);
                self.depth -= 1;
                for (p, old) in saved.into_iter().rev() {
                    self.vars[p] = old;
                }
                if flow? == Flow::Stop {
                    return Ok(Flow::Stop);
                }
            }
        }
        Ok(Flow::Normal)
    }

    /// `$util.escapeJavaScript(x)` in output position, the commonest AWS idiom, escapes
    /// straight into the output instead of through an intermediate string.
    fn escape_into_output(&mut self, r: &'a Reference, out: &mut String) -> R<bool> {
        let [Seg::Call(m, args)] = r.segs.as_slice() else {
            return Ok(false);
        };
        if r.var != UTIL
            || &**m != "escapeJavaScript"
            || args.len() != 1
            || !matches!(self.vars[UTIL], Some(Value::Util))
        {
            return Ok(false);
        }
        // The steps `reference` would have counted: the segment and the call.
        self.step()?;
        self.step()?;
        let v = self.expr(&args[0])?;
        if !matches!(v, Value::Null) {
            let s = self.text(&v)?;
            java::escape_javascript_into(&s, out);
            self.check_output_len(out.len())?;
        }
        Ok(true)
    }

    fn foreach(
        &mut self,
        var: Slot,
        iterable: &'a Expr,
        body: &'a [Node],
        out: &mut String,
    ) -> R<Flow> {
        let coll = self.expr(iterable)?;
        let coll = self.resolve(coll);
        // A JSON array is walked in place; anything else is a snapshot of its items, so a
        // body that changes the collection does not change the loop.
        let (json_items, mut items): (Option<Doc<'a>>, Vec<Value<'a>>) = match coll {
            Value::Json(_, a) if a.is_array() => (Some(a), Vec::new()),
            Value::List(id) => {
                self.charge_items(self.heap.lists[id].items.len());
                (None, self.heap.lists[id].items.clone())
            }
            Value::Map(_) | Value::Json(..) => (
                None,
                self.map_entries(&coll)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(_, v)| v)
                    .collect(),
            ),
            _ => (None, Vec::new()),
        };
        let origin = match coll {
            Value::Json(o, _) => o,
            _ => CONTEXT_ORIGIN,
        };
        let mut len = json_items.map_or(0, Doc::len).max(items.len());
        if len > self.limits.max_foreach_iterations {
            if self.limits.foreach_overflow_is_error {
                return Err(RenderError::LimitExceeded("#foreach iterations"));
            }
            // Velocity's `directive.foreach.maxloops`: the loop silently stops.
            len = self.limits.max_foreach_iterations;
            items.truncate(len);
        }
        let saved = self.vars[var].take();
        self.loops.push(LoopFrame { index: 0, len });
        let mut items = items.into_iter();
        let mut json_items = json_items.into_iter().flat_map(Doc::items);
        let mut result = Ok(Flow::Normal);
        for i in 0..len {
            if let Some(f) = self.loops.last_mut() {
                f.index = i;
            }
            let item = match json_items.next() {
                Some(n) => from_doc(origin, n),
                None => items.next().unwrap_or(Value::Null),
            };
            self.vars[var] = Some(item);
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
        self.vars[var] = saved;
        result
    }

    fn assign(&mut self, target: &'a Reference, v: Value<'a>) -> R<()> {
        // Velocity 1.x: a null right-hand side leaves the target untouched.
        if matches!(v, Value::Null) {
            return Ok(());
        }
        let Some((last, init)) = target.segs.split_last() else {
            self.vars[target.var] = Some(v);
            return Ok(());
        };
        let mut container = self.lookup(target.var);
        for s in init {
            container = self.segment(container, s)?;
        }
        let container = self.materialize(container);
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

    #[inline(always)]
    fn lookup(&mut self, var: Slot) -> Value<'a> {
        if !self.loops.is_empty() {
            if var == FOREACH {
                return Value::Loop(self.loops.len() - 1);
            }
            if var == VELOCITY_COUNT {
                return Value::Int(self.loops[self.loops.len() - 1].index as i64 + 1);
            }
        }
        if let Some(v) = &self.vars[var] {
            return v.clone();
        }
        self.unset(var)
    }

    /// `lookup` of a variable without a value: `$stageVariables` is made on first use.
    #[inline(never)]
    fn unset(&mut self, var: Slot) -> Value<'a> {
        if var == STAGE_VARIABLES {
            let sv: IndexMap<String, Value<'a>> = self
                .input
                .stage_variables
                .iter()
                .map(|(k, v)| (k.clone(), Value::Str(Text::Borrowed(v))))
                .collect();
            let v = Value::Map(self.new_map(sv));
            self.vars[var] = Some(v.clone());
            return v;
        }
        Value::Null
    }

    fn reference(&mut self, r: &'a Reference) -> R<Value<'a>> {
        let mut v = self.lookup(r.var);
        let mut segs = r.segs.as_slice();
        if let (Value::Input, [Seg::Call(m, args), Seg::Prop(group), rest @ ..]) = (&v, segs) {
            if &**m == "params" && args.is_empty() {
                if let Some(g) = self.params_group(group)? {
                    (v, segs) = (g, rest);
                }
            }
        }
        for s in segs {
            // The commonest step, a property of JSON nobody changed, without the calls
            // `segment` and `property` would make to the same effect.
            if let (Seg::Prop(p), Value::Json(o, m)) = (s, &v) {
                if m.is_object() && self.copies.is_empty() {
                    self.step()?;
                    v = m.get(p).map_or(Value::Null, |n| from_doc(*o, n));
                    continue;
                }
            }
            v = self.segment(v, s)?;
        }
        Ok(v)
    }

    /// `$input.params().path`, `.querystring` or `.header` (`None` for another name):
    /// only that group's map is made, as the map of all three is out of reach once a
    /// group is read. Steps and charges are those of the call and the property read.
    fn params_group(&mut self, group: &str) -> R<Option<Value<'a>>> {
        let input = self.input;
        let groups = [input.path, input.querystring, input.header];
        let i = match group {
            "path" => 0,
            "querystring" => 1,
            "header" => 2,
            _ => return Ok(None),
        };
        self.step()?;
        self.step()?;
        for (j, pairs) in groups.iter().enumerate() {
            if j != i {
                self.charge_items(pairs.len());
            }
        }
        let m = params_map(groups[i]);
        let v = Value::Map(self.new_map(m));
        self.step()?;
        Ok(Some(v))
    }

    fn segment(&mut self, v: Value<'a>, s: &'a Seg) -> R<Value<'a>> {
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
                let v = self.resolve(v);
                Ok(match (&v, k) {
                    (Value::List(id), Value::Int(i)) => usize::try_from(i)
                        .ok()
                        .and_then(|i| self.heap.lists[*id].items.get(i).cloned())
                        .unwrap_or(Value::Null),
                    (Value::Json(o, a), Value::Int(i)) if a.is_array() => usize::try_from(i)
                        .ok()
                        .and_then(|i| a.item(i))
                        .map_or(Value::Null, |n| from_doc(*o, n)),
                    (Value::Map(_) | Value::Json(..), k) if v.is_map() => {
                        let k = self.java_string(&k, 0)?;
                        self.property(v, &k)?
                    }
                    _ => Value::Null,
                })
            }
        }
    }

    fn property(&mut self, v: Value<'a>, p: &str) -> R<Value<'a>> {
        Ok(match self.resolve(v) {
            Value::Map(id) => self.heap.maps[id].get(p).cloned().unwrap_or(Value::Null),
            Value::Json(o, m) if m.is_object() => m.get(p).map_or(Value::Null, |n| from_doc(o, n)),
            Value::Input => match p {
                "body" => Value::Str(Text::Borrowed(self.body)),
                "params" => self.call(Value::Input, "params", Vec::new())?,
                _ => Value::Null,
            },
            Value::Loop(d) => self.loop_prop(d, p),
            v @ Value::Entry(..) => match p {
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

    fn loop_prop(&self, d: usize, p: &str) -> Value<'a> {
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

    fn expr(&mut self, e: &'a Expr) -> R<Value<'a>> {
        self.step()?;
        Ok(match e {
            Expr::Null => Value::Null,
            Expr::Bool(b) => Value::Bool(*b),
            Expr::Int(i) => Value::Int(*i),
            Expr::Float(f) => Value::Float(*f),
            Expr::Str(s) => Value::Str(Text::Borrowed(s)),
            Expr::Interp(nodes) => {
                let mut s = String::new();
                self.enter()?;
                let r = self.nodes(nodes, &mut s);
                self.depth -= 1;
                r?;
                self.charge_bytes(s.len());
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

    fn binary(&mut self, op: BinOp, l: Value<'a>, r: Value<'a>) -> R<Value<'a>> {
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
                let mut s = String::new();
                self.write_java(&l, &mut s, 0)?;
                self.write_java(&r, &mut s, 0)?;
                self.check_len(s.len() / 16)?;
                self.charge_bytes(s.len());
                Value::Str(s.into())
            }
            _ => arith(op, &l, &r),
        })
    }

    /// Velocity `==`: same-type values compare by value, different types by their
    /// `toString()` forms; AWS additionally treats null as equal to "" (vtl.md §2).
    fn loose_eq(&mut self, l: &Value<'a>, r: &Value<'a>) -> R<bool> {
        Ok(match (l, r) {
            (Value::Null, Value::Null) => true,
            (Value::Null, Value::Str(s)) | (Value::Str(s), Value::Null) => s.is_empty(),
            (Value::Null, _) | (_, Value::Null) => false,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
                as_f64(l) == as_f64(r)
            }
            (Value::Str(a), Value::Str(b)) => **a == **b,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            _ => self.java_string(l, 0)? == self.java_string(r, 0)?,
        })
    }

    // ------------------------------------------------------------ text forms

    /// Appends a value in output position: null renders as nothing (AWS rule).
    fn write_value(&mut self, v: &Value<'a>, out: &mut String) -> R<()> {
        match v {
            Value::Null => Ok(()),
            Value::Str(s) => self.write(out, s),
            Value::Int(i) => {
                java::push_int(out, *i);
                self.check_output_len(out.len())
            }
            other => {
                self.write_java(other, out, 0)?;
                self.check_output_len(out.len())
            }
        }
    }

    /// Java `String.valueOf(v)`.
    pub(crate) fn java_string(&mut self, v: &Value<'a>, depth: usize) -> R<String> {
        let mut s = String::new();
        self.write_java(v, &mut s, depth)?;
        self.charge_bytes(s.len());
        Ok(s)
    }

    /// The text of a value, without a copy when it already is a string.
    fn text<'v>(&mut self, v: &'v Value<'a>) -> R<Cow<'v, str>> {
        Ok(match v {
            Value::Str(s) => Cow::Borrowed(&**s),
            other => Cow::Owned(self.java_string(other, 0)?),
        })
    }

    /// Appends Java's `String.valueOf(v)`.
    fn write_java(&mut self, v: &Value<'a>, out: &mut String, depth: usize) -> R<()> {
        if depth > MAX_VALUE_DEPTH {
            return Err(RenderError::LimitExceeded("value nesting"));
        }
        match self.resolve(v.clone()) {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if b { "true" } else { "false" }),
            Value::Int(i) => java::push_int(out, i),
            Value::Float(f) => out.push_str(&java::format_double(f)),
            Value::Str(s) => out.push_str(&s),
            Value::Json(o, a) if a.is_array() => self.write_json(&Value::Json(o, a), out, depth)?,
            Value::List(id) if self.heap.lists[id].json => {
                self.write_json(&Value::List(id), out, depth)?
            }
            v @ (Value::List(_) | Value::Map(_) | Value::Json(..)) => {
                // `ArrayList.toString()` / `HashMap.toString()`.
                let (open, close) = if v.is_list() { ('[', ']') } else { ('{', '}') };
                let entries = if v.is_list() {
                    self.list_items(&v)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|x| (None, x))
                        .collect::<Vec<_>>()
                } else {
                    self.map_entries(&v)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(k, x)| (Some(k), x))
                        .collect()
                };
                out.push(open);
                for (i, (k, item)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    if let Some(k) = k {
                        out.push_str(k);
                        out.push('=');
                    }
                    self.write_java(item, out, depth + 1)?;
                    self.check_output_len(out.len())?;
                }
                out.push(close);
            }
            Value::Entry(m, k) => {
                let val = self.heap.maps[m].get(&*k).cloned().unwrap_or(Value::Null);
                out.push_str(&k);
                out.push('=');
                self.write_java(&val, out, depth + 1)?;
            }
            Value::Block(b) => {
                let nodes = &self.defs.blocks[b];
                self.enter()?;
                let r = self.nodes(nodes, out);
                self.depth -= 1;
                r?;
            }
            Value::Loop(_) | Value::Input | Value::Util => {}
        }
        Ok(())
    }

    /// Compact JSON, as json-smart serializes (used for JSON-origin lists).
    fn write_json(&mut self, v: &Value<'a>, out: &mut String, depth: usize) -> R<()> {
        if depth > MAX_VALUE_DEPTH {
            return Err(RenderError::LimitExceeded("value nesting"));
        }
        self.check_output_len(out.len())?;
        match self.resolve(v.clone()) {
            Value::Null | Value::Loop(_) | Value::Input | Value::Util => out.push_str("null"),
            Value::Bool(b) => out.push_str(if b { "true" } else { "false" }),
            Value::Int(i) => java::push_int(out, i),
            Value::Float(f) if f.is_finite() => out.push_str(&java::format_double(f)),
            Value::Float(_) => out.push_str("null"),
            Value::Str(s) => java::json_quote(&s, out),
            v @ (Value::List(_) | Value::Json(..)) if v.is_list() => {
                let items = self.list_items(&v).unwrap_or_default();
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    self.write_json(item, out, depth + 1)?;
                }
                out.push(']');
            }
            v @ (Value::List(_) | Value::Map(_) | Value::Json(..)) => {
                let entries = self.map_entries(&v).unwrap_or_default();
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
            v @ (Value::Entry(..) | Value::Block(_)) => {
                let s = self.java_string(&v, depth)?;
                java::json_quote(&s, out);
            }
        }
        Ok(())
    }

    /// A JSON value parsed during the render (`$util.parseJson`), copied into the heap.
    fn import(&mut self, n: Doc<'_>) -> Value<'a> {
        match n.tok() {
            Tok::Str(_) | Tok::Esc(..) => {
                Value::Str(Text::Shared(n.text().unwrap_or_default().into()))
            }
            Tok::Array { .. } => {
                let items = n.items().map(|x| self.import(x)).collect();
                Value::List(self.new_list(items, true))
            }
            Tok::Object { .. } => {
                let m = n
                    .members()
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), self.import(v)))
                    .collect();
                Value::Map(self.new_map(m))
            }
            Tok::Bool(b) => Value::Bool(b),
            Tok::Int(i) => Value::Int(i),
            Tok::UInt(u) => Value::Float(u as f64),
            Tok::Float(f) => Value::Float(f),
            Tok::Null => Value::Null,
        }
    }

    fn to_json(&self, v: &Value<'a>, depth: usize) -> Json {
        if depth > MAX_VALUE_DEPTH {
            return Json::Null;
        }
        match self.resolve(v.clone()) {
            Value::Bool(b) => Json::Bool(b),
            Value::Int(i) => Json::from(i),
            Value::Float(f) => serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number),
            Value::Str(s) => Json::String(s.to_string()),
            // Unchanged JSON keeps its exact form (numbers beyond a long stay integers);
            // only its containers are resolved, as a child may have changed.
            Value::Json(o, a) if a.is_array() => Json::Array(
                a.items()
                    .map(|x| self.doc_to_json(o, x, depth + 1))
                    .collect(),
            ),
            Value::Json(o, m) => Json::Object(
                m.members()
                    .into_iter()
                    .map(|(k, x)| (k.to_string(), self.doc_to_json(o, x, depth + 1)))
                    .collect(),
            ),
            Value::List(id) => Json::Array(
                self.heap.lists[id]
                    .items
                    .iter()
                    .map(|x| self.to_json(x, depth + 1))
                    .collect(),
            ),
            Value::Map(id) => Json::Object(
                self.heap.maps[id]
                    .iter()
                    .map(|(k, x)| (k.clone(), self.to_json(x, depth + 1)))
                    .collect(),
            ),
            _ => Json::Null,
        }
    }

    fn doc_to_json(&self, origin: u32, n: Doc<'a>, depth: usize) -> Json {
        if n.is_array() || n.is_object() {
            self.to_json(&Value::Json(origin, n), depth)
        } else {
            n.to_serde()
        }
    }

    // ------------------------------------------------------------ methods

    fn regex(&mut self, pattern: &str, full: bool) -> R<Regex> {
        if let Some(r) = self.regexes.get(&(pattern.to_string(), full)) {
            return Ok(r.clone());
        }
        let src = if full {
            format!("^(?:{pattern})$")
        } else {
            pattern.to_string()
        };
        let re = regex::RegexBuilder::new(&src)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| RenderError::Method(format!("invalid regex {pattern:?}: {e}")))?;
        self.regexes.insert((pattern.to_string(), full), re.clone());
        Ok(re)
    }

    /// The body as JSON, parsed on first use and shared by every `$input.path`/`json`.
    fn body_doc(&self) -> R<Option<Doc<'a>>> {
        let body = self.body;
        let parsed = self.body_doc.get_or_init(|| {
            let t = body.trim_start();
            if t.starts_with(['{', '[', '"', '\'']) {
                crate::tape_parse::parse(body)
                    .map(Some)
                    .map_err(|e| e.to_string())
            } else {
                Ok(None)
            }
        });
        match parsed {
            Ok(doc) => Ok(doc.as_ref().map(Tape::root)),
            Err(e) => Err(RenderError::InvalidBody(e.clone())),
        }
    }

    /// `$input.json(path)` (as_json) and `$input.path(path)`.
    fn input_path(&mut self, path: &str, as_json: bool) -> R<Value<'a>> {
        let jp = JsonPath::parse(path).map_err(RenderError::Method)?;
        let Some(doc) = self.body_doc()? else {
            // Not JSON: only the root path has a value, the raw text.
            let is_root = path.trim() == "$";
            return Ok(match (is_root, as_json) {
                (true, false) => Value::Str(Text::Borrowed(self.body)),
                (true, true) => {
                    let mut s = String::new();
                    java::json_quote(self.body, &mut s);
                    Value::Str(s.into())
                }
                (false, false) => Value::Null,
                (false, true) => Value::Str(Text::Borrowed("\"\"")),
            });
        };
        let sel = jp.select(doc);
        if as_json {
            // Room for a typical selection without regrowing.
            let mut text = String::with_capacity(128);
            match sel {
                Selection::Definite(None) => text.push_str("\"\""),
                Selection::Definite(Some(j)) => json_text(j, &mut text),
                Selection::List(xs) => {
                    text.push('[');
                    for (i, x) in xs.iter().enumerate() {
                        if i > 0 {
                            text.push(',');
                        }
                        json_text(*x, &mut text);
                    }
                    text.push(']');
                }
            }
            self.check_output_len(text.len())?;
            self.charge_bytes(text.len());
            return Ok(Value::Str(text.into()));
        }
        let origin = self.next_origin;
        self.next_origin = self.next_origin.wrapping_add(1).max(CONTEXT_ORIGIN + 1);
        Ok(match sel {
            Selection::Definite(None) => Value::Null,
            Selection::Definite(Some(j)) => from_doc(origin, j),
            Selection::List(xs) => {
                let items = xs.into_iter().map(|x| from_doc(origin, x)).collect();
                Value::List(self.new_list(items, true))
            }
        })
    }

    fn call(&mut self, recv: Value<'a>, m: &str, args: Vec<Value<'a>>) -> R<Value<'a>> {
        self.step()?;
        let v = self.dispatch(recv, m, args)?;
        if let Value::Str(Text::Shared(s)) = &v {
            self.charge_bytes(s.len());
        }
        Ok(v)
    }

    fn dispatch(&mut self, recv: Value<'a>, m: &str, args: Vec<Value<'a>>) -> R<Value<'a>> {
        match self.resolve(recv) {
            Value::Null => Ok(Value::Null),
            Value::Input => self.call_input(m, args),
            Value::Util => self.call_util(m, args),
            Value::Str(s) => self.call_string(s, m, args),
            Value::List(id) => self.call_list(id, m, args),
            Value::Map(id) => self.call_map(id, m, args),
            Value::Json(o, n) if n.is_array() => match (m, args.len()) {
                // Reads answer in place; anything else works on the heap copy.
                ("size" | "count", 0) => Ok(Value::Int(n.len() as i64)),
                ("isEmpty", 0) => Ok(Value::Bool(n.len() == 0)),
                ("get", 1) => {
                    let oob = || RenderError::Method(format!("{m}: list index out of range"));
                    let i = as_int(&args[0]).ok_or_else(oob)?;
                    let n = usize::try_from(i)
                        .ok()
                        .and_then(|i| n.item(i))
                        .ok_or_else(oob)?;
                    Ok(from_doc(o, n))
                }
                ("toString", 0) => Ok(Value::Str(self.java_string(&Value::Json(o, n), 0)?.into())),
                _ => {
                    let Value::List(id) = self.materialize(Value::Json(o, n)) else {
                        return Ok(Value::Null);
                    };
                    self.call_list(id, m, args)
                }
            },
            Value::Json(o, obj) if obj.is_object() => match (m, args.len()) {
                ("get", 1) => {
                    let k = self.text(&args[0])?;
                    Ok(obj.get(&k).map_or(Value::Null, |n| from_doc(o, n)))
                }
                ("containsKey", 1) => {
                    let k = self.text(&args[0])?;
                    Ok(Value::Bool(
                        !matches!(args[0], Value::Null) && obj.get(&k).is_some(),
                    ))
                }
                ("size", 0) => Ok(Value::Int(obj.len() as i64)),
                ("isEmpty", 0) => Ok(Value::Bool(obj.len() == 0)),
                ("keySet", 0) => {
                    let keys = obj
                        .members()
                        .into_iter()
                        .map(|(k, _)| Value::Str(Text::Borrowed(k)))
                        .collect();
                    Ok(Value::List(self.new_list(keys, false)))
                }
                ("values", 0) => {
                    let vals = obj
                        .members()
                        .into_iter()
                        .map(|(_, x)| from_doc(o, x))
                        .collect();
                    Ok(Value::List(self.new_list(vals, false)))
                }
                ("toString", 0) => Ok(Value::Str(
                    self.java_string(&Value::Json(o, obj), 0)?.into(),
                )),
                _ => {
                    let Value::Map(id) = self.materialize(Value::Json(o, obj)) else {
                        return Ok(Value::Null);
                    };
                    self.call_map(id, m, args)
                }
            },
            Value::Json(o, n) => Ok(from_doc(o, n)),
            Value::Entry(map, key) => Ok(match m {
                "getKey" => Value::Str(Text::Shared(key)),
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

    fn call_input(&mut self, m: &str, args: Vec<Value<'a>>) -> R<Value<'a>> {
        // The argument as text, without a copy when it is a string.
        let arg = match args.first() {
            Some(a) => Some(self.text(a)?),
            None => None,
        };
        let input = self.input;
        match (m, arg) {
            ("json", Some(p)) => self.input_path(&p, true),
            ("path", Some(p)) => self.input_path(&p, false),
            ("params", None) => {
                let mut all = IndexMap::new();
                let groups = [
                    ("path", input.path),
                    ("querystring", input.querystring),
                    ("header", input.header),
                ];
                for (name, pairs) in groups {
                    let id = self.new_map(params_map(pairs));
                    all.insert(name.to_string(), Value::Map(id));
                }
                Ok(Value::Map(self.new_map(all)))
            }
            ("params", Some(name)) => {
                let found = last_match(input.path, |k| k == name)
                    .or_else(|| last_match(input.querystring, |k| k == name))
                    .or_else(|| last_match(input.header, |k| k.eq_ignore_ascii_case(&name)));
                Ok(Value::Str(Text::Borrowed(found.unwrap_or(""))))
            }
            ("getBody", None) => Ok(Value::Str(Text::Borrowed(self.body))),
            _ => Ok(Value::Null),
        }
    }

    fn call_util(&mut self, m: &str, args: Vec<Value<'a>>) -> R<Value<'a>> {
        let Some(arg) = args.first() else {
            return Ok(Value::Null);
        };
        if matches!(arg, Value::Null) {
            return Ok(Value::Null);
        }
        let s = self.text(arg)?;
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
            "parseJson" => match crate::tape_parse::parse(&s) {
                Ok(j) => self.import(j.root()),
                Err(e) => return Err(RenderError::Method(format!("parseJson: {e}"))),
            },
            _ => Value::Null,
        })
    }

    /// A string argument (its `toString()` when it is not a string); null when absent.
    fn str_arg(&mut self, args: &[Value<'a>], i: usize) -> R<Option<Text<'a>>> {
        match args.get(i) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s.clone())),
            Some(v) => Ok(Some(self.java_string(v, 0)?.into())),
        }
    }

    fn call_string(&mut self, s: Text<'a>, m: &str, args: Vec<Value<'a>>) -> R<Value<'a>> {
        let a0 = self.str_arg(&args, 0)?;
        let a1 = self.str_arg(&args, 1)?;
        let i0 = args.first().and_then(as_int);
        let i1 = args.get(1).and_then(as_int);
        let str_v = |x: String| Value::Str(x.into());
        let a0 = a0.as_deref();
        let a1 = a1.as_deref();
        let oob = || RenderError::Method(format!("{m}: string index out of range"));
        Ok(match (m, args.len()) {
            ("length", 0) => Value::Int(java::utf16_len(&s) as i64),
            ("toString", 0) | ("intern", 0) => Value::Str(s.clone()),
            ("trim", 0) => str_v(s.trim_matches(|c: char| c <= ' ').to_string()),
            ("toLowerCase", 0) => str_v(s.to_lowercase()),
            ("toUpperCase", 0) => str_v(s.to_uppercase()),
            ("isEmpty", 0) => Value::Bool(s.is_empty()),
            ("substring", 1) => match i0 {
                Some(b) => str_v(java::substring(&s, b, None).ok_or_else(oob)?),
                None => Value::Null,
            },
            ("substring", 2) => match (i0, i1) {
                (Some(b), Some(e)) => str_v(java::substring(&s, b, Some(e)).ok_or_else(oob)?),
                _ => Value::Null,
            },
            ("charAt", 1) => match i0 {
                Some(i) => str_v(java::char_at(&s, i).ok_or_else(oob)?),
                None => Value::Null,
            },
            ("indexOf", 1) => a0.map_or(Value::Null, |n| Value::Int(java::index_of(&s, n, false))),
            ("lastIndexOf", 1) => {
                a0.map_or(Value::Null, |n| Value::Int(java::index_of(&s, n, true)))
            }
            ("contains", 1) => a0.map_or(Value::Null, |n| Value::Bool(s.contains(n))),
            ("startsWith", 1) => a0.map_or(Value::Null, |n| Value::Bool(s.starts_with(n))),
            ("endsWith", 1) => a0.map_or(Value::Null, |n| Value::Bool(s.ends_with(n))),
            ("equals", 1) => Value::Bool(matches!(args.first(), Some(Value::Str(o)) if **o == *s)),
            ("equalsIgnoreCase", 1) => Value::Bool(
                matches!(args.first(), Some(Value::Str(o)) if o.to_lowercase() == s.to_lowercase()),
            ),
            ("concat", 1) => match a0 {
                Some(o) => {
                    self.check_output_len(s.len() + o.len())?;
                    str_v(format!("{}{}", &*s, o))
                }
                None => Value::Null,
            },
            ("replace", 2) => match (a0, a1) {
                (Some(a), Some(b)) => {
                    let r = if a.is_empty() {
                        // Java inserts the replacement between every character.
                        let mut r = b.to_string();
                        for c in s.chars() {
                            r.push(c);
                            r.push_str(b);
                        }
                        r
                    } else {
                        s.replace(a, b)
                    };
                    self.check_output_len(r.len())?;
                    str_v(r)
                }
                _ => Value::Null,
            },
            ("replaceAll" | "replaceFirst", 2) => match (a0, a1) {
                (Some(re), Some(rep)) => {
                    let re = self.regex(re, false)?;
                    let rep = java::java_replacement(rep);
                    let r = if m == "replaceAll" {
                        re.replace_all(&s, rep.as_str()).into_owned()
                    } else {
                        re.replace(&s, rep.as_str()).into_owned()
                    };
                    self.check_output_len(r.len())?;
                    str_v(r)
                }
                _ => Value::Null,
            },
            ("matches", 1) => match a0 {
                Some(re) => Value::Bool(self.regex(re, true)?.is_match(&s)),
                None => Value::Null,
            },
            ("split", 1) => match a0 {
                Some(re) => {
                    let re = self.regex(re, false)?;
                    let parts = java_split(&re, &s);
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

    fn call_list(&mut self, id: usize, m: &str, args: Vec<Value<'a>>) -> R<Value<'a>> {
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
                if let Some(extra) = self.list_items(&args[0]) {
                    self.check_len(len + extra.len())?;
                    self.charge_items(extra.len());
                    self.heap.lists[id].items.extend(extra);
                }
                Value::Bool(true)
            }
            ("contains", 1) => Value::Bool(self.position(id, &args[0])?.is_some()),
            ("indexOf", 1) => Value::Int(self.position(id, &args[0])?.map_or(-1, |p| p as i64)),
            ("toString", 0) => Value::Str(self.java_string(&Value::List(id), 0)?.into()),
            ("equals", 1) => {
                let (a, b) = (Value::List(id), args[0].clone());
                Value::Bool(b.is_list() && self.java_string(&a, 0)? == self.java_string(&b, 0)?)
            }
            _ => Value::Null,
        })
    }

    fn position(&mut self, id: usize, x: &Value<'a>) -> R<Option<usize>> {
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
    fn strict_eq(&mut self, a: &Value<'a>, b: &Value<'a>) -> R<bool> {
        Ok(match (a, b) {
            (Value::Null, Value::Null) => true,
            (Value::Int(x), Value::Int(y)) => x == y,
            (Value::Float(x), Value::Float(y)) => x == y,
            (Value::Str(x), Value::Str(y)) => **x == **y,
            (Value::Bool(x), Value::Bool(y)) => x == y,
            _ if (a.is_list() && b.is_list()) || (a.is_map() && b.is_map()) => {
                self.java_string(a, 0)? == self.java_string(b, 0)?
            }
            _ => false,
        })
    }

    fn call_map(&mut self, id: usize, m: &str, args: Vec<Value<'a>>) -> R<Value<'a>> {
        let key = self.str_arg(&args, 0)?;
        Ok(match (m, args.len()) {
            ("get", 1) => key
                .and_then(|k| self.heap.maps[id].get(&*k).cloned())
                .unwrap_or(Value::Null),
            ("put", 2) => {
                let Some(k) = key else { return Ok(Value::Null) };
                self.check_len(self.heap.maps[id].len() + 1)?;
                self.heap.maps[id]
                    .insert(k.to_string(), args[1].clone())
                    .unwrap_or(Value::Null)
            }
            ("putAll", 1) => {
                if let Some(extra) = self.map_entries(&args[0]) {
                    self.check_len(self.heap.maps[id].len() + extra.len())?;
                    self.charge_items(extra.len());
                    self.heap.maps[id].extend(extra.into_iter().map(|(k, v)| (k.into_owned(), v)));
                }
                Value::Null
            }
            ("remove", 1) => key
                .and_then(|k| self.heap.maps[id].shift_remove(&*k))
                .unwrap_or(Value::Null),
            ("containsKey", 1) => {
                Value::Bool(key.is_some_and(|k| self.heap.maps[id].contains_key(&*k)))
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
                    .map(|k| Value::Str(Text::Shared(k.as_str().into())))
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
                Value::Bool(b.is_map() && self.java_string(&a, 0)? == self.java_string(&b, 0)?)
            }
            _ => Value::Null,
        })
    }

    fn call_scalar(&mut self, v: Value<'a>, m: &str, args: Vec<Value<'a>>) -> R<Value<'a>> {
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

/// Appends the JSON text of a body value (`$input.json`).
/// One group of `$input.params()` as a map.
fn params_map<'a>(pairs: &'a [(String, String)]) -> IndexMap<String, Value<'a>> {
    pairs
        .iter()
        .map(|(k, v)| (k.clone(), Value::Str(Text::Borrowed(v))))
        .collect()
}

fn json_text(j: Doc<'_>, out: &mut String) {
    match j.tok() {
        Tok::Null => out.push_str("null"),
        Tok::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Tok::Int(i) => java::push_int(out, i),
        Tok::UInt(u) => {
            let _ = write!(out, "{u}");
        }
        Tok::Float(f) => out.push_str(&java::format_double(f)),
        Tok::Str(_) | Tok::Esc(..) => java::json_quote(j.text().unwrap_or_default(), out),
        Tok::Array { .. } => {
            out.push('[');
            for (i, x) in j.items().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_text(x, out);
            }
            out.push(']');
        }
        Tok::Object { .. } => {
            out.push('{');
            for (i, (k, x)) in j.members().into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                java::json_quote(k, out);
                out.push(':');
                json_text(x, out);
            }
            out.push('}');
        }
    }
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
fn arith<'a>(op: BinOp, l: &Value<'a>, r: &Value<'a>) -> Value<'a> {
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
