//! Which function a Lambda integration calls, from its URI: parsed once per deployment,
//! or per request when the URI holds stage variables.

use std::borrow::Cow;
use std::collections::BTreeMap;

use tollgate_model::lambda::{parse_function_ref, FunctionRef};

use crate::error::GatewayError;
use crate::uri::{compile_uri, UriPiece};

use tollgate_model::authorizer::function_of_invocation_uri as function_of_uri;

/// Why an `AWS`/`AWS_PROXY` integration's URI names no function.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LambdaUriError {
    #[error("integration URI {0} is not a Lambda function")]
    NotLambda(String),
    #[error("integration URI {0} names an invalid function")]
    InvalidFunction(String),
}

/// The function a Lambda integration calls.
#[derive(Debug)]
pub enum LambdaTarget {
    /// The URI names it in full: parsed once, when the deployment is compiled.
    Fixed(FunctionRef),
    /// The URI holds `${stageVariables.x}`: resolved per request.
    PerStage(Vec<UriPiece>),
}

impl LambdaTarget {
    /// From an integration URI in AWS's Lambda form.
    pub fn compile(uri: &str) -> Result<LambdaTarget, LambdaUriError> {
        let arn = function_of_uri(uri).ok_or_else(|| LambdaUriError::NotLambda(uri.into()))?;
        let pieces = compile_uri(arn);
        match pieces.as_slice() {
            [UriPiece::Literal(arn)] => parse_function_ref(arn)
                .map(LambdaTarget::Fixed)
                .ok_or_else(|| LambdaUriError::InvalidFunction(uri.into())),
            _ => Ok(LambdaTarget::PerStage(pieces)),
        }
    }

    /// The function for one request; `api_id` only names the API in the log.
    pub(crate) fn resolve(
        &self,
        stage_variables: &BTreeMap<String, String>,
        api_id: &str,
    ) -> Result<Cow<'_, FunctionRef>, GatewayError> {
        let pieces = match self {
            LambdaTarget::Fixed(r) => return Ok(Cow::Borrowed(r)),
            LambdaTarget::PerStage(pieces) => pieces,
        };
        let mut arn = String::with_capacity(96);
        for piece in pieces {
            match piece {
                UriPiece::Literal(l) => arn.push_str(l),
                UriPiece::StageVariable(n) => {
                    arn.push_str(stage_variables.get(n).map_or("", |v| v.as_str()))
                }
                UriPiece::PathParam(n) => {
                    arn.push('{');
                    arn.push_str(n);
                    arn.push('}');
                }
            }
        }
        parse_function_ref(&arn).map(Cow::Owned).ok_or_else(|| {
            tracing::info!(api = %api_id, function = %arn, "integration names an invalid function");
            GatewayError::internal()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_uris_name_their_function() {
        assert_eq!(
            function_of_uri("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:f/invocations"),
            Some("arn:aws:lambda:us-east-1:000000000000:function:f")
        );
        assert_eq!(
            function_of_uri("arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:1:function:f:${stageVariables.alias}/invocations"),
            Some("arn:aws:lambda:eu-west-1:1:function:f:${stageVariables.alias}")
        );
        assert_eq!(
            function_of_uri("arn:aws:apigateway:us-east-1:dynamodb:action/PutItem"),
            None
        );
        assert_eq!(function_of_uri("http://example.com"), None);
    }

    #[test]
    fn fixed_targets_are_parsed_at_compile_time() {
        let uri = |f: &str| {
            format!("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{f}/invocations")
        };
        match LambdaTarget::compile(&uri(
            "arn:aws:lambda:us-east-1:000000000000:function:f:live",
        )) {
            Ok(LambdaTarget::Fixed(r)) => {
                assert_eq!(
                    (r.name.as_str(), r.qualifier.as_deref()),
                    ("f", Some("live"))
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            LambdaTarget::compile(&uri(
                "arn:aws:lambda:us-east-1:000000000000:function:${stageVariables.fn}"
            )),
            Ok(LambdaTarget::PerStage(_))
        ));
        assert!(LambdaTarget::compile(&uri(
            "arn:aws:lambda:us-east-1:000000000000:function:bad name"
        ))
        .is_err());
        assert!(LambdaTarget::compile("http://example.com").is_err());
    }
}
