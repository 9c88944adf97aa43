//! Each HTTP API route's authorizer, resolved once per deployment: JWT and Lambda REQUEST
//! authorizers compiled by the authorizer engine and shared by every route that names them.

use std::collections::HashMap;
use std::sync::Arc;

use tollgate_authorizers::http_lambda::HttpLambdaAuthorizer;
use tollgate_authorizers::jwt::JwtAuthorizer;
use tollgate_model::v2::{Definition, Route};
use tollgate_model::{AuthorizationType, V2AuthorizerType};

/// What the authorization phase runs for a route.
#[derive(Debug, Clone)]
pub enum RouteAuthorizer {
    /// `NONE`: nothing, at no cost.
    None,
    /// A JWT authorizer with the route's `authorizationScopes`.
    Jwt {
        authorizer: Arc<JwtAuthorizer>,
        scopes: Arc<[String]>,
    },
    Lambda(Arc<HttpLambdaAuthorizer>),
    /// `AWS_IAM`: a SigV4-signed caller whose identity policies allow the route.
    Iam,
    /// An authorizer that does not compile: the route answers 500, never letting a
    /// request through.
    Unusable,
}

/// A deployment's authorizers that compile, by id.
#[derive(Debug, Default)]
pub struct HttpAuthorizers {
    jwt: HashMap<String, Arc<JwtAuthorizer>>,
    lambda: HashMap<String, Arc<HttpLambdaAuthorizer>>,
}

impl HttpAuthorizers {
    pub fn compile(def: &Definition) -> Self {
        let mut out = HttpAuthorizers::default();
        for (id, a) in &def.authorizers {
            let compiled = match a.authorizer_type {
                V2AuthorizerType::Jwt => JwtAuthorizer::compile(a)
                    .map(|j| {
                        out.jwt.insert(id.clone(), Arc::new(j));
                    })
                    .map_err(|e| e.to_string()),
                V2AuthorizerType::Request => HttpLambdaAuthorizer::compile(a)
                    .map(|l| {
                        out.lambda.insert(id.clone(), Arc::new(l));
                    })
                    .map_err(|e| e.to_string()),
            };
            if let Err(e) = compiled {
                tracing::warn!(api = %def.api.api_id, error = %e, "authorizer will answer 500");
            }
        }
        out
    }

    /// The route's authorizer: the one its `authorizerId` names, of the kind its
    /// `authorizationType` says.
    pub fn for_route(&self, r: &Route) -> RouteAuthorizer {
        let id = r.authorizer_id.as_deref().unwrap_or_default();
        match r.authorization_type {
            AuthorizationType::None => RouteAuthorizer::None,
            AuthorizationType::Jwt => match self.jwt.get(id) {
                Some(a) => RouteAuthorizer::Jwt {
                    authorizer: a.clone(),
                    scopes: r.authorization_scopes.clone().unwrap_or_default().into(),
                },
                None => RouteAuthorizer::Unusable,
            },
            AuthorizationType::Custom => match self.lambda.get(id) {
                Some(a) => RouteAuthorizer::Lambda(a.clone()),
                None => RouteAuthorizer::Unusable,
            },
            AuthorizationType::AwsIam => RouteAuthorizer::Iam,
            _ => RouteAuthorizer::Unusable,
        }
    }

    /// The Lambda authorizers, for the stage's result caches.
    pub fn lambdas(&self) -> impl Iterator<Item = &Arc<HttpLambdaAuthorizer>> {
        self.lambda.values()
    }
}
