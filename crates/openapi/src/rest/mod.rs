//! REST APIs (API Gateway v1): a document read into a [`RestImport`] ([`read()`]), laid
//! onto an API's definition ([`apply()`]), and a deployed definition written back as a
//! document ([`export()`]).

pub mod apply;
pub mod export;
pub mod import;
mod inline;
pub mod integration;
mod security;

pub use crate::problems::{ImportError, Problems};
pub use apply::{apply, Mode};
pub use export::{export, ExportOptions, Extensions};
pub use import::{read, BasePath, ImportOptions, RestImport};
