//! The web console at `/_tollgate/` on the control-plane listener.
//!
//! The pages are plain ES modules and CSS embedded in the binary (`assets`). They call
//! the same AWS API the CLI uses, through one same-origin endpoint (`proxy`) that signs
//! each call with the caller's credentials and hands it to the control plane's router, so
//! the console reaches nothing those credentials are not allowed (the control plane checks
//! the signature and the caller's policies as for any client). Who the caller is
//! (`guard`): a client on loopback, addressing the gateway by a loopback name, is the
//! account root (the configured credentials), as `/metrics` is open on loopback; anyone
//! else logs in with an access key and secret (`login`), which makes a session
//! (`session`: HttpOnly, SameSite=Strict cookie; the secret stays on the server). Every
//! call that reads or changes anything carries the session's CSRF token in a header and,
//! when the browser sends one, a same-origin `Origin`.

mod assets;
mod context;
pub mod guard;
mod login;
mod logs;
pub mod proxy;
pub mod reply;
mod routes;
pub mod session;

pub use context::{Console, ConsoleConfig, PREFIX};
