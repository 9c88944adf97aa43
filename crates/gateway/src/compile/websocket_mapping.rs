//! A WebSocket integration's `requestParameters` (control-plane-v2.md, integrations):
//! `integration.request.{header|querystring|path}.{name}` from `'static'`,
//! `route.request.{header|querystring}.{name}` (the handshake's, on `$connect`),
//! `route.request.body[.{path}]`, `context.{name}` or `stageVariables.{name}`, each source
//! compiled once per deployment into the selection-expression language messages are
//! already read with.

use std::collections::BTreeMap;

use http::HeaderName;
use tollgate_model::selection::{Expression, Piece};

/// Where a mapped value goes.
#[derive(Debug)]
pub enum WsParamTarget {
    Header(HeaderName),
    Query(Box<str>),
    Path(Box<str>),
}

/// One mapping: a value that evaluates to nothing (a missing member, header or variable)
/// adds nothing, as on REST.
#[derive(Debug)]
pub struct WsParameter {
    pub target: WsParamTarget,
    pub source: Expression,
}

fn target(key: &str) -> Option<WsParamTarget> {
    let rest = key.strip_prefix("integration.request.")?;
    let named = |prefix: &str| rest.strip_prefix(prefix).filter(|n| !n.is_empty());
    if let Some(h) = named("header.") {
        return HeaderName::from_bytes(h.as_bytes())
            .ok()
            .map(WsParamTarget::Header);
    }
    named("querystring.")
        .map(|q| WsParamTarget::Query(q.into()))
        .or_else(|| named("path.").map(|p| WsParamTarget::Path(p.into())))
}

fn source(value: &str) -> Option<Expression> {
    if let Some(inner) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        return Some(Expression {
            pieces: vec![Piece::Literal(inner.to_string())],
        });
    }
    let variable = value
        .strip_prefix("route.")
        .filter(|v| v.starts_with("request."))
        .or_else(|| {
            (value.starts_with("context.") || value.starts_with("stageVariables.")).then_some(value)
        })?;
    Expression::parse(&format!("${{{variable}}}")).ok()
}

/// The mappings that can be evaluated (one that cannot is left out, said in the log).
pub fn request_parameters(api: &str, map: &BTreeMap<String, String>) -> Vec<WsParameter> {
    map.iter()
        .filter_map(|(key, value)| match (target(key), source(value)) {
            (Some(target), Some(source)) => Some(WsParameter { target, source }),
            _ => {
                tracing::warn!(api, key = %key, value = %value, "WebSocket parameter mapping cannot be used");
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_model::selection::Variable;

    #[test]
    fn sources_and_targets() {
        let map = BTreeMap::from([
            (
                "integration.request.header.Content-Type".to_string(),
                "'application/x-www-form-urlencoded'".to_string(),
            ),
            (
                "integration.request.querystring.who".to_string(),
                "route.request.body.user.name".to_string(),
            ),
            (
                "integration.request.path.id".to_string(),
                "context.connectionId".to_string(),
            ),
            (
                "integration.request.header.X-Env".to_string(),
                "stageVariables.env".to_string(),
            ),
            ("integration.response.x".to_string(), "'a'".to_string()),
            (
                "integration.request.header.Bad".to_string(),
                "method.request.header.x".to_string(),
            ),
        ]);
        let got = request_parameters("a", &map);
        assert_eq!(got.len(), 4);
        let find = |f: fn(&WsParamTarget) -> bool| {
            got.iter()
                .find(|p| f(&p.target))
                .map(|p| p.source.pieces.clone())
                .unwrap()
        };
        assert_eq!(
            find(|t| matches!(t, WsParamTarget::Header(h) if h == "content-type")),
            vec![Piece::Literal("application/x-www-form-urlencoded".into())]
        );
        assert!(matches!(
            &find(|t| matches!(t, WsParamTarget::Query(q) if &**q == "who"))[..],
            [Piece::Variable(Variable::Body(steps))] if steps.len() == 2
        ));
        assert_eq!(
            find(|t| matches!(t, WsParamTarget::Path(p) if &**p == "id")),
            vec![Piece::Variable(Variable::Context("connectionId".into()))]
        );
        assert_eq!(
            find(|t| matches!(t, WsParamTarget::Header(h) if h == "x-env")),
            vec![Piece::Variable(Variable::StageVariable("env".into()))]
        );
    }
}
