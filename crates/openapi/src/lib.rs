//! OpenAPI documents for API Gateway's import and export: Swagger 2.0 and OpenAPI 3.0, in
//! JSON or YAML, with AWS's `x-amazon-apigateway-*` extensions. One layer for both API
//! kinds: [`rest`] turns a document into a REST API definition and back (ImportRestApi,
//! PutRestApi, GetExport), [`http`] does the same for HTTP APIs (ImportApi, ReimportApi,
//! ExportApi). No I/O: the control plane hands in bytes and a definition, and gets a
//! definition, warnings, or a document back.

pub mod document;
pub mod documentation;
pub mod http;
pub mod layout;
pub mod problems;
mod refs;
pub mod rest;
pub mod shared;

pub use document::{parse, to_yaml, Document, Flavor, ParseError};
pub use layout::to_aws_json;

/// The prefix of every API Gateway extension.
pub const EXT: &str = "x-amazon-apigateway-";
