//! HTML rendering: one layout, text always escaped, forms always carrying a CSRF token.

use std::fmt::Write;

use axum::body::Body;
use http::{HeaderValue, Response, StatusCode};

/// `s` safe inside HTML text and double-quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A page: its title, who is signed in (for the header) and its body (already HTML).
pub struct Page<'a> {
    pub title: &'a str,
    pub signed_in: Option<(&'a str, &'a str)>,
    pub body: String,
}

impl Page<'_> {
    pub fn render(self, status: u16) -> Response<Body> {
        let mut nav = String::from(r#"<a href="/">APIs</a>"#);
        match self.signed_in {
            Some((email, csrf)) => {
                let _ = write!(nav, " <span class=\"who\">{}</span> ", esc(email));
                nav.push_str(&form("/signout", csrf, "", "Sign out"));
            }
            None => nav.push_str(r#" <a href="/signin">Sign in</a> <a href="/signup">Sign up</a>"#),
        }
        let html = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} · Developer portal</title><link rel=\"stylesheet\" href=\"/style.css\">\
             </head><body><header><strong>Developer portal</strong><nav>{nav}</nav></header>\
             <main><h1>{title}</h1>{body}</main></body></html>",
            title = esc(self.title),
            body = self.body,
        );
        let mut r = Response::new(Body::from(html));
        *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
        r.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        r
    }
}

/// A POST form to `action` with its CSRF token, `fields` (HTML) and a submit button.
pub fn form(action: &str, csrf: &str, fields: &str, button: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         {fields}<button type=\"submit\">{}</button></form>",
        esc(action),
        esc(csrf),
        esc(button)
    )
}

/// A labelled input.
pub fn input(label: &str, name: &str, kind: &str, autocomplete: &str) -> String {
    format!(
        "<label>{} <input name=\"{name}\" type=\"{kind}\" autocomplete=\"{autocomplete}\" required></label>",
        esc(label)
    )
}

/// A paragraph saying what went wrong, or nothing.
pub fn notice(message: Option<&str>) -> String {
    message.map_or_else(String::new, |m| {
        format!("<p class=\"error\" role=\"alert\">{}</p>", esc(m))
    })
}

pub fn redirect_see_other(to: &str) -> Response<Body> {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(http::header::LOCATION, v);
    }
    r
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_is_escaped() {
        assert_eq!(
            super::esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
