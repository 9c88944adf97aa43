//! Lambda function URLs as the data plane serves them, compiled when the functions change:
//! the function and alias a URL invokes, its auth type, its CORS, and the `$default` route
//! the payload 2.0 event names (a function URL's event is an HTTP API's `$default` one).

use std::sync::Arc;

use tollgate_model::function_url::{FunctionUrlAuthType, FunctionUrlConfig};
use tollgate_model::{v2, AuthorizationType};

use super::http_api::HttpRoute;
use super::http_authorizer::RouteAuthorizer;
use crate::cors::CompiledCors;

#[derive(Debug)]
pub struct CompiledFunctionUrl {
    pub url_id: Arc<str>,
    pub function: Arc<str>,
    /// The alias the URL belongs to; `None`: the unqualified function.
    pub qualifier: Option<Arc<str>>,
    /// The ARN invoked (with the alias): the resource of `lambda:InvokeFunctionUrl`.
    pub function_arn: Box<str>,
    pub auth_type: FunctionUrlAuthType,
    pub cors: Option<CompiledCors>,
    pub route: HttpRoute,
}

/// One URL of function `name` (`key`: its alias, or `""`).
pub fn compile(region: &str, name: &str, key: &str, c: &FunctionUrlConfig) -> CompiledFunctionUrl {
    let base = tollgate_model::lambda::function_arn(region, name);
    let qualifier = (!key.is_empty() && key != "$LATEST").then(|| Arc::from(key));
    let function_arn = match &qualifier {
        Some(q) => format!("{base}:{q}"),
        None => base,
    };
    let cors = c.cors.as_ref().map(|x| {
        CompiledCors::compile(&v2::Cors {
            allow_credentials: x.allow_credentials,
            allow_headers: x.allow_headers.clone(),
            allow_methods: x.allow_methods.clone(),
            allow_origins: x.allow_origins.clone(),
            expose_headers: x.expose_headers.clone(),
            max_age: x.max_age.map(i64::from),
        })
    });
    let (authorization_type, authorizer) = match c.auth_type {
        FunctionUrlAuthType::None => (AuthorizationType::None, RouteAuthorizer::None),
        FunctionUrlAuthType::AwsIam => (AuthorizationType::AwsIam, RouteAuthorizer::Iam),
    };
    CompiledFunctionUrl {
        url_id: c.url_id.as_str().into(),
        function: name.into(),
        qualifier,
        function_arn: function_arn.into(),
        auth_type: c.auth_type,
        cors,
        route: HttpRoute {
            index: 0,
            key: Arc::from(v2::DEFAULT),
            method: None,
            segments: Vec::new(),
            greedy: None,
            arn_path: v2::DEFAULT.into(),
            authorization_type,
            authorizer,
            integration: None,
        },
    }
}
