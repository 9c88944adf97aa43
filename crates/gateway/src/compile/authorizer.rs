//! Each method's authorizer, resolved once per deployment: Lambda authorizers compiled by
//! the authorizer engine (identity sources, validation expression, function), shared by
//! every method that names them.

use std::collections::HashMap;
use std::sync::Arc;

use tollgate_authorizers::{CognitoAuthorizer, LambdaAuthorizer};
use tollgate_model::{AuthorizationType, AuthorizerType, Method, RestApiDefinition};

/// What the Authorize phase runs for a method.
#[derive(Debug, Clone)]
pub enum MethodAuthorizer {
    /// `NONE`: nothing, at no cost.
    None,
    Lambda(Arc<LambdaAuthorizer>),
    /// A Cognito user-pool authorizer with the method's `authorizationScopes`.
    Cognito {
        authorizer: Arc<CognitoAuthorizer>,
        scopes: Arc<[String]>,
    },
    /// `AWS_IAM`: a SigV4 signature by a known caller whose identity policies allow
    /// `execute-api:Invoke` on the method (`crate::iam`).
    Iam,
    /// An authorizer that does not compile: the method answers AUTHORIZER_CONFIGURATION_ERROR, never
    /// letting a request through.
    Unusable,
}

/// The deployment's Cognito authorizers that compile, by id.
fn compile_cognito(def: &RestApiDefinition) -> HashMap<String, Arc<CognitoAuthorizer>> {
    def.authorizers
        .values()
        .filter(|a| a.authorizer_type == AuthorizerType::CognitoUserPools)
        .filter_map(|a| match CognitoAuthorizer::compile(a) {
            Ok(c) => Some((a.id.clone(), Arc::new(c))),
            Err(e) => {
                tracing::warn!(api = %def.api.id, error = %e, "authorizer will answer 500");
                None
            }
        })
        .collect()
}

/// The deployment's Lambda authorizers that compile, by id.
fn compile_authorizers(def: &RestApiDefinition) -> HashMap<String, Arc<LambdaAuthorizer>> {
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

/// A deployment's authorizers that compile, by id.
pub struct DeploymentAuthorizers {
    pub lambda: HashMap<String, Arc<LambdaAuthorizer>>,
    pub cognito: HashMap<String, Arc<CognitoAuthorizer>>,
}

impl DeploymentAuthorizers {
    pub fn compile(def: &RestApiDefinition) -> Self {
        DeploymentAuthorizers {
            lambda: compile_authorizers(def),
            cognito: compile_cognito(def),
        }
    }

    pub fn for_method(&self, m: &Method) -> MethodAuthorizer {
        method_authorizer(m, &self.lambda, &self.cognito)
    }
}

/// The method's authorizer: the one its `authorizerId` names, whatever the method's
/// `authorizationType` says (AWS goes by the authorizer's type).
fn method_authorizer(
    m: &Method,
    lambdas: &HashMap<String, Arc<LambdaAuthorizer>>,
    cognito: &HashMap<String, Arc<CognitoAuthorizer>>,
) -> MethodAuthorizer {
    match m.authorization_type {
        AuthorizationType::None => MethodAuthorizer::None,
        AuthorizationType::Custom | AuthorizationType::CognitoUserPools => {
            let id = m.authorizer_id.as_deref().unwrap_or_default();
            if let Some(a) = lambdas.get(id) {
                return MethodAuthorizer::Lambda(a.clone());
            }
            match cognito.get(id) {
                Some(a) => MethodAuthorizer::Cognito {
                    authorizer: a.clone(),
                    scopes: m.authorization_scopes.clone().unwrap_or_default().into(),
                },
                None => MethodAuthorizer::Unusable,
            }
        }
        AuthorizationType::AwsIam => MethodAuthorizer::Iam,
        // JWT authorizers belong to HTTP APIs; a REST method cannot use one.
        AuthorizationType::Jwt => MethodAuthorizer::Unusable,
    }
}

/// The API's resource policy (auth-throttle-cache.md §7.2), its
/// `execute-api:/{stage}/{METHOD}/{path}` resources expanded to the API's ARNs (any region:
/// the API id is unique).
pub fn resource_policy(def: &RestApiDefinition) -> Option<Result<tollgate_policy::Policy, ()>> {
    let text = def.api.policy.as_deref().filter(|p| !p.is_empty())?;
    let doc: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    let prefix = format!(
        "arn:aws:execute-api:*:{}:{}",
        tollgate_model::ACCOUNT_ID,
        def.api.id
    );
    let expand = |p: &str| Some(format!("{prefix}{}", p.strip_prefix("execute-api:")?));
    Some(
        tollgate_policy::Policy::compile(&doc)
            .map(|p| p.rewrite_resources(&expand))
            .map_err(|e| {
                tracing::warn!(api = %def.api.id, error = %e, "resource policy does not compile; every request is denied");
            }),
    )
}
