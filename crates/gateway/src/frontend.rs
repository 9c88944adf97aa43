//! The frontend table: which deployed API a request is addressed to, and of which kind,
//! compiled from state with the runtime: `host → [base path → (API kind, API, stage)]`.
//!
//! It holds AWS's default endpoints, `{apiId}.execute-api.{anything}` hosts and the path
//! form `/_aws/execute-api/{apiId}/...` for clients that cannot set a Host header (there
//! the stage is the first path segment), and exact hosts with base-path mappings (custom
//! domain names, where a mapping names the stage, or the developer portal for a domain tagged
//! `tollgate:portal=true`). A request no entry takes is the control
//! plane's. The table is generic over what it points to, so it never names the runtime.

use std::sync::Arc;

/// The kinds of API the gateway serves; each has its own pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKind {
    Rest,
    /// An HTTP API (API Gateway v2).
    Http,
    /// A Lambda function URL.
    FunctionUrl,
    /// A WebSocket API: its upgrade requests and `@connections` calls.
    WebSocket,
}

/// One API as a frontend entry points to it.
#[derive(Debug)]
pub struct Frontend<A> {
    pub kind: ApiKind,
    pub api: A,
}

/// A custom domain's mapping of a base path to an API stage.
#[derive(Debug)]
pub struct BasePathMapping<A> {
    /// Without slashes; empty for the `(none)` mapping, which takes every path.
    pub base_path: Box<str>,
    /// `None`: the stage is the first path segment after the base path.
    pub stage: Option<Arc<str>>,
    pub frontend: Frontend<A>,
}

/// Where a request goes, as the table classified it. It borrows the table, not the request,
/// so the request can move on into the pipeline.
#[derive(Debug)]
pub struct Addressed<'t, A> {
    /// `None`: the host or path has the form of an API endpoint but no API is served there
    /// (AWS answers 403 Forbidden).
    pub frontend: Option<&'t Frontend<A>>,
    /// The stage a base-path mapping names; `None`: the first segment of the stage path.
    pub stage: Option<&'t str>,
    /// Where the stage path (`/{stage}/...`, or the path after a base path) starts in the
    /// request's URI path.
    pub path_start: usize,
    /// On a custom domain: the mapping key that took the request (`""` for the root
    /// mapping), `$context.customDomain.basePathMatched`.
    pub base_path_matched: Option<&'t str>,
    /// `/ping` or `/sping` on a custom domain: answered by the edge, never routed.
    pub health_check: bool,
    /// A custom domain that serves the developer portal (tagged `tollgate:portal=true`):
    /// every path is the portal's, none is routed to an API or the control plane.
    pub portal: bool,
    /// A custom domain with mutual TLS (its name): the request must have come over a
    /// handshake for that domain, with a verified client certificate.
    pub mutual_tls_domain: Option<&'t str>,
}

impl<A> Addressed<'_, A> {
    /// `$context.customDomain.basePathMatched`: the mapping key, the root mapping shown as
    /// `(none)` as AWS shows it.
    pub fn base_path_shown(&self) -> Option<Box<str>> {
        self.base_path_matched
            .map(|k| if k.is_empty() { "(none)" } else { k }.into())
    }

    /// The kind whose pipeline answers. A default-endpoint request for an API that does not
    /// exist is answered as REST answers it (403), as on AWS.
    pub fn kind(&self) -> ApiKind {
        self.frontend.map_or(ApiKind::Rest, |f| f.kind)
    }
}

/// The table. Built once per state change; read by every request without locks.
#[derive(Debug)]
pub struct Frontends<A> {
    /// Default endpoints by lower-case API id (APIs whose default endpoint is enabled).
    execute_api: crate::table::Table<Box<str>, Frontend<A>>,
    /// Exact hosts (lower-case) with their base-path mappings, longest base path first.
    domains: crate::table::Table<Box<str>, Vec<BasePathMapping<A>>>,
    /// The hosts of `domains` with mutual TLS.
    mutual_tls: std::collections::HashSet<Box<str>>,
    /// The hosts of `domains` that serve the developer portal instead of their mappings.
    portals: std::collections::HashSet<Box<str>>,
    /// Wildcard domains (`*.example.com`) by their parent (`example.com`): a host no exact
    /// domain takes, one label under the parent, is the wildcard's.
    wildcards: crate::table::Table<Box<str>, Box<str>>,
    /// Function URLs by (lower-case) URL id: `{urlId}.lambda-url.*` hosts and
    /// `/_aws/lambda-url/{urlId}/...`.
    function_urls: crate::table::Table<Box<str>, Frontend<A>>,
}

