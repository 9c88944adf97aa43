//! Bounds on a template and on one render.

/// Bounds on a template and on one render. Defaults follow AWS where it documents one.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest template source accepted by [`Template::parse_with_limits`](crate::Template::parse_with_limits) (AWS: 300 KB).
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
