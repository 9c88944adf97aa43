//! Mapping templates, parsed once per deployment with what rendering them needs.

use std::sync::Arc;

use super::error::CompileError;

/// A mapping template, parsed once per deployment and shared by every request.
pub type MappingTemplate = Arc<CompiledTemplate>;

/// A parsed template plus what rendering it needs, decided once so requests build only
/// what the template can read.
#[derive(Debug)]
pub struct CompiledTemplate {
    pub engine: tollgate_vtl::Template,
    /// The output, when the template has no VTL at all (no `$`, `#` or `\`): the engine
    /// would only trim it, so it is rendered once here.
    pub literal: Option<bytes::Bytes>,
    /// The source names `context` (`$context`, `${context}`, `#set($c = $context)`...).
    pub reads_context: bool,
    /// The source names `input` (`$input.params()` needs the request's headers).
    pub reads_input: bool,
}

impl CompiledTemplate {
    /// A template whose output is `src` as it is.
    pub fn text(src: &str) -> CompiledTemplate {
        CompiledTemplate {
            engine: tollgate_vtl::Template::parse("").expect("the empty template parses"),
            literal: Some(bytes::Bytes::copy_from_slice(src.as_bytes())),
            reads_context: false,
            reads_input: false,
        }
    }

    pub fn parse(src: &str) -> Result<CompiledTemplate, tollgate_vtl::ParseError> {
        let engine = tollgate_vtl::Template::parse(src)?;
        let literal = (!src.contains(['$', '#', '\\']))
            .then(|| bytes::Bytes::copy_from_slice(src.trim().as_bytes()));
        Ok(CompiledTemplate {
            engine,
            literal,
            reads_context: src.contains("context"),
            reads_input: src.contains("input"),
        })
    }
}

/// Parses a template map (sorted by content type); a template that does not parse makes
/// the method answer 500 rather than render something AWS would not.
pub(crate) fn templates<'a>(
    map: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Result<Vec<(String, MappingTemplate)>, CompileError> {
    map.into_iter()
        .map(|(ct, src)| {
            CompiledTemplate::parse(src)
                .map(|t| (ct.clone(), Arc::new(t)))
                .map_err(|source| CompileError::Template {
                    content_type: ct.clone(),
                    source,
                })
        })
        .collect()
}

#[cfg(test)]
mod template_tests {
    use super::CompiledTemplate;

    #[test]
    fn literal_templates_render_like_the_engine() {
        for src in [
            "  {\"statusCode\": 200}\n",
            "[{\"id\": 1}]",
            "plain text, no markup",
            "",
        ] {
            let t = CompiledTemplate::parse(src).unwrap();
            let engine = t
                .engine
                .render_simple(&tollgate_vtl::Input::default())
                .unwrap();
            assert_eq!(t.literal.as_deref(), Some(engine.as_bytes()), "{src:?}");
        }
        for src in ["$input.body", "#set($a = 1)$a", "a\\$b"] {
            assert!(
                CompiledTemplate::parse(src).unwrap().literal.is_none(),
                "{src:?}"
            );
        }
        let t = CompiledTemplate::parse("$input.params('x') $context.stage").unwrap();
        assert!(t.reads_context && t.reads_input);
        let t = CompiledTemplate::parse("#set($x = 1)$x").unwrap();
        assert!(!t.reads_context && !t.reads_input);
    }
}
