//! IAM policy documents as AWS evaluates them, for every policy Tollgate meets: the IAM
//! policy a Lambda authorizer returns, an API's resource policy, the identity policies of
//! `--principals` callers, and a Lambda function's resource policy (AddPermission).
//!
//! A document is compiled once ([`Policy::compile`]) and evaluated per request
//! ([`Policy::evaluate`]) against a [`Request`]: the action, the resource ARN, the caller
//! (for `Principal`/`NotPrincipal`) and the request's condition keys. An explicit `Deny`
//! wins; otherwise some `Allow` must match; else the deny is implicit. No I/O.
//!
//! - [`wildcard`]: IAM's `*`/`?` matching.
//! - [`condition`]: the condition operators (string, ARN, numeric, date, IP, `Bool`,
//!   `Null`, `...IfExists`, `ForAnyValue:`/`ForAllValues:`).
//! - [`value`]: parsing of the values they compare (CIDR blocks, ISO-8601/epoch dates).

pub mod condition;
mod document;
mod principal;
pub mod value;
pub mod wildcard;

pub use condition::ConditionKeys;
pub use document::{decide_all, Decision, Policy, PolicyError, Request};
pub use principal::Caller;
pub use wildcard::wildcard_match;
