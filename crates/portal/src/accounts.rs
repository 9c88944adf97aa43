//! Sign up (which also signs in), sign in and sign out, with email and password. Passwords
//! are stored as argon2id hashes (`portalconsumer` rows), hashed and verified on the
//! blocking pool.

use std::sync::Arc;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use axum::body::Body;
use http::{HeaderValue, Request, Response};
use serde::Deserialize;
use tollgate_console::session::random_token;
use tollgate_model::portal::PortalConsumer;

use crate::context::{Consumer, Portal, Visitor, SESSION};
use crate::form::{self, FORM_COOKIE};
use crate::page::{self, Page};

#[derive(Deserialize)]
struct Credentials {
    email: String,
    password: String,
}

/// Which form: sign up or sign in.
#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    SignUp,
    SignIn,
}

impl Kind {
    fn title(self) -> &'static str {
        match self {
            Kind::SignUp => "Sign up",
            Kind::SignIn => "Sign in",
        }
    }

    fn action(self) -> &'static str {
        match self {
            Kind::SignUp => "/signup",
            Kind::SignIn => "/signin",
        }
    }
}

/// The form, with a fresh token in both the form and its cookie.
pub fn show(
    portal: &Portal,
    kind: Kind,
    status: u16,
    message: Option<&str>,
    tls: bool,
) -> Response<Body> {
    let token = random_token();
    let password_hint = if kind == Kind::SignUp {
        "new-password"
    } else {
        "current-password"
    };
    let fields = format!(
        "{}{}",
        page::input("Email", "email", "email", "email"),
        page::input("Password", "password", "password", password_hint)
    );
    let body = format!(
        "{}{}",
        page::notice(message),
        page::form(kind.action(), &token, &fields, kind.title())
    );
    let mut r = Page {
        title: kind.title(),
        signed_in: None,
        body,
    }
    .render(status);
    let cookie = FORM_COOKIE.set(Some(&token), portal.sessions.lifetime(), tls);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(http::header::SET_COOKIE, v);
    }
    r
}

/// `POST /signup` and `POST /signin`.
pub async fn submit(
    portal: &Arc<Portal>,
    kind: Kind,
    req: Request<Body>,
    visitor: Visitor,
) -> Response<Body> {
    let (client, tls) = (visitor.addr, visitor.tls);
    let expected = FORM_COOKIE.read(&req);
    let creds: Credentials = match form::read(req, expected.as_deref()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let email = creds.email.trim().to_ascii_lowercase();
    if !portal.attempts.address_allowed(client)
        || (kind == Kind::SignIn && !portal.attempts.email_allowed(&email))
    {
        let m = "Too many attempts: try again in a few minutes.";
        return show(portal, kind, 429, Some(m), tls);
    }
    let outcome = match kind {
        Kind::SignUp => sign_up(portal, email.clone(), creds.password).await,
        Kind::SignIn => sign_in(portal, &email, creds.password).await,
    };
    match outcome {
        Ok(()) => open_session(portal, email, tls),
        Err((status, message)) => {
            if kind == Kind::SignIn && status == 401 {
                portal.attempts.failed(&email);
            }
            show(portal, kind, status, Some(message), tls)
        }
    }
}

type Refusal = (u16, &'static str);

fn valid_email(email: &str) -> bool {
    let ok_chars = !email.chars().any(|c| c.is_whitespace() || c.is_control());
    let shaped = email
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    ok_chars && shaped && email.len() <= 254
}

async fn sign_up(portal: &Portal, email: String, password: String) -> Result<(), Refusal> {
    if !valid_email(&email) {
        return Err((400, "Enter a valid email address."));
    }
    if !(8..=128).contains(&password.chars().count()) {
        return Err((400, "The password must have 8 to 128 characters."));
    }
    if portal
        .config
        .store
        .state()
        .portal_consumers
        .contains_key(&email)
    {
        return Err((409, "An account with this email exists: sign in."));
    }
    let hash = tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
    })
    .await;
    let Ok(Ok(password_hash)) = hash else {
        return Err((500, "The password could not be stored."));
    };
    let consumer = Arc::new(PortalConsumer {
        email: email.clone(),
        password_hash,
        created_date: tollgate_model::time::now_epoch(),
    });
    let written = portal
        .config
        .store
        .transact(|s| {
            if s.portal_consumers.contains_key(&email) {
                return Ok(false);
            }
            Arc::make_mut(&mut s.portal_consumers).insert(email.clone(), consumer.clone());
            Ok::<_, tollgate_store::StoreError>(true)
        })
        .await;
    match written {
        Ok(true) => Ok(()),
        Ok(false) => Err((409, "An account with this email exists: sign in.")),
        Err(e) => {
            tracing::error!(error = %e, "portal sign-up not stored");
            Err((500, "The account could not be stored."))
        }
    }
}

/// A hash checked when the email is unknown, so an unknown email takes as long as a wrong
/// password (no account enumeration by timing).
const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0pUtRyRQdZs0jL3jvWGd7zkaYvnLfZrQg6z1y+pZCNc";

async fn sign_in(portal: &Portal, email: &str, password: String) -> Result<(), Refusal> {
    let known = portal
        .config
        .store
        .state()
        .portal_consumers
        .get(email)
        .cloned();
    let hash = known
        .as_ref()
        .map_or(DECOY.to_string(), |c| c.password_hash.clone());
    let verified = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false);
    if verified && known.is_some() {
        Ok(())
    } else {
        Err((401, "Wrong email or password."))
    }
}

fn open_session(portal: &Portal, email: String, tls: bool) -> Response<Body> {
    let token = portal.sessions.open(Consumer { email });
    let mut r = page::redirect_see_other("/");
    let lifetime = portal.sessions.lifetime();
    for cookie in [
        SESSION.set(Some(&token), lifetime, tls),
        FORM_COOKIE.set(None, lifetime, tls),
    ] {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            r.headers_mut().append(http::header::SET_COOKIE, v);
        }
    }
    r
}

/// `POST /signout`.
pub async fn sign_out(portal: &Portal, req: Request<Body>, tls: bool) -> Response<Body> {
    let token = SESSION.read(&req);
    let csrf = token
        .as_deref()
        .and_then(|t| portal.sessions.get(t))
        .map(|s| s.csrf.clone());
    #[derive(Deserialize)]
    struct Nothing {}
    if let Err(r) = form::read::<Nothing>(req, csrf.as_deref()).await {
        return r;
    }
    if let Some(t) = token {
        portal.sessions.close(&t);
    }
    let mut r = page::redirect_see_other("/");
    let cookie = SESSION.set(None, portal.sessions.lifetime(), tls);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(http::header::SET_COOKIE, v);
    }
    r
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_decoy_is_a_valid_hash() {
        assert!(super::PasswordHash::new(super::DECOY).is_ok());
    }

    #[test]
    fn emails_are_checked() {
        assert!(super::valid_email("a@example.com"));
        assert!(!super::valid_email("a example.com"));
        assert!(!super::valid_email("@example.com"));
        assert!(!super::valid_email("a@b c.com"));
    }
}
