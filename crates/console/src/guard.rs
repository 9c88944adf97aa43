//! Who a console call is from, and whether it comes from the console's own pages.

use std::sync::Arc;

use http::Request;

use crate::session::Session;

/// The header carrying the CSRF token: a cross-site page can neither read the token nor
/// send a custom header without a CORS preflight, which the console never grants.
pub const CSRF_HEADER: &str = "x-tollgate-csrf";

pub enum Caller {
    /// A loopback client: the configured credentials.
    Root {
        access_key_id: String,
        secret: String,
        csrf: String,
    },
    /// A logged-in browser.
    Session(Arc<Session>),
}

impl Caller {
    pub fn access_key_id(&self) -> &str {
        match self {
            Caller::Root { access_key_id, .. } => access_key_id,
            Caller::Session(s) => &s.who.access_key_id,
        }
    }

    pub fn secret(&self) -> &str {
        match self {
            Caller::Root { secret, .. } => secret,
            Caller::Session(s) => &s.who.secret,
        }
    }

    pub fn csrf(&self) -> &str {
        match self {
            Caller::Root { csrf, .. } => csrf,
            Caller::Session(s) => &s.csrf,
        }
    }
}

pub fn host<B>(req: &Request<B>) -> Option<&str> {
    req.headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
}

/// `localhost`, `*.localhost`, `127.x.y.z` or `[::1]`, with or without a port.
pub fn loopback_name(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => return v6.split(']').next() == Some("::1"),
        None => host.rsplit_once(':').map_or(host, |(n, _)| n),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A request the browser made from the console's own origin: no `Origin` other than the
/// host's, no `Sec-Fetch-Site` saying another site sent it.
pub fn same_origin<B>(req: &Request<B>) -> bool {
    let headers = req.headers();
    let site_ok = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|s| s == "same-origin" || s == "none");
    let origin_ok = match headers.get(http::header::ORIGIN) {
        None => true,
        Some(o) => {
            let origin = o.to_str().unwrap_or("");
            let authority = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"));
            authority.is_some() && authority == host(req)
        }
    };
    site_ok && origin_ok
}

/// Same origin, and the CSRF token of the caller's session in [`CSRF_HEADER`].
pub fn csrf_ok<B>(req: &Request<B>, expected: &str) -> bool {
    let given = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    same_origin(req) && crate::session::same_token(given, expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names() {
        for ok in [
            "localhost",
            "localhost:4566",
            "127.0.0.1:80",
            "[::1]:4566",
            "a.localhost",
        ] {
            assert!(loopback_name(ok), "{ok}");
        }
        for no in [
            "example.com",
            "10.0.0.1:4566",
            "localhost.evil.com",
            "[::2]:1",
            "127.0.0.1.nip.io",
        ] {
            assert!(!loopback_name(no), "{no}");
        }
    }

    #[test]
    fn a_cross_site_origin_or_a_missing_token_is_refused() {
        let req = |origin: Option<&str>, token: Option<&str>| {
            let mut b = Request::builder().header("host", "gw.example:4566");
            if let Some(o) = origin {
                b = b.header("origin", o);
            }
            if let Some(t) = token {
                b = b.header(CSRF_HEADER, t);
            }
            b.body(()).unwrap()
        };
        assert!(csrf_ok(
            &req(Some("http://gw.example:4566"), Some("t")),
            "t"
        ));
        assert!(csrf_ok(&req(None, Some("t")), "t"));
        assert!(!csrf_ok(&req(Some("http://evil.example"), Some("t")), "t"));
        assert!(!csrf_ok(&req(None, Some("u")), "t"));
        assert!(!csrf_ok(&req(None, None), "t"));
    }
}
