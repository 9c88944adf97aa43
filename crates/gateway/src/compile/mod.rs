//! Compiling a deployment snapshot into the form the pipeline runs: a router, integrations
//! with pre-parsed URIs, mappings and regexes, and resolved gateway responses. Happens once
//! per deployment, never per request. A method that cannot be compiled is kept with its
//! error, so only requests to that method fail (500), never the whole API.
//!
//! One module per job: [`template`] (mapping templates), [`expression`] (the one
//! mapping-expression parser, for parameters, header mappings and gateway responses),
//! [`integration`], [`validation`] (request validators and models), [`gateway_response`];
//! this module puts a deployment's methods into the router.

pub mod authorizer;
pub mod cache_key;
pub mod error;
pub mod expression;
pub mod function_url;
pub mod gateway_response;
pub mod http_api;
pub mod http_authorizer;
pub mod http_mapping;
pub mod integration;
pub mod stage_cache;
pub mod template;
pub mod validation;
pub mod websocket;
pub mod websocket_mapping;
pub mod websocket_validation;

use std::sync::Arc;

use tollgate_model::{
    ApiKeySourceType, AuthorizationType, GatewayResponseType, Method, RestApiDefinition,
};

pub use error::CompileError;
pub use expression::Source;
use gateway_response::compile_gateway_response;
pub use gateway_response::CompiledGatewayResponse;
pub use integration::{
    compile_integration, CompiledIntegration, CompiledIntegrationResponse, Target,
};
pub use template::{CompiledTemplate, MappingTemplate};
use validation::{compile_validation, ModelCompiler};
pub use validation::{ModelSchema, ParameterLocation, RequestValidation};

use crate::router::{method_slot, Route, Router};
use authorizer::DeploymentAuthorizers;
pub use authorizer::MethodAuthorizer;

#[derive(Debug)]
pub struct CompiledMethod {
    pub http_method: Arc<str>,
    pub authorization_type: AuthorizationType,
    /// What the Authorize phase runs.
    pub authorizer: MethodAuthorizer,
    pub api_key_required: bool,
    /// `None` when the method has no request validator or it checks nothing.
    pub validation: Option<RequestValidation>,
    /// The integration, or why requests to this method answer 500.
    pub integration: Result<CompiledIntegration, CompileError>,
    /// The response-cache key (`None`: no integration, nothing to cache).
    pub cache_key: Option<cache_key::CacheKeySpec>,
}

#[derive(Debug)]
pub struct CompiledDeployment {
    pub api_id: Arc<str>,
    pub deployment_id: Arc<str>,
    pub router: Router<CompiledMethod>,
    gateway_responses: Vec<CompiledGatewayResponse>,
    pub binary_media_types: Vec<String>,
    /// Where API keys come from.
    pub api_key_source: ApiKeySourceType,
    /// The API's resource policy (`None`: no policy); one that does not compile denies
    /// every request.
    pub resource_policy: Option<Result<tollgate_policy::Policy, ()>>,
    /// The Lambda authorizers methods use (each stage keeps a result cache per one).
    pub lambda_authorizers: Vec<Arc<tollgate_authorizers::LambdaAuthorizer>>,
    /// `minimumCompressionSize`: responses at least this large are compressed when the
    /// client accepts it (`None`: never).
    pub minimum_compression_size: Option<usize>,
}

impl CompiledDeployment {
    pub fn gateway_response(&self, t: GatewayResponseType) -> &CompiledGatewayResponse {
        let i = GatewayResponseType::ALL
            .iter()
            .position(|x| *x == t)
            .unwrap_or(0);
        &self.gateway_responses[i]
    }
}