impl<A> Default for Frontends<A> {
    fn default() -> Self {
        Frontends {
            execute_api: Default::default(),
            domains: Default::default(),
            mutual_tls: Default::default(),
            portals: Default::default(),
            wildcards: Default::default(),
            function_urls: Default::default(),
        }
    }
}

const PATH_PREFIX: &str = "/_aws/execute-api/";
const EXECUTE_API: &str = ".execute-api.";
const URL_PATH_PREFIX: &str = "/_aws/lambda-url/";
const LAMBDA_URL: &str = ".lambda-url.";
/// Longest host name DNS allows; longer labels are never in the table.
const MAX_HOST: usize = 253;

impl<A> Frontends<A> {
    /// Serves `api` on its default endpoints under the (case-insensitive) `api_id`.
    pub fn add_execute_api(&mut self, api_id: &str, kind: ApiKind, api: A) {
        self.execute_api
            .insert(api_id.to_ascii_lowercase().into(), Frontend { kind, api });
    }

    /// Serves a function URL under its (case-insensitive) id.
    pub fn add_function_url(&mut self, url_id: &str, api: A) {
        let kind = ApiKind::FunctionUrl;
        self.function_urls
            .insert(url_id.to_ascii_lowercase().into(), Frontend { kind, api });
    }

    /// A function URL's request by its host, `{urlId}.lambda-url.*`.
    fn function_url_host(&self, hostname: &str) -> Option<Addressed<'_, A>> {
        let label = host_label(hostname, LAMBDA_URL)?;
        Some(Addressed {
            frontend: with_lower(label, |id| self.function_urls.get(id)),
            stage: None,
            path_start: 0,
            base_path_matched: None,
            health_check: false,
            portal: false,
            mutual_tls_domain: None,
        })
    }

    /// A function URL's request by the path form (the function's path follows the id).
    fn function_url_path(&self, path: &str) -> Option<Addressed<'_, A>> {
        let rest = path.strip_prefix(URL_PATH_PREFIX)?;
        let id = &rest[..memchr::memchr(b'/', rest.as_bytes()).unwrap_or(rest.len())];
        (!id.is_empty()).then(|| Addressed {
            frontend: with_lower(id, |id| self.function_urls.get(id)),
            stage: None,
            path_start: URL_PATH_PREFIX.len() + id.len(),
            base_path_matched: None,
            health_check: false,
            portal: false,
            mutual_tls_domain: None,
        })
    }

    /// Serves the base-path mappings of a custom domain name.
    pub fn add_domain(
        &mut self,
        host: &str,
        mut mappings: Vec<BasePathMapping<A>>,
        mutual_tls: bool,
    ) {
        // Longest first, so `/v1/admin` wins over `/v1` and the empty mapping comes last.
        mappings.sort_by_key(|m| std::cmp::Reverse(m.base_path.len()));
        let host: Box<str> = host.to_ascii_lowercase().into();
        if mutual_tls {
            self.mutual_tls.insert(host.clone());
        }
        if let Some(parent) = host.strip_prefix("*.") {
            self.wildcards.insert(parent.into(), host.clone());
        }
        self.domains.insert(host, mappings);
    }

    /// Serves the developer portal on a custom domain name: every path of the host is the
    /// portal's (its base-path mappings are not routed while it does).
    pub fn add_portal_domain(&mut self, host: &str, mutual_tls: bool) {
        self.add_domain(host, Vec::new(), mutual_tls);
        self.portals.insert(host.to_ascii_lowercase().into());
    }

    /// Classifies one request by its Host (or URI authority) and path; `None`: no entry
    /// takes it (the control plane's).
    pub fn classify(&self, host: Option<&str>, path: &str) -> Option<Addressed<'_, A>> {
        let hostname = strip_port(host.unwrap_or_default());
        if !self.domains.is_empty() {
            let domain = with_lower(hostname, |h| {
                self.domains.get_key_value(h).or_else(|| {
                    // An exact name wins over a wildcard (stages-canary-domains.md §4).
                    if self.wildcards.is_empty() {
                        return None;
                    }
                    let (_, parent) = h.split_once('.')?;
                    let wildcard = self.wildcards.get(parent)?;
                    self.domains.get_key_value(&**wildcard)
                })
            });
            if let Some((host, mappings)) = domain {
                let mutual_tls_domain = self.mutual_tls.get(host).map(|h| &**h);
                let mut found = base_path(mappings, path);
                if !self.portals.is_empty() && self.portals.contains(host) {
                    found.portal = true;
                } else if matches!(path, "/ping" | "/sping") {
                    found = Addressed {
                        frontend: None,
                        stage: None,
                        path_start: 0,
                        base_path_matched: None,
                        health_check: true,
                        portal: false,
                        mutual_tls_domain: None,
                    };
                }
                found.mutual_tls_domain = mutual_tls_domain;
                return Some(found);
            }
        }
        if let Some(found) = self.function_url_host(hostname) {
            return Some(found);
        }
        // An API's own host keeps every path, `/_aws/lambda-url/...` included.
        if let Some(label) = host_label(hostname, EXECUTE_API) {
            return Some(Addressed {
                frontend: with_lower(label, |id| self.execute_api.get(id)),
                stage: None,
                path_start: 0,
                base_path_matched: None,
                health_check: false,
                portal: false,
                mutual_tls_domain: None,
            });
        }
        if let Some(found) = self.function_url_path(path) {
            return Some(found);
        }
        let rest = path.strip_prefix(PATH_PREFIX)?;
        let id = &rest[..memchr::memchr(b'/', rest.as_bytes()).unwrap_or(rest.len())];
        if id.is_empty() {
            return None;
        }
        Some(Addressed {
            frontend: with_lower(id, |id| self.execute_api.get(id)),
            stage: None,
            path_start: PATH_PREFIX.len() + id.len(),
            base_path_matched: None,
            health_check: false,
            portal: false,
            mutual_tls_domain: None,
        })
    }
}

