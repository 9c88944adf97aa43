//! Reading a form post: bounded body, url-encoded fields, and the CSRF check every form
//! passes (a POST without the token answers 403 and changes nothing).

use axum::body::Body;
use http::{Request, Response};
use http_body_util::{BodyExt, Limited};
use serde::de::DeserializeOwned;
use tollgate_console::guard::same_origin;
use tollgate_console::reply;
use tollgate_console::session::{same_token, Cookie};

/// The portal's forms are a few short fields.
const MAX_FORM: usize = 16 * 1024;

/// The cookie that pairs with the CSRF token of the sign-in and sign-up forms (a visitor
/// has no session yet): the form's hidden token must equal it, which a cross-site page can
/// neither read nor set.
pub const FORM_COOKIE: Cookie = Cookie {
    name: "tollgate_portal_form",
    path: "/",
};

/// The form's fields, when it is from the portal's own pages with the expected CSRF token;
/// else the answer to send.
pub async fn read<T: DeserializeOwned>(
    req: Request<Body>,
    expected_csrf: Option<&str>,
) -> Result<T, Response<Body>> {
    let from_us = same_origin(&req);
    let bytes = match Limited::new(req.into_body(), MAX_FORM).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Err(reply::error(
                413,
                "PayloadTooLargeException",
                "The form is too large.",
            ))
        }
    };
    #[derive(serde::Deserialize)]
    struct Token {
        #[serde(default)]
        csrf: String,
    }
    let token: Token = serde_urlencoded::from_bytes(&bytes).unwrap_or(Token {
        csrf: String::new(),
    });
    if !from_us || !expected_csrf.is_some_and(|e| same_token(&token.csrf, e)) {
        return Err(reply::error(
            403,
            "AccessDeniedException",
            "The form is not from the portal's own pages (missing or wrong CSRF token).",
        ));
    }
    serde_urlencoded::from_bytes(&bytes)
        .map_err(|e| reply::error(400, "BadRequestException", &format!("Invalid form: {e}")))
}
