//! What an import found wrong: refusals ([`ImportError`]) and the warnings and errors
//! collected while reading ([`Problems`]), shared by the REST and HTTP importers.

use crate::document::ParseError;

/// Why an import was refused; the control plane answers each with BadRequestException.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportError {
    /// Not an OpenAPI document at all (AWS's recorded message).
    #[error("Invalid OpenAPI input.")]
    Invalid(#[from] ParseError),
    /// A document AWS would read but not import, as AWS lists them.
    #[error("Errors found during import:\n\t{}", .0.join("\n\t"))]
    Errors(Vec<String>),
    /// Warnings with `failonwarnings=true`.
    #[error("Warnings found during import:\n\t{}", .0.join("\n\t"))]
    Warnings(Vec<String>),
}

/// What reading a document found wrong: errors refuse the import, warnings are returned
/// with the imported API (or refuse it with `failonwarnings`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Problems {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

impl Problems {
    pub fn error(&mut self, m: impl Into<String>) {
        self.errors.push(m.into());
    }
    pub fn warn(&mut self, m: impl Into<String>) {
        self.warnings.push(m.into());
    }
}
