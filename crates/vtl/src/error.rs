//! Why a template does not parse or does not render.

use std::fmt;

/// A template that Velocity would refuse, with the 1-based position of the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {}, column {}",
            self.message, self.line, self.column
        )
    }
}

impl std::error::Error for ParseError {}

/// Why a render failed; API Gateway answers such failures with a 500.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderError {
    /// A [`Limits`](crate::Limits) bound was hit (the value names which).
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
