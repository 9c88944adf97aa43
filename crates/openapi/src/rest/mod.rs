//! REST APIs (API Gateway v1): a document read into a [`RestImport`] ([`import`]), laid
//! onto an API's definition ([`apply`]), and a deployed definition written back as a
//! document ([`export`]).

pub mod apply;
pub mod export;
pub mod import;
pub mod integration;
mod security;

pub use apply::{apply, Mode};
pub use export::{export, ExportOptions, Extensions};
pub use import::{read, BasePath, ImportOptions, RestImport};

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
