//! Authorizer rules that need no I/O, shared by the control plane (which refuses what breaks
//! them) and the authorizer engine (which compiles what passed): identity sources, the
//! Lambda invocation URI and the result TTL.

use crate::vocabulary::AuthorizerType;

/// The TTL an authorizer without `authorizerResultTtlInSeconds` caches its results for.
pub const DEFAULT_RESULT_TTL: i64 = 300;
/// The longest `authorizerResultTtlInSeconds` AWS accepts.
pub const MAX_RESULT_TTL: i64 = 3600;

/// One identity source of an authorizer, as the request carries it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IdentitySource {
    /// `method.request.header.{name}` (matched without case, as HTTP header names are).
    Header(String),
    /// `method.request.querystring.{name}`
    QueryString(String),
    /// `stageVariables.{name}`
    StageVariable(String),
    /// `context.{name}`
    Context(String),
}

/// A header name as AWS allows it in a token source: `[a-zA-Z0-9._-]+`.
fn token_header_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The identity sources of an authorizer of `kind`, or AWS's message for a bad one. TOKEN
/// and COGNITO_USER_POOLS read one header; REQUEST reads a comma-separated list (which may
/// be empty: it is required only with caching, see [`effective_ttl`]).
pub fn identity_sources(
    kind: AuthorizerType,
    source: Option<&str>,
) -> Result<Vec<IdentitySource>, String> {
    let source = source.unwrap_or_default().trim();
    match kind {
        AuthorizerType::Token | AuthorizerType::CognitoUserPools => {
            match source.strip_prefix("method.request.header.") {
                Some(name) if token_header_name(name) => {
                    Ok(vec![IdentitySource::Header(name.to_string())])
                }
                // AWS's wording, as CloudFormation relays it.
                _ => Err(format!("Invalid token source expression: {source}. The source must be a method request header, matching 'method.request.header.[a-zA-Z0-9._-]+'.")),
            }
        }
        AuthorizerType::Request => source
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                let parsed = if let Some(n) = s.strip_prefix("method.request.header.") {
                    Some(IdentitySource::Header(n.to_string()))
                } else if let Some(n) = s.strip_prefix("method.request.querystring.") {
                    Some(IdentitySource::QueryString(n.to_string()))
                } else if let Some(n) = s.strip_prefix("stageVariables.") {
                    Some(IdentitySource::StageVariable(n.to_string()))
                } else {
                    s.strip_prefix("context.")
                        .map(|n| IdentitySource::Context(n.to_string()))
                };
                parsed
                    .filter(|p| match p {
                        IdentitySource::Header(n)
                        | IdentitySource::QueryString(n)
                        | IdentitySource::StageVariable(n)
                        | IdentitySource::Context(n) => !n.is_empty(),
                    })
                    .ok_or_else(|| format!("Invalid identity source expression: {s}. The source must be a method request header or query string parameter, a stage variable or a context variable."))
            })
            .collect(),
    }
}

/// The TTL results are cached for: the authorizer's, else 300 s; 0 disables the cache.
pub fn effective_ttl(ttl: Option<i64>) -> i64 {
    ttl.unwrap_or(DEFAULT_RESULT_TTL)
}

/// `arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{functionArn}/invocations`
/// → the function ARN part (which may hold `${stageVariables.x}`). Integrations and
/// authorizers name their functions this way.
pub fn function_of_invocation_uri(uri: &str) -> Option<&str> {
    let rest = uri.strip_prefix("arn:aws:apigateway:")?;
    let (_region, rest) = rest.split_once(':')?;
    // `lambda:path//2015-03-31/...` (a doubled slash) is the same URI to AWS.
    let rest = rest.strip_prefix("lambda:path/")?;
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    let rest = rest.strip_prefix("2015-03-31/functions/")?;
    let f = rest.strip_suffix("/invocations")?;
    (!f.is_empty()).then_some(f)
}

/// `arn:aws:cognito-idp:{region}:{account}:userpool/{poolId}` → the pool id.
pub fn user_pool_id(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:aws:cognito-idp:")?;
    let mut parts = rest.splitn(3, ':');
    let (_region, _account, res) = (parts.next()?, parts.next()?, parts.next()?);
    res.strip_prefix("userpool/").filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use AuthorizerType as K;
    use IdentitySource as S;

    #[test]
    fn token_sources_are_one_header() {
        assert_eq!(
            identity_sources(K::Token, Some("method.request.header.Auth")),
            Ok(vec![S::Header("Auth".into())])
        );
        for bad in [
            "",
            "method.request.querystring.k",
            "method.request.header.",
            "Auth",
        ] {
            assert!(identity_sources(K::Token, Some(bad))
                .unwrap_err()
                .starts_with("Invalid token source expression"));
        }
        assert!(identity_sources(K::CognitoUserPools, None).is_err());
    }

    #[test]
    fn request_sources_are_a_list() {
        assert_eq!(
            identity_sources(
                K::Request,
                Some("method.request.header.A, method.request.querystring.q,stageVariables.s, context.requestId")
            ),
            Ok(vec![
                S::Header("A".into()),
                S::QueryString("q".into()),
                S::StageVariable("s".into()),
                S::Context("requestId".into()),
            ])
        );
        assert_eq!(identity_sources(K::Request, None), Ok(vec![]));
        assert!(identity_sources(K::Request, Some("method.request.path.p")).is_err());
    }

    #[test]
    fn invocation_uris_name_their_function() {
        assert_eq!(
            function_of_invocation_uri("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:f/invocations"),
            Some("arn:aws:lambda:us-east-1:000000000000:function:f")
        );
        assert_eq!(function_of_invocation_uri("http://example.com"), None);
    }

    #[test]
    fn pool_ids_come_from_user_pool_arns() {
        assert_eq!(
            user_pool_id("arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_ABC123"),
            Some("us-east-1_ABC123")
        );
        assert_eq!(
            user_pool_id("arn:aws:cognito-idp:us-east-1:0:userpool/"),
            None
        );
        assert_eq!(user_pool_id("arn:aws:iam::0:role/x"), None);
    }

    #[test]
    fn invocation_uris_name_their_function_with_one_slash_or_two() {
        let arn = "arn:aws:lambda:us-east-1:000000000000:function:f";
        for path in ["path/2015", "path//2015"] {
            let uri = format!(
                "arn:aws:apigateway:us-east-1:lambda:{path}-03-31/functions/{arn}/invocations"
            );
            assert_eq!(function_of_invocation_uri(&uri), Some(arn));
        }
        let three = format!(
            "arn:aws:apigateway:us-east-1:lambda:path///2015-03-31/functions/{arn}/invocations"
        );
        assert_eq!(function_of_invocation_uri(&three), None);
    }
}
