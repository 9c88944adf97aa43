//! Verification of AWS Signature Version 4 (`AWS4-HMAC-SHA256`) on incoming
//! requests, as used by the control plane (`apigateway`), `@connections` and
//! `AWS_IAM` data-plane routes (`execute-api`).
//!
//! The contract is `shared/spec/sigv4.md`. The server only verifies: it rebuilds
//! the canonical request from what arrived on the wire (raw path and query,
//! the headers named in `SignedHeaders`, the body) and compares signatures in
//! constant time. Both the `Authorization` header form and the presigned query
//! form (`X-Amz-Algorithm=…`) are supported.
//!
//! ```
//! use std::collections::HashMap;
//! use tollgate_sigv4::{Credential, IncomingRequest, Verifier};
//!
//! let mut keys = HashMap::new();
//! keys.insert(
//!     "AKIDEXAMPLE".to_string(),
//!     Credential { secret_access_key: "secret".into(), session_token: None },
//! );
//! let verifier = Verifier::new(keys, "apigateway");
//! let headers = http::HeaderMap::new();
//! let req = IncomingRequest {
//!     method: "GET",
//!     raw_path: "/restapis",
//!     raw_query: None,
//!     headers: &headers,
//!     body: b"",
//! };
//! let err = verifier.verify(&req, std::time::SystemTime::now()).unwrap_err();
//! assert_eq!(err.error_type, "MissingAuthenticationTokenException");
//! ```

// Spec §2, in order: `authorization` parses the auth data (steps 1–3) and checks the signed
// headers (6); `verify` checks time, scope and credential (4–5) and, through `canonical`,
// the signature (7–10). `sign` is the client side, for forwarded calls, and `endpoint` where
// they go.
mod authorization;
mod canonical;
mod credential;
pub mod endpoint;
mod error;
mod request;
mod sign;
mod time;
mod verify;

pub use canonical::canonical_request;
pub use credential::{Credential, CredentialProvider};
pub use error::AuthError;
pub use request::IncomingRequest;
pub use sign::{sign, Signer};
pub use time::{format_amz_date, parse_amz_date};
pub use verify::{HeadCheck, Verified, Verifier};
