//! The developer portal, served on its own listener (`--portal-listen`) and on custom
//! domain names tagged `tollgate:portal=true`, and nothing else: no control-plane operation
//! answers there.
//!
//! The API owner publishes with tags: a stage tagged `tollgate:portal=true` is listed in the
//! catalogue, a usage plan tagged `tollgate:portal-plan=true` is offered on the pages of
//! the stages it covers. Consumers sign up and sign in with an email and a password
//! (`accounts`: argon2id hashes stored as `portalconsumer` rows, sign-in attempts limited
//! per email and per client address by `attempts`), in sessions shared with the console's
//! code (HttpOnly, SameSite=Strict cookie, a CSRF token in every form). A consumer's API
//! keys are ordinary API keys with `customerId` = their email, created by signed calls to
//! the control plane's own CreateApiKey and CreateUsagePlanKey (`keys`), and their usage
//! is GetUsage's answer (`usage`). An API's page carries the stage's reference, its
//! GetExport document rendered (`export`), with a "Try it" form per operation (`try_it`)
//! that calls the stage's invoke URL over HTTP (`invoke`) with one of the consumer's keys.
//!
//! Pages are rendered on the server (`page`): plain HTML forms and an inline SVG chart, no
//! script, under the console's Content-Security-Policy.

mod accounts;
mod attempts;
mod catalogue;
mod context;
mod export;
mod form;
mod invoke;
mod keys;
mod page;
mod routes;
mod try_it;
mod usage;

pub use context::{Portal, PortalConfig, Visitor};
