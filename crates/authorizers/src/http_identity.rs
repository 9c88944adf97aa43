//! HTTP APIs' identity sources (lambda-events.md §5.2): `$request.header.x` (any case),
//! `$request.querystring.x` (exact case), `$context.x`, `$stageVariables.x`. Parsed once
//! per deployment; the pipeline reads their values through [`IdentityValues`].

use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpIdentitySource {
    /// Lowercased header name.
    Header(String),
    QueryString(String),
    Context(String),
    StageVariable(String),
}

impl HttpIdentitySource {
    pub fn parse(s: &str) -> Option<HttpIdentitySource> {
        let s = s.trim();
        let nonempty = |n: &str| (!n.is_empty()).then(|| n.to_string());
        if let Some(n) = s.strip_prefix("$request.header.") {
            return nonempty(n).map(|n| HttpIdentitySource::Header(n.to_ascii_lowercase()));
        }
        if let Some(n) = s.strip_prefix("$request.querystring.") {
            return nonempty(n).map(HttpIdentitySource::QueryString);
        }
        if let Some(n) = s.strip_prefix("$context.") {
            return nonempty(n).map(HttpIdentitySource::Context);
        }
        s.strip_prefix("$stageVariables.")
            .and_then(nonempty)
            .map(HttpIdentitySource::StageVariable)
    }
}

/// Reads identity sources' values from one request (empty counts as missing).
pub trait IdentityValues {
    fn identity(&self, source: &HttpIdentitySource) -> Option<Cow<'_, str>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        assert_eq!(
            HttpIdentitySource::parse("$request.header.Authorization"),
            Some(HttpIdentitySource::Header("authorization".into()))
        );
        assert_eq!(
            HttpIdentitySource::parse("$request.querystring.Token"),
            Some(HttpIdentitySource::QueryString("Token".into()))
        );
        assert_eq!(
            HttpIdentitySource::parse("$stageVariables.v"),
            Some(HttpIdentitySource::StageVariable("v".into()))
        );
        assert_eq!(
            HttpIdentitySource::parse("$context.routeKey"),
            Some(HttpIdentitySource::Context("routeKey".into()))
        );
        assert_eq!(HttpIdentitySource::parse("$request.header."), None);
        assert_eq!(HttpIdentitySource::parse("method.request.header.A"), None);
    }
}