/// LocalStack's path form, `/restapis/{apiId}/{stage}/_user_request_/{path}`, as the
/// path form this table reads (`/_aws/execute-api/{apiId}/{stage}/{path}`), so local
/// setups written for LocalStack reach their APIs unchanged. `None` for any other path
/// (every control-plane path: none has `_user_request_` as its fourth segment).
pub fn user_request_path(path_and_query: &str) -> Option<String> {
    let rest = path_and_query.strip_prefix(USER_REQUEST_PREFIX)?;
    let mut segments = rest.splitn(3, '/');
    let (id, stage, tail) = (segments.next()?, segments.next()?, segments.next()?);
    let tail = tail.strip_prefix(USER_REQUEST)?;
    if id.is_empty()
        || stage.is_empty()
        || !matches!(tail.as_bytes().first(), None | Some(b'/' | b'?'))
    {
        return None;
    }
    Some(format!("{PATH_PREFIX}{id}/{stage}{tail}"))
}

/// The URI as the client sent it, kept in a request's extensions when the edge rewrote it
/// (LocalStack's path form): what a SigV4 signature covers.
#[derive(Debug, Clone)]
pub struct SignedUri(pub http::Uri);

const USER_REQUEST_PREFIX: &str = "/restapis/";
const USER_REQUEST: &str = "_user_request_";

/// The `{id}` of an `{id}{infix}{something}` host (`.execute-api.`, `.lambda-url.`).
fn host_label<'h>(hostname: &'h str, infix: &str) -> Option<&'h str> {
    // Byte searches: `str::find(char)` costs ~100 instructions a call more on the hot path.
    let dot = memchr::memchr(b'.', hostname.as_bytes())?;
    let (label, rest) = hostname.split_at(dot);
    let is_form = !label.is_empty()
        && rest
            .as_bytes()
            .get(..infix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(infix.as_bytes()));
    is_form.then_some(label)
}

/// The mapping that takes `path`: its base path equals the first segments of the path.
fn base_path<'t, A>(mappings: &'t [BasePathMapping<A>], path: &str) -> Addressed<'t, A> {
    let tail = path.trim_start_matches('/');
    let skipped = path.len() - tail.len();
    for m in mappings {
        let bp = &*m.base_path;
        let takes = bp.is_empty()
            || (tail.starts_with(bp) && matches!(tail.as_bytes().get(bp.len()), None | Some(b'/')));
        if takes {
            return Addressed {
                frontend: Some(&m.frontend),
                stage: m.stage.as_deref(),
                path_start: if bp.is_empty() { 0 } else { skipped + bp.len() },
                base_path_matched: Some(bp),
                health_check: false,
                portal: false,
                mutual_tls_domain: None,
            };
        }
    }
    Addressed {
        frontend: None,
        stage: None,
        path_start: 0,
        base_path_matched: None,
        health_check: false,
        portal: false,
        mutual_tls_domain: None,
    }
}

/// Runs `f` on the lower-case form of `s` without allocating (hosts and API ids are
/// case-insensitive; the table is keyed in lower case).
fn with_lower<R>(s: &str, f: impl FnOnce(&str) -> Option<R>) -> Option<R> {
    if !s.bytes().any(|b| b.is_ascii_uppercase()) {
        return f(s);
    }
    if s.len() > MAX_HOST {
        return None;
    }
    let mut buf = [0u8; MAX_HOST];
    let lower = &mut buf[..s.len()];
    lower.copy_from_slice(s.as_bytes());
    lower.make_ascii_lowercase();
    // ASCII case changes keep UTF-8 valid.
    f(std::str::from_utf8(lower).ok()?)
}

