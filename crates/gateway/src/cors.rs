//! An HTTP API's `corsConfiguration` (auth-throttle-cache.md §10.2), compiled once per
//! deployment: the gateway answers preflight `OPTIONS` requests itself and adds the
//! configured headers to every response for an allowed `Origin`, replacing the backend's.

use http::header::{HeaderMap, HeaderName, HeaderValue};
use tollgate_model::v2::Cors;

const ALLOW_ORIGIN: HeaderName = HeaderName::from_static("access-control-allow-origin");
const ALLOW_CREDENTIALS: HeaderName = HeaderName::from_static("access-control-allow-credentials");
const ALLOW_METHODS: HeaderName = HeaderName::from_static("access-control-allow-methods");
const ALLOW_HEADERS: HeaderName = HeaderName::from_static("access-control-allow-headers");
const EXPOSE_HEADERS: HeaderName = HeaderName::from_static("access-control-expose-headers");
const MAX_AGE: HeaderName = HeaderName::from_static("access-control-max-age");

#[derive(Debug)]
pub struct CompiledCors {
    /// Lower-case origins; `*` allows any.
    origins: Vec<String>,
    any_origin: bool,
    credentials: bool,
    methods: Option<HeaderValue>,
    headers: Option<HeaderValue>,
    expose: Option<HeaderValue>,
    max_age: Option<HeaderValue>,
}

fn joined(list: &Option<Vec<String>>) -> Option<HeaderValue> {
    let list = list.as_ref().filter(|l| !l.is_empty())?;
    HeaderValue::from_str(&list.join(",")).ok()
}

impl CompiledCors {
    pub fn compile(c: &Cors) -> CompiledCors {
        let origins: Vec<String> = c
            .allow_origins
            .iter()
            .flatten()
            .map(|o| o.to_ascii_lowercase())
            .collect();
        CompiledCors {
            any_origin: origins.iter().any(|o| o == "*"),
            origins,
            credentials: c.allow_credentials == Some(true),
            methods: joined(&c.allow_methods),
            headers: joined(&c.allow_headers),
            expose: joined(&c.expose_headers),
            max_age: c
                .max_age
                .and_then(|m| HeaderValue::from_str(&m.to_string()).ok()),
        }
    }

    /// Whether a request is a preflight the gateway answers.
    pub fn is_preflight(method: &http::Method, headers: &HeaderMap) -> bool {
        method == http::Method::OPTIONS
            && headers.contains_key(http::header::ORIGIN)
            && headers.contains_key(http::header::ACCESS_CONTROL_REQUEST_METHOD)
    }

    /// The `Access-Control-Allow-Origin` value for the request's `Origin`, if allowed.
    fn allowed_origin(&self, request: &HeaderMap) -> Option<HeaderValue> {
        let origin = request.get(http::header::ORIGIN)?;
        let text = origin.to_str().ok()?.to_ascii_lowercase();
        if self.origins.contains(&text) {
            Some(origin.clone())
        } else if self.any_origin {
            Some(HeaderValue::from_static("*"))
        } else {
            None
        }
    }

    /// The preflight answer's headers (none for an origin that is not allowed).
    pub fn preflight(&self, request: &HeaderMap, out: &mut HeaderMap) {
        let Some(origin) = self.allowed_origin(request) else {
            return;
        };
        out.insert(ALLOW_ORIGIN, origin);
        if self.credentials {
            out.insert(ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        }
        for (name, v) in [
            (ALLOW_METHODS, &self.methods),
            (ALLOW_HEADERS, &self.headers),
            (MAX_AGE, &self.max_age),
        ] {
            if let Some(v) = v {
                out.insert(name, v.clone());
            }
        }
    }

    /// A response's CORS headers: the backend's dropped, the configured ones added for an
    /// allowed origin.
    pub fn apply(&self, request: &HeaderMap, out: &mut HeaderMap) {
        let backend: Vec<HeaderName> = out
            .keys()
            .filter(|k| k.as_str().starts_with("access-control-"))
            .cloned()
            .collect();
        for k in backend {
            out.remove(k);
        }
        let Some(origin) = self.allowed_origin(request) else {
            return;
        };
        out.insert(ALLOW_ORIGIN, origin);
        if self.credentials {
            out.insert(ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        }
        if let Some(v) = &self.expose {
            out.insert(EXPOSE_HEADERS, v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (HeaderName::from_static(k), HeaderValue::from_static(v)))
            .collect()
    }

    #[test]
    fn preflight_and_responses() {
        let c = CompiledCors::compile(&Cors {
            allow_origins: Some(vec!["https://A.example".into()]),
            allow_methods: Some(vec!["GET".into(), "POST".into()]),
            allow_headers: Some(vec!["x-a".into()]),
            expose_headers: Some(vec!["x-b".into()]),
            max_age: Some(60),
            allow_credentials: Some(true),
        });
        let req = headers(&[
            ("origin", "https://a.example"),
            ("access-control-request-method", "POST"),
        ]);
        assert!(CompiledCors::is_preflight(&http::Method::OPTIONS, &req));
        let mut out = HeaderMap::new();
        c.preflight(&req, &mut out);
        assert_eq!(out["access-control-allow-origin"], "https://a.example");
        assert_eq!(out["access-control-allow-methods"], "GET,POST");
        assert_eq!(out["access-control-max-age"], "60");
        assert_eq!(out["access-control-allow-credentials"], "true");
        let mut resp = headers(&[("access-control-allow-origin", "*"), ("x-c", "1")]);
        c.apply(&req, &mut resp);
        assert_eq!(resp["access-control-allow-origin"], "https://a.example");
        assert_eq!(resp["access-control-expose-headers"], "x-b");
        let mut resp = headers(&[("access-control-allow-origin", "*")]);
        c.apply(&headers(&[("origin", "https://evil.example")]), &mut resp);
        assert!(
            resp.is_empty(),
            "backend CORS headers are ignored: {resp:?}"
        );
    }
}
