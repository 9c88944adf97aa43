//! Each method's authorizer, resolved once per deployment: Lambda authorizers compiled by
//! the authorizer engine (identity sources, validation expression, function), shared by
//! every method that names them.

use std::collections::HashMap;
use std::sync::Arc;

use tollgate_authorizers::LambdaAuthorizer;
use tollgate_model::{AuthorizationType, AuthorizerType, Method, RestApiDefinition};

/// What the Authorize phase runs for a method.
#[derive(Debug, Clone)]
pub enum MethodAuthorizer {
    /// `NONE`: nothing, at no cost.
    None,
    Lambda(Arc<LambdaAuthorizer>),
    /// A type Tollgate cannot check yet (AWS_IAM, COGNITO_USER_POOLS) or an authorizer
    /// that does not compile: the method answers AUTHORIZER_CONFIGURATION_ERROR, never
    /// letting a request through.
    Unusable,
}

/// The deployment's Lambda authorizers that compile, by id.
pub fn compile_authorizers(def: &RestApiDefinition) -> HashMap<String, Arc<LambdaAuthorizer>> {
    def.authorizers
        .values()
        .filter(|a| a.authorizer_type != AuthorizerType::CognitoUserPools)
        .filter_map(|a| match LambdaAuthorizer::compile(a) {
            Ok(c) => Some((a.id.clone(), Arc::new(c))),
            Err(e) => {
                tracing::warn!(api = %def.api.id, error = %e, "authorizer will answer 500");
                None
            }
        })
        .collect()
}

pub fn method_authorizer(
    m: &Method,
    lambdas: &HashMap<String, Arc<LambdaAuthorizer>>,
) -> MethodAuthorizer {
    match m.authorization_type {
        AuthorizationType::None => MethodAuthorizer::None,
        AuthorizationType::Custom | AuthorizationType::CognitoUserPools => {
            match m.authorizer_id.as_deref().and_then(|id| lambdas.get(id)) {
                Some(a) => MethodAuthorizer::Lambda(a.clone()),
                None => MethodAuthorizer::Unusable,
            }
        }
        _ => MethodAuthorizer::Unusable,
    }
}
