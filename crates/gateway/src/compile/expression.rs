//! The one mapping-expression parser: the right-hand side of `requestParameters`,
//! `responseParameters` and gateway response `responseParameters`
//! (`method.request.*`, `integration.response.*`, `stageVariables.*`, `context.*`, `'x'`).
//! Each place then keeps the sources AWS allows there.

use tollgate_vtl::jsonpath::JsonPath;

/// Where a mapped value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// `method.request.path.x`
    Path(String),
    /// `method.request.querystring.x`
    Query(String),
    /// `method.request.multivaluequerystring.x`
    MultiQuery(String),
    /// `method.request.header.x`
    Header(String),
    /// `method.request.multivalueheader.x`
    MultiHeader(String),
    /// `method.request.body`
    Body,
    /// `method.request.body.{JSONPath}`
    BodyPath(JsonPath),
    /// `integration.response.header.x`
    IntegrationHeader(String),
    /// `integration.response.multivalueheader.x`
    IntegrationMultiHeader(String),
    /// `integration.response.body`
    IntegrationBody,
    /// `integration.response.body.{JSONPath}`
    IntegrationBodyPath(JsonPath),
    StageVariable(String),
    Context(String),
    Literal(String),
}

impl Source {
    pub fn parse(expr: &str) -> Option<Source> {
        if let Some(lit) = expr.strip_prefix('\'').and_then(|e| e.strip_suffix('\'')) {
            return Some(Source::Literal(lit.to_string()));
        }
        if let Some(n) = expr.strip_prefix("stageVariables.") {
            return Some(Source::StageVariable(n.to_string()));
        }
        if let Some(n) = expr.strip_prefix("context.") {
            return Some(Source::Context(n.to_string()));
        }
        if let Some(rest) = expr.strip_prefix("method.request.") {
            return method_request(rest);
        }
        integration_response(expr.strip_prefix("integration.response.")?)
    }

    /// Whether the value comes from the integration's response (only response mappings
    /// may read it).
    pub fn reads_integration_response(&self) -> bool {
        matches!(
            self,
            Source::IntegrationHeader(_)
                | Source::IntegrationMultiHeader(_)
                | Source::IntegrationBody
                | Source::IntegrationBodyPath(_)
        )
    }

    /// Whether the value comes from the client's request (`method.request.*`).
    pub fn reads_method_request(&self) -> bool {
        matches!(
            self,
            Source::Path(_)
                | Source::Query(_)
                | Source::MultiQuery(_)
                | Source::Header(_)
                | Source::MultiHeader(_)
                | Source::Body
                | Source::BodyPath(_)
        )
    }
}

/// `method.request.` followed by `rest`.
fn method_request(rest: &str) -> Option<Source> {
    if rest == "body" {
        return Some(Source::Body);
    }
    if let Some(path) = rest.strip_prefix("body.") {
        return JsonPath::parse(path).ok().map(Source::BodyPath);
    }
    let (loc, name) = rest.split_once('.')?;
    let name = name.to_string();
    Some(match loc {
        "path" => Source::Path(name),
        "querystring" => Source::Query(name),
        "multivaluequerystring" => Source::MultiQuery(name),
        "header" => Source::Header(name),
        "multivalueheader" => Source::MultiHeader(name),
        _ => return None,
    })
}

/// `integration.response.` followed by `rest`.
fn integration_response(rest: &str) -> Option<Source> {
    if rest == "body" {
        return Some(Source::IntegrationBody);
    }
    if let Some(path) = rest.strip_prefix("body.") {
        return JsonPath::parse(path).ok().map(Source::IntegrationBodyPath);
    }
    if let Some(n) = rest.strip_prefix("header.") {
        return Some(Source::IntegrationHeader(n.to_string()));
    }
    if let Some(n) = rest.strip_prefix("multivalueheader.") {
        return Some(Source::IntegrationMultiHeader(n.to_string()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::body_path;

    #[test]
    fn sources() {
        assert_eq!(
            Source::parse("method.request.path.id"),
            Some(Source::Path("id".into()))
        );
        assert_eq!(Source::parse("'a b'"), Some(Source::Literal("a b".into())));
        assert_eq!(
            Source::parse("context.identity.sourceIp"),
            Some(Source::Context("identity.sourceIp".into()))
        );
        assert_eq!(Source::parse("method.request.nope.x"), None);
        let Some(Source::BodyPath(p)) = Source::parse("method.request.body.order.items[0].sku")
        else {
            panic!()
        };
        assert_eq!(
            body_path(&p, br#"{"order": {"items": [{"sku": "A1"}]}}"#).as_deref(),
            Some("A1")
        );
        assert_eq!(body_path(&p, b"not json").as_deref(), None);
        let Some(Source::BodyPath(all)) = Source::parse("method.request.body.order") else {
            panic!()
        };
        assert_eq!(
            body_path(&all, br#"{"order": {"n": 1}}"#).as_deref(),
            Some("{\"n\":1}")
        );
        assert_eq!(
            Source::parse("integration.response.header.X-A"),
            Some(Source::IntegrationHeader("X-A".into()))
        );
    }
}
