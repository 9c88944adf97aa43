//! The wire seam: what the control plane shows of an entity, kept apart from how the entity
//! is stored.
//!
//! The model types' serde is the STORED shape (stable; `tollgate-model`'s
//! `tests/stored_shape.rs` pins it). Every response body goes through [`Wire`]: [`json`] and
//! the list pages accept nothing else, so an entity cannot reach the wire without saying
//! how it looks there. Most entities show their stored shape as it is (`to_wire` lends the
//! entity itself, no copy); a usage plan and a deployment have their own wire types in their
//! service. A member renamed on the wire, a v2 field, or a member kept only in storage is
//! one more wire type here or in the service, never a change to the stored rows.
//!
//! [`json`]: crate::core::util::json

use serde::Serialize;
use tollgate_model::lambda::{Alias, FunctionConfiguration};
use tollgate_model::test_invoke::{TestInvokeAuthorizerResponse, TestInvokeResponse};
use tollgate_model::v2;
use tollgate_model::{
    Account, ApiKey, Authorizer, AuthorizerType, DocumentationPart, GatewayResponse, Integration,
    IntegrationResponse, Method, MethodResponse, Model, RequestValidator, Resource, RestApi, Stage,
};

/// How a value is shown in a response body.
pub trait Wire {
    type Shape<'a>: Serialize
    where
        Self: 'a;

    fn to_wire(&self) -> Self::Shape<'_>;
}

/// Entities whose wire shape is, today, their stored shape.
macro_rules! wire_is_stored {
    ($($t:ty),+ $(,)?) => {
        $(impl Wire for $t {
            type Shape<'a> = &'a $t;

            fn to_wire(&self) -> &$t {
                self
            }
        })+
    };
}

wire_is_stored!(
    RestApi,
    Resource,
    Method,
    MethodResponse,
    Integration,
    IntegrationResponse,
    Model,
    RequestValidator,
    GatewayResponse,
    DocumentationPart,
    Stage,
    Account,
    ApiKey,
    FunctionConfiguration,
    Alias,
    TestInvokeResponse,
    TestInvokeAuthorizerResponse,
    v2::Route,
    v2::RouteResponse,
    v2::Integration,
    v2::IntegrationResponse,
    v2::Model,
    v2::Authorizer,
    v2::Stage,
    // Bodies a handler has already shaped (views, list envelopes, small literal answers).
    serde_json::Value,
    serde_json::Map<String, serde_json::Value>,
);

impl<T: Wire + ?Sized> Wire for &T {
    type Shape<'a>
        = T::Shape<'a>
    where
        Self: 'a;

    fn to_wire(&self) -> T::Shape<'_> {
        (**self).to_wire()
    }
}

/// An authorizer on the wire: AWS spells its pools `providerARNs`, which the stored shape
/// (camelCase from the field name) spells `providerArns`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerWire<'a> {
    id: &'a str,
    name: &'a str,
    #[serde(rename = "type")]
    authorizer_type: AuthorizerType,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    authorizer_uri: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    authorizer_credentials: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity_source: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity_validation_expression: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    authorizer_result_ttl_in_seconds: Option<i64>,
    #[serde(rename = "providerARNs", skip_serializing_if = "Option::is_none")]
    provider_arns: Option<&'a [String]>,
}

impl Wire for Authorizer {
    type Shape<'a> = AuthorizerWire<'a>;

    fn to_wire(&self) -> AuthorizerWire<'_> {
        AuthorizerWire {
            id: &self.id,
            name: &self.name,
            authorizer_type: self.authorizer_type,
            auth_type: self.auth_type.as_deref(),
            authorizer_uri: self.authorizer_uri.as_deref(),
            authorizer_credentials: self.authorizer_credentials.as_deref(),
            identity_source: self.identity_source.as_deref(),
            identity_validation_expression: self.identity_validation_expression.as_deref(),
            authorizer_result_ttl_in_seconds: self.authorizer_result_ttl_in_seconds,
            provider_arns: self.provider_arns.as_deref(),
        }
    }
}

impl<T: Wire + ?Sized> Wire for std::sync::Arc<T> {
    type Shape<'a>
        = T::Shape<'a>
    where
        Self: 'a;

    fn to_wire(&self) -> T::Shape<'_> {
        (**self).to_wire()
    }
}
