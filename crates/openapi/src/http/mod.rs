//! HTTP APIs (API Gateway v2): an OpenAPI 3 document read into an [`HttpImport`]
//! ([`read()`]), laid onto an API's definition ([`apply()`]), and written back
//! ([`export()`]). Routes come from paths and verbs (`x-amazon-apigateway-any-method` is
//! `ANY`, the path `/$default` the `$default` route), integrations from
//! `x-amazon-apigateway-integration` (inline or `$ref`d from
//! `components.x-amazon-apigateway-integrations`), authorizers from security schemes.

pub mod export;
pub mod import;

pub use export::{export, HttpExportOptions};
pub use import::{apply, read, HttpImport, ImportedRoute};