pub fn compile(def: &RestApiDefinition, deployment_id: &str) -> CompiledDeployment {
    let mut router = Router::default();
    let mut models = ModelCompiler::new(def);
    let authorizers = DeploymentAuthorizers::compile(def);
    for r in def.resources.values() {
        let mut methods: [Option<Arc<CompiledMethod>>; 8] = Default::default();
        for (verb, m) in &r.resource_methods {
            if let Some(slot) = method_slot(verb) {
                let mut compiled = compile_method(m, &r.id, &authorizers);
                compiled.validation = compile_validation(def, m, &mut models);
                methods[slot] = Some(Arc::new(compiled));
            }
        }
        router.insert(
            &r.path,
            Route {
                resource_id: r.id.as_str().into(),
                resource_path: r.path.as_str().into(),
                methods,
            },
        );
    }
    CompiledDeployment {
        api_id: def.api.id.as_str().into(),
        deployment_id: deployment_id.into(),
        router,
        gateway_responses: GatewayResponseType::ALL
            .iter()
            .map(|t| compile_gateway_response(def, *t))
            .collect(),
        binary_media_types: def.api.binary_media_types.clone(),
        api_key_source: def.api.api_key_source,
        lambda_authorizers: authorizers.lambda.into_values().collect(),
        resource_policy: authorizer::resource_policy(def),
        minimum_compression_size: def
            .api
            .minimum_compression_size
            .and_then(|n| usize::try_from(n).ok()),
    }
}

fn compile_method(
    m: &Method,
    resource_id: &str,
    authorizers: &DeploymentAuthorizers,
) -> CompiledMethod {
    let integration = match &m.method_integration {
        None => Err(CompileError::NoIntegration),
        Some(i) => compile_integration(i, resource_id),
    };
    if let Err(e) = &integration {
        tracing::warn!(resource_id, method = %m.http_method, error = %e, "method will answer 500");
    }
    CompiledMethod {
        http_method: m.http_method.as_str().into(),
        authorization_type: m.authorization_type,
        authorizer: authorizers.for_method(m),
        api_key_required: m.api_key_required,
        validation: None,
        cache_key: m
            .method_integration
            .as_ref()
            .map(|i| cache_key::compile_cache_key(i, resource_id)),
        integration,
    }
}

#[cfg(test)]
pub(crate) mod gateway_response_tests {
    use std::collections::BTreeMap;

    use tollgate_model::{EndpointConfiguration, GatewayResponse, RestApi};

    use super::*;

    /// A new API (root resource `root`, the default models) for compile tests.
    pub(crate) fn empty_api(id: &str) -> RestApiDefinition {
        RestApiDefinition::new(RestApi {
            id: id.into(),
            name: "n".into(),
            description: None,
            version: None,
            created_date: 0,
            binary_media_types: vec![],
            minimum_compression_size: None,
            api_key_source: ApiKeySourceType::Header,
            endpoint_configuration: EndpointConfiguration::default(),
            policy: None,
            tags: BTreeMap::new(),
            disable_execute_api_endpoint: false,
            root_resource_id: "root".into(),
            security_policy: None,
            endpoint_access_mode: None,
        })
    }

    fn def_with(responses: &[(&str, Option<&str>)]) -> RestApiDefinition {
        let mut def = empty_api("api");
        for (t, status) in responses {
            def.gateway_responses.insert(
                t.to_string(),
                GatewayResponse {
                    response_type: GatewayResponseType::parse(t).unwrap(),
                    status_code: status.map(str::to_string),
                    response_parameters: BTreeMap::from([(
                        "gatewayresponse.header.x-a".to_string(),
                        "'b'".to_string(),
                    )]),
                    response_templates: BTreeMap::from([(
                        "application/json".to_string(),
                        "{}".to_string(),
                    )]),
                    default_response: false,
                },
            );
        }
        def
    }

    #[test]
    fn resolution_order() {
        // DEFAULT_5XX with 599 changes the 5xx types that are not configured themselves.
        let def = def_with(&[("DEFAULT_5XX", Some("599")), ("AUTHORIZER_FAILURE", None)]);
        let c = compile(&def, "d");
        assert_eq!(
            c.gateway_response(GatewayResponseType::IntegrationTimeout)
                .status,
            599
        );
        assert_eq!(
            c.gateway_response(GatewayResponseType::ApiConfigurationError)
                .status,
            599
        );
        // Configured without a status: the type's own default status.
        assert_eq!(
            c.gateway_response(GatewayResponseType::AuthorizerFailure)
                .status,
            500
        );
        // 4xx types keep AWS's defaults.
        let mat = c.gateway_response(GatewayResponseType::MissingAuthenticationToken);
        assert_eq!(mat.status, 403);
        assert!(mat.headers.is_empty());
        assert_eq!(
            c.gateway_response(GatewayResponseType::IntegrationTimeout)
                .headers
                .len(),
            1
        );
    }
}
