//! Integration URIs as pieces, parsed once per deployment: literal text, `{param}` path
//! parameters and `${stageVariables.x}` references.

#[derive(Debug, Clone, PartialEq)]
pub enum UriPiece {
    Literal(String),
    /// `{name}`: filled from the `integration.request.path.name` mapping.
    PathParam(String),
    /// `${stageVariables.name}`
    StageVariable(String),
}

pub fn compile_uri(uri: &str) -> Vec<UriPiece> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut rest = uri;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("${stageVariables.") {
            if let Some(end) = after.find('}') {
                if !lit.is_empty() {
                    out.push(UriPiece::Literal(std::mem::take(&mut lit)));
                }
                out.push(UriPiece::StageVariable(after[..end].to_string()));
                rest = &after[end + 1..];
                continue;
            }
        }
        if let Some(after) = rest.strip_prefix('{') {
            if let Some(end) = after.find('}') {
                let name = &after[..end];
                if !name.is_empty()
                    && name.bytes().all(|b| {
                        b.is_ascii_alphanumeric()
                            || b == b'_'
                            || b == b'-'
                            || b == b'.'
                            || b == b'+'
                    })
                {
                    if !lit.is_empty() {
                        out.push(UriPiece::Literal(std::mem::take(&mut lit)));
                    }
                    out.push(UriPiece::PathParam(name.trim_end_matches('+').to_string()));
                    rest = &after[end + 1..];
                    continue;
                }
            }
        }
        let c = rest.chars().next().unwrap_or_default();
        lit.push(c);
        rest = &rest[c.len_utf8()..];
    }
    if !lit.is_empty() {
        out.push(UriPiece::Literal(lit));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_templates() {
        assert_eq!(
            compile_uri("http://${stageVariables.host}:8080/pets/{petId}?q={q}"),
            vec![
                UriPiece::Literal("http://".into()),
                UriPiece::StageVariable("host".into()),
                UriPiece::Literal(":8080/pets/".into()),
                UriPiece::PathParam("petId".into()),
                UriPiece::Literal("?q=".into()),
                UriPiece::PathParam("q".into()),
            ]
        );
        assert_eq!(
            compile_uri("http://x/{proxy}"),
            vec![
                UriPiece::Literal("http://x/".into()),
                UriPiece::PathParam("proxy".into())
            ]
        );
        assert_eq!(
            compile_uri("http://x/{}"),
            vec![UriPiece::Literal("http://x/{}".into())]
        );
    }
}
