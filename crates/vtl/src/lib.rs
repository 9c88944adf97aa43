//! Velocity (VTL) mapping templates as Amazon API Gateway renders them.
//!
//! A [`Template`] is parsed once (at deployment compile time) and rendered many times.
//! Rendering takes the request data as an [`Input`] plus the `$context` map, which the
//! template may modify (`$context.requestOverride.*`, `$context.responseOverride.*`);
//! the modified map is written back so a later response template can read it.
//! Evaluation is bounded by [`Limits`] and never panics or loops forever.
//!
//! Semantics follow `spec/vtl.md`: Velocity 1.7 grammar with AWS's rendering rules
//! (null renders empty, maps render `{k=v}`, JSON lists render as JSON, and so on).

mod ast;
mod eval;
mod java;
pub mod json;
pub mod jsonpath;
mod parser;

pub use parser::ParseError;

use std::fmt;

/// Bounds on a template and on one render. Defaults follow AWS where it documents one.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest template source accepted by [`Template::parse_with_limits`] (AWS: 300 KB).
    pub max_template_bytes: usize,
    /// Iterations per `#foreach` (AWS: 1000).
    pub max_foreach_iterations: usize,
    /// When a loop has more items: `false` stops after the limit like Velocity's
    /// `directive.foreach.maxloops`; `true` fails the render.
    pub foreach_overflow_is_error: bool,
    /// Largest output (and largest intermediate string) of one render.
    pub max_output_bytes: usize,
    /// Nesting of macro calls, `#define` blocks and interpolated strings.
    pub max_depth: usize,
    /// Total evaluation steps per render (nodes, expressions, method calls). Copying data
    /// costs steps too (one per 64 bytes of string built, one per 8 items copied), so
    /// this also bounds the time and memory a render spends on large values.
    pub max_steps: u64,
    /// Largest list/map a template may build (ranges, `add`, `put`, `split`).
    pub max_collection_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_template_bytes: 300 * 1024,
            max_foreach_iterations: 1000,
            foreach_overflow_is_error: false,
            max_output_bytes: 10 * 1024 * 1024,
            max_depth: 64,
            max_steps: 1_000_000,
            max_collection_len: 100_000,
        }
    }
}

/// Request data a template can see through `$input` and `$stageVariables`.
/// Parameter lists keep request order; lookups take the last value of a name.
#[derive(Debug, Clone, Copy, Default)]
pub struct Input<'a> {
    /// Payload as text (binary payloads already converted, e.g. to base64).
    pub body: &'a str,
    pub path: &'a [(String, String)],
    pub querystring: &'a [(String, String)],
    pub header: &'a [(String, String)],
    pub stage_variables: &'a [(String, String)],
}

/// Why a render failed; API Gateway answers such failures with a 500.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderError {
    /// A [`Limits`] bound was hit (the value names which).
    LimitExceeded(&'static str),
    /// `$input.json`/`$input.path` on a body that looks like JSON but does not parse.
    InvalidBody(String),
    /// A Java method would have thrown (bad index, invalid JSON or regex, ...).
    Method(String),
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::LimitExceeded(what) => write!(f, "template limit exceeded: {what}"),
            RenderError::InvalidBody(e) => write!(f, "could not parse request body: {e}"),
            RenderError::Method(e) => write!(f, "template evaluation failed: {e}"),
        }
    }
}

impl std::error::Error for RenderError {}

/// A parsed template; immutable, cheap to share across threads.
#[derive(Debug, Clone)]
pub struct Template {
    nodes: Vec<ast::Node>,
    defs: ast::Defs,
    /// Capacity the output starts with (the source length: most templates render to
    /// about their own size), so the output buffer rarely grows.
    output_hint: usize,
}

impl Template {
    /// Parses with the default [`Limits`].
    pub fn parse(src: &str) -> Result<Template, ParseError> {
        Self::parse_with_limits(src, &Limits::default())
    }

    /// Parses a template. The source is trimmed first, as API Gateway does (vtl.md §2).
    pub fn parse_with_limits(src: &str, limits: &Limits) -> Result<Template, ParseError> {
        if src.len() > limits.max_template_bytes {
            return Err(ParseError {
                line: 1,
                column: 1,
                message: format!(
                    "template is larger than {} bytes",
                    limits.max_template_bytes
                ),
            });
        }
        let mut defs = ast::Defs::default();
        let nodes = parser::parse_template(src.trim(), &mut defs)?;
        Ok(Template {
            nodes,
            defs,
            output_hint: src.len().min(64 * 1024),
        })
    }

    /// Renders the template. `context` is the `$context` map; on success, if the template
    /// changed it, it is replaced by its state after the render, so overrides set by the
    /// template are visible.
    pub fn render(
        &self,
        input: &Input<'_>,
        context: &mut serde_json::Map<String, serde_json::Value>,
        limits: &Limits,
    ) -> Result<String, RenderError> {
        let (out, changed) = {
            // `$context` and the body are read in place (see `eval`); the body is parsed
            // on first use, once per render.
            let ctx = json::Node::Object(json::Node::object_from_serde(context));
            let body_doc = eval::BodyDoc::new();
            let mut st = eval::State::new(self, input, &ctx, &body_doc, limits);
            let mut out = String::with_capacity(self.output_hint);
            st.run(&self.nodes, &mut out)?;
            (out, st.changed_context())
        };
        if let Some(c) = changed {
            *context = c;
        }
        Ok(out)
    }

    /// Renders with an empty `$context` and default limits (tests, simple callers).
    pub fn render_simple(&self, input: &Input<'_>) -> Result<String, RenderError> {
        self.render(input, &mut serde_json::Map::new(), &Limits::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Template>();
    }
}