/// The host name of a Host header value, without its port (`[::1]:80` → `::1`).
pub fn strip_port(host: &str) -> &str {
    if let Some(v6) = host.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    port_colon(host).map_or(host, |colon| &host[..colon])
}

/// The port of a Host header value (`4566` of `a.b:4566` or `[::1]:4566`); none when it
/// names none (`a.b`, `[::1]`, `a.b:`).
pub fn port_of(host: &str) -> Option<&str> {
    Some(&host[port_colon(host)? + 1..]).filter(|p| !p.is_empty())
}

/// Where the `:` before a Host value's port is: its last colon, followed by digits only.
fn port_colon(host: &str) -> Option<usize> {
    let colon = memchr::memrchr(b':', host.as_bytes())?;
    host.as_bytes()[colon + 1..]
        .iter()
        .all(u8::is_ascii_digit)
        .then_some(colon)
}

/// `$context.domainPrefix`: the first label of the host a request was sent to (`abc` of
/// `abc.execute-api.localhost:4566`), without its port.
pub fn domain_prefix(host: &str) -> &str {
    let host = strip_port(host);
    &host[..memchr::memchr(b'.', host.as_bytes()).unwrap_or(host.len())]
}

/// The request's Host header, else its URI authority (HTTP/2).
pub fn host_of(parts: &http::request::Parts) -> Option<&str> {
    parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or(parts.uri.host())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Frontends<&'static str> {
        let mut t = Frontends::default();
        t.add_execute_api("abc123", ApiKind::Rest, "abc123");
        t.add_execute_api("Abc", ApiKind::Rest, "abc");
        t
    }

    fn api(a: &Addressed<'_, &'static str>) -> Option<&'static str> {
        a.frontend.map(|f| f.api)
    }

    #[test]
    fn localstack_user_request_form() {
        let p = |s| user_request_path(s);
        assert_eq!(
            p("/restapis/abc/dev/_user_request_/pets/1?x=1").as_deref(),
            Some("/_aws/execute-api/abc/dev/pets/1?x=1")
        );
        assert_eq!(
            p("/restapis/abc/dev/_user_request_").as_deref(),
            Some("/_aws/execute-api/abc/dev")
        );
        assert_eq!(
            p("/restapis/abc/dev/_user_request_?a=b").as_deref(),
            Some("/_aws/execute-api/abc/dev?a=b")
        );
        assert_eq!(p("/restapis/abc/stages/dev"), None);
        assert_eq!(p("/restapis/abc/dev/_user_request_x/pets"), None);
        assert_eq!(p("/restapis//dev/_user_request_/x"), None);
        assert_eq!(p("/restapis/abc"), None);
        assert_eq!(p("/_aws/execute-api/abc/dev"), None);
    }

    #[test]
    fn host_forms() {
        let t = table();
        let a = t
            .classify(Some("abc123.execute-api.localhost:4566"), "/dev/pets")
            .unwrap();
        assert_eq!((api(&a), a.path_start, a.stage), (Some("abc123"), 0, None));
        let a = t
            .classify(Some("ABC123.Execute-Api.us-east-1.amazonaws.com"), "/dev")
            .unwrap();
        assert_eq!(api(&a), Some("abc123"));
        // The form without a served API is still the data plane's (403 there).
        let a = t
            .classify(Some("nope.execute-api.localhost"), "/dev")
            .unwrap();
        assert!(a.frontend.is_none());
        assert_eq!(a.kind(), ApiKind::Rest);
        assert!(t.classify(Some("localhost:4566"), "/restapis").is_none());
        assert!(t.classify(Some("execute-api.localhost"), "/x").is_none());
        assert!(t.classify(Some(".execute-api.localhost"), "/x").is_none());
        assert!(t.classify(None, "/x").is_none());
        // An API's host keeps the function URL path form for the API.
        let a = t
            .classify(Some("abc123.execute-api.localhost"), "/_aws/lambda-url/x/y")
            .unwrap();
        assert_eq!((api(&a), a.path_start), (Some("abc123"), 0));
    }

    #[test]
    fn path_form() {
        let t = table();
        let path = "/_aws/execute-api/ABC/dev/pets";
        let a = t.classify(Some("localhost:4566"), path).unwrap();
        assert_eq!(api(&a), Some("abc"));
        assert_eq!(&path[a.path_start..], "/dev/pets");
        assert!(t.classify(None, "/_aws/execute-api/").is_none());
        let a = t
            .classify(Some("[::1]:4566"), "/_aws/execute-api/x")
            .unwrap();
        assert!(a.frontend.is_none());
        assert_eq!(a.path_start, "/_aws/execute-api/x".len());
    }

    #[test]
    fn custom_domains_by_base_path() {
        let mut t = table();
        let mapping = |bp: &str, stage: Option<&str>, api| BasePathMapping {
            base_path: bp.into(),
            stage: stage.map(Into::into),
            frontend: Frontend {
                kind: ApiKind::Rest,
                api,
            },
        };
        t.add_domain(
            "API.example.com",
            vec![
                mapping("", Some("prod"), "root"),
                mapping("v1", Some("v1"), "one"),
                mapping("v1/admin", None, "admin"),
            ],
            false,
        );
        let path = "/v1/pets";
        let a = t.classify(Some("api.example.com:443"), path).unwrap();
        assert_eq!((api(&a), a.stage), (Some("one"), Some("v1")));
        assert_eq!(&path[a.path_start..], "/pets");
        let path = "/v1/admin/dev/x";
        let a = t.classify(Some("Api.Example.com"), path).unwrap();
        assert_eq!((api(&a), a.stage), (Some("admin"), None));
        assert_eq!(&path[a.path_start..], "/dev/x");
        let a = t.classify(Some("api.example.com"), "/v10").unwrap();
        assert_eq!(
            (api(&a), a.stage, a.path_start),
            (Some("root"), Some("prod"), 0)
        );
        t.add_domain("bare.example.com", vec![mapping("v1", None, "one")], true);
        let a = t.classify(Some("bare.example.com"), "/other").unwrap();
        assert!(a.frontend.is_none());
        assert_eq!(a.mutual_tls_domain, Some("bare.example.com"));
        let a = t.classify(Some("Bare.example.com"), "/ping").unwrap();
        assert!(a.health_check);
        assert_eq!(a.mutual_tls_domain, Some("bare.example.com"));
        assert!(t.classify(Some("other.example.com"), "/v1").is_none());
        // A wildcard takes one label under its parent that no exact name takes.
        t.add_domain("*.example.com", vec![mapping("", Some("w"), "wild")], true);
        let a = t.classify(Some("Other.example.com"), "/v1").unwrap();
        assert_eq!((api(&a), a.stage), (Some("wild"), Some("w")));
        assert_eq!(a.mutual_tls_domain, Some("*.example.com"));
        let a = t.classify(Some("api.example.com"), "/v1/pets").unwrap();
        assert_eq!(api(&a), Some("one"));
        assert!(t.classify(Some("a.b.example.com"), "/").is_none());
        assert!(t.classify(Some("example.com"), "/").is_none());
    }

    #[test]
    fn a_portal_domain_takes_every_path_and_routes_no_api() {
        let mut t: Frontends<&'static str> = Frontends::default();
        t.add_domain(
            "api.example.com",
            vec![BasePathMapping {
                base_path: "".into(),
                stage: Some("prod".into()),
                frontend: Frontend {
                    kind: ApiKind::Rest,
                    api: "root",
                },
            }],
            false,
        );
        t.add_portal_domain("Developer.example.com", false);
        for path in [
            "/",
            "/signup",
            "/ping",
            "/restapis",
            "/_aws/execute-api/x/prod/",
        ] {
            let a = t
                .classify(Some("developer.example.com:8443"), path)
                .unwrap();
            assert!(
                a.portal && a.frontend.is_none() && !a.health_check,
                "{path}"
            );
        }
        let a = t.classify(Some("api.example.com"), "/").unwrap();
        assert!(!a.portal && a.frontend.is_some());
        // The portal's mutual TLS is the domain's, as for any domain.
        t.add_portal_domain("*.dev.example.com", true);
        let a = t.classify(Some("a.dev.example.com"), "/").unwrap();
        assert!(a.portal);
        assert_eq!(a.mutual_tls_domain, Some("*.dev.example.com"));
    }

    #[test]
    fn ports() {
        assert_eq!(strip_port("a.b:4566"), "a.b");
        assert_eq!(strip_port("[::1]:4566"), "::1");
        assert_eq!(strip_port("a.b"), "a.b");
        assert_eq!(port_of("a.b:4566"), Some("4566"));
        assert_eq!(port_of("[::1]:4566"), Some("4566"));
        assert_eq!(port_of("[::1]"), None);
        assert_eq!(port_of("a.b:"), None);
        assert_eq!(port_of("a.b"), None);
    }
}
