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
mod error;
mod eval;
mod input;
mod java;
pub mod json;
pub mod jsonpath;
mod limits;
mod parser;
mod scan;
mod tape;
mod tape_parse;

pub use error::{ParseError, RenderError};
pub use input::Input;
pub use limits::Limits;

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
            let ctx = tape::Tape::from_serde(context);
            let body_doc = eval::BodyDoc::new();
            let mut st = eval::State::new(&self.defs, input, ctx.root(), &body_doc, limits);
            // Templates copy much of the body out, often escaped: room for the template
            // and twice the body saves the output's regrowth (a realloc and copy each).
            let hint = self.output_hint + input.body.len().saturating_mul(2);
            let mut out = String::with_capacity(hint.min(64 * 1024));
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
